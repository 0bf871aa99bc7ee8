package lake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bigfather/bigfather/internal/lake"
)

// TestCatalogGone (issue 6 item 7): once the SQLite catalog file is deleted or replaced, the lake says so
// naming the catalog, and every catalog write fails instead of landing in a file nobody reads; the deleted
// file is not recreated empty by a new connection.
func TestCatalogGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(t *testing.T, path string)
		reason string
	}{
		{"deleted", func(t *testing.T, path string) {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			}
		}, "the file was deleted"},
		{"replaced", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+".new", data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path+".new", path); err != nil {
				t.Fatal(err)
			}
		}, "the file was replaced by another one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l := newTestLake(t)
			tbl := l.ensure()
			tbl = commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(1, 4), onDay0),
				From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3}}).Table
			if err := l.lk.CheckCatalog(); err != nil {
				t.Fatalf("CheckCatalog before: %v", err)
			}
			path := filepath.Join(l.dir, "catalog.db")
			tc.remove(t, path)

			err := l.lk.CheckCatalog()
			var gone *lake.CatalogGoneError
			if !errors.As(err, &gone) || !errors.Is(err, lake.ErrCatalogGone) {
				t.Fatalf("CheckCatalog = %v, want a *lake.CatalogGoneError", err)
			}
			want := fmt.Sprintf("catalog sqlite://%s: %s", path, tc.reason)
			if msg := err.Error(); !strings.HasPrefix(msg, want) {
				t.Errorf("CheckCatalog = %q, want it to start with %q", msg, want)
			}
			const tail = " after this process opened it; commits are stopped until the process restarts"
			if msg := err.Error(); !strings.HasSuffix(msg, tail) {
				t.Errorf("CheckCatalog = %q, want it to end with %q", msg, tail)
			}

			// A commit fails with that error; the data it would have added is nowhere.
			files := write(t, tbl, ids(4, 6), onDay0)
			_, err = lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", Files: files,
				From: lake.Offsets{tp(0): 3}, Next: lake.Offsets{tp(0): 5}})
			if !errors.Is(err, lake.ErrCatalogGone) {
				t.Fatalf("Commit after the catalog went: %v, want ErrCatalogGone", err)
			}
			// Creating tables fails the same way.
			other := spec
			other.Name = "staging.other"
			if _, err := l.lk.EnsureTable(ctx, other); !errors.Is(err, lake.ErrCatalogGone) {
				t.Errorf("EnsureTable after the catalog went: %v, want ErrCatalogGone", err)
			}
			if tc.name == "deleted" {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("catalog path after the deletion and the failed writes: %v, want it still absent", err)
				}
			}
		})
	}
}
