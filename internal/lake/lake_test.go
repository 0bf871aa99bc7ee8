package lake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// tableName is the table every test writes to.
const tableName = "staging.events"

// spec is a small table partitioned by day, like the staging tables the pipelines create.
var spec = lake.TableSpec{
	Name: tableName,
	Columns: []lake.Column{
		{Name: "id", Type: "long", Required: true},
		{Name: "event_time", Type: "timestamp", Required: true},
		{Name: "player", Type: "string"},
	},
	Partitions: []lake.Partition{{Transform: "day", Column: "event_time"}},
}

// day0 is the event day of the rows the tests write unless they pick another.
var day0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// tp is partition p of the topic "game".
func tp(p int32) lake.TopicPartition { return lake.TopicPartition{Topic: "game", Partition: p} }

// testLake is a lake on a catalog (SQLite in dir unless uri says otherwise) and a local warehouse in a
// temporary directory.
type testLake struct {
	t   *testing.T
	dir string
	uri string // the catalog; "" for the SQLite catalog in dir
	lk  *lake.Lake
}

func newTestLake(t *testing.T) *testLake {
	t.Helper()
	dir := t.TempDir()
	return &testLake{t: t, dir: dir, lk: openLake(t, dir)}
}

// newCatalog makes an empty catalog for a test whose directory is dir, and returns its URI.
type newCatalog func(t *testing.T, dir string) string

// sqliteCatalog is the SQLite catalog in dir.
func sqliteCatalog(_ *testing.T, dir string) string { return "sqlite://" + dir + "/catalog.db" }

// newTestLakeOn is newTestLake on a catalog that cat makes.
func newTestLakeOn(t *testing.T, cat newCatalog) *testLake {
	t.Helper()
	dir := t.TempDir()
	uri := cat(t, dir)
	return &testLake{t: t, dir: dir, uri: uri, lk: openLakeURI(t, uri, dir)}
}

// open opens another handle on the lake's catalog and warehouse, as another process would.
func (l *testLake) open() *lake.Lake {
	l.t.Helper()
	uri := l.uri
	if uri == "" {
		uri = sqliteCatalog(l.t, l.dir)
	}
	return openLakeURI(l.t, uri, l.dir)
}

// openLake opens (another handle on) the catalog and warehouse under dir, closed when the test ends.
func openLake(t *testing.T, dir string) *lake.Lake {
	t.Helper()
	return openLakeURI(t, sqliteCatalog(t, dir), dir)
}

// openLakeURI opens the catalog uri with the warehouse under dir, closed when the test ends.
func openLakeURI(t *testing.T, uri, dir string) *lake.Lake {
	t.Helper()
	lk, err := lake.Open(context.Background(), uri, dir+"/warehouse")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := lk.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return lk
}

func (l *testLake) ensure() *table.Table {
	l.t.Helper()
	tbl, err := l.lk.EnsureTable(context.Background(), spec)
	if err != nil {
		l.t.Fatalf("EnsureTable: %v", err)
	}
	return tbl
}

// load loads the table afresh, as a new worker would.
func (l *testLake) load() *table.Table {
	l.t.Helper()
	tbl, err := l.lk.LoadTable(context.Background(), tableName)
	if err != nil {
		l.t.Fatalf("LoadTable: %v", err)
	}
	return tbl
}

// record builds a record batch of tbl's schema with the given ids, each at time at(id).
func record(t *testing.T, tbl *table.Table, ids []int64, at func(id int64) time.Time) arrow.RecordBatch {
	t.Helper()
	rec, err := newRecord(tbl, ids, at)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// newRecord is record for goroutines other than the test's.
func newRecord(tbl *table.Table, ids []int64, at func(id int64) time.Time) (arrow.RecordBatch, error) {
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("SchemaToArrowSchema: %w", err)
	}
	tsType, ok := sc.Field(1).Type.(*arrow.TimestampType)
	if !ok {
		return nil, fmt.Errorf("event_time is %s in arrow, expected a timestamp", sc.Field(1).Type)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, id := range ids {
		ts, err := arrow.TimestampFromTime(at(id), tsType.Unit)
		if err != nil {
			return nil, err
		}
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.TimestampBuilder).Append(ts)
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("player-%d", id%7))
	}
	return b.NewRecordBatch(), nil
}

