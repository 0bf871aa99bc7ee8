package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// rec writes an Avro record named name with the given field texts.
func rec(name string, fields ...string) string {
	return fmt.Sprintf(`{"type":"record","name":%q,"fields":[%s]}`, name, strings.Join(fields, ","))
}

// fld writes an Avro field of type typ (a JSON text).
func fld(name, typ string) string { return fmt.Sprintf(`{"name":%q,"type":%s}`, name, typ) }

// fldd writes an Avro field of type typ with default def (JSON texts).
func fldd(name, typ, def string) string {
	return fmt.Sprintf(`{"name":%q,"type":%s,"default":%s}`, name, typ, def)
}

// compatCase is one row of a compatibility table.
type compatCase struct {
	name                string
	rule                string // the source rule the case checks
	level               Level
	old                 []string // previous versions, oldest first
	new                 string
	wantCompatible      bool
	wantMessageContains string
}

func runCompatCases(t *testing.T, typ Type, cases []compatCase) {
	t.Helper()
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			if tc.rule == "" {
				t.Fatal("case states no source rule")
			}
			var prev []Parsed
			for i, o := range tc.old {
				p, err := Parse(typ, o, nil, nil)
				if err != nil {
					t.Fatalf("parsing old schema %d: %v", i, err)
				}
				prev = append(prev, p)
			}
			cand, err := Parse(typ, tc.new, nil, nil)
			if err != nil {
				t.Fatalf("parsing new schema: %v", err)
			}
			got := Check(tc.level, cand, prev)
			if (len(got) == 0) != tc.wantCompatible {
				t.Fatalf("Check(%s) = %q, want compatible=%v", tc.level, got, tc.wantCompatible)
			}
			if tc.wantMessageContains != "" && !strings.Contains(strings.Join(got, "\n"), tc.wantMessageContains) {
				t.Fatalf("Check(%s) = %q, want a message containing %q", tc.level, got, tc.wantMessageContains)
			}
		})
	}
}

const (
	specResolution = "Avro spec, schema resolution: "
	specPromotion  = specResolution + "the writer's type may be promoted to the reader's (int to long, float, double; long to float, double; float to double; string to bytes; bytes to string)"
	specFieldMiss  = specResolution + "a reader field missing in the writer's record uses the reader's default; with no default it is an error"
	specFieldExtra = specResolution + "a writer field missing in the reader's record is ignored"
	specRecName    = specResolution + "both schemas are records with the same (unqualified) name"
	specAlias      = "Avro spec, aliases: a reader's alias names the writer's type or field it reads"
	specEnumSym    = specResolution + "a writer symbol missing in the reader's enum uses the reader's enum default; with no default it is an error"
	specEnumName   = specResolution + "both schemas are enums with the same (unqualified) name"
	specFixed      = specResolution + "both schemas are fixed with the same (unqualified) name and size"
	specArray      = specResolution + "both schemas are arrays and the item types resolve"
	specMap        = specResolution + "both schemas are maps and the value types resolve"
	specUnionBoth  = specResolution + "both unions: each writer branch chosen at write time must resolve to a reader branch"
	specUnionW     = specResolution + "writer union, reader not: each writer branch must resolve to the reader's schema"
	specUnionR     = specResolution + "reader union, writer not: the first reader branch that matches the writer's schema is used; none is an error"
	specMismatch   = specResolution + "schemas that match by none of the rules are an error"
	confluentLevel = "Confluent, compatibility types: "
	confBackward   = confluentLevel + "BACKWARD: consumers using the new schema can read data written with the last schema"
	confForward    = confluentLevel + "FORWARD: data written with the new schema can be read with the last schema"
	confFull       = confluentLevel + "FULL: both BACKWARD and FORWARD against the last schema"
	confTrans      = confluentLevel + "*_TRANSITIVE: checked against every previous schema, not only the last"
	confNone       = confluentLevel + "NONE: no compatibility check"
)

