package monitor

import (
	"context"
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
	// Lag is the sum over the pipeline's partitions of high watermark minus next offset to consume.
	Lag int64 `json:"lag"`
	// CommitSeconds is the mean commit duration over the commits since the sample before (0: none).
	CommitSeconds float64 `json:"commit_seconds"`
	// Rejected is the rate records were rejected per second.
	RejectedPerSec float64 `json:"rejected_per_sec"`
}

// History samples every pipeline's metrics at an interval and keeps the last points in memory, for the
// console's charts. It is safe for concurrent use. (The monitor issue makes this history durable.)
type History struct {
	m        *Metrics
	keep     int
	mu       sync.Mutex
	points   map[string][]Point
	last     map[string]totals
	lastTime time.Time
}

// totals are a pipeline's counters at one sample.
type totals struct {
	consumed, committed, rejected, commitSum, commitCount float64
	lag                                                   int64
}

// NewHistory keeps the last keep points of each pipeline of m.
func NewHistory(m *Metrics, keep int) *History {
	return &History{m: m, keep: keep, points: map[string][]Point{}, last: map[string]totals{}}
}

// Run samples every interval until ctx ends.
func (h *History) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	h.Sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.Sample(now)
		}
	}
}

// Sample takes one sample at now.
func (h *History) Sample(now time.Time) {
	cur := h.totals()
	h.mu.Lock()
	defer h.mu.Unlock()
	dt := now.Sub(h.lastTime).Seconds()
	for name, c := range cur {
		prev, seen := h.last[name]
		p := Point{At: now.UTC(), Lag: c.lag}
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
	}
	h.last, h.lastTime = cur, now
}

// Points returns a copy of a pipeline's points, oldest first.
func (h *History) Points(pipeline string) []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Point{}, h.points[pipeline]...)
}

// Latest returns a pipeline's newest point (zero when none).
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
			case "bigfather_consumer_lag_records":
				t.lag += int64(m.GetGauge().GetValue())
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
