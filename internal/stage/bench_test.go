package stage_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// BenchmarkStageDemoEvents stages BIGFATHER_BENCH_EVENTS (default 1,000,000) demo events end to end: from the
// embedded broker (in its own process, as under `bigfather broker`) on a real port, through decoding, into
// Parquet files committed to an Iceberg table on disk. It reports records/s and the staging process's peak
// resident memory.
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
	b.ResetTimer()
	var total time.Duration
	var peak int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		p := benchPipeline(b, fmt.Sprintf("bench-%d", i))
		lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
		if err != nil {
			b.Fatal(err)
		}
		m := monitor.NewMetrics()
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
		total += time.Since(start)
		peak = max(peak, peakRSS())
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		lk.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(runtime.NumCPU()), "cores")
}

func benchPipeline(b *testing.B, name string) *config.Pipeline {
	cfg := config.Default(b.TempDir())
	p := cfg.Pipelines[0]
	p.Name, p.Group, p.Topics = name, "bigfather-"+name, []string{"bench.events"}
	p.Commit.Interval = time.Second // the tail waits at most this long; the bulk commits on max_rows
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
