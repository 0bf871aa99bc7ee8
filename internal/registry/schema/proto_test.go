package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	pGuide          = "Protocol Buffers language guide, updating a message type: "
	confProto       = "Confluent, Protobuf compatibility rules: "
	pFieldAdded     = confProto + "adding a field is compatible (FIELD_ADDED)"
	pFieldRemoved   = confProto + "removing a field is compatible (FIELD_REMOVED)"
	pFieldRenamed   = pGuide + "fields are identified by number; renaming one is compatible (FIELD_NAME_CHANGED)"
	pScalarCompat   = pGuide + "int32, uint32, int64, uint64 and bool are compatible; sint32 with sint64; fixed32 with sfixed32; fixed64 with sfixed64; string with bytes (FIELD_SCALAR_KIND_CHANGED otherwise)"
	pKindChanged    = confProto + "changing a field between scalar, message and enum kinds is incompatible (FIELD_KIND_CHANGED)"
	pNamedChanged   = confProto + "changing a field's message or enum type is incompatible (FIELD_NAMED_TYPE_CHANGED)"
	pLabel          = pGuide + "singular and repeated are compatible for string, bytes and message fields, not for packed numeric fields (FIELD_NUMERIC_LABEL_CHANGED)"
	pRequired       = confProto + "adding or removing a required field is incompatible (REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED)"
	pMessageRemoved = confProto + "removing or renaming a message is incompatible (MESSAGE_REMOVED)"
	pMessageAdded   = confProto + "adding a message is compatible (MESSAGE_ADDED)"
	pOneofNew       = pGuide + "moving a single field into a new oneof is safe; moving several is not (MULTIPLE_FIELDS_MOVED_TO_ONEOF)"
	pOneofExisting  = confProto + "moving a field into an existing oneof is incompatible (FIELD_MOVED_TO_EXISTING_ONEOF)"
	pOneofRemoved   = confProto + "removing a field from a oneof is incompatible (ONEOF_FIELD_REMOVED); adding one is compatible (ONEOF_FIELD_ADDED)"
	pEnum           = confProto + "adding, removing or renaming enum constants is compatible (ENUM_CONST_ADDED, ENUM_CONST_REMOVED, ENUM_CONST_CHANGED)"
	pPackage        = confProto + "changing the package or syntax is compatible (PACKAGE_CHANGED, SYNTAX_CHANGED); messages are matched by name within the package"
	pMap            = pGuide + "a map field's key and value follow the field rules"
)

// p3 writes a proto3 file in package p with body.
func p3(body string) string { return `syntax = "proto3"; package p; ` + body }

// p2 writes a proto2 file in package p with body.
func p2(body string) string { return `syntax = "proto2"; package p; ` + body }

