package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bigfather/bigfather/internal/testbrowser"
)

// schemasShots are the screenshots the schemas script takes, in its order.
var schemasShots = []string{"schemas", "schemas-check", "schemas-subject"}

// browserCheck is a compatibility check as testdata/browser/schemas.mjs reads it from the page.
type browserCheck struct {
	State, Verdict string
	Messages       []string
}

// browserDiff is the diff card as testdata/browser/schemas.mjs reads it.
type browserDiff struct {
	From, To, Stat, State, Verdict, URL string
	Added, Removed, AddedClass          []string
	Same                                int
}

// schemasSeen is what testdata/browser/schemas.mjs reports seeing; JSON fields match case-insensitively.
type schemasSeen struct {
	Nav                      []string
	NavCurrent               string
	Subjects                 [][]string
	Searched                 []string
	SearchURL                string
	Overview                 struct{ Type, Version, ID, Level, LevelText string }
	Usage                    [][]string
	UsageLinks               []string
	SchemaShown, SchemaText  string
	Diff, DiffAfter          browserDiff
	Incompatible, Compatible browserCheck
	Toast                    string
	LevelAfter               struct{ Selected, Text, Hint string }
	Shots                    []string
}

// The Avro versions of the browser test's subject: v2 adds a field with a default (BACKWARD compatible); bad
// changes a field's type and adds one without a default; v3 adds an optional field.
const (
	browserV1  = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"}]}`
	browserV2  = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"},{"name":"quantity","type":"int","default":1}]}`
	browserBad = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"long"},{"name":"quantity","type":"int","default":1},{"name":"coupon","type":"string"}]}`
	browserV3  = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"order_id","type":"string"},{"name":"quantity","type":"int","default":1},{"name":"note","type":["null","string"],"default":null}]}`
)

