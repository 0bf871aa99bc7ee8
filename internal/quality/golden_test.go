package quality

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// The golden corpus: testdata/golden/corpus.jsonl checked with the configuration of goldenPipeline, which
// testdata/golden/README.md documents.

const goldenDir = "../../testdata/golden"

var (
	goldenFiles = []string{"session_start.json", "session_end.json", "level_up.json", "item_acquire.json", "purchase.json"}
	goldenNow   = time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC)
)

// goldenPipeline is the corpus configuration; strict leaves out cleansing, limits and the future rule, for
// comparing with the jsonschema library.
func goldenPipeline(strict bool) *config.Pipeline {
	p := &config.Pipeline{
		Name: "game-events",
		Table: config.Table{Name: "staging.game_events", Columns: []config.Column{
			{Name: "event_id", Type: config.TypeString, Required: true},
			{Name: "event_time", Type: config.TypeTimestamp, Required: true},
			{Name: "level", Type: config.TypeInt},
		}},
		Definitions: config.Definitions{SelectBy: "event_type", Files: goldenFiles, Unknown: "reject", BaseDir: goldenDir},
	}
	if strict {
		return p
	}
	p.Limits = config.Limits{MaxRecordBytes: 1024, MaxDepth: 4}
	p.Cleanse = config.Cleanse{
		Trim: true, CoerceNumbers: true, CoerceTimestamps: true,
		Fields: []config.FieldCleanse{
			{Field: "platform", Case: "lower", Aliases: map[string]string{"iphone": "ios", "ipad": "ios", "windows": "pc", "mac": "pc"}},
			{Field: "currency", Case: "upper"},
			{Field: "country", Case: "upper", NullIfInvalid: true},
		},
		Future: config.FutureRule{Field: "event_time", MaxSkew: 10 * time.Minute, Action: "reject"},
	}
	return p
}

type goldenEntry struct {
	Name   string                     `json:"name"`
	Record string                     `json:"record"`
	Base64 string                     `json:"record_base64"` // instead of record, for bytes that are not UTF-8
	Code   string                     `json:"code"`
	Field  string                     `json:"field"`
	Reason string                     `json:"reason"`
	Want   map[string]json.RawMessage `json:"want"`
	Nulled int                        `json:"nulled"`
}

func loadCorpus(t testing.TB) []goldenEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e goldenEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("corpus.jsonl:%d: %v", line, err)
		}
		if e.Base64 != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Base64)
			if err != nil {
				t.Fatalf("corpus.jsonl:%d: record_base64: %v", line, err)
			}
			e.Record = string(raw)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// render gives a column value as JSON, the way the corpus writes expected values.
func render(col config.Column, v row.Value) string {
	if v.Null {
		return "null"
	}
	switch col.Type {
	case config.TypeString:
		b, _ := json.Marshal(string(v.S))
		return string(b)
	case config.TypeLong, config.TypeInt:
		return strconv.FormatInt(v.I, 10)
	case config.TypeDouble, config.TypeFloat:
		return strconv.FormatFloat(v.F, 'f', -1, 64)
	case config.TypeBoolean:
		return strconv.FormatBool(v.I != 0)
	case config.TypeTimestamp:
		return strconv.Quote(time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano))
	case config.TypeDate:
		return strconv.Quote(time.Unix(v.I*86400, 0).UTC().Format(time.DateOnly))
	}
	return "?"
}

func TestGoldenCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	c, err := New(goldenPipeline(false))
	if err != nil {
		t.Fatal(err)
	}
	cols := c.Columns()
	out := make([]row.Value, len(cols))
	codes := map[string]int{}
	for _, e := range corpus {
		codes[e.Code]++
		t.Run(e.Name, func(t *testing.T) {
			before := c.NulledFields()
			v := c.Check([]byte(e.Record), goldenNow, out)
			var got Violation
			if v != nil {
				got = *v
			}
			if want := (Violation{e.Code, e.Field, e.Reason}); got != want {
				t.Fatalf("record %s\n got %q %q %q\nwant %q %q %q", e.Record, got.Code, got.Field, got.Reason, want.Code, want.Field, want.Reason)
			}
			if n := c.NulledFields() - before; n != e.Nulled {
				t.Errorf("nulled %d fields, want %d", n, e.Nulled)
			}
			for name, raw := range e.Want {
				i := columnIndex(cols, name)
				if i < 0 {
					t.Fatalf("want names %q, not a column", name)
				}
				var want bytes.Buffer
				if err := json.Compact(&want, raw); err != nil {
					t.Fatal(err)
				}
				if got := render(cols[i], out[i]); got != want.String() {
					t.Errorf("column %s: got %s, want %s", name, got, want.String())
				}
			}
		})
	}
	if len(corpus) < 40 {
		t.Errorf("corpus has %d records, want at least 40", len(corpus))
	}
	for _, code := range []string{CodeNotJSON, CodeNotObject, CodeOversize, CodeTooDeep, CodeUnplannedEvent, CodeMissingField, CodeWrongType,
		CodeOutOfRange, CodeNotInEnum, CodePattern, CodeAdditionalProperty, CodeFutureTimestamp} {
		if codes[code] < 2 {
			t.Errorf("corpus has %d records with code %s, want at least 2", codes[code], code)
		}
	}
}

