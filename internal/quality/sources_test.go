package quality

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// The definitions of the in-memory tests: a title and a version keyword that the source overrides.
const (
	srcLogin = `{"title": "Login event", "version": 7, "type": "object", "required": ["event_type", "player_id"],
  "properties": {"event_type": {"const": "login"}, "player_id": {"type": "string", "minLength": 3}, "level": {"type": "integer", "minimum": 1}},
  "additionalProperties": false}`
	srcLogout = `{"type": "object", "required": ["event_type", "player_id"],
  "properties": {"event_type": {"type": "string"}, "player_id": {"type": "string"}, "seconds": {"type": "number"}}}`
)

func registryPipeline() *config.Pipeline {
	return &config.Pipeline{Name: "p", Definitions: config.Definitions{
		SelectBy: "event_type", Unknown: "reject", Registry: config.DefinitionsRegistry{SubjectPrefix: "game.definitions."}}}
}

// TestDefinitionSources: definitions given in memory make the columns and run the checks; their event type
// and version are the source's, not the schema's title and version keyword.
func TestDefinitionSources(t *testing.T) {
	c, err := New(registryPipeline(), WithDefinitions(
		DefinitionSource{EventType: "login", Version: 3, Origin: "registry subject game.definitions.login, version 3", Schema: []byte(srcLogin)},
		DefinitionSource{EventType: "logout", Version: 1, Schema: []byte(srcLogout)},
	))
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []config.Column{{Name: "event_type", Type: config.TypeString}, {Name: "player_id", Type: config.TypeString},
		{Name: "level", Type: config.TypeLong}, {Name: "seconds", Type: config.TypeDouble}}
	if got := c.Columns(); !reflect.DeepEqual(got, wantCols) {
		t.Errorf("Columns():\n got %+v\nwant %+v", got, wantCols)
	}
	wantDefs := []DefinitionInfo{
		{EventType: "login", Version: 3, File: "registry subject game.definitions.login, version 3", Fields: []string{"event_type", "player_id", "level"}},
		{EventType: "logout", Version: 1, File: "event type logout", Fields: []string{"event_type", "player_id", "seconds"}},
	}
	if got := c.Definitions(); !reflect.DeepEqual(got, wantDefs) {
		t.Errorf("Definitions():\n got %+v\nwant %+v", got, wantDefs)
	}

	out := make([]row.Value, len(wantCols))
	for _, tc := range []struct {
		record, code, field, reason string
	}{
		{`{"event_type":"login","player_id":"p-1","level":2}`, "", "", ""},
		{`{"event_type":"logout","player_id":"p-1","seconds":12.5,"extra":true}`, "", "", ""},
		{`{"event_type":"login","player_id":"p1"}`, CodeOutOfRange, "player_id", `field "player_id": "p1" has 2 characters, fewer than the minimum length 3`},
		{`{"event_type":"login","player_id":"p-1","level":0}`, CodeOutOfRange, "level", `field "level": 0 is less than the minimum 1`},
		{`{"event_type":"login","player_id":"p-1","seconds":1}`, CodeAdditionalProperty, "seconds", `field "seconds": additional property not allowed by the login definition`},
		{`{"event_type":"logout"}`, CodeMissingField, "player_id", `required field "player_id" is missing (expected string)`},
		{`{"event_type":"Login event","player_id":"p-1"}`, CodeUnplannedEvent, "event_type", `event type "Login event" has no definition (known: login, logout)`},
	} {
		v := c.Check([]byte(tc.record), time.Now(), out)
		var got Violation
		if v != nil {
			got = *v
		}
		if want := (Violation{tc.code, tc.field, tc.reason}); got != want {
			t.Errorf("%s\n got %q %q %q\nwant %q %q %q", tc.record, got.Code, got.Field, got.Reason, want.Code, want.Field, want.Reason)
		}
	}
	if v := c.Check([]byte(`{"event_type":"login","player_id":"p-9","level":4}`), time.Now(), out); v != nil {
		t.Fatal(v)
	}
	if et, ok := c.EventType(); et != "login" || !ok {
		t.Errorf("EventType() = %q, %v; want login, true", et, ok)
	}
	if got := string(out[1].S); got != "p-9" || out[2].I != 4 || !out[3].Null {
		t.Errorf("values: player_id %q, level %d, seconds null %v; want p-9, 4, true", got, out[2].I, out[3].Null)
	}
}

