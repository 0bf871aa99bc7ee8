package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The schema files TestSchemasCommand registers and checks.
var schemaFiles = map[string]string{
	"v1.avsc": `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"}]}` + "\n",
	// v1 written differently: the same schema.
	"v1-spaced.avsc": `{ "namespace": "shop", "type": "record", "name": "Order",
  "fields": [ { "type": "string", "name": "order_id" } ] }`,
	"v2.avsc":      `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"},{"name":"quantity","type":"int","default":1}]}`,
	"v3.avsc":      `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"},{"name":"quantity","type":"int","default":1},{"name":"note","type":["null","string"],"default":null}]}`,
	"bad.avsc":     `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"long"},{"name":"quantity","type":"int","default":1},{"name":"coupon","type":"string"}]}`,
	"money.avsc":   `{"type":"record","name":"Money","namespace":"shop","fields":[{"name":"cents","type":"long"}]}`,
	"payment.avsc": `{"type":"record","name":"Payment","namespace":"shop","fields":[{"name":"amount","type":"shop.Money"}]}`,
	"refs.json":    `[{"name": "shop.Money", "subject": "money", "version": 1}]`,
	"refund.json":  `{"type":"object","properties":{"order_id":{"type":"string"}}}`,
	"empty.avsc":   "  \n",
	"event.proto":  "syntax = \"proto3\";\npackage game;\n\nmessage Event {\n  string event_id = 1;\n}\n",
	"broken.json":  `{"name": "shop.Money"`,
}

// schemasStep is one run of `bigfather schemas` and exactly what it prints.
type schemasStep struct {
	name           string
	args           []string
	code           int
	stdout, stderr string
}

