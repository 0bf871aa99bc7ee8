package quality

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// TestStrictJSON holds the record scan to RFC 8259 and to the rule that no string Big Father stores is
// invalid UTF-8 (issue 6, items 1 and 2): what fastjson alone accepted is refused with an exact reason.
func TestStrictJSON(t *testing.T) {
	c := columnsChecker(t, testColumns)
	cases := []struct {
		name, record, code, field, reason string
	}{
		{"invalid UTF-8 in a value", "{\"id\":\"utf\xff\xfe\",\"ts\":1}", CodeInvalidUTF8, "id", `field "id": invalid UTF-8 at byte offset 10 (byte 0xff)`},
		{"truncated sequence", "{\"id\":\"a\xc3\x28b\",\"ts\":1}", CodeInvalidUTF8, "id", `field "id": invalid UTF-8 at byte offset 8 (byte 0xc3)`},
		{"UTF-8 encoded surrogate", "{\"id\":\"a\xed\xa0\x80\",\"ts\":1}", CodeInvalidUTF8, "id", `field "id": invalid UTF-8 at byte offset 8 (byte 0xed)`},
		{"overlong encoding", "{\"id\":\"a\xc0\xafb\",\"ts\":1}", CodeInvalidUTF8, "id", `field "id": invalid UTF-8 at byte offset 8 (byte 0xc0)`},
		{"invalid UTF-8 in a nested value", "{\"id\":\"a\",\"ts\":1,\"x\":2,\"meta\":{\"k\":[\"ok\",\"b\xff\"]}}", CodeInvalidUTF8, "meta.k[1]", `field "meta.k[1]": invalid UTF-8 at byte offset 43 (byte 0xff)`},
		{"invalid UTF-8 in a name", "{\"id\":\"a\",\"t\xffs\":1}", CodeInvalidUTF8, "t\uFFFDs", "field name \"t\uFFFDs\": invalid UTF-8 at byte offset 12 (byte 0xff)"},
		{"invalid UTF-8 outside strings", "{\"id\":\xff}", CodeInvalidUTF8, "id", `field "id": invalid UTF-8 at byte offset 6 (byte 0xff), outside any string`},
		{"lone high surrogate", `{"id":"\ud800","ts":1}`, CodeInvalidUTF8, "id", `field "id": the escape \ud800 at byte offset 7 is a lone UTF-16 surrogate, which is not a character`},
		{"lone low surrogate", `{"id":"\udc00x","ts":1}`, CodeInvalidUTF8, "id", `field "id": the escape \udc00 at byte offset 7 is a lone UTF-16 surrogate, which is not a character`},
		{"high surrogate before a non-surrogate", `{"id":"\ud800\u0041","ts":1}`, CodeInvalidUTF8, "id", `field "id": the escape \ud800 at byte offset 7 is a lone UTF-16 surrogate, which is not a character`},
		{"NaN", `{"id":"a","ts":1,"x":NaN}`, CodeNotJSON, "x", `record is not valid JSON: field "x": NaN at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"nan", `{"id":"a","ts":1,"x":nan}`, CodeNotJSON, "x", `record is not valid JSON: field "x": nan at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"-NaN", `{"id":"a","ts":1,"x":-NaN}`, CodeNotJSON, "x", `record is not valid JSON: field "x": -NaN at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"inf", `{"id":"a","ts":1,"x":inf}`, CodeNotJSON, "x", `record is not valid JSON: field "x": inf at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"-inf", `{"id":"a","ts":1,"x":-inf}`, CodeNotJSON, "x", `record is not valid JSON: field "x": -inf at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"Infinity", `{"id":"a","ts":1,"x":Infinity}`, CodeNotJSON, "x", `record is not valid JSON: field "x": Infinity at byte offset 21 is not a JSON value (JSON has no NaN or Infinity)`},
		{"raw newline", "{\"id\":\"a\nb\",\"ts\":1}", CodeNotJSON, "id", `record is not valid JSON: field "id": raw control character 0x0a at byte offset 8 (JSON requires it escaped, e.g. as \u000a)`},
		{"raw NUL", "{\"id\":\"a\x00\",\"ts\":1}", CodeNotJSON, "id", `record is not valid JSON: field "id": raw control character 0x00 at byte offset 8 (JSON requires it escaped, e.g. as \u0000)`},
		{"raw 0x1f", "{\"id\":\"a\x1f\",\"ts\":1}", CodeNotJSON, "id", `record is not valid JSON: field "id": raw control character 0x1f at byte offset 8 (JSON requires it escaped, e.g. as \u001f)`},
		{"control character in a name", "{\"i\td\":\"a\",\"ts\":1}", CodeNotJSON, "i\uFFFDd", "record is not valid JSON: field name \"i\uFFFDd\": raw control character 0x09 at byte offset 3 (JSON requires it escaped, e.g. as \\u0009)"},
		{"unknown escape", `{"id":"a\qb","ts":1}`, CodeNotJSON, "id", `record is not valid JSON: field "id": invalid escape \q at byte offset 8`},
		{"short unicode escape", `{"id":"a\u12","ts":1}`, CodeNotJSON, "id", `record is not valid JSON: field "id": invalid escape \u12", at byte offset 8 (\u needs four hex digits)`},
		{"duplicate key", `{"id":"a","ts":1,"id":"b"}`, CodeDuplicateKey, "id", `field "id" is given twice in one object (at byte offsets 1 and 17); each field may appear once`},
		{"duplicate key through an escape", `{"id":"a","ts":1,"\u0069d":"b"}`, CodeDuplicateKey, `\u0069d`, `field "\\u0069d" is given twice in one object (at byte offsets 1 and 17); each field may appear once`},
		{"duplicate nested key", `{"id":"a","ts":1,"meta":{"k":1,"k":2}}`, CodeDuplicateKey, "meta.k", `field "meta.k" is given twice in one object (at byte offsets 25 and 31); each field may appear once`},
		{"leading zero", `{"id":"a","ts":01}`, CodeNotJSON, "ts", `record is not valid JSON: field "ts": invalid number "01" at byte offset 15`},
		{"plus sign", `{"id":"a","ts":+1}`, CodeNotJSON, "ts", `record is not valid JSON: field "ts": unexpected '+' at byte offset 15, expected a value`},
		{"bare fraction", `{"id":"a","ts":.5}`, CodeNotJSON, "ts", `record is not valid JSON: field "ts": unexpected '.' at byte offset 15, expected a value`},
		{"trailing comma", `{"id":"a","ts":1,}`, CodeNotJSON, "", `record is not valid JSON: unexpected '}' at byte offset 17, expected a quoted field name`},
		{"single quotes", `{'id':"a"}`, CodeNotJSON, "", `record is not valid JSON: unexpected ''' at byte offset 1, expected a quoted field name`},
		{"two values", `{"id":"a","ts":1}{}`, CodeNotJSON, "", `record is not valid JSON: unexpected '{' at byte offset 17, after the end of the JSON value`},
	}
	out := make([]row.Value, len(testColumns))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Check([]byte(tc.record), time.Now(), out)
			if v == nil {
				t.Fatalf("Check(%q) accepted the record", tc.record)
			}
			if v.Code != tc.code || v.Field != tc.field || v.Reason != tc.reason {
				t.Errorf("Check(%q)\n got %s %q: %s\nwant %s %q: %s", tc.record, v.Code, v.Field, v.Reason, tc.code, tc.field, tc.reason)
			}
		})
	}

	// What RFC 8259 allows still passes: escapes of every kind, surrogate pairs, all whitespace, exponents.
	good := []string{
		`{"id":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","ts":1}`,
		" \t\r\n{ \"id\" : \"é😀\" , \"ts\" : 1 , \"n\" : -0 , \"x\" : 1.5E+3 , \"meta\" : { } , \"tags\" : [ ] } \n",
		`{"id":"a","ts":1,"x":-0.0e-0,"meta":{"a":{"b":[true,false,null]}}}`,
	}
	for _, rec := range good {
		if v := c.Check([]byte(rec), time.Now(), out); v != nil {
			t.Errorf("Check(%q) = %v, want accepted", rec, v)
		}
	}
	if v := c.Check([]byte(`{"id":"a\u00e9\ud83d\ude00","ts":1}`), time.Now(), out); v != nil || string(out[0].S) != "aé😀" {
		t.Errorf("escapes: got %q (%v), want \"aé😀\"", out[0].S, v)
	}
}

