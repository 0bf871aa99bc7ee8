package stage_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// TestOperatorPause: an operator pause commits what is buffered and stages nothing more (health says paused,
// the records stay in Kafka); resume stages exactly the rest.
func TestOperatorPause(t *testing.T) {
	br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("held"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			rec := fmt.Sprintf(`{"id":"id-%04d","ts":"2026-11-30T00:00:00Z","n":%d}`, i, i)
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(rec)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(0, 100)
	ctx := context.Background()
	dir := t.TempDir()
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	p := &config.Pipeline{
		Name: "held", Topics: []string{"held"}, Start: "earliest", Format: "json", Group: "g-held",
		Table:  config.Table{Name: "staging.held", Columns: allTypes[:3]},
		Commit: config.Commit{Interval: 200 * time.Millisecond, MaxRows: 1000, MaxBytes: 64 << 20},
	}
	m, health, control := monitor.NewMetrics(), monitor.NewHealth(), stage.NewControl()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{br.Addr()}, Lake: lk, Metrics: m, Health: health, Control: control, Logger: slog.New(slog.DiscardHandler)})
	}()
	committed := func() float64 { return testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) }
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; committed %v, health %+v", what, committed(), health.Statuses())
			}
		}
	}
	waitUntil("100 rows", func() bool { return committed() == 100 })
	if err := control.Pause("held"); err != nil {
		t.Fatal(err)
	}
	if err := control.Pause("held"); err == nil || err.Error() != `pipeline "held" is already paused` {
		t.Errorf("second pause: %v", err)
	}
	waitUntil("the pipeline to pause", func() bool { return health.Statuses()["held"].State == "paused" })
	if by := control.PausedBy("held"); by != "operator" {
		t.Errorf("PausedBy = %q, want operator", by)
	}
	produce(100, 150)
	time.Sleep(2 * time.Second) // ten commit intervals: nothing may be staged meanwhile
	if got := committed(); got != 100 {
		t.Fatalf("%v rows committed while paused, want 100", got)
	}
	if err := control.Resume("held", ""); err != nil {
		t.Fatal(err)
	}
	waitUntil("150 rows after resume", func() bool { return committed() == 150 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := queryTable(t, lk, p.Table.Name, "select count(*), count(distinct id) from "+p.Table.Name); got[0][0] != int64(150) || got[0][1] != int64(150) {
		t.Errorf("table holds %v rows and distinct ids, want 150", got[0])
	}
}
