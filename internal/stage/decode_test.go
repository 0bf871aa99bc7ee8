package stage

import (
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
)

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

func TestDecodeRejections(t *testing.T) {
	cases := []struct {
		name, record, code, reason string
	}{
		{"truncated", `{"id":"a`, ReasonNotJSON, `record is not valid JSON: cannot parse object: cannot parse object value: cannot parse string: missing closing '"'`},
		{"empty", ``, ReasonNotJSON, `record is empty, expected a JSON object`},
		{"blank", " \n", ReasonNotJSON, `record is empty, expected a JSON object`},
		{"trailing garbage", `{"id":"a","ts":1} x`, ReasonNotJSON, `record is not valid JSON: unexpected tail: "x"`},
		{"array", `[1]`, ReasonNotObject, `record is a JSON array, expected an object`},
		{"string", `"hello"`, ReasonNotObject, `record is a JSON string, expected an object`},
		{"missing required", `{"ts":"2026-01-02T03:04:05Z"}`, ReasonMissingField, `required field "id" is missing (expected string)`},
		{"null required", `{"id":null,"ts":"2026-01-02T03:04:05Z"}`, ReasonMissingField, `required field "id" is null (expected string)`},
		{"string as number", `{"id":7,"ts":"2026-01-02T03:04:05Z"}`, ReasonWrongType, `field "id": expected a string, got number 7`},
		{"bad timestamp", `{"id":"a","ts":"yesterday"}`, ReasonWrongType, `field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got string "yesterday"`},
		{"timestamp object", `{"id":"a","ts":{}}`, ReasonWrongType, `field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got an object`},
		{"fractional long", `{"id":"a","ts":1,"n":1.5}`, ReasonWrongType, `field "n": expected an integer (long), got number 1.5`},
		{"long as string", `{"id":"a","ts":1,"n":"12"}`, ReasonWrongType, `field "n": expected an integer (long), got string "12"`},
		{"long overflow", `{"id":"a","ts":1,"n":99999999999999999999}`, ReasonOutOfRange, `field "n": value 99999999999999999999 is out of range for long`},
		{"int overflow", `{"id":"a","ts":1,"small":3000000000}`, ReasonOutOfRange, `field "small": value 3000000000 is out of range for int`},
		{"double as bool", `{"id":"a","ts":1,"x":true}`, ReasonWrongType, `field "x": expected a number (double), got boolean true`},
		{"float overflow", `{"id":"a","ts":1,"f":1e300}`, ReasonOutOfRange, `field "f": value 1e300 is out of range for float`},
		{"bool as string", `{"id":"a","ts":1,"ok":"yes"}`, ReasonWrongType, `field "ok": expected true or false (boolean), got string "yes"`},
		{"bad date", `{"id":"a","ts":1,"day":"2026-13-01"}`, ReasonWrongType, `field "day": expected a YYYY-MM-DD string (date), got string "2026-13-01"`},
		{"array value", `{"id":["a"],"ts":1}`, ReasonWrongType, `field "id": expected a string, got an array`},
		{"long string clipped", `{"id":"a","ts":"` + string(make([]byte, 0)) + `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`, ReasonWrongType,
			`field "ts": expected an RFC 3339 string or epoch milliseconds (timestamp), got string "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…"`},
	}
	d := newDecoder(testColumns)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rej := d.decode([]byte(tc.record))
			if rej == nil {
				t.Fatalf("decode(%s) accepted the record", tc.record)
			}
			if rej.Code != tc.code || rej.Reason != tc.reason {
				t.Errorf("decode(%s)\n got %s: %s\nwant %s: %s", tc.record, rej.Code, rej.Reason, tc.code, tc.reason)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	d := newDecoder(testColumns)
	rec := `{"id":"a\"b","ts":"2026-01-02T03:04:05.123456Z","n":-42,"small":7,"x":1.5,"f":2,"ok":true,"day":"2026-01-02","extra":{"ignored":1}}`
	if rej := d.decode([]byte(rec)); rej != nil {
		t.Fatalf("rejected: %v", rej)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	want := []value{
		{s: []byte(`a"b`)},
		{i: ts.UnixMicro()},
		{i: -42},
		{i: 7},
		{f: 1.5},
		{f: 2},
		{i: 1},
		{i: ts.Truncate(24*time.Hour).Unix() / 86400},
	}
	for i, w := range want {
		got := d.vals[i]
		if got.null || got.i != w.i || got.f != w.f || string(got.s) != string(w.s) {
			t.Errorf("column %s: got %+v, want %+v", testColumns[i].Name, got, w)
		}
	}

	// Epoch milliseconds, nulls and absent optional fields.
	if rej := d.decode([]byte(`{"id":"b","ts":1767323045123,"n":null}`)); rej != nil {
		t.Fatalf("rejected: %v", rej)
	}
	if got := d.vals[1].i; got != 1767323045123000 {
		t.Errorf("epoch millis: got %d µs", got)
	}
	for i := 2; i < len(testColumns); i++ {
		if !d.vals[i].null {
			t.Errorf("column %s: want null, got %+v", testColumns[i].Name, d.vals[i])
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	cols := []config.Column{
		{Name: "event_id", Type: config.TypeString, Required: true},
		{Name: "event_time", Type: config.TypeTimestamp, Required: true},
		{Name: "player_id", Type: config.TypeString, Required: true},
		{Name: "event_type", Type: config.TypeString, Required: true},
		{Name: "level", Type: config.TypeInt},
		{Name: "item_id", Type: config.TypeString},
		{Name: "amount", Type: config.TypeDouble},
		{Name: "platform", Type: config.TypeString},
		{Name: "country", Type: config.TypeString},
		{Name: "client_seq", Type: config.TypeLong},
	}
	rec := []byte(`{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-11-21T20:42:35.617Z","player_id":"p000891","event_type":"item_acquire","level":10,"item_id":"helmet_15","platform":"ios","country":"US","client_seq":3}`)
	d := newDecoder(cols)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if rej := d.decode(rec); rej != nil {
			b.Fatal(rej)
		}
	}
}