// TestManyKeys checks duplicate detection past the list it keeps for small objects.
func TestManyKeys(t *testing.T) {
	c := columnsChecker(t, testColumns)
	var b strings.Builder
	b.WriteString(`{"id":"a","ts":1`)
	for i := range 200 {
		b.WriteString(`,"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1`)
	}
	rec := b.String() + "}"
	out := make([]row.Value, len(testColumns))
	if v := c.Check([]byte(rec), time.Now(), out); v != nil {
		t.Fatalf("200 distinct keys: %v", v)
	}
	name := "k" + strings.Repeat("x", 150%7) + string(rune('a'+150%26)) + string(rune('a'+150/26))
	rec = b.String() + `,"` + name + `":2}`
	v := c.Check([]byte(rec), time.Now(), out)
	if v == nil || v.Code != CodeDuplicateKey || v.Field != name {
		t.Fatalf("a duplicate among 200 keys: got %v, want duplicate_key on %s", v, name)
	}
}

// TestNumbersForIntegerColumns: integral numbers in any notation fill long and int columns exactly; a
// fraction is "not an integer" (wrong_type); only values outside the type are out_of_range (issue 6,
// item 12).
func TestNumbersForIntegerColumns(t *testing.T) {
	c := columnsChecker(t, testColumns)
	out := make([]row.Value, len(testColumns))
	accepted := []struct {
		text string
		want int64
	}{
		{"1e2", 100}, {"1.0", 1}, {"12.0", 12}, {"-3.50e1", -35}, {"1.5e3", 1500}, {"0.0", 0}, {"-0", 0}, {"0e5", 0},
		{"120e-1", 12}, {"9223372036854775807.0", 9223372036854775807}, {"-9223372036854775808", -9223372036854775808},
		{"-92233720368547758.08e2", -9223372036854775808}, {"9007199254740993.0", 9007199254740993}, {"0.000123e6", 123},
	}
	for _, tc := range accepted {
		rec := `{"id":"a","ts":1,"n":` + tc.text + `}`
		if v := c.Check([]byte(rec), time.Now(), out); v != nil {
			t.Errorf("%s: %v", tc.text, v)
			continue
		}
		if out[2].I != tc.want {
			t.Errorf("%s: got %d, want %d", tc.text, out[2].I, tc.want)
		}
	}
	rejected := []struct{ text, code, reason string }{
		{"1.5", CodeWrongType, `field "n": expected an integer (long), got number 1.5`},
		{"12.01", CodeWrongType, `field "n": expected an integer (long), got number 12.01`},
		{"1e-1", CodeWrongType, `field "n": expected an integer (long), got number 1e-1`},
		{"9223372036854775808", CodeOutOfRange, `field "n": value 9223372036854775808 is out of range for long`},
		{"9223372036854775807.5", CodeWrongType, `field "n": expected an integer (long), got number 9223372036854775807.5`},
		{"1e19", CodeOutOfRange, `field "n": value 1e19 is out of range for long`},
		{"1e400", CodeOutOfRange, `field "n": value 1e400 is out of range for long`},
	}
	for _, tc := range rejected {
		rec := `{"id":"a","ts":1,"n":` + tc.text + `}`
		v := c.Check([]byte(rec), time.Now(), out)
		if v == nil || v.Code != tc.code || v.Reason != tc.reason {
			t.Errorf("%s: got %v, want %s: %s", tc.text, v, tc.code, tc.reason)
		}
	}
	if v := c.Check([]byte(`{"id":"a","ts":1,"small":3e9}`), time.Now(), out); v == nil || v.Reason != `field "small": value 3e9 is out of range for int` {
		t.Errorf("3e9 in an int column: got %v", v)
	}
}

