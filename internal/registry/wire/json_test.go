package wire

import (
	"fmt"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// jsonObject writes an object schema with one property f of schema prop (a JSON text), and more members.
func jsonObject(prop, more string) string {
	return fmt.Sprintf(`{"type":"object","properties":{"f":%s}%s}`, prop, more)
}

// jsonDecoderOf parses a JSON schema (with references resolved from refs, by name) and builds its decoder.
func jsonDecoderOf(t *testing.T, text string, refs map[string]string) Decoder {
	t.Helper()
	var list []schema.Reference
	for name := range refs {
		list = append(list, schema.Reference{Name: name, Subject: name, Version: 1})
	}
	p, err := schema.Parse(schema.JSON, text, list, func(r schema.Reference) (string, []schema.Reference, error) {
		return refs[r.Name], nil, nil
	})
	if err != nil {
		t.Fatalf("parsing the JSON schema: %v", err)
	}
	d, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func TestJSONSchema(t *testing.T) {
	cases := []struct {
		name       string
		schema     string
		refs       map[string]string
		payload    string
		want       map[string]any
		wantFields string
	}{
		{name: "string", schema: jsonObject(`{"type":"string"}`, ""), payload: `{"f":"x"}`, want: map[string]any{"f": "x"}, wantFields: "1 f optional string"},
		{name: "integer", schema: jsonObject(`{"type":"integer"}`, ""), payload: `{"f":-42}`, want: map[string]any{"f": int64(-42)}, wantFields: "1 f optional long"},
		{name: "integer written with a fraction", schema: jsonObject(`{"type":"integer"}`, ""), payload: `{"f":3.0}`, want: map[string]any{"f": int64(3)}, wantFields: "1 f optional long"},
		{name: "integer written with an exponent", schema: jsonObject(`{"type":"integer"}`, ""), payload: `{"f":1e3}`, want: map[string]any{"f": int64(1000)}, wantFields: "1 f optional long"},
		{name: "smallest integer", schema: jsonObject(`{"type":"integer"}`, ""), payload: `{"f":-9223372036854775808}`, want: map[string]any{"f": int64(-9223372036854775808)}, wantFields: "1 f optional long"},
		{name: "number", schema: jsonObject(`{"type":"number"}`, ""), payload: `{"f":2.5}`, want: map[string]any{"f": 2.5}, wantFields: "1 f optional double"},
		{name: "number written as an integer", schema: jsonObject(`{"type":"number"}`, ""), payload: `{"f":7}`, want: map[string]any{"f": 7.0}, wantFields: "1 f optional double"},
		{name: "boolean", schema: jsonObject(`{"type":"boolean"}`, ""), payload: `{"f":false}`, want: map[string]any{"f": false}, wantFields: "1 f optional boolean"},
		{name: "date-time", schema: jsonObject(`{"type":"string","format":"date-time"}`, ""), payload: `{"f":"2024-05-06T07:08:09.5+02:00"}`, want: map[string]any{"f": utc(t, "2024-05-06T05:08:09.5Z")}, wantFields: "1 f optional timestamptz"},
		{name: "date", schema: jsonObject(`{"type":"string","format":"date"}`, ""), payload: `{"f":"2024-02-29"}`, want: map[string]any{"f": utc(t, "2024-02-29T00:00:00Z")}, wantFields: "1 f optional date"},
		{name: "other formats are strings", schema: jsonObject(`{"type":"string","format":"email"}`, ""), payload: `{"f":"a@b.c"}`, want: map[string]any{"f": "a@b.c"}, wantFields: "1 f optional string"},
		{name: "nullable type, null", schema: jsonObject(`{"type":["integer","null"]}`, ""), payload: `{"f":null}`, want: map[string]any{"f": nil}, wantFields: "1 f optional long"},
		{name: "nullable type, value", schema: jsonObject(`{"type":["null","string"]}`, ""), payload: `{"f":"v"}`, want: map[string]any{"f": "v"}, wantFields: "1 f optional string"},
		{name: "absent property", schema: jsonObject(`{"type":"string"}`, `,"required":[]`), payload: `{}`, want: map[string]any{"f": nil}, wantFields: "1 f optional string"},
		{name: "unknown property dropped", schema: jsonObject(`{"type":"string"}`, ""), payload: `{"f":"x","g":1}`, want: map[string]any{"f": "x"}, wantFields: "1 f optional string"},
		{name: "untyped as JSON text", schema: jsonObject(`{}`, ""), payload: `{"f":{"b":[1,2.5,"x"],"a":null}}`, want: map[string]any{"f": `{"a":null,"b":[1,2.5,"x"]}`}, wantFields: "1 f optional string"},
		{name: "untyped string as JSON text", schema: jsonObject(`true`, ""), payload: `{"f":"x"}`, want: map[string]any{"f": `"x"`}, wantFields: "1 f optional string"},
		{name: "several types as JSON text", schema: jsonObject(`{"type":["string","integer"]}`, ""), payload: `{"f":12}`, want: map[string]any{"f": "12"}, wantFields: "1 f optional string"},
		{name: "oneOf as JSON text", schema: jsonObject(`{"oneOf":[{"type":"string"},{"type":"object","properties":{"n":{"type":"integer"}}}]}`, ""), payload: `{"f":{"n":1}}`, want: map[string]any{"f": `{"n":1}`}, wantFields: "1 f optional string"},
		{name: "enum without a type as JSON text", schema: jsonObject(`{"enum":["a","b"]}`, ""), payload: `{"f":"b"}`, want: map[string]any{"f": `"b"`}, wantFields: "1 f optional string"},
		{name: "nested object", schema: jsonObject(`{"type":"object","description":"where","properties":{"zip":{"type":"string","description":"postal code"},"city":{"type":"string"},"geo":{"type":"object","properties":{"lat":{"type":"number"}}}}}`, ""),
			payload:    `{"f":{"zip":"69001","city":"Lyon","geo":{"lat":45.76}}}`,
			want:       map[string]any{"f": map[string]any{"zip": "69001", "city": "Lyon", "geo": map[string]any{"lat": 45.76}}},
			wantFields: "5 f optional struct<1 city optional string, 3 geo optional struct<2 lat optional double>, 4 zip optional string (postal code)> (where)"},
		{name: "nested object with absent members", schema: jsonObject(`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}}}`, ""), payload: `{"f":{}}`,
			want: map[string]any{"f": map[string]any{"a": nil, "b": nil}}, wantFields: "3 f optional struct<1 a optional long, 2 b optional string>"},
		{name: "additionalProperties only is a map", schema: jsonObject(`{"type":"object","additionalProperties":{"type":"integer"}}`, ""), payload: `{"f":{"b":2,"a":1,"c":3}}`,
			want: map[string]any{"f": Map{{"a", int64(1)}, {"b", int64(2)}, {"c", int64(3)}}}, wantFields: "3 f optional map<1 key string, 2 value optional long>"},
		{name: "map of objects", schema: jsonObject(`{"type":"object","additionalProperties":{"type":"object","properties":{"n":{"type":"integer"}}}}`, ""), payload: `{"f":{"k":{"n":5}}}`,
			want: map[string]any{"f": Map{{"k", map[string]any{"n": int64(5)}}}}, wantFields: "4 f optional map<2 key string, 3 value optional struct<1 n optional long>>"},
		{name: "object without properties as JSON text", schema: jsonObject(`{"type":"object","additionalProperties":true}`, ""), payload: `{"f":{"x":1}}`, want: map[string]any{"f": `{"x":1}`}, wantFields: "1 f optional string"},
		{name: "array", schema: jsonObject(`{"type":"array","items":{"type":"string"}}`, ""), payload: `{"f":["b","a"]}`, want: map[string]any{"f": []any{"b", "a"}}, wantFields: "2 f optional list<1 element optional string>"},
		{name: "empty array", schema: jsonObject(`{"type":"array","items":{"type":"integer"}}`, ""), payload: `{"f":[]}`, want: map[string]any{"f": []any{}}, wantFields: "2 f optional list<1 element optional long>"},
		{name: "array of objects", schema: jsonObject(`{"type":"array","items":{"type":"object","properties":{"d":{"type":"string","format":"date"}}}}`, ""), payload: `{"f":[{"d":"2000-01-01"},{}]}`,
			want: map[string]any{"f": []any{map[string]any{"d": utc(t, "2000-01-01T00:00:00Z")}, map[string]any{"d": nil}}}, wantFields: "3 f optional list<2 element optional struct<1 d optional date>>"},
		{name: "array without items as JSON text", schema: jsonObject(`{"type":"array"}`, ""), payload: `{"f":[1,"a"]}`, want: map[string]any{"f": `[1,"a"]`}, wantFields: "1 f optional string"},
		{name: "$ref to definitions", schema: jsonObject(`{"$ref":"#/definitions/Money"}`, `,"definitions":{"Money":{"type":"object","properties":{"amount":{"type":"number"},"currency":{"type":"string"}}}}`),
			payload: `{"f":{"amount":9.99,"currency":"EUR"}}`, want: map[string]any{"f": map[string]any{"amount": 9.99, "currency": "EUR"}}, wantFields: "3 f optional struct<1 amount optional double, 2 currency optional string>"},
		{name: "$ref to $defs", schema: jsonObject(`{"type":"array","items":{"$ref":"#/$defs/when"}}`, `,"$defs":{"when":{"type":"string","format":"date-time"}}`),
			payload: `{"f":["2024-01-01T00:00:00Z"]}`, want: map[string]any{"f": []any{utc(t, "2024-01-01T00:00:00Z")}}, wantFields: "2 f optional list<1 element optional timestamptz>"},
		{name: "$ref through $ref", schema: jsonObject(`{"$ref":"#/definitions/a"}`, `,"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"type":"integer"}}`),
			payload: `{"f":1}`, want: map[string]any{"f": int64(1)}, wantFields: "1 f optional long"},
		{name: "$ref to a referenced schema", schema: jsonObject(`{"$ref":"address.json"}`, ""),
			refs:    map[string]string{"address.json": `{"type":"object","properties":{"city":{"type":"string"}}}`},
			payload: `{"f":{"city":"Lyon"}}`, want: map[string]any{"f": map[string]any{"city": "Lyon"}}, wantFields: "2 f optional struct<1 city optional string>"},
		{name: "$ref into a referenced schema", schema: jsonObject(`{"$ref":"common.json#/definitions/qty"}`, ""),
			refs:    map[string]string{"common.json": `{"definitions":{"qty":{"type":"integer","minimum":0}}}`},
			payload: `{"f":4}`, want: map[string]any{"f": int64(4)}, wantFields: "1 f optional long"},
		{name: "properties sorted by name", schema: `{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"integer"},"m":{"type":"boolean"}}}`,
			payload: `{"z":"last","a":1,"m":true}`, want: map[string]any{"a": int64(1), "m": true, "z": "last"}, wantFields: "1 a optional long, 2 m optional boolean, 3 z optional string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := jsonDecoderOf(t, tc.schema, tc.refs)
			if got := describe(d.Fields()); got != tc.wantFields {
				t.Errorf("Fields = %s\nwant     %s", got, tc.wantFields)
			}
			checkIDs(t, d.Fields())
			got, err := d.Decode([]byte(tc.payload))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if g, w := render(got), render(tc.want); g != w {
				t.Errorf("Decode = %s\nwant     %s", g, w)
			}
		})
	}
}

func TestJSONSchemaRejects(t *testing.T) {
	const s = `{"type":"object","required":["id"],"properties":{
		"id":{"type":"integer","minimum":1},
		"name":{"type":"string","maxLength":3},
		"at":{"type":"string","format":"date-time"},
		"day":{"type":"string","format":"date"},
		"big":{"type":"integer"},
		"tags":{"type":"array","items":{"type":"string"}}
	}}`
	d := jsonDecoderOf(t, s, nil)
	cases := []struct {
		name    string
		payload string
		wantErr string
	}{
		{name: "wrong type", payload: `{"id":"seven"}`, wantErr: "the JSON payload does not match its schema: at /id: got string, want integer"},
		{name: "missing required", payload: `{"name":"x"}`, wantErr: "the JSON payload does not match its schema: at /: missing property 'id'"},
		{name: "below minimum", payload: `{"id":0}`, wantErr: "the JSON payload does not match its schema: at /id: minimum: got 0, want 1"},
		{name: "two failures", payload: `{"id":0,"name":"long"}`, wantErr: "the JSON payload does not match its schema: at /id: minimum: got 0, want 1; at /name: maxLength: got 4, want 3"},
		{name: "array item", payload: `{"id":1,"tags":["a",2]}`, wantErr: "the JSON payload does not match its schema: at /tags/1: got number, want string"},
		{name: "not an object", payload: `[1]`, wantErr: "the JSON payload does not match its schema: at /: got array, want object"},
		{name: "not JSON", payload: `{"id":`, wantErr: "the JSON payload does not parse: unexpected EOF"},
		{name: "empty", payload: ``, wantErr: "the JSON payload does not parse: EOF"},
		{name: "bad date-time", payload: `{"id":1,"at":"yesterday"}`, wantErr: "the JSON payload does not match its schema: at /at: 'yesterday' is not valid date-time: less than 20 characters long"},
		{name: "bad date", payload: `{"id":1,"day":"2024-13-01"}`, wantErr: `the JSON payload does not match its schema: at /day: '2024-13-01' is not valid date: parsing time "2024-13-01": month out of range`},
		{name: "integer over 64 bits", payload: `{"id":1,"big":1e30}`, wantErr: "field big: 1e30 is not an integer that fits 64 bits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode([]byte(tc.payload))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Decode = %s, %v; want error %q", render(got), err, tc.wantErr)
			}
		})
	}
}

