package wire

import (
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// fuzzAvroSchema has a field of every kind the Avro decoder reads.
const fuzzAvroSchema = `{"type":"record","name":"F","fields":[
	{"name":"b","type":"boolean"},
	{"name":"i","type":"int"},
	{"name":"s","type":"string"},
	{"name":"by","type":"bytes"},
	{"name":"fx","type":{"type":"fixed","name":"Fx","size":3}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"u","type":["null","int","string",{"type":"array","items":"E"}]},
	{"name":"arr","type":{"type":"array","items":{"type":"record","name":"Empty","fields":[]}}},
	{"name":"m","type":{"type":"map","values":["null",{"type":"map","values":"double"}]}},
	{"name":"r","type":{"type":"record","name":"In","fields":[{"name":"f","type":"float"},{"name":"l","type":{"type":"array","items":"Fx"}}]}}
]}`

// fuzzProtoSchema has a field of every kind the Protobuf decoder reads, and several messages for indexes.
const fuzzProtoSchema = `syntax = "proto3";
package fz;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message M {
  int32 a = 1; uint64 b = 2; sint64 c = 3; fixed64 d = 4; float e = 5; bool f = 6; string g = 7; bytes h = 8;
  E en = 9; Inner in = 10; repeated Inner ins = 11; map<int32, Inner> mi = 12; map<string, string> ms = 13;
  oneof o { string x = 14; Inner y = 15; }
  optional int64 opt = 16;
  google.protobuf.Timestamp ts = 17; google.protobuf.UInt64Value w = 18;
  repeated sint32 packed = 19;
  message Inner { repeated double v = 1; map<bool, E> be = 2; }
}
enum E { Z = 0; O = 1; }
message N { string s = 1; }
`

func FuzzAvroDecode(f *testing.F) {
	p, err := schema.Parse(schema.Avro, fuzzAvroSchema, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	d, err := New(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 2, 'a', 0, 1, 2, 3, 2, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 2, 'a', 0, 1, 2, 3, 2, 0, 0, 6, 1, 2, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := d.Decode(b)
		if err == nil && len(rec) != 12 {
			t.Fatalf("Decode returned %d fields, want 12", len(rec))
		}
	})
}

func FuzzProtobufDecode(f *testing.F) {
	p, err := schema.Parse(schema.Protobuf, fuzzProtoSchema, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	d, err := New(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0, 8, 1, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{2, 2, 0x0a, 1, 'x'})
	f.Add([]byte{0x52, 2, 0x0a, 0})
	f.Add([]byte{0x62, 6, 8, 5, 0x12, 2, 0x10, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := d.Decode(b)
		if err == nil && len(rec) != 19 {
			t.Fatalf("Decode returned %d fields, want 19", len(rec))
		}
	})
}

func FuzzJSONDecode(f *testing.F) {
	p, err := schema.Parse(schema.JSON, `{"type":"object","required":["id"],"properties":{
		"id":{"type":"integer","minimum":0},"at":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},
		"n":{"type":["number","null"]},"any":{},"m":{"type":"object","additionalProperties":{"type":"array","items":{"type":"boolean"}}},
		"o":{"type":"object","properties":{"s":{"type":"string","maxLength":4}}}}}`, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	d, err := New(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"id":1,"at":"2024-01-01T00:00:00Z","day":"2024-01-01","n":1.5,"any":[1],"m":{"k":[true]},"o":{"s":"abc"}}`))
	f.Add([]byte(`{"id":-1,"o":{"s":"abcdef"},"m":{"k":[1]}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := d.Decode(b)
		if err == nil && len(rec) != 7 {
			t.Fatalf("Decode returned %d fields, want 7", len(rec))
		}
	})
}
