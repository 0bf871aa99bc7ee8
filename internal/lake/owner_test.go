package lake_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
)

// ownedBy is spec written by pipeline p on the given terms, with one extra optional column that only this
// writer declares (it would be added to the table if the writer were admitted), none when extra is "".
func ownedBy(p string, shared, route bool, extra string) lake.TableSpec {
	s := spec
	if extra != "" {
		s.Columns = append(append([]lake.Column{}, spec.Columns...), lake.Column{Name: extra, Type: "string"})
	}
	s.Owner = lake.Ownership{Pipeline: p, Shared: shared, Route: route}
	return s
}

func props(tbl *table.Table) (owner, shared string) {
	return tbl.Properties()[lake.OwnerProperty], tbl.Properties()[lake.SharedProperty]
}

func hasColumn(tbl *table.Table, name string) bool {
	_, ok := tbl.Schema().FindFieldByName(name)
	return ok
}

// TestTableOwnership (issue 6 item 13): a table records the pipeline that created it, and another pipeline is
// refused with a message naming the table, the owner and itself, before it changes anything (its columns are
// not added), unless both share the table; route tables admit every pipeline's routes.
func TestTableOwnership(t *testing.T) { testTableOwnership(t, sqliteCatalog) }

func testTableOwnership(t *testing.T, cat newCatalog) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		first, second lake.Ownership
		wantShared    string // the marker the first writer records
		wantErr       string // the second writer's error; "" when admitted
	}{
		{"not shared", lake.Ownership{Pipeline: "alpha"}, lake.Ownership{Pipeline: "beta"}, "",
			"table staging.events belongs to pipeline alpha; pipeline beta may not write it: set table.shared: true in both pipelines' configs to share it"},
		{"only the second shares", lake.Ownership{Pipeline: "alpha"}, lake.Ownership{Pipeline: "beta", Shared: true}, "",
			"table staging.events belongs to pipeline alpha; pipeline beta may not write it: pipeline alpha does not share it (set table.shared: true in its config too)"},
		{"only the owner shares", lake.Ownership{Pipeline: "alpha", Shared: true}, lake.Ownership{Pipeline: "beta"}, "true",
			"table staging.events belongs to pipeline alpha; pipeline beta may not write it: a table is shared only between pipelines whose configs both set table.shared: true (set it in pipeline beta's config too)"},
		{"both share", lake.Ownership{Pipeline: "alpha", Shared: true}, lake.Ownership{Pipeline: "beta", Shared: true}, "true", ""},
		{"same pipeline", lake.Ownership{Pipeline: "alpha"}, lake.Ownership{Pipeline: "alpha"}, "", ""},
		{"routes into a route table", lake.Ownership{Pipeline: "alpha", Route: true}, lake.Ownership{Pipeline: "beta", Route: true}, "route", ""},
		{"own table over a route table", lake.Ownership{Pipeline: "alpha", Route: true}, lake.Ownership{Pipeline: "beta"}, "route",
			"table staging.events belongs to pipeline alpha; pipeline beta may not write it: it is that pipeline's route table, and only routes may share it"},
		{"route into an own table", lake.Ownership{Pipeline: "alpha"}, lake.Ownership{Pipeline: "beta", Route: true}, "",
			"table staging.events belongs to pipeline alpha; pipeline beta may not write it: set table.shared: true in both pipelines' configs to share it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLakeOn(t, cat)
			first := ownedBy(tc.first.Pipeline, tc.first.Shared, tc.first.Route, "first_only")
			tbl, err := l.lk.EnsureTable(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			if owner, shared := props(tbl); owner != tc.first.Pipeline || shared != tc.wantShared {
				t.Fatalf("created table: owner %q shared %q, want %q %q", owner, shared, tc.first.Pipeline, tc.wantShared)
			}
			_, err = l.open().EnsureTable(ctx, ownedBy(tc.second.Pipeline, tc.second.Shared, tc.second.Route, "second_only"))
			after := l.load()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("second writer refused: %v", err)
				}
				if !hasColumn(after, "second_only") {
					t.Errorf("the admitted writer's column was not added")
				}
			} else {
				var oe *lake.OwnerError
				if !errors.As(err, &oe) || err.Error() != tc.wantErr {
					t.Fatalf("second writer: error %v\nwant *lake.OwnerError %s", err, tc.wantErr)
				}
				if oe.Table != tableName || oe.Owner != tc.first.Pipeline || oe.Pipeline != tc.second.Pipeline {
					t.Errorf("OwnerError %+v", *oe)
				}
				if hasColumn(after, "second_only") {
					t.Errorf("the refused writer's column was added to the table")
				}
			}
			if owner, shared := props(after); owner != tc.first.Pipeline || shared != tc.wantShared {
				t.Errorf("after the second writer: owner %q shared %q, want %q %q", owner, shared, tc.first.Pipeline, tc.wantShared)
			}
		})
	}
}