func TestProtobufCompatibility(t *testing.T) {
	base := p3(`message M { int32 id = 1; string name = 2; }`)
	field := func(typ string) string { return p3(fmt.Sprintf(`message M { %s x = 1; }`, typ)) }
	scalar := func(from, to string, ok bool) compatCase {
		c := compatCase{name: from + " to " + to, rule: pScalarCompat, level: Full, old: []string{field(from)}, new: field(to), wantCompatible: ok}
		if !ok {
			c.wantMessageContains = fmt.Sprintf("at M.x (1): the field's type changed from %s to %s, which is not wire-compatible", from, to)
		}
		return c
	}
	cases := []compatCase{
		{name: "identical", rule: confFull, level: FullTransitive, old: []string{base}, new: base, wantCompatible: true},
		{name: "none", rule: confNone, level: None, old: []string{base}, new: p3(`message Other {}`), wantCompatible: true},
		{name: "field added", rule: pFieldAdded, level: FullTransitive, old: []string{base}, new: p3(`message M { int32 id = 1; string name = 2; bool ok = 3; }`), wantCompatible: true},
		{name: "field removed", rule: pFieldRemoved, level: FullTransitive, old: []string{base}, new: p3(`message M { int32 id = 1; }`), wantCompatible: true},
		{name: "field removed with reserved", rule: pFieldRemoved, level: Full, old: []string{base}, new: p3(`message M { reserved 2; reserved "name"; int32 id = 1; }`), wantCompatible: true},
		{name: "field renamed", rule: pFieldRenamed, level: Full, old: []string{base}, new: p3(`message M { int32 id = 1; string title = 2; }`), wantCompatible: true},
		{name: "field number changed", rule: pFieldAdded, level: Full, old: []string{base}, new: p3(`message M { int32 id = 1; string name = 3; }`), wantCompatible: true},
		scalar("int32", "int64", true),
		scalar("int32", "uint32", true),
		scalar("int64", "uint64", true),
		scalar("uint64", "bool", true),
		scalar("bool", "int32", true),
		scalar("sint32", "sint64", true),
		scalar("fixed32", "sfixed32", true),
		scalar("fixed64", "sfixed64", true),
		scalar("string", "bytes", true),
		scalar("bytes", "string", true),
		scalar("int32", "sint32", false),
		scalar("int64", "fixed64", false),
		scalar("fixed32", "fixed64", false),
		scalar("float", "double", false),
		scalar("double", "int64", false),
		scalar("string", "int32", false),
		scalar("sint64", "int64", false),
		scalar("sfixed32", "int32", false),
		scalar("bool", "string", false),
		{name: "scalar to message", rule: pKindChanged, level: Backward, old: []string{p3(`message A {} message M { int32 x = 1; }`)}, new: p3(`message A {} message M { A x = 1; }`),
			wantMessageContains: "at M.x (1): the field's type changed from int32 to p.A"},
		{name: "message to bytes", rule: pKindChanged, level: Backward, old: []string{p3(`message A {} message M { A x = 1; }`)}, new: p3(`message A {} message M { bytes x = 1; }`),
			wantMessageContains: "at M.x (1): the field's type changed from p.A to bytes"},
		{name: "enum to int32", rule: pKindChanged, level: Backward, old: []string{p3(`enum E { Z = 0; } message M { E x = 1; }`)}, new: p3(`enum E { Z = 0; } message M { int32 x = 1; }`),
			wantMessageContains: "the field's type changed from p.E to int32"},
		{name: "message type changed", rule: pNamedChanged, level: Backward, old: []string{p3(`message A {} message B {} message M { A x = 1; }`)}, new: p3(`message A {} message B {} message M { B x = 1; }`),
			wantMessageContains: "at M.x (1): the field's message type changed from p.A to p.B"},
		{name: "enum type changed", rule: pNamedChanged, level: Backward, old: []string{p3(`enum E { Z = 0; } enum F { Y = 0; } message M { E x = 1; }`)}, new: p3(`enum E { Z = 0; } enum F { Y = 0; } message M { F x = 1; }`),
			wantMessageContains: "the field's enum type changed from p.E to p.F"},
		{name: "nested message field added", rule: pFieldAdded, level: Full, old: []string{p3(`message M { message N { int32 a = 1; } N n = 1; }`)}, new: p3(`message M { message N { int32 a = 1; int32 b = 2; } N n = 1; }`), wantCompatible: true},
		{name: "nested message field type changed", rule: pScalarCompat, level: Backward, old: []string{p3(`message M { message N { int32 a = 1; } N n = 1; }`)}, new: p3(`message M { message N { double a = 1; } N n = 1; }`),
			wantMessageContains: "at M.N.a (1): the field's type changed from int32 to double, which is not wire-compatible"},
		{name: "string singular to repeated", rule: pLabel, level: Full, old: []string{field("string")}, new: field("repeated string"), wantCompatible: true},
		{name: "message singular to repeated", rule: pLabel, level: Full, old: []string{p3(`message A {} message M { A x = 1; }`)}, new: p3(`message A {} message M { repeated A x = 1; }`), wantCompatible: true},
		{name: "int32 singular to repeated", rule: pLabel, level: Backward, old: []string{field("int32")}, new: field("repeated int32"),
			wantMessageContains: "at M.x (1): the field's label changed between repeated and singular for the numeric type int32"},
		{name: "int64 repeated to singular", rule: pLabel, level: Backward, old: []string{field("repeated int64")}, new: field("int64"), wantMessageContains: "changed between repeated and singular"},
		{name: "proto3 optional added", rule: pFieldAdded, level: Full, old: []string{field("int32")}, new: field("optional int32"), wantCompatible: true},
		{name: "required field added", rule: pRequired, level: Backward, old: []string{p2(`message M { optional int32 id = 1; }`)}, new: p2(`message M { optional int32 id = 1; required string name = 2; }`),
			wantMessageContains: `at M.name (2): the reader's required field "name" is missing from the writer`},
		{name: "required field added forward", rule: pRequired, level: Forward, old: []string{p2(`message M { optional int32 id = 1; }`)}, new: p2(`message M { optional int32 id = 1; required string name = 2; }`),
			wantMessageContains: `the previous version cannot read data written with the new schema: at M.name (2): the writer's required field "name" is missing from the reader`},
		{name: "required field removed", rule: pRequired, level: Backward, old: []string{p2(`message M { required int32 id = 1; }`)}, new: p2(`message M { }`),
			wantMessageContains: `at M.id (1): the writer's required field "id" is missing from the reader`},
		{name: "optional field added proto2", rule: pFieldAdded, level: Full, old: []string{p2(`message M { required int32 id = 1; }`)}, new: p2(`message M { required int32 id = 1; optional int32 n = 2; }`), wantCompatible: true},
		{name: "optional to required", rule: pRequired, level: Backward, old: []string{p2(`message M { optional int32 id = 1; }`)}, new: p2(`message M { required int32 id = 1; }`),
			wantMessageContains: "at M.id (1): the field changed between required and not required"},
		{name: "message removed", rule: pMessageRemoved, level: Backward, old: []string{p3(`message M { int32 id = 1; } message N {}`)}, new: p3(`message M { int32 id = 1; }`),
			wantMessageContains: `at N: the writer's message "N" is missing from the reader`},
		{name: "message renamed", rule: pMessageRemoved, level: Backward, old: []string{p3(`message M { int32 id = 1; }`)}, new: p3(`message Renamed { int32 id = 1; }`),
			wantMessageContains: `the writer's message "M" is missing from the reader`},
		{name: "message added", rule: pMessageAdded, level: Backward, old: []string{base}, new: p3(`message M { int32 id = 1; string name = 2; } message N {}`), wantCompatible: true},
		{name: "message added forward", rule: pMessageRemoved, level: Forward, old: []string{base}, new: p3(`message M { int32 id = 1; string name = 2; } message N {}`),
			wantMessageContains: `the previous version cannot read data written with the new schema: at N: the writer's message "N" is missing from the reader`},
		{name: "messages reordered", rule: pMessageAdded, level: FullTransitive, old: []string{p3(`message A { int32 a = 1; } message B { int32 b = 1; }`)}, new: p3(`message B { int32 b = 1; } message A { int32 a = 1; }`), wantCompatible: true},
		{name: "nested message removed", rule: pMessageRemoved, level: Backward, old: []string{p3(`message M { message N {} }`)}, new: p3(`message M {}`),
			wantMessageContains: `at M.N: the writer's message "M.N" is missing from the reader`},
		{name: "single field to new oneof", rule: pOneofNew, level: Full, old: []string{base}, new: p3(`message M { int32 id = 1; oneof o { string name = 2; } }`), wantCompatible: true},
		{name: "two fields to new oneof", rule: pOneofNew, level: Backward, old: []string{base}, new: p3(`message M { oneof o { int32 id = 1; string name = 2; } }`),
			wantMessageContains: `at M.id (1): 2 of the writer's fields moved into the new oneof "o"`},
		{name: "field to existing oneof", rule: pOneofExisting, level: Backward, old: []string{p3(`message M { int32 id = 1; oneof o { string name = 2; } }`)}, new: p3(`message M { oneof o { int32 id = 1; string name = 2; } }`),
			wantMessageContains: `at M.id (1): the field "id" moved into the writer's existing oneof "o"`},
		{name: "oneof field added", rule: pOneofRemoved, level: Backward, old: []string{p3(`message M { oneof o { string a = 1; } }`)}, new: p3(`message M { oneof o { string a = 1; int32 b = 2; } }`), wantCompatible: true},
		{name: "oneof field removed", rule: pOneofRemoved, level: Backward, old: []string{p3(`message M { oneof o { string a = 1; int32 b = 2; } }`)}, new: p3(`message M { oneof o { string a = 1; } }`),
			wantMessageContains: `at M.b (2): the writer's field "b" of oneof "o" is missing from the reader`},
		{name: "oneof field added forward", rule: pOneofRemoved, level: Forward, old: []string{p3(`message M { oneof o { string a = 1; } }`)}, new: p3(`message M { oneof o { string a = 1; int32 b = 2; } }`),
			wantMessageContains: `the writer's field "b" of oneof "o" is missing from the reader`},
		{name: "oneof renamed", rule: pOneofNew, level: Backward, old: []string{p3(`message M { oneof o { string a = 1; } }`)}, new: p3(`message M { oneof q { string a = 1; } }`), wantCompatible: true},
		{name: "enum constant added", rule: pEnum, level: FullTransitive, old: []string{p3(`enum E { Z = 0; A = 1; } message M { E e = 1; }`)}, new: p3(`enum E { Z = 0; A = 1; B = 2; } message M { E e = 1; }`), wantCompatible: true},
		{name: "enum constant removed", rule: pEnum, level: FullTransitive, old: []string{p3(`enum E { Z = 0; A = 1; } message M { E e = 1; }`)}, new: p3(`enum E { Z = 0; } message M { E e = 1; }`), wantCompatible: true},
		{name: "enum constant renamed", rule: pEnum, level: Full, old: []string{p3(`enum E { Z = 0; A = 1; } message M { E e = 1; }`)}, new: p3(`enum E { Z = 0; AA = 1; } message M { E e = 1; }`), wantCompatible: true},
		{name: "package changed", rule: pPackage, level: Full, old: []string{base}, new: `syntax = "proto3"; package q; message M { int32 id = 1; string name = 2; }`, wantCompatible: true},
		{name: "syntax changed", rule: pPackage, level: Full, old: []string{base}, new: p2(`message M { optional int32 id = 1; optional string name = 2; }`), wantCompatible: true},
		{name: "map value compatible", rule: pMap, level: Full, old: []string{field("map<string, int32>")}, new: field("map<string, int64>"), wantCompatible: true},
		{name: "map value changed", rule: pMap, level: Backward, old: []string{field("map<string, int32>")}, new: field("map<string, double>"),
			wantMessageContains: "at M.x (1) value: the field's type changed from int32 to double, which is not wire-compatible"},
		{name: "map to scalar", rule: pMap, level: Backward, old: []string{field("map<string, int32>")}, new: field("string"),
			wantMessageContains: "at M.x (1): the field's type changed from map<string, int32> to string"},
		{name: "well-known type unchanged", rule: confFull, level: Full,
			old: []string{`syntax = "proto3"; package p; import "google/protobuf/timestamp.proto"; message M { google.protobuf.Timestamp t = 1; }`},
			new: `syntax = "proto3"; package p; import "google/protobuf/timestamp.proto"; message M { google.protobuf.Timestamp t = 1; int32 n = 2; }`, wantCompatible: true},
		{name: "well-known type changed", rule: pNamedChanged, level: Backward,
			old:                 []string{`syntax = "proto3"; package p; import "google/protobuf/timestamp.proto"; message M { google.protobuf.Timestamp t = 1; }`},
			new:                 `syntax = "proto3"; package p; import "google/protobuf/duration.proto"; message M { google.protobuf.Duration t = 1; }`,
			wantMessageContains: "the field's message type changed from google.protobuf.Timestamp to google.protobuf.Duration"},
		{name: "backward transitive", rule: confTrans, level: BackwardTransitive, old: []string{field("int32"), field("int64")}, new: field("sint64"),
			wantMessageContains: "the new schema cannot read data written with previous version 1 of 2: at M.x (1): the field's type changed from int32 to sint64"},
		{name: "forward non-transitive", rule: confForward, level: Forward, old: []string{field("double"), field("sint32")}, new: field("sint64"), wantCompatible: true},
		{name: "forward transitive", rule: confTrans, level: ForwardTransitive, old: []string{field("double"), field("sint32")}, new: field("sint64"),
			wantMessageContains: "previous version 1 of 2 cannot read data written with the new schema: at M.x (1): the field's type changed from sint64 to double"},
		{name: "service added", rule: pMessageAdded, level: Full, old: []string{p3(`message Req {} message Res {}`)}, new: p3(`message Req {} message Res {} service S { rpc Call(Req) returns (Res); }`), wantCompatible: true},
	}
	if len(cases) < 60 {
		t.Fatalf("the table has %d cases, want at least 60", len(cases))
	}
	runCompatCases(t, Protobuf, cases)
}

