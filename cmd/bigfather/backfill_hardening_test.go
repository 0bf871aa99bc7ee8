package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// writeLines writes records as a JSON Lines file, creating its directory, and returns its content digest as
// backfill sources carry it.
func writeLines(t *testing.T, path string, recs ...[]byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Join(recs, []byte("\n")), '\n')
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16]
}

// backfillSays runs `bigfather backfill` and checks the start of its summary.
func backfillSays(t *testing.T, want string, args ...string) {
	t.Helper()
	if out := runCLI(t, append([]string{"backfill"}, args...)...); !strings.HasPrefix(out, want) {
		t.Errorf("backfill %s said %q, want prefix %q", strings.Join(args, " "), out, want)
	}
}

// TestBackfillSourceByContent: a backfilled file is identified by its content, not its name. A different
// file of the same name is a new source staged whole; the same content under another name and directory is a
// no-op; a name that is not valid UTF-8 reaches the _topic column escaped, and the table stays readable.
func TestBackfillSourceByContent(t *testing.T) {
	e := newEnv(t)
	cfg := e.writeQualityConfig("content.events", "content_events", "")
	var first, second, third [][]byte
	for i := 0; i < 100; i++ {
		first = append(first, eventJSON(fmt.Sprintf("a-%03d", i), i))
	}
	for i := 0; i < 150; i++ {
		second = append(second, eventJSON(fmt.Sprintf("b-%03d", i), i))
	}
	for i := 0; i < 10; i++ {
		third = append(third, eventJSON(fmt.Sprintf("c-%03d", i), i))
	}
	bf := filepath.Join(e.dir, "files", "bf.jsonl")
	sum1 := writeLines(t, bf, first...)
	backfillSays(t, "read 100 records: staged 100, duplicates dropped 0, rejected 0, filtered 0; 0 already staged before", "--config", cfg, "--from", bf)

	// Another file of the same name: a new source, every line staged.
	other := filepath.Join(e.dir, "other", "bf.jsonl")
	sum2 := writeLines(t, other, second...)
	backfillSays(t, "read 150 records: staged 150, duplicates dropped 0, rejected 0, filtered 0; 0 already staged before", "--config", cfg, "--from", other)

	// The first file's content, renamed and moved: already staged.
	moved := filepath.Join(e.dir, "moved", "renamed.jsonl")
	if sum := writeLines(t, moved, first...); sum != sum1 {
		t.Fatalf("digest %s, want %s", sum, sum1)
	}
	backfillSays(t, "read 0 records: staged 0, duplicates dropped 0, rejected 0, filtered 0; 100 already staged before", "--config", cfg, "--from", moved)

	// A file name that is not UTF-8.
	bad := filepath.Join(e.dir, "files", "bad\xff\xfe.jsonl")
	sum3 := writeLines(t, bad, third...)
	backfillSays(t, "read 10 records: staged 10, duplicates dropped 0, rejected 0, filtered 0; 0 already staged before", "--config", cfg, "--from", bad)

	e.assertRows("staging.content_events", 260)
	for src, want := range map[string]int64{
		"backfill:bf.jsonl@" + sum1:          100,
		"backfill:bf.jsonl@" + sum2:          150,
		`backfill:bad\xff\xfe.jsonl@` + sum3: 10,
	} {
		if got := e.queryInt("select count(*) from staging.content_events where _topic = '" + src + "'"); got != want {
			t.Errorf("%d rows of source %s, want %d", got, src, want)
		}
	}
	if got := e.queryInt("select count(distinct _topic) from staging.content_events"); got != 3 {
		t.Errorf("%d sources, want 3", got)
	}
	// Every string column reads back (DuckDB refuses invalid UTF-8 in Parquet strings).
	if rows := e.query("select _topic, event_id from staging.content_events"); len(rows) != 260 {
		t.Errorf("read %d rows back, want 260", len(rows))
	}
}

