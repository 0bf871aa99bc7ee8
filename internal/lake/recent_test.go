package lake_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
)

// TestRecentFiles: only files whose newest timestamp is within the window of the table's newest are listed.
func TestRecentFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "c.db"), filepath.Join(dir, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	tbl, err := lk.EnsureTable(ctx, lake.TableSpec{Name: "staging.recent", Columns: []lake.Column{
		{Name: "id", Type: "string", Required: true}, {Name: "ts", Type: "timestamp", Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Three commits, one file each: days 0, 5 and 6.
	for i, day := range []int{0, 5, 6} {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			t.Fatal(err)
		}
		rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		rb.Field(0).(*array.StringBuilder).Append("x")
		rb.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(base.AddDate(0, 0, day).UnixMicro()))
		rec := rb.NewRecordBatch()
		files, err := lake.WriteFiles(ctx, tbl, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		tp, from := lake.TopicPartition{Topic: "t"}, lake.NoOffset
		if i > 0 {
			from = int64(i)
		}
		res, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", Files: files, From: lake.Offsets{tp: from}, Next: lake.Offsets{tp: int64(i + 1)}})
		if err != nil {
			t.Fatal(err)
		}
		tbl = res.Table
	}
	for _, tc := range []struct {
		window time.Duration
		want   int
	}{{24 * time.Hour, 2}, {time.Hour, 1}, {30 * 24 * time.Hour, 3}} {
		files, err := lake.RecentFiles(ctx, tbl, "ts", tc.window)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != tc.want {
			t.Errorf("window %v: %d files, want %d", tc.window, len(files), tc.want)
		}
	}
}
