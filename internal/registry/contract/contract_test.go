package contract

import (
	"fmt"
	"math/big"
	"slices"

	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/bigfather/bigfather/internal/registry/schema"
	"github.com/bigfather/bigfather/internal/registry/wire"
)

// cond is a CEL condition rule that runs on write.
func cond(name, expr string) Rule {
	return Rule{Name: name, Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: expr, OnFailure: "ERROR"}
}

func TestCompileRefuses(t *testing.T) {
	cases := []struct {
		name    string
		rules   []Rule
		wantErr string
	}{
		{name: "syntax error", rules: []Rule{cond("adult", "message.age >=")},
			wantErr: "rule adult: expression \"message.age >=\": ERROR: <input>:1:15: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | message.age >=\n | ..............^"},
		{name: "unknown variable", rules: []Rule{cond("adult", "record.age >= 18")},
			wantErr: "rule adult: expression \"record.age >= 18\": ERROR: <input>:1:1: undeclared reference to 'record'\n | record.age >= 18\n | ^"},
		{name: "int result", rules: []Rule{cond("sum", "1 + 2")}, wantErr: "rule sum: expression \"1 + 2\" yields int, expected a bool"},
		{name: "string result", rules: []Rule{cond("name", "'x' + 'y'")}, wantErr: "rule name: expression \"'x' + 'y'\" yields string, expected a bool"},
		{name: "second rule bad", rules: []Rule{cond("ok", "true"), cond("bad", "size(message) + 1")}, wantErr: "rule bad: expression \"size(message) + 1\" yields int, expected a bool"},
		{name: "empty expression", rules: []Rule{cond("empty", "")},
			wantErr: "rule empty: expression \"\": ERROR: <input>:1:0: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.rules, nil)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Compile = %v, %v; want error %q", s, err, tc.wantErr)
			}
		})
	}
}