// schemasSteps are the steps every backend runs in order; FILE/ in an argument is the directory of the
// schema files.
var schemasSteps = []schemasStep{
	{"empty registry", []string{"list"}, 0, "no subjects\n", ""},
	{"register v1", []string{"register", "shop.orders-value", "FILE/v1.avsc"}, 0, "registered shop.orders-value version 1, id 1\n", ""},
	{"the same schema written differently", []string{"register", "shop.orders-value", "FILE/v1-spaced.avsc"}, 0,
		"already registered: shop.orders-value version 1, id 1\n", ""},
	{"register v2 as json", []string{"register", "shop.orders-value", "FILE/v2.avsc", "--format", "json"}, 0,
		"{\n  \"subject\": \"shop.orders-value\",\n  \"version\": 2,\n  \"id\": 2,\n  \"new\": true\n}\n", ""},
	{"register a referenced schema", []string{"register", "money", "FILE/money.avsc"}, 0, "registered money version 1, id 3\n", ""},
	{"register with references", []string{"register", "--references", "FILE/refs.json", "shop.payments-value", "FILE/payment.avsc"}, 0,
		"registered shop.payments-value version 1, id 4\n", ""},
	{"register a JSON Schema", []string{"register", "shop.refunds-value", "FILE/refund.json", "--type", "json"}, 0,
		"registered shop.refunds-value version 1, id 5\n", ""},
	{"list", []string{"list"}, 0, `SUBJECT              VERSION  ID  TYPE  COMPATIBILITY
money                1        3   AVRO  BACKWARD (global)
shop.orders-value    2        2   AVRO  BACKWARD (global)
shop.payments-value  1        4   AVRO  BACKWARD (global)
shop.refunds-value   1        5   JSON  BACKWARD (global)
`, ""},
	{"list by prefix as json", []string{"list", "--prefix", "shop.r", "--format", "json"}, 0, `[
  {
    "subject": "shop.refunds-value",
    "version": 1,
    "id": 5,
    "type": "JSON",
    "compatibility": "BACKWARD",
    "global": true,
    "deleted": false
  }
]
`, ""},
	{"show the latest", []string{"show", "shop.orders-value"}, 0, `subject:        shop.orders-value
version:        2
id:             2
type:           AVRO
compatibility:  BACKWARD (global)
references:     none

{
  "type": "record",
  "name": "Order",
  "namespace": "shop",
  "fields": [
    {
      "name": "order_id",
      "type": "string"
    },
    {
      "name": "quantity",
      "type": "int",
      "default": 1
    }
  ]
}
`, ""},
	{"show a version with references", []string{"show", "shop.payments-value", "--version", "1"}, 0, `subject:        shop.payments-value
version:        1
id:             4
type:           AVRO
compatibility:  BACKWARD (global)
references:     shop.Money -> money version 1

{
  "type": "record",
  "name": "Payment",
  "namespace": "shop",
  "fields": [
    {
      "name": "amount",
      "type": "shop.Money"
    }
  ]
}
`, ""},
	{"show as json", []string{"show", "money", "--format", "json"}, 0, `{
  "subject": "money",
  "version": 1,
  "id": 3,
  "type": "AVRO",
  "compatibility": "BACKWARD",
  "global": true,
  "references": [],
  "schema": "{\"type\":\"record\",\"name\":\"Money\",\"namespace\":\"shop\",\"fields\":[{\"name\":\"cents\",\"type\":\"long\"}]}"
}
`, ""},
	{"diff", []string{"diff", "shop.orders-value", "1", "2"}, 0, `--- shop.orders-value version 1 (id 1)
+++ shop.orders-value version 2 (id 2)
  {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
      {
        "name": "order_id",
        "type": "string"
+     },
+     {
+       "name": "quantity",
+       "type": "int",
+       "default": 1
      }
    ]
  }

BACKWARD: version 2 is compatible with version 1
`, ""},
	{"diff as json", []string{"diff", "shop.orders-value", "2", "latest", "--format", "json"}, 0, `{
  "subject": "shop.orders-value",
  "from": {
    "version": 2,
    "id": 2
  },
  "to": {
    "version": 2,
    "id": 2
  },
  "lines": [
    {
      "op": " ",
      "text": "{"
    },
    {
      "op": " ",
      "text": "  \"type\": \"record\","
    },
    {
      "op": " ",
      "text": "  \"name\": \"Order\","
    },
    {
      "op": " ",
      "text": "  \"namespace\": \"shop\","
    },
    {
      "op": " ",
      "text": "  \"fields\": ["
    },
    {
      "op": " ",
      "text": "    {"
    },
    {
      "op": " ",
      "text": "      \"name\": \"order_id\","
    },
    {
      "op": " ",
      "text": "      \"type\": \"string\""
    },
    {
      "op": " ",
      "text": "    },"
    },
    {
      "op": " ",
      "text": "    {"
    },
    {
      "op": " ",
      "text": "      \"name\": \"quantity\","
    },
    {
      "op": " ",
      "text": "      \"type\": \"int\","
    },
    {
      "op": " ",
      "text": "      \"default\": 1"
    },
    {
      "op": " ",
      "text": "    }"
    },
    {
      "op": " ",
      "text": "  ]"
    },
    {
      "op": " ",
      "text": "}"
    }
  ],
  "compatibility": "BACKWARD",
  "compatible": true,
  "messages": []
}
`, ""},
	{"check an incompatible schema", []string{"check", "shop.orders-value", "FILE/bad.avsc"}, 1, `incompatible with shop.orders-value under BACKWARD (global):
  - the new schema cannot read data written with the previous version: at /order_id: the reader's type long does not match the writer's type string
  - the new schema cannot read data written with the previous version: at /coupon: reader's field "coupon" (string) has no default and the writer has no such field
`, "bigfather: schemas check: the schema is incompatible\n"},
	{"check a compatible schema", []string{"check", "shop.orders-value", "FILE/v3.avsc"}, 0,
		"compatible with shop.orders-value under BACKWARD (global)\n", ""},
	{"check as json", []string{"check", "shop.orders-value", "FILE/v3.avsc", "--format", "json"}, 0, `{
  "subject": "shop.orders-value",
  "compatibility": "BACKWARD",
  "compatible": true,
  "messages": []
}
`, ""},
	{"a .proto file is PROTOBUF", []string{"register", "game.events-value", "FILE/event.proto"}, 0,
		"registered game.events-value version 1, id 6\n", ""},
	{"show a Protobuf schema as written", []string{"show", "game.events-value"}, 0, `subject:        game.events-value
version:        1
id:             6
type:           PROTOBUF
compatibility:  BACKWARD (global)
references:     none

syntax = "proto3";
package game;

message Event {
  string event_id = 1;
}
`, ""},
	{"register an incompatible schema", []string{"register", "shop.orders-value", "FILE/bad.avsc"}, 1, "",
		`bigfather: schemas register: Schema being registered is incompatible with an earlier schema for subject "shop.orders-value", details: [the new schema cannot read data written with the previous version: at /order_id: the reader's type long does not match the writer's type string, the new schema cannot read data written with the previous version: at /coupon: reader's field "coupon" (string) has no default and the writer has no such field] (error 409)` + "\n"},
	{"an unknown subject", []string{"show", "nope"}, 1, "", "bigfather: schemas show: Subject 'nope' not found. (error 40401)\n"},
	{"an unknown version", []string{"diff", "money", "1", "7"}, 1, "", "bigfather: schemas diff: Version 7 not found. (error 40402)\n"},
	{"a schema that does not parse", []string{"check", "money", "FILE/broken.json", "--type", "AVRO"}, 1, "",
		"bigfather: schemas check: Invalid schema: Avro: not valid JSON at byte 21: unexpected end of JSON input (error 42201)\n"},
	{"no subject", []string{"show"}, 2, "", "bigfather: schemas show: want one SUBJECT argument, got 0\n"},
	{"a bad version", []string{"diff", "money", "1", "0"}, 2, "", "bigfather: schemas diff: V2 must be a version number from 1, or latest; got \"0\"\n"},
	{"a bad --version", []string{"show", "money", "--version", "two"}, 2, "", "bigfather: schemas show: --version must be a version number from 1, or latest; got \"two\"\n"},
	{"a bad --format", []string{"list", "--format", "yaml"}, 2, "", "bigfather: schemas list: --format must be table or json, got \"yaml\"\n"},
	{"a bad --type", []string{"check", "money", "FILE/money.avsc", "--type", "XML"}, 2, "",
		"bigfather: schemas check: --type: unknown schema type \"XML\" (expected AVRO, JSON or PROTOBUF)\n"},
	{"an empty file", []string{"register", "money", "FILE/empty.avsc"}, 2, "", "bigfather: schemas: the schema file FILE/empty.avsc is empty\n"},
	{"a bad references file", []string{"register", "money", "FILE/money.avsc", "--references", "FILE/broken.json"}, 2, "",
		"bigfather: schemas: --references FILE/broken.json: want a JSON list of {\"name\", \"subject\", \"version\"}: unexpected EOF\n"},
	{"help", []string{"help"}, 0, schemasUsage + "\n", ""},
	{"no command", nil, 2, "", schemasUsage + "\nbigfather: schemas: missing command (list, show, diff, check or register)\n"},
	{"an unknown command", []string{"drop"}, 2, "", schemasUsage + "\nbigfather: schemas: unknown command \"drop\" (expected list, show, diff, check or register)\n"},
	{"an unexpected argument", []string{"list", "shop"}, 2, "", "bigfather: schemas list: unexpected argument \"shop\" (filter with --prefix)\n"},
}

