package completeness

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/query"
)

// row is one staged row of the crafted table. A nil ts marks a row without Kafka metadata (a backfill).
type row struct {
	player    *string
	seq       *int64
	partition int
	offset    int64
	ts        *int // seconds after base
}

func s(v string) *string { return &v }
func n(v int64) *int64   { return &v }
func at(v int) *int      { return &v }

// craftedRows are in arrival order within each producer. See TestBuild for what they hold.
var craftedRows = []row{
	// a: 1 2 3 5 6 4 4 9 — 4 arrives late once and again as a duplicate on another partition; 7..8 lost.
	{s("a"), n(1), 0, 0, at(1)}, {s("a"), n(2), 0, 1, at(2)}, {s("a"), n(3), 0, 2, at(3)}, {s("a"), n(5), 0, 3, at(4)},
	{s("a"), n(6), 0, 4, at(5)}, {s("a"), n(4), 0, 5, at(6)}, {s("a"), n(4), 1, 0, at(7)}, {s("a"), n(9), 0, 6, at(8)},
	// b: starts at 3 (1..2 lost); 3 4 8 7 5 — 7 and 5 late; 6 lost. Same timestamps: partition and offset order.
	{s("b"), n(3), 2, 10, at(5)}, {s("b"), n(4), 2, 11, at(5)}, {s("b"), n(8), 2, 12, at(5)}, {s("b"), n(7), 2, 13, at(5)},
	{s("b"), n(5), 3, 0, at(5)},
	// c: 1 2 5 from Kafka, then 4 and 3 backfilled without Kafka metadata: both late, nothing missing.
	{s("c"), n(1), 0, 20, at(1)}, {s("c"), n(2), 0, 21, at(2)}, {s("c"), n(5), 0, 22, at(3)},
	{s("c"), n(4), -1, -1, nil}, {s("c"), n(3), -1, -1, nil},
	// d: 1 then 100: 2..99 lost.
	{s("d"), n(1), 1, 5, at(1)}, {s("d"), n(100), 1, 6, at(9)},
	// Rows without a producer or a sequence number are left out.
	{nil, n(1), 1, 7, at(9)}, {s("e"), nil, 1, 8, at(9)},
}

// valuesSQL returns rows as a SELECT over VALUES with the staging columns.
func valuesSQL(rows []row) string {
	var b strings.Builder
	b.WriteString("SELECT * FROM (VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		player, seq, part, off, ts := "NULL", "NULL", "NULL", "NULL", "NULL"
		if r.player != nil {
			player = "'" + *r.player + "'"
		}
		if r.seq != nil {
			seq = fmt.Sprint(*r.seq)
		}
		if r.ts != nil {
			part, off = fmt.Sprint(r.partition), fmt.Sprint(r.offset)
			ts = fmt.Sprintf("TIMESTAMPTZ '2025-01-01 00:00:00+00' + INTERVAL %d SECOND", *r.ts)
		}
		fmt.Fprintf(&b, "(%s, CAST(%s AS BIGINT), CAST(%s AS INTEGER), CAST(%s AS BIGINT), %s)", player, seq, part, off, ts)
	}
	b.WriteString(") AS t(player_id, client_seq, _partition, _offset, _kafka_timestamp)")
	return b.String()
}