// onDay0 places every row on day0.
func onDay0(id int64) time.Time { return day0.Add(time.Duration(id) * time.Second) }

// write writes rows with ids as uncommitted data files of tbl.
func write(t *testing.T, tbl *table.Table, ids []int64, at func(int64) time.Time) []iceberg.DataFile {
	t.Helper()
	rec := record(t, tbl, ids, at)
	defer rec.Release()
	files, err := lake.WriteFiles(context.Background(), tbl, rec)
	if err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	if len(files) == 0 {
		t.Fatalf("WriteFiles of %d rows wrote no files", len(ids))
	}
	return files
}

// ids returns the ids from..to-1.
func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func paths(files []iceberg.DataFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = lake.LocalPath(f.FilePath())
	}
	sort.Strings(out)
	return out
}

// snapshot returns the table's current snapshot file list, data files sorted.
func (l *testLake) snapshot() lake.SnapshotFiles {
	l.t.Helper()
	snap, err := l.lk.Snapshot(context.Background(), tableName)
	if err != nil {
		l.t.Fatalf("Snapshot: %v", err)
	}
	sort.Strings(snap.DataFiles)
	return snap
}

// contents reads the current snapshot with the query engine and returns its row count, its distinct id count
// and its ids in order.
func (l *testLake) contents() (count, distinct int64, got []int64) {
	l.t.Helper()
	ctx := context.Background()
	snap := l.snapshot()
	eng, err := query.Open(ctx)
	if err != nil {
		l.t.Fatalf("query.Open: %v", err)
	}
	defer eng.Close()
	ns, name, _ := strings.Cut(snap.Name, ".")
	qt := query.Table{Namespace: ns, Name: name, DataFiles: snap.DataFiles, PositionDeletes: snap.DeleteFiles}
	for _, c := range snap.Columns {
		qt.Columns = append(qt.Columns, query.Column{Name: c.Name, Type: c.Type})
	}
	if err := eng.Register(ctx, qt); err != nil {
		l.t.Fatalf("Register: %v", err)
	}
	res, err := eng.Query(ctx, "select count(*), count(distinct id) from "+tableName)
	if err != nil {
		l.t.Fatalf("count: %v", err)
	}
	count, distinct = res.Rows[0][0].(int64), res.Rows[0][1].(int64)
	res, err = eng.Query(ctx, "select id from "+tableName+" order by id")
	if err != nil {
		l.t.Fatalf("ids: %v", err)
	}
	for _, r := range res.Rows {
		got = append(got, r[0].(int64))
	}
	return count, distinct, got
}

// checkContents asserts the table holds exactly the rows with ids want, once each.
func (l *testLake) checkContents(want []int64) {
	l.t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	count, distinct, got := l.contents()
	if count != int64(len(want)) || distinct != int64(len(want)) {
		l.t.Errorf("table holds %d rows with %d distinct ids, want %d rows, all distinct", count, distinct, len(want))
	}
	if !slices.Equal(got, want) {
		l.t.Errorf("table ids = %v, want %v", got, want)
	}
}

// checkOffsets asserts the offsets pipeline stored in the current table are exactly want.
func (l *testLake) checkOffsets(pipeline string, want lake.Offsets) {
	l.t.Helper()
	got := lake.StoredOffsets(l.load(), pipeline)
	if fmt.Sprint(got) != fmt.Sprint(want) { // fmt prints maps sorted by key
		l.t.Errorf("stored offsets of %s = %v, want %v", pipeline, got, want)
	}
}

