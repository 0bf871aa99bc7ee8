package quality

import (
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// These cases come from the stage decoder's tests (internal/stage/decode_test.go): without definitions a
// Checker must reject and convert exactly as the decoder did, messages included.

var testColumns = []config.Column{
	{Name: "id", Type: config.TypeString, Required: true},
	{Name: "ts", Type: config.TypeTimestamp, Required: true},
	{Name: "n", Type: config.TypeLong},
	{Name: "small", Type: config.TypeInt},
	{Name: "x", Type: config.TypeDouble},
	{Name: "f", Type: config.TypeFloat},
	{Name: "ok", Type: config.TypeBoolean},
	{Name: "day", Type: config.TypeDate},
}

func columnsChecker(t testing.TB, cols []config.Column) *Checker {
	t.Helper()
	c, err := New(&config.Pipeline{Name: "p", Table: config.Table{Name: "s.t", Columns: cols}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestColumnsRejections(t *testing.T) {
	cases := []struct {
		name, record, code, field, reason string
	}{
		{"truncated", `{"id":"a`, CodeNotJSON, "id", `record is not valid JSON: field "id": unexpected end of the record in the string that starts at byte offset 6`},
		{"empty", ``, CodeNotJSON, "", `record is empty, expected a JSON object`},
		{"blank", " \n", CodeNotJSON, "", `record is empty, expected a JSON object`},
		{"trailing garbage", `{"id":"a","ts":1} x`, CodeNotJSON, "", `record is not valid JSON: unexpected 'x' at byte offset 18, after the end of the JSON value`},
		{"array", `[1]`, CodeNotObject, "", `record is a JSON array, expected an object`},
		{"string", `"hello"`, CodeNotObject, "", `record is a JSON string, expected an object`},
		{"missing required", `{"ts":"2026-01-02T03:04:05Z"}`, CodeMissingField, "id", `required field "id" is missing (expected string)`},
		{"null required", `{"id":null,"ts":"2026-01-02T03:04:05Z"}`, CodeMissingField, "id", `required field "id" is null (expected string)`},
		{"string as number", `{"id":7,"ts":"2026-01-02T03:04:05Z"}`, CodeWrongType, "id", `field "id": expected a string, got number 7`},
		{"bad timestamp", `{"id":"a","ts":"yesterday"}`, CodeWrongType, "ts", `field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got string "yesterday"`},
		{"timestamp object", `{"id":"a","ts":{}}`, CodeWrongType, "ts", `field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got an object`},
		{"fractional long", `{"id":"a","ts":1,"n":1.5}`, CodeWrongType, "n", `field "n": expected an integer (long), got number 1.5`},
		{"long as string", `{"id":"a","ts":1,"n":"12"}`, CodeWrongType, "n", `field "n": expected an integer (long), got string "12"`},
		{"long overflow", `{"id":"a","ts":1,"n":99999999999999999999}`, CodeOutOfRange, "n", `field "n": value 99999999999999999999 is out of range for long`},
		{"integral but too large for long", `{"id":"a","ts":1,"n":9.3e18}`, CodeOutOfRange, "n", `field "n": value 9.3e18 is out of range for long`},
		{"fraction in exponent form", `{"id":"a","ts":1,"n":1.25e1}`, CodeWrongType, "n", `field "n": expected an integer (long), got number 1.25e1`},
		{"int overflow", `{"id":"a","ts":1,"small":3000000000}`, CodeOutOfRange, "small", `field "small": value 3000000000 is out of range for int`},
		{"double as bool", `{"id":"a","ts":1,"x":true}`, CodeWrongType, "x", `field "x": expected a number (double), got boolean true`},
		{"float overflow", `{"id":"a","ts":1,"f":1e300}`, CodeOutOfRange, "f", `field "f": value 1e300 is out of range for float`},
		{"double overflow", `{"id":"a","ts":1,"x":1e400}`, CodeOutOfRange, "x", `field "x": value 1e400 is out of range for double`},
		{"bool as string", `{"id":"a","ts":1,"ok":"yes"}`, CodeWrongType, "ok", `field "ok": expected true or false (boolean), got string "yes"`},
		{"bad date", `{"id":"a","ts":1,"day":"2026-13-01"}`, CodeWrongType, "day", `field "day": expected a YYYY-MM-DD string (date), got string "2026-13-01"`},
		{"fractional millis", `{"id":"a","ts":1.5}`, CodeWrongType, "ts", `field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got number 1.5`},
		{"array value", `{"id":["a"],"ts":1}`, CodeWrongType, "id", `field "id": expected a string, got an array`},
		{"long string clipped", `{"id":"a","ts":"` + strings.Repeat("a", 81) + `"}`, CodeWrongType, "ts",
			`field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got string "` + strings.Repeat("a", 64) + `…"`},
	}
	c := columnsChecker(t, testColumns)
	out := make([]row.Value, len(testColumns))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Check([]byte(tc.record), time.Now(), out)
			if v == nil {
				t.Fatalf("Check(%s) accepted the record", tc.record)
			}
			if v.Code != tc.code || v.Field != tc.field || v.Reason != tc.reason {
				t.Errorf("Check(%s)\n got %s %q: %s\nwant %s %q: %s", tc.record, v.Code, v.Field, v.Reason, tc.code, tc.field, tc.reason)
			}
			if want := tc.code + ": " + tc.reason; v.Error() != want {
				t.Errorf("Error() = %q, want %q", v.Error(), want)
			}
		})
	}
}

func TestColumnsValues(t *testing.T) {
	c := columnsChecker(t, testColumns)
	out := make([]row.Value, len(testColumns))
	rec := `{"id":"a\"b","ts":"2026-01-02T03:04:05.123456Z","n":-42,"small":7,"x":1.5,"f":2,"ok":true,"day":"2026-01-02","extra":{"ignored":1}}`
	if v := c.Check([]byte(rec), time.Now(), out); v != nil {
		t.Fatalf("rejected: %v", v)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	want := []row.Value{
		{S: []byte(`a"b`)},
		{I: ts.UnixMicro()},
		{I: -42},
		{I: 7},
		{F: 1.5},
		{F: 2},
		{I: 1},
		{I: ts.Truncate(24*time.Hour).Unix() / 86400},
	}
	for i, w := range want {
		if got := out[i]; got.Null || got.I != w.I || got.F != w.F || string(got.S) != string(w.S) {
			t.Errorf("column %s: got %+v, want %+v", testColumns[i].Name, got, w)
		}
	}

	// Epoch milliseconds, nulls and absent optional fields.
	if v := c.Check([]byte(`{"id":"b","ts":1767323045123,"n":null}`), time.Now(), out); v != nil {
		t.Fatalf("rejected: %v", v)
	}
	if got := out[1].I; got != 1767323045123000 {
		t.Errorf("epoch millis: got %d µs", got)
	}
	for i := 2; i < len(testColumns); i++ {
		if !out[i].Null {
			t.Errorf("column %s: want null, got %+v", testColumns[i].Name, out[i])
		}
	}

	// A key given twice is a duplicate_key, never a silent choice of one of the values.
	v := c.Check([]byte(`{"id":"first","ts":1,"id":"last"}`), time.Now(), out)
	if v == nil || v.Code != CodeDuplicateKey || v.Field != "id" {
		t.Fatalf("duplicate key: got %v, want duplicate_key on id", v)
	}
	if _, ok := c.EventType(); ok {
		t.Error("EventType reports a type without definitions")
	}
}

// TestColumnsTimestamps holds the fast RFC 3339 parser to time.Parse, which the decoder used.
func TestColumnsTimestamps(t *testing.T) {
	c := columnsChecker(t, []config.Column{{Name: "ts", Type: config.TypeTimestamp}, {Name: "d", Type: config.TypeDate}})
	out := make([]row.Value, 2)
	for _, s := range []string{
		"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.1234567891Z",
		"2026-01-02T03:04:05+09:00", "2026-01-02T03:04:05-00:30", "2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05+23:60",
		"2026-01-02T3:04:05Z", "2026-01-02t03:04:05Z", "2026-01-02T03:04:05z", "2026-01-02T03:04:05,123Z", "2026-01-02T03:04:05.Z",
		"2026-01-02T03:04:60Z", "2026-02-29T03:04:05Z", "2024-02-29T23:59:59.999999Z", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z",
		"2026-01-02 03:04:05Z", "2026-01-02T03:04:05+0900", "2026-01-02T03:04:05", "9999-12-31T23:59:59Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		v := c.Check([]byte(`{"ts":"`+s+`"}`), time.Now(), out)
		switch {
		case err != nil && v == nil:
			t.Errorf("%s: accepted, time.Parse says %v", s, err)
		case err == nil && v != nil:
			t.Errorf("%s: rejected (%v), time.Parse accepts it", s, v)
		case err == nil && out[0].I != want.UnixMicro():
			t.Errorf("%s: got %d µs, want %d", s, out[0].I, want.UnixMicro())
		}
	}
	for _, s := range []string{"2026-01-02", "2024-02-29", "2026-02-29", "0000-01-01", "1969-12-31", "2026-1-02", "2026-01-02x", "2026-04-31"} {
		want, err := time.Parse(time.DateOnly, s)
		v := c.Check([]byte(`{"d":"`+s+`"}`), time.Now(), out)
		switch {
		case (err == nil) != (v == nil):
			t.Errorf("%s: verdict %v, time.Parse says %v", s, v, err)
		case err == nil && out[1].I != want.Unix()/86400:
			t.Errorf("%s: got day %d, want %d", s, out[1].I, want.Unix()/86400)
		}
	}
}
