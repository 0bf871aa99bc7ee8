package monitor

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LatencyHistogram is a Prometheus histogram with one label that is fed whole batches at once: the committer
// bins a batch's rows itself (Bin) and adds the counts (Add), instead of one atomic observation per row.
// It is safe for concurrent use.
type LatencyHistogram struct {
	desc    *prometheus.Desc
	buckets []float64
	mu      sync.Mutex
	series  map[string]*latencySeries
}

type latencySeries struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

// NewLatencyHistogram describes a histogram name{label} with the given upper bounds, in seconds.
func NewLatencyHistogram(name, help, label string, buckets []float64) *LatencyHistogram {
	return &LatencyHistogram{
		desc:    prometheus.NewDesc(name, help, []string{label}, nil),
		buckets: buckets,
		series:  map[string]*latencySeries{},
	}
}

// Counts is a batch's observations binned by Bin, to hand to Add.
type Counts struct {
	h      *LatencyHistogram
	counts []uint64
	sum    float64
	n      uint64
}

// NewCounts returns empty counts for h's buckets.
func (h *LatencyHistogram) NewCounts() *Counts {
	return &Counts{h: h, counts: make([]uint64, len(h.buckets)+1)}
}

// Observe bins one value, in seconds.
func (c *Counts) Observe(v float64) {
	i := sort.SearchFloat64s(c.h.buckets, v) // the first bound >= v
	c.counts[i]++
	c.sum += v
	c.n++
}

// Add adds counts to the series of label value.
func (h *LatencyHistogram) Add(value string, c *Counts) {
	if c.n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[value]
	if s == nil {
		s = &latencySeries{counts: make([]uint64, len(h.buckets)+1)}
		h.series[value] = s
	}
	for i, n := range c.counts {
		s.counts[i] += n
	}
	s.sum += c.sum
	s.n += c.n
}

// Describe implements prometheus.Collector.
func (h *LatencyHistogram) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

// Collect implements prometheus.Collector.
func (h *LatencyHistogram) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for value, s := range h.series {
		cum := make(map[float64]uint64, len(h.buckets))
		var run uint64
		for i, b := range h.buckets {
			run += s.counts[i]
			cum[b] = run
		}
		ch <- prometheus.MustNewConstHistogram(h.desc, s.n, s.sum, cum, value)
	}
}

// latencyBuckets are 0.1 s to about an hour, doubling, with an edge at the freshness objective.
func latencyBuckets(slo time.Duration) []float64 {
	b := prometheus.ExponentialBuckets(0.1, 2, 16) // 0.1 s .. 3276.8 s
	if s := slo.Seconds(); !slices.Contains(b, s) {
		b = append(b, s)
		slices.Sort(b)
	}
	return b
}
