package monitor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/testpg"
)

// The Postgres tests share one throwaway server (internal/testpg).
func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

func stores(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "catalog.db") },
		"postgres": func(t *testing.T) string {
			srv := testpg.Shared(t)
			return srv.URI(srv.CreateDatabase(t))
		},
	}
}

func TestStore(t *testing.T) {
	for name, uri := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			u := uri(t)
			a, err := OpenStore(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := OpenStore(ctx, u) // a second process on the same database
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

			// History: two processes' points of one sample merge; points come back oldest first, after a reopen.
			for _, c := range []struct {
				s  *Store
				in string
				p  Point
			}{
				{a, "p1", Point{At: t0, RecordsPerSec: 100, Lag: 50, LagSeconds: 2, FreshnessSeconds: 9, Status: StatusOK}},
				{b, "p2", Point{At: t0, RecordsPerSec: 40, Lag: 60, LagSeconds: 1, FreshnessSeconds: 4, CommitSeconds: 0.5, Status: StatusWarn}},
				{a, "p1", Point{At: t0.Add(10 * time.Second), RecordsPerSec: 7, Status: StatusStall}},
				{a, "p1", Point{At: t0.Add(-48 * time.Hour), RecordsPerSec: 1}},
			} {
				if err := c.s.Append(ctx, "pipeline:game", c.in, c.p); err != nil {
					t.Fatal(err)
				}
			}
			// Writing a process's point again for the same sample replaces it.
			if err := a.Append(ctx, "pipeline:game", "p1", Point{At: t0.Add(10 * time.Second), RecordsPerSec: 8, Status: StatusStall}); err != nil {
				t.Fatal(err)
			}
			pts, err := b.Points(ctx, "pipeline:game", t0.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := []Point{
				{At: t0, RecordsPerSec: 140, Lag: 60, LagSeconds: 2, FreshnessSeconds: 4, CommitSeconds: 0.5, Status: StatusWarn},
				{At: t0.Add(10 * time.Second), RecordsPerSec: 8, Status: StatusStall},
			}
			if len(pts) != len(want) {
				t.Fatalf("Points = %+v, want %+v", pts, want)
			}
			for i := range want {
				if !pts[i].At.Equal(want[i].At) || pts[i].RecordsPerSec != want[i].RecordsPerSec || pts[i].Lag != want[i].Lag ||
					pts[i].LagSeconds != want[i].LagSeconds || pts[i].FreshnessSeconds != want[i].FreshnessSeconds ||
					pts[i].CommitSeconds != want[i].CommitSeconds || pts[i].Status != want[i].Status {
					t.Errorf("point %d = %+v, want %+v", i, pts[i], want[i])
				}
			}

			// Signals: one per process, the newest; old ones are not live.
			if err := a.Beat(ctx, Signal{Pipeline: "game", Instance: "p1", At: t0, Consumed: 10}); err != nil {
				t.Fatal(err)
			}
			if err := a.Beat(ctx, Signal{Pipeline: "game", Instance: "p1", At: t0.Add(time.Second), Consumed: 20, Failing: true, FailingSince: t0, Detail: "disk full"}); err != nil {
				t.Fatal(err)
			}
			if err := b.Beat(ctx, Signal{Pipeline: "game", Instance: "p2", At: t0.Add(-time.Minute), Consumed: 5}); err != nil {
				t.Fatal(err)
			}
			sigs, err := b.Signals(ctx, "game", t0.Add(-10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != 1 || sigs[0].Instance != "p1" || sigs[0].Consumed != 20 || !sigs[0].Failing || !sigs[0].FailingSince.Equal(t0) || sigs[0].Detail != "disk full" {
				t.Errorf("Signals = %+v, want p1's newest only", sigs)
			}

			// Leases: the first holder keeps it while it renews; another takes it once it expired.
			for i, c := range []struct {
				s      *Store
				holder string
				at     time.Duration
				want   bool
			}{
				{a, "p1", 0, true},
				{b, "p2", 5 * time.Second, false},
				{a, "p1", 20 * time.Second, true},
				{b, "p2", 45 * time.Second, false},
				{b, "p2", 51 * time.Second, true}, // p1's renewal at 20s ran out at 50s
				{a, "p1", 52 * time.Second, false},
			} {
				got, err := c.s.Lease(ctx, "alerts", c.holder, t0.Add(c.at), 30*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("lease step %d: %s holds it: %v, want %v", i, c.holder, got, c.want)
				}
			}

			// Prune drops what is older than the history.
			if err := a.Prune(ctx, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if pts, err := a.Points(ctx, "pipeline:game", time.Time{}); err != nil || len(pts) != 2 {
				t.Errorf("after pruning: %d points (%v), want 2", len(pts), err)
			}
		})
	}
}