func columnIndex(cols []config.Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// oracle compiles the golden definitions with the jsonschema library, formats asserted.
func oracle(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for _, f := range goldenFiles {
		path := filepath.Join(goldenDir, f)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sch, err := compileOracle(path, data, true)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Title string }
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		out[doc.Title] = sch
	}
	return out
}

// oracleCompare checks one raw record with a strict Checker and with the library. It returns false when the
// record is not one the library can judge: not a JSON object, or no definition for its event type.
func oracleCompare(t *testing.T, strict *Checker, schemas map[string]*jsonschema.Schema, record string) bool {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(record)))
	if err != nil {
		return false
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return false
	}
	et, _ := obj["event_type"].(string)
	sch := schemas[et]
	if sch == nil {
		return false
	}
	out := make([]row.Value, len(strict.Columns()))
	ours := strict.Check([]byte(record), goldenNow, out)
	theirs := sch.Validate(inst)
	if (ours == nil) != (theirs == nil) {
		t.Errorf("verdicts differ for %s\n ours: %v\nlibrary: %v", record, ours, theirs)
	}
	return true
}

// cleansedDoc rebuilds the record a Checker accepted from its column values, as JSON the library reads.
func cleansedDoc(t *testing.T, c *Checker, out []row.Value) map[string]any {
	t.Helper()
	et, _ := c.EventType()
	var fields []string
	for _, d := range c.Definitions() {
		if d.EventType == et {
			fields = d.Fields
		}
	}
	cols := c.Columns()
	doc := map[string]any{}
	for _, name := range fields {
		i := columnIndex(cols, name)
		v := out[i]
		if v.Null {
			continue
		}
		kind := c.s.cols[i].kind
		switch {
		case kind == kJSON:
			x, err := jsonschema.UnmarshalJSON(bytes.NewReader(v.S))
			if err != nil {
				t.Fatal(err)
			}
			doc[name] = x
		case kind == kString:
			doc[name] = string(v.S)
		case kind == kLong || kind == kInt:
			doc[name] = json.Number(strconv.FormatInt(v.I, 10))
		case kind == kDouble || kind == kFloat:
			doc[name] = json.Number(strconv.FormatFloat(v.F, 'g', -1, 64))
		case kind == kBool:
			doc[name] = v.I != 0
		case kind == kTimestamp:
			doc[name] = time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano)
		case kind == kDate:
			doc[name] = time.Unix(v.I*86400, 0).UTC().Format(time.DateOnly)
		}
	}
	return doc
}

// TestGoldenOracle holds Check to the jsonschema library: for every corpus record the library can judge, a
// Checker without cleansing must give the same verdict on the raw record, and every record the corpus
// Checker accepts must, rebuilt from its cleansed column values, be valid for the library.
func TestGoldenOracle(t *testing.T) {
	schemas := oracle(t)
	strict, err := New(goldenPipeline(true))
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(goldenPipeline(false))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row.Value, len(full.Columns()))
	compared, rebuilt := 0, 0
	for _, e := range loadCorpus(t) {
		switch e.Code {
		case CodeOversize, CodeTooDeep, CodeFutureTimestamp, // limits and cleansing rules, not schema
			CodeDuplicateKey: // JSON the library reads by keeping the last value; we refuse it
			continue
		}
		if oracleCompare(t, strict, schemas, e.Record) {
			compared++
		}
		if full.Check([]byte(e.Record), goldenNow, out) == nil {
			et, _ := full.EventType()
			if err := schemas[et].Validate(cleansedDoc(t, full, out)); err != nil {
				t.Errorf("%s: the cleansed record is invalid for the library: %v", e.Name, err)
			}
			rebuilt++
		}
	}
	if compared < 40 || rebuilt < 20 {
		t.Errorf("compared %d raw records and %d cleansed ones; the corpus lost coverage", compared, rebuilt)
	}
}
