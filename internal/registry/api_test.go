package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// Schemas of the conformance suite.
const (
	orderV1 = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}`
	// orderV1Loose is orderV1 with other whitespace and attribute order.
	orderV1Loose = "{ \"fields\": [ {\"type\": \"long\", \"name\": \"id\"} ],\n  \"name\": \"Order\", \"type\": \"record\" }"
	// orderV2 adds a field with a default: BACKWARD compatible.
	orderV2 = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]}`
	// orderNoID drops id: BACKWARD compatible, but orderV1 cannot read its data (id has no default).
	orderNoID = `{"type":"record","name":"Order","fields":[]}`
	// orderBad adds a field without a default: not BACKWARD compatible.
	orderBad  = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`
	userJSON  = `{"type":"object","properties":{"a":{"type":"string"}}}`
	userLoose = `{"properties": {"a": {"type": "string"}},   "type": "object"}`
	// txV1..txV3: txV3 reads txV2's data but not txV1's (int to string), so only BACKWARD_TRANSITIVE refuses it.
	txV1      = `{"type":"record","name":"T","fields":[{"name":"a","type":"int"}]}`
	txV2      = `{"type":"record","name":"T","fields":[]}`
	txV3      = `{"type":"record","name":"T","fields":[{"name":"a","type":"string","default":""}]}`
	ping      = "syntax = \"proto3\";\nmessage Ping { string id = 1; }\n"
	pingLoose = "syntax   =   \"proto3\";\n\n\nmessage Ping {\n  string id = 1;\n}"
	invoice   = `{"type":"record","name":"Invoice","fields":[]}`
	customer  = `{"type":"record","name":"Customer","fields":[{"name":"n","type":"string"}]}`
	withRef   = `{"type":"record","name":"Purchase","fields":[{"name":"c","type":"Customer"}]}`
	// payV1 and payV2 (an added optional field) carry data contracts in the suite.
	payV1      = `{"type":"record","name":"Pay","fields":[{"name":"amount","type":"long"}]}`
	payV1Loose = `{"name": "Pay", "type": "record", "fields": [ {"type": "long", "name": "amount"} ]}`
	payV2      = `{"type":"record","name":"Pay","fields":[{"name":"amount","type":"long"},{"name":"memo","type":["null","string"],"default":null}]}`
)

// js is v as JSON.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// errBody is an API error body.
func errBody(code int, msg string) string {
	return js(map[string]any{"error_code": code, "message": msg})
}

type obj = map[string]any

// step is one request of the conformance suite and its exact answer.
type step struct {
	name   string
	method string
	path   string
	// ctype is the request's Content-Type; "-" sends none. Empty means application/vnd.schemaregistry.v1+json.
	ctype  string
	body   string
	status int
	// want is the answer: JSON compared after decoding (so key order does not matter), or, with raw, text
	// compared byte for byte.
	want string
	raw  bool
}

func TestAPIConformance(t *testing.T) {
	ctx := context.Background()
	store, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(NewHandler(store))
	t.Cleanup(srv.Close)

	// Messages that quote package schema are computed with it, so they are asserted exactly.
	parse := func(t schema.Type, text string) schema.Parsed {
		p, err := schema.Parse(t, text, nil, nil)
		if err != nil {
			panic(err)
		}
		return p
	}
	// incompat is what package schema says of an Avro candidate against previous Avro versions; the suite's
	// schemas are chosen incompatible, so an empty answer is a broken suite.
	incompat := func(level schema.Level, candidate string, previous ...string) []string {
		var ps []schema.Parsed
		for _, p := range previous {
			ps = append(ps, parse(schema.Avro, p))
		}
		msgs := schema.Check(level, parse(schema.Avro, candidate), ps)
		if len(msgs) == 0 {
			t.Fatalf("%s is %s compatible with %v: the suite needs an incompatible schema", candidate, level, previous)
		}
		return msgs
	}
	badDetails := incompat(schema.Backward, orderBad, orderV2)
	txDetails := incompat(schema.BackwardTransitive, txV3, txV1, txV2)
	_, parseErr := schema.Parse(schema.Avro, `{`, nil, nil)
	ghostErr := func() string {
		_, err := store.Version(ctx, "ghost", 1, false)
		refs := []schema.Reference{{Name: "Customer", Subject: "ghost", Version: 1}}
		_, perr := schema.Parse(schema.Avro, withRef, refs, func(ref schema.Reference) (string, []schema.Reference, error) {
			return "", nil, fmt.Errorf("reference %q to version %d of subject %q: %w", ref.Name, ref.Version, ref.Subject, err)
		})
		return invalidSchemaMessage(perr)
	}()

	reg := func(text string, extra obj) string {
		m := obj{"schema": text}
		for k, v := range extra {
			m[k] = v
		}
		return js(m)
	}
	refs := []obj{{"name": "Customer", "subject": "customer", "version": 1}}
	// A data contract as registered (tags unsorted, with a duplicate) and as answered.
	payMetaIn := obj{"tags": obj{"Pay.amount": []string{"PII", "FINANCIAL", "PII"}}, "properties": obj{"owner": "payments"}, "sensitive": []string{"owner"}}
	payMeta := obj{"tags": obj{"Pay.amount": []string{"FINANCIAL", "PII"}}, "properties": obj{"owner": "payments"}, "sensitive": []string{"owner"}}
	payRules1 := obj{"domainRules": []obj{{"name": "amountPositive", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.amount > 0", "onFailure": "DLQ"}}}
	payRules1Out := obj{"domainRules": []obj{{"name": "amountPositive", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.amount > 0", "onFailure": "DLQ", "disabled": false}}}
	payRules2 := obj{"domainRules": []obj{{"name": "amountPositive", "kind": "condition", "mode": "write", "type": "CEL", "expr": "message.amount >= 1", "onFailure": "ERROR"}}}
	payRules2Out := obj{"domainRules": []obj{{"name": "amountPositive", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.amount >= 1", "onFailure": "ERROR", "disabled": false}}}

	steps := []step{
		// An empty registry.
		{name: "no subjects", method: "GET", path: "/subjects", status: 200, want: `[]`},
		{name: "types", method: "GET", path: "/schemas/types", status: 200, want: `["JSON","PROTOBUF","AVRO"]`},
		{name: "global config", method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},
		{name: "global mode", method: "GET", path: "/mode", status: 200, want: `{"mode":"READWRITE"}`},
		{name: "contexts", method: "GET", path: "/contexts", status: 200, want: `["."]`},
		{name: "no schemas", method: "GET", path: "/schemas", status: 200, want: `[]`},

		// Registration, and the same schema written differently.
		{name: "register v1", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV1, nil), status: 200, want: `{"id":1}`},
		{name: "register v1 reformatted", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV1Loose, nil), status: 200, want: `{"id":1}`},
		{name: "register v1 with AVRO given", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV1, obj{"schemaType": "AVRO"}), status: 200, want: `{"id":1}`},
		{name: "one version", method: "GET", path: "/subjects/orders-value/versions", status: 200, want: `[1]`},
		{name: "lookup reformatted", method: "POST", path: "/subjects/orders-value", body: reg(orderV1Loose, nil), status: 200,
			want: js(obj{"subject": "orders-value", "version": 1, "id": 1, "schema": orderV1})},
		{name: "incompatible", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderBad, nil), status: 409,
			want: errBody(409, `Schema being registered is incompatible with an earlier schema for subject "orders-value", details: [`+
				strings.Join(incompat(schema.Backward, orderBad, orderV1), ", ")+`]`)},
		{name: "register v2", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV2, nil), status: 200, want: `{"id":2}`},
		{name: "two versions", method: "GET", path: "/subjects/orders-value/versions", status: 200, want: `[1,2]`},

		// Versions by number, latest and -1.
		{name: "version latest", method: "GET", path: "/subjects/orders-value/versions/latest", status: 200,
			want: js(obj{"subject": "orders-value", "version": 2, "id": 2, "schema": orderV2})},
		{name: "version -1", method: "GET", path: "/subjects/orders-value/versions/-1", status: 200,
			want: js(obj{"subject": "orders-value", "version": 2, "id": 2, "schema": orderV2})},
		{name: "version 1", method: "GET", path: "/subjects/orders-value/versions/1", status: 200,
			want: js(obj{"subject": "orders-value", "version": 1, "id": 1, "schema": orderV1})},
		{name: "version 1 text", method: "GET", path: "/subjects/orders-value/versions/1/schema", status: 200, want: orderV1, raw: true},
		{name: "latest text", method: "GET", path: "/subjects/orders-value/versions/latest/schema", status: 200, want: orderV2, raw: true},
		{name: "version 0", method: "GET", path: "/subjects/orders-value/versions/0", status: 422,
			want: errBody(42202, `The specified version '0' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "version -2", method: "GET", path: "/subjects/orders-value/versions/-2", status: 422,
			want: errBody(42202, `The specified version '-2' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "version abc", method: "GET", path: "/subjects/orders-value/versions/abc", status: 422,
			want: errBody(42202, `The specified version 'abc' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "version too large", method: "GET", path: "/subjects/orders-value/versions/2147483648", status: 422,
			want: errBody(42202, `The specified version '2147483648' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "version 9", method: "GET", path: "/subjects/orders-value/versions/9", status: 404, want: errBody(40402, "Version 9 not found.")},
		{name: "unknown subject version", method: "GET", path: "/subjects/nope/versions/1", status: 404, want: errBody(40401, "Subject 'nope' not found.")},
		{name: "unknown subject versions", method: "GET", path: "/subjects/nope/versions", status: 404, want: errBody(40401, "Subject 'nope' not found.")},
		{name: "unknown subject lookup", method: "POST", path: "/subjects/nope", body: reg(orderV1, nil), status: 404, want: errBody(40401, "Subject 'nope' not found.")},
		{name: "lookup unknown schema", method: "POST", path: "/subjects/orders-value", body: reg(orderBad, nil), status: 404, want: errBody(40403, "Schema not found")},
		{name: "lookup other type", method: "POST", path: "/subjects/orders-value", body: reg(userJSON, obj{"schemaType": "JSON"}), status: 404, want: errBody(40403, "Schema not found")},

		// Invalid requests.
		{name: "invalid schema", method: "POST", path: "/subjects/orders-value/versions", body: reg(`{`, nil), status: 422, want: errBody(42201, invalidSchemaMessage(parseErr))},
		{name: "empty schema", method: "POST", path: "/subjects/orders-value/versions", body: `{"schema":""}`, status: 422, want: errBody(42201, "Empty schema")},
		{name: "unknown type", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV1, obj{"schemaType": "XML"}), status: 422, want: errBody(42201, "Invalid schema type XML")},
		{name: "truncated body", method: "POST", path: "/subjects/orders-value/versions", body: `{"schema":`, status: 400, want: errBody(400, "The request body is not valid JSON: unexpected EOF")},
		{name: "empty body", method: "POST", path: "/subjects/orders-value/versions", body: ``, status: 400, want: errBody(400, "The request body is empty: a JSON object was expected")},
		{name: "text/plain", method: "POST", path: "/subjects/orders-value/versions", ctype: "text/plain", body: reg(orderV1, nil), status: 415, want: errBody(415, "HTTP 415 Unsupported Media Type")},
		{name: "unknown path", method: "GET", path: "/schemas/nope", status: 404, want: errBody(404, "HTTP 404 Not Found")},
		{name: "wrong method", method: "GET", path: "/subjects/orders-value", status: 405, want: errBody(405, "HTTP 405 Method Not Allowed")},

		// JSON Schema, through each request content type: schemaType is in its answers.
		{name: "register JSON (application/json)", method: "POST", path: "/subjects/users-json/versions", ctype: "application/json",
			body: reg(userJSON, obj{"schemaType": "JSON"}), status: 200, want: `{"id":3}`},
		{name: "register JSON again (generic type)", method: "POST", path: "/subjects/users-json/versions", ctype: "application/vnd.schemaregistry+json",
			body: reg(userLoose, obj{"schemaType": "JSON"}), status: 200, want: `{"id":3}`},
		{name: "lookup JSON (no content type)", method: "POST", path: "/subjects/users-json", ctype: "-",
			body: reg(userLoose, obj{"schemaType": "JSON"}), status: 200,
			want: js(obj{"subject": "users-json", "version": 1, "id": 3, "schemaType": "JSON", "schema": userJSON})},
		{name: "JSON version", method: "GET", path: "/subjects/users-json/versions/1", status: 200,
			want: js(obj{"subject": "users-json", "version": 1, "id": 3, "schemaType": "JSON", "schema": userJSON})},
		{name: "JSON by id", method: "GET", path: "/schemas/ids/3", status: 200, want: js(obj{"schemaType": "JSON", "schema": userJSON})},

		// Schemas by id.
		{name: "Avro by id", method: "GET", path: "/schemas/ids/1", status: 200, want: js(obj{"schema": orderV1})},
		{name: "by id text", method: "GET", path: "/schemas/ids/1/schema", status: 200, want: orderV1, raw: true},
		{name: "unknown id", method: "GET", path: "/schemas/ids/99", status: 404, want: errBody(40403, "Schema 99 not found")},
		{name: "unknown id text", method: "GET", path: "/schemas/ids/99/schema", status: 404, want: errBody(40403, "Schema 99 not found")},
		{name: "id not a number", method: "GET", path: "/schemas/ids/abc", status: 404, want: errBody(40403, "Schema abc not found")},
		{name: "v1 under a second subject", method: "POST", path: "/subjects/orders-copy/versions", body: reg(orderV1, nil), status: 200, want: `{"id":1}`},
		{name: "id subjects", method: "GET", path: "/schemas/ids/1/subjects", status: 200, want: `["orders-copy","orders-value"]`},
		{name: "id versions", method: "GET", path: "/schemas/ids/1/versions", status: 200,
			want: `[{"subject":"orders-copy","version":1},{"subject":"orders-value","version":1}]`},
		{name: "unknown id subjects", method: "GET", path: "/schemas/ids/99/subjects", status: 404, want: errBody(40403, "Schema 99 not found")},
		{name: "unknown id versions", method: "GET", path: "/schemas/ids/99/versions", status: 404, want: errBody(40403, "Schema 99 not found")},
		{name: "subjects", method: "GET", path: "/subjects", status: 200, want: `["orders-copy","orders-value","users-json"]`},
		{name: "subjects by prefix", method: "GET", path: "/subjects?subjectPrefix=orders", status: 200, want: `["orders-copy","orders-value"]`},
		{name: "schemas latest only", method: "GET", path: "/schemas?latestOnly=true&subjectPrefix=orders-", status: 200,
			want: js([]obj{{"subject": "orders-copy", "version": 1, "id": 1, "schema": orderV1}, {"subject": "orders-value", "version": 2, "id": 2, "schema": orderV2}})},
		{name: "schemas", method: "GET", path: "/schemas?subjectPrefix=orders-v", status: 200,
			want: js([]obj{{"subject": "orders-value", "version": 1, "id": 1, "schema": orderV1}, {"subject": "orders-value", "version": 2, "id": 2, "schema": orderV2}})},

		// Compatibility checks.
		{name: "check latest", method: "POST", path: "/compatibility/subjects/orders-value/versions/latest", body: reg(orderBad, nil), status: 200, want: `{"is_compatible":false}`},
		{name: "check latest verbose", method: "POST", path: "/compatibility/subjects/orders-value/versions/latest?verbose=true", body: reg(orderBad, nil), status: 200,
			want: js(obj{"is_compatible": false, "messages": badDetails})},
		{name: "check -1 compatible verbose", method: "POST", path: "/compatibility/subjects/orders-value/versions/-1?verbose=true", body: reg(orderV2, nil), status: 200,
			want: `{"is_compatible":true,"messages":[]}`},
		{name: "check all", method: "POST", path: "/compatibility/subjects/orders-value/versions", body: reg(orderBad, nil), status: 200, want: `{"is_compatible":false}`},
		{name: "check all compatible", method: "POST", path: "/compatibility/subjects/orders-value/versions", body: reg(orderV2, nil), status: 200, want: `{"is_compatible":true}`},
		{name: "check unknown version", method: "POST", path: "/compatibility/subjects/orders-value/versions/7", body: reg(orderV2, nil), status: 404, want: errBody(40402, "Version 7 not found.")},
		{name: "check invalid version", method: "POST", path: "/compatibility/subjects/orders-value/versions/0", body: reg(orderV2, nil), status: 422,
			want: errBody(42202, `The specified version '0' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "check unknown subject", method: "POST", path: "/compatibility/subjects/nope/versions/latest", body: reg(orderV2, nil), status: 404, want: errBody(40401, "Subject 'nope' not found.")},
		{name: "check all unknown subject", method: "POST", path: "/compatibility/subjects/nope/versions", body: reg(orderBad, nil), status: 200, want: `{"is_compatible":true}`},
		{name: "check invalid schema", method: "POST", path: "/compatibility/subjects/orders-value/versions/latest", body: reg(`{`, nil), status: 422, want: errBody(42201, invalidSchemaMessage(parseErr))},

		// Compatibility levels: global, per subject, defaultToGlobal, deletes.
		{name: "subject config unset", method: "GET", path: "/config/orders-value", status: 404,
			want: errBody(40408, "Subject 'orders-value' does not have subject-level compatibility configured")},
		{name: "subject config to global", method: "GET", path: "/config/orders-value?defaultToGlobal=true", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},
		{name: "set global FULL", method: "PUT", path: "/config", body: `{"compatibility":"FULL"}`, status: 200, want: `{"compatibility":"FULL"}`},
		{name: "global FULL", method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{name: "subject to global FULL", method: "GET", path: "/config/orders-value?defaultToGlobal=true", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{name: "set subject none (lower case)", method: "PUT", path: "/config/orders-value", body: `{"compatibility":"none"}`, status: 200, want: `{"compatibility":"NONE"}`},
		{name: "subject NONE", method: "GET", path: "/config/orders-value", status: 200, want: `{"compatibilityLevel":"NONE"}`},
		{name: "incompatible accepted at NONE", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderBad, nil), status: 200, want: `{"id":4}`},
		{name: "invalid level", method: "PUT", path: "/config", body: `{"compatibility":"SIDEWAYS"}`, status: 422,
			want: errBody(42203, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")},
		{name: "invalid subject level", method: "PUT", path: "/config/orders-value", body: `{}`, status: 422,
			want: errBody(42203, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")},
		{name: "delete subject config", method: "DELETE", path: "/config/orders-value", status: 200, want: `{"compatibilityLevel":"NONE"}`},
		{name: "delete subject config again", method: "DELETE", path: "/config/orders-value", status: 404,
			want: errBody(40408, "Subject 'orders-value' does not have subject-level compatibility configured")},
		{name: "delete global config", method: "DELETE", path: "/config", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{name: "global back to BACKWARD", method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},

		// Modes.
		{name: "subject mode unset", method: "GET", path: "/mode/orders-value", status: 404, want: errBody(40409, "Subject 'orders-value' does not have subject-level mode configured")},
		{name: "subject mode to global", method: "GET", path: "/mode/orders-value?defaultToGlobal=true", status: 200, want: `{"mode":"READWRITE"}`},
		{name: "set READONLY", method: "PUT", path: "/mode/orders-value", body: `{"mode":"READONLY"}`, status: 200, want: `{"mode":"READONLY"}`},
		{name: "subject READONLY", method: "GET", path: "/mode/orders-value", status: 200, want: `{"mode":"READONLY"}`},
		{name: "register in READONLY", method: "POST", path: "/subjects/orders-value/versions", body: reg(orderV1, nil), status: 422, want: errBody(42205, "Subject orders-value is in read-only mode")},
		{name: "delete in READONLY", method: "DELETE", path: "/subjects/orders-value", status: 422, want: errBody(42205, "Subject orders-value is in read-only mode")},
		{name: "delete version in READONLY", method: "DELETE", path: "/subjects/orders-value/versions/1", status: 422, want: errBody(42205, "Subject orders-value is in read-only mode")},
		{name: "lookup in READONLY", method: "POST", path: "/subjects/orders-value", body: reg(orderV1, nil), status: 200,
			want: js(obj{"subject": "orders-value", "version": 1, "id": 1, "schema": orderV1})},
		{name: "invalid mode", method: "PUT", path: "/mode", body: `{"mode":"SLEEPY"}`, status: 422, want: errBody(42204, "Invalid mode. Valid values are READWRITE, READONLY, IMPORT")},
		{name: "delete subject mode", method: "DELETE", path: "/mode/orders-value", status: 200, want: `{"mode":"READONLY"}`},
		{name: "delete subject mode again", method: "DELETE", path: "/mode/orders-value", status: 404, want: errBody(40409, "Subject 'orders-value' does not have subject-level mode configured")},
		{name: "global IMPORT with schemas", method: "PUT", path: "/mode", body: `{"mode":"IMPORT"}`, status: 422,
			want: errBody(42205, "Cannot switch to IMPORT mode while schemas exist (force it to)")},
		{name: "explicit id outside IMPORT", method: "POST", path: "/subjects/imported/versions", body: reg(customer, obj{"id": 100, "version": 1}), status: 422,
			want: errBody(42205, "An explicit id or version needs IMPORT mode")},
		{name: "subject IMPORT", method: "PUT", path: "/mode/imported", body: `{"mode":"IMPORT"}`, status: 200, want: `{"mode":"IMPORT"}`},
		{name: "import with id", method: "POST", path: "/subjects/imported/versions", body: reg(customer, obj{"id": 100, "version": 3}), status: 200, want: `{"id":100}`},
		{name: "imported version", method: "GET", path: "/subjects/imported/versions/3", status: 200,
			want: js(obj{"subject": "imported", "version": 3, "id": 100, "schema": customer})},
		{name: "imported id taken", method: "POST", path: "/subjects/imported/versions", body: reg(invoice, obj{"id": 100, "version": 4}), status: 422,
			want: errBody(42207, "id 100 is already taken by a different schema")},
		{name: "imported schema with another id", method: "POST", path: "/subjects/imported/versions", body: reg(orderV1, obj{"id": 102, "version": 4}), status: 422,
			want: errBody(42207, "the schema is already registered with id 1 instead of id 102")},
		{name: "global mode", method: "DELETE", path: "/mode", status: 200, want: `{"mode":"READWRITE"}`},

		// References.
		{name: "register customer", method: "POST", path: "/subjects/customer/versions", body: reg(customer, nil), status: 200, want: `{"id":100}`},
		{name: "register with reference", method: "POST", path: "/subjects/purchase/versions", body: reg(withRef, obj{"references": refs}), status: 200, want: `{"id":101}`},
		{name: "version with references", method: "GET", path: "/subjects/purchase/versions/1", status: 200,
			want: js(obj{"subject": "purchase", "version": 1, "id": 101, "references": refs, "schema": withRef})},
		{name: "id with references", method: "GET", path: "/schemas/ids/101", status: 200, want: js(obj{"references": refs, "schema": withRef})},
		{name: "lookup with references", method: "POST", path: "/subjects/purchase", body: reg(withRef, obj{"references": refs}), status: 200,
			want: js(obj{"subject": "purchase", "version": 1, "id": 101, "references": refs, "schema": withRef})},
		{name: "referenced by", method: "GET", path: "/subjects/customer/versions/1/referencedby", status: 200, want: `[101]`},
		{name: "referenced by latest", method: "GET", path: "/subjects/customer/versions/latest/referencedby", status: 200, want: `[101]`},
		{name: "referenced by none", method: "GET", path: "/subjects/orders-value/versions/1/referencedby", status: 200, want: `[]`},
		{name: "referenced by unknown", method: "GET", path: "/subjects/customer/versions/5/referencedby", status: 404, want: errBody(40402, "Version 5 not found.")},
		{name: "delete referenced", method: "DELETE", path: "/subjects/customer", status: 422,
			want: errBody(42206, "One or more references exist to the schema {subject=customer,version=1}: schemas [101]")},
		{name: "missing reference", method: "POST", path: "/subjects/purchase2/versions",
			body: reg(withRef, obj{"references": []obj{{"name": "Customer", "subject": "ghost", "version": 1}}}), status: 422, want: errBody(42201, ghostErr)},

		// Deletes.
		{name: "soft delete version", method: "DELETE", path: "/subjects/users-json/versions/1", status: 200, want: `1`},
		{name: "soft delete version again", method: "DELETE", path: "/subjects/users-json/versions/1", status: 404,
			want: errBody(40406, "Subject 'users-json' Version 1 was soft deleted.Set permanent=true to delete permanently")},
		{name: "deleted version hidden", method: "GET", path: "/subjects/users-json/versions/1", status: 404, want: errBody(40401, "Subject 'users-json' not found.")},
		{name: "deleted version shown", method: "GET", path: "/subjects/users-json/versions/1?deleted=true", status: 200,
			want: js(obj{"subject": "users-json", "version": 1, "id": 3, "schemaType": "JSON", "schema": userJSON})},
		{name: "deleted versions", method: "GET", path: "/subjects/users-json/versions?deleted=true", status: 200, want: `[1]`},
		{name: "lookup deleted", method: "POST", path: "/subjects/users-json?deleted=true", body: reg(userJSON, obj{"schemaType": "JSON"}), status: 200,
			want: js(obj{"subject": "users-json", "version": 1, "id": 3, "schemaType": "JSON", "schema": userJSON})},
		{name: "subjects without deleted", method: "GET", path: "/subjects", status: 200, want: `["customer","imported","orders-copy","orders-value","purchase"]`},
		{name: "subjects with deleted", method: "GET", path: "/subjects?deleted=true", status: 200, want: `["customer","imported","orders-copy","orders-value","purchase","users-json"]`},
		{name: "soft delete deleted subject", method: "DELETE", path: "/subjects/users-json", status: 404,
			want: errBody(40404, "Subject 'users-json' was soft deleted.Set permanent=true to delete permanently")},
		{name: "id subjects with deleted", method: "GET", path: "/schemas/ids/3/subjects?deleted=true", status: 200, want: `["users-json"]`},
		{name: "id subjects without deleted", method: "GET", path: "/schemas/ids/3/subjects", status: 200, want: `[]`},
		{name: "permanent delete", method: "DELETE", path: "/subjects/users-json?permanent=true", status: 200, want: `[1]`},
		{name: "gone for good", method: "GET", path: "/subjects?deleted=true", status: 200, want: `["customer","imported","orders-copy","orders-value","purchase"]`},
		{name: "id kept", method: "GET", path: "/schemas/ids/3", status: 200, want: js(obj{"schemaType": "JSON", "schema": userJSON})},
		{name: "permanent without soft", method: "DELETE", path: "/subjects/orders-value?permanent=true", status: 404,
			want: errBody(40405, "Subject 'orders-value' was not deleted first before being permanently deleted")},
		{name: "permanent version without soft", method: "DELETE", path: "/subjects/orders-value/versions/1?permanent=true", status: 404,
			want: errBody(40407, "Subject 'orders-value' Version 1 was not deleted first before being permanently deleted")},
		{name: "soft delete latest", method: "DELETE", path: "/subjects/orders-value/versions/latest", status: 200, want: `3`},
		{name: "latest after delete", method: "GET", path: "/subjects/orders-value/versions/latest", status: 200,
			want: js(obj{"subject": "orders-value", "version": 2, "id": 2, "schema": orderV2})},
		{name: "delete invalid version", method: "DELETE", path: "/subjects/orders-value/versions/0", status: 422,
			want: errBody(42202, `The specified version '0' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)},
		{name: "soft delete subject", method: "DELETE", path: "/subjects/orders-value", status: 200, want: `[1,2]`},
		{name: "permanent delete subject", method: "DELETE", path: "/subjects/orders-value?permanent=true", status: 200, want: `[1,2,3]`},
		{name: "delete unknown subject", method: "DELETE", path: "/subjects/nope", status: 404, want: errBody(40401, "Subject 'nope' not found.")},
		{name: "delete unknown version", method: "DELETE", path: "/subjects/orders-copy/versions/8", status: 404, want: errBody(40402, "Version 8 not found.")},

		// Transitive levels compare with every version, the others with the latest only.
		{name: "tx level", method: "PUT", path: "/config/tx", body: `{"compatibility":"BACKWARD_TRANSITIVE"}`, status: 200, want: `{"compatibility":"BACKWARD_TRANSITIVE"}`},
		{name: "tx v1", method: "POST", path: "/subjects/tx/versions", body: reg(txV1, nil), status: 200, want: `{"id":102}`},
		{name: "tx v2", method: "POST", path: "/subjects/tx/versions", body: reg(txV2, nil), status: 200, want: `{"id":103}`},
		{name: "tx v3 refused", method: "POST", path: "/subjects/tx/versions", body: reg(txV3, nil), status: 409,
			want: errBody(409, `Schema being registered is incompatible with an earlier schema for subject "tx", details: [`+strings.Join(txDetails, ", ")+`]`)},
		{name: "tx check all", method: "POST", path: "/compatibility/subjects/tx/versions?verbose=true", body: reg(txV3, nil), status: 200,
			want: js(obj{"is_compatible": false, "messages": txDetails})},
		{name: "tx check latest", method: "POST", path: "/compatibility/subjects/tx/versions/latest?verbose=true", body: reg(txV3, nil), status: 200,
			want: `{"is_compatible":true,"messages":[]}`},
		{name: "tx check 1", method: "POST", path: "/compatibility/subjects/tx/versions/1?verbose=true", body: reg(txV3, nil), status: 200,
			want: js(obj{"is_compatible": false, "messages": incompat(schema.BackwardTransitive, txV3, txV1)})},
		{name: "tx level BACKWARD", method: "PUT", path: "/config/tx", body: `{"compatibility":"BACKWARD"}`, status: 200, want: `{"compatibility":"BACKWARD"}`},
		{name: "tx v3 accepted", method: "POST", path: "/subjects/tx/versions", body: reg(txV3, nil), status: 200, want: `{"id":104}`},
		{name: "global FORWARD", method: "PUT", path: "/config", body: `{"compatibility":"FORWARD"}`, status: 200, want: `{"compatibility":"FORWARD"}`},
		{name: "FORWARD from global refuses", method: "POST", path: "/subjects/orders-copy/versions", body: reg(orderNoID, nil), status: 409,
			want: errBody(409, `Schema being registered is incompatible with an earlier schema for subject "orders-copy", details: [`+
				strings.Join(incompat(schema.Forward, orderNoID, orderV1), ", ")+`]`)},
		{name: "global back", method: "DELETE", path: "/config", status: 200, want: `{"compatibilityLevel":"FORWARD"}`},

		// Protobuf: schemaType in every answer, lookups across formatting.
		{name: "register proto", method: "POST", path: "/subjects/ping-value/versions", ctype: "application/json; charset=utf-8",
			body: reg(ping, obj{"schemaType": "PROTOBUF"}), status: 200, want: `{"id":105}`},
		{name: "register proto reformatted", method: "POST", path: "/subjects/ping-value/versions", body: reg(pingLoose, obj{"schemaType": "PROTOBUF"}), status: 200, want: `{"id":105}`},
		{name: "lookup proto", method: "POST", path: "/subjects/ping-value", body: reg(pingLoose, obj{"schemaType": "PROTOBUF"}), status: 200,
			want: js(obj{"subject": "ping-value", "version": 1, "id": 105, "schemaType": "PROTOBUF", "schema": ping})},
		{name: "proto version", method: "GET", path: "/subjects/ping-value/versions/latest", status: 200,
			want: js(obj{"subject": "ping-value", "version": 1, "id": 105, "schemaType": "PROTOBUF", "schema": ping})},
		{name: "proto by id", method: "GET", path: "/schemas/ids/105", status: 200, want: js(obj{"schemaType": "PROTOBUF", "schema": ping})},
		{name: "proto text", method: "GET", path: "/schemas/ids/105/schema", status: 200, want: ping, raw: true},

		// Subject names with a slash, escaped in the path.
		{name: "slash subject", method: "POST", path: "/subjects/team%2Forders/versions", body: reg(orderV1, nil), status: 200, want: `{"id":1}`},
		{name: "slash subject version", method: "GET", path: "/subjects/team%2Forders/versions/1", status: 200,
			want: js(obj{"subject": "team/orders", "version": 1, "id": 1, "schema": orderV1})},
		{name: "slash subject listed", method: "GET", path: "/subjects?subjectPrefix=team", status: 200, want: `["team/orders"]`},

		// Data contracts: metadata and ruleSet belong to the schema (its id), are answered as stored
		// (normalized: tag lists sorted, kind and mode defaulted), and are carried over from the latest version
		// when a registration gives none.
		{name: "register with contract", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV1, obj{"metadata": payMetaIn, "ruleSet": payRules1}), status: 200, want: `{"id":106}`},
		{name: "contract version", method: "GET", path: "/subjects/pay-value/versions/1", status: 200,
			want: js(obj{"subject": "pay-value", "version": 1, "id": 106, "metadata": payMeta, "ruleSet": payRules1Out, "schema": payV1})},
		{name: "contract again", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV1, obj{"metadata": payMetaIn, "ruleSet": payRules1}), status: 200, want: `{"id":106}`},
		{name: "contract inherited, same schema", method: "POST", path: "/subjects/pay-value/versions", body: reg(payV1, nil), status: 200, want: `{"id":106}`},
		{name: "contract one version", method: "GET", path: "/subjects/pay-value/versions", status: 200, want: `[1]`},
		{name: "contract lookup without", method: "POST", path: "/subjects/pay-value", body: reg(payV1, nil), status: 200,
			want: js(obj{"subject": "pay-value", "version": 1, "id": 106, "metadata": payMeta, "ruleSet": payRules1Out, "schema": payV1})},
		{name: "ruleSet changed", method: "POST", path: "/subjects/pay-value/versions", body: reg(payV1, obj{"ruleSet": payRules2}), status: 200, want: `{"id":107}`},
		{name: "ruleSet changed version", method: "GET", path: "/subjects/pay-value/versions/2", status: 200,
			want: js(obj{"subject": "pay-value", "version": 2, "id": 107, "metadata": payMeta, "ruleSet": payRules2Out, "schema": payV1})},
		{name: "contract two versions", method: "GET", path: "/subjects/pay-value/versions", status: 200, want: `[1,2]`},
		{name: "lookup first ruleSet", method: "POST", path: "/subjects/pay-value", body: reg(payV1, obj{"ruleSet": payRules1}), status: 200,
			want: js(obj{"subject": "pay-value", "version": 1, "id": 106, "metadata": payMeta, "ruleSet": payRules1Out, "schema": payV1})},
		{name: "lookup newest without contract", method: "POST", path: "/subjects/pay-value?normalize=true", body: reg(payV1Loose, nil), status: 200,
			want: js(obj{"subject": "pay-value", "version": 2, "id": 107, "metadata": payMeta, "ruleSet": payRules2Out, "schema": payV1})},
		{name: "lookup other metadata", method: "POST", path: "/subjects/pay-value", body: reg(payV1, obj{"metadata": obj{"properties": obj{"owner": "x"}}}),
			status: 404, want: errBody(40403, "Schema not found")},
		{name: "v2 inherits contract", method: "POST", path: "/subjects/pay-value/versions", body: reg(payV2, nil), status: 200, want: `{"id":108}`},
		{name: "v2 with contract", method: "GET", path: "/subjects/pay-value/versions/latest", status: 200,
			want: js(obj{"subject": "pay-value", "version": 3, "id": 108, "metadata": payMeta, "ruleSet": payRules2Out, "schema": payV2})},
		{name: "v1 again normalized, inherits", method: "POST", path: "/subjects/pay-value/versions?normalize=true", body: reg(payV1Loose, nil), status: 200, want: `{"id":107}`},
		{name: "contract by id", method: "GET", path: "/schemas/ids/106", status: 200, want: js(obj{"metadata": payMeta, "ruleSet": payRules1Out, "schema": payV1})},
		{name: "by id with subject", method: "GET", path: "/schemas/ids/106?subject=pay-value", status: 200, want: js(obj{"metadata": payMeta, "ruleSet": payRules1Out, "schema": payV1})},
		{name: "by id fetchMaxId", method: "GET", path: "/schemas/ids/105?fetchMaxId=true", status: 200,
			want: js(obj{"schemaType": "PROTOBUF", "schema": ping, "maxId": 108})},
		{name: "unknown id fetchMaxId", method: "GET", path: "/schemas/ids/999?fetchMaxId=true", status: 404, want: errBody(40403, "Schema 999 not found")},
		{name: "rule without name", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"kind": "CONDITION", "type": "CEL", "expr": "true"}}}}), status: 422,
			want: errBody(42210, "Invalid ruleSet: rule 0 of domainRules: missing rule name")},
		{name: "rule name illegal", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "1st", "type": "CEL"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "1st" (domainRules[0]): illegal initial character '1' in rule name (expected a letter or _)`)},
		{name: "rule name duplicate", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "type": "CEL"}, {"name": "b", "type": "CEL"}, {"name": "a", "type": "CEL"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[2]): the name is used by another rule of domainRules`)},
		{name: "rule kind unknown", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "kind": "CHECK", "type": "CEL"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): unknown kind "CHECK" (expected CONDITION or TRANSFORM)`)},
		{name: "rule mode unknown", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "mode": "SOMETIMES", "type": "CEL"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): unknown mode "SOMETIMES" (expected WRITE, READ or WRITEREAD)`)},
		{name: "domain rule with migration mode", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "mode": "UPGRADE", "type": "CEL"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): mode UPGRADE is not allowed in domainRules (expected WRITE, READ or WRITEREAD)`)},
		{name: "migration rule with default mode", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"migrationRules": []obj{{"name": "up", "type": "JSONATA"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "up" (migrationRules[0]): mode WRITEREAD is not allowed in migrationRules (expected UPGRADE, DOWNGRADE or UPDOWN)`)},
		{name: "rule without type", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "kind": "CONDITION", "expr": "true"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): missing rule type (e.g. CEL)`)},
		{name: "rule onFailure unknown", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "mode": "WRITE", "type": "CEL", "onFailure": "RETRY"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): unknown onFailure action "RETRY" (expected NONE, ERROR or DLQ)`)},
		{name: "rule action pair needs WRITEREAD", method: "POST", path: "/subjects/pay-value/versions",
			body: reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "mode": "WRITE", "type": "CEL", "onFailure": "DLQ,NONE"}}}}), status: 422,
			want: errBody(42210, `Invalid ruleSet: rule "a" (domainRules[0]): onFailure "DLQ,NONE": a pair of actions needs mode WRITEREAD or UPDOWN, and at most two`)},
		{name: "bad rules register nothing", method: "GET", path: "/subjects/pay-value/versions", status: 200, want: `[1,2,3]`},
		{name: "rule action pair", method: "POST", path: "/subjects/pay-value/versions",
			body:   reg(payV2, obj{"ruleSet": obj{"domainRules": []obj{{"name": "a", "type": "CEL", "expr": "true", "onFailure": "dlq,none", "tags": []string{"PII", "PII"}, "params": obj{"k": "v"}, "disabled": true}}}}),
			status: 200, want: `{"id":109}`},
		{name: "rule defaults answered", method: "GET", path: "/subjects/pay-value/versions/4", status: 200,
			want: js(obj{"subject": "pay-value", "version": 4, "id": 109, "metadata": payMeta, "schema": payV2, "ruleSet": obj{"domainRules": []obj{
				{"name": "a", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "CEL", "expr": "true", "onFailure": "DLQ,NONE", "tags": []string{"PII"}, "params": obj{"k": "v"}, "disabled": true}}}})},
	}
	for i, s := range steps {
		t.Run(fmt.Sprintf("%03d %s", i, s.name), func(t *testing.T) {
			req, err := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(s.body))
			if err != nil {
				t.Fatal(err)
			}
			switch s.ctype {
			case "-":
			case "":
				req.Header.Set("Content-Type", ContentType)
			default:
				req.Header.Set("Content-Type", s.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != s.status {
				t.Errorf("%s %s: status %d, want %d (body %s)", s.method, s.path, resp.StatusCode, s.status, got)
			}
			if ct := resp.Header.Get("Content-Type"); ct != ContentType {
				t.Errorf("%s %s: Content-Type %q, want %q", s.method, s.path, ct, ContentType)
			}
			if s.raw {
				if string(got) != s.want {
					t.Errorf("%s %s: body %q, want %q", s.method, s.path, got, s.want)
				}
				return
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatalf("%s %s: body %q is not JSON: %v", s.method, s.path, got, err)
			}
			if err := json.Unmarshal([]byte(s.want), &wantV); err != nil {
				t.Fatalf("the step's want %q is not JSON: %v", s.want, err)
			}
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("%s %s:\n got %s\nwant %s", s.method, s.path, got, s.want)
			}
		})
	}
}

func TestIsMutating(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/subjects", false},
		{"GET", "/subjects/a/versions/latest", false},
		{"HEAD", "/schemas/ids/1", false},
		{"POST", "/subjects/a", false},
		{"POST", "/subjects/a%2Fb", false},
		{"POST", "/compatibility/subjects/a/versions/latest", false},
		{"POST", "/compatibility/subjects/a/versions", false},
		{"POST", "/subjects/a/versions", true},
		{"DELETE", "/subjects/a", true},
		{"DELETE", "/subjects/a/versions/1", true},
		{"PUT", "/config", true},
		{"PUT", "/config/a", true},
		{"DELETE", "/config/a", true},
		{"PUT", "/mode", true},
		{"DELETE", "/mode/a", true},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if got := IsMutating(r); got != c.want {
			t.Errorf("IsMutating(%s %s) = %v, want %v", c.method, c.path, got, c.want)
		}
	}
}

// TestAPIStoreFailure checks that a failing store answers 50001 without its details, and logs them.
func TestAPIStoreFailure(t *testing.T) {
	store, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := httptest.NewServer(NewHandler(store, WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	t.Cleanup(srv.Close)
	store.Close()

	resp, err := http.Get(srv.URL + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := errBody(50001, "Error in the backend data store") + "\n"
	if resp.StatusCode != 500 || string(body) != want {
		t.Errorf("GET /subjects on a closed store: %d %s, want 500 %s", resp.StatusCode, body, want)
	}
	if !strings.Contains(logs.String(), "path=/subjects") || !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("the log does not name the path and the store error: %q", logs.String())
	}
}

func TestAPIBodyLimit(t *testing.T) {
	store, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(NewHandler(store, WithMaxRequestBytes(64)))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{js(obj{"schema": orderV1}), 413, errBody(413, "The request body is larger than 64 bytes")},
		{js(obj{"schema": `"string"`}), 200, `{"id":1}`},
	} {
		resp, err := http.Post(srv.URL+"/subjects/s/versions", ContentType, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || strings.TrimSpace(string(got)) != c.want {
			t.Errorf("POST of %d bytes: %d %s, want %d %s", len(c.body), resp.StatusCode, got, c.status, c.want)
		}
	}
}

// TestAPIConcurrentRegistrations registers, at once, two schemas each compatible with the subject's version but
// not with each other: exactly one is registered, the other is refused with 409.
func TestAPIConcurrentRegistrations(t *testing.T) {
	store, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(NewHandler(store))
	t.Cleanup(srv.Close)
	base := `{"type":"record","name":"R","fields":[]}`
	candidates := []string{
		`{"type":"record","name":"R","fields":[{"name":"f","type":"int","default":0}]}`,
		`{"type":"record","name":"R","fields":[{"name":"f","type":"string","default":""}]}`,
	}
	post := func(subject, text string) int {
		resp, err := http.Post(srv.URL+"/subjects/"+subject+"/versions", ContentType, strings.NewReader(js(obj{"schema": text})))
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	const subjects = 8
	for i := range subjects {
		if got := post(fmt.Sprintf("s%d", i), base); got != 200 {
			t.Fatalf("registering the base schema: status %d", got)
		}
	}
	statuses := make([][]int, subjects)
	var wg sync.WaitGroup
	for i := range subjects {
		statuses[i] = make([]int, len(candidates))
		for j, c := range candidates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i][j] = post(fmt.Sprintf("s%d", i), c)
			}()
		}
	}
	wg.Wait()
	for i, st := range statuses {
		got := []int{st[0], st[1]}
		if !(got[0] == 200 && got[1] == 409 || got[0] == 409 && got[1] == 200) {
			t.Errorf("subject s%d: statuses %v, want one 200 and one 409", i, got)
		}
	}
}