func commit(t *testing.T, tbl *table.Table, b lake.Batch) lake.CommitResult {
	t.Helper()
	res, err := lake.Commit(context.Background(), tbl, b)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

// TestCommitConflict runs two writers, each through its own catalog connection, that plan a batch on the same
// snapshot. When both cover the same partition the second is fenced and the table keeps exactly the first;
// when they cover different partitions the second replans once on the new snapshot and both land.
func TestCommitConflict(t *testing.T) { testCommitConflict(t, sqliteCatalog) }

func testCommitConflict(t *testing.T, cat newCatalog) {
	for _, tc := range []struct {
		name       string
		partA      int32
		partB      int32
		wantFenced bool
	}{
		{name: "same partition", partA: 0, partB: 0, wantFenced: true},
		{name: "different partitions", partA: 0, partB: 1, wantFenced: false},
	} {
		for _, seeded := range []bool{false, true} {
			base := "empty base"
			if seeded {
				base = "base with a snapshot"
			}
			t.Run(tc.name+"/"+base, func(t *testing.T) {
				ctx := context.Background()
				l := newTestLakeOn(t, cat)
				l.ensure()
				var seedIDs []int64
				var seedFiles []iceberg.DataFile
				if seeded {
					// Another pipeline committed before A and B planned; its offsets must not fence them.
					seedIDs = ids(1000, 1002)
					seedFiles = write(t, l.load(), seedIDs, onDay0)
					commit(t, l.load(), lake.Batch{Pipeline: "seed", Files: seedFiles,
						From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 2}})
				}

				// Both writers load the table now: the same base snapshot.
				tblA := l.load()
				tblB, err := l.open().LoadTable(ctx, tableName)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := tblA.CurrentSnapshot(), tblB.CurrentSnapshot(); (a == nil) != (b == nil) || (a != nil && a.SnapshotID != b.SnapshotID) {
					t.Fatalf("writers loaded different snapshots")
				}
				fromA := lake.StoredOffsets(tblA, "p").Get(tp(tc.partA))
				fromB := lake.StoredOffsets(tblB, "p").Get(tp(tc.partB))
				if fromA != lake.NoOffset || fromB != lake.NoOffset {
					t.Fatalf("stored offsets before the first commit: %d, %d; want %d", fromA, fromB, lake.NoOffset)
				}
				idsA, idsB := ids(1, 4), ids(101, 105)
				filesA := write(t, tblA, idsA, onDay0)
				filesB := write(t, tblB, idsB, onDay0)

				resA := commit(t, tblA, lake.Batch{Pipeline: "p", Files: filesA,
					From: lake.Offsets{tp(tc.partA): fromA}, Next: lake.Offsets{tp(tc.partA): 3}})
				if resA.Conflicts != 0 {
					t.Errorf("A: %d conflicts, want 0", resA.Conflicts)
				}

				resB, errB := lake.Commit(ctx, tblB, lake.Batch{Pipeline: "p", Files: filesB,
					From: lake.Offsets{tp(tc.partB): fromB}, Next: lake.Offsets{tp(tc.partB): 4}})

				wantIDs := append(slices.Clone(seedIDs), idsA...)
				wantFiles := append(slices.Clone(seedFiles), filesA...)
				wantOffsets := lake.Offsets{tp(tc.partA): 3}
				if tc.wantFenced {
					var fe *lake.FencedError
					if !errors.As(errB, &fe) {
						t.Fatalf("B: Commit error = %v, want a *lake.FencedError", errB)
					}
					want := lake.FencedError{Table: tableName, Partition: tp(0), Expected: lake.NoOffset, Stored: 3}
					if *fe != want {
						t.Errorf("B: FencedError = %+v, want %+v", *fe, want)
					}
					const wantMsg = "table staging.events: partition game/0: stored next offset is 3, batch was planned from -1: another worker committed it"
					if errB.Error() != wantMsg {
						t.Errorf("B: error = %q, want %q", errB.Error(), wantMsg)
					}
					// A fenced commit definitely failed: Commit removed B's files instead of leaving orphans.
					for _, p := range paths(filesB) {
						if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("B's data file %s after the fence: %v, want it removed", p, err)
						}
					}
				} else {
					if errB != nil {
						t.Fatalf("B: Commit: %v", errB)
					}
					if resB.Conflicts != 1 {
						t.Errorf("B: %d conflicts, want 1", resB.Conflicts)
					}
					wantIDs = append(wantIDs, idsB...)
					wantFiles = append(wantFiles, filesB...)
					wantOffsets[tp(tc.partB)] = 4
				}

				snap := l.snapshot()
				if got, want := snap.DataFiles, paths(wantFiles); !slices.Equal(got, want) {
					t.Errorf("snapshot data files = %v, want %v", got, want)
				}
				if tc.wantFenced {
					for _, p := range paths(filesB) {
						if slices.Contains(snap.DataFiles, p) {
							t.Errorf("fenced writer's file %s is in the snapshot", p)
						}
					}
				}
				l.checkContents(wantIDs)
				l.checkOffsets("p", wantOffsets)
				if seeded {
					l.checkOffsets("seed", lake.Offsets{tp(0): 2})
				}
			})
		}
	}
}

