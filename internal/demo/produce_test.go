package demo

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/twmb/franz-go/pkg/kgo"
)

func startBroker(tb testing.TB) *broker.Broker {
	tb.Helper()
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatalf("starting broker: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// consumeEvents reads n records from topic and checks each is an event keyed
// by its player with an unseen event_id. It fails if more than n arrive, and
// returns the earliest and latest event_time.
func consumeEvents(t *testing.T, addr, topic string, n int) (first, last time.Time) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := make(map[string]struct{}, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var drained time.Time // when we reached n; then poll a little longer for extras
	for drained.IsZero() || time.Since(drained) < 500*time.Millisecond {
		pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d events: %v", len(seen), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			var e jsonEvent
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Fatalf("record %d/%d: %v: %s", r.Partition, r.Offset, err, r.Value)
			}
			if string(r.Key) != e.PlayerID {
				t.Fatalf("record key %q, player_id %q", r.Key, e.PlayerID)
			}
			if _, dup := seen[e.EventID]; dup {
				t.Fatalf("duplicate event_id %s", e.EventID)
			}
			seen[e.EventID] = struct{}{}
			if first.IsZero() || e.EventTime.Before(first) {
				first = e.EventTime
			}
			if e.EventTime.After(last) {
				last = e.EventTime
			}
		})
		if len(seen) > n {
			t.Fatalf("consumed %d events, want %d", len(seen), n)
		}
		if len(seen) == n && drained.IsZero() {
			drained = time.Now()
		}
	}
	return first, last
}

func TestProduceCount(t *testing.T) {
	b := startBroker(t)
	const n = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := time.Now()
	got, err := Produce(ctx, ProduceOptions{Brokers: []string{b.Addr()}, Count: n, Seed: 9})
	if err != nil || got != (ProduceStats{Valid: n}) {
		t.Fatalf("Produce = %+v, %v; want %d valid, nil", got, err, n)
	}
	first, last := consumeEvents(t, b.Addr(), DefaultTopic, n)
	// A backfill: the generator clock ends about when Produce started.
	if d := last.Sub(before); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("last event_time %v is %v from the start of Produce", last, d)
	}
	if span := last.Sub(first); span < n*meanStep*9/10 || span > n*meanStep*11/10 {
		t.Errorf("event times span %v, want about %v", span, n*meanStep)
	}
}

func TestProduceRateAndLive(t *testing.T) {
	b := startBroker(t)
	const rate, n = 2000, 1000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := time.Now()
	got, err := Produce(ctx, ProduceOptions{Brokers: []string{b.Addr()}, Topic: "paced", Rate: rate, Count: n, Live: true})
	elapsed := time.Since(before)
	if err != nil || got != (ProduceStats{Valid: n}) {
		t.Fatalf("Produce = %+v, %v; want %d valid, nil", got, err, n)
	}
	if want := time.Second * n / rate; elapsed < want*8/10 || elapsed > want*4 {
		t.Fatalf("%d events at %d/s took %v, want about %v", n, rate, elapsed, want)
	}

	// Live events carry the wall clock.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("paced"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fs := cl.PollFetches(ctx)
	if fs.NumRecords() == 0 {
		t.Fatalf("no records: %v", fs.Err())
	}
	fs.EachRecord(func(r *kgo.Record) {
		var e jsonEvent
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		if e.EventTime.Before(before.Add(-time.Millisecond)) || e.EventTime.After(time.Now()) {
			t.Fatalf("live event_time %v outside [%v, now]", e.EventTime, before)
		}
	})
}

func TestProduceUntilCanceled(t *testing.T) {
	b := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	got, err := Produce(ctx, ProduceOptions{Brokers: []string{b.Addr()}, Topic: "forever", Rate: 5000})
	if err != nil || got.Valid == 0 || got.Records() != got.Valid {
		t.Fatalf("Produce until cancel = %+v, %v; want > 0 valid only, nil", got, err)
	}
	consumeEvents(t, b.Addr(), "forever", got.Valid)

	// With a Count that is not reached, the context's error comes back.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	got, err = Produce(ctx2, ProduceOptions{Brokers: []string{b.Addr()}, Topic: "short", Rate: 1000, Count: 1_000_000})
	if !errors.Is(err, context.DeadlineExceeded) || got.Valid == 0 || got.Valid >= 1_000_000 {
		t.Fatalf("Produce with unreached Count = %+v, %v; want some, DeadlineExceeded", got, err)
	}
}

func TestProduceBadOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := Produce(ctx, ProduceOptions{}); err == nil {
		t.Error("Produce without brokers succeeded")
	}
	if _, err := Produce(ctx, ProduceOptions{Brokers: []string{"127.0.0.1:1"}, Rate: -1}); err == nil {
		t.Error("Produce with negative rate succeeded")
	}
	for _, o := range []ProduceOptions{{GapRate: -0.1}, {DuplicateRate: 1.5}, {MalformedRate: math.NaN()}} {
		o.Brokers = []string{"127.0.0.1:1"}
		if _, err := Produce(ctx, o); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("Produce with rates %v/%v/%v: %v, want a rate error", o.GapRate, o.DuplicateRate, o.MalformedRate, err)
		}
	}
}

// BenchmarkProduce produces 200k unpaced events per iteration into a fresh
// in-memory broker and reports events/s.
func BenchmarkProduce(b *testing.B) {
	const n = 200_000
	var total int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		got, err := Produce(context.Background(), ProduceOptions{Brokers: []string{br.Addr()}, Count: n, Seed: 1})
		elapsed += time.Since(start)
		if err != nil || got.Valid != n {
			b.Fatalf("Produce = %+v, %v", got, err)
		}
		total += got.Valid
		b.StopTimer()
		br.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
}
