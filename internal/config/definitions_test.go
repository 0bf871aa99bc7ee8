package config

import (
	"reflect"
	"testing"
)

// registryDefs is a pipeline whose log definitions come from the schema registry.
const registryDefs = `pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events}
    definitions:
      registry: {subject_prefix: game.definitions.}
`

// TestDefinitionsRegistry: definitions.registry decodes alone or beside files, switches definitions on (so
// table.columns may be left out), and takes a SQLite or Postgres catalog.
func TestDefinitionsRegistry(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       Definitions
	}{
		{"registry only", registryDefs,
			Definitions{SelectBy: "event_type", Unknown: "reject", Registry: DefinitionsRegistry{SubjectPrefix: "game.definitions."}, BaseDir: "."}},
		{"files and registry", `pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events}
    definitions:
      select_by: kind
      files: [testdata/defs/purchase.json]
      registry:
        subject_prefix: defs-
      unknown: pass
`, Definitions{SelectBy: "kind", Unknown: "pass", Files: []string{"testdata/defs/purchase.json"},
			Registry: DefinitionsRegistry{SubjectPrefix: "defs-"}, BaseDir: "."}},
		{"postgres catalog", "catalog: {uri: 'postgres://bf@127.0.0.1:5432/lake'}\n" + registryDefs,
			Definitions{SelectBy: "event_type", Unknown: "reject", Registry: DefinitionsRegistry{SubjectPrefix: "game.definitions."}, BaseDir: "."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("bigfather.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			d := c.Pipelines[0].Definitions
			if !reflect.DeepEqual(d, tc.want) {
				t.Errorf("definitions:\n got %+v\nwant %+v", d, tc.want)
			}
			if !d.Enabled() || !d.Registry.Enabled() {
				t.Errorf("Enabled() = %v, Registry.Enabled() = %v; want true, true", d.Enabled(), d.Registry.Enabled())
			}
		})
	}

	// Built in Go: the registry alone switches definitions on and gets the defaults.
	c := Default(t.TempDir())
	p := &c.Pipelines[0]
	p.Definitions = Definitions{Registry: DefinitionsRegistry{SubjectPrefix: "game.definitions."}}
	c.Metrics[0].Rates = "testdata/rates.csv"
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err != nil {
		t.Fatal(err)
	}
	if p.Definitions.SelectBy != "event_type" || p.Definitions.Unknown != "reject" {
		t.Errorf("defaults not filled: %+v", p.Definitions)
	}
	if (Definitions{}).Enabled() || (DefinitionsRegistry{}).Enabled() {
		t.Error("zero Definitions or DefinitionsRegistry report Enabled")
	}
}

func TestDefinitionsRegistryErrors(t *testing.T) {
	const rest = "warehouse: s3://lake\ns3: {endpoint: 'http://127.0.0.1:8333'}\ncatalog: {uri: 'http://127.0.0.1:8181'}\n"
	runErrorCases(t, []errorCase{
		{"empty subject_prefix", minimal + "    definitions:\n      registry: {subject_prefix: ''}\n",
			`bad.yaml:9: pipelines[0].definitions.registry.subject_prefix: must not be empty (subjects are named PREFIX + EVENT_TYPE)`},
		{"blank subject_prefix beside files", minimal + "    definitions:\n      files: [testdata/defs/purchase.json]\n      registry:\n        subject_prefix: '  '\n",
			`bad.yaml:11: pipelines[0].definitions.registry.subject_prefix: must not be empty (subjects are named PREFIX + EVENT_TYPE)`},
		{"registry without subject_prefix", minimal + "    definitions:\n      registry: {}\n",
			`bad.yaml:9: pipelines[0].definitions.registry.subject_prefix: missing required key`},
		{"registry not a mapping", minimal + "    definitions:\n      registry: game.definitions.\n",
			`bad.yaml:9: pipelines[0].definitions.registry: expected a mapping, got a string`},
		{"unknown registry key", minimal + "    definitions:\n      registry: {subject_prefix: game., prefix: x}\n",
			`bad.yaml:9: pipelines[0].definitions.registry.prefix: unknown key (expected one of: subject_prefix)`},
		{"REST catalog", rest + registryDefs,
			`bad.yaml:9: pipelines[0].definitions.registry: the schema registry lives in the catalog database, which a REST catalog does not give; use a sqlite:// or postgres:// catalog.uri, or definitions.files`},
		{"registry definitions with a registry format", `pipelines:
  - name: game-events
    topics: [game.events]
    format: avro
    table: {name: staging.game_events}
    definitions:
      registry: {subject_prefix: game.definitions.}
`, `bad.yaml:7: pipelines[0].definitions: format avro is validated by its registry schema; log definitions are for json`},
	})
}