// TestCommitConcurrentWriters has four writers, each owning one partition, commit five batches each to the
// same table at the same time, each through its own catalog connection. Every batch lands exactly once.
func TestCommitConcurrentWriters(t *testing.T) { testCommitConcurrentWriters(t, sqliteCatalog) }

func testCommitConcurrentWriters(t *testing.T, cat newCatalog) {
	const writers, batches, rowsPerBatch = 4, 5, 3
	l := newTestLakeOn(t, cat)
	l.ensure()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	conflicts := make([]int, writers)
	// Every writer opens its catalog connection first, so that they all write at the same time.
	lakes := make([]*lake.Lake, writers)
	for w := range writers {
		lakes[w] = l.open()
	}
	start := make(chan struct{})
	for w, lk := range lakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- func() error {
				ctx := context.Background()
				part := tp(int32(w))
				tbl, err := lk.LoadTable(ctx, tableName)
				if err != nil {
					return err
				}
				next := int64(0)
				for b := range batches {
					first := int64(w*1000 + b*rowsPerBatch)
					rec, err := newRecord(tbl, ids(first, first+rowsPerBatch), onDay0)
					if err != nil {
						return err
					}
					files, err := lake.WriteFiles(ctx, tbl, rec)
					rec.Release()
					if err != nil {
						return err
					}
					from := lake.StoredOffsets(tbl, "p").Get(part)
					wantFrom := next
					if b == 0 {
						wantFrom = lake.NoOffset
					}
					if from != wantFrom {
						return fmt.Errorf("writer %d batch %d: stored offset %d, want %d", w, b, from, wantFrom)
					}
					res, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", Files: files,
						From: lake.Offsets{part: from}, Next: lake.Offsets{part: next + rowsPerBatch}})
					if err != nil {
						return fmt.Errorf("writer %d batch %d: %w", w, b, err)
					}
					conflicts[w] += res.Conflicts
					tbl = res.Table
					next += rowsPerBatch
				}
				return nil
			}()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("conflicts per writer: %v", conflicts)

	var want []int64
	wantOffsets := lake.Offsets{}
	for w := range writers {
		want = append(want, ids(int64(w*1000), int64(w*1000+batches*rowsPerBatch))...)
		wantOffsets[tp(int32(w))] = batches * rowsPerBatch
	}
	l.checkContents(want)
	l.checkOffsets("p", wantOffsets)
	if got := len(l.load().Metadata().Snapshots()); got != writers*batches {
		t.Errorf("table has %d snapshots, want one per batch: %d", got, writers*batches)
	}
}

// TestOffsetsSurviveOtherPipelines commits data with offsets, then a commit of another pipeline (with and
// without files); each pipeline reads back exactly its own offsets.
func TestOffsetsSurviveOtherPipelines(t *testing.T) {
	l := newTestLake(t)
	l.ensure()

	tbl := l.load()
	commit(t, tbl, lake.Batch{Pipeline: "games", Files: write(t, tbl, ids(1, 6), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset, tp(1): lake.NoOffset},
		Next: lake.Offsets{tp(0): 3, tp(1): 2}})

	// A pipeline whose name extends the first one's must not read or clobber its offsets.
	other := l.load()
	commit(t, other, lake.Batch{Pipeline: "games-2", Files: write(t, other, ids(10, 12), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 40}})
	other = l.load()
	commit(t, other, lake.Batch{Pipeline: "audit",
		From: lake.Offsets{{Topic: "audit.log", Partition: 7}: lake.NoOffset},
		Next: lake.Offsets{{Topic: "audit.log", Partition: 7}: 9}})

	l.checkOffsets("games", lake.Offsets{tp(0): 3, tp(1): 2})
	l.checkOffsets("games-2", lake.Offsets{tp(0): 40})
	l.checkOffsets("audit", lake.Offsets{{Topic: "audit.log", Partition: 7}: 9})
	l.checkOffsets("nobody", lake.Offsets{})
	l.checkContents(append(ids(1, 6), ids(10, 12)...))

	// The first pipeline continues from what it stored.
	tbl = l.load()
	commit(t, tbl, lake.Batch{Pipeline: "games", Files: write(t, tbl, ids(6, 7), onDay0),
		From: lake.Offsets{tp(1): 2}, Next: lake.Offsets{tp(1): 3}})
	l.checkOffsets("games", lake.Offsets{tp(0): 3, tp(1): 3})
	l.checkOffsets("games-2", lake.Offsets{tp(0): 40})
}

