package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCrashExactlyOnce is the core guarantee: `bigfather stage` killed with SIGKILL at random moments while it
// consumes and commits, and restarted each time, ends with every record exactly once: 200,000 rows with
// 200,000 distinct event ids in the main table and exactly the 1,000 malformed records in the rejected table.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	cases := []struct {
		name string
		// two runs a second, stable process in the same group; only the other one is killed, so partitions move
		// between them on every kill and restart.
		two  bool
		rate time.Duration // pause between produced chunks of 5,000 records
	}{
		{name: "one process", rate: 400 * time.Millisecond},
		{name: "two processes, one killed", two: true, rate: 1500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const valid, bad, kills = 200_000, 1_000, 9
			e := newEnv(t)
			topic := "crash.events"
			createTopic(t, e, topic, 8)
			cfg := e.writeConfig(topic, "crash_events", "{interval: 1s, max_rows: 20000}")
			seed := time.Now().UnixNano()
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			t.Logf("kill schedule seed %d", seed)

			produced := make(chan error, 1)
			go func() { produced <- produceCrashRecords(e, topic, valid, bad, tc.rate) }()

			var stable *stageProc
			if tc.two {
				stable = e.startStage(cfg, "--instance-id", "stable", "--session-timeout", "6s")
			}
			victimArgs := []string{"--instance-id", "victim"}
			if tc.two {
				// A dynamic member: its partitions go to the stable process when its session expires, and
				// come back when it rejoins.
				victimArgs = []string{"--session-timeout", "6s"}
			}
			killRepeatedly(t, e, cfg, kills, rng, victimArgs...)
			if err := <-produced; err != nil {
				t.Fatal(err)
			}
			last := e.startStage(cfg, victimArgs...)
			waitFor(t, ownsWithin, "the last process to own partitions", func() bool {
				return strings.Contains(readFile(last.log), "partitions assigned")
			})
			main, rejected := "staging.crash_events", "staging.crash_events_rejected"
			e.finish(last, topic, main, rejected)
			if stable != nil {
				if code := stable.stop(t, 60*time.Second); code != 0 {
					t.Fatalf("stable stage exited %d after SIGTERM; log:\n%s", code, stable.tail())
				}
			}
			e.assertRows(main, valid)
			if got := e.queryInt("select count(distinct (_partition, _offset)) from " + main); got != valid {
				t.Errorf("main table holds %d distinct (partition, offset), want %d", got, valid)
			}
			if got := e.queryInt("select count(*) from " + rejected); got != bad {
				t.Errorf("rejected table holds %d rows, want exactly %d", got, bad)
			}
			for _, code := range []string{"not_json", "not_object", "missing_field", "wrong_type", "out_of_range"} {
				if got := e.queryInt("select count(*) from " + rejected + " where reason_code = '" + code + "'"); got != bad/5 {
					t.Errorf("rejected %s: %d rows, want %d", code, got, bad/5)
				}
			}
			if got := e.queryInt("select count(distinct (_partition, _offset)) from " + rejected); got != bad {
				t.Errorf("rejected table holds %d distinct (partition, offset), want %d", got, bad)
			}
		})
	}
}

// createTopic creates topic with the given partitions.
func createTopic(t *testing.T, e *env, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(e.client()).CreateTopic(context.Background(), partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("creating %s: %v %v", topic, err, resp.Err)
	}
}

// produceCrashRecords produces valid unique events with one malformed record after every valid/bad valid ones,
// in chunks of 5,000 with a pause between chunks, spread over all partitions.
func produceCrashRecords(e *env, topic string, valid, bad int, pause time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addr()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx := context.Background()
	every := valid / bad
	var mu sync.Mutex
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	nbad := 0
	for i := 0; i < valid; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: eventJSON(fmt.Sprintf("e-%06d", i), i)}, promise)
		if (i+1)%every == 0 {
			v, _ := malformed(nbad)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: v}, promise)
			nbad++
		}
		if (i+1)%5000 == 0 {
			time.Sleep(pause)
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if nbad != bad {
		return fmt.Errorf("produced %d malformed records, want %d", nbad, bad)
	}
	return firstErr
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