// TestDefinitionSourcesBesideFiles: sources come after the files, and an event type defined by both is an
// error naming both.
func TestDefinitionSourcesBesideFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ok.json": okDef})
	p := registryPipeline()
	p.Definitions.Files, p.Definitions.BaseDir = []string{"ok.json"}, dir
	c, err := New(p, WithDefinitions(DefinitionSource{EventType: "logout", Version: 2, Origin: "registry subject game.definitions.logout, version 2", Schema: []byte(srcLogout)}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range c.Definitions() {
		got = append(got, d.EventType+"@"+d.File)
	}
	if want := "ok@ok.json logout@registry subject game.definitions.logout, version 2"; strings.Join(got, " ") != want {
		t.Errorf("Definitions(): got %s, want %s", strings.Join(got, " "), want)
	}
	var cols []string
	for _, col := range c.Columns() {
		cols = append(cols, col.Name)
	}
	if want := "event_type level player_id seconds"; strings.Join(cols, " ") != want {
		t.Errorf("Columns(): got %s, want %s", strings.Join(cols, " "), want)
	}

	_, err = New(p, WithDefinitions(DefinitionSource{EventType: "ok", Version: 1, Origin: "registry subject game.definitions.ok, version 1", Schema: []byte(okDef)}))
	if want := `definition "registry subject game.definitions.ok, version 1": event type "ok" is also defined by "ok.json"`; err == nil || err.Error() != want {
		t.Errorf("an event type in a file and the registry:\n got %v\nwant %s", err, want)
	}
}

// TestDefinitionSourcesSameVerdicts: a definition gives the same columns and verdicts from a file as in memory.
func TestDefinitionSourcesSameVerdicts(t *testing.T) {
	dir := writeFiles(t, map[string]string{"thing.json": thingDef})
	fromFile, err := New(&config.Pipeline{Name: "p", Definitions: config.Definitions{SelectBy: "kind", Files: []string{"thing.json"}, BaseDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	fromMem, err := New(&config.Pipeline{Name: "p", Definitions: config.Definitions{SelectBy: "kind"}},
		WithDefinitions(DefinitionSource{EventType: "thing", Version: 1, Schema: []byte(thingDef)}))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fromFile.Columns(), fromMem.Columns(); !reflect.DeepEqual(a, b) {
		t.Fatalf("columns differ:\nfile   %+v\nmemory %+v", a, b)
	}
	n := len(fromFile.Columns())
	outA, outB := make([]row.Value, n), make([]row.Value, n)
	for _, rec := range []string{
		`{"kind":"thing","id":1,"name":"abc","tree":{"v":1,"child":{"v":2}}}`,
		`{"kind":"thing","id":1000}`,
		`{"kind":"thing","id":1,"tree":{"child":{"w":1}}}`,
		`{"kind":"thing","id":1,"meta":{"a":"x","b":"Y"}}`,
		`{"kind":"other","id":1}`,
		`{"kind":"thing","id":1,"list":[{"k":"a"},{"n":2}]}`,
	} {
		va, vb := fromFile.Check([]byte(rec), time.Now(), outA), fromMem.Check([]byte(rec), time.Now(), outB)
		if (va == nil) != (vb == nil) || va != nil && *va != *vb {
			t.Errorf("%s: file %v, memory %v", rec, va, vb)
		}
		if va == nil && !reflect.DeepEqual(outA, outB) {
			t.Errorf("%s: values differ:\nfile   %+v\nmemory %+v", rec, outA, outB)
		}
	}
}

func TestDefinitionSourceErrors(t *testing.T) {
	src := func(eventType string, version int, schema string) DefinitionSource {
		return DefinitionSource{EventType: eventType, Version: version, Origin: "registry subject d." + eventType, Schema: []byte(schema)}
	}
	for _, tc := range []struct {
		name    string
		sources []DefinitionSource
		want    string
	}{
		{"registry configured, nothing given", nil,
			`definitions.registry: no definitions were loaded for subject prefix "game.definitions." (the caller reads them from the schema registry and passes them with WithDefinitions)`},
		{"no event type", []DefinitionSource{{Version: 1, Schema: []byte(srcLogout)}},
			`definition "event type ": no event type`},
		{"version zero", []DefinitionSource{src("logout", 0, srcLogout)},
			`definition "registry subject d.logout": version must be a positive integer, got 0`},
		{"not JSON", []DefinitionSource{src("logout", 1, `{"type":`)},
			`definition "registry subject d.logout": not valid JSON: unexpected EOF`},
		{"unsupported keyword", []DefinitionSource{src("logout", 1, `{"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 2}}}`)},
			`definition "registry subject d.logout": unsupported keywords: /properties/a/multipleOf (supported: ` + supportedKeywords + `)`},
		{"not an object", []DefinitionSource{src("logout", 1, `{"type": "array"}`)},
			`definition "registry subject d.logout": the top level must have "type": "object" and "properties"`},
		{"const against the event type", []DefinitionSource{src("logout", 1, `{"type": "object", "properties": {"event_type": {"const": "login"}}}`)},
			`definition "registry subject d.logout": property "event_type" is const "login" but the definition is for event type "logout" (the event type it was given for)`},
		{"event type twice", []DefinitionSource{src("logout", 1, srcLogout), {EventType: "logout", Version: 2, Origin: "other", Schema: []byte(srcLogout)}},
			`definition "other": event type "logout" is also defined by "registry subject d.logout"`},
		{"conflicting column types", []DefinitionSource{src("logout", 1, srcLogout), src("quit", 1, `{"type": "object", "properties": {"seconds": {"type": "string"}}}`)},
			`definitions: property "seconds" has conflicting types: double in "registry subject d.logout", string in "registry subject d.quit"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(registryPipeline(), WithDefinitions(tc.sources...))
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got %v\nwant %s", err, tc.want)
			}
		})
	}
	// A schema that is not valid draft 2020-12 is refused with the library's message.
	_, err := New(registryPipeline(), WithDefinitions(src("logout", 1, `{"type": "strin", "properties": {}}`)))
	if err == nil || !strings.HasPrefix(err.Error(), `definition "registry subject d.logout": `) || !strings.Contains(err.Error(), "is not valid against metaschema") {
		t.Errorf("invalid draft 2020-12: got %v", err)
	}
}