// TestEnsureTable creates the table once, however often and however concurrently EnsureTable runs.
func TestEnsureTable(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		l := newTestLake(t)
		first := l.ensure()
		second := l.ensure()
		if first.Metadata().TableUUID() != second.Metadata().TableUUID() {
			t.Errorf("second EnsureTable made another table")
		}
		checkOneTable(t, l.lk)
		checkPartitionSpec(t, second)
	})
	t.Run("concurrently", func(t *testing.T) { testEnsureTableConcurrently(t, sqliteCatalog) })
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			spec lake.TableSpec
			want string
		}{
			{
				name: "unknown column type",
				spec: lake.TableSpec{Name: "staging.bad", Columns: []lake.Column{{Name: "id", Type: "long"}, {Name: "blob", Type: "uuid"}}},
				want: `creating table staging.bad: column blob: unknown column type "uuid"`,
			},
			{
				name: "unknown partition transform",
				spec: lake.TableSpec{Name: "staging.bad", Columns: []lake.Column{{Name: "id", Type: "long"}},
					Partitions: []lake.Partition{{Transform: "week", Column: "id"}}},
				want: `creating table staging.bad: unknown partition transform "week"`,
			},
			{
				name: "partition on missing column",
				spec: lake.TableSpec{Name: "staging.bad", Columns: []lake.Column{{Name: "id", Type: "long"}},
					Partitions: []lake.Partition{{Transform: "day", Column: "event_time"}}},
				want: `creating table staging.bad: partition day(event_time): no such column`,
			},
			{
				name: "name without namespace",
				spec: lake.TableSpec{Name: "bad", Columns: []lake.Column{{Name: "id", Type: "long"}}},
				want: `table name "bad": expected namespace.table`,
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				l := newTestLake(t)
				_, err := l.lk.EnsureTable(context.Background(), tc.spec)
				if err == nil || err.Error() != tc.want {
					t.Fatalf("EnsureTable error = %v, want %q", err, tc.want)
				}
				names, err := l.lk.Tables(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(names) != 0 {
					t.Errorf("tables after a failed EnsureTable: %v, want none", names)
				}
			})
		}
	})
}

// testEnsureTableConcurrently has two processes (two lakes on one catalog) create the table at once: both get
// the one table.
func testEnsureTableConcurrently(t *testing.T, cat newCatalog) {
	l := newTestLakeOn(t, cat)
	lakes := []*lake.Lake{l.open(), l.open()}
	tables := make([]*table.Table, len(lakes))
	errs := make([]error, len(lakes))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, lk := range lakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tables[i], errs[i] = lk.EnsureTable(context.Background(), spec)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("EnsureTable %d: %v", i, err)
		}
	}
	if tables[0].Metadata().TableUUID() != tables[1].Metadata().TableUUID() {
		t.Errorf("concurrent EnsureTable calls returned different tables")
	}
	checkOneTable(t, lakes[0])
	checkPartitionSpec(t, tables[0])
}

func checkOneTable(t *testing.T, lk *lake.Lake) {
	t.Helper()
	names, err := lk.Tables(context.Background())
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	if !slices.Equal(names, []string{tableName}) {
		t.Errorf("Tables() = %v, want [%s]", names, tableName)
	}
}

func checkPartitionSpec(t *testing.T, tbl *table.Table) {
	t.Helper()
	ps := tbl.Spec()
	if ps.NumFields() != 1 {
		t.Fatalf("partition spec has %d fields, want 1: %v", ps.NumFields(), ps)
	}
	f := ps.Field(0)
	src, ok := tbl.Schema().FindFieldByID(f.SourceID())
	if !ok || src.Name != "event_time" || f.Transform.String() != "day" || f.Name != "event_time_day" {
		t.Errorf("partition field = %v on %v, want day(event_time) named event_time_day", f, src.Name)
	}
}

