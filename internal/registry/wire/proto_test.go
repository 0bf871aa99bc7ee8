package wire

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// protoFile writes a proto3 file of package shop whose first message M has the fields body, followed by
// more declarations.
func protoFile(body, more string) string {
	return `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message M {
` + body + `
}
enum Status { UNKNOWN = 0; PAID = 1; SHIPPED = 2; }
message Item { string sku = 1; int32 qty = 2; }
` + more
}

// protoDecoderOf parses a .proto text and builds its decoder.
func protoDecoderOf(t *testing.T, text string) (protoreflect.FileDescriptor, Decoder) {
	t.Helper()
	p, err := schema.Parse(schema.Protobuf, text, nil, nil)
	if err != nil {
		t.Fatalf("parsing the Protobuf schema: %v", err)
	}
	d, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return schema.ProtoOf(p), d
}

// protoPayload encodes a message of md given in Protobuf's JSON form with dynamicpb.
func protoPayload(t *testing.T, md protoreflect.MessageDescriptor, jsonText string) []byte {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(jsonText), m); err != nil {
		t.Fatalf("protojson.Unmarshal(%s): %v", jsonText, err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("proto.Marshal: %v", err)
	}
	return b
}

// protoRest frames payload as Confluent's serializer does and returns the bytes after the schema id.
func protoRest(t *testing.T, indexes []int, payload []byte) []byte {
	t.Helper()
	_, rest, err := Split(Frame(1, indexes, payload))
	if err != nil {
		t.Fatal(err)
	}
	return rest
}

