package monitor

import (
	"context"
	"log/slog"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Point is one sample of a pipeline's history.
type Point struct {
	At time.Time `json:"at"`
	// RecordsPerSec is the rate records were consumed since the sample before; RowsPerSec the rate rows were
	// committed to the pipeline's tables.
	RecordsPerSec float64 `json:"records_per_sec"`
	RowsPerSec    float64 `json:"rows_per_sec"`
	// Lag is the sum over the pipeline's partitions of high watermark minus the next offset its main table
	// stores; LagSeconds the age of the oldest record not yet committed.
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
	// FreshnessSeconds is the main table's freshness (see TableReport).
	FreshnessSeconds float64 `json:"freshness_seconds"`
	// CommitSeconds is the mean commit duration over the commits since the sample before (0: none).
	CommitSeconds float64 `json:"commit_seconds"`
	// RejectedPerSec is the rate records were rejected per second.
	RejectedPerSec float64 `json:"rejected_per_sec"`
	// Status is the pipeline's status at the sample.
	Status Status `json:"status,omitempty"`
}

// History keeps every pipeline's points: in memory, and in the platform database when it has a Store, so
// that it survives restarts and shows what every process of a deployment did. It is safe for concurrent use.
type History struct {
	m        *Metrics
	keep     int
	store    *Store
	instance string
	span     time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	points   map[string][]Point
	last     map[string]totals
	lastTime time.Time
}

// totals are a pipeline's counters at one sample.
type totals struct {
	consumed, committed, rejected, commitSum, commitCount float64
}

// NewHistory keeps the last keep points of each pipeline of m in memory.
func NewHistory(m *Metrics, keep int) *History {
	return &History{m: m, keep: keep, points: map[string][]Point{}, last: map[string]totals{}, log: slog.New(slog.DiscardHandler)}
}

// Persist makes h write its points to store as process instance and read them back from there, span of
// them (monitor.history).
func (h *History) Persist(store *Store, instance string, span time.Duration, log *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.store, h.instance, h.span, h.log = store, instance, span, log
}

// Sample takes one sample at now: the rates from the process's counters since the sample before, and the
// judged values (lag, lag seconds, freshness, status) the watcher computed per pipeline.
func (h *History) Sample(ctx context.Context, now time.Time, judged map[string]Point) {
	cur := h.totals()
	h.mu.Lock()
	dt := now.Sub(h.lastTime).Seconds()
	made := map[string]Point{}
	for name, j := range judged {
		c := cur[name]
		prev, seen := h.last[name]
		p := Point{At: now.UTC().Truncate(time.Second), Lag: j.Lag, LagSeconds: j.LagSeconds, FreshnessSeconds: j.FreshnessSeconds, Status: j.Status}
		if seen && dt > 0 {
			p.RecordsPerSec = max(c.consumed-prev.consumed, 0) / dt
			p.RowsPerSec = max(c.committed-prev.committed, 0) / dt
			p.RejectedPerSec = max(c.rejected-prev.rejected, 0) / dt
			if n := c.commitCount - prev.commitCount; n > 0 {
				p.CommitSeconds = (c.commitSum - prev.commitSum) / n
			}
		}
		pts := append(h.points[name], p)
		if len(pts) > h.keep {
			pts = pts[len(pts)-h.keep:]
		}
		h.points[name] = pts
		made[name] = p
	}
	h.last, h.lastTime = cur, now
	store, instance, log := h.store, h.instance, h.log
	h.mu.Unlock()
	if store == nil {
		return
	}
	for name, p := range made {
		if err := store.Append(ctx, "pipeline:"+name, instance, p); err != nil {
			log.Warn("monitor history not saved", "pipeline", name, "err", err)
		}
	}
}

// Points returns a pipeline's points at or after since (zero: all that are kept), oldest first: from the
// database when h has a Store (all processes, surviving restarts), else from memory.
func (h *History) Points(ctx context.Context, pipeline string, since time.Time) []Point {
	h.mu.Lock()
	store, span, log := h.store, h.span, h.log
	mem := append([]Point{}, h.points[pipeline]...)
	h.mu.Unlock()
	if store != nil {
		from := time.Now().Add(-span)
		if since.After(from) {
			from = since
		}
		pts, err := store.Points(ctx, "pipeline:"+pipeline, from)
		if err == nil {
			return pts
		}
		log.Warn("monitor history unreadable; showing this process's", "pipeline", pipeline, "err", err)
	}
	for len(mem) > 0 && mem[0].At.Before(since) {
		mem = mem[1:]
	}
	return mem
}

// Latest returns a pipeline's newest point in this process (zero when none).
func (h *History) Latest(pipeline string) Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[pipeline]
	if len(pts) == 0 {
		return Point{}
	}
	return pts[len(pts)-1]
}

// totals reads every pipeline's counters from the registry.
func (h *History) totals() map[string]totals {
	out := map[string]totals{}
	families, err := h.m.Registry.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := label(m, "pipeline")
			if name == "" {
				continue
			}
			t := out[name]
			switch f.GetName() {
			case "bigfather_records_consumed_total":
				t.consumed += m.GetCounter().GetValue()
			case "bigfather_rows_committed_total":
				t.committed += m.GetCounter().GetValue()
			case "bigfather_rows_rejected_total":
				t.rejected += m.GetCounter().GetValue()
			case "bigfather_commit_duration_seconds":
				t.commitSum += m.GetHistogram().GetSampleSum()
				t.commitCount += float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			out[name] = t
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
