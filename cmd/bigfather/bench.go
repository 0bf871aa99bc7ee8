package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/bench"
)

const benchUsage = "usage: bigfather bench [--count N] [--shape plain|quality|fanout|avro] [--format table|json] [--brokers ADDR] [--data DIR] [--seed N] [--rate N] [--live D] [--commit-interval D] [--partitions N]"

// cmdBench stages demo events in this process and prints throughput, latency, commits, files and peak memory
// (internal/bench). Run with bench.BrokerChildEnv set, it is the benchmark's embedded broker instead.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if partitions := os.Getenv(bench.BrokerChildEnv); partitions != "" {
		return bench.ServeBroker(ctx, partitions, os.Stdin, stdout)
	}
	fs := newFlags("bench", stderr)
	count := fs.Int("count", 1_000_000, "demo events to produce and stage in the throughput run")
	shape := fs.String("shape", string(bench.Plain), "pipeline shape: plain (declared columns), quality (definitions, cleansing, CEL enrichment, dedup), fanout (one route per event type) or avro (plain, produced as registry-framed Avro)")
	format := fs.String("format", "table", "output format: table or json")
	brokers := fs.String("brokers", "", "comma-separated seed brokers (default: the embedded broker, in memory, in a child process)")
	dataDir := fs.String("data", "", "directory for the catalog and the tables, kept afterwards (default: a temporary directory, removed)")
	seed := fs.Int64("seed", 1, "demo generator seed (0: random)")
	rate := fs.Int("rate", 10_000, "events per second of the live (latency) run")
	liveFor := boundedDuration(fs, "live", 10*time.Second, time.Second, time.Hour, "how long the live run is measured, after a 1s warm-up")
	interval := boundedDuration(fs, "commit-interval", time.Second, 10*time.Millisecond, 10*time.Minute, "the pipelines' commit.interval")
	partitions := fs.Int("partitions", 8, "partitions of each benchmark topic")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench: unexpected argument %q\n%s", fs.Arg(0), benchUsage)
	}
	if *count < 1 {
		return usagef("bench: --count must be a positive number of events, got %d", *count)
	}
	shapes := make([]string, len(bench.Shapes))
	for i, s := range bench.Shapes {
		shapes[i] = string(s)
	}
	if !slices.Contains(shapes, *shape) {
		return usagef("bench: --shape %q is not a shape (expected %s)", *shape, strings.Join(shapes, ", "))
	}
	if *format != "table" && *format != "json" {
		return usagef("bench: --format %q is not an output format (expected table or json)", *format)
	}
	if *rate < 1 || *rate > 1_000_000 {
		return usagef("bench: --rate must be 1 to 1000000 events per second, got %d", *rate)
	}
	if *partitions < 1 || *partitions > 1024 {
		return usagef("bench: --partitions must be 1 to 1024, got %d", *partitions)
	}
	brokerList := splitList(*brokers)
	if *brokers != "" && len(brokerList) == 0 {
		return usagef("bench: --brokers %q names no broker (expected host:port[,host:port...])", *brokers)
	}

	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bigfather-bench-")
		if err != nil {
			return fmt.Errorf("bench: temporary data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: --data: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: finding this binary to run the embedded broker: %w", err)
	}
	res, err := bench.Run(ctx, bench.Options{Shape: bench.Shape(*shape), Count: *count, Brokers: brokerList,
		BrokerArgv: []string{exe, "bench"}, DataDir: dir, Seed: *seed, Partitions: *partitions, CommitInterval: *interval,
		LiveRate: *rate, LiveFor: *liveFor, Logger: log, Stderr: stderr})
	if err != nil {
		return err
	}
	if *format == "json" {
		return bench.WriteJSON(stdout, res)
	}
	return bench.WriteTable(stdout, res)
}
