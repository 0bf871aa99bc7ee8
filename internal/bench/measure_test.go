package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1) // 1..100
	}
	tests := []struct {
		name   string
		sorted []int64
		q      float64
		want   int64
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []int64{7}, 0.99, 7},
		{"median of 1..100", hundred, 0.50, 50},
		{"p99 of 1..100", hundred, 0.99, 99},
		{"max of 1..100", hundred, 1, 100},
		{"median of four is the second", []int64{1, 2, 3, 4}, 0.5, 2},
		{"p99 of four is the last", []int64{1, 2, 3, 4}, 0.99, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%v, %v) = %d, want %d", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestDelayPercentilesSorts(t *testing.T) {
	delays := []int64{900, 100, 500, 300, 700}
	p50, p99 := delayPercentiles(delays)
	if p50 != 0.5 || p99 != 0.9 {
		t.Errorf("delayPercentiles = %v, %v; want 0.5, 0.9", p50, p99)
	}
	if !slices.IsSorted(delays) {
		t.Errorf("delays left unsorted: %v", delays)
	}
}

// histogram observes values into a histogram with bounds and returns its state.
func histogram(t *testing.T, bounds []float64, values ...float64) *dto.Histogram {
	t.Helper()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: bounds})
	for _, v := range values {
		h.Observe(v)
	}
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

func TestHistogramQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	tests := []struct {
		name   string
		values []float64
		q      float64
		want   float64
	}{
		{"empty", nil, 0.5, 0},
		// Four values in (1, 2]: rank 2 of 4 is halfway through the bucket.
		{"interpolates within a bucket", []float64{1.5, 1.5, 1.5, 1.5}, 0.5, 1.5},
		{"first bucket starts at lowest", []float64{0.5, 0.5}, 0.5, 0.5},
		{"rank in the second of two buckets", []float64{0.5, 3, 3, 3}, 0.5, 2 + 2*(2-1)/3.0},
		{"beyond the last bound is the last bound", []float64{10, 10}, 0.99, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := histogramQuantile(tt.q, histogram(t, bounds, tt.values...), 0)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("histogramQuantile(%v) over %v = %v, want %v", tt.q, tt.values, got, tt.want)
			}
		})
	}
}

func TestCommitQuantilesLeaveOutNoops(t *testing.T) {
	// Three commits that did nothing (microseconds) and two that wrote files.
	h := histogram(t, commitBuckets, 0.00001, 0.00002, 0.00001, 0.100, 0.200)
	commits, p50, p99 := commitQuantiles(h)
	if commits != 2 {
		t.Errorf("commits = %d, want 2 (the no-ops left out)", commits)
	}
	// Buckets are 3% apart: each estimate is within 3% of the value of its rank.
	if math.Abs(p50-0.100)/0.100 > 0.031 {
		t.Errorf("p50 = %v, want 0.100 within 3%%", p50)
	}
	if math.Abs(p99-0.200)/0.200 > 0.031 {
		t.Errorf("p99 = %v, want 0.200 within 3%%", p99)
	}
	if n, a, b := commitQuantiles(histogram(t, commitBuckets, 0.00001)); n != 0 || a != 0 || b != 0 {
		t.Errorf("only no-ops: got %d commits, p50 %v, p99 %v; want 0, 0, 0", n, a, b)
	}
}