// TestFarFutureReason: a timestamp centuries ahead is reported with the true distance, not an overflowed
// duration.
func TestFarFutureReason(t *testing.T) {
	p := config.Default(t.TempDir()).Pipelines[0]
	p.Definitions, p.Cleanse, p.Enrich, p.Dedup, p.Completeness = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}, config.Completeness{}
	p.Table.Columns = []config.Column{{Name: "ts", Type: config.TypeTimestamp}}
	p.Cleanse.Future = config.FutureRule{Field: "ts", MaxSkew: 10 * time.Minute, Action: "reject"}
	c, err := New(&p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	out := make([]row.Value, 1)
	cases := []struct{ ts, reason string }{
		{"2026-11-30T01:00:00Z", `field "ts": 2026-11-30T01:00:00Z is 1h0m0s ahead of now, more than the 10m0s allowed`},
		{"2338-01-01T00:00:00Z", `field "ts": 2338-01-01T00:00:00Z is 2726928h0m0s ahead of now, more than the 10m0s allowed`},
		{"9999-12-31T23:59:59Z", `field "ts": 9999-12-31T23:59:59Z is 69890639h59m59s ahead of now, more than the 10m0s allowed`},
	}
	for _, tc := range cases {
		v := c.Check([]byte(`{"ts":"`+tc.ts+`"}`), now, out)
		if v == nil || v.Code != CodeFutureTimestamp || v.Reason != tc.reason {
			t.Errorf("%s: got %v\nwant %s", tc.ts, v, tc.reason)
		}
	}
}

