package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBadBytesNeverPoisonTables (issue 6, items 1 and 2): records holding invalid UTF-8 (in a value, in a JSON
// name, in the Kafka key a derived column reads), NaN and Infinity, raw control characters and duplicate names
// are rejected with exact reason codes; every reader of the tables (sql over the string columns, rejected,
// completeness) keeps working, and the rejected table's text columns are valid UTF-8.
func TestBadBytesNeverPoisonTables(t *testing.T) {
	e := newEnv(t)
	topic := "bad.bytes"
	createTopic(t, e, topic, 1)
	cfg := e.writeQualityConfig(topic, "bad_bytes", `    enrich:
      derive:
        - {name: source_key, type: string, expr: 'kafka.key == null ? "" : kafka.key'}
    completeness: {producer_field: player_id, seq_field: client_seq}
`)
	valid := func(i int, extra string) string {
		return fmt.Sprintf(`{"event_id":"b-%d","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"level_up","level":3,"client_seq":%d%s}`, i, i+1, extra)
	}
	type rec struct {
		key, value, code string
	}
	recs := []rec{
		{"k0", valid(0, ""), ""},
		{"k1", strings.Replace(valid(1, ""), `"p1"`, "\"utf\xff\xfe\"", 1), "invalid_utf8"},
		{"k2", strings.Replace(valid(2, ""), `"p1"`, "\"a\xc3\x28b\"", 1), "invalid_utf8"},
		{"k3", valid(3, ",\"na\xffme\":1"), "invalid_utf8"},
		{"k4", valid(4, `,"amount":"\ud800"`), "invalid_utf8"},
		{"k5\xff", valid(5, ""), "invalid_utf8"}, // the Kafka key, read into source_key
		{"k6", valid(6, `,"amount":NaN`), "not_json"},
		{"k7", valid(7, `,"amount":-Infinity`), "not_json"},
		{"k8", strings.Replace(valid(8, ""), `"p1"`, "\"p\n1\"", 1), "not_json"},
		{"k9", valid(9, `,"level":4`), "duplicate_key"},
		{"k10", valid(10, ""), ""},
	}
	var krecs []*kgo.Record
	for _, r := range recs {
		krecs = append(krecs, &kgo.Record{Key: []byte(r.key), Value: []byte(r.value)})
	}
	produceTo(t, e, topic, krecs)
	e.finish(e.startStage(cfg), topic, "staging.bad_bytes", "staging.bad_bytes_rejected")

	if got := e.queryInt("select count(*) from staging.bad_bytes"); got != 2 {
		t.Errorf("main table holds %d rows, want 2", got)
	}
	// Every string column reads back, which it would not if any held invalid UTF-8.
	rows := e.query("select string_agg(player_id || source_key || event_id, ',' order by _offset) from staging.bad_bytes")
	if got := rows[0][0]; got != "p1k0b-0,p1k10b-10" {
		t.Errorf("main table strings: got %v", got)
	}
	rows = e.query("select _offset, reason_code, field, reason from staging.bad_bytes_rejected order by _offset")
	if len(rows) != len(recs)-2 {
		t.Fatalf("rejected table holds %d rows, want %d: %v", len(rows), len(recs)-2, rows)
	}
	wantFields := map[int64]string{1: "player_id", 2: "player_id", 3: "na\uFFFDme", 4: "amount", 5: "source_key", 6: "amount", 7: "amount", 8: "player_id", 9: "level"}
	for _, r := range rows {
		off := r[0].(int64)
		if r[1] != recs[off].code {
			t.Errorf("offset %d: reason_code %v, want %s (%v)", off, r[1], recs[off].code, r[3])
		}
		if r[2] != wantFields[off] {
			t.Errorf("offset %d: field %q, want %q", off, r[2], wantFields[off])
		}
	}
	if got := rows[4][3]; got != `derived column "source_key": the value is not valid UTF-8 at byte offset 2 (byte 0xff)` {
		t.Errorf("kafka key reason: %v", got)
	}
	// The raw bytes stay in the binary value column.
	if got := e.queryInt("select octet_length(value) from staging.bad_bytes_rejected where _offset = 1"); got != int64(len(recs[1].value)) {
		t.Errorf("value column holds %d bytes of record 1, want its %d raw bytes", got, len(recs[1].value))
	}
	out := runCLI(t, "rejected", "--config", cfg)
	for _, code := range []string{"invalid_utf8", "not_json", "duplicate_key"} {
		if !strings.Contains(out, code) {
			t.Errorf("bigfather rejected does not list %s:\n%s", code, out)
		}
	}
	runCLI(t, "completeness", "--config", cfg)
	runCLI(t, "sql", "--config", cfg, "select * from staging.bad_bytes_rejected")
}