func TestCommitBucketsSpan(t *testing.T) {
	if commitBuckets[0] != noopCommit {
		t.Errorf("first bound %v, want %v", commitBuckets[0], noopCommit)
	}
	if last := commitBuckets[len(commitBuckets)-1]; math.Abs(last-600) > 1e-6 {
		t.Errorf("last bound %v, want 600", last)
	}
	for i := 1; i < len(commitBuckets); i++ {
		if r := commitBuckets[i] / commitBuckets[i-1]; r > 1.031 {
			t.Fatalf("bounds %v and %v are %.3f apart, want at most 3.1%%", commitBuckets[i-1], commitBuckets[i], r)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		status string
		want   int64
	}{
		{"Name:\tbigfather\nVmPeak:\t  900 kB\nVmHWM:\t  468000 kB\nVmRSS:\t 1 kB\n", 468000 << 10},
		{"Name:\tbigfather\n", 0},
		{"VmHWM:\tlots kB\n", 0},
	}
	for _, tt := range tests {
		if got := parseVmHWM(tt.status); got != tt.want {
			t.Errorf("parseVmHWM(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}

func TestCountingWriter(t *testing.T) {
	var w countingWriter
	for _, s := range []string{"{\"a\":1}\n", "{\"b\":22}\n{\"c\":3", "}\n"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if w.bytes-w.lines != 22 || w.lines != 3 {
		t.Errorf("counted %d bytes in %d lines; want 22 value bytes in 3 lines", w.bytes-w.lines, w.lines)
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 283618: "283,618", 1000000: "1,000,000", -12345: "-12,345"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

// sample is a Result as Run fills it.
func sample() *Result {
	return &Result{Shape: "fanout", Count: 1_000_000, Cores: 2, GoVersion: "go1.26.8", Brokers: "embedded", Partitions: 8,
		CommitIntervalSeconds: 1, Seconds: 3.5, RecordsPerSec: 285714.3, Bytes: 230_000_000, MBPerSec: 65.714,
		Rows: 1_000_000, RouteRows: 1_000_000, Files: 14, Commits: 2, CommitP50Seconds: 0.91, CommitP99Seconds: 1.02,
		BacklogLatencyP50Seconds: 2.1, BacklogLatencyP99Seconds: 3.4, PeakRSSBytes: 468 << 20, MemoryLimitBytes: 352 << 20,
		LiveRate: 10000, LiveSeconds: 10, LiveCount: 110000, LiveRows: 110000, LatencySamples: 200000,
		LatencyP50Seconds: 0.612, LatencyP99Seconds: 1.118, LiveCommitP50Seconds: 0.031, LiveCommitP99Seconds: 0.052,
		Tables: []TableResult{{Run: "throughput", Role: "main", Name: "bench.fanout_x", Rows: 1_000_000, Files: 4}}}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"bigfather bench: shape fanout, 1,000,000 events, 2 cores, go1.26.8\n",
		"embedded broker (in memory, in a child process); 8 partitions; commit interval 1s\n",
		"records/s   ", "285,714 ", "65.7 ", "route rows ", "468 MiB ", "memory limit 352 MiB",
		"commit p50 / p99 ", "910 ms / 1.02 s ", "2.10 s / 3.40 s ",
		"a steady 10,000 events/s for 10s (after 1s of warm-up)",
		"end-to-end p50 ", "612 ms ", "1.12 s ", "over 200,000 rows", "110,000 ", "of 110,000 events produced",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d ends in spaces: %q", i+1, line)
		}
	}
}

func TestWriteJSONKeys(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"shape", "count", "cores", "go_version", "brokers", "partitions", "commit_interval_seconds",
		"seconds", "records_per_sec", "bytes", "mb_per_sec", "rows", "rejected", "duplicates", "filtered", "route_rows",
		"files", "commits", "commit_p50_seconds", "commit_p99_seconds", "backlog_latency_p50_seconds",
		"backlog_latency_p99_seconds", "peak_rss_bytes", "memory_limit_bytes", "live_rate", "live_seconds",
		"live_count", "live_rows", "latency_samples", "latency_p50_seconds", "latency_p99_seconds",
		"live_commit_p50_seconds", "live_commit_p99_seconds", "tables"}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n%v\nwant\n%v", keys, want)
	}
	if got["records_per_sec"] != 285714.3 || got["shape"] != "fanout" {
		t.Errorf("records_per_sec %v, shape %v", got["records_per_sec"], got["shape"])
	}
}
