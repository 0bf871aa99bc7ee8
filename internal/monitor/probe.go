package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/row"
)

// Prober sends probe records through the pipelines that ask for them (pipelines[].probe) and times each one
// from its production to the first commit of the pipeline's main table that covers its offset: the whole
// path, Kafka to a visible table commit, the way a record of the pipeline travels it. Probe records carry the
// row.ProbeHeader header; the stage commits their offsets but makes no row of them, so nothing downstream
// (tables, rejected records, metrics layers) ever counts them. It is safe for concurrent use.
type Prober struct {
	pipelines []*config.Pipeline
	cl        *kgo.Client
	lk        *lake.Lake
	m         *Metrics
	log       *slog.Logger
	// sending says whether this process sends (the holder of the alerts lease does, so a fleet probes once).
	sending func() bool

	mu      sync.Mutex
	pending map[string][]probe // by pipeline
	last    map[string]ProbeReport
	seq     int64
}

// probe is a probe record produced and not yet covered by a commit.
type probe struct {
	tp       lake.TopicPartition
	offset   int64
	produced time.Time
}

// ProbeReport is a pipeline's probe state, as the monitor reports it.
type ProbeReport struct {
	// LastSeconds is the latency of the newest probe a commit covered; LastAt when that commit landed.
	LastSeconds float64   `json:"last_seconds"`
	LastAt      time.Time `json:"last_at,omitzero"`
	// Pending counts probes no commit covers yet; OldestPendingSeconds is the oldest one's age.
	Pending              int     `json:"pending"`
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

// maxPending bounds the probes a pipeline keeps waiting on (a stopped pipeline covers none).
const maxPending = 64

// NewProber returns a prober for the pipelines with a probe interval; cl produces (it must not consume).
func NewProber(pipelines []*config.Pipeline, cl *kgo.Client, lk *lake.Lake, m *Metrics, sending func() bool, log *slog.Logger) *Prober {
	var probed []*config.Pipeline
	for _, p := range pipelines {
		if p.Probe > 0 {
			probed = append(probed, p)
		}
	}
	return &Prober{pipelines: probed, cl: cl, lk: lk, m: m, log: log, sending: sending,
		pending: map[string][]probe{}, last: map[string]ProbeReport{}}
}

// Run sends each pipeline's probes at its interval and checks pending ones every second, until ctx ends.
func (p *Prober) Run(ctx context.Context) {
	if len(p.pipelines) == 0 {
		return
	}
	next := map[string]time.Time{}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		now := time.Now()
		for _, pl := range p.pipelines {
			if now.Before(next[pl.Name]) {
				continue
			}
			next[pl.Name] = now.Add(pl.Probe)
			if p.sending == nil || p.sending() {
				if err := p.Send(ctx, pl); err != nil && ctx.Err() == nil {
					p.log.Warn("probe not sent", "pipeline", pl.Name, "err", err)
				}
			}
		}
		p.Check(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Send produces one probe record to the pipeline's first topic (the partitioner spreads probes over its
// partitions) and remembers it.
func (p *Prober) Send(ctx context.Context, pl *config.Pipeline) error {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	rec := &kgo.Record{
		Topic:   pl.Topics[0],
		Value:   fmt.Appendf(nil, `{"bigfather_probe":%d}`, seq),
		Headers: []kgo.RecordHeader{{Key: row.ProbeHeader, Value: []byte(pl.Name)}},
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.cl.ProduceSync(pctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("producing a probe record to %s: %w", rec.Topic, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pend := append(p.pending[pl.Name], probe{tp: lake.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}, offset: rec.Offset, produced: rec.Timestamp})
	if len(pend) > maxPending {
		pend = pend[len(pend)-maxPending:]
	}
	p.pending[pl.Name] = pend
	return nil
}

// Check looks for commits that cover pending probes, observes their latencies and updates the gauges.
func (p *Prober) Check(ctx context.Context, now time.Time) {
	for _, pl := range p.pipelines {
		p.mu.Lock()
		pend := append([]probe(nil), p.pending[pl.Name]...)
		p.mu.Unlock()
		var left []probe
		if len(pend) > 0 {
			t, err := p.lk.LoadTable(ctx, pl.Table.Name)
			if err != nil {
				left = pend
			} else {
				for _, pr := range pend {
					at, ok := lake.CoveredAt(t, pl.Name, pr.tp, pr.offset)
					if !ok {
						left = append(left, pr)
						continue
					}
					d := max(at.Sub(pr.produced).Seconds(), 0)
					p.m.ProbeLatency.WithLabelValues(pl.Name).Observe(d)
					p.mu.Lock()
					r := p.last[pl.Name]
					if at.After(r.LastAt) {
						r.LastSeconds, r.LastAt = d, at
					}
					p.last[pl.Name] = r
					p.mu.Unlock()
				}
			}
		}
		p.mu.Lock()
		// Probes sent meanwhile stay pending.
		cur := p.pending[pl.Name]
		if len(cur) > len(pend) {
			left = append(left, cur[len(pend):]...)
		}
		p.pending[pl.Name] = left
		r := p.last[pl.Name]
		r.Pending, r.OldestPendingSeconds = len(left), 0
		if len(left) > 0 {
			r.OldestPendingSeconds = max(now.Sub(left[0].produced).Seconds(), 0)
		}
		p.last[pl.Name] = r
		p.mu.Unlock()
		p.m.ProbePending.WithLabelValues(pl.Name).Set(r.OldestPendingSeconds)
	}
}

// Report returns a pipeline's probe state; ok is false for a pipeline without probes.
func (p *Prober) Report(pipeline string) (ProbeReport, bool) {
	if p == nil {
		return ProbeReport{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.last[pipeline]
	if !ok {
		for _, pl := range p.pipelines {
			if pl.Name == pipeline {
				return ProbeReport{}, true
			}
		}
	}
	return r, ok
}
