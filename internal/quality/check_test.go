package quality

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// thingDef uses every supported keyword at least once, nested ones included.
const thingDef = `{
  "title": "thing",
  "type": "object",
  "required": ["kind", "id"],
  "properties": {
    "kind": {"const": "thing"},
    "id": {"type": "integer", "exclusiveMaximum": 1000, "exclusiveMinimum": -1},
    "name": {"type": "string", "minLength": 2, "maxLength": 4},
    "score": {"type": ["number", "null"], "maximum": 1.5, "minimum": -1.5},
    "flag": {"type": "boolean"},
    "size": {"enum": [1, 2, 3]},
    "day": {"type": "string", "format": "date"},
    "at": {"type": "string", "format": "date-time"},
    "tree": {"$ref": "#/$defs/node"},
    "list": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"], "additionalProperties": {"type": "integer"}}},
    "none": {"type": "array", "items": false},
    "meta": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[a-z]+$"}}
  },
  "additionalProperties": {"type": "string"},
  "$defs": {
    "node": {"type": "object", "properties": {"v": {"type": "integer"}, "child": {"$ref": "#/$defs/node"}}, "additionalProperties": false}
  }
}`

// TestKeywords checks each supported keyword's violation, and holds every verdict to the jsonschema library.
func TestKeywords(t *testing.T) {
	dir := writeFiles(t, map[string]string{"thing.json": thingDef})
	c, err := New(&config.Pipeline{Name: "p", Definitions: config.Definitions{SelectBy: "kind", Files: []string{"thing.json"}, BaseDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compileOracle(filepath.Join(dir, "thing.json"), []byte(thingDef), true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		record, code, field, reason string
	}{
		{`{"kind":"thing","id":1}`, "", "", ""},
		{`{"kind":"thing"}`, CodeMissingField, "id", `required field "id" is missing (expected long)`},
		{`{"kind":"thing","id":1000}`, CodeOutOfRange, "id", `field "id": 1000 is not less than the exclusive maximum 1000`},
		{`{"kind":"thing","id":-1}`, CodeOutOfRange, "id", `field "id": -1 is not more than the exclusive minimum -1`},
		{`{"kind":"thing","id":1.0}`, "", "", ""},
		{`{"kind":"thing","id":1e2}`, "", "", ""},
		{`{"kind":"thing","id":1.5}`, CodeWrongType, "id", `field "id": expected an integer, got number 1.5`},
		{`{"kind":"thing","id":1,"name":"é"}`, CodeOutOfRange, "name", `field "name": "é" has 1 character, fewer than the minimum length 2`},
		{`{"kind":"thing","id":1,"name":"éééé"}`, "", "", ""},
		{`{"kind":"thing","id":1,"name":"abcde"}`, CodeOutOfRange, "name", `field "name": "abcde" has 5 characters, more than the maximum length 4`},
		{`{"kind":"thing","id":1,"score":null}`, "", "", ""},
		{`{"kind":"thing","id":1,"score":1.6}`, CodeOutOfRange, "score", `field "score": 1.6 is more than the maximum 1.5`},
		{`{"kind":"thing","id":1,"score":-2}`, CodeOutOfRange, "score", `field "score": -2 is less than the minimum -1.5`},
		{`{"kind":"thing","id":1,"score":"x"}`, CodeWrongType, "score", `field "score": expected a number or null, got string "x"`},
		{`{"kind":"thing","id":1,"flag":"true"}`, CodeWrongType, "flag", `field "flag": expected true or false, got string "true"`},
		{`{"kind":"thing","id":1,"flag":null}`, CodeWrongType, "flag", `field "flag": expected true or false, got null`},
		{`{"kind":"thing","id":1,"size":2.0}`, "", "", ""},
		{`{"kind":"thing","id":1,"size":4}`, CodeNotInEnum, "size", `field "size": 4 is not one of 1, 2, 3`},
		{`{"kind":"thing","id":1,"size":"2"}`, CodeNotInEnum, "size", `field "size": "2" is not one of 1, 2, 3`},
		{`{"kind":"thing","id":1,"day":"2024-02-29"}`, "", "", ""},
		{`{"kind":"thing","id":1,"day":"2026-02-29"}`, CodeWrongType, "day", `field "day": expected a YYYY-MM-DD date string, got string "2026-02-29"`},
		{`{"kind":"thing","id":1,"at":"2026-01-02t03:04:05.5z"}`, "", "", ""},
		{`{"kind":"thing","id":1,"at":"2026-01-02T03:04:05"}`, CodeWrongType, "at", `field "at": expected an RFC 3339 date-time string, got string "2026-01-02T03:04:05"`},
		{`{"kind":"thing","id":1,"tree":{"v":1,"child":{"v":2,"child":{"v":3}}}}`, "", "", ""},
		{`{"kind":"thing","id":1,"tree":{"v":1,"child":{"v":2,"child":{"v":"x"}}}}`, CodeWrongType, "tree.child.child.v", `field "tree.child.child.v": expected an integer, got string "x"`},
		{`{"kind":"thing","id":1,"tree":{"child":{"w":1}}}`, CodeAdditionalProperty, "tree.child.w", `field "tree.child.w": additional property not allowed by the thing definition`},
		{`{"kind":"thing","id":1,"tree":[]}`, CodeWrongType, "tree", `field "tree": expected an object, got an array`},
		{`{"kind":"thing","id":1,"list":[{"k":"a","n":1},{"k":"b"}]}`, "", "", ""},
		{`{"kind":"thing","id":1,"list":[]}`, CodeOutOfRange, "list", `field "list": array has 0 items, fewer than the minimum 1`},
		{`{"kind":"thing","id":1,"list":[{"k":"a"},{"k":"b"},{"k":"c"}]}`, CodeOutOfRange, "list", `field "list": array has 3 items, more than the maximum 2`},
		{`{"kind":"thing","id":1,"list":[{"k":"a"},{"n":2}]}`, CodeMissingField, "list[1].k", `required field "list[1].k" is missing (expected string)`},
		{`{"kind":"thing","id":1,"list":[{"k":"a","n":"x"}]}`, CodeWrongType, "list[0].n", `field "list[0].n": expected an integer, got string "x"`},
		{`{"kind":"thing","id":1,"none":[]}`, "", "", ""},
		{`{"kind":"thing","id":1,"none":[1]}`, CodeAdditionalProperty, "none[0]", `field "none[0]": not allowed by the thing definition`},
		{`{"kind":"thing","id":1,"meta":{"a":"x","b":"Y"}}`, CodePattern, "meta.b", `field "meta.b": "Y" does not match pattern ^[a-z]+$`},
		{`{"kind":"thing","id":1,"note":"hi"}`, "", "", ""},
		{`{"kind":"thing","id":1,"note":5}`, CodeWrongType, "note", `field "note": expected a string, got number 5`},
		{`{"kind":"thing","id":1,"note":"a","other":{}}`, CodeWrongType, "other", `field "other": expected a string, got an object`},
		{`{"kind":"thing","id":1,"id":1000}`, CodeDuplicateKey, "id", `field "id" is given twice in one object (at byte offsets 16 and 23); each field may appear once`},
	}
	out := make([]row.Value, len(c.Columns()))
	for _, tc := range cases {
		v := c.Check([]byte(tc.record), time.Now(), out)
		var got Violation
		if v != nil {
			got = *v
		}
		if want := (Violation{tc.code, tc.field, tc.reason}); got != want {
			t.Errorf("%s\n got %q %q %q\nwant %q %q %q", tc.record, got.Code, got.Field, got.Reason, want.Code, want.Field, want.Reason)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.record)))
		if err != nil {
			t.Fatal(err)
		}
		if lerr := lib.Validate(inst); (lerr == nil) != (v == nil) {
			t.Errorf("%s: library verdict %v, ours %v", tc.record, lerr, v)
		}
	}
	// Nested values are stored as compact JSON text.
	if v := c.Check([]byte(`{"kind":"thing","id":1,"tree":{ "v" : 1 , "child":{}},"list":[{"k":"a\"b"}]}`), time.Now(), out); v != nil {
		t.Fatal(v)
	}
	cols := c.Columns()
	for name, want := range map[string]string{"tree": `{"v":1,"child":{}}`, "list": `[{"k":"a\"b"}]`} {
		if got := string(out[columnIndex(cols, name)].S); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
}

func TestUnknownPass(t *testing.T) {
	p := goldenPipeline(false)
	p.Definitions.Unknown = "pass"
	c, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	cols := c.Columns()
	out := make([]row.Value, len(cols))
	rec := `{"event_id":"x","event_time":"2026-12-31T14:00:00Z","event_type":"level_down","level":" 7 ","platform":"IPAD","device":{"a":[1]},"unknown":true}`
	if v := c.Check([]byte(rec), goldenNow, out); v != nil {
		t.Fatalf("rejected: %v", v)
	}
	if et, ok := c.EventType(); et != "level_down" || !ok {
		t.Errorf("EventType() = %q, %v", et, ok)
	}
	for name, want := range map[string]string{"event_id": `"x"`, "level": "7", "platform": `"ios"`, "device": `"{\"a\":[1]}"`, "item_id": "null"} {
		if got := render(cols[columnIndex(cols, name)], out[columnIndex(cols, name)]); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	// Without a definition the column rules apply, with their messages.
	for rec, want := range map[string]string{
		`{"event_id":"x","event_time":1,"event_type":"level_down","level":"x"}`: `wrong_type: field "level": expected an integer (int), got string "x"`,
		`{"event_time":1,"event_type":"level_down"}`:                            `missing_field: required field "event_id" is missing (expected string)`,
		`{"event_id":"x","event_time":1,"event_type":"level_down","tags":"a"}`:  `wrong_type: field "tags": expected an array, got string "a"`,
		`{"event_id":"x","event_time":1}`:                                       `missing_field: required field "event_type" is missing (expected string)`,
	} {
		if v := c.Check([]byte(rec), goldenNow, out); v == nil || v.Error() != want {
			t.Errorf("%s: got %v, want %s", rec, v, want)
		}
	}
}

func TestFutureClamp(t *testing.T) {
	p := goldenPipeline(false)
	p.Cleanse.Future.Action = "clamp"
	c, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row.Value, len(c.Columns()))
	rec := []byte(`{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2027-01-01T00:00:00Z","player_id":"p000891","event_type":"level_up","level":10,"platform":"ios","client_seq":3}`)
	if v := c.Check(rec, goldenNow, out); v != nil {
		t.Fatal(v)
	}
	if got := time.UnixMicro(out[1].I).UTC(); !got.Equal(goldenNow) {
		t.Errorf("clamped to %s, want %s", got, goldenNow)
	}
}

// TestCleanseColumns runs the cleansing rules without definitions.
func TestCleanseColumns(t *testing.T) {
	p := &config.Pipeline{Name: "p", Table: config.Table{Name: "s.t", Columns: []config.Column{
		{Name: "platform", Type: config.TypeString},
		{Name: "level", Type: config.TypeLong},
		{Name: "ts", Type: config.TypeTimestamp},
		{Name: "country", Type: config.TypeString},
		{Name: "price", Type: config.TypeFloat},
	}}, Cleanse: config.Cleanse{
		Trim: true, CoerceNumbers: true, CoerceTimestamps: true,
		Fields: []config.FieldCleanse{
			{Field: "platform", Case: "lower", Aliases: map[string]string{"IOS": "ios", " iPad ": "ios"}},
			{Field: "country", Case: "upper", NullIfInvalid: true},
		},
		Future: config.FutureRule{Field: "ts", MaxSkew: time.Minute},
	}}
	c, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	cols := c.Columns()
	out := make([]row.Value, len(cols))
	cases := []struct {
		record string
		want   map[string]string // rendered values, or "error" → message
		nulled int
	}{
		{`{"platform":" IOS ","level":" 12 ","ts":"1798728000","country":"kr","price":"-1.5e1"}`,
			map[string]string{"platform": `"ios"`, "level": "12", "ts": `"2026-12-31T14:40:00Z"`, "country": `"KR"`, "price": "-15"}, 0},
		{`{"platform":"IPAD","ts":1798728000.25}`, map[string]string{"platform": `"ios"`, "ts": `"2026-12-31T14:40:00.25Z"`}, 0},
		{`{"platform":"Éclair","ts":-1000000000000}`, map[string]string{"platform": `"éclair"`, "ts": `"1938-04-24T22:13:20Z"`}, 0},
		{`{"ts":"2026-12-31T15:00:00Z","country":5}`, map[string]string{"country": "null", "ts": `"2026-12-31T15:00:00Z"`}, 1},
		{`{"level":"12abc"}`, map[string]string{"error": `wrong_type: field "level": expected an integer (long), got string "12abc"`}, 0},
		{`{"level":"1e400"}`, map[string]string{"error": `out_of_range: field "level": value 1e400 is out of range for long`}, 0},
		{`{"ts":"2026-12-31T15:01:00.000001Z"}`, map[string]string{"error": `future_timestamp: field "ts": 2026-12-31T15:01:00.000001Z is 1m0.000001s ahead of now, more than the 1m0s allowed`}, 0},
		{`{"ts":1798729261}`, map[string]string{"error": `future_timestamp: field "ts": 2026-12-31T15:01:01Z is 1m1s ahead of now, more than the 1m0s allowed`}, 0},
	}
	for _, tc := range cases {
		before := c.NulledFields()
		v := c.Check([]byte(tc.record), goldenNow, out)
		if want, ok := tc.want["error"]; ok {
			if v == nil || v.Error() != want {
				t.Errorf("%s: got %v, want %s", tc.record, v, want)
			}
			continue
		}
		if v != nil {
			t.Errorf("%s: rejected: %v", tc.record, v)
			continue
		}
		for name, want := range tc.want {
			i := columnIndex(cols, name)
			if got := render(cols[i], out[i]); got != want {
				t.Errorf("%s: %s = %s, want %s", tc.record, name, got, want)
			}
		}
		if n := c.NulledFields() - before; n != tc.nulled {
			t.Errorf("%s: nulled %d, want %d", tc.record, n, tc.nulled)
		}
	}
}

// TestClone checks that clones share nothing mutable: run under -race, they check concurrently.
func TestClone(t *testing.T) {
	c, err := New(goldenPipeline(false))
	if err != nil {
		t.Fatal(err)
	}
	corpus := loadCorpus(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		cl := c.Clone()
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]row.Value, len(cl.Columns()))
			for range 20 {
				for _, e := range corpus {
					v := cl.Check([]byte(e.Record), goldenNow, out)
					if code := ""; v != nil {
						code = v.Code
						if code != e.Code {
							t.Errorf("%s: clone got %s, want %s", e.Name, code, e.Code)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := c.NulledFields(); n != 0 {
		t.Errorf("the original counted %d nulled fields of its clones", n)
	}
}

// TestDefinitionsPaths loads definitions from a directory with an awkward name, and by absolute path.
func TestDefinitionsPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my defs #1%")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.json"), []byte(okDef), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(&config.Pipeline{Name: "p", Definitions: config.Definitions{Files: []string{"ok.json"}, BaseDir: dir}}); err != nil {
		t.Fatal(err)
	}

	abs, err := filepath.Abs(filepath.Join(goldenDir, "level_up.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatal(err)
	}
	c, err := New(&config.Pipeline{Name: "p", Definitions: config.Definitions{Files: []string{abs}, BaseDir: "/nonexistent"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Definitions(); len(d) != 1 || d[0].EventType != "level_up" || d[0].Version != 2 {
		t.Errorf("Definitions() = %+v", d)
	}
}
