package stage_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// BenchmarkJoinPause measures what a scale-out costs the partitions that stay put. A steady stream (4,000
// records/s over 8 partitions) is staged by worker A; after 8 s worker B joins the group, and 10 s later it
// leaves. Every row's consumption delay is read back from the table (_ingested_at minus _kafka_timestamp), and
// the benchmark reports the worst delay before the join, in the 6 s after the join on the partitions A kept
// and on the ones that moved to B, and in the 6 s after B left. The cooperative-sticky balancer revokes only
// the partitions that move, so the kept ones pause only while A drains its committer once.
func BenchmarkJoinPause(b *testing.B) {
	const (
		rate       = 4000
		joinAfter  = 8 * time.Second
		leaveAfter = 18 * time.Second
		produceFor = 28 * time.Second
		window     = 6 * time.Second
	)
	ctx := context.Background()
	addr := startBrokerProcess(b)
	var worst phaseDelays
	for i := 0; i < b.N; i++ {
		topic := fmt.Sprintf("join.events.%d", i)
		adm, cl := admin(b, addr)
		if _, err := adm.CreateTopic(ctx, 8, 1, nil, topic); err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
		if err != nil {
			b.Fatal(err)
		}
		p := benchPipeline(b, fmt.Sprintf("join-%d", i), "", false)
		p.Topics = []string{topic}
		p.Commit.Interval = time.Second
		run := func(ctx context.Context, client string) <-chan error {
			done := make(chan error, 1)
			go func() {
				done <- stage.Run(ctx, stage.Options{Pipeline: p, Brokers: []string{addr}, Lake: lk, Metrics: monitor.NewMetrics(),
					Logger: slog.New(slog.DiscardHandler), SessionTimeout: 6 * time.Second, ClientOptions: []kgo.Opt{kgo.ClientID(client)}})
			}()
			return done
		}

		start := time.Now()
		aCtx, stopA := context.WithCancel(ctx)
		aDone := run(aCtx, "join-a")
		var produced int
		var wg sync.WaitGroup
		wg.Go(func() { produced = produceSteadily(b, cl, topic, rate, produceFor) })

		time.Sleep(time.Until(start.Add(joinAfter)))
		join := time.Now()
		bCtx, stopB := context.WithCancel(ctx)
		bDone := run(bCtx, "join-b")
		kept := waitForMembers(b, adm, p.Group, 2)["join-a"]

		time.Sleep(time.Until(start.Add(leaveAfter)))
		leave := time.Now()
		stopB()
		if err := <-bDone; err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		waitRows(b, lk, p.Table.Name, produced)
		stopA()
		if err := <-aDone; err != nil {
			b.Fatal(err)
		}

		rows := queryTable(b, lk, p.Table.Name, "select _partition, epoch_ms(_kafka_timestamp), epoch_ms(_ingested_at) from "+p.Table.Name)
		var d phaseDelays
		for _, r := range rows {
			part, ts, ingested := int32(r[0].(int64)), time.UnixMilli(r[1].(int64)), r[2].(int64)
			delay := time.Duration(ingested-r[1].(int64)) * time.Millisecond
			stays := slices.Contains(kept, part)
			switch {
			case ts.After(start.Add(3*time.Second)) && ts.Before(join):
				d.before = max(d.before, delay)
			case !ts.Before(join) && ts.Before(join.Add(window)) && stays:
				d.joinKept = max(d.joinKept, delay)
			case !ts.Before(join) && ts.Before(join.Add(window)):
				d.joinMoved = max(d.joinMoved, delay)
			case !ts.Before(leave) && ts.Before(leave.Add(window)):
				d.leave = max(d.leave, delay)
			}
		}
		b.Logf("run %d: %d rows; A kept partitions %v; worst delay before %v, after join kept %v moved %v, after leave %v",
			i, len(rows), kept, d.before, d.joinKept, d.joinMoved, d.leave)
		worst = worst.max(d)
		lk.Close()
		cl.Close()
	}
	b.ReportMetric(float64(worst.before.Milliseconds()), "before-max-ms")
	b.ReportMetric(float64(worst.joinKept.Milliseconds()), "join-kept-max-ms")
	b.ReportMetric(float64(worst.joinMoved.Milliseconds()), "join-moved-max-ms")
	b.ReportMetric(float64(worst.leave.Milliseconds()), "leave-max-ms")
	b.ReportMetric(float64(runtime.NumCPU()), "cores")
}

// phaseDelays holds the worst consumption delay of each phase of BenchmarkJoinPause.
type phaseDelays struct{ before, joinKept, joinMoved, leave time.Duration }

func (d phaseDelays) max(o phaseDelays) phaseDelays {
	return phaseDelays{max(d.before, o.before), max(d.joinKept, o.joinKept), max(d.joinMoved, o.joinMoved), max(d.leave, o.leave)}
}

// admin returns an admin client and a producing client for the broker at addr.
func admin(b *testing.B, addr string) (*kadm.Client, *kgo.Client) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	return kadm.NewClient(cl), cl
}

// produceSteadily produces rate records/s of the plain pipeline's columns for d, in 10 ms ticks, and returns
// how many it produced.
func produceSteadily(b *testing.B, cl *kgo.Client, topic string, rate int, d time.Duration) int {
	ctx := context.Background()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		for range rate / 100 {
			v := fmt.Sprintf(`{"event_id":"e-%d","event_time":%q,"player_id":"p-%d","event_type":"session_start","client_seq":%d}`,
				n, time.Now().UTC().Format(time.RFC3339Nano), n%1000, n)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
			})
			n++
		}
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return n
}

// waitForMembers waits until group has members stable members and returns each one's partitions by client id.
func waitForMembers(b *testing.B, adm *kadm.Client, group string, members int) map[string][]int32 {
	ctx := context.Background()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		groups, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			continue
		}
		g := groups[group]
		if g.State != "Stable" || len(g.Members) != members {
			continue
		}
		out := map[string][]int32{}
		total := 0
		for _, m := range g.Members {
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					out[m.ClientID] = append(out[m.ClientID], t.Partitions...)
					total += len(t.Partitions)
				}
			}
		}
		if total == 8 && len(out) == members {
			return out
		}
	}
	b.Fatalf("group %s never settled with %d members", group, members)
	return nil
}

// waitRows waits until table holds n rows.
func waitRows(b *testing.B, lk *lake.Lake, table string, n int) {
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got := queryTable(b, lk, table, "select count(*) from "+table)[0][0].(int64); got == int64(n) {
			return
		} else if got > int64(n) {
			b.Fatalf("%s holds %d rows, more than the %d produced", table, got, n)
		}
	}
	b.Fatalf("%s never reached %d rows", table, n)
}