// TestEpochRule: coerce_timestamps reads magnitudes below 1e10 as seconds and from 1e11 as milliseconds; the
// band between, where one digit moves the time by centuries, is refused.
func TestEpochRule(t *testing.T) {
	p := config.Default(t.TempDir()).Pipelines[0]
	p.Definitions, p.Cleanse, p.Enrich, p.Dedup, p.Completeness = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}, config.Completeness{}
	p.Table.Columns = []config.Column{{Name: "ts", Type: config.TypeTimestamp}}
	p.Cleanse.CoerceTimestamps = true
	c, err := New(&p)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row.Value, 1)
	accepted := []struct{ in, want string }{
		{"1798728000", "2026-12-31T14:40:00Z"},
		{`"1798728000"`, "2026-12-31T14:40:00Z"},
		{"9999999999", "2286-11-20T17:46:39Z"},
		{"100000000000", "1973-03-03T09:46:40Z"},
		{"1798728000123", "2026-12-31T14:40:00.123Z"},
		{"-86400", "1969-12-31T00:00:00Z"},
		{"1798728000.5", "2026-12-31T14:40:00.5Z"},
	}
	for _, tc := range accepted {
		if v := c.Check([]byte(`{"ts":`+tc.in+`}`), time.Now(), out); v != nil {
			t.Errorf("%s: %v", tc.in, v)
			continue
		}
		if got := time.UnixMicro(out[0].I).UTC().Format(time.RFC3339Nano); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
	rejected := []struct{ in, reason string }{
		{"99999999999", `field "ts": epoch value 99999999999 is ambiguous: 5138-11-16 as seconds, 1973-03-03 as milliseconds (seconds must be below 10000000000, milliseconds at least 100000000000)`},
		{"10000000000", `field "ts": epoch value 10000000000 is ambiguous: 2286-11-20 as seconds, 1970-04-26 as milliseconds (seconds must be below 10000000000, milliseconds at least 100000000000)`},
		{`"-10000000000"`, `field "ts": epoch value -10000000000 is ambiguous: 1653-02-10 as seconds, 1969-09-07 as milliseconds (seconds must be below 10000000000, milliseconds at least 100000000000)`},
		{"12345678901.5", `field "ts": epoch value 12345678901.5 is ambiguous: 2361-03-21 as seconds, 1970-05-23 as milliseconds (seconds must be below 10000000000, milliseconds at least 100000000000)`},
	}
	for _, tc := range rejected {
		v := c.Check([]byte(`{"ts":`+tc.in+`}`), time.Now(), out)
		if v == nil || v.Code != CodeOutOfRange || v.Field != "ts" || v.Reason != tc.reason {
			t.Errorf("%s: got %v\nwant out_of_range: %s", tc.in, v, tc.reason)
		}
	}
}

// TestDeepNesting: records nested past fastjson's own limit of 300 are too_deep with a bounded reason,
// at every configured limit up to 300.
func TestDeepNesting(t *testing.T) {
	for _, limit := range []int{4, 32, 300} {
		p := config.Default(t.TempDir()).Pipelines[0]
		p.Definitions, p.Cleanse, p.Enrich, p.Dedup, p.Completeness = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}, config.Completeness{}
		p.Table.Columns = []config.Column{{Name: "b", Type: config.TypeString}}
		p.Limits.MaxDepth = limit
		c, err := New(&p)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]row.Value, 1)
		// Exactly at the limit passes.
		at := strings.Repeat(`{"a":`, limit-1) + "{}" + strings.Repeat("}", limit-1)
		if v := c.Check([]byte(at), time.Now(), out); v != nil {
			t.Errorf("limit %d: a record %d levels deep: %v", limit, limit, v)
		}
		deep := strings.Repeat(`{"abcdefgh":`, 5000) + "1" + strings.Repeat("}", 5000)
		v := c.Check([]byte(deep), time.Now(), out)
		if v == nil || v.Code != CodeTooDeep {
			t.Fatalf("limit %d: got %v, want too_deep", limit, v)
		}
		if len(v.Reason) > 400 || len(v.Field) > maxPathBytes+len("…") {
			t.Errorf("limit %d: reason of %d bytes, field of %d: %s", limit, len(v.Reason), len(v.Field), v.Reason)
		}
		if !strings.HasSuffix(v.Reason, "…\": nesting depth "+strconv.Itoa(limit+1)+" is more than the "+strconv.Itoa(limit)+"-level limit") && limit > 4 {
			t.Errorf("limit %d: reason %s", limit, v.Reason)
		}
	}
}