func TestProtobufParse(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{name: "syntax error", text: `syntax = "proto3"; message M { int32 id = ; }`, wantErr: "invalid schema: Protobuf: line 1:43: syntax error: unexpected ';', expecting int literal"},
		{name: "unknown type", text: p3(`message M { Missing x = 1; }`), wantErr: "invalid schema: Protobuf: line 1:"},
		{name: "duplicate number", text: p3(`message M { int32 a = 1; int32 b = 1; }`), wantErr: "invalid schema: Protobuf: line 1:"},
		{name: "unknown import", text: p3(`import "other.proto"; message M {}`), wantErr: "invalid schema: Protobuf:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(Protobuf, tc.text, nil, nil)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Parse() error = %v, want one wrapping ErrInvalid starting %q", err, tc.wantErr)
			}
		})
	}
	a, err := Parse(Protobuf, p3(`message B { string s = 2; int32 i = 1; } message A { int32 x = 1; } // comment`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(Protobuf, `syntax = "proto3";
package p;

// A.
message A {
  int32 x = 1;
}

message B {
  int32 i = 1;
  string s = 2;
}
`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Canonical() != b.Canonical() {
		t.Fatalf("canonical forms differ:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	c, err := Parse(Protobuf, p3(`message B { string s = 2; int64 i = 1; } message A { int32 x = 1; }`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Canonical() == a.Canonical() {
		t.Fatal("different schemas have the same canonical form")
	}
}

func TestProtobufReferences(t *testing.T) {
	resolve := func(ref Reference) (string, []Reference, error) {
		switch ref.Subject {
		case "common":
			return `syntax = "proto3"; package common; message Money { int64 units = 1; }`, nil, nil
		case "common-v2":
			return `syntax = "proto3"; package common; message Money { double units = 1; }`, nil, nil
		}
		return "", nil, fmt.Errorf("subject %q not found", ref.Subject)
	}
	text := `syntax = "proto3"; package p; import "common.proto"; message Order { common.Money total = 1; }`
	old, err := Parse(Protobuf, text, []Reference{{Name: "common.proto", Subject: "common", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with a reference: %v", err)
	}
	cand, err := Parse(Protobuf, text, []Reference{{Name: "common.proto", Subject: "common-v2", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with a reference: %v", err)
	}
	if got := Check(Full, cand, []Parsed{old}); got != nil {
		t.Fatalf("Check() = %q, want compatible (referenced messages are checked under their own subject)", got)
	}
	_, err = Parse(Protobuf, text, []Reference{{Name: "common.proto", Subject: "missing", Version: 1}}, resolve)
	if err == nil || err.Error() != `resolving reference "common.proto" (subject "missing" version 1): subject "missing" not found` {
		t.Fatalf("Parse() with a missing reference: error = %v", err)
	}
}
