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
	out := SnapshotFiles{Name: name}
	for _, f := range t.Schema().Fields() {
		out.Columns = append(out.Columns, SnapshotColumn{Name: f.Name, Type: typeString(f.Type)})
	}
	if t.CurrentSnapshot() == nil {
		return out, nil
	}
	tasks, err := t.Scan().PlanFiles(ctx)
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
