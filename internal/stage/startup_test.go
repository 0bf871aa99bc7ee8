package stage_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
	"github.com/bigfather/bigfather/internal/tests3"
)

// TestStartWhileStoreDown: a pipeline that starts while its S3 warehouse does not answer (it went away after
// the process opened the lake, before the tables were created) waits, failing in /healthz with the store named,
// and stages every record once the store is back, instead of exiting.
func TestStartWhileStoreDown(t *testing.T) {
	srv := tests3.Start(t)
	br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	const n = 500
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("blip"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		rec := fmt.Sprintf(`{"id":"id-%04d","ts":"2026-11-30T00:00:00Z","n":%d}`, i, i)
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(rec)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	dir := t.TempDir()
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), "s3://"+srv.Bucket()+"/lake",
		lake.WithS3(lake.S3{Endpoint: srv.Endpoint, Region: tests3.Region, PathStyle: true, AccessKeyID: tests3.AccessKey, SecretAccessKey: tests3.SecretKey}))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	srv.Stop()

	p := &config.Pipeline{
		Name: "blip", Topics: []string{"blip"}, Start: "earliest", Format: "json", Group: "g-blip",
		Table:  config.Table{Name: "staging.blip", Columns: allTypes[:3]},
		Commit: config.Commit{Interval: 200 * time.Millisecond, MaxRows: 1000, MaxBytes: 64 << 20},
	}
	m, health := monitor.NewMetrics(), monitor.NewHealth()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{br.Addr()}, Lake: lk, Metrics: m, Health: health, Logger: slog.New(slog.DiscardHandler)})
	}()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("Run returned %v while waiting for %s", err, what)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; health %+v", what, health.Statuses())
			}
		}
	}
	waitUntil("the pipeline to fail in /healthz", func() bool {
		st := health.Statuses()["blip"]
		return st.State == "failing" && strings.Contains(st.LastError, "staging.blip")
	})
	time.Sleep(3 * time.Second) // at least one more attempt while the store is down
	srv.Restart()
	waitUntil("every record committed", func() bool {
		return testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) == n
	})
	// The batch's last table commits after the main table's rows count: health says running then.
	waitUntil("the pipeline running again", func() bool { return health.Statuses()["blip"].State == "running" })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := queryTable(t, lk, p.Table.Name, "select count(*), count(distinct id) from "+p.Table.Name); got[0][0] != int64(n) || got[0][1] != int64(n) {
		t.Errorf("staging.blip holds %v rows and distinct ids, want %d", got[0], n)
	}
}
