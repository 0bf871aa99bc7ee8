package webapi

import (
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/bigfather/bigfather/internal/api"
)

var update = flag.Bool("update", false, "rewrite api/openapi.json from the registered routes")

const openAPIFile = "../../api/openapi.json"

// TestOpenAPIFile: api/openapi.json is the OpenAPI 3 document of exactly the routes the console's API registers
// (go test ./internal/webapi -run OpenAPI -update rewrites it).
func TestOpenAPIFile(t *testing.T) {
	a := api.New(nil, nil, slog.New(slog.DiscardHandler))
	a.Add((&Platform{}).Modules()...)
	want := a.OpenAPI("v1")
	if *update {
		if err := os.WriteFile(openAPIFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("%s does not parse: %v", openAPIFile, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q, want 3.x", doc.OpenAPI)
	}
	var inFile, registered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			inFile = append(inFile, strings.ToUpper(m)+" "+p)
		}
	}
	for _, rt := range a.Routes() {
		registered = append(registered, rt.Method+" "+pathParam(api.Prefix+rt.Path))
	}
	sort.Strings(inFile)
	sort.Strings(registered)
	if strings.Join(inFile, "\n") != strings.Join(registered, "\n") {
		t.Errorf("%s lists\n%s\nbut the API registers\n%s\n(run go test ./internal/webapi -run OpenAPI -update)", openAPIFile, strings.Join(inFile, "\n"), strings.Join(registered, "\n"))
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the document the routes generate: run go test ./internal/webapi -run OpenAPI -update", openAPIFile)
	}
}

// pathParam writes a ServeMux wildcard {name...} as OpenAPI's {name}.
func pathParam(p string) string { return strings.ReplaceAll(p, "...}", "}") }