func TestProtobuf(t *testing.T) {
	cases := []struct {
		name       string
		body       string // the fields of message M
		json       string // the message, in Protobuf's JSON form
		want       map[string]any
		wantFields string
	}{
		{name: "int32", body: "int32 v = 1;", json: `{"v":-5}`, want: map[string]any{"v": int64(-5)}, wantFields: "1 v optional int"},
		{name: "int64", body: "int64 v = 1;", json: `{"v":"-9007199254740993"}`, want: map[string]any{"v": int64(-9007199254740993)}, wantFields: "1 v optional long"},
		{name: "uint32", body: "uint32 v = 1;", json: `{"v":4294967295}`, want: map[string]any{"v": int64(4294967295)}, wantFields: "1 v optional long"},
		{name: "uint64 beyond int64", body: "uint64 v = 1;", json: `{"v":"18446744073709551615"}`, want: map[string]any{"v": rat("18446744073709551615")}, wantFields: "1 v optional decimal(20, 0)"},
		{name: "sint32", body: "sint32 v = 1;", json: `{"v":-2147483648}`, want: map[string]any{"v": int64(-2147483648)}, wantFields: "1 v optional int"},
		{name: "sint64", body: "sint64 v = 1;", json: `{"v":"-9223372036854775808"}`, want: map[string]any{"v": int64(-9223372036854775808)}, wantFields: "1 v optional long"},
		{name: "fixed32", body: "fixed32 v = 1;", json: `{"v":4000000000}`, want: map[string]any{"v": int64(4000000000)}, wantFields: "1 v optional long"},
		{name: "fixed64", body: "fixed64 v = 1;", json: `{"v":"10000000000000000000"}`, want: map[string]any{"v": rat("10000000000000000000")}, wantFields: "1 v optional decimal(20, 0)"},
		{name: "sfixed32", body: "sfixed32 v = 1;", json: `{"v":-7}`, want: map[string]any{"v": int64(-7)}, wantFields: "1 v optional int"},
		{name: "sfixed64", body: "sfixed64 v = 1;", json: `{"v":"-7"}`, want: map[string]any{"v": int64(-7)}, wantFields: "1 v optional long"},
		{name: "float", body: "float v = 1;", json: `{"v":1.5}`, want: map[string]any{"v": 1.5}, wantFields: "1 v optional float"},
		{name: "double", body: "double v = 1;", json: `{"v":-0.1}`, want: map[string]any{"v": -0.1}, wantFields: "1 v optional double"},
		{name: "bool", body: "bool v = 1;", json: `{"v":true}`, want: map[string]any{"v": true}, wantFields: "1 v optional boolean"},
		{name: "string", body: "string v = 1;", json: `{"v":"naïve"}`, want: map[string]any{"v": "naïve"}, wantFields: "1 v optional string"},
		{name: "bytes", body: "bytes v = 1;", json: `{"v":"AAH/"}`, want: map[string]any{"v": []byte{0, 1, 0xff}}, wantFields: "1 v optional binary"},
		{name: "proto3 defaults", body: "int32 i = 1; string s = 2; bool b = 3; double d = 4; uint64 u = 5; Status st = 6;", json: `{}`,
			want:       map[string]any{"i": int64(0), "s": "", "b": false, "d": 0.0, "u": rat("0"), "st": "UNKNOWN"},
			wantFields: "1 i optional int, 2 s optional string, 3 b optional boolean, 4 d optional double, 5 u optional decimal(20, 0), 6 st optional string"},
		{name: "enum", body: "Status v = 1;", json: `{"v":"SHIPPED"}`, want: map[string]any{"v": "SHIPPED"}, wantFields: "1 v optional string"},
		{name: "enum of an unknown number", body: "Status v = 1;", json: `{"v":9}`, want: map[string]any{"v": "9"}, wantFields: "1 v optional string"},
		{name: "enum of a negative unknown number", body: "Status v = 1;", json: `{"v":-3}`, want: map[string]any{"v": "-3"}, wantFields: "1 v optional string"},
		{name: "nested message", body: "Item item = 1; string note = 2;", json: `{"item":{"sku":"A-1","qty":3},"note":"n"}`,
			want:       map[string]any{"item": map[string]any{"sku": "A-1", "qty": int64(3)}, "note": "n"},
			wantFields: "3 item optional struct<1 sku optional string, 2 qty optional int>, 4 note optional string"},
		{name: "nested message unset", body: "Item item = 1;", json: `{}`, want: map[string]any{"item": nil}, wantFields: "3 item optional struct<1 sku optional string, 2 qty optional int>"},
		{name: "nested message set empty", body: "Item item = 1;", json: `{"item":{}}`, want: map[string]any{"item": map[string]any{"sku": "", "qty": int64(0)}}, wantFields: "3 item optional struct<1 sku optional string, 2 qty optional int>"},
		{name: "message declared inside", body: "message Line { int64 n = 1; Status s = 2; } Line line = 1;", json: `{"line":{"n":"8","s":"PAID"}}`,
			want: map[string]any{"line": map[string]any{"n": int64(8), "s": "PAID"}}, wantFields: "3 line optional struct<1 n optional long, 2 s optional string>"},
		{name: "repeated", body: "repeated int32 v = 1;", json: `{"v":[3,1,2]}`, want: map[string]any{"v": []any{int64(3), int64(1), int64(2)}}, wantFields: "2 v optional list<1 element optional int>"},
		{name: "repeated empty", body: "repeated string v = 1;", json: `{}`, want: map[string]any{"v": []any{}}, wantFields: "2 v optional list<1 element optional string>"},
		{name: "repeated messages", body: "repeated Item v = 1;", json: `{"v":[{"sku":"a"},{"qty":2}]}`,
			want:       map[string]any{"v": []any{map[string]any{"sku": "a", "qty": int64(0)}, map[string]any{"sku": "", "qty": int64(2)}}},
			wantFields: "4 v optional list<3 element optional struct<1 sku optional string, 2 qty optional int>>"},
		{name: "repeated enums", body: "repeated Status v = 1;", json: `{"v":["PAID",7]}`, want: map[string]any{"v": []any{"PAID", "7"}}, wantFields: "2 v optional list<1 element optional string>"},
		{name: "map with string keys, sorted", body: "map<string, int64> v = 1;", json: `{"v":{"b":"2","c":"3","a":"1"}}`,
			want: map[string]any{"v": Map{{"a", int64(1)}, {"b", int64(2)}, {"c", int64(3)}}}, wantFields: "3 v optional map<1 key string, 2 value optional long>"},
		{name: "map with int keys, sorted as numbers", body: "map<int32, string> v = 1;", json: `{"v":{"10":"ten","2":"two","-1":"minus one"}}`,
			want: map[string]any{"v": Map{{int64(-1), "minus one"}, {int64(2), "two"}, {int64(10), "ten"}}}, wantFields: "3 v optional map<1 key int, 2 value optional string>"},
		{name: "map with uint64 keys, sorted as numbers", body: "map<uint64, bool> v = 1;", json: `{"v":{"18446744073709551615":true,"9":false}}`,
			want: map[string]any{"v": Map{{rat("9"), false}, {rat("18446744073709551615"), true}}}, wantFields: "3 v optional map<1 key decimal(20, 0), 2 value optional boolean>"},
		{name: "map with bool keys", body: "map<bool, string> v = 1;", json: `{"v":{"true":"y","false":"n"}}`,
			want: map[string]any{"v": Map{{false, "n"}, {true, "y"}}}, wantFields: "3 v optional map<1 key boolean, 2 value optional string>"},
		{name: "map of messages", body: "map<string, Item> v = 1;", json: `{"v":{"x":{"qty":1}}}`,
			want:       map[string]any{"v": Map{{"x", map[string]any{"sku": "", "qty": int64(1)}}}},
			wantFields: "5 v optional map<3 key string, 4 value optional struct<1 sku optional string, 2 qty optional int>>"},
		{name: "map empty", body: "map<string, string> v = 1;", json: `{}`, want: map[string]any{"v": Map{}}, wantFields: "3 v optional map<1 key string, 2 value optional string>"},
		{name: "oneof, scalar set", body: "oneof pay { string card = 1; Item voucher = 2; int32 points = 3; }", json: `{"card":"visa"}`,
			want:       map[string]any{"card": "visa", "voucher": nil, "points": nil},
			wantFields: "1 card optional string, 4 voucher optional struct<2 sku optional string, 3 qty optional int>, 5 points optional int"},
		{name: "oneof, message set", body: "oneof pay { string card = 1; Item voucher = 2; int32 points = 3; }", json: `{"voucher":{"sku":"V"}}`,
			want:       map[string]any{"card": nil, "voucher": map[string]any{"sku": "V", "qty": int64(0)}, "points": nil},
			wantFields: "1 card optional string, 4 voucher optional struct<2 sku optional string, 3 qty optional int>, 5 points optional int"},
		{name: "oneof, zero set", body: "oneof pay { string card = 1; int32 points = 2; }", json: `{"points":0}`,
			want: map[string]any{"card": nil, "points": int64(0)}, wantFields: "1 card optional string, 2 points optional int"},
		{name: "oneof with a timestamp", body: "oneof when { google.protobuf.Timestamp at = 1; string never = 2; }", json: `{"at":"2020-02-02T02:02:02Z"}`,
			want: map[string]any{"at": utc(t, "2020-02-02T02:02:02Z"), "never": nil}, wantFields: "1 at optional timestamptz, 2 never optional string"},
		{name: "proto3 optional absent", body: "optional int32 v = 1; optional string s = 2;", json: `{}`, want: map[string]any{"v": nil, "s": nil}, wantFields: "1 v optional int, 2 s optional string"},
		{name: "proto3 optional zero", body: "optional int32 v = 1; optional string s = 2;", json: `{"v":0,"s":""}`, want: map[string]any{"v": int64(0), "s": ""}, wantFields: "1 v optional int, 2 s optional string"},
		{name: "timestamp", body: "google.protobuf.Timestamp v = 1;", json: `{"v":"2024-05-06T07:08:09.123456789Z"}`, want: map[string]any{"v": utc(t, "2024-05-06T07:08:09.123456789Z")}, wantFields: "1 v optional timestamptz"},
		{name: "timestamp before 1970", body: "google.protobuf.Timestamp v = 1;", json: `{"v":"1969-12-31T23:59:59.5Z"}`, want: map[string]any{"v": utc(t, "1969-12-31T23:59:59.5Z")}, wantFields: "1 v optional timestamptz"},
		{name: "timestamp unset", body: "google.protobuf.Timestamp v = 1;", json: `{}`, want: map[string]any{"v": nil}, wantFields: "1 v optional timestamptz"},
		{name: "repeated timestamps", body: "repeated google.protobuf.Timestamp v = 1;", json: `{"v":["1970-01-01T00:00:01Z"]}`, want: map[string]any{"v": []any{utc(t, "1970-01-01T00:00:01Z")}}, wantFields: "2 v optional list<1 element optional timestamptz>"},
		{name: "map of timestamps", body: "map<string, google.protobuf.Timestamp> v = 1;", json: `{"v":{"k":"2000-01-01T00:00:00Z"}}`, want: map[string]any{"v": Map{{"k", utc(t, "2000-01-01T00:00:00Z")}}}, wantFields: "3 v optional map<1 key string, 2 value optional timestamptz>"},
		{name: "wrappers set", body: "google.protobuf.Int32Value i = 1; google.protobuf.StringValue s = 2; google.protobuf.BoolValue b = 3; google.protobuf.UInt64Value u = 4; google.protobuf.DoubleValue d = 5; google.protobuf.BytesValue by = 6; google.protobuf.Int64Value l = 7; google.protobuf.UInt32Value u32 = 8; google.protobuf.FloatValue f = 9;",
			json:       `{"i":0,"s":"","b":false,"u":"18446744073709551615","d":2.5,"by":"AQ==","l":"-1","u32":4294967295,"f":0.5}`,
			want:       map[string]any{"i": int64(0), "s": "", "b": false, "u": rat("18446744073709551615"), "d": 2.5, "by": []byte{1}, "l": int64(-1), "u32": int64(4294967295), "f": 0.5},
			wantFields: "1 i optional int, 2 s optional string, 3 b optional boolean, 4 u optional decimal(20, 0), 5 d optional double, 6 by optional binary, 7 l optional long, 8 u32 optional long, 9 f optional float"},
		{name: "wrappers unset", body: "google.protobuf.Int32Value i = 1; google.protobuf.StringValue s = 2;", json: `{}`, want: map[string]any{"i": nil, "s": nil}, wantFields: "1 i optional int, 2 s optional string"},
		{name: "repeated wrappers", body: "repeated google.protobuf.StringValue v = 1;", json: `{"v":["a",""]}`, want: map[string]any{"v": []any{"a", ""}}, wantFields: "2 v optional list<1 element optional string>"},
		{name: "deep nesting", body: "message A { message B { repeated Item items = 1; } B b = 1; map<string, B> bs = 2; } A a = 1;", json: `{"a":{"b":{"items":[{"sku":"s"}]},"bs":{"k":{}}}}`,
			want: map[string]any{"a": map[string]any{
				"b":  map[string]any{"items": []any{map[string]any{"sku": "s", "qty": int64(0)}}},
				"bs": Map{{"k", map[string]any{"items": []any{}}}},
			}},
			wantFields: "13 a optional struct<5 b optional struct<4 items optional list<3 element optional struct<1 sku optional string, 2 qty optional int>>>, " +
				"12 bs optional map<10 key string, 11 value optional struct<9 items optional list<8 element optional struct<6 sku optional string, 7 qty optional int>>>>>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd, d := protoDecoderOf(t, protoFile(tc.body, ""))
			if got := describe(d.Fields()); got != tc.wantFields {
				t.Errorf("Fields = %s\nwant     %s", got, tc.wantFields)
			}
			checkIDs(t, d.Fields())
			payload := protoPayload(t, fd.Messages().ByName("M"), tc.json)
			for _, framing := range []struct {
				name string
				rest []byte
			}{
				{"indexes [0]", protoRest(t, []int{0}, payload)},
				{"indexes [0] written in full", append([]byte{2, 0}, payload...)},
				{"no indexes", protoRest(t, nil, payload)},
			} {
				got, err := d.Decode(framing.rest)
				if err != nil {
					t.Fatalf("%s: Decode: %v", framing.name, err)
				}
				if g, w := render(got), render(tc.want); g != w {
					t.Errorf("%s: Decode = %s\nwant     %s", framing.name, g, w)
				}
			}
		})
	}
}