// craftedTable writes rows to parquet files (the last file also holding a row a positional delete file
// removes) and registers them as staging.events.
func craftedTable(t *testing.T, rows []row) *query.Engine {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	copyTo := func(name, q string) string {
		path := filepath.Join(dir, name)
		if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, path)); err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
		return path
	}
	half := len(rows) / 2
	// A deleted row that would add a hole to a if it counted.
	deleted := row{s("a"), n(50), 9, 9, at(10)}
	f1 := copyTo("data-1.parquet", valuesSQL(rows[:half]))
	f2 := copyTo("data-2.parquet", valuesSQL(append([]row{deleted}, rows[half:]...)))
	del := copyTo("delete-1.parquet", fmt.Sprintf("SELECT '%s' AS file_path, CAST(0 AS BIGINT) AS pos", f2))

	eng, err := query.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	tbl := query.Table{Namespace: "staging", Name: "events", DataFiles: []string{f1, f2}, PositionDeletes: []string{del},
		Columns: []query.Column{{Name: "player_id", Type: "string"}, {Name: "client_seq", Type: "long"},
			{Name: "_partition", Type: "int"}, {Name: "_offset", Type: "long"}, {Name: "_kafka_timestamp", Type: "timestamptz"}}}
	if err := eng.Register(context.Background(), tbl); err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestBuild(t *testing.T) {
	eng := craftedTable(t, craftedRows)
	ctx := context.Background()
	rep, err := Build(ctx, eng, "staging.events", "player_id", "client_seq", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		Table: "staging.events", ProducerField: "player_id", SeqField: "client_seq",
		Producers: 4, Rows: 22, Unkeyed: 2,
		GapCount: 4, MissingTotal: 2 + 2 + 1 + 98,
		Gaps:           []Range{{"d", 2, 99}, {"a", 7, 8}, {"b", 1, 2}},
		OutOfOrder:     1 + 2 + 2,
		ArrivalColumns: []string{"_kafka_timestamp", "_partition", "_offset"},
		DuplicateSeqs:  1,
	}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("report\n%+v\nwant\n%+v", rep, want)
	}

	// Without a limit, every gap.
	all, err := Build(ctx, eng, "staging.events", "PLAYER_ID", "client_seq", 0)
	if err != nil {
		t.Fatal(err)
	}
	if wantGaps := append(want.Gaps, Range{"b", 6, 6}); !reflect.DeepEqual(all.Gaps, wantGaps) {
		t.Fatalf("all gaps %v, want %v", all.Gaps, wantGaps)
	}

	// The live tracker fed the same rows in arrival order (backfilled ones last) agrees.
	tr := NewTracker(0)
	tr.AssumeStartAtOne = true
	sorted := sortedByArrival(craftedRows)
	for _, r := range sorted {
		if r.player != nil && r.seq != nil {
			tr.Observe([]byte(*r.player), *r.seq)
		}
	}
	st := tr.Stats()
	if st.Missing != uint64(rep.MissingTotal) || st.OutOfOrder != uint64(rep.OutOfOrder) ||
		st.Duplicates != uint64(rep.DuplicateSeqs) || st.Producers != int(rep.Producers) {
		t.Errorf("tracker %+v disagrees with report %+v", st, rep)
	}
	if got := tr.Missing(0); !reflect.DeepEqual(got, all.Gaps) {
		t.Errorf("tracker holes %v, report gaps %v", got, all.Gaps)
	}
}

// sortedByArrival orders rows by (timestamp, partition, offset), rows without a timestamp last by seq.
func sortedByArrival(rows []row) []row {
	out := append([]row(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.ts == nil) != (b.ts == nil) {
			return b.ts == nil
		}
		if a.ts == nil {
			return *a.seq < *b.seq
		}
		if *a.ts != *b.ts {
			return *a.ts < *b.ts
		}
		if a.partition != b.partition {
			return a.partition < b.partition
		}
		return a.offset < b.offset
	})
	return out
}

func TestBuildComplete(t *testing.T) {
	var rows []row
	for p := range 3 {
		for seq := int64(1); seq <= 50; seq++ {
			rows = append(rows, row{s(fmt.Sprint("p", p)), n(seq), p, seq, at(int(seq))})
		}
	}
	eng := craftedTable(t, rows)
	rep, err := Build(context.Background(), eng, "staging.events", "player_id", "client_seq", 10)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 150 || rep.Producers != 3 || rep.GapCount != 0 || rep.MissingTotal != 0 || rep.OutOfOrder != 0 ||
		rep.DuplicateSeqs != 0 || len(rep.Gaps) != 0 {
		t.Fatalf("report of a complete table: %+v", rep)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no gaps") {
		t.Fatalf("table output lacks 'no gaps':\n%s", buf.String())
	}
}

func TestBuildErrors(t *testing.T) {
	eng := craftedTable(t, craftedRows[:3])
	ctx := context.Background()
	for _, tc := range []struct{ table, prod, seq, want string }{
		{"staging.events", "device", "client_seq", `no column "device"`},
		{"staging.events", "player_id", "seq", `no column "seq"`},
		{"staging.nope", "player_id", "client_seq", "nope"},
		{"", "player_id", "client_seq", "must be given"},
	} {
		_, err := Build(ctx, eng, tc.table, tc.prod, tc.seq, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%q, %q, %q) error %v, want one containing %q", tc.table, tc.prod, tc.seq, err, tc.want)
		}
	}
}

