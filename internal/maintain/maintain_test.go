package maintain_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
)

const tableName = "staging.events"

var spec = lake.TableSpec{
	Name: tableName,
	Columns: []lake.Column{
		{Name: "id", Type: "long", Required: true},
		{Name: "event_time", Type: "timestamp", Required: true},
		{Name: "player", Type: "string"},
	},
	Partitions: []lake.Partition{{Transform: "day", Column: "event_time"}},
}

var day0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// twoDays puts even ids on day0 and odd ids on the next day: two partitions.
func twoDays(id int64) time.Time {
	return day0.Add(time.Duration(id%2)*24*time.Hour + time.Duration(id)*time.Millisecond)
}

type world struct {
	t   *testing.T
	dir string
	lk  *lake.Lake
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{t: t, dir: dir}
	w.lk = w.open()
	if _, err := w.lk.EnsureTable(context.Background(), spec); err != nil {
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

func (w *world) load(lk *lake.Lake) *table.Table {
	w.t.Helper()
	t, err := lk.LoadTable(context.Background(), tableName)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

// commit stages ids as one batch of writer, moving partition 0's offset to next.
func (w *world) commit(t *table.Table, writer string, ids []int64, next int64) *table.Table {
	w.t.Helper()
	ctx := context.Background()
	sc, err := table.SchemaToArrowSchema(t.Schema(), nil, true, false)
	if err != nil {
		w.t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, id := range ids {
		ts, _ := arrow.TimestampFromTime(twoDays(id), arrow.Microsecond)
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.TimestampBuilder).Append(ts)
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("player-%d", id%7))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	files, err := lake.WriteFiles(ctx, t, rec)
	if err != nil {
		w.t.Fatal(err)
	}
	tp := lake.TopicPartition{Topic: "game", Partition: 0}
	res, err := lake.Commit(ctx, t, lake.Batch{Pipeline: "p", Files: files,
		From: lake.Offsets{tp: lake.StoredOffsets(t, "p").Get(tp)}, Next: lake.Offsets{tp: next},
		Summary: iceberg.Properties{lake.WriterProperty: writer}})
	if err != nil {
		w.t.Fatal(err)
	}
	return res.Table
}

// rows reads every id of t's current snapshot, sorted.
func rows(t *testing.T, tbl *table.Table) []int64 {
	t.Helper()
	ctx := context.Background()
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, task := range tasks {
		files = append(files, task.File.FilePath())
	}
	var out []int64
	err = lake.ReadTableColumns(ctx, tbl, files, []string{"id"}, func(rec arrow.RecordBatch) error {
		out = append(out, rec.Column(0).(*array.Int64).Int64Values()...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func offsetProps(tbl *table.Table) map[string]string {
	out := map[string]string{}
	for k, v := range tbl.Properties() {
		if strings.HasPrefix(k, "bigfather.offset.") {
			out[k] = v
		}
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func dataFiles(t *testing.T, tbl *table.Table) int {
	t.Helper()
	st, err := maintain.Stats(context.Background(), tbl, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return st.DataFiles
}

// compactOnly runs compaction alone.
var compactOnly = maintain.Options{TargetFileSize: 1 << 20}

// TestCompactKeepsRowsAndOffsets: 30 small batches over two day partitions (60 files) become one file per
// partition in one rewrite snapshot marked as maintenance; the rows are exactly the same, and so is every
// offset property.
func TestCompactKeepsRowsAndOffsets(t *testing.T) {
	w := newWorld(t)
	tbl := w.load(w.lk)
	for i := int64(0); i < 30; i++ {
		tbl = w.commit(tbl, "w1", seq(i*100, i*100+100), i*100+100)
	}
	before, props := rows(t, tbl), offsetProps(tbl)
	if n := dataFiles(t, tbl); n != 60 {
		t.Fatalf("%d data files before compaction, want 60", n)
	}
	rep, err := maintain.Table(context.Background(), w.lk, tableName, compactOnly)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesRewritten != 60 || rep.FilesWritten != 2 || rep.DataFiles != 2 || rep.Yielded {
		t.Errorf("report %+v: want 60 files rewritten into 2, 2 data files left", rep)
	}
	t.Log(rep)
	after := w.load(w.open())
	if got := rows(t, after); !slices.Equal(got, before) || len(got) != 3000 {
		t.Errorf("rows after compaction: %d (sum %d), want the same %d (sum %d)", len(got), sum(got), len(before), sum(before))
	}
	if got := offsetProps(after); !maps.Equal(got, props) || len(got) != 1 {
		t.Errorf("offset properties after compaction %v, want %v", got, props)
	}
	snap := after.CurrentSnapshot()
	if snap.Summary.Properties[lake.MaintenanceProperty] != "compaction" {
		t.Errorf("compaction snapshot summary %v lacks %s=compaction", snap.Summary.Properties, lake.MaintenanceProperty)
	}
	// A second run finds nothing to do.
	rep, err = maintain.Table(context.Background(), w.lk, tableName, compactOnly)
	if err != nil || rep.FilesRewritten != 0 {
		t.Errorf("second run: %+v, %v; want nothing rewritten", rep, err)
	}
}

func sum(ids []int64) int64 {
	var s int64
	for _, id := range ids {
		s += id
	}
	return s
}

// TestAddedSinceSkipsCompaction: dedup's incremental reader sees another writer's files, never the files a
// compaction wrote (their rows were added before).
func TestAddedSinceSkipsCompaction(t *testing.T) {
	w := newWorld(t)
	tbl := w.load(w.lk)
	for i := int64(0); i < 5; i++ {
		tbl = w.commit(tbl, "me", seq(i*10, i*10+10), i*10+10)
	}
	since := tbl.CurrentSnapshot().SnapshotID
	other := w.commit(tbl, "other", seq(50, 60), 60)
	otherFiles := addedBy(other)
	if _, err := maintain.Table(context.Background(), w.lk, tableName, compactOnly); err != nil {
		t.Fatal(err)
	}
	tbl = w.load(w.lk)
	if tbl.CurrentSnapshot().Summary.Properties[lake.MaintenanceProperty] != "compaction" {
		t.Fatal("no compaction happened")
	}
	got, err := lake.AddedSince(context.Background(), tbl, since, "me")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, otherFiles) {
		t.Errorf("AddedSince after compaction = %v, want only the other writer's files %v", got, otherFiles)
	}
}

// addedBy lists the (local) paths of the data files t's current snapshot added.
func addedBy(t *table.Table) []string {
	var out []string
	fsys, _ := t.FS(context.Background())
	s := t.CurrentSnapshot()
	mfs, _ := s.Manifests(fsys)
	for _, mf := range mfs {
		if mf.SnapshotID() != s.SnapshotID {
			continue
		}
		entries, _ := mf.FetchEntries(fsys, true)
		for _, e := range entries {
			if e.Status() == iceberg.EntryStatusADDED {
				out = append(out, lake.LocalPath(e.DataFile().FilePath()))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestCompactRebasesOnStagingCommit: a staging commit lands while compaction writes; compaction applies its
// rewrite again on the new snapshot (the staged files stay as they are), and a staging commit planned before
// the compaction retries once on a conflict and lands. Nothing is lost or duplicated, offsets are staging's.
func TestCompactRebasesOnStagingCommit(t *testing.T) {
	w := newWorld(t)
	tbl := w.load(w.lk)
	for i := int64(0); i < 10; i++ {
		tbl = w.commit(tbl, "w1", seq(i*10, i*10+10), i*10+10)
	}
	stale := w.load(w.lk)                                           // what compaction plans on
	staging := w.commit(w.load(w.open()), "w2", seq(100, 110), 110) // lands first
	c, err := maintain.Compact(context.Background(), stale, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if c.Yielded || c.FilesRewritten != 20 {
		t.Errorf("compaction after a staging commit: %+v, want the 20 planned files rewritten", c)
	}
	// staging still holds the table as of its own commit: its next commit conflicts with the compaction.
	w.commit(staging, "w2", seq(110, 120), 120)
	final := w.load(w.open())
	if got := rows(t, final); !slices.Equal(got, seq(0, 120)) {
		t.Errorf("rows: %d (sum %d), want 0..119", len(got), sum(got))
	}
	if got := lake.StoredOffsets(final, "p").Get(lake.TopicPartition{Topic: "game", Partition: 0}); got != 120 {
		t.Errorf("stored offset %d, want 120", got)
	}
}

// TestCompactYieldsWhenFilesGone: when the files compaction planned on were replaced meanwhile (another
// maintenance run), it gives up, removes what it wrote and changes nothing.
func TestCompactYieldsWhenFilesGone(t *testing.T) {
	w := newWorld(t)
	tbl := w.load(w.lk)
	for i := int64(0); i < 6; i++ {
		tbl = w.commit(tbl, "w1", seq(i*10, i*10+10), i*10+10)
	}
	stale := w.load(w.lk)
	if _, err := maintain.Compact(context.Background(), w.load(w.open()), 1<<20); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(lake.LocalPath(stale.Location()), "data")
	onDisk := countFiles(t, data)
	c, err := maintain.Compact(context.Background(), stale, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Yielded || c.FilesRewritten != 0 {
		t.Errorf("second compaction on replaced files: %+v, want it to yield", c)
	}
	// (The manifests of its failed attempt stay for orphan removal.)
	if got := countFiles(t, data); got != onDisk {
		t.Errorf("%d data files after yielding, want the %d before (its files removed)", got, onDisk)
	}
	if got := rows(t, w.load(w.open())); !slices.Equal(got, seq(0, 60)) {
		t.Errorf("rows: %d, want 0..59", len(got))
	}
}

func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExpireAndOrphans: expiry keeps the newest min_snapshots; AddedSince from an expired snapshot reports
// ErrHistoryGone (dedup then reloads in full); orphan removal deletes the old unreferenced files (a crashed
// batch's data file, a stray metadata file, the files only expired snapshots listed) and keeps young ones,
// and afterwards every file under the table's location is referenced.
func TestExpireAndOrphans(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tbl := w.load(w.lk)
	first := int64(0)
	for i := int64(0); i < 12; i++ {
		tbl = w.commit(tbl, "w1", seq(i*10, i*10+10), i*10+10)
		if i == 0 {
			first = tbl.CurrentSnapshot().SnapshotID
		}
	}
	// A crashed batch's data file and a stray metadata file, both old; and a young orphan.
	loc := lake.LocalPath(tbl.Location())
	oldOrphan := filepath.Join(loc, "data", "crashed.parquet")
	stray := filepath.Join(loc, "metadata", "stray.metadata.json")
	young := filepath.Join(loc, "data", "in-flight.parquet")
	for _, p := range []string{oldOrphan, stray, young} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Everything written so far is "old".
	past := time.Now().Add(-time.Hour)
	filepath.WalkDir(loc, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != young {
			os.Chtimes(p, past, past)
		}
		return nil
	})
	want := rows(t, tbl)
	rep, err := maintain.Table(ctx, w.lk, tableName, maintain.Options{TargetFileSize: 1 << 20, MinSnapshots: 3, OrphanAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	// 12 staging snapshots + 1 compaction, 3 kept.
	if rep.Snapshots != 3 || rep.SnapshotsExpired != 10 {
		t.Errorf("report %+v: want 10 snapshots expired and 3 kept", rep)
	}
	if rep.OrphansRemoved == 0 || rep.BytesRemoved == 0 {
		t.Errorf("report %+v: want orphans removed", rep)
	}
	for _, p := range []string{oldOrphan, stray} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: old orphan still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young orphan removed: %v", err)
	}
	os.Remove(young)
	tbl = w.load(w.open())
	if got := rows(t, tbl); !slices.Equal(got, want) {
		t.Errorf("rows after maintenance: %d, want %d", len(got), len(want))
	}
	if _, err := lake.AddedSince(ctx, tbl, first, "w1"); !errors.Is(err, lake.ErrHistoryGone) {
		t.Errorf("AddedSince from an expired snapshot: %v, want ErrHistoryGone", err)
	}
	assertAllReferenced(t, tbl)
}

// assertAllReferenced fails unless every file under tbl's location is referenced by its metadata.
func assertAllReferenced(t *testing.T, tbl *table.Table) {
	t.Helper()
	live, err := maintain.LiveFiles(context.Background(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]bool{}
	for p := range live {
		local[lake.LocalPath(p)] = true
	}
	filepath.WalkDir(lake.LocalPath(tbl.Location()), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !local[p] {
			t.Errorf("%s is under the table's location but no live snapshot or metadata references it", p)
		}
		return nil
	})
}

// manifestCount is how many data manifests t's current snapshot lists.
func manifestCount(t *testing.T, tbl *table.Table) int {
	t.Helper()
	fsys, err := tbl.FS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := tbl.CurrentSnapshot().Manifests(fsys)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.ManifestContent() == iceberg.ManifestContentData {
			n++
		}
	}
	return n
}

// TestMergeManifests: 12 staging commits leave 12 small manifests; the merge replaces them with one, keeping
// the rows, the data files and every offset property, and dedup's incremental reader still finds exactly the
// other writer's files since a snapshot before the merge. Below 8 small manifests nothing happens.
func TestMergeManifests(t *testing.T) {
	w := newWorld(t)
	tbl := w.load(w.lk)
	for i := int64(0); i < 6; i++ {
		tbl = w.commit(tbl, "me", seq(i*10, i*10+10), i*10+10)
	}
	res, err := maintain.MergeManifests(context.Background(), tbl)
	if err != nil || res.Replaced != 0 {
		t.Fatalf("6 manifests: %+v, %v; want nothing merged", res, err)
	}
	since := tbl.CurrentSnapshot().SnapshotID
	var otherFiles []string
	for i := int64(6); i < 12; i++ {
		tbl = w.commit(tbl, "other", seq(i*10, i*10+10), i*10+10)
		otherFiles = append(otherFiles, addedBy(tbl)...)
	}
	slices.Sort(otherFiles)
	before, props, files := rows(t, tbl), offsetProps(tbl), dataFiles(t, tbl)
	if n := manifestCount(t, tbl); n != 12 {
		t.Fatalf("%d manifests after 12 commits, want 12", n)
	}
	res, err = maintain.MergeManifests(context.Background(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced != 12 || res.Written != 1 || res.Yielded {
		t.Errorf("merge %+v: want 12 manifests replaced by 1", res)
	}
	after := w.load(w.open())
	if n := manifestCount(t, after); n != 1 {
		t.Errorf("%d manifests after the merge, want 1", n)
	}
	if got := rows(t, after); !slices.Equal(got, before) || len(got) != 120 {
		t.Errorf("rows after the merge: %d (sum %d), want the same %d (sum %d)", len(got), sum(got), len(before), sum(before))
	}
	if got := dataFiles(t, after); got != files {
		t.Errorf("%d data files after the merge, want the same %d", got, files)
	}
	if got := offsetProps(after); !maps.Equal(got, props) || len(got) != 1 {
		t.Errorf("offset properties after the merge %v, want %v", got, props)
	}
	got, err := lake.AddedSince(context.Background(), after, since, "me")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, otherFiles) {
		t.Errorf("AddedSince after the merge = %v, want only the other writer's files %v", got, otherFiles)
	}
	if res, err := maintain.MergeManifests(context.Background(), after); err != nil || res.Replaced != 0 {
		t.Errorf("second merge: %+v, %v; want nothing merged", res, err)
	}
}
