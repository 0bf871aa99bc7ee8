package lake

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// SnapshotFiles is what a reader needs to read a table's current snapshot: its schema and exact file lists.
type SnapshotFiles struct {
	Name        string // namespace.table
	Columns     []SnapshotColumn
	DataFiles   []string // local paths; for an s3:// warehouse, copies in the local file cache (cache.go)
	DeleteFiles []string // positional delete files (local tables only)
}

// SnapshotColumn is a column of the current schema with its Iceberg type string (e.g. "long", "timestamptz").
type SnapshotColumn struct {
	Name string
	Type string
}

// Snapshot lists the current snapshot's data and delete files of a table. Files of failed or uncommitted
// writes are never listed: the list comes from the snapshot's manifests, not from a directory. The data files
// of a table in an s3:// warehouse are downloaded into the lake's file cache (once: data files are immutable)
// and their local copies listed, so local readers such as DuckDB can read them.
func (l *Lake) Snapshot(ctx context.Context, name string) (SnapshotFiles, error) {
	t, err := l.LoadTable(ctx, name)
	if err != nil {
		return SnapshotFiles{}, err
	}
	return l.snapshotFiles(ctx, t, name, t.Schema(), t.CurrentSnapshot())
}

// snapshotFiles lists the files of snap (nil: the table has no snapshot yet), with the columns of sc.
func (l *Lake) snapshotFiles(ctx context.Context, t *table.Table, name string, sc *iceberg.Schema, snap *table.Snapshot) (SnapshotFiles, error) {
	out := SnapshotFiles{Name: name}
	for _, f := range sc.Fields() {
		out.Columns = append(out.Columns, SnapshotColumn{Name: f.Name, Type: typeString(f.Type)})
	}
	if snap == nil {
		return out, nil
	}
	tasks, err := t.Scan(table.WithSnapshotID(snap.SnapshotID)).PlanFiles(ctx)
	if err != nil {
		return SnapshotFiles{}, fmt.Errorf("planning files of %s: %w", name, err)
	}
	if l.remote() {
		return l.remoteSnapshot(ctx, t, out, tasks)
	}
	seenDel := map[string]bool{}
	for _, task := range tasks {
		out.DataFiles = append(out.DataFiles, LocalPath(task.File.FilePath()))
		for _, d := range task.DeleteFiles {
			if p := LocalPath(d.FilePath()); !seenDel[p] {
				seenDel[p] = true
				out.DeleteFiles = append(out.DeleteFiles, p)
			}
		}
	}
	return out, nil
}

func typeString(t iceberg.Type) string { return t.String() }

// remoteSnapshot completes out with local copies of the data files of tasks.
func (l *Lake) remoteSnapshot(ctx context.Context, t *table.Table, out SnapshotFiles, tasks []table.FileScanTask) (SnapshotFiles, error) {
	files := make([]remoteFile, 0, len(tasks))
	for _, task := range tasks {
		if len(task.DeleteFiles) > 0 {
			// Their file_path column names S3 objects, not the cached copies a view anti-joins against.
			return SnapshotFiles{}, fmt.Errorf("table %s has positional delete files, which Big Father cannot read from an s3:// warehouse yet", out.Name)
		}
		files = append(files, remoteFile{uri: task.File.FilePath(), size: task.File.FileSizeBytes()})
	}
	if len(files) == 0 {
		return out, nil
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return SnapshotFiles{}, l.hide(fmt.Errorf("reading %s: %w", out.Name, err))
	}
	c, err := l.fileCache()
	if err != nil {
		return SnapshotFiles{}, err
	}
	local, err := c.fetch(ctx, fsys, l.s3.Endpoint, files)
	if err != nil {
		return SnapshotFiles{}, l.hide(fmt.Errorf("reading %s: %w", out.Name, err))
	}
	out.DataFiles = local
	return out, nil
}

// fileCache returns the lake's cache of remote data files, the default one unless WithCache set it.
func (l *Lake) fileCache() (*fileCache, error) {
	l.cacheOnce.Do(func() {
		if l.cache == nil {
			l.cache, l.cacheErr = defaultCache()
		}
	})
	return l.cache, l.cacheErr
}

// SnapshotAt is Snapshot for an older snapshot of a table still in its history: the files a reader needs to
// read the table as it was then (for an incremental computation that compares before and after).
func (l *Lake) SnapshotAt(ctx context.Context, name string, snapshotID int64) (SnapshotFiles, error) {
	t, err := l.LoadTable(ctx, name)
	if err != nil {
		return SnapshotFiles{}, err
	}
	snap := t.SnapshotByID(snapshotID)
	if snap == nil {
		return SnapshotFiles{}, fmt.Errorf("table %s: snapshot %d: %w", name, snapshotID, ErrHistoryGone)
	}
	sc := t.Schema()
	if snap.SchemaID != nil {
		for _, s := range t.Metadata().Schemas() {
			if s.ID == *snap.SchemaID {
				sc = s
			}
		}
	}
	return l.snapshotFiles(ctx, t, name, sc, snap)
}

// LocalFiles returns local paths a reader such as DuckDB can open for data files of t (as AddedSince lists
// them): the paths themselves in a local warehouse, copies in the lake's file cache for an s3:// one.
func (l *Lake) LocalFiles(ctx context.Context, t *table.Table, paths []string) ([]string, error) {
	if !l.remote() || len(paths) == 0 {
		return paths, nil
	}
	files := make([]remoteFile, len(paths))
	for i, p := range paths {
		files[i] = remoteFile{uri: p}
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return nil, l.hide(fmt.Errorf("reading %s: %w", t.Identifier(), err))
	}
	c, err := l.fileCache()
	if err != nil {
		return nil, err
	}
	local, err := c.fetch(ctx, fsys, l.s3.Endpoint, files)
	if err != nil {
		return nil, l.hide(fmt.Errorf("reading %s: %w", t.Identifier(), err))
	}
	return local, nil
}