func TestBuildWithoutArrivalColumns(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(t.TempDir(), "data.parquet")
	q := "SELECT * FROM (VALUES (7, 2), (7, 1), (8, 3)) AS t(device, n)"
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, path)); err != nil {
		t.Fatal(err)
	}
	eng, err := query.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Register(context.Background(), query.Table{Namespace: "raw", Name: "devices", DataFiles: []string{path},
		Columns: []query.Column{{Name: "device", Type: "int"}, {Name: "n", Type: "int"}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(context.Background(), eng, "raw.devices", "device", "n", 0)
	if err != nil {
		t.Fatal(err)
	}
	// A non-string producer is reported as text.
	if rep.Producers != 2 || rep.MissingTotal != 2 || !reflect.DeepEqual(rep.Gaps, []Range{{"8", 1, 2}}) ||
		rep.OutOfOrder != 0 || len(rep.ArrivalColumns) != 0 {
		t.Fatalf("report %+v", rep)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "out of order:                 unknown") {
		t.Fatalf("table output:\n%s", buf.String())
	}
}

func TestReportWrite(t *testing.T) {
	rep := &Report{Table: "staging.events", ProducerField: "player_id", SeqField: "client_seq",
		Producers: 4, Rows: 22, Unkeyed: 2, GapCount: 4, MissingTotal: 103,
		Gaps:       []Range{{"d", 2, 99}, {"a", 7, 8}},
		OutOfOrder: 5, ArrivalColumns: []string{"_kafka_timestamp"}, DuplicateSeqs: 1}
	var buf bytes.Buffer
	if err := rep.Write(&buf, "table"); err != nil {
		t.Fatal(err)
	}
	want := `table:                        staging.events
producer field:               player_id
seq field:                    client_seq
rows:                         22
rows without producer or seq: 2
producers:                    4
gaps:                         4
missing:                      103
out of order:                 5
duplicate seqs:               1

largest 2 of 4 gaps:
producer | from | to | missing
---------+------+----+--------
d        |    2 | 99 |      98
a        |    7 |  8 |       2
(2 rows)
`
	if buf.String() != want {
		t.Fatalf("table output:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := rep.Write(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if !reflect.DeepEqual(&back, rep) {
		t.Fatalf("JSON round trip gave %+v, want %+v", back, rep)
	}
	for _, key := range []string{`"missing_total": 103`, `"duplicate_seqs": 1`, `"gaps": [`, `"producer": "d"`} {
		if !strings.Contains(buf.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, buf.String())
		}
	}
	if err := rep.Write(&buf, "csv"); err == nil {
		t.Error("Write csv succeeded")
	}
}

// TestBuildLarge checks the report at demo scale: 5,000 producers with 40 records each. Producers whose number
// ends in 3 lose seqs 2, 6, ..., 38 (ten each), and seq 38 arrives a day late; every record of producers
// ending in 4 is delivered twice, the second time a day late.
func TestBuildLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(t.TempDir(), "data.parquet")
	const cols = `'p' || (i % 5000) AS player_id, i // 5000 + 1 AS client_seq, CAST(i % 4 AS INTEGER) AS _partition`
	q := `SELECT ` + cols + `, i AS _offset, TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_milliseconds(i) AS _kafka_timestamp
		FROM range(200000) r(i) WHERE NOT (i % 10 = 3 AND (i // 5000) % 4 = 1)
		UNION ALL SELECT ` + cols + `, 1000000 + i, TIMESTAMPTZ '2025-01-02 00:00:00+00'
		FROM range(200000) r(i) WHERE i % 10 = 4 OR (i % 10 = 3 AND i // 5000 = 37)`
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, path)); err != nil {
		t.Fatal(err)
	}
	eng, err := query.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Register(context.Background(), query.Table{Namespace: "staging", Name: "events", DataFiles: []string{path},
		Columns: []query.Column{{Name: "player_id", Type: "string"}, {Name: "client_seq", Type: "long"},
			{Name: "_partition", Type: "int"}, {Name: "_offset", Type: "long"}, {Name: "_kafka_timestamp", Type: "timestamptz"}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := Build(context.Background(), eng, "staging.events", "player_id", "client_seq", 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report over %d rows in %v", rep.Rows, time.Since(start))
	want := Report{Table: "staging.events", ProducerField: "player_id", SeqField: "client_seq",
		Producers: 5000, Rows: 200000 - 5000 + 20000 + 500, GapCount: 4500, MissingTotal: 4500,
		// All gaps have one record: the first five by producer name, then seq.
		Gaps:       []Range{{"p1003", 2, 2}, {"p1003", 6, 6}, {"p1003", 10, 10}, {"p1003", 14, 14}, {"p1003", 18, 18}},
		OutOfOrder: 500, ArrivalColumns: []string{"_kafka_timestamp", "_partition", "_offset"}, DuplicateSeqs: 20000}
	if !reflect.DeepEqual(*rep, want) {
		t.Fatalf("report\n%+v\nwant\n%+v", *rep, want)
	}
}