// TestBackfillOversizeLine: lines over the record size limit (one of 2,000,000 bytes, one of 5,000) land in the
// rejected table as oversize, with the checker's reason, their true length and their first limit bytes; the
// lines around them are staged, and a rerun does nothing.
func TestBackfillOversizeLine(t *testing.T) {
	e := newEnv(t)
	cfg := e.writeQualityConfig("oversize.events", "oversize_events", "    limits: {max_record_bytes: 4096}\n")
	pad := func(id string, size int) []byte {
		head := `{"event_id":"` + id + `","pad":"`
		return []byte(head + strings.Repeat("z", size-len(head)-2) + `"}`)
	}
	huge, big := pad("huge", 2_000_000), pad("big", 5000)
	recs := [][]byte{eventJSON("o-0", 0), eventJSON("o-1", 1), eventJSON("o-2", 2), huge, {}, eventJSON("o-5", 5),
		eventJSON("o-6", 6), eventJSON("o-7", 7), big, eventJSON("o-9", 9)}
	path := filepath.Join(e.dir, "files", "oversize.jsonl")
	writeLines(t, path, recs...)
	backfillSays(t, "read 9 records: staged 7, duplicates dropped 0, rejected 2, filtered 0; 0 already staged before", "--config", cfg, "--from", path)
	e.assertRows("staging.oversize_events", 7)

	rows := e.query("select _offset, reason_code, reason, field, value from staging.oversize_events_rejected order by _offset")
	want := []struct {
		offset int64
		reason string
		value  []byte
	}{
		{3, "record is 2000000 bytes, more than the 4096-byte limit", huge[:4096]},
		{8, "record is 5000 bytes, more than the 4096-byte limit", big[:4096]},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rejected rows, want %d: %v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		value, _ := r[4].([]byte)
		if r[0] != w.offset || r[1] != "oversize" || r[2] != w.reason || r[3] != nil || !bytes.Equal(value, w.value) {
			t.Errorf("rejected row %d: offset %v, %v: %v, field %v, %d value bytes; want offset %d, oversize: %s, no field, the line's first 4096 bytes",
				i, r[0], r[1], r[2], r[3], len(value), w.offset, w.reason)
		}
	}
	backfillSays(t, "read 0 records: staged 0, duplicates dropped 0, rejected 0, filtered 0; 10 already staged before", "--config", cfg, "--from", path)
	e.assertRows("staging.oversize_events", 7)
	if got := e.queryInt("select count(*) from staging.oversize_events_rejected"); got != 2 {
		t.Errorf("%d rejected rows after the rerun, want 2", got)
	}
}

