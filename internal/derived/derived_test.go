package derived

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// world is a real SQLite catalog and local warehouse holding staged-like source tables.
type world struct {
	t   *testing.T
	dir string
	lk  *lake.Lake
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir()}
	w.lk = w.open()
	ctx := context.Background()
	// Like a staged table: partitioned by day of the event time.
	if _, err := w.lk.EnsureTable(ctx, lake.TableSpec{Name: "staging.src",
		Columns:    []lake.Column{{Name: "event_time", Type: "timestamp"}, {Name: "player_id", Type: "string"}, {Name: "amount", Type: "double"}},
		Partitions: []lake.Partition{{Transform: "day", Column: "event_time"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.lk.EnsureTable(ctx, lake.TableSpec{Name: "staging.players",
		Columns: []lake.Column{{Name: "player_id", Type: "string"}, {Name: "country", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// open opens another handle on the catalog, as another process would.
func (w *world) open() *lake.Lake {
	w.t.Helper()
	lk, err := lake.Open(context.Background(), "sqlite://"+filepath.Join(w.dir, "catalog.db"), filepath.Join(w.dir, "warehouse"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { lk.Close() })
	return lk
}

func (w *world) load(name string) *table.Table {
	w.t.Helper()
	t, err := w.lk.LoadTable(context.Background(), name)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

// ev is one source event: "2024-05-01 10:00", player (NULL when empty), amount.
type ev struct {
	at     string
	player string
	amount float64
}

// appendEvents commits evs to staging.src as one append snapshot.
func (w *world) appendEvents(evs ...ev) {
	w.t.Helper()
	w.appendRows("staging.src", len(evs), func(b *array.RecordBuilder, i int) {
		at, err := time.Parse("2006-01-02 15:04", evs[i].at)
		if err != nil {
			w.t.Fatal(err)
		}
		ts, _ := arrow.TimestampFromTime(at, arrow.Microsecond)
		b.Field(0).(*array.TimestampBuilder).Append(ts)
		if evs[i].player == "" {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(evs[i].player)
		}
		b.Field(2).(*array.Float64Builder).Append(evs[i].amount)
	})
}

// appendPlayers commits (player, country) pairs to staging.players.
func (w *world) appendPlayers(pairs ...string) {
	w.t.Helper()
	w.appendRows("staging.players", len(pairs)/2, func(b *array.RecordBuilder, i int) {
		b.Field(0).(*array.StringBuilder).Append(pairs[2*i])
		b.Field(1).(*array.StringBuilder).Append(pairs[2*i+1])
	})
}

func (w *world) appendRows(name string, n int, fill func(b *array.RecordBuilder, i int)) {
	w.t.Helper()
	ctx := context.Background()
	t := w.load(name)
	sc, err := table.SchemaToArrowSchema(t.Schema(), nil, true, false)
	if err != nil {
		w.t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := range n {
		fill(b, i)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	files, err := lake.WriteFiles(ctx, t, rec)
	if err != nil {
		w.t.Fatal(err)
	}
	txn := t.NewTransaction()
	if err := txn.AddDataFiles(ctx, files, nil); err != nil {
		w.t.Fatal(err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// query runs sql over the lake's current tables and returns the rows as text, fields joined by "|".
func (w *world) query(sql string, tables ...string) []string {
	w.t.Helper()
	ctx := context.Background()
	e, err := query.Open(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer e.Close()
	if err := e.RegisterTables(ctx, w.lk, tables...); err != nil {
		w.t.Fatal(err)
	}
	res, err := e.Query(ctx, sql)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case time.Time:
				cells[i] = v.Format(time.DateOnly)
			case float64:
				cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// filesByPartition maps each partition value of a derived table partitioned by a date column to its data
// files' paths, sorted.
func (w *world) filesByPartition(name string) map[string][]string {
	w.t.Helper()
	t := w.load(name)
	tasks, err := t.Scan().PlanFiles(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var fieldID int
	spec := t.Spec()
	for _, f := range spec.Fields() {
		fieldID = f.FieldID
	}
	out := map[string][]string{}
	for _, task := range tasks {
		d := task.File.Partition()[fieldID].(iceberg.Date)
		day := time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)
		out[day] = append(out[day], task.File.FilePath())
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// dataFilesOnDisk lists the Parquet files under a table's location, committed or not.
func (w *world) dataFilesOnDisk(name string) []string {
	w.t.Helper()
	var out []string
	err := filepath.WalkDir(lake.LocalPath(w.load(name).Location()), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

const spendSQL = `SELECT CAST(event_time AS DATE) AS day, player_id, sum(amount) AS spend, count(*) AS n FROM staging.src GROUP BY ALL`

var spend = config.DerivedTable{Name: "analytics.daily_spend", SQL: spendSQL, Partition: "day", Refresh: time.Minute}

const readSpend = `SELECT day, player_id, spend, n FROM analytics.daily_spend ORDER BY ALL`

// firstDays are three days of events, committed in two snapshots.
func (w *world) firstDays() {
	w.t.Helper()
	w.appendEvents(
		ev{"2024-05-01 00:10", "p1", 10},
		ev{"2024-05-01 23:59", "p1", 5.5},
		ev{"2024-05-01 12:00", "p2", 3},
		ev{"2024-05-02 08:00", "p1", 1.25},
	)
	w.appendEvents(
		ev{"2024-05-02 09:00", "p3", 7},
		ev{"2024-05-03 00:00", "p2", 2},
		ev{"2024-05-03 23:00", "p2", 4},
	)
}

var firstSpend = []string{
	"2024-05-01|p1|15.5|2",
	"2024-05-01|p2|3|1",
	"2024-05-02|p1|1.25|1",
	"2024-05-02|p3|7|1",
	"2024-05-03|p2|6|2",
}

func mustRefresh(t *testing.T, lk *lake.Lake, d config.DerivedTable) Outcome {
	t.Helper()
	out, err := Refresh(context.Background(), lk, d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRefreshIncrementalByPartition(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	src := w.load("staging.src")

	out := mustRefresh(t, w.lk, spend)
	if !out.Committed || !out.Full || out.Reason != "the table does not exist yet" || out.Rows != 5 ||
		!slices.Equal(out.Partitions, []string{"2024-05-01", "2024-05-02", "2024-05-03"}) {
		t.Fatalf("first refresh: %+v", out)
	}
	if want := map[string]int64{"staging.src": src.CurrentSnapshot().SnapshotID}; !maps.Equal(out.Sources, want) {
		t.Fatalf("first refresh sources %v, want %v", out.Sources, want)
	}
	if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, firstSpend) {
		t.Fatalf("after the first refresh:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(firstSpend, "\n"))
	}
	dt := w.load("analytics.daily_spend")
	var cols []string
	for _, f := range dt.Schema().Fields() {
		cols = append(cols, f.Name+" "+lake.TypeName(f.Type))
	}
	if want := []string{"day date", "player_id string", "spend double", "n long"}; !slices.Equal(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	if got := dt.Spec().String(); !strings.Contains(got, "day") || !strings.Contains(got, "identity") {
		t.Fatalf("partition spec %s, want identity(day)", got)
	}
	before := w.filesByPartition("analytics.daily_spend")

	// A late event for an old day, and a new player on it.
	w.appendEvents(ev{"2024-05-01 13:00", "p2", 0.5}, ev{"2024-05-01 14:00", "p4", 1})
	src = w.load("staging.src")
	out = mustRefresh(t, w.lk, spend)
	if !out.Committed || out.Full || out.Rows != 3 || !slices.Equal(out.Partitions, []string{"2024-05-01"}) ||
		out.Sources["staging.src"] != src.CurrentSnapshot().SnapshotID {
		t.Fatalf("late-event refresh: %+v", out)
	}
	want := []string{
		"2024-05-01|p1|15.5|2",
		"2024-05-01|p2|3.5|2",
		"2024-05-01|p4|1|1",
		"2024-05-02|p1|1.25|1",
		"2024-05-02|p3|7|1",
		"2024-05-03|p2|6|2",
	}
	if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, want) {
		t.Fatalf("after the late event:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	after := w.filesByPartition("analytics.daily_spend")
	for _, day := range []string{"2024-05-02", "2024-05-03"} {
		if !slices.Equal(before[day], after[day]) {
			t.Errorf("partition %s: files %v, were %v: an untouched partition was rewritten", day, after[day], before[day])
		}
	}
	if slices.Equal(before["2024-05-01"], after["2024-05-01"]) || len(after["2024-05-01"]) == 0 {
		t.Errorf("partition 2024-05-01: files %v, were %v: want new files", after["2024-05-01"], before["2024-05-01"])
	}
	dt = w.load("analytics.daily_spend")
	if got := dt.CurrentSnapshot().Summary.Properties[RefreshProperty]; got != "incremental" {
		t.Errorf("snapshot summary %s = %q, want incremental", RefreshProperty, got)
	}

	// Nothing new: no commit at all.
	out = mustRefresh(t, w.lk, spend)
	if out.Committed || out.Full || len(out.Partitions) != 0 || out.Sources["staging.src"] != src.CurrentSnapshot().SnapshotID {
		t.Fatalf("refresh with nothing new: %+v", out)
	}
	if now := w.load("analytics.daily_spend"); now.MetadataLocation() != dt.MetadataLocation() {
		t.Fatalf("a refresh with nothing new committed: metadata %s, was %s", now.MetadataLocation(), dt.MetadataLocation())
	}

	// The table equals the SQL over the whole source.
	if got, want := w.query(readSpend, "analytics.daily_spend"), w.query(spendSQL+" ORDER BY ALL", "staging.src"); !slices.Equal(got, want) {
		t.Fatalf("derived table %v, SQL over the source %v", got, want)
	}
}

func TestLineageProperties(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	w.appendPlayers("p1", "KR", "p2", "JP")
	d := config.DerivedTable{Name: "analytics.by_country", Partition: "day", SQL: `
		SELECT CAST(e.event_time AS DATE) AS day, p.country, sum(e.amount) AS spend
		FROM staging.src e JOIN staging.players p USING (player_id)
		GROUP BY ALL;`}
	mustRefresh(t, w.lk, d)
	props := w.load("analytics.by_country").Properties()
	want := map[string]string{
		SQLProperty: `SELECT CAST(e.event_time AS DATE) AS day, p.country, sum(e.amount) AS spend
		FROM staging.src e JOIN staging.players p USING (player_id)
		GROUP BY ALL`,
		SourcesProperty:                          "staging.players,staging.src",
		PartitionProperty:                        "day",
		SourcePropertyPrefix + "staging.players": strconv.FormatInt(w.load("staging.players").CurrentSnapshot().SnapshotID, 10),
		SourcePropertyPrefix + "staging.src":     strconv.FormatInt(w.load("staging.src").CurrentSnapshot().SnapshotID, 10),
	}
	got := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, "bigfather.derived.") {
			got[k] = v
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("lineage properties %v, want %v", got, want)
	}
}

func TestReferencedTables(t *testing.T) {
	names := []string{"staging.src", "staging.src2", "staging.players", "other.src", "a.b"}
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{`SELECT * FROM staging.src`, []string{"staging.src"}},
		{`SELECT * FROM staging.src2`, []string{"staging.src2"}},
		{`SELECT * FROM STAGING.SRC JOIN staging.players USING (x)`, []string{"staging.players", "staging.src"}},
		{`SELECT staging.src.amount FROM staging.src`, []string{"staging.src"}},
		{`SELECT * FROM xstaging.src, staging.srcx, lake.staging.src`, nil},
		{`SELECT * FROM other.src,staging.src`, []string{"other.src", "staging.src"}},
	} {
		if got := referenced(tc.sql, names); !slices.Equal(got, tc.want) {
			t.Errorf("referenced(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

func TestFailureBeforeCommitLeavesTheTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		hook func(cancel context.CancelFunc) func(context.Context) error
		want string
	}{
		{"error", func(context.CancelFunc) func(context.Context) error {
			return func(context.Context) error { return errors.New("injected failure") }
		}, "derived table analytics.daily_spend: injected failure"},
		{"context canceled", func(cancel context.CancelFunc) func(context.Context) error {
			return func(context.Context) error { cancel(); return nil }
		}, "derived table analytics.daily_spend: committing: context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.firstDays()
			mustRefresh(t, w.lk, spend)
			before := w.load("analytics.daily_spend")
			w.appendEvents(ev{"2024-05-02 10:00", "p1", 2}, ev{"2024-05-04 10:00", "p9", 9})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := refresh(ctx, w.lk, spend, hooks{beforeCommit: tc.hook(cancel)})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("refresh error %v, want %q", err, tc.want)
			}
			now := w.load("analytics.daily_spend")
			if now.MetadataLocation() != before.MetadataLocation() || !maps.Equal(now.Properties(), before.Properties()) {
				t.Fatalf("a refresh that failed before its commit changed the table")
			}
			if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, firstSpend) {
				t.Fatalf("after the failed refresh: %v, want %v", got, firstSpend)
			}
			// The files of the failed attempt were removed: the warehouse holds only files the table lists.
			listed := map[string]bool{}
			for _, paths := range w.filesByPartition("analytics.daily_spend") {
				for _, f := range paths {
					listed[lake.LocalPath(f)] = true
				}
			}
			onDisk := w.dataFilesOnDisk("analytics.daily_spend")
			if len(onDisk) < len(listed) {
				t.Fatalf("found %d data files on disk, the table lists %d", len(onDisk), len(listed))
			}
			for _, f := range onDisk {
				if !listed[f] {
					t.Errorf("data file %s of the failed attempt is still there", f)
				}
			}

			out := mustRefresh(t, w.lk, spend)
			if out.Full || !slices.Equal(out.Partitions, []string{"2024-05-02", "2024-05-04"}) {
				t.Fatalf("refresh after the failure: %+v", out)
			}
			want := []string{
				"2024-05-01|p1|15.5|2",
				"2024-05-01|p2|3|1",
				"2024-05-02|p1|3.25|2",
				"2024-05-02|p3|7|1",
				"2024-05-03|p2|6|2",
				"2024-05-04|p9|9|1",
			}
			if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, want) {
				t.Fatalf("after the failure and a refresh:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestTwoSources(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	w.appendPlayers("p1", "KR", "p2", "JP")
	d := config.DerivedTable{Name: "analytics.by_country", Partition: "day", SQL: `
		SELECT CAST(e.event_time AS DATE) AS day, p.country, sum(e.amount) AS spend
		FROM staging.src e JOIN staging.players p USING (player_id)
		GROUP BY ALL`}
	read := `SELECT day, country, spend FROM analytics.by_country ORDER BY ALL`
	out := mustRefresh(t, w.lk, d)
	if !out.Full || len(out.Sources) != 2 {
		t.Fatalf("first refresh: %+v", out)
	}
	want := []string{"2024-05-01|JP|3", "2024-05-01|KR|15.5", "2024-05-02|KR|1.25", "2024-05-03|JP|6"}
	if got := w.query(read, "analytics.by_country"); !slices.Equal(got, want) {
		t.Fatalf("first refresh: %v, want %v", got, want)
	}

	// The lookup learns p3, who played on 2024-05-02 only.
	w.appendPlayers("p3", "KR")
	out = mustRefresh(t, w.lk, d)
	if out.Full || !slices.Equal(out.Partitions, []string{"2024-05-02"}) ||
		out.Sources["staging.players"] != w.load("staging.players").CurrentSnapshot().SnapshotID {
		t.Fatalf("lookup change: %+v", out)
	}
	want = []string{"2024-05-01|JP|3", "2024-05-01|KR|15.5", "2024-05-02|KR|8.25", "2024-05-03|JP|6"}
	if got := w.query(read, "analytics.by_country"); !slices.Equal(got, want) {
		t.Fatalf("after the lookup change: %v, want %v", got, want)
	}

	// New events on 2024-05-03.
	w.appendEvents(ev{"2024-05-03 05:00", "p1", 1})
	out = mustRefresh(t, w.lk, d)
	if out.Full || !slices.Equal(out.Partitions, []string{"2024-05-03"}) {
		t.Fatalf("event change: %+v", out)
	}
	want = []string{"2024-05-01|JP|3", "2024-05-01|KR|15.5", "2024-05-02|KR|8.25", "2024-05-03|JP|6", "2024-05-03|KR|1"}
	if got := w.query(read, "analytics.by_country"); !slices.Equal(got, want) {
		t.Fatalf("after new events: %v, want %v", got, want)
	}

	// Both at once.
	w.appendPlayers("p4", "US")
	w.appendEvents(ev{"2024-05-01 05:00", "p4", 2}, ev{"2024-05-02 05:00", "p2", 1})
	out = mustRefresh(t, w.lk, d)
	if out.Full || !slices.Equal(out.Partitions, []string{"2024-05-01", "2024-05-02"}) {
		t.Fatalf("both changed: %+v", out)
	}
	want = []string{"2024-05-01|JP|3", "2024-05-01|KR|15.5", "2024-05-01|US|2", "2024-05-02|JP|1", "2024-05-02|KR|8.25", "2024-05-03|JP|6", "2024-05-03|KR|1"}
	if got := w.query(read, "analytics.by_country"); !slices.Equal(got, want) {
		t.Fatalf("after both changed: %v, want %v", got, want)
	}
}

func TestRecomputesAll(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(w *world)
		sql    string
		reason string
		want   []string
	}{
		{"rows deleted", func(w *world) {
			ctx := context.Background()
			txn := w.load("staging.src").NewTransaction()
			if err := txn.Delete(ctx, iceberg.EqualTo(iceberg.Reference("player_id"), "p2"), nil); err != nil {
				w.t.Fatal(err)
			}
			if _, err := txn.Commit(ctx); err != nil {
				w.t.Fatal(err)
			}
		}, spendSQL, "rows were removed from staging.src", []string{"2024-05-01|p1|15.5|2", "2024-05-02|p1|1.25|1", "2024-05-02|p3|7|1"}},
		{"sql changed", func(w *world) {}, spendSQL + " HAVING sum(amount) > 5", "the SQL changed",
			[]string{"2024-05-01|p1|15.5|2", "2024-05-02|p3|7|1", "2024-05-03|p2|6|2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.firstDays()
			mustRefresh(t, w.lk, spend)
			tc.change(w)
			d := spend
			d.SQL = tc.sql
			out := mustRefresh(t, w.lk, d)
			if !out.Full || out.Reason != tc.reason {
				t.Fatalf("outcome %+v, want a full refresh because %s", out, tc.reason)
			}
			if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A compaction of a source (a maintenance rewrite) adds no rows: the refresh recomputes nothing and only
// stores the new snapshot id.
func TestMaintenanceRewriteOfSource(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	mustRefresh(t, w.lk, spend)
	before := w.filesByPartition("analytics.daily_spend")
	ctx := context.Background()
	src := w.load("staging.src")
	tasks, err := src.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var old []iceberg.DataFile
	var paths []string
	for _, task := range tasks {
		old = append(old, task.File)
		paths = append(paths, task.File.FilePath())
	}
	// Rewrite the source's rows into new files, as compaction does.
	var recs []arrow.RecordBatch
	err = lake.ReadTableColumns(ctx, src, paths, []string{"event_time", "player_id", "amount"}, func(rec arrow.RecordBatch) error {
		rec.Retain()
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err := lake.WriteFiles(ctx, src, recs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	txn := src.NewTransaction()
	if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, files, iceberg.Properties{lake.MaintenanceProperty: "compaction"}); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := mustRefresh(t, w.lk, spend)
	if !out.Committed || out.Full || len(out.Partitions) != 0 || out.Rows != 0 ||
		out.Sources["staging.src"] != w.load("staging.src").CurrentSnapshot().SnapshotID {
		t.Fatalf("refresh after a compaction: %+v", out)
	}
	if after := w.filesByPartition("analytics.daily_spend"); !maps.EqualFunc(before, after, slices.Equal) {
		t.Fatalf("files %v, were %v", after, before)
	}
	if out := mustRefresh(t, w.lk, spend); out.Committed {
		t.Fatalf("second refresh after a compaction committed: %+v", out)
	}
}

// Two processes refresh the same table: the one that loses the commit race starts over on the reloaded table
// and finds the work done.
func TestConcurrentRefreshConflict(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	mustRefresh(t, w.lk, spend)
	w.appendEvents(ev{"2024-05-03 10:00", "p1", 4})
	other := w.open()
	calls := 0
	out, err := refresh(context.Background(), w.lk, spend, hooks{beforeCommit: func(ctx context.Context) error {
		calls++
		if calls == 1 {
			// The other process commits the same refresh first.
			if o, err := Refresh(ctx, other, spend); err != nil || !slices.Equal(o.Partitions, []string{"2024-05-03"}) {
				return fmt.Errorf("the other refresh: %+v, %v", o, err)
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || out.Committed {
		t.Fatalf("after losing the race: %d attempts reached the commit, outcome %+v; want 1 and nothing committed", calls, out)
	}
	want := append(slices.Clone(firstSpend[:4]), "2024-05-03|p1|4|1", "2024-05-03|p2|6|2")
	if got := w.query(readSpend, "analytics.daily_spend"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// The loser's files were removed.
	onDisk := w.dataFilesOnDisk("analytics.daily_spend")
	listed := 0
	for _, paths := range w.filesByPartition("analytics.daily_spend") {
		listed += len(paths)
	}
	if len(onDisk) != listed+1 { // the replaced file of 2024-05-03 stays until maintenance expires its snapshot
		t.Fatalf("data files on disk %v, %d listed: want the listed ones plus the replaced one", onDisk, listed)
	}
}

func TestErrors(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	for _, tc := range []struct {
		name string
		d    config.DerivedTable
		want string
	}{
		{"missing partition column", config.DerivedTable{Name: "analytics.daily_spend", Partition: "day",
			SQL: `SELECT player_id AS a, sum(amount) AS b FROM staging.src GROUP BY ALL`},
			`derived table analytics.daily_spend: partition column "day" is not in the result (columns: a, b)`},
		{"unknown column", config.DerivedTable{Name: "analytics.daily_spend", Partition: "day",
			SQL: `SELECT CAST(nope AS DATE) AS day FROM staging.src`},
			"derived table analytics.daily_spend: sql: running query: Binder Error: Referenced column \"nope\" not found in FROM clause!\nCandidate bindings: \"player_id\"\n\nLINE 1: DESCRIBE SELECT CAST(nope AS DATE) AS day FROM staging.src\n                             ^"},
		{"two statements", config.DerivedTable{Name: "analytics.daily_spend", Partition: "day",
			SQL: `SELECT 1 AS day; SELECT 2 AS day`},
			`derived table analytics.daily_spend: sql: running query: query refused: the query holds 2 statements and none of them ran; send one statement at a time`},
		{"not a select", config.DerivedTable{Name: "analytics.daily_spend", Partition: "day",
			SQL: `CREATE TABLE x AS SELECT 1 AS day`},
			"derived table analytics.daily_spend: sql: running query: Parser Error: syntax error at or near \"CREATE\"\n\nLINE 1: DESCRIBE CREATE TABLE x AS SELECT 1 AS day\n                 ^"},
		{"unstorable type", config.DerivedTable{Name: "analytics.daily_spend", Partition: "day",
			SQL: `SELECT CAST(event_time AS DATE) AS day, INTERVAL 1 DAY AS i FROM staging.src`},
			`derived table analytics.daily_spend: sql: column "i" has type INTERVAL, which a table cannot store (CAST it in the SQL)`},
		{"double partition", config.DerivedTable{Name: "analytics.daily_spend", Partition: "amount",
			SQL: `SELECT amount FROM staging.src`},
			`derived table analytics.daily_spend: partition column "amount" has type DOUBLE (partition by a string, integer, boolean, decimal, date or timestamp column)`},
		{"reads itself", config.DerivedTable{Name: "staging.src", Partition: "day", SQL: spendSQL},
			`derived table staging.src: sql reads the derived table itself`},
		{"bad name", config.DerivedTable{Name: "daily_spend", Partition: "day", SQL: spendSQL},
			`derived table daily_spend: name: expected namespace.table`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Refresh(context.Background(), w.lk, tc.d)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tc.want)
			}
			if _, err := w.lk.LoadTable(context.Background(), "analytics.daily_spend"); err == nil {
				t.Fatalf("a refresh that failed created its table")
			}
		})
	}
}

// Partition values of every kind the table can be partitioned by are matched exactly between the SQL's results
// and the manifests: only the late events' partitions are rewritten.
func TestPartitionKinds(t *testing.T) {
	for _, tc := range []struct {
		name, sql, partition string
		late                 []ev
		want                 []string
	}{
		{"string with NULL", `SELECT player_id AS player, sum(amount) AS spend FROM staging.src GROUP BY ALL`, "player",
			[]ev{{"2024-05-01 01:00", "", 1}, {"2024-05-03 01:00", "p3", 1}}, []string{"NULL", "p3"}},
		{"timestamptz", `SELECT date_trunc('hour', event_time) AS hour, count(*) AS n FROM staging.src GROUP BY ALL`, "hour",
			[]ev{{"2024-05-02 08:30", "p1", 1}}, []string{"2024-05-02 08:00:00+00"}},
		{"timestamp", `SELECT CAST(date_trunc('hour', event_time) AS TIMESTAMP) AS hour, count(*) AS n FROM staging.src GROUP BY ALL`, "hour",
			[]ev{{"2024-05-02 08:30", "p1", 1}}, []string{"2024-05-02 08:00:00"}},
		{"int", `SELECT CAST(extract(day FROM event_time) AS INTEGER) AS dom, sum(amount) AS spend FROM staging.src GROUP BY ALL`, "dom",
			[]ev{{"2024-05-03 08:30", "p1", 1}}, []string{"3"}},
		{"hugeint as long", `SELECT sum(CAST(amount AS BIGINT)) // 100 AS bucket, count(*) AS n FROM staging.src GROUP BY player_id`, "bucket",
			[]ev{{"2024-05-03 08:30", "p3", 1}}, []string{"0"}},
		{"decimal", `SELECT CAST(amount AS DECIMAL(10,2)) AS amt, count(*) AS n FROM staging.src GROUP BY ALL`, "amt",
			[]ev{{"2024-05-03 08:30", "p3", 5.5}, {"2024-05-03 09:30", "p3", 0.75}}, []string{"0.75", "5.50"}},
		{"boolean", `SELECT amount > 5 AS big, count(*) AS n FROM staging.src GROUP BY ALL`, "big",
			[]ev{{"2024-05-03 08:30", "p3", 1}}, []string{"false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.firstDays()
			w.appendEvents(ev{"2024-05-02 10:00", "", 2})
			d := config.DerivedTable{Name: "analytics.d", SQL: tc.sql, Partition: tc.partition}
			mustRefresh(t, w.lk, d)
			before := w.filesByKey(d)
			w.appendEvents(tc.late...)
			out := mustRefresh(t, w.lk, d)
			if out.Full || !slices.Equal(out.Partitions, tc.want) {
				t.Fatalf("outcome %+v, want partitions %q", out, tc.want)
			}
			after := w.filesByKey(d)
			for k, files := range before {
				if rewritten := !slices.Equal(files, after[k]); rewritten != slices.Contains(tc.want, k) {
					t.Errorf("partition %s: files %v, were %v", k, after[k], files)
				}
			}
			got := w.query("SELECT * FROM analytics.d ORDER BY ALL", "analytics.d")
			want := w.query("SELECT * FROM ("+tc.sql+") ORDER BY ALL", "staging.src")
			if !slices.Equal(got, want) {
				t.Fatalf("table:\n%s\nSQL over the source:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// filesByKey maps the partition values of derived table d (as Outcome.Partitions shows them) to their data
// files, sorted.
func (w *world) filesByKey(d config.DerivedTable) map[string][]string {
	w.t.Helper()
	t := w.load(d.Name)
	tasks, err := t.Scan().PlanFiles(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	f, _ := t.Schema().FindFieldByName(d.Partition)
	spec := t.Spec()
	var fieldID int
	for _, pf := range spec.Fields() {
		fieldID = pf.FieldID
	}
	out := map[string][]string{}
	for _, task := range tasks {
		v, err := icebergPart(task.File.Partition()[fieldID], f.Type)
		if err != nil {
			w.t.Fatal(err)
		}
		out[v.String()] = append(out[v.String()], task.File.FilePath())
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// Two processes refresh the same table at the same time, round after round, while events arrive: whichever
// commits, the table always ends equal to the SQL over the source.
func TestConcurrentRefreshes(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	lakes := []*lake.Lake{w.lk, w.open()}
	for round := range 4 {
		w.appendEvents(ev{fmt.Sprintf("2024-05-0%d 10:00", round%3+1), "p1", float64(round + 1)})
		var wg sync.WaitGroup
		errs := make([]error, len(lakes))
		for i, lk := range lakes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = Refresh(context.Background(), lk, spend)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		got := w.query(readSpend, "analytics.daily_spend")
		if want := w.query(spendSQL+" ORDER BY ALL", "staging.src"); !slices.Equal(got, want) {
			t.Fatalf("round %d: table %v, SQL over the source %v", round, got, want)
		}
	}
}
