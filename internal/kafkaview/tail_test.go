package kafkaview

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTail starts a tail, produces until it sees a warm-up record (so the tail is known to be
// reading), then produces three records and expects exactly the two the filter passes, in order;
// emit's error ends the tail with that error.
func TestTail(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "live", 2, nil)
	tb.produce(t, &kgo.Record{Topic: "live", Partition: 0, Value: []byte("old"), Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("ios")}}})
	v := tb.view(t)

	var (
		mu  sync.Mutex
		got []string
	)
	errStop := errors.New("stop")
	done := make(chan error, 1)
	go func() {
		done <- v.Tail(ctxT(t), TailRequest{Topic: "live", Partition: 0, Filter: `headers["source"] == "ios"`}, func(m Message) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, m.Value)
			if m.Value == "c" {
				return errStop
			}
			return nil
		})
	}()
	rec := func(value, source string) *kgo.Record {
		return &kgo.Record{Topic: "live", Partition: 0, Value: []byte(value), Headers: []kgo.RecordHeader{{Key: "source", Value: []byte(source)}}}
	}
	warm := 0
	waitFor(t, 20*time.Second, "the tail to emit a warm-up record", func() bool {
		tb.produce(t, rec("warm"+strconv.Itoa(warm), "ios"))
		warm++
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	tb.produce(t, rec("a", "ios"), rec("b", "android"), &kgo.Record{Topic: "live", Partition: 1, Value: []byte("other partition"),
		Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("ios")}}}, rec("c", "ios"))
	select {
	case err := <-done:
		if !errors.Is(err, errStop) {
			t.Fatalf("Tail returned %v, want emit's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Tail did not end after emit failed")
	}
	mu.Lock()
	defer mu.Unlock()
	first, _ := strconv.Atoi(got[0][len("warm"):])
	var want []string
	for i := first; i < warm; i++ {
		want = append(want, "warm"+strconv.Itoa(i))
	}
	want = append(want, "a", "c")
	if !slices.Equal(got, want) {
		t.Errorf("tail emitted %q, want %q", got, want)
	}
}

// TestTailCancel: a tail ends with nil when its context does, and reports setup errors before it starts.
func TestTailCancel(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "live", 2, nil)
	v := tb.view(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- v.Tail(ctx, TailRequest{Topic: "live", Partition: AllPartitions}, func(Message) error { return nil })
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Tail after cancel returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Tail did not end when its context did")
	}

	err := v.Tail(ctxT(t), TailRequest{Topic: "live", Partition: 0, Filter: "1"}, nil)
	var ie *InputError
	if !errors.As(err, &ie) || err.Error() != "filter: expected a boolean expression, got one of type int" {
		t.Errorf("Tail with a bad filter: %v", err)
	}
	err = v.Tail(ctxT(t), TailRequest{Topic: "live", Partition: 2}, nil)
	if !errors.As(err, &ie) || err.Error() != `partition: topic "live" has partitions 0 to 1, got 2` {
		t.Errorf("Tail with a bad partition: %v", err)
	}
	if err := v.Tail(ctxT(t), TailRequest{Topic: "gone"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tail of an unknown topic: %v, want ErrNotFound", err)
	}
}
