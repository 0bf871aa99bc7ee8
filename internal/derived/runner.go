package derived

import (
	"context"
	"log/slog"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
)

// DefaultRefresh is the time between two refreshes of a table whose Refresh is not set.
const DefaultRefresh = time.Minute

// Runner refreshes derived tables, each every its Refresh interval, one at a time: a refresh runs DuckDB
// with two threads and up to 1 GB, so tables take turns instead of competing for the machine.
type Runner struct {
	Lake   *lake.Lake
	Tables []config.DerivedTable
	// Log receives one line per refresh that committed (Info), found nothing new (Debug) or failed (Error).
	// Nil: slog.Default().
	Log *slog.Logger
}

// Run refreshes every table at once, then each again when its interval has passed since its last refresh
// ended, until ctx ends. A table whose refresh fails is tried again at its next turn; the others go on.
func (r *Runner) Run(ctx context.Context) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	if len(r.Tables) == 0 {
		return
	}
	due := make([]time.Time, len(r.Tables)) // zero: now
	for {
		next := 0
		for i := range due {
			if due[i].Before(due[next]) {
				next = i
			}
		}
		if wait := time.Until(due[next]); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		d := r.Tables[next]
		start := time.Now()
		out, err := Refresh(ctx, r.Lake, d)
		took := time.Since(start)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			log.Error("derived table refresh failed", "table", d.Name, "err", err)
		case !out.Committed:
			log.Debug("derived table is up to date", "table", d.Name, "sources", out.Sources)
		default:
			log.Info("derived table refreshed", "table", d.Name, "full", out.Full, "reason", out.Reason,
				"partitions", out.Partitions, "rows", out.Rows, "sources", out.Sources, "took", took)
		}
		interval := d.Refresh
		if interval <= 0 {
			interval = DefaultRefresh
		}
		due[next] = time.Now().Add(interval)
	}
}
