package wire

import (
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

func TestAvroCorrupt(t *testing.T) {
	const rec = `{"type":"record","name":"R","fields":[
		{"name":"id","type":"long"},
		{"name":"name","type":"string"},
		{"name":"score","type":["null","int"]},
		{"name":"colour","type":{"type":"enum","name":"Colour","symbols":["RED","GREEN","BLUE"]}},
		{"name":"tags","type":{"type":"array","items":"string"}},
		{"name":"attrs","type":{"type":"map","values":"long"}},
		{"name":"in","type":{"type":"record","name":"In","fields":[{"name":"e","type":"Colour"},{"name":"any","type":["int","string","null"]}]}},
		{"name":"levels","type":{"type":"array","items":"Colour"}},
		{"name":"money","type":{"type":"fixed","name":"Money","size":4,"logicalType":"decimal","precision":9,"scale":2}}
	]}`
	// good is a valid payload: id 1, name "ab", score 5, colour GREEN, tags ["x"], attrs {"k": 2},
	// in {e: BLUE, any: 3}, levels [RED, BLUE], money 0.01.
	good := []byte{2, 4, 'a', 'b', 2, 10, 2, 2, 2, 'x', 0, 2, 2, 'k', 4, 0, 4, 0, 6, 4, 0, 4, 0, 0, 0, 0, 1}
	cases := []struct {
		name    string
		payload []byte
		wantErr string
	}{
		{name: "empty", payload: nil, wantErr: "field id: the Avro payload ends before the value"},
		{name: "cut inside a varint", payload: []byte{0x80}, wantErr: "field id: the Avro payload ends before the value"},
		{name: "string cut short", payload: []byte{2, 4, 'a'}, wantErr: "field name: the Avro payload ends before the value"},
		{name: "negative string length", payload: []byte{2, 3}, wantErr: "field name: avro: ReadSTRING: invalid string length"},
		{name: "bad union index", payload: []byte{2, 0, 4}, wantErr: "field score: union branch 2 is outside the union's 2 types"},
		{name: "negative union index", payload: []byte{2, 0, 1}, wantErr: "field score: union branch -1 is outside the union's 2 types"},
		{name: "union value cut short", payload: []byte{2, 0, 2}, wantErr: "field score: the Avro payload ends before the value"},
		{name: "bad enum index", payload: []byte{2, 0, 0, 6}, wantErr: "field colour: enum index 3 is outside the 3 symbols of Colour"},
		{name: "negative enum index", payload: []byte{2, 0, 0, 1}, wantErr: "field colour: enum index -1 is outside the 3 symbols of Colour"},
		{name: "array cut short", payload: []byte{2, 0, 0, 0, 4, 2, 'x'}, wantErr: "field tags[1]: the Avro payload ends before the value"},
		{name: "array without its end", payload: []byte{2, 0, 0, 0, 2, 2, 'x'}, wantErr: "field tags: the Avro payload ends before the value"},
		{name: "array of a huge count", payload: []byte{2, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, wantErr: "field tags: a block of 4611686018427387903 items is longer than the 13-byte payload"},
		{name: "map value cut short", payload: []byte{2, 0, 0, 0, 0, 2, 2, 'k'}, wantErr: "field attrs.k: the Avro payload ends before the value"},
		{name: "map of a huge count", payload: []byte{2, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f}, wantErr: "field attrs: a block of 2147483647 items is longer than the 10-byte payload"},
		{name: "bad enum in a nested record", payload: []byte{2, 0, 0, 0, 0, 0, 8}, wantErr: "field in.e: enum index 4 is outside the 3 symbols of Colour"},
		{name: "bad union index in a nested record", payload: []byte{2, 0, 0, 0, 0, 0, 0, 6}, wantErr: "field in.any: union branch 3 is outside the union's 3 types"},
		{name: "bad enum in the first array item", payload: []byte{2, 0, 0, 0, 0, 0, 0, 4, 4, 8, 0, 0}, wantErr: "field levels[0]: enum index 4 is outside the 3 symbols of Colour"},
		{name: "bad enum in a later array item", payload: []byte{2, 0, 0, 0, 0, 0, 0, 4, 4, 0, 10, 0}, wantErr: "field levels[1]: enum index 5 is outside the 3 symbols of Colour"},
		{name: "fixed cut short", payload: []byte{2, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0}, wantErr: "field money: the Avro payload ends before the value"},
	}
	p, err := schema.Parse(schema.Avro, rec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Decode(good)
	if err != nil {
		t.Fatalf("Decode of the valid payload: %v", err)
	}
	want := map[string]any{"id": int64(1), "name": "ab", "score": int64(5), "colour": "GREEN", "tags": []any{"x"},
		"attrs": Map{{"k", int64(2)}}, "in": map[string]any{"e": "BLUE", "any": "3"}, "levels": []any{"RED", "BLUE"}, "money": rat("0.01")}
	if render(got) != render(want) {
		t.Fatalf("Decode of the valid payload = %s\nwant %s", render(got), render(want))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(tc.payload)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Decode = %s, %v; want error %q", render(got), err, tc.wantErr)
			}
		})
	}
}

func TestAvroSchemaRefused(t *testing.T) {
	cases := []struct {
		name    string
		schema  string
		wantErr string
	}{
		{name: "top level not a record", schema: `"long"`, wantErr: "the schema is an Avro long, expected a record"},
		{name: "top level an array", schema: `{"type":"array","items":"int"}`, wantErr: "the schema is an Avro array, expected a record"},
		{name: "null field", schema: avroRecord(`"null"`), wantErr: "field f: a null type alone cannot be a column"},
		{name: "union of null only", schema: avroRecord(`["null"]`), wantErr: "field f: a null type alone cannot be a column"},
		{name: "array of null", schema: avroRecord(`{"type":"array","items":"null"}`), wantErr: "field f[]: a null type alone cannot be a column"},
		{name: "map of null in a record", schema: avroRecord(`{"type":"record","name":"In","fields":[{"name":"m","type":{"type":"map","values":"null"}}]}`), wantErr: "field f.m{}: a null type alone cannot be a column"},
		{name: "recursive record", schema: `{"type":"record","name":"Node","namespace":"t","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`, wantErr: "field next: record t.Node contains itself, which a table column cannot"},
		{name: "recursion through an array", schema: `{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}}]}`, wantErr: "field kids[]: record Tree contains itself, which a table column cannot"},
		{name: "recursion through another record", schema: avroRecord(`{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"m","type":{"type":"map","values":["null","A"]}}]}}]}`), wantErr: "field f.b.m{}: record test.A contains itself, which a table column cannot"},
		{name: "decimal over 38 digits", schema: avroRecord(`{"type":"bytes","logicalType":"decimal","precision":39,"scale":2}`), wantErr: "field f: decimal precision 39 is over Iceberg's 38"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := schema.Parse(schema.Avro, tc.schema, nil, nil)
			if err != nil {
				t.Fatalf("parsing: %v", err)
			}
			d, err := New(p)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("New = %v, %v; want error %q", d, err, tc.wantErr)
			}
		})
	}
}
