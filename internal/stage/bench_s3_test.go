package stage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/tests3"
)

// BenchmarkStageDemoEventsS3 stages BIGFATHER_BENCH_EVENTS (default 1,000,000) demo events with the plain
// pipeline into a local warehouse and into an s3:// warehouse (versitygw on loopback, writing to the same
// disk) in the same run, and reports both throughputs, their ratio and each peak resident memory. Then it
// counts the S3 table's rows as `bigfather sql` does (snapshot through the file cache, DuckDB count) with a
// cold cache and again with a warm one.
func BenchmarkStageDemoEventsS3(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BIGFATHER_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	srv := tests3.Start(b)
	addr := startBrokerProcess(b)
	if _, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: []string{addr}, Topic: "bench.events", Count: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var local, remote, cold, warm time.Duration
	var localPeak, remotePeak int64
	for i := 0; i < b.N; i++ {
		d, rss := stageOnce(b, addr, n, benchPipeline(b, fmt.Sprintf("local-%d", i), "", false))
		local, localPeak = local+d, max(localPeak, rss)

		dir := b.TempDir()
		cacheDir := filepath.Join(dir, "cache")
		lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), "s3://"+srv.Bucket()+"/lake",
			lake.WithS3(lake.S3{Endpoint: srv.Endpoint, Region: tests3.Region, PathStyle: true, AccessKeyID: tests3.AccessKey, SecretAccessKey: tests3.SecretKey}),
			lake.WithCache(cacheDir, 8<<30))
		if err != nil {
			b.Fatal(err)
		}
		p := benchPipeline(b, fmt.Sprintf("s3-%d", i), "", false)
		d, rss = stageInto(b, lk, addr, n, p)
		remote, remotePeak = remote+d, max(remotePeak, rss)
		c := countThroughCache(b, lk, p.Table.Name, n)
		w := countThroughCache(b, lk, p.Table.Name, n)
		cold, warm = cold+c, warm+w
		lk.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/local.Seconds(), "local-records/s")
	b.ReportMetric(float64(n)*float64(b.N)/remote.Seconds(), "s3-records/s")
	b.ReportMetric(local.Seconds()/remote.Seconds(), "s3/local")
	b.ReportMetric(float64(localPeak)/(1<<20), "local-peak-rss-MiB")
	b.ReportMetric(float64(remotePeak)/(1<<20), "s3-peak-rss-MiB")
	b.ReportMetric(float64(cold.Milliseconds())/float64(b.N), "count-cold-ms")
	b.ReportMetric(float64(warm.Milliseconds())/float64(b.N), "count-warm-ms")
}

// countThroughCache registers table's snapshot (downloading what the cache lacks) and counts its rows, as
// `bigfather sql "select count(*) ..."` does after opening the lake; it returns how long that took.
func countThroughCache(b *testing.B, lk *lake.Lake, table string, want int) time.Duration {
	start := time.Now()
	rows := queryTable(b, lk, table, "select count(*) from "+table)
	if got := rows[0][0].(int64); got != int64(want) {
		b.Fatalf("%s holds %d rows, want %d", table, got, want)
	}
	return time.Since(start)
}