func TestProtobufMessageIndexes(t *testing.T) {
	text := protoFile("string s = 1; message Inner { int32 x = 1; }", "message Other { int32 y = 1; }")
	fd, d := protoDecoderOf(t, text)
	payload := protoPayload(t, fd.Messages().ByName("M"), `{"s":"hello"}`)
	cases := []struct {
		name    string
		rest    []byte
		want    map[string]any
		wantErr string
	}{
		{name: "first message", rest: protoRest(t, []int{0}, payload), want: map[string]any{"s": "hello"}},
		{name: "no indexes", rest: payload, want: map[string]any{"s": "hello"}},
		{name: "no indexes, empty message", rest: []byte{}, want: map[string]any{"s": ""}},
		{name: "first message, empty", rest: []byte{0}, want: map[string]any{"s": ""}},
		{name: "second message", rest: protoRest(t, []int{1}, payload), wantErr: "the message indexes [1] name message shop.Item; the table follows shop.M, the schema's first message"},
		{name: "nested message", rest: protoRest(t, []int{0, 0}, payload), wantErr: "the message indexes [0 0] name message shop.M.Inner; the table follows shop.M, the schema's first message"},
		{name: "third message", rest: protoRest(t, []int{2}, payload), wantErr: "the message indexes [2] name message shop.Other; the table follows shop.M, the schema's first message"},
		{name: "index outside the file", rest: protoRest(t, []int{3}, payload), wantErr: "message index 3 at depth 0 is outside the 3 messages there"},
		{name: "nested index outside", rest: protoRest(t, []int{0, 1}, payload), wantErr: "message index 1 at depth 1 is outside the 1 messages there"},
		{name: "negative count", rest: []byte{1, 0x0a}, wantErr: "not in the schema registry wire format: -1 Protobuf message indexes, expected 0 to 100"},
		{name: "indexes cut short", rest: []byte{4, 2}, wantErr: "not in the schema registry wire format: Protobuf message index 2 of 2 is cut short or negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(tc.rest)
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

func TestProtobufCorrupt(t *testing.T) {
	_, d := protoDecoderOf(t, protoFile("string s = 1; int64 n = 2;", ""))
	cases := []struct {
		name       string
		rest       []byte
		wantPrefix string
		wantIn     string
	}{
		{name: "string cut short", rest: []byte{0, 0x0a, 5, 'a'}, wantPrefix: "Protobuf payload of shop.M: ", wantIn: "cannot parse invalid wire-format data"},
		{name: "varint cut short", rest: []byte{0, 0x10, 0xff}, wantPrefix: "Protobuf payload of shop.M: ", wantIn: "cannot parse invalid wire-format data"},
		{name: "invalid UTF-8 in a string", rest: []byte{0, 0x0a, 1, 0xff}, wantPrefix: "Protobuf payload of shop.M: ", wantIn: "invalid UTF-8"},
		// A count of 4 is the byte 0x08, the tag of field 1: indexes that name no message are read as a payload.
		{name: "four indexes naming no message", rest: []byte{8, 0, 0, 0, 0, 0x0a, 1, 'x'}, wantPrefix: "Protobuf payload of shop.M: ", wantIn: "cannot parse invalid wire-format data"},
		{name: "field number 0 without indexes", rest: []byte{0x0a - 8, 1}, wantPrefix: "not in the schema registry wire format: ", wantIn: "Protobuf message index 1 of 1 is cut short or negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(tc.rest)
			// The protobuf library's own messages vary in spacing on purpose; the part before is exact.
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantPrefix) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("Decode = %s, %v; want an error starting %q containing %q", render(got), err, tc.wantPrefix, tc.wantIn)
			}
		})
	}
}