// TestReplayRejectedOnce: the live pipeline rejects malformed records and, under a 300-byte limit, long ones.
// With the limit raised, replaying both partitions stages exactly the long records, drops everything else as
// already held, and adds nothing to the rejected table.
func TestReplayRejectedOnce(t *testing.T) {
	const total = 400
	e := newEnv(t)
	topic := "replayrej.events"
	createTopic(t, e, topic, 2)
	type counts struct{ valid, bad, long int64 }
	per := [2]counts{}
	var recs []*kgo.Record
	for i := 0; i < total; i++ {
		p := i % 2
		var v []byte
		switch i % 20 {
		case 0, 7:
			v, _ = malformed(i)
			per[p].bad++
		case 11, 14:
			ts := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
			v = []byte(fmt.Sprintf(`{"event_id":"long-%03d","event_time":%q,"player_id":"p%s","event_type":"level_up","level":1,"client_seq":%d}`,
				i, ts.Format(time.RFC3339), strings.Repeat("0", 300), i))
			per[p].long++
		default:
			v = eventJSON(fmt.Sprintf("r-%03d", i), i)
			per[p].valid++
		}
		recs = append(recs, &kgo.Record{Partition: int32(p), Value: v})
	}
	produceTo(t, e, topic, recs)
	dedupYAML := "    dedup: {field: event_id, window: 24h}\n"
	cfg := e.writeQualityConfig(topic, "replayrej_events", dedupYAML+"    limits: {max_record_bytes: 300}\n")
	e.finish(e.startStage(cfg), topic, "staging.replayrej_events", "staging.replayrej_events_rejected")
	valid, bad, long := per[0].valid+per[1].valid, per[0].bad+per[1].bad, per[0].long+per[1].long
	e.assertRows("staging.replayrej_events", valid)
	if got := e.queryInt("select count(*) from staging.replayrej_events_rejected"); got != bad+long {
		t.Fatalf("live: %d rejected rows, want %d", got, bad+long)
	}

	cfg = e.writeQualityConfig(topic, "replayrej_events", dedupYAML)
	for p, c := range per {
		want := fmt.Sprintf("read %d records: staged %d, duplicates dropped %d, rejected 0, filtered 0; 0 already staged before",
			c.valid+c.bad+c.long, c.long, c.valid+c.bad)
		backfillSays(t, want, "--config", cfg, "--from-offsets", fmt.Sprintf("%s:%d:0-", topic, p))
	}
	e.assertRows("staging.replayrej_events", valid+long)
	if got := e.queryInt("select count(*) from staging.replayrej_events where _topic = 'replay:" + topic + "'"); got != long {
		t.Errorf("%d rows staged by the replay, want %d", got, long)
	}
	if got := e.queryInt("select count(*) from staging.replayrej_events_rejected"); got != bad+long {
		t.Errorf("after the replay: %d rejected rows, want %d", got, bad+long)
	}
	if got := e.queryInt("select count(*) from staging.replayrej_events_rejected where _topic <> '" + topic + "'"); got != 0 {
		t.Errorf("%d rejected rows added by the replay, want 0", got)
	}
}

