package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
)

// TestGracefulShutdown checks the acceptance criterion "SIGTERM during a flow leaves every consumed record
// committed and the process exits 0", and the same for SIGINT.
func TestGracefulShutdown(t *testing.T) {
	t.Run("SIGTERM", func(t *testing.T) { testGraceful(t, syscall.SIGTERM, 20000) })
	t.Run("SIGINT", func(t *testing.T) { testGraceful(t, syscall.SIGINT, 5000) })
}

// testGraceful stops a stage that has consumed at least minConsumed records of a live flow with sig, while a
// commit config that never fires on its own keeps everything in the buffers until then.
func testGraceful(t *testing.T, sig syscall.Signal, minConsumed float64) {
	start := time.Now()
	e := newEnv(t)
	const topic, table = "grace.events", "staging.grace_events"
	prod := startProducer(t, e, topic, 5000)
	waitFor(t, 10*time.Second, "the producer to create the topic", func() bool { return sumOffsets(e.endOffsets(topic)) > 0 })

	addr := loopbackAddr(t)
	cfg := e.writeConfig(topic, "grace_events", "{interval: 1h, max_rows: 10000000}")
	p := e.startStage(cfg, "--http", addr)
	var c1 float64
	waitFor(t, 40*time.Second, fmt.Sprintf("stage to consume %v records", minConsumed), func() bool {
		c1 = consumedMetric(addr)
		return c1 >= minConsumed
	})
	if stored := sumOffsets(e.storedOffsets(table)); stored != 0 {
		t.Fatalf("stage committed %d offsets before the signal; the commit config should keep everything buffered", stored)
	}
	signalled := time.Now()
	if code := p.signal(t, sig, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d after %v, want 0; log:\n%s", code, sig, p.tail())
	}
	t.Logf("%v: consumed %v before the signal, exited 0 after %v", sig, c1, time.Since(signalled).Round(time.Millisecond))

	// Every record below the stored offsets is in the table exactly once, and nothing consumed is missing.
	stored := e.storedOffsets(table)
	rows := e.queryInt(`SELECT count(*) FROM staging.grace_events`)
	if sum := sumOffsets(stored); rows != sum {
		t.Errorf("main table has %d rows but stores offsets summing to %d: %v", rows, sum, stored)
	}
	if n := e.queryInt(`SELECT count(DISTINCT _partition::VARCHAR || ':' || _offset::VARCHAR) FROM staging.grace_events`); n != rows {
		t.Errorf("main table has %d distinct (partition, offset) in %d rows", n, rows)
	}
	t.Logf("%v: %d rows committed by the final flush, stored offsets %v", sig, rows, stored)
	if float64(rows) < c1 {
		t.Errorf("main table has %d rows, fewer than the %v records consumed before the signal", rows, c1)
	}
	perPart := map[int32]bool{}
	for _, row := range e.query(`SELECT _partition::BIGINT, min(_offset), max(_offset) + 1, count(*) FROM staging.grace_events GROUP BY _partition`) {
		part, lo, hi, n := int32(row[0].(int64)), row[1].(int64), row[2].(int64), row[3].(int64)
		perPart[part] = true
		want := stored.Get(lake.TopicPartition{Topic: topic, Partition: part})
		if lo != 0 || hi != want || n != want {
			t.Errorf("partition %d: offsets %d..%d in %d rows, want 0..%d in %d rows (the stored next offset)", part, lo, hi-1, n, want-1, want)
		}
	}
	for tp, off := range stored {
		if off > 0 && !perPart[tp.Partition] {
			t.Errorf("partition %d stores next offset %d but has no rows", tp.Partition, off)
		}
	}
	if n := e.queryInt(`SELECT count(*) FROM staging.grace_events_rejected`); n != 0 {
		t.Errorf("rejected table has %d rows, want 0", n)
	}
	if rej := e.storedOffsets(table + "_rejected"); !maps.Equal(rej, stored) {
		t.Errorf("rejected table stores %v, main table %v: want equal", rej, stored)
	}

	// After the flow stops, a normal stage run picks up exactly where the signalled one left off.
	total := prod.stop(t)
	cfg = e.writeConfig(topic, "grace_events", "{interval: 1s, max_rows: 100000}")
	p = e.startStage(cfg)
	e.finish(p, topic, table, table+"_rejected")
	e.assertRows(table, total)
	if got := e.query(`SELECT count(DISTINCT client_seq), min(client_seq), max(client_seq) FROM staging.grace_events`)[0]; fmt.Sprint(got) != fmt.Sprint([]any{total, int64(0), total - 1}) {
		t.Errorf("main table client_seq (distinct, min, max) = %v, want [%d 0 %d]", got, total, total-1)
	}
	t.Logf("%v: %d produced, staged exactly once; took %v", sig, total, time.Since(start).Round(time.Millisecond))
}

// signal sends sig and returns the exit code; it fails the test if the process is still running after timeout.
func (p *stageProc) signal(t *testing.T, sig syscall.Signal, timeout time.Duration) int {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("stage did not stop within %v after %v; log:\n%s", timeout, sig, p.tail())
	}
	return p.cmd.ProcessState.ExitCode()
}

// producer writes valid events with unique ids (g-<seq>, client_seq = seq) at a steady rate until stopped.
type producer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	next   int // records handed to the client; owned by the producing goroutine until stop
	acked  atomic.Int64
	failed atomic.Int64
	errMu  sync.Mutex
	err    error
}

// startProducer produces to topic at about rate records per second, in batches every 10ms.
func startProducer(t *testing.T, e *env, topic string, rate int) *producer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &producer{cl: e.client(), cancel: cancel}
	perTick := max(rate/100, 1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for range perTick {
				id := fmt.Sprintf("g-%d", p.next)
				r := &kgo.Record{Topic: topic, Key: []byte(id), Value: eventJSON(id, p.next)}
				p.next++
				p.cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
					if err != nil {
						p.failed.Add(1)
						p.errMu.Lock()
						if p.err == nil {
							p.err = err
						}
						p.errMu.Unlock()
						return
					}
					p.acked.Add(1)
				})
			}
		}
	}()
	t.Cleanup(func() { cancel(); p.wg.Wait() })
	return p
}

// stop ends the flow, waits for every record to be acknowledged and returns how many were produced.
func (p *producer) stop(t *testing.T) int64 {
	t.Helper()
	p.cancel()
	p.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		t.Fatalf("flushing the producer: %v", err)
	}
	if n := p.failed.Load(); n > 0 {
		t.Fatalf("%d of %d records failed to produce, first: %v", n, p.next, p.err)
	}
	if got := p.acked.Load(); got != int64(p.next) {
		t.Fatalf("%d of %d records acknowledged", got, p.next)
	}
	return int64(p.next)
}

// consumedMetric reads bigfather_records_consumed_total{pipeline="test"} from the stage's /metrics; 0 when the
// server is not up yet or the series does not exist yet.
func consumedMetric(addr string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	const series = `bigfather_records_consumed_total{pipeline="test"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				fmt.Fprintf(os.Stderr, "parsing %q: %v\n", sc.Text(), err)
				return 0
			}
			return f
		}
	}
	return 0
}
