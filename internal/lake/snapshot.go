package lake

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
)

// SnapshotFiles is what a reader needs to read a table's current snapshot: its schema and exact file lists.
type SnapshotFiles struct {
	Name        string // namespace.table
	Columns     []SnapshotColumn
	DataFiles   []string // local paths (or URIs for remote warehouses)
	DeleteFiles []string // positional delete files
}

// SnapshotColumn is a column of the current schema with its Iceberg type string (e.g. "long", "timestamptz").
type SnapshotColumn struct {
	Name string
	Type string
}

// Snapshot lists the current snapshot's data and delete files of a table. Files of failed or uncommitted
// writes are never listed: the list comes from the snapshot's manifests, not from a directory.
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