func TestAvroCompatibility(t *testing.T) {
	intF := fld("id", `"int"`)
	v1 := rec("Event", intF)
	v2Default := rec("Event", intF, fldd("level", `"int"`, "0"))
	v2NoDefault := rec("Event", intF, fld("level", `"int"`))
	v3 := rec("Event", intF, fldd("level", `"int"`, "0"), fldd("tag", `"string"`, `""`))
	promote := func(name, from, to string, ok bool, level Level) compatCase {
		c := compatCase{name: name, rule: specPromotion, level: level, old: []string{rec("R", fld("x", from))}, new: rec("R", fld("x", to)), wantCompatible: ok}
		if !ok {
			c.wantMessageContains = fmt.Sprintf("at /x: the reader's type %s does not match the writer's type %s", strings.Trim(to, `"`), strings.Trim(from, `"`))
			if level == Forward {
				c.wantMessageContains = fmt.Sprintf("at /x: the reader's type %s does not match the writer's type %s", strings.Trim(from, `"`), strings.Trim(to, `"`))
			}
		}
		return c
	}
	cases := []compatCase{
		{name: "identical record", rule: confFull, level: FullTransitive, old: []string{v1}, new: v1, wantCompatible: true},
		{name: "none accepts anything", rule: confNone, level: None, old: []string{v1}, new: `"string"`, wantCompatible: true},
		{name: "no previous version", rule: confBackward, level: Backward, new: v1, wantCompatible: true},
		{name: "backward add field with default", rule: specFieldMiss, level: Backward, old: []string{v1}, new: v2Default, wantCompatible: true},
		{name: "backward add field without default", rule: specFieldMiss, level: Backward, old: []string{v1}, new: v2NoDefault,
			wantMessageContains: `the new schema cannot read data written with the previous version: at /level: reader's field "level" (int) has no default and the writer has no such field`},
		{name: "forward add field without default", rule: specFieldExtra, level: Forward, old: []string{v1}, new: v2NoDefault, wantCompatible: true},
		{name: "full add field without default", rule: confFull, level: Full, old: []string{v1}, new: v2NoDefault, wantMessageContains: `reader's field "level" (int) has no default`},
		{name: "full add field with default", rule: confFull, level: Full, old: []string{v1}, new: v2Default, wantCompatible: true},
		{name: "backward remove field", rule: specFieldExtra, level: Backward, old: []string{v2NoDefault}, new: v1, wantCompatible: true},
		{name: "forward remove field without default", rule: specFieldMiss, level: Forward, old: []string{v2NoDefault}, new: v1,
			wantMessageContains: `the previous version cannot read data written with the new schema: at /level: reader's field "level" (int) has no default and the writer has no such field`},
		{name: "forward remove field with default", rule: specFieldMiss, level: Forward, old: []string{v2Default}, new: v1, wantCompatible: true},
		{name: "full remove field with default", rule: confFull, level: Full, old: []string{v2Default}, new: v1, wantCompatible: true},
		{name: "full remove field without default", rule: confFull, level: Full, old: []string{v2NoDefault}, new: v1, wantMessageContains: "the previous version cannot read"},
		{name: "backward ignores older versions", rule: confBackward, level: Backward, old: []string{v1, v2Default}, new: rec("Event", intF, fld("level", `"int"`)), wantCompatible: true},
		{name: "backward transitive checks older versions", rule: confTrans, level: BackwardTransitive, old: []string{v1, v2Default}, new: rec("Event", intF, fld("level", `"int"`)),
			wantMessageContains: `the new schema cannot read data written with previous version 1 of 2: at /level: reader's field "level" (int) has no default`},
		{name: "forward transitive checks older versions", rule: confTrans, level: ForwardTransitive, old: []string{v2NoDefault, v1}, new: rec("Event", intF, fldd("tag", `"string"`, `""`)),
			wantMessageContains: `previous version 1 of 2 cannot read data written with the new schema: at /level`},
		{name: "forward ignores older versions", rule: confForward, level: Forward, old: []string{v2NoDefault, v1}, new: rec("Event", intF, fldd("tag", `"string"`, `""`)), wantCompatible: true},
		{name: "full transitive chain of defaults", rule: confTrans, level: FullTransitive, old: []string{v1, v2Default}, new: v3, wantCompatible: true},
		{name: "full transitive fails on oldest", rule: confTrans, level: FullTransitive, old: []string{v1, v2Default}, new: rec("Event", intF, fldd("level", `"int"`, "0"), fld("tag", `"string"`)),
			wantMessageContains: `previous version 1 of 2: at /tag: reader's field "tag" (string) has no default`},
		promote("int to long", `"int"`, `"long"`, true, Backward),
		promote("int to float", `"int"`, `"float"`, true, Backward),
		promote("int to double", `"int"`, `"double"`, true, Backward),
		promote("long to float", `"long"`, `"float"`, true, Backward),
		promote("long to double", `"long"`, `"double"`, true, Backward),
		promote("float to double", `"float"`, `"double"`, true, Backward),
		promote("string to bytes", `"string"`, `"bytes"`, true, Backward),
		promote("bytes to string", `"bytes"`, `"string"`, true, Backward),
		promote("long to int narrows", `"long"`, `"int"`, false, Backward),
		promote("double to float narrows", `"double"`, `"float"`, false, Backward),
		promote("double to long", `"double"`, `"long"`, false, Backward),
		promote("float to int", `"float"`, `"int"`, false, Backward),
		promote("int to string", `"int"`, `"string"`, false, Backward),
		promote("boolean to int", `"boolean"`, `"int"`, false, Backward),
		promote("int to long forward", `"int"`, `"long"`, false, Forward),
		promote("string to bytes forward", `"string"`, `"bytes"`, true, Forward),
		promote("null to int", `"null"`, `"int"`, false, Backward),
		{name: "full int to long", rule: confFull, level: Full, old: []string{rec("R", fld("x", `"int"`))}, new: rec("R", fld("x", `"long"`)),
			wantMessageContains: "the previous version cannot read data written with the new schema: at /x: the reader's type int does not match the writer's type long"},
		{name: "record renamed", rule: specRecName, level: Backward, old: []string{v1}, new: rec("Other", intF),
			wantMessageContains: `at /: the reader's record name "Other" does not match the writer's "Event"`},
		{name: "record renamed with alias", rule: specAlias, level: Backward, old: []string{v1}, new: `{"type":"record","name":"Other","aliases":["Event"],"fields":[{"name":"id","type":"int"}]}`, wantCompatible: true},
		{name: "record renamed with alias forward", rule: specAlias, level: Forward, old: []string{v1}, new: `{"type":"record","name":"Other","aliases":["Event"],"fields":[{"name":"id","type":"int"}]}`,
			wantMessageContains: `the reader's record name "Event" does not match the writer's "Other"`},
		{name: "namespace change keeps unqualified name", rule: specRecName, level: Backward, old: []string{`{"type":"record","name":"Event","namespace":"a","fields":[{"name":"id","type":"int"}]}`},
			new: `{"type":"record","name":"Event","namespace":"b","fields":[{"name":"id","type":"int"}]}`, wantCompatible: true},
		{name: "field renamed", rule: specFieldMiss, level: Backward, old: []string{v1}, new: rec("Event", fld("key", `"int"`)), wantMessageContains: `reader's field "key" (int) has no default`},
		{name: "field renamed with alias", rule: specAlias, level: Backward, old: []string{v1}, new: rec("Event", `{"name":"key","aliases":["id"],"type":"int"}`), wantCompatible: true},
		{name: "field renamed with alias full", rule: specAlias, level: Full, old: []string{v1}, new: rec("Event", `{"name":"key","aliases":["id"],"type":"int"}`),
			wantMessageContains: `reader's field "id" (int) has no default`},
		{name: "field type changed", rule: specMismatch, level: Backward, old: []string{v1}, new: rec("Event", fld("id", `"string"`)),
			wantMessageContains: "at /id: the reader's type string does not match the writer's type int"},
		{name: "nested record field added without default", rule: specFieldMiss, level: Backward,
			old: []string{rec("Outer", fld("in", rec("Inner", fld("a", `"int"`))))}, new: rec("Outer", fld("in", rec("Inner", fld("a", `"int"`), fld("b", `"long"`)))),
			wantMessageContains: `at /in/b: reader's field "b" (long) has no default`},
		{name: "nested record field added with default", rule: specFieldMiss, level: Full,
			old: []string{rec("Outer", fld("in", rec("Inner", fld("a", `"int"`))))}, new: rec("Outer", fld("in", rec("Inner", fld("a", `"int"`), fldd("b", `"long"`, "0")))), wantCompatible: true},
		{name: "enum symbol added", rule: specEnumSym, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`}, new: `{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}`, wantCompatible: true},
		{name: "enum symbol added forward", rule: specEnumSym, level: Forward, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`}, new: `{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}`,
			wantMessageContains: `the writer's symbol "BLUE" is missing from the reader's enum Color, which has no default`},
		{name: "enum symbol added forward with default", rule: specEnumSym, level: Forward, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"],"default":"RED"}`},
			new: `{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"],"default":"RED"}`, wantCompatible: true},
		{name: "enum symbol removed", rule: specEnumSym, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`}, new: `{"type":"enum","name":"Color","symbols":["RED"]}`,
			wantMessageContains: `the writer's symbol "GREEN" is missing from the reader's enum Color`},
		{name: "enum symbol removed with default", rule: specEnumSym, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`}, new: `{"type":"enum","name":"Color","symbols":["RED"],"default":"RED"}`, wantCompatible: true},
		{name: "enum symbols reordered", rule: specEnumSym, level: Full, old: []string{`{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`}, new: `{"type":"enum","name":"Color","symbols":["GREEN","RED"]}`, wantCompatible: true},
		{name: "enum renamed", rule: specEnumName, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED"]}`}, new: `{"type":"enum","name":"Colour","symbols":["RED"]}`,
			wantMessageContains: `the reader's enum name "Colour" does not match the writer's "Color"`},
		{name: "enum renamed with alias", rule: specAlias, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED"]}`}, new: `{"type":"enum","name":"Colour","aliases":["Color"],"symbols":["RED"]}`, wantCompatible: true},
		{name: "enum to string", rule: specMismatch, level: Backward, old: []string{`{"type":"enum","name":"Color","symbols":["RED"]}`}, new: `"string"`,
			wantMessageContains: "the reader's type string does not match the writer's type enum Color"},
		{name: "fixed same", rule: specFixed, level: Full, old: []string{`{"type":"fixed","name":"Hash","size":16}`}, new: `{"type":"fixed","name":"Hash","size":16}`, wantCompatible: true},
		{name: "fixed size changed", rule: specFixed, level: Backward, old: []string{`{"type":"fixed","name":"Hash","size":16}`}, new: `{"type":"fixed","name":"Hash","size":32}`,
			wantMessageContains: "the reader's fixed Hash has size 32 and the writer's 16"},
		{name: "fixed renamed", rule: specFixed, level: Backward, old: []string{`{"type":"fixed","name":"Hash","size":16}`}, new: `{"type":"fixed","name":"Digest","size":16}`,
			wantMessageContains: `the reader's fixed name "Digest" does not match the writer's "Hash"`},
		{name: "fixed to bytes", rule: specMismatch, level: Backward, old: []string{`{"type":"fixed","name":"Hash","size":16}`}, new: `"bytes"`, wantMessageContains: "does not match the writer's type fixed Hash"},
		{name: "array items promoted", rule: specArray, level: Backward, old: []string{`{"type":"array","items":"int"}`}, new: `{"type":"array","items":"long"}`, wantCompatible: true},
		{name: "array items changed", rule: specArray, level: Backward, old: []string{`{"type":"array","items":"int"}`}, new: `{"type":"array","items":"string"}`,
			wantMessageContains: "at /items: the reader's type string does not match the writer's type int"},
		{name: "array to map", rule: specMismatch, level: Backward, old: []string{`{"type":"array","items":"int"}`}, new: `{"type":"map","values":"int"}`,
			wantMessageContains: "the reader's type map of int does not match the writer's type array of int"},
		{name: "map values promoted", rule: specMap, level: Backward, old: []string{`{"type":"map","values":"float"}`}, new: `{"type":"map","values":"double"}`, wantCompatible: true},
		{name: "map values narrowed", rule: specMap, level: Backward, old: []string{`{"type":"map","values":"double"}`}, new: `{"type":"map","values":"float"}`,
			wantMessageContains: "at /values: the reader's type float does not match the writer's type double"},
		{name: "map of records field added", rule: specFieldMiss, level: Backward, old: []string{`{"type":"map","values":` + v1 + `}`}, new: `{"type":"map","values":` + v2NoDefault + `}`,
			wantMessageContains: `at /values/level: reader's field "level" (int) has no default`},
		{name: "make field nullable", rule: specUnionR, level: Backward, old: []string{rec("R", fld("x", `"int"`))}, new: rec("R", fldd("x", `["null","int"]`, "null")), wantCompatible: true},
		{name: "make field nullable forward", rule: specUnionW, level: Forward, old: []string{rec("R", fld("x", `"int"`))}, new: rec("R", fldd("x", `["null","int"]`, "null")),
			wantMessageContains: "at /x: the writer's union branch null cannot be read as the reader's int"},
		{name: "make field not nullable", rule: specUnionW, level: Backward, old: []string{rec("R", fld("x", `["null","string"]`))}, new: rec("R", fld("x", `"string"`)),
			wantMessageContains: "at /x: the writer's union branch null cannot be read as the reader's string"},
		{name: "union branch added", rule: specUnionBoth, level: Backward, old: []string{`["null","int"]`}, new: `["null","int","string"]`, wantCompatible: true},
		{name: "union branch added forward", rule: specUnionBoth, level: Forward, old: []string{`["null","int"]`}, new: `["null","int","string"]`,
			wantMessageContains: "the writer's union branch string is missing from the reader's union [null, int]"},
		{name: "union branch removed", rule: specUnionBoth, level: Backward, old: []string{`["null","int","string"]`}, new: `["null","int"]`,
			wantMessageContains: "the writer's union branch string is missing from the reader's union [null, int]"},
		{name: "union branches reordered", rule: specUnionBoth, level: Full, old: []string{`["null","int"]`}, new: `["int","null"]`, wantCompatible: true},
		{name: "union branch promoted", rule: specUnionBoth, level: Backward, old: []string{`["null","int"]`}, new: `["null","long"]`, wantCompatible: true},
		{name: "writer single type to reader union promoted", rule: specUnionR, level: Backward, old: []string{`"int"`}, new: `["null","double"]`, wantCompatible: true},
		{name: "writer type missing from reader union", rule: specUnionR, level: Backward, old: []string{`"boolean"`}, new: `["null","int"]`,
			wantMessageContains: "the writer's boolean matches no branch of the reader's union [null, int]"},
		{name: "writer union of promotable to single reader", rule: specUnionW, level: Backward, old: []string{`["int","long"]`}, new: `"double"`, wantCompatible: true},
		{name: "union of records field added", rule: specUnionBoth, level: Backward, old: []string{`["null",` + v1 + `]`}, new: `["null",` + v2NoDefault + `]`,
			wantMessageContains: `at /level: reader's field "level" (int) has no default and the writer has no such field`},
		{name: "reader union of records field added", rule: specUnionR, level: Backward, old: []string{v1}, new: `["null",` + v2NoDefault + `]`,
			wantMessageContains: `at /level: reader's field "level" (int) has no default and the writer has no such field`},
		{name: "recursive record unchanged", rule: specRecName, level: FullTransitive,
			old: []string{`{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`},
			new: `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`, wantCompatible: true},
		{name: "recursive record field added without default", rule: specFieldMiss, level: Backward,
			old:                 []string{`{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`},
			new:                 `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"w","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`,
			wantMessageContains: `at /w: reader's field "w" (int) has no default`},
		{name: "logical type added on same primitive", rule: specResolution + "logical types resolve as their underlying type", level: Full,
			old: []string{rec("R", fld("t", `"long"`))}, new: rec("R", fld("t", `{"type":"long","logicalType":"timestamp-millis"}`)), wantCompatible: true},
		{name: "primitive to record", rule: specMismatch, level: Backward, old: []string{`"string"`}, new: v1,
			wantMessageContains: "at /: the reader's type record Event does not match the writer's type string"},
		{name: "doc change only", rule: confFull, level: FullTransitive, old: []string{v1}, new: `{"type":"record","name":"Event","doc":"an event","fields":[{"name":"id","type":"int","doc":"the id"}]}`, wantCompatible: true},
		{name: "default changed", rule: specFieldMiss, level: FullTransitive, old: []string{v2Default}, new: rec("Event", intF, fldd("level", `"int"`, "5")), wantCompatible: true},
		{name: "field order changed", rule: specResolution + "fields are matched by name; order does not matter", level: Full,
			old: []string{rec("R", fld("a", `"int"`), fld("b", `"string"`))}, new: rec("R", fld("b", `"string"`), fld("a", `"int"`)), wantCompatible: true},
	}
	if len(cases) < 60 {
		t.Fatalf("the table has %d cases, want at least 60", len(cases))
	}
	runCompatCases(t, Avro, cases)
	agreeWithHamba(t, cases)
}