// TestReplayRangeErrors: ranges a topic cannot serve exit 2 naming the topic, the partition and the valid
// range; a missing topic is not created; a valid range still replays.
func TestReplayRangeErrors(t *testing.T) {
	e := newEnv(t)
	topic := "rangeerr.events"
	createTopic(t, e, topic, 2)
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Partition: 0, Value: eventJSON(fmt.Sprintf("x-%d", i), i)})
	}
	produceTo(t, e, topic, recs)
	cfg := e.writeQualityConfig(topic, "rangeerr_events", "    dedup: {field: event_id, window: 24h}\n")
	for _, c := range []struct{ flag, arg, want string }{
		{"--from-offsets", topic + ":0:5-3", `bigfather: backfill: --from-offsets "rangeerr.events:0:5-3": the range 5-3 of rangeerr.events partition 0 is reversed or empty: FROM must be less than TO (TO is exclusive)`},
		{"--from-offsets", topic + ":0:4-4", `bigfather: backfill: --from-offsets "rangeerr.events:0:4-4": the range 4-4 of rangeerr.events partition 0 is reversed or empty: FROM must be less than TO (TO is exclusive)`},
		{"--from-offsets", topic + ":0:0-11", `bigfather: backfill: topic "rangeerr.events" partition 0: the range 0-11 is outside the partition, which holds offsets 0 to 9: give FROM-TO within 0-10 (TO exclusive, or empty for the end)`},
		{"--from-offsets", topic + ":0:10-", `bigfather: backfill: topic "rangeerr.events" partition 0: the range 10- is outside the partition, which holds offsets 0 to 9: give FROM-TO within 0-10 (TO exclusive, or empty for the end)`},
		{"--from-offsets", topic + ":0:20-30", `bigfather: backfill: topic "rangeerr.events" partition 0: the range 20-30 is outside the partition, which holds offsets 0 to 9: give FROM-TO within 0-10 (TO exclusive, or empty for the end)`},
		{"--from-offsets", topic + ":1:0-", `bigfather: backfill: topic "rangeerr.events" partition 1 holds no records (its end offset is 0): nothing to replay in 0-`},
		{"--from-offsets", topic + ":2:0-5", `bigfather: backfill: topic "rangeerr.events" has no partition 2: its partitions are 0 to 1`},
		{"--from-offsets", "missing.events:0:0-", `bigfather: backfill: topic "missing.events" does not exist`},
		{"--from-time", "missing.events:2000-01-01T00:00:00Z..2100-01-01T00:00:00Z", `bigfather: backfill: topic "missing.events" does not exist`},
		{"--from-time", topic + ":2100-01-01T00:00:00Z..2100-01-02T00:00:00Z", `bigfather: backfill: topic "rangeerr.events" holds no records with a timestamp from 2100-01-01T00:00:00Z until 2100-01-02T00:00:00Z; its records span `},
		{"--from-time", topic + ":2000-01-01T00:00:00Z..2000-01-02T00:00:00Z", `bigfather: backfill: topic "rangeerr.events" holds no records with a timestamp from 2000-01-01T00:00:00Z until 2000-01-02T00:00:00Z; its records span `},
		{"--from-time", topic + ":2100-01-02T00:00:00Z..2100-01-01T00:00:00Z", `bigfather: backfill: --from-time "rangeerr.events:2100-01-02T00:00:00Z..2100-01-01T00:00:00Z": expected TOPIC:SINCE..UNTIL with RFC 3339 times, SINCE before UNTIL`},
	} {
		code, stdout, stderr := runBin(t, "backfill", "--config", cfg, c.flag, c.arg)
		if code != 2 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("backfill %s %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", c.flag, c.arg, code, stdout, stderr, c.want)
		}
	}
	// The time form names the span of the topic's records.
	if _, _, stderr := runBin(t, "backfill", "--config", cfg, "--from-time", topic+":2100-01-01T00:00:00Z..2100-01-02T00:00:00Z"); !strings.Contains(stderr, "Z to ") {
		t.Errorf("no record span in %q", stderr)
	}
	tds, err := kadm.NewClient(e.client()).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has("missing.events") {
		t.Error("replaying a missing topic created it")
	}
	backfillSays(t, "read 4 records: staged 4, duplicates dropped 0, rejected 0, filtered 0; 0 already staged before", "--config", cfg, "--from-offsets", topic+":0:3-7")
	backfillSays(t, "read 3 records: staged 3, duplicates dropped 0, rejected 0, filtered 0; 4 already staged before", "--config", cfg, "--from-offsets", topic+":0:3-")
	e.assertRows("staging.rangeerr_events", 7)
}

// TestBackfillParquet: a Parquet file (here a data file another table committed) is read through the SQL
// sandbox, which is allowed that one file, and staged whole.
func TestBackfillParquet(t *testing.T) {
	e := newEnv(t)
	src := e.writeQualityConfig("pq.events", "pq_source", "")
	var lines [][]byte
	for i := range 300 {
		lines = append(lines, eventJSON(fmt.Sprintf("pq-%d", i), i))
	}
	path := filepath.Join(e.dir, "files", "pq.jsonl")
	writeLines(t, path, lines...)
	backfillSays(t, "read 300 records: staged 300", "--config", src, "--from", path)
	files, err := filepath.Glob(filepath.Join(e.dir, "warehouse", "staging.db", "pq_source", "data", "*", "*.parquet"))
	if err != nil || len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(e.dir, "warehouse", "*", "*", "data", "*", "*.parquet"))
	}
	if len(files) != 1 {
		t.Fatalf("want the source table's one data file, found %v", files)
	}
	dst := e.writeQualityConfig("pq.events", "pq_copy", "")
	backfillSays(t, "read 300 records: staged 300, duplicates dropped 0, rejected 0", "--config", dst, "--from", files[0])
	e.assertRows("staging.pq_copy", 300)
}