// TestJSONSchemaUnassertedFormats decodes with a draft 2020-12 schema, where format is an annotation: the
// payload validates, and the conversion reports a value that is no date.
func TestJSONSchemaUnassertedFormats(t *testing.T) {
	d := jsonDecoderOf(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{
		"at":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},
		"in":{"type":"object","properties":{"days":{"type":"array","items":{"type":"string","format":"date"}}}}}}`, nil)
	cases := []struct {
		name    string
		payload string
		want    map[string]any
		wantErr string
	}{
		{name: "valid", payload: `{"at":"2024-01-02T03:04:05Z","day":"2024-01-02"}`, want: map[string]any{"at": utc(t, "2024-01-02T03:04:05Z"), "day": utc(t, "2024-01-02T00:00:00Z"), "in": nil}},
		{name: "bad date-time", payload: `{"at":"yesterday"}`, wantErr: `field at: "yesterday" is not an RFC 3339 date-time`},
		{name: "bad date", payload: `{"day":"2024-13-01"}`, wantErr: `field day: "2024-13-01" is not a date (YYYY-MM-DD)`},
		{name: "bad date in a nested list", payload: `{"in":{"days":["2024-01-01","1 May"]}}`, wantErr: `field in.days[1]: "1 May" is not a date (YYYY-MM-DD)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode([]byte(tc.payload))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Decode = %s, %v; want error %q", render(got), err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if g, w := render(got), render(tc.want); g != w {
				t.Errorf("Decode = %s\nwant     %s", g, w)
			}
		})
	}
}

func TestJSONSchemaRefused(t *testing.T) {
	const notObject = "the JSON schema does not describe an object with properties; a table needs named fields"
	cases := []struct {
		name    string
		schema  string
		wantErr string
	}{
		{name: "string", schema: `{"type":"string"}`, wantErr: notObject},
		{name: "array", schema: `{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"}}}}`, wantErr: notObject},
		{name: "object without properties", schema: `{"type":"object"}`, wantErr: notObject},
		{name: "map", schema: `{"type":"object","additionalProperties":{"type":"string"}}`, wantErr: notObject},
		{name: "untyped", schema: `{}`, wantErr: notObject},
		{name: "recursive", schema: `{"type":"object","properties":{"child":{"$ref":"#"}}}`, wantErr: "field child.child.child.child.child.child.child.child.child.child.child.child.child.child.child.child.child: the schema nests or refers deeper than 32 levels, which a table column cannot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := schema.Parse(schema.JSON, tc.schema, nil, nil)
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