// agreeWithHamba checks that hamba/avro's own resolution check gives the same verdict as Check for every case,
// so the messages Check adds do not come with different rules. Each comparison uses a new SchemaCompatibility:
// one caches verdicts by Parsing Canonical Form fingerprint, which ignores defaults and aliases, so a shared one
// answers for a schema what it found for another differing only in a default.
func agreeWithHamba(t *testing.T, cases []compatCase) {
	for _, tc := range cases {
		cand, err := Parse(Avro, tc.new, nil, nil)
		if err != nil {
			t.Fatalf("%s: parsing new schema: %v", tc.name, err)
		}
		first := len(tc.old) - 1
		if tc.level == BackwardTransitive || tc.level == ForwardTransitive || tc.level == FullTransitive {
			first = 0
		}
		compatible := true
		for i := first; i >= 0 && i < len(tc.old) && tc.level != None; i++ {
			old, err := Parse(Avro, tc.old[i], nil, nil)
			if err != nil {
				t.Fatalf("%s: parsing old schema %d: %v", tc.name, i, err)
			}
			n, o := cand.(*avroSchema).schema, old.(*avroSchema).schema
			if tc.level != Forward && tc.level != ForwardTransitive && avro.NewSchemaCompatibility().Compatible(n, o) != nil {
				compatible = false
			}
			if tc.level != Backward && tc.level != BackwardTransitive && avro.NewSchemaCompatibility().Compatible(o, n) != nil {
				compatible = false
			}
		}
		if compatible != tc.wantCompatible {
			t.Errorf("%s: hamba/avro says compatible=%v, the table %v", tc.name, compatible, tc.wantCompatible)
		}
	}
}

