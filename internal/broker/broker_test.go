package broker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const testTopic = "broker.test"

func startTest(t *testing.T, dir string) *Broker {
	t.Helper()
	b, err := Start(Options{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return cl
}

// produceN produces n records keyed k<i> with value v<i> and waits for all acks.
func produceN(t *testing.T, b *Broker, topic string, n int) {
	t.Helper()
	cl := newClient(t, b, kgo.DefaultProduceTopic(topic))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", n, err)
	}
}

// consumeN consumes exactly n records from the topic, from the start or as
// group member, and returns value by key. It fails on duplicates.
func consumeN(t *testing.T, cl *kgo.Client, n int) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(map[string]string, n)
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(got), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s/%d: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			k := string(r.Key)
			if _, dup := got[k]; dup {
				t.Fatalf("duplicate record %s at %s/%d@%d", k, r.Topic, r.Partition, r.Offset)
			}
			got[k] = string(r.Value)
		})
	}
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}
	return got
}

func checkRecords(t *testing.T, got map[string]string, n int) {
	t.Helper()
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if v, want := got[k], "v"+strconv.Itoa(i); v != want {
			t.Fatalf("record %s = %q, want %q", k, v, want)
		}
	}
}

func consumeAll(t *testing.T, b *Broker, topic string, n int) {
	t.Helper()
	cl := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	checkRecords(t, consumeN(t, cl, n), n)
}

func partitionCount(t *testing.T, b *Broker, topic string) int {
	t.Helper()
	cl := newClient(t, b)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatalf("ListTopics: %v", err)
	}
	td, ok := tds[topic]
	if !ok || td.Err != nil {
		t.Fatalf("topic %s: present=%v err=%v", topic, ok, td.Err)
	}
	return len(td.Partitions)
}

// groupOffsets returns the group's committed offsets and the topic's end
// offsets, partition by partition.
func groupOffsets(t *testing.T, b *Broker, group, topic string) (committed, end map[int32]int64) {
	t.Helper()
	cl := newClient(t, b)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	os, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("FetchOffsets(%s): %v", group, err)
	}
	if err := os.Error(); err != nil {
		t.Fatalf("FetchOffsets(%s) partition error: %v", group, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("ListEndOffsets(%s): %v", topic, err)
	}
	committed, end = map[int32]int64{}, map[int32]int64{}
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			committed[o.Partition] = o.At
		}
	})
	ends.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return committed, end
}

// consumeAndCommit has a group member consume all n records of topic and
// commit, then leave.
func consumeAndCommit(t *testing.T, b *Broker, group, topic string, n int) {
	t.Helper()
	gcl := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	defer gcl.Close() // leaves the group
	checkRecords(t, consumeN(t, gcl, n), n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gcl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("CommitUncommittedOffsets: %v", err)
	}
}

// checkCommitted checks the group committed the end offset of every partition
// of topic, and that the partitions hold n records.
func checkCommitted(t *testing.T, b *Broker, group, topic string, n int) {
	t.Helper()
	committed, end := groupOffsets(t, b, group, topic)
	if len(end) != DefaultPartitions {
		t.Fatalf("end offsets for %d partitions, want %d", len(end), DefaultPartitions)
	}
	var sum int64
	for p, e := range end {
		if committed[p] != e {
			t.Errorf("partition %d: committed %d, end %d", p, committed[p], e)
		}
		sum += e
	}
	if sum != int64(n) {
		t.Fatalf("end offsets sum to %d, want %d", sum, n)
	}
}

func TestPersistAndGroups(t *testing.T) {
	const n = 1000
	dir := t.TempDir()

	b := startTest(t, dir)
	if host, port, _ := net.SplitHostPort(b.Addr()); host != "127.0.0.1" || port == "0" || port == "" {
		t.Fatalf("Addr() = %q, want 127.0.0.1 with a real port", b.Addr())
	}
	produceN(t, b, testTopic, n)
	if got := partitionCount(t, b, testTopic); got != DefaultPartitions {
		t.Fatalf("auto-created topic has %d partitions, want %d", got, DefaultPartitions)
	}
	consumeAll(t, b, testTopic, n)

	const group = "broker.test.group"
	consumeAndCommit(t, b, group, testTopic, n)
	checkCommitted(t, b, group, testTopic, n)

	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Same directory: records, partition count and group offsets survive.
	b2 := startTest(t, dir)
	if got := partitionCount(t, b2, testTopic); got != DefaultPartitions {
		t.Fatalf("after restart: %d partitions, want %d", got, DefaultPartitions)
	}
	consumeAll(t, b2, testTopic, n)
	checkCommitted(t, b2, group, testTopic, n)

	// Topics are still auto-created after a restart.
	produceN(t, b2, testTopic+".2", 10)
	consumeAll(t, b2, testTopic+".2", 10)
	if err := b2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestInMemory(t *testing.T) {
	b, err := Start(Options{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer b.Close()
	produceN(t, b, "mem", 100)
	if got := partitionCount(t, b, "mem"); got != 3 {
		t.Fatalf("%d partitions, want 3", got)
	}
	consumeAll(t, b, "mem", 100)
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	b := startTest(t, dir)
	if b2, err := Start(Options{Listen: "127.0.0.1:0", DataDir: dir}); err == nil {
		b2.Close()
		t.Fatal("second Start on the same DataDir succeeded")
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b3 := startTest(t, dir) // released by Close
	b3.Close()
}

func TestListenErrors(t *testing.T) {
	b := startTest(t, "")
	for _, addr := range []string{b.Addr(), "0.0.0.0:0", ":0", "127.0.0.1", "127.0.0.1:99999"} {
		if b2, err := Start(Options{Listen: addr}); err == nil {
			b2.Close()
			t.Errorf("Start(%q) succeeded, want error", addr)
		} else {
			t.Logf("Start(%q): %v", addr, err)
		}
	}
}

func ExampleStart() {
	b, err := Start(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	err = cl.ProduceSync(context.Background(), &kgo.Record{Topic: "hello", Value: []byte("world")}).FirstErr()
	fmt.Println(err)
	// Output: <nil>
}