// TestSchemasCommand runs `bigfather schemas` against a SQLite catalog (--config) and against a running
// `bigfather console` (--url, with the console's tokens): every step prints exactly the same thing either way.
func TestSchemasCommand(t *testing.T) {
	files := t.TempDir()
	for name, text := range schemaFiles {
		if err := os.WriteFile(filepath.Join(files, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(t *testing.T, env []string, steps []schemasStep, extra ...string) {
		t.Helper()
		for _, st := range steps {
			// The backend's flags go first, so that a step's own flags win.
			args := []string{"schemas"}
			if len(st.args) > 0 {
				args = append(append(args, st.args[0]), extra...)
			}
			for _, a := range st.args[min(1, len(st.args)):] {
				args = append(args, strings.ReplaceAll(a, "FILE/", files+"/"))
			}
			stdout, stderr, code := runBigfather(t, files, env, args...)
			stderr = strings.ReplaceAll(stderr, files+"/", "FILE/")
			if code != st.code || stdout != st.stdout || stderr != st.stderr {
				t.Errorf("%s: bigfather %s\nexit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s",
					st.name, strings.Join(st.args, " "), code, stdout, stderr, st.code, st.stdout, st.stderr)
			}
		}
	}

	t.Run("catalog", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "bigfather.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`kafka:
  brokers: ["127.0.0.1:9"]
warehouse: %s
catalog:
  uri: sqlite://%s
pipelines:
  - name: orders
    topics: [shop.orders]
    format: avro
    table:
      name: staging.orders
`, filepath.Join(dir, "warehouse"), filepath.Join(dir, "catalog.db"))), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, nil, schemasSteps, "--config", cfg)
	})

	t.Run("console", func(t *testing.T) {
		e := newEnv(t)
		const viewer, operator = "viewer-token-for-the-schemas-test-00001", "operator-token-for-the-schemas-test-0001"
		t.Setenv("BF_SCHEMAS_VIEWER", viewer)
		t.Setenv("BF_SCHEMAS_OPERATOR", operator)
		cfg := filepath.Join(e.dir, "bigfather.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
auth:
  tokens:
    - {name: reader, token: "${BF_SCHEMAS_VIEWER}", role: viewer}
    - {name: writer, token: "${BF_SCHEMAS_OPERATOR}", role: operator}
pipelines:
  - name: orders
    topics: [shop.orders]
    format: avro
    table:
      name: staging.orders
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"))), 0o644); err != nil {
			t.Fatal(err)
		}
		addr := loopbackAddr(t)
		p := e.startProcess("", "console", "--config", cfg, "--http", addr)
		defer func() {
			if t.Failed() {
				t.Logf("console log:\n%s", p.tail())
			}
		}()
		waitFor(t, 60*time.Second, "the console's HTTP port", func() bool {
			code, _ := httpGet("http://" + addr + "/healthz")
			return code == 200
		})
		url := "http://" + addr
		run(t, []string{"BIGFATHER_TOKEN=" + operator}, schemasSteps, "--url", url)
		// A level of the subject's own shows without "(global)".
		req, err := http.NewRequest(http.MethodPut, url+"/config/money", strings.NewReader(`{"compatibility":"FULL"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+operator)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT /config/money: %s", resp.Status)
		}
		run(t, nil, []schemasStep{
			{"a viewer reads", []string{"list", "--prefix", "money", "--token", viewer}, 0, `SUBJECT  VERSION  ID  TYPE  COMPATIBILITY
money    1        3   AVRO  FULL
`, ""},
			{"a viewer may not register", []string{"register", "other", "FILE/money.avsc", "--token", viewer}, 1, "",
				"bigfather: schemas register: Forbidden: this needs the operator role; reader is a viewer (error 40301)\n"},
			{"no token", []string{"list"}, 1, "",
				"bigfather: schemas list: Unauthorized: give a bearer token or log in (error 40101): give a token with --token or $BIGFATHER_TOKEN\n"},
			{"a wrong token", []string{"list", "--token", "not-a-token-of-this-console-0000000"}, 1, "",
				"bigfather: schemas list: Unauthorized: unknown bearer token (error 40101): give a token with --token or $BIGFATHER_TOKEN\n"},
			{"--url and --config", []string{"list", "--config", cfg}, 2, "", "bigfather: schemas list: give --url or --config, not both\n"},
			{"a bad --url", []string{"list", "--url", "localhost:8080"}, 2, "", "bigfather: schemas list: --url must be http://HOST:PORT, got \"localhost:8080\"\n"},
		}, "--url", url)

		// A soft-deleted subject is listed only with --deleted, marked.
		req, err = http.NewRequest(http.MethodDelete, url+"/subjects/game.events-value", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+operator)
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE /subjects/game.events-value: %s", resp.Status)
		}
		run(t, []string{"BIGFATHER_TOKEN=" + viewer}, []schemasStep{
			{"a deleted subject is not listed", []string{"list", "--prefix", "game"}, 0, "no subjects\n", ""},
			{"--deleted lists it", []string{"list", "--prefix", "game", "--deleted"}, 0, `SUBJECT            VERSION  ID  TYPE      COMPATIBILITY      DELETED
game.events-value  1        6   PROTOBUF  BACKWARD (global)  yes
`, ""},
			{"--deleted as json", []string{"list", "--prefix", "money", "--deleted", "--format", "json"}, 0, `[
  {
    "subject": "money",
    "version": 1,
    "id": 3,
    "type": "AVRO",
    "compatibility": "FULL",
    "global": false,
    "deleted": false
  }
]
`, ""},
		}, "--url", url)
	})
}