func TestCompileSkips(t *testing.T) {
	bad := "this does not compile ((("
	cases := []struct {
		name        string
		rule        Rule
		wantRuns    bool
		wantSkipped []string
	}{
		{name: "WRITE runs", rule: cond("r", "message.ok"), wantRuns: true},
		{name: "empty mode runs as WRITE", rule: Rule{Name: "r", Kind: "CONDITION", Type: "CEL", Expr: "message.ok"}, wantRuns: true},
		{name: "WRITEREAD runs", rule: Rule{Name: "r", Kind: "CONDITION", Mode: "WRITEREAD", Type: "CEL", Expr: "message.ok"}, wantRuns: true},
		{name: "lower-case write runs", rule: Rule{Name: "r", Kind: "CONDITION", Mode: "write", Type: "CEL", Expr: "message.ok"}, wantRuns: true},
		{name: "disabled", rule: Rule{Name: "off", Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: bad, Disabled: true}, wantSkipped: []string{"off"}},
		{name: "TRANSFORM", rule: Rule{Name: "mask", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL", Expr: bad}, wantSkipped: []string{"mask"}},
		{name: "READ mode", rule: Rule{Name: "onread", Kind: "CONDITION", Mode: "READ", Type: "CEL", Expr: bad}, wantSkipped: []string{"onread"}},
		{name: "UPGRADE mode", rule: Rule{Name: "up", Kind: "CONDITION", Mode: "UPGRADE", Type: "CEL", Expr: bad}, wantSkipped: []string{"up"}},
		{name: "CEL_FIELD on READ", rule: Rule{Name: "fieldread", Kind: "TRANSFORM", Mode: "READ", Type: "CEL_FIELD", Expr: bad}, wantSkipped: []string{"fieldread"}},
		{name: "encryption", rule: Rule{Name: "enc", Kind: "TRANSFORM", Mode: "WRITEREAD", Type: "ENCRYPT", Expr: bad}, wantSkipped: []string{"enc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]Rule{tc.rule}, nil)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			wantLen := 0
			if tc.wantRuns {
				wantLen = 1
			}
			if s.Len() != wantLen || !slices.Equal(s.Skipped(), tc.wantSkipped) {
				t.Fatalf("Len, Skipped = %d, %q; want %d, %q", s.Len(), s.Skipped(), wantLen, tc.wantSkipped)
			}
			if !tc.wantRuns {
				return
			}
			if v := s.Check(map[string]any{"ok": true}); v != nil {
				t.Errorf("Check of a passing record = %+v, want nil", v)
			}
			v := s.Check(map[string]any{"ok": false})
			if v == nil || v.Rule != "r" || v.Reason != "rule r failed: message.ok is false" {
				t.Errorf("Check of a failing record = %+v, want rule r failing", v)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	record := map[string]any{
		"id":      int64(7),
		"name":    "Ada",
		"score":   2.5,
		"active":  true,
		"nothing": nil,
		"price":   big.NewRat(999, 100),
		"huge":    new(big.Rat).SetInt(new(big.Int).SetUint64(18446744073709551615)),
		"at":      time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"raw":     []byte{1, 2, 3},
		"address": map[string]any{"city": "Lyon", "geo": map[string]any{"lat": 45.76}},
		"tags":    []any{"new", "vip"},
		"lines":   []any{map[string]any{"qty": int64(2)}, map[string]any{"qty": int64(5)}},
		"attrs":   wire.Map{{Key: "colour", Value: "red"}, {Key: "size", Value: big.NewRat(42, 1)}},
		"byCode":  wire.Map{{Key: int64(1), Value: "one"}, {Key: int64(2), Value: "two"}},
		"byU64":   wire.Map{{Key: big.NewRat(5, 1), Value: "five"}, {Key: new(big.Rat).SetInt(new(big.Int).SetUint64(18446744073709551615)), Value: "max"}},
	}
	cases := []struct {
		name       string
		rules      []Rule
		wantRule   string // empty: the record passes
		wantReason string
	}{
		{name: "passes", rules: []Rule{cond("id", "message.id == 7")}},
		{name: "fails", rules: []Rule{cond("id", "message.id > 10")}, wantRule: "id", wantReason: "rule id failed: message.id > 10 is false"},
		{name: "string", rules: []Rule{cond("name", "message.name.startsWith('A') && size(message.name) == 3")}},
		{name: "double", rules: []Rule{cond("score", "message.score < 3.0")}},
		{name: "null value", rules: []Rule{cond("nothing", "message.nothing == null")}},
		{name: "has", rules: []Rule{cond("has", "has(message.name) && !has(message.absent)")}},
		{name: "decimal as double", rules: []Rule{cond("price", "message.price > 9.98 && message.price < 10.0")}},
		{name: "decimal compared with an int", rules: []Rule{cond("price", "message.price > 9 && message.price < 10")}},
		{name: "uint64 decimal as double", rules: []Rule{cond("huge", "message.huge == 18446744073709551615.0")}},
		{name: "timestamp", rules: []Rule{cond("at", "message.at < timestamp('2025-01-01T00:00:00Z') && message.at.getFullYear() == 2024")}},
		{name: "bytes", rules: []Rule{cond("raw", "size(message.raw) == 3 && message.raw == b'\\x01\\x02\\x03'")}},
		{name: "nested record", rules: []Rule{cond("city", "message.address.city == 'Lyon' && message.address.geo.lat > 45.0")}},
		{name: "nested record fails", rules: []Rule{cond("city", "message.address.city == 'Paris'")}, wantRule: "city", wantReason: "rule city failed: message.address.city == 'Paris' is false"},
		{name: "list", rules: []Rule{cond("tags", "'vip' in message.tags && size(message.tags) == 2")}},
		{name: "list of records", rules: []Rule{cond("qty", "message.lines.all(l, l.qty > 0) && message.lines.exists(l, l.qty == 5)")}},
		{name: "list of records fails", rules: []Rule{cond("qty", "message.lines.all(l, l.qty > 2)")}, wantRule: "qty", wantReason: "rule qty failed: message.lines.all(l, l.qty > 2) is false"},
		{name: "map with string keys", rules: []Rule{cond("attrs", "message.attrs['colour'] == 'red' && message.attrs.size == 42.0 && 'size' in message.attrs")}},
		{name: "map with int keys", rules: []Rule{cond("codes", "message.byCode[2] == 'two' && !(3 in message.byCode)")}},
		{name: "map with uint64 keys", rules: []Rule{cond("u64", "message.byU64[5u] == 'five' && message.byU64[5] == 'five' && message.byU64[18446744073709551615u] == 'max'")}},
		{name: "missing field", rules: []Rule{cond("email", "message.email.endsWith('@example.com')")}, wantRule: "email",
			wantReason: "rule email (message.email.endsWith('@example.com')) could not be evaluated: no such key: email"},
		{name: "missing map key", rules: []Rule{cond("attr", "message.attrs['weight'] > 1.0")}, wantRule: "attr",
			wantReason: "rule attr (message.attrs['weight'] > 1.0) could not be evaluated: no such key: weight"},
		{name: "type mismatch", rules: []Rule{cond("name", "message.name > 5")}, wantRule: "name",
			wantReason: "rule name (message.name > 5) could not be evaluated: no such overload"},
		{name: "dynamic non-bool result", rules: []Rule{cond("name", "message.name")}, wantRule: "name", wantReason: "rule name failed: message.name is Ada"},
		{name: "first failing rule in order", rules: []Rule{cond("a", "message.active"), cond("b", "message.id < 0"), cond("c", "message.id > 100")}, wantRule: "b",
			wantReason: "rule b failed: message.id < 0 is false"},
		{name: "skipped rules do not fail", rules: []Rule{cond("a", "message.active"), {Name: "r", Kind: "CONDITION", Mode: "READ", Type: "CEL", Expr: "false"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.rules, nil)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			v := s.Check(record)
			if tc.wantRule == "" {
				if v != nil {
					t.Fatalf("Check = %+v, want nil", v)
				}
				return
			}
			if v == nil || v.Rule != tc.wantRule || v.Reason != tc.wantReason || v.Error() != tc.wantReason {
				t.Fatalf("Check = %+v, want rule %q with reason %q", v, tc.wantRule, tc.wantReason)
			}
		})
	}
}

func TestCheckWithoutRules(t *testing.T) {
	var none *Set
	if v := none.Check(map[string]any{"x": int64(1)}); v != nil {
		t.Errorf("nil Set: Check = %+v, want nil", v)
	}
	s, err := Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || len(s.Skipped()) != 0 || s.Check(map[string]any{}) != nil {
		t.Errorf("empty Set: Len %d, Skipped %q, Check %+v; want 0, none, nil", s.Len(), s.Skipped(), s.Check(map[string]any{}))
	}
}

// TestCheckDecodedAvro runs rules on a record as package wire decodes it from Avro.
func TestCheckDecodedAvro(t *testing.T) {
	const text = `{"type":"record","name":"Order","fields":[
		{"name":"total","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
		{"name":"meta","type":{"type":"map","values":"string"}},
		{"name":"coupon","type":["null","string"]}
	]}`
	p, err := schema.Parse(schema.Avro, text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := wire.New(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile([]Rule{
		cond("positive", "message.total > 0.0"),
		cond("items", "message.items.all(i, i.qty > 0 && i.sku != '')"),
		cond("channel", "message.meta['channel'] in ['web', 'shop']"),
		cond("coupon", "message.coupon == null || size(message.coupon) == 8"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		value      map[string]any
		wantReason string
	}{
		{name: "passes", value: map[string]any{"total": big.NewRat(1999, 100), "items": []any{map[string]any{"sku": "A", "qty": 1}}, "meta": map[string]any{"channel": "web"}, "coupon": nil}},
		{name: "zero total", value: map[string]any{"total": big.NewRat(0, 1), "items": []any{}, "meta": map[string]any{"channel": "web"}, "coupon": nil},
			wantReason: "rule positive failed: message.total > 0.0 is false"},
		{name: "item without quantity", value: map[string]any{"total": big.NewRat(1, 100), "items": []any{map[string]any{"sku": "A", "qty": 1}, map[string]any{"sku": "B", "qty": 0}}, "meta": map[string]any{"channel": "web"}, "coupon": nil},
			wantReason: "rule items failed: message.items.all(i, i.qty > 0 && i.sku != '') is false"},
		{name: "no channel", value: map[string]any{"total": big.NewRat(1, 100), "items": []any{}, "meta": map[string]any{}, "coupon": nil},
			wantReason: "rule channel (message.meta['channel'] in ['web', 'shop']) could not be evaluated: no such key: channel"},
		{name: "short coupon", value: map[string]any{"total": big.NewRat(1, 100), "items": []any{}, "meta": map[string]any{"channel": "shop"}, "coupon": "ABC"},
			wantReason: "rule coupon failed: message.coupon == null || size(message.coupon) == 8 is false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := avro.Marshal(schema.AvroOf(p), tc.value)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := d.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			v := s.Check(rec)
			switch {
			case tc.wantReason == "" && v != nil:
				t.Fatalf("Check = %+v, want nil", v)
			case tc.wantReason != "" && (v == nil || v.Reason != tc.wantReason):
				t.Fatalf("Check = %+v, want reason %q", v, tc.wantReason)
			}
		})
	}
}

// TestFieldRules: CEL_FIELD conditions and transforms run on the top-level fields carrying the rule's tags
// (all fields without tags), with guards, in rule order, and a transform keeps the value's kind.
func TestFieldRules(t *testing.T) {
	tags := FieldTags{"email": {"PII"}, "phone": {"PII", "CONTACT"}, "score": {"METRIC"}}
	record := func() map[string]any {
		return map[string]any{"email": "a@b.c", "phone": "010-1234", "score": int64(7), "name": "kim", "ok": true}
	}
	cases := []struct {
		name    string
		rules   []Rule
		want    string // the record after the rules, or the violation's reason
		wantErr string // a Compile error
	}{
		{name: "mask PII strings", rules: []Rule{{Name: "mask", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"PII"},
			Expr: "typeName == 'STRING' ; 'xxx'"}},
			want: "map[email:xxx name:kim ok:true phone:xxx score:7]"},
		{name: "guard limits the fields", rules: []Rule{{Name: "mask", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"PII"},
			Expr: "name == 'email' ; value + '#'"}},
			want: "map[email:a@b.c# name:kim ok:true phone:010-1234 score:7]"},
		{name: "untagged rule sees every field", rules: []Rule{{Name: "upper", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD",
			Expr: "typeName == 'STRING' ; value + '!'"}},
			want: "map[email:a@b.c! name:kim! ok:true phone:010-1234! score:7]"},
		{name: "tag nobody carries changes nothing", rules: []Rule{{Name: "n", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"NONE"}, Expr: "'x'"}},
			want: "map[email:a@b.c name:kim ok:true phone:010-1234 score:7]"},
		{name: "numeric transform", rules: []Rule{{Name: "cap", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"METRIC"}, Expr: "value > 5 ? 5 : value"}},
			want: "map[email:a@b.c name:kim ok:true phone:010-1234 score:5]"},
		{name: "condition on tagged fields", rules: []Rule{{Name: "contactShort", Kind: "CONDITION", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"CONTACT"}, Expr: "size(value) < 5"}},
			want: "rule contactShort failed on field phone: size(value) < 5 is false"},
		{name: "tags variable", rules: []Rule{{Name: "tagged", Kind: "CONDITION", Mode: "WRITE", Type: "CEL_FIELD", Expr: "name != 'phone' || 'CONTACT' in tags"}},
			want: "map[email:a@b.c name:kim ok:true phone:010-1234 score:7]"},
		{name: "transform then condition sees the new value", rules: []Rule{
			{Name: "mask", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"PII"}, Expr: "'x'"},
			{Name: "masked", Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: "message.email == 'x'"}},
			want: "map[email:x name:kim ok:true phone:x score:7]"},
		{name: "transform changing the kind", rules: []Rule{{Name: "bad", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"METRIC"}, Expr: "'seven'"}},
			want: "rule bad: the transform of field score yields a string, which does not fit its LONG value"},
		{name: "guard that is not a bool", rules: []Rule{{Name: "g", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Expr: "'x' ; value"}},
			wantErr: `rule g: expression "'x'" yields string, expected a bool`},
		{name: "onFailure NONE lets the record pass", rules: []Rule{{Name: "soft", Kind: "CONDITION", Mode: "WRITE", Type: "CEL", Expr: "message.score > 100", OnFailure: "NONE"}},
			want: "map[email:a@b.c name:kim ok:true phone:010-1234 score:7]"},
		{name: "onFailure NONE on write only", rules: []Rule{{Name: "hard", Kind: "CONDITION", Mode: "WRITEREAD", Type: "CEL", Expr: "message.score > 100", OnFailure: "DLQ,NONE"}},
			want: "rule hard failed: message.score > 100 is false"},
		{name: "field condition with onFailure NONE", rules: []Rule{{Name: "softField", Kind: "CONDITION", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"PII"}, Expr: "false", OnFailure: "NONE,ERROR"}},
			want: "map[email:a@b.c name:kim ok:true phone:010-1234 score:7]"},
		{name: "semicolon inside a string is not a guard", rules: []Rule{{Name: "s", Kind: "TRANSFORM", Mode: "WRITE", Type: "CEL_FIELD", Tags: []string{"PII"}, Expr: "'a;b'"}},
			want: "map[email:a;b name:kim ok:true phone:a;b score:7]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.rules, tags)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Compile = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := record()
			v := s.Check(rec)
			got := fmt.Sprint(rec)
			if v != nil {
				got = v.Reason
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
