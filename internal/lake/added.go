package lake

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// WriterProperty is the snapshot summary property naming the process (session) that made a snapshot.
const WriterProperty = "bigfather.writer"

// MaintenanceProperty is the snapshot summary property marking a snapshot made by table maintenance
// (internal/maintain): "compaction" for a rewrite that replaces data files by files holding the same rows.
const MaintenanceProperty = "bigfather.maintenance"

// ErrHistoryGone means the snapshot to read from is no longer an ancestor of the current one (expired or
// rolled back): the caller must start over from the current snapshot's full file list.
var ErrHistoryGone = errors.New("snapshot is no longer in the table's history")

// AddedSince returns the data files added by the snapshots after since up to the current one, leaving out
// snapshots whose summary names skipWriter and maintenance snapshots (MaintenanceProperty), whose files hold
// rows earlier snapshots added. since 0 means "from the start": every current data file.
func AddedSince(ctx context.Context, t *table.Table, since int64, skipWriter string) ([]string, error) {
	cur := t.CurrentSnapshot()
	if cur == nil || cur.SnapshotID == since {
		return nil, nil
	}
	fs, err := t.FS(ctx)
	if err != nil {
		return nil, err
	}
	if since == 0 {
		tasks, err := t.Scan().PlanFiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("planning files: %w", err)
		}
		out := make([]string, 0, len(tasks))
		for _, task := range tasks {
			out = append(out, LocalPath(task.File.FilePath()))
		}
		return out, nil
	}
	var files []string
	for s := cur; s.SnapshotID != since; {
		if !skipped(s, skipWriter) {
			mfs, err := s.Manifests(fs)
			if err != nil {
				return nil, fmt.Errorf("reading manifests of snapshot %d: %w", s.SnapshotID, err)
			}
			for _, mf := range mfs {
				if mf.SnapshotID() != s.SnapshotID || mf.ManifestContent() != iceberg.ManifestContentData {
					continue
				}
				entries, err := mf.FetchEntries(fs, true)
				if err != nil {
					return nil, fmt.Errorf("reading manifest %s: %w", mf.FilePath(), err)
				}
				for _, e := range entries {
					if e.Status() == iceberg.EntryStatusADDED && e.SnapshotID() == s.SnapshotID {
						files = append(files, LocalPath(e.DataFile().FilePath()))
					}
				}
			}
		}
		if s.ParentSnapshotID == nil {
			return nil, ErrHistoryGone
		}
		if s = t.SnapshotByID(*s.ParentSnapshotID); s == nil {
			return nil, ErrHistoryGone
		}
	}
	return files, nil
}

// skipped reports whether AddedSince leaves out the files s added: s is skipWriter's, or maintenance's.
func skipped(s *table.Snapshot, skipWriter string) bool {
	if s.Summary == nil {
		return false
	}
	if s.Summary.Properties[MaintenanceProperty] != "" {
		return true
	}
	return skipWriter != "" && s.Summary.Properties[WriterProperty] == skipWriter
}

// ReadColumns reads the named columns of local Parquet files, calling fn with each record batch (released
// after fn returns). A file lacking one of the columns is an error. Files of a remote warehouse need
// ReadTableColumns.
func ReadColumns(ctx context.Context, files []string, cols []string, fn func(arrow.RecordBatch) error) error {
	return ReadTableColumns(ctx, nil, files, cols, fn)
}

// ReadTableColumns is ReadColumns for files of t, as AddedSince and RecentFiles list them: local paths, or
// URIs (s3://...) read through t's file IO, which fetches only the footer and the projected column chunks
// (ranged reads), never the whole object. t may be nil when every file is local.
func ReadTableColumns(ctx context.Context, t *table.Table, files []string, cols []string, fn func(arrow.RecordBatch) error) error {
	var fsys icebergio.IO
	for _, path := range files {
		var err error
		if LocalPath(path) != path || !strings.Contains(path, "://") {
			err = readFileColumns(ctx, nil, LocalPath(path), cols, fn)
		} else if t == nil {
			err = errors.New("a remote file needs its table's file IO (use ReadTableColumns)")
		} else {
			if fsys == nil {
				if fsys, err = t.FS(ctx); err != nil {
					return fmt.Errorf("reading %s: %w", path, err)
				}
			}
			err = readFileColumns(ctx, fsys, path, cols, fn)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	return nil
}

// readFileColumns reads path from the local disk when fsys is nil, else through fsys.
func readFileColumns(ctx context.Context, fsys icebergio.IO, path string, cols []string, fn func(arrow.RecordBatch) error) error {
	var pf *file.Reader
	if fsys == nil {
		f, err := file.OpenParquetFile(path, false)
		if err != nil {
			return err
		}
		pf = f
	} else {
		src, err := fsys.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		if pf, err = file.NewParquetReader(src); err != nil {
			return err
		}
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	// The reader takes Parquet leaf columns, which are not the top-level fields once a nested column (a
	// struct, list or map of several leaves) comes before: select every leaf under each named field.
	leaves := pf.MetaData().Schema
	var idx []int
	for _, c := range cols {
		n := len(idx)
		for i := 0; i < leaves.NumColumns(); i++ {
			if path := leaves.Column(i).ColumnPath(); len(path) > 0 && path[0] == c {
				idx = append(idx, i)
			}
		}
		if len(idx) == n {
			return fmt.Errorf("no column %q", c)
		}
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		rec, err := inOrder(rr.RecordBatch(), cols)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return rr.Err()
}

// inOrder returns rec's columns in the order cols names them (the reader returns them in file order).
func inOrder(rec arrow.RecordBatch, cols []string) (arrow.RecordBatch, error) {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		j := rec.Schema().FieldIndices(c)
		if len(j) == 0 {
			return nil, fmt.Errorf("no column %q", c)
		}
		fields[i], arrs[i] = rec.Schema().Field(j[0]), rec.Column(j[0])
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows()), nil
}

// RecentFiles returns the current data files that may hold rows whose timestamp column is within window of
// the newest value in the table, judged by the files' upper bounds in the manifests (no data is read). Files
// without a bound for the column are included.
func RecentFiles(ctx context.Context, t *table.Table, column string, window time.Duration) ([]string, error) {
	if t.CurrentSnapshot() == nil {
		return nil, nil
	}
	field, ok := t.Schema().FindFieldByName(column)
	if !ok {
		return nil, fmt.Errorf("no column %q", column)
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning files: %w", err)
	}
	uppers := make([]int64, len(tasks))
	newest := int64(math.MinInt64)
	for i, task := range tasks {
		b, ok := task.File.UpperBoundValues()[field.ID]
		if !ok || len(b) != 8 {
			uppers[i] = math.MaxInt64 // unknown: keep
			continue
		}
		uppers[i] = int64(binary.LittleEndian.Uint64(b)) // timestamps are microseconds, little endian
		newest = max(newest, uppers[i])
	}
	cut := newest - window.Microseconds()
	var out []string
	for i, task := range tasks {
		if uppers[i] >= cut {
			out = append(out, LocalPath(task.File.FilePath()))
		}
	}
	return out, nil
}