func TestProtobufSchemaRefused(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		wantErr string
	}{
		{name: "recursive message", text: `syntax = "proto3"; package shop; message Node { string name = 1; repeated Node children = 2; }`,
			wantErr: "field children: message shop.Node contains itself, which a table column cannot"},
		{name: "recursion through another message", text: `syntax = "proto3"; package shop; message A { int32 x = 1; B b = 2; } message B { A a = 1; }`,
			wantErr: "field b.a: message shop.A contains itself, which a table column cannot"},
		{name: "recursion in a nested message", text: `syntax = "proto3"; package shop; message M { Tree t = 1; } message Tree { map<string, Tree> kids = 1; }`,
			wantErr: "field t.kids.value: message shop.Tree contains itself, which a table column cannot"},
		{name: "no message", text: `syntax = "proto3"; package shop; enum E { A = 0; }`, wantErr: "the Protobuf schema declares no message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := schema.Parse(schema.Protobuf, tc.text, nil, nil)
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

// TestProtobuf2 decodes proto2 messages: optional fields have presence (absent is nil, whatever their
// default), required ones are read, groups are structs.
func TestProtobuf2(t *testing.T) {
	text := `syntax = "proto2";
package old;
message M {
  required int64 id = 1;
  optional int32 n = 2 [default = 5];
  optional string s = 3;
  repeated int32 r = 4;
  optional group G = 5 { optional string g = 6; }
  optional Kind k = 7 [default = B];
}
enum Kind { A = 1; B = 2; }
`
	fd, d := protoDecoderOf(t, text)
	const wantFields = "1 id optional long, 2 n optional int, 3 s optional string, 5 r optional list<4 element optional int>, 7 g optional struct<6 g optional string>, 8 k optional string"
	if got := describe(d.Fields()); got != wantFields {
		t.Errorf("Fields = %s\nwant     %s", got, wantFields)
	}
	cases := []struct {
		name string
		json string
		want map[string]any
	}{
		{name: "only the required field", json: `{"id":"3"}`, want: map[string]any{"id": int64(3), "n": nil, "s": nil, "r": []any{}, "g": nil, "k": nil}},
		{name: "every field", json: `{"id":"3","n":0,"s":"","r":[1],"g":{"g":"x"},"k":"A"}`,
			want: map[string]any{"id": int64(3), "n": int64(0), "s": "", "r": []any{int64(1)}, "g": map[string]any{"g": "x"}, "k": "A"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Decode(protoRest(t, []int{0}, protoPayload(t, fd.Messages().ByName("M"), tc.json)))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if g, w := render(got), render(tc.want); g != w {
				t.Errorf("Decode = %s\nwant     %s", g, w)
			}
		})
	}
	t.Run("required field missing", func(t *testing.T) {
		got, err := d.Decode([]byte{0})
		if err == nil || !strings.HasPrefix(err.Error(), "Protobuf payload of old.M: ") || !strings.Contains(err.Error(), "required field old.M.id not set") {
			t.Fatalf("Decode = %s, %v; want the missing required field old.M.id", render(got), err)
		}
	})
}