// TestSchemasBrowser is the Schemas page's acceptance test (issue 10, acceptance 7): `bigfather console` with
// auth serves a config whose pipelines read an Avro subject; two versions of the subject are registered over
// HTTP with an operator's token; headless Chromium logs in as an operator (a console session), finds the subject
// by search, and checks that the page shows the diff of v1 and v2 with exactly the added lines highlighted and
// the BACKWARD verdict, the exact messages of an incompatible schema, that a compatible one is compatible, the
// pipelines and tables that use the subject, and that Register registers v3 and Save sets the subject's level
// through the session (its CSRF token). Screenshots go to $BIGFATHER_SCREENSHOTS when set:
//
//	BIGFATHER_SCREENSHOTS=docs/screenshots go test ./cmd/bigfather -run TestSchemasBrowser
func TestSchemasBrowser(t *testing.T) {
	testbrowser.Require(t)
	shots := screenshotDir(t)
	e := newEnv(t)
	const user, password = "ops", "a-long-operator-password-for-the-schemas-page"
	const token = "operator-token-for-the-schemas-browser-test-01"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BF_SCHEMAS_BROWSER_TOKEN", token)
	cfg := filepath.Join(e.dir, "bigfather.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
auth:
  users:
    - {name: %s, password_hash: %q, role: operator}
  tokens:
    - {name: ci, token: "${BF_SCHEMAS_BROWSER_TOKEN}", role: operator}
pipelines:
  - name: orders
    topics: [shop.orders]
    format: avro
    table:
      name: staging.orders
  - name: orders-archive
    topics: [shop.orders]
    format: avro
    table:
      name: archive.orders
  - name: events
    topics: [game.events]
    table:
      name: staging.events%s
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), user, hash, testColumns)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := loopbackAddr(t)
	base := "http://" + addr
	p := e.startProcess("", "console", "--config", cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("console log:\n%s", p.tail())
		}
	}()
	waitFor(t, 60*time.Second, "the console's HTTP port", func() bool {
		code, _ := httpGet(base + "/healthz")
		return code == http.StatusOK
	})
	const subject = "shop.orders-value"
	for i, s := range []struct{ subject, schema string }{{subject, browserV1}, {"money", `{"type":"record","name":"Money","namespace":"shop","fields":[{"name":"cents","type":"long"}]}`}, {subject, browserV2}} {
		body, _ := json.Marshal(map[string]string{"schema": s.schema})
		req, err := http.NewRequest(http.MethodPost, base+"/subjects/"+s.subject+"/versions", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ ID int }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || got.ID != i+1 {
			t.Fatalf("registering %s: %d, id %d, %v; want 200 and id %d", s.subject, resp.StatusCode, got.ID, err, i+1)
		}
	}

	start := time.Now()
	out := testbrowser.RunTimeout(t, "testdata/browser/schemas.mjs", map[string]string{
		"BASE_URL":       base,
		"SHOT_DIR":       shots,
		"SUBJECT":        subject,
		"LOGIN_NAME":     user,
		"LOGIN_PASSWORD": password,
		"SEARCH":         "ORDERS",
		"INCOMPATIBLE":   browserBad,
		"COMPATIBLE":     browserV3,
	}, 2*time.Minute)
	t.Logf("browser script ran %s", time.Since(start).Round(time.Millisecond))
	var seen schemasSeen
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &seen); err != nil {
		t.Fatalf("the script's report is not one JSON line: %v\n%s", err, out)
	}

	t.Run("list and search", func(t *testing.T) {
		// An operator: no audit log, which is for admins.
		if want := []string{"Overview", "Topics", "Pipelines", "Monitor", "Tables", "Schemas", "SQL", "Metrics"}; !slices.Equal(seen.Nav, want) || seen.NavCurrent != "schemas" {
			t.Errorf("navigation %q (current %q), want %q (current schemas)", seen.Nav, seen.NavCurrent, want)
		}
		// Subject, latest version, id, type, the pipelines using it.
		want := [][]string{{"money", "1", "2", "AVRO", "–"}, {subject, "2", "3", "AVRO", "orders, orders-archive"}}
		if !slices.EqualFunc(seen.Subjects, want, slices.Equal) {
			t.Errorf("subjects %q, want %q", seen.Subjects, want)
		}
		if !slices.Equal(seen.Searched, []string{subject}) || seen.SearchURL != "?q=ORDERS" {
			t.Errorf("searching ORDERS keeps %q (URL %q), want only %s and ?q=ORDERS", seen.Searched, seen.SearchURL, subject)
		}
	})

	t.Run("subject", func(t *testing.T) {
		o := seen.Overview
		if o.Type != "AVRO" || o.Version != "2" || o.ID != "3" || o.Level != "BACKWARD" || !strings.Contains(o.LevelText, "BACKWARD (global)") {
			t.Errorf("overview %+v, want AVRO, version 2, id 3, BACKWARD (global)", o)
		}
		if want := [][]string{{"orders", "staging.orders", "avro"}, {"orders-archive", "archive.orders", "avro"}}; !slices.EqualFunc(seen.Usage, want, slices.Equal) {
			t.Errorf("used by %q, want %q", seen.Usage, want)
		}
		if want := []string{"/ui/pipelines/orders", "/ui/tables/staging.orders", "/ui/pipelines/orders-archive", "/ui/tables/archive.orders"}; !slices.Equal(seen.UsageLinks, want) {
			t.Errorf("usage links %q, want %q", seen.UsageLinks, want)
		}
		if seen.SchemaShown != "2" || seen.SchemaText != prettySchema("AVRO", browserV2) {
			t.Errorf("schema shown: version %s\n%s\nwant version 2\n%s", seen.SchemaShown, seen.SchemaText, prettySchema("AVRO", browserV2))
		}
	})

	t.Run("diff of v1 and v2", func(t *testing.T) {
		d := seen.Diff
		want := []string{`    },`, `    {`, `      "name": "quantity",`, `      "type": "int",`, `      "default": 1`}
		if d.From != "1" || d.To != "2" || !slices.Equal(d.Added, want) || len(d.Removed) != 0 || d.Stat != "+5 -0" || d.Same != 2*11 {
			t.Errorf("diff %s→%s: added %q, removed %q, %s, %d unchanged cells; want 1→2 adding exactly %q, removing nothing, 11 lines unchanged",
				d.From, d.To, d.Added, d.Removed, d.Stat, d.Same, want)
		}
		for i, bg := range d.AddedClass {
			if bg == "" || bg == "rgba(0, 0, 0, 0)" {
				t.Errorf("added line %d is not highlighted (background %q)", i+1, bg)
			}
		}
		if d.State != "compatible" || d.Verdict != "BACKWARD: version 2 is compatible with version 1." || d.URL != "?from=1&to=2" {
			t.Errorf("diff verdict %s %q, URL %q", d.State, d.Verdict, d.URL)
		}
	})

	t.Run("compatibility check", func(t *testing.T) {
		want := browserCheck{State: "incompatible", Verdict: "Incompatible with shop.orders-value under BACKWARD:", Messages: []string{
			"the new schema cannot read data written with the previous version: at /order_id: the reader's type long does not match the writer's type string",
			`the new schema cannot read data written with the previous version: at /coupon: reader's field "coupon" (string) has no default and the writer has no such field`,
		}}
		if got := seen.Incompatible; got.State != want.State || got.Verdict != want.Verdict || !slices.Equal(got.Messages, want.Messages) {
			t.Errorf("incompatible schema: %+v\nwant %+v", got, want)
		}
		want = browserCheck{State: "compatible", Verdict: "Compatible with shop.orders-value under BACKWARD."}
		if got := seen.Compatible; got.State != want.State || got.Verdict != want.Verdict || len(got.Messages) != 0 {
			t.Errorf("compatible schema: %+v\nwant %+v", got, want)
		}
	})

	t.Run("register through the session", func(t *testing.T) {
		if seen.Toast != "Registered shop.orders-value version 3 (id 4)." {
			t.Errorf("toast %q, want the registration's version and id", seen.Toast)
		}
		var v struct {
			Version, ID int
			Schema      string
		}
		req, err := http.NewRequest(http.MethodGet, base+"/subjects/"+subject+"/versions/latest", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version != 3 || v.ID != 4 || v.Schema != browserV3 {
			t.Errorf("latest version after Register: %+v, %v; want version 3, id 4, the pasted schema", v, err)
		}
		d := seen.DiffAfter
		want := []string{`    },`, `    {`, `      "name": "note",`, `      "type": [`, `        "null",`, `        "string"`, `      ],`, `      "default": null`}
		if d.From != "2" || d.To != "3" || !slices.Equal(d.Added, want) || len(d.Removed) != 0 || d.State != "compatible" {
			t.Errorf("diff after Register %s→%s: added %q, removed %q, %s; want 2→3 adding exactly %q", d.From, d.To, d.Added, d.Removed, d.State, want)
		}
	})

	t.Run("level", func(t *testing.T) {
		l := seen.LevelAfter
		if l.Selected != "FULL_TRANSITIVE" || strings.Contains(l.Text, "global") || !strings.Contains(l.Hint, "(FULL_TRANSITIVE)") {
			t.Errorf("after setting FULL_TRANSITIVE: %+v; want it selected, not marked global, and the check under it", l)
		}
		req, err := http.NewRequest(http.MethodGet, base+"/config/"+subject, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c struct{ CompatibilityLevel string }
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.CompatibilityLevel != "FULL_TRANSITIVE" {
			t.Errorf("GET /config/%s after Save: %+v, %v; want FULL_TRANSITIVE", subject, c, err)
		}
	})

	t.Run("screenshots", func(t *testing.T) { checkScreenshots(t, shots, schemasShots, seen.Shots) })
}