// TestTableOwnershipLegacy: a table created before owners were recorded is claimed by the first pipeline that
// opens it, unless another pipeline's offsets show it wrote there; a shared pipeline may then claim it.
func TestTableOwnershipLegacy(t *testing.T) {
	ctx := context.Background()
	t.Run("unwritten", func(t *testing.T) {
		l := newTestLake(t)
		l.ensure() // no owner
		tbl, err := l.lk.EnsureTable(ctx, ownedBy("alpha", false, false, "x"))
		if err != nil {
			t.Fatal(err)
		}
		if owner, shared := props(tbl); owner != "alpha" || shared != "" {
			t.Errorf("claimed: owner %q shared %q", owner, shared)
		}
		if owner, _ := props(l.load()); owner != "alpha" {
			t.Errorf("reloaded: owner %q, want alpha", owner)
		}
		_, err = l.lk.EnsureTable(ctx, ownedBy("beta", false, false, "y"))
		if err == nil || err.Error() != "table staging.events belongs to pipeline alpha; pipeline beta may not write it: set table.shared: true in both pipelines' configs to share it" {
			t.Errorf("beta after alpha claimed: %v", err)
		}
	})
	t.Run("written by another pipeline", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		commit(t, tbl, lake.Batch{Pipeline: "alpha", Files: write(t, tbl, ids(1, 3), onDay0),
			From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 2}})
		_, err := l.lk.EnsureTable(ctx, ownedBy("beta", false, false, "y"))
		const want = "table staging.events belongs to pipeline alpha; pipeline beta may not write it: that pipeline wrote it before owners were recorded; set table.shared: true in both pipelines' configs to share it"
		if err == nil || err.Error() != want {
			t.Fatalf("beta: %v\nwant %s", err, want)
		}
		if owner, _ := props(l.load()); owner != "" || hasColumn(l.load(), "y") {
			t.Errorf("the refused pipeline changed the table: owner %q", owner)
		}
		// alpha itself claims it; beta sharing is still refused until alpha shares too.
		if _, err := l.lk.EnsureTable(ctx, ownedBy("alpha", false, false, "x")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.lk.EnsureTable(ctx, ownedBy("beta", true, false, "y")); err == nil {
			t.Fatal("beta (shared) admitted to alpha's unshared table")
		}
		if _, err := l.lk.EnsureTable(ctx, ownedBy("alpha", true, false, "x")); err != nil {
			t.Fatal(err)
		}
		if _, err := l.lk.EnsureTable(ctx, ownedBy("beta", true, false, "y")); err != nil {
			t.Fatalf("beta (shared) refused from alpha's shared table: %v", err)
		}
		if owner, shared := props(l.load()); owner != "alpha" || shared != "true" {
			t.Errorf("owner %q shared %q, want alpha true", owner, shared)
		}
	})
	t.Run("claimed at once by two pipelines", func(t *testing.T) { testClaimRace(t, sqliteCatalog) })
}

// testClaimRace has two pipelines, in two processes, claim an unowned table at once: exactly one owns it and
// the other is refused.
func testClaimRace(t *testing.T, cat newCatalog) {
	ctx := context.Background()
	for round := range 5 {
		l := newTestLakeOn(t, cat)
		l.ensure()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []string{"alpha", "beta"} {
			lk := l.open()
			wg.Go(func() { _, errs[i] = lk.EnsureTable(ctx, ownedBy(p, false, false, p+"_col")) })
		}
		wg.Wait()
		owner, _ := props(l.load())
		var refused int
		for i, p := range []string{"alpha", "beta"} {
			var oe *lake.OwnerError
			switch {
			case errs[i] == nil && p != owner:
				t.Errorf("round %d: %s admitted although the table belongs to %q", round, p, owner)
			case errors.As(errs[i], &oe):
				refused++
			case errs[i] != nil:
				t.Errorf("round %d: %s: %v", round, p, errs[i])
			}
		}
		if refused != 1 {
			t.Errorf("round %d: %d pipelines refused, want exactly 1 (owner %q, errors %v)", round, refused, owner, errs)
		}
	}
}

// TestCommitChecksOwner: a pipeline admitted to a shared table is refused at its next commit once the owner
// stops sharing it, and that commit's files are removed.
func TestCommitChecksOwner(t *testing.T) { testCommitChecksOwner(t, sqliteCatalog) }

func testCommitChecksOwner(t *testing.T, cat newCatalog) {
	ctx := context.Background()
	l := newTestLakeOn(t, cat)
	if _, err := l.lk.EnsureTable(ctx, ownedBy("alpha", true, false, "")); err != nil {
		t.Fatal(err)
	}
	beta, err := l.open().EnsureTable(ctx, ownedBy("beta", true, false, ""))
	if err != nil {
		t.Fatal(err)
	}
	beta = commit(t, beta, lake.Batch{Pipeline: "beta", Shared: true, Files: write(t, beta, ids(1, 3), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 2}}).Table
	// alpha's config no longer shares: its next start says so in the table.
	if _, err := l.lk.EnsureTable(ctx, ownedBy("alpha", false, false, "")); err != nil {
		t.Fatal(err)
	}
	if err := beta.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	files := write(t, beta, ids(3, 5), onDay0)
	_, err = lake.Commit(ctx, beta, lake.Batch{Pipeline: "beta", Shared: true, Files: files,
		From: lake.Offsets{tp(0): 2}, Next: lake.Offsets{tp(0): 4}})
	const want = "table staging.events belongs to pipeline alpha; pipeline beta may not write it: pipeline alpha does not share it (set table.shared: true in its config too)"
	if err == nil || err.Error() != want {
		t.Fatalf("beta's commit: %v\nwant %s", err, want)
	}
	l.checkContents(ids(1, 3))
	if got, want := l.dataFiles(), l.snapshot().DataFiles; len(got) != len(want) {
		t.Errorf("data files %v, want only the snapshot's %v", got, want)
	}
}
