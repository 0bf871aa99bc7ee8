package kafkaview

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
)

// testBroker is an embedded broker on a free loopback port with an admin client on it.
type testBroker struct {
	b   *broker.Broker
	cl  *kgo.Client
	adm *kadm.Client
}

func startBroker(t testing.TB) *testBroker {
	t.Helper()
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatalf("starting the broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the broker: %v", err)
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	t.Cleanup(cl.Close)
	return &testBroker{b: b, cl: cl, adm: kadm.NewClient(cl)}
}

// view returns a View on its own client, closed with the test.
func (tb *testBroker) view(t testing.TB) *View {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()))
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	t.Cleanup(cl.Close)
	v, err := New(cl)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic with the partitions and configs given.
func (tb *testBroker) createTopic(t testing.TB, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := tb.adm.CreateTopic(ctxT(t), partitions, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
}

// produce writes the records to the partitions they name and waits for the acks.
func (tb *testBroker) produce(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatalf("creating a producer: %v", err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(recs), err)
	}
}

// commit commits offsets for a group without members, as an admin tool does.
func (tb *testBroker) commit(t testing.TB, group string, offsets map[string]map[int32]int64) {
	t.Helper()
	var os kadm.Offsets
	for topic, ps := range offsets {
		for p, o := range ps {
			os.AddOffset(topic, p, o, -1)
		}
	}
	if err := tb.adm.CommitAllOffsets(ctxT(t), group, os); err != nil {
		t.Fatalf("committing for group %s: %v", group, err)
	}
}

// consumeAndCommit joins group as a real member, consumes the n records topic holds, commits them
// and stays in the group until the test ends.
func (tb *testBroker) consumeAndCommit(t testing.TB, group, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatalf("creating a group consumer: %v", err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(cl.Close) })
	ctx := ctxT(t)
	got := 0
	for got < n {
		fs := cl.PollRecords(ctx, n-got)
		if err := ctx.Err(); err != nil {
			t.Fatalf("group %s consumed %d of %d records: %v", group, got, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetching %s/%d: %v", topic, p, err) })
		recs := fs.Records()
		got += len(recs)
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("group %s committing: %v", group, err)
		}
	}
	if got != n {
		t.Fatalf("group %s consumed %d records, want %d", group, got, n)
	}
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeClock is a View clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
