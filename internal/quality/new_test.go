package quality

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
)

// writeFiles writes name → content files into a new temporary directory and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const okDef = `{"title": "ok", "type": "object", "properties": {"event_type": {"const": "ok"}, "level": {"type": "integer"}}}`

func TestNewErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok.json":        okDef,
		"bad.json":       `{"type": "strin", "properties": {}}`,
		"notjson.json":   `{"type":`,
		"unsup.json":     `{"type": "object", "properties": {"level": {"type": "integer", "multipleOf": 2}, "tags": {"type": "array", "uniqueItems": true}}, "oneOf": [{"required": ["level"]}]}`,
		"email.json":     `{"type": "object", "properties": {"mail": {"type": "string", "format": "email"}}}`,
		"level_str.json": `{"title": "other", "type": "object", "properties": {"event_type": {"const": "other"}, "level": {"type": "string"}}}`,
		"dup.json":       `{"title": "ok", "type": "object", "properties": {"level": {"type": "integer"}}}`,
		"const.json":     `{"title": "a", "type": "object", "properties": {"event_type": {"const": "b"}}}`,
		"d7.json":        `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"a": {"type": "string"}}}`,
		"array.json":     `{"type": "array", "items": {"type": "string"}}`,
		"name.json":      `{"type": "object", "properties": {"device-os": {"type": "string"}}}`,
		"reserved.json":  `{"type": "object", "properties": {"_offset": {"type": "integer"}}}`,
		"several.json":   `{"type": "object", "properties": {"x": {"type": ["string", "integer"]}}}`,
		"notype.json":    `{"type": "object", "properties": {"x": {"minimum": 1}}}`,
		"missref.json":   `{"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}}`,
		"nested.json":    `{"type": "object", "properties": {"a": {"type": "object", "$defs": {"x": {"type": "string"}}}}}`,
		"closed.json":    `{"title": "closed", "type": "object", "properties": {"level": {"type": "integer"}}, "additionalProperties": false}`,
		"pattern.json":   `{"type": "object", "properties": {"a": {"type": "string", "pattern": "a(b"}}}`,
	})
	cases := []struct {
		name  string
		files []string
		tweak func(p *config.Pipeline)
		want  []string // substrings of the error
	}{
		{"missing file", []string{"nope.json"}, nil, []string{`definition "nope.json": open `, "nope.json: no such file or directory"}},
		{"not valid draft 2020-12", []string{"bad.json"}, nil, []string{`definition "bad.json": `, "is not valid against metaschema", `value must be one of 'array', 'boolean'`}},
		{"not JSON", []string{"notjson.json"}, nil, []string{`definition "notjson.json": not valid JSON: unexpected EOF`}},
		{"unsupported keywords", []string{"unsup.json"}, nil, []string{`definition "unsup.json": unsupported keywords: /properties/level/multipleOf, /properties/tags/uniqueItems, /oneOf (supported: type, enum,`}},
		{"unsupported format", []string{"email.json"}, nil, []string{`definition "email.json": unsupported keywords: /properties/mail/format "email"`}},
		{"conflicting types", []string{"ok.json", "level_str.json"}, nil, []string{`definitions: property "level" has conflicting types: long in "ok.json", string in "level_str.json"`}},
		{"declared column does not fit", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Table.Columns = []config.Column{{Name: "level", Type: config.TypeString}}
		}, []string{`definition "ok.json": property "level" is an integer, which does not fit its declared column type string`}},
		{"event type twice", []string{"ok.json", "dup.json"}, nil, []string{`definition "dup.json": event type "ok" is also defined by "ok.json"`}},
		{"const against title", []string{"const.json"}, nil, []string{`definition "const.json": property "event_type" is const "b" but the definition is for event type "a" (its title)`}},
		{"other draft", []string{"d7.json"}, nil, []string{`definition "d7.json": $schema is "http://json-schema.org/draft-07/schema#"; definitions are draft 2020-12`}},
		{"not an object", []string{"array.json"}, nil, []string{`definition "array.json": the top level must have "type": "object" and "properties"`}},
		{"bad column name", []string{"name.json"}, nil, []string{`definition "name.json": property "device-os" cannot be a column`}},
		{"reserved column name", []string{"reserved.json"}, nil, []string{`definition "reserved.json": property "_offset" cannot be a column`}},
		{"several types", []string{"several.json"}, nil, []string{`definition "several.json": property "x": several types (string/integer)`}},
		{"no type", []string{"notype.json"}, nil, []string{`definition "notype.json": property "x": no type (give it a "type")`}},
		{"dangling $ref", []string{"missref.json"}, nil, []string{`definition "missref.json": `, `#/$defs/nope" not found`}},
		{"nested $defs", []string{"nested.json"}, nil, []string{`definition "nested.json": unsupported keywords: /properties/a/$defs`}},
		{"select field not allowed", []string{"closed.json"}, nil, []string{`definition "closed.json": additionalProperties is false but the select_by field "event_type" is not among the properties`}},
		{"bad pattern", []string{"pattern.json"}, nil, []string{`definition "pattern.json": `}},
		{"unknown policy", []string{"ok.json"}, func(p *config.Pipeline) { p.Definitions.Unknown = "drop" }, []string{`definitions: unknown policy "drop" (expected reject or pass)`}},
		{"cleanse field not a column", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Cleanse.Fields = []config.FieldCleanse{{Field: "platfrom", Case: "lower"}}
		}, []string{`cleanse: field "platfrom" is not a column (columns: event_type, level)`}},
		{"unknown case", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Cleanse.Fields = []config.FieldCleanse{{Field: "event_type", Case: "title"}}
		}, []string{`cleanse: field "event_type": unknown case "title" (expected lower or upper)`}},
		{"future field not a timestamp", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Cleanse.Future = config.FutureRule{Field: "level", MaxSkew: time.Minute}
		}, []string{`cleanse: future: field "level" is not a timestamp column`}},
		{"future default field missing", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Cleanse.Future = config.FutureRule{MaxSkew: time.Minute}
		}, []string{`cleanse: future: field "event_time" is not a timestamp column`}},
		{"alias keys collide", []string{"ok.json"}, func(p *config.Pipeline) {
			p.Cleanse.Fields = []config.FieldCleanse{{Field: "event_type", Case: "lower", Aliases: map[string]string{"OK": "ok", "ok": "ok"}}}
		}, []string{`cleanse: field "event_type": aliases "ok" and another key are the same after trimming and case`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &config.Pipeline{Name: "p", Definitions: config.Definitions{Files: tc.files, BaseDir: dir}}
			if tc.tweak != nil {
				tc.tweak(p)
			}
			_, err := New(p)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestColumnsAndDefinitions(t *testing.T) {
	c, err := New(goldenPipeline(false))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, col := range c.Columns() {
		s := col.Name + ":" + string(col.Type)
		if col.Required {
			s += "!"
		}
		got = append(got, s)
	}
	want := "event_id:string! event_time:timestamp! level:int player_id:string event_type:string device:string platform:string " +
		"country:string client_seq:long duration_s:long tags:string item_id:string amount:double currency:string"
	if strings.Join(got, " ") != want {
		t.Errorf("Columns():\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	var defs []string
	for _, d := range c.Definitions() {
		defs = append(defs, d.EventType+"@"+d.File+":"+string(rune('0'+d.Version))+":"+strings.Join(d.Fields, ","))
	}
	wantDefs := []string{
		"session_start@session_start.json:1:event_id,event_time,player_id,event_type,level,device,platform,country,client_seq",
		"session_end@session_end.json:1:event_id,event_time,player_id,event_type,level,duration_s,tags,platform,country,client_seq",
		"level_up@level_up.json:2:event_id,event_time,player_id,event_type,level,platform,country,client_seq",
		"item_acquire@item_acquire.json:1:event_id,event_time,player_id,event_type,level,item_id,platform,country,client_seq",
		"purchase@purchase.json:1:event_id,event_time,player_id,event_type,level,item_id,amount,currency,platform,country,client_seq",
	}
	if strings.Join(defs, "\n") != strings.Join(wantDefs, "\n") {
		t.Errorf("Definitions():\n got %s\nwant %s", strings.Join(defs, "\n"), strings.Join(wantDefs, "\n"))
	}
}