// TestSnapshotEmptyTable lists the schema of a table nothing was committed to, and no files.
func TestSnapshotEmptyTable(t *testing.T) {
	l := newTestLake(t)
	l.ensure()
	snap := l.snapshot()
	want := []lake.SnapshotColumn{{Name: "id", Type: "long"}, {Name: "event_time", Type: "timestamptz"}, {Name: "player", Type: "string"}}
	if snap.Name != tableName || !slices.Equal(snap.Columns, want) {
		t.Errorf("Snapshot = %s %v, want %s %v", snap.Name, snap.Columns, tableName, want)
	}
	if len(snap.DataFiles) != 0 || len(snap.DeleteFiles) != 0 {
		t.Errorf("empty table lists data files %v and delete files %v, want none", snap.DataFiles, snap.DeleteFiles)
	}
	l.checkContents(nil)
}

// TestWriteFilesPartitionsAndOrphans writes a batch spanning three days: one file per day partition, all
// listed after the commit. Files written but never committed are on disk yet never listed.
func TestWriteFilesPartitionsAndOrphans(t *testing.T) {
	l := newTestLake(t)
	l.ensure()
	tbl := l.load()

	overDays := func(id int64) time.Time { return day0.AddDate(0, 0, int(id%3)).Add(time.Duration(id) * time.Minute) }
	files := write(t, tbl, ids(0, 9), overDays)
	if len(files) != 3 {
		t.Fatalf("WriteFiles over 3 days wrote %d files, want 3", len(files))
	}
	var days []int
	for _, f := range files {
		part := f.Partition()
		if len(part) != 1 {
			t.Fatalf("file %s has partition %v, want one field", f.FilePath(), part)
		}
		for _, v := range part {
			d, ok := v.(iceberg.Date)
			if !ok {
				t.Fatalf("day partition value %v is %T, want iceberg.Date", v, v)
			}
			days = append(days, int(d))
		}
		if f.Count() != 3 {
			t.Errorf("file %s holds %d rows, want 3", f.FilePath(), f.Count())
		}
	}
	slices.Sort(days)
	epochDay := int(day0.Unix() / 86400)
	if want := []int{epochDay, epochDay + 1, epochDay + 2}; !slices.Equal(days, want) {
		t.Errorf("partition days = %v, want %v", days, want)
	}
	commit(t, tbl, lake.Batch{Pipeline: "p", Files: files,
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 9}})

	// A batch written and never committed: its files are orphans.
	orphans := write(t, l.load(), ids(100, 106), overDays)
	if len(orphans) != 3 {
		t.Fatalf("orphan batch wrote %d files, want 3", len(orphans))
	}

	snap := l.snapshot()
	if got, want := snap.DataFiles, paths(files); !slices.Equal(got, want) {
		t.Errorf("snapshot data files = %v, want %v", got, want)
	}
	onDisk, err := filepath.Glob(filepath.Join(l.dir, "warehouse", "*", "*", "data", "*", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(onDisk)
	wantOnDisk := paths(append(slices.Clone(files), orphans...))
	if !slices.Equal(onDisk, wantOnDisk) {
		t.Errorf("parquet files on disk = %v, want %v", onDisk, wantOnDisk)
	}
	for _, p := range paths(orphans) {
		if slices.Contains(snap.DataFiles, p) {
			t.Errorf("uncommitted file %s is listed by Snapshot", p)
		}
	}
	l.checkContents(ids(0, 9))
}

// TestWriteFilesUnwritableDirectory: when the table's data directory cannot hold files (here it is a regular
// file), WriteFiles fails every time. iceberg-go's writer sometimes loses that error and reports no files, which
// would commit a batch's offsets without its rows: WriteFiles must notice the missing rows.
func TestWriteFilesUnwritableDirectory(t *testing.T) {
	l := newTestLake(t)
	tbl := l.ensure()
	write(t, tbl, ids(0, 10), onDay0)
	data := strings.TrimPrefix(tbl.Location(), "file://") + "/data"
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		rec := record(t, tbl, ids(10, 30), onDay0)
		files, err := lake.WriteFiles(context.Background(), tbl, rec)
		rec.Release()
		if err == nil {
			t.Fatalf("attempt %d: WriteFiles into a data directory that is a file returned %d files and no error", i, len(files))
		}
	}
}
