package stage_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/memlimit"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// BenchmarkStageDemoEvents stages BIGFATHER_BENCH_EVENTS (default 1,000,000) demo events end to end: from the
// embedded broker (in its own process, as under `bigfather broker`) on a real port, through the pipeline, into
// Parquet files committed to Iceberg tables on disk. Each iteration stages the same events twice, into fresh
// tables: plainly (the declared columns), then with the staging-quality path on (log definitions, cleansing,
// two CEL enrichments, dedup), under the memory limit `bigfather stage` sets (memory_limit: auto). It reports
// both throughputs, their ratio and the staging process's peak resident memory.
func BenchmarkStageDemoEvents(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BIGFATHER_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	addr := startBrokerProcess(b)
	if _, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: []string{addr}, Topic: "bench.events", Count: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	defsDir := b.TempDir()
	if _, err := demo.WriteDefinitions(defsDir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var plain, full time.Duration
	var peak int64
	only := os.Getenv("BIGFATHER_BENCH_ONLY") // "plain" or "quality", for profiling one of them
	for i := 0; i < b.N; i++ {
		if only != "quality" {
			d, rss := stageOnce(b, addr, n, benchPipeline(b, fmt.Sprintf("plain-%d", i), "", false))
			plain, peak = plain+d, max(peak, rss)
		}
		if only != "plain" {
			d, rss := stageOnce(b, addr, n, benchPipeline(b, fmt.Sprintf("quality-%d", i), defsDir, true))
			full, peak = full+d, max(peak, rss)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/plain.Seconds(), "plain-records/s")
	b.ReportMetric(float64(n)*float64(b.N)/full.Seconds(), "quality-records/s")
	b.ReportMetric(plain.Seconds()/full.Seconds(), "quality/plain")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(runtime.NumCPU()), "cores")
}

// stageOnce stages the topic into fresh tables and returns how long it took until n rows were committed and
// the peak resident memory meanwhile.
func stageOnce(b *testing.B, addr string, n int, p *config.Pipeline) (time.Duration, int64) {
	ctx := context.Background()
	dir := b.TempDir()
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
	if err != nil {
		b.Fatal(err)
	}
	defer lk.Close()
	return stageInto(b, lk, addr, n, p)
}

// stageInto is stageOnce into the tables of lk.
func stageInto(b *testing.B, lk *lake.Lake, addr string, n int, p *config.Pipeline) (time.Duration, int64) {
	ctx := context.Background()
	m := monitor.NewMetrics()
	// The soft memory limit `bigfather stage` sets for this pipeline (memory_limit: auto).
	cfg := config.Default(b.TempDir())
	limit, _ := memlimit.Apply(cfg.MemoryLimitFor([]*config.Pipeline{p}))
	defer debug.SetMemoryLimit(math.MaxInt64)
	if limit != math.MaxInt64 {
		b.Logf("memory limit %s", memlimit.MiB(limit))
	}
	debug.FreeOSMemory()
	resetPeakRSS()
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{addr}, Lake: lk, Metrics: m, Logger: slog.New(slog.DiscardHandler)})
	}()
	for testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) < float64(n) {
		select {
		case err := <-done:
			b.Fatalf("stage stopped early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	took, rss := time.Since(start), peakRSS()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return took, rss
}

// benchPipeline is the demo pipeline reading bench.events: plain (declared columns only), or with log
// definitions, cleansing, two CEL enrichments and dedup.
func benchPipeline(b *testing.B, name, defsDir string, quality bool) *config.Pipeline {
	cfg := config.Default(b.TempDir())
	p := cfg.Pipelines[0]
	p.Name, p.Group, p.Topics = name, "bigfather-"+name, []string{"bench.events"}
	p.Table.Name = "staging.bench_" + strings.ReplaceAll(name, "-", "_")
	p.Commit.Interval = time.Second // the tail waits at most this long; the bulk commits on max_rows
	p.Routes, p.Completeness = nil, config.Completeness{}
	if !quality {
		p.Definitions, p.Cleanse, p.Enrich, p.Dedup = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}
		return &p
	}
	for i, f := range p.Definitions.Files {
		p.Definitions.Files[i] = filepath.Join(defsDir, filepath.Base(f))
	}
	p.Enrich.Derive = []config.Derived{
		{Name: "is_mobile", Type: config.TypeBoolean, Expr: `platform == "ios" || platform == "android"`},
		{Name: "amount_krw", Type: config.TypeDouble, Expr: `amount == null ? amount : amount * 1300.0`},
	}
	return &p
}

// resetPeakRSS resets the kernel's peak resident set size of this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads the peak resident set size in bytes (Linux VmHWM), or 0 elsewhere.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// brokerProcessEnv makes the test binary run as a broker process (see TestMain).
const brokerProcessEnv = "BIGFATHER_TEST_BROKER_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(brokerProcessEnv) != "" {
		br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 8})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(br.Addr())
		_, _ = io.Copy(io.Discard, os.Stdin) // run until the parent closes stdin or dies
		br.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startBrokerProcess runs the embedded broker in a child process and returns its address.
func startBrokerProcess(tb testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), brokerProcessEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("broker process: %v", err)
	}
	return strings.TrimSpace(line)
}