func TestAvroParse(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{name: "not JSON", text: `{"type":`, wantErr: "invalid schema: Avro: not valid JSON at byte 8: unexpected end of JSON input"},
		{name: "unknown type", text: `{"type":"recrod","name":"X","fields":[]}`, wantErr: "invalid schema: Avro:"},
		{name: "unknown named type", text: rec("R", fld("x", `"Missing"`)), wantErr: "invalid schema: Avro: unknown type: Missing"},
		{name: "bad default", text: rec("R", fldd("x", `"int"`, `"five"`)), wantErr: "invalid schema: Avro:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(Avro, tc.text, nil, nil)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Parse() error = %v, want one wrapping ErrInvalid starting %q", err, tc.wantErr)
			}
		})
	}
}

func TestAvroCanonical(t *testing.T) {
	a, err := Parse(Avro, `{"type":"record","name":"Event","namespace":"com.x","fields":[{"name":"id","type":{"type":"int"}},{"name":"level","type":"int","default":0}]}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(Avro, `{
		"fields": [ {"type": "int", "name": "id"}, {"default": 0, "name": "level", "type": "int"} ],
		"name": "com.x.Event",
		"type": "record"
	}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Canonical() != b.Canonical() {
		t.Fatalf("canonical forms differ:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	want := `{"fields":[{"name":"id","type":"int"},{"default":0,"name":"level","type":"int"}],"name":"com.x.Event","type":"record"}`
	if a.Canonical() != want {
		t.Fatalf("Canonical() = %s, want %s", a.Canonical(), want)
	}
	c, err := Parse(Avro, `{"type":"record","name":"Event","namespace":"com.x","fields":[{"name":"id","type":"int"},{"name":"level","type":"int","default":1}]}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Canonical() == a.Canonical() {
		t.Fatal("schemas with different defaults have the same canonical form")
	}
}

func TestAvroReferences(t *testing.T) {
	subjects := map[Reference]struct {
		text string
		refs []Reference
	}{
		{Name: "com.x.Color", Subject: "color", Version: 1}: {text: `{"type":"enum","name":"Color","namespace":"com.x","symbols":["RED"]}`},
		{Name: "com.x.Pixel", Subject: "pixel", Version: 2}: {
			text: `{"type":"record","name":"Pixel","namespace":"com.x","fields":[{"name":"c","type":"com.x.Color"}]}`,
			refs: []Reference{{Name: "com.x.Color", Subject: "color", Version: 1}},
		},
		{Name: "loop", Subject: "loop", Version: 1}: {text: `"int"`, refs: []Reference{{Name: "loop", Subject: "loop", Version: 1}}},
	}
	resolve := func(ref Reference) (string, []Reference, error) {
		s, ok := subjects[ref]
		if !ok {
			return "", nil, fmt.Errorf("subject %q version %d not found", ref.Subject, ref.Version)
		}
		return s.text, s.refs, nil
	}
	p, err := Parse(Avro, `{"type":"record","name":"Image","namespace":"com.x","fields":[{"name":"p","type":"com.x.Pixel"}]}`,
		[]Reference{{Name: "com.x.Pixel", Subject: "pixel", Version: 2}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with references: %v", err)
	}
	if !strings.Contains(p.Canonical(), `"symbols":["RED"]`) {
		t.Fatalf("Canonical() = %s, want the referenced enum inlined", p.Canonical())
	}
	_, err = Parse(Avro, `"int"`, []Reference{{Name: "gone", Subject: "gone", Version: 1}}, resolve)
	if err == nil || err.Error() != `resolving reference "gone" (subject "gone" version 1): subject "gone" version 1 not found` {
		t.Fatalf("Parse() with a missing reference: error = %v", err)
	}
	_, err = Parse(Avro, `"int"`, []Reference{{Name: "loop", Subject: "loop", Version: 1}}, resolve)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "reference cycle") {
		t.Fatalf("Parse() with a reference cycle: error = %v", err)
	}
	_, err = Parse(Avro, rec("R", fld("c", `"com.x.Color"`)), nil, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Parse() using an unreferenced name: error = %v, want ErrInvalid", err)
	}
}
