package wire

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// avroRecord writes a record schema named R with one field f of type typ (a JSON text).
func avroRecord(typ string) string {
	return fmt.Sprintf(`{"type":"record","name":"R","namespace":"test","fields":[{"name":"f","type":%s}]}`, typ)
}

// avroDecoderOf parses an Avro schema (with references resolved from refs, by name) and builds its decoder.
func avroDecoderOf(t *testing.T, text string, refs map[string]string) (avro.Schema, Decoder) {
	t.Helper()
	var list []schema.Reference
	for name := range refs {
		list = append(list, schema.Reference{Name: name, Subject: name, Version: 1})
	}
	p, err := schema.Parse(schema.Avro, text, list, func(r schema.Reference) (string, []schema.Reference, error) {
		return refs[r.Name], nil, nil
	})
	if err != nil {
		t.Fatalf("parsing the Avro schema: %v", err)
	}
	d, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return schema.AvroOf(p), d
}

// TestAvroBytesDoNotShareMemory appends to a decoded bytes value and reads the next one unchanged.
func TestAvroBytesDoNotShareMemory(t *testing.T) {
	sc, d := avroDecoderOf(t, `{"type":"record","name":"B","fields":[{"name":"a","type":"bytes"},{"name":"b","type":"bytes"}]}`, nil)
	payload, err := avro.Marshal(sc, map[string]any{"a": []byte{1}, "b": []byte{2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := d.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(rec["a"].([]byte), 9, 9)
	if got := render(rec["b"]); got != "bytes(0203)" {
		t.Errorf("b after appending to a = %s, want bytes(0203)", got)
	}
}

func TestAvro(t *testing.T) {
	uuid := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	cases := []struct {
		name       string
		typ        string // the type of field f
		refs       map[string]string
		value      any // the value of f, as hamba/avro encodes it
		want       any // the decoded value of f
		wantFields string
	}{
		{name: "boolean", typ: `"boolean"`, value: true, want: true, wantFields: "1 f optional boolean"},
		{name: "int", typ: `"int"`, value: int32(-42), want: int64(-42), wantFields: "1 f optional int"},
		{name: "long", typ: `"long"`, value: int64(1) << 40, want: int64(1) << 40, wantFields: "1 f optional long"},
		{name: "float", typ: `"float"`, value: float32(1.5), want: 1.5, wantFields: "1 f optional float"},
		{name: "double", typ: `"double"`, value: -2.25, want: -2.25, wantFields: "1 f optional double"},
		{name: "string", typ: `"string"`, value: "grüße", want: "grüße", wantFields: "1 f optional string"},
		{name: "empty string", typ: `"string"`, value: "", want: "", wantFields: "1 f optional string"},
		{name: "bytes", typ: `"bytes"`, value: []byte{0, 1, 0xff}, want: []byte{0, 1, 0xff}, wantFields: "1 f optional binary"},
		{name: "empty bytes", typ: `"bytes"`, value: []byte{}, want: []byte{}, wantFields: "1 f optional binary"},
		{name: "fixed", typ: `{"type":"fixed","name":"Four","size":4}`, value: [4]byte{1, 2, 3, 4}, want: []byte{1, 2, 3, 4}, wantFields: "1 f optional binary"},
		{name: "duration fixed is binary", typ: `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`, value: [12]byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}, want: []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}, wantFields: "1 f optional binary"},
		{name: "enum", typ: `{"type":"enum","name":"Colour","symbols":["RED","GREEN","BLUE"]}`, value: "BLUE", want: "BLUE", wantFields: "1 f optional string"},
		{name: "decimal bytes", typ: `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, value: big.NewRat(12345, 100), want: rat("123.45"), wantFields: "1 f optional decimal(9, 2)"},
		{name: "negative decimal bytes", typ: `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, value: big.NewRat(-3, 2), want: rat("-1.5"), wantFields: "1 f optional decimal(9, 2)"},
		{name: "decimal bytes scale 0", typ: `{"type":"bytes","logicalType":"decimal","precision":38}`, value: rat("-99999999999999999999999999999999999999"), want: rat("-99999999999999999999999999999999999999"), wantFields: "1 f optional decimal(38, 0)"},
		{name: "decimal fixed", typ: `{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":18,"scale":4}`, value: rat("-0.0001"), want: rat("-0.0001"), wantFields: "1 f optional decimal(18, 4)"},
		{name: "date", typ: `{"type":"int","logicalType":"date"}`, value: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), want: utc(t, "2024-02-29T00:00:00Z"), wantFields: "1 f optional date"},
		{name: "date before 1970", typ: `{"type":"int","logicalType":"date"}`, value: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), want: utc(t, "1969-12-31T00:00:00Z"), wantFields: "1 f optional date"},
		{name: "time-millis in microseconds", typ: `{"type":"int","logicalType":"time-millis"}`, value: time.Hour + 2*time.Minute + 3*time.Second + 4*time.Millisecond, want: int64(3723004000), wantFields: "1 f optional long"},
		{name: "time-micros", typ: `{"type":"long","logicalType":"time-micros"}`, value: 23*time.Hour + 5*time.Microsecond, want: int64(82800000005), wantFields: "1 f optional long"},
		{name: "timestamp-millis", typ: `{"type":"long","logicalType":"timestamp-millis"}`, value: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.FixedZone("CEST", 7200)), want: utc(t, "2024-05-06T05:08:09.123Z"), wantFields: "1 f optional timestamptz"},
		{name: "timestamp-micros", typ: `{"type":"long","logicalType":"timestamp-micros"}`, value: time.Date(1960, 1, 2, 3, 4, 5, 678901e3, time.UTC), want: utc(t, "1960-01-02T03:04:05.678901Z"), wantFields: "1 f optional timestamptz"},
		{name: "local-timestamp-millis", typ: `{"type":"long","logicalType":"local-timestamp-millis"}`, value: time.Date(2024, 5, 6, 7, 8, 9, 5e6, time.UTC), want: utc(t, "2024-05-06T07:08:09.005Z"), wantFields: "1 f optional timestamptz"},
		{name: "local-timestamp-micros", typ: `{"type":"long","logicalType":"local-timestamp-micros"}`, value: time.Date(2024, 5, 6, 7, 8, 9, 5e3, time.UTC), want: utc(t, "2024-05-06T07:08:09.000005Z"), wantFields: "1 f optional timestamptz"},
		{name: "uuid", typ: `{"type":"string","logicalType":"uuid"}`, value: uuid, want: uuid, wantFields: "1 f optional string"},
		{name: "nullable null", typ: `["null","int"]`, value: nil, want: nil, wantFields: "1 f optional int"},
		{name: "nullable value", typ: `["null","int"]`, value: 7, want: int64(7), wantFields: "1 f optional int"},
		{name: "nullable with null second, value", typ: `["string","null"]`, value: "x", want: "x", wantFields: "1 f optional string"},
		{name: "nullable with null second, null", typ: `["string","null"]`, value: nil, want: nil, wantFields: "1 f optional string"},
		{name: "nullable timestamp", typ: `["null",{"type":"long","logicalType":"timestamp-millis"}]`, value: time.UnixMilli(1700000000123), want: time.UnixMilli(1700000000123).UTC(), wantFields: "1 f optional timestamptz"},
		{name: "nullable decimal", typ: `["null",{"type":"bytes","logicalType":"decimal","precision":5,"scale":1}]`, value: big.NewRat(5, 2), want: rat("2.5"), wantFields: "1 f optional decimal(5, 1)"},
		{name: "nullable record", typ: `["null",{"type":"record","name":"In","fields":[{"name":"a","type":"int"}]}]`, value: map[string]any{"test.In": map[string]any{"a": 3}}, want: map[string]any{"a": int64(3)}, wantFields: "2 f optional struct<1 a optional int>"},
		{name: "union of several types, string", typ: `["null","int","string"]`, value: map[string]any{"string": "x\"y"}, want: `"x\"y"`, wantFields: "1 f optional string"},
		{name: "union of several types, int", typ: `["null","int","string"]`, value: map[string]any{"int": 7}, want: "7", wantFields: "1 f optional string"},
		{name: "union of several types, null", typ: `["null","int","string"]`, value: nil, want: nil, wantFields: "1 f optional string"},
		{name: "union with null in the middle", typ: `["int","null","string"]`, value: map[string]any{"string": "s"}, want: `"s"`, wantFields: "1 f optional string"},
		{name: "union without null", typ: `["long","boolean"]`, value: map[string]any{"boolean": true}, want: "true", wantFields: "1 f optional string"},
		{name: "union of several types, record as JSON", typ: `["null","string",{"type":"record","name":"P","fields":[{"name":"x","type":"long"},{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}]`, value: map[string]any{"test.P": map[string]any{"x": int64(1), "d": big.NewRat(-1, 4), "t": time.UnixMilli(1500)}}, want: `{"d":-0.25,"t":"1970-01-01T00:00:01.5Z","x":1}`, wantFields: "1 f optional string"},
		{name: "union of several types, array and map as JSON", typ: `["null",{"type":"array","items":"int"},{"type":"map","values":"bytes"}]`, value: map[string]any{"map": map[string]any{"k": []byte("hi")}}, want: `{"k":"aGk="}`, wantFields: "1 f optional string"},
		{name: "nested record", typ: `{"type":"record","name":"Outer","fields":[{"name":"a","type":"int","doc":"the a"},{"name":"in","type":{"type":"record","name":"Inner","fields":[{"name":"s","type":"string"},{"name":"n","type":["null","double"]}]}}]}`,
			value:      map[string]any{"a": 1, "in": map[string]any{"s": "deep", "n": nil}},
			want:       map[string]any{"a": int64(1), "in": map[string]any{"s": "deep", "n": nil}},
			wantFields: "5 f optional struct<1 a optional int (the a), 4 in optional struct<2 s optional string, 3 n optional double>>"},
		{name: "array", typ: `{"type":"array","items":"long"}`, value: []any{int64(3), int64(-1), int64(0)}, want: []any{int64(3), int64(-1), int64(0)}, wantFields: "2 f optional list<1 element optional long>"},
		{name: "empty array", typ: `{"type":"array","items":"long"}`, value: []any{}, want: []any{}, wantFields: "2 f optional list<1 element optional long>"},
		{name: "array of records", typ: `{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}`,
			value:      []any{map[string]any{"sku": "a", "qty": 1}, map[string]any{"sku": "b", "qty": 2}},
			want:       []any{map[string]any{"sku": "a", "qty": int64(1)}, map[string]any{"sku": "b", "qty": int64(2)}},
			wantFields: "4 f optional list<3 element optional struct<1 sku optional string, 2 qty optional int>>"},
		{name: "array of nullables", typ: `{"type":"array","items":["null","string"]}`, value: []any{"a", nil}, want: []any{"a", nil}, wantFields: "2 f optional list<1 element optional string>"},
		{name: "map", typ: `{"type":"map","values":"long"}`, value: map[string]any{"only": int64(9)}, want: Map{{"only", int64(9)}}, wantFields: "3 f optional map<1 key string, 2 value optional long>"},
		{name: "empty map", typ: `{"type":"map","values":"long"}`, value: map[string]any{}, want: Map{}, wantFields: "3 f optional map<1 key string, 2 value optional long>"},
		{name: "map of arrays", typ: `{"type":"map","values":{"type":"array","items":"boolean"}}`, value: map[string]any{"k": []any{true, false}}, want: Map{{"k", []any{true, false}}}, wantFields: "4 f optional map<2 key string, 3 value optional list<1 element optional boolean>>"},
		{name: "named type reference", typ: `{"type":"record","name":"Pair","fields":[{"name":"a","type":{"type":"fixed","name":"Two","size":2}},{"name":"b","type":"Two"},{"name":"c","type":["null","Two"]}]}`,
			value:      map[string]any{"a": [2]byte{1, 2}, "b": [2]byte{3, 4}, "c": map[string]any{"test.Two": [2]byte{5, 6}}},
			want:       map[string]any{"a": []byte{1, 2}, "b": []byte{3, 4}, "c": []byte{5, 6}},
			wantFields: "4 f optional struct<1 a optional binary, 2 b optional binary, 3 c optional binary>"},
		{name: "named record used twice", typ: `{"type":"record","name":"Two","fields":[{"name":"x","type":{"type":"record","name":"P","fields":[{"name":"n","type":"int"}]}},{"name":"y","type":"P"}]}`,
			value:      map[string]any{"x": map[string]any{"n": 1}, "y": map[string]any{"n": 2}},
			want:       map[string]any{"x": map[string]any{"n": int64(1)}, "y": map[string]any{"n": int64(2)}},
			wantFields: "5 f optional struct<2 x optional struct<1 n optional int>, 4 y optional struct<3 n optional int>>"},
		{name: "schema reference", typ: `"com.acme.Address"`,
			refs:       map[string]string{"com.acme.Address": `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"},{"name":"zip","type":["null","string"]}]}`},
			value:      map[string]any{"city": "Lyon", "zip": "69001"},
			want:       map[string]any{"city": "Lyon", "zip": "69001"},
			wantFields: "3 f optional struct<1 city optional string, 2 zip optional string>"},
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			sc, d := avroDecoderOf(t, avroRecord(tc.typ), tc.refs)
			if got := describe(d.Fields()); got != tc.wantFields {
				t.Errorf("Fields = %s\nwant     %s", got, tc.wantFields)
			}
			checkIDs(t, d.Fields())
			payload, err := avro.Marshal(sc, map[string]any{"f": tc.value})
			if err != nil {
				t.Fatalf("avro.Marshal: %v", err)
			}
			got, err := d.Decode(payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if g, w := render(got), render(map[string]any{"f": tc.want}); g != w {
				t.Errorf("Decode = %s\nwant     %s", g, w)
			}
		})
	}
}
