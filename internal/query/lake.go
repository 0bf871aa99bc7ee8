package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/bigfather/bigfather/internal/lake"
)

// RegisterLake makes every catalog table of lk queryable as namespace.table over its current snapshot. A table
// whose snapshot cannot be listed (its metadata or a manifest is missing) is registered as unreadable, so only
// queries that read it fail.
func (e *Engine) RegisterLake(ctx context.Context, lk *lake.Lake) error {
	names, err := lk.Tables(ctx)
	if err != nil {
		return err
	}
	return e.RegisterTables(ctx, lk, names...)
}

// RegisterTables is RegisterLake for the named tables only (namespace.table), for a query that reads just
// those: each registered table costs a read of its snapshot's file list.
func (e *Engine) RegisterTables(ctx context.Context, lk *lake.Lake, names ...string) error {
	for _, name := range names {
		ns, tbl, _ := strings.Cut(name, ".")
		snap, err := lk.Snapshot(ctx, name)
		if err != nil {
			if err := e.Register(ctx, Table{Namespace: ns, Name: tbl, Unreadable: err.Error()}); err != nil {
				return fmt.Errorf("registering %s: %w", name, err)
			}
			continue
		}
		t := Table{Namespace: ns, Name: tbl, DataFiles: snap.DataFiles, PositionDeletes: snap.DeleteFiles}
		for _, c := range snap.Columns {
			t.Columns = append(t.Columns, Column{Name: c.Name, Type: c.Type})
		}
		if err := e.Register(ctx, t); err != nil {
			return fmt.Errorf("registering %s: %w", name, err)
		}
	}
	return nil
}
