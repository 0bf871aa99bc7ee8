package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupOffsets returns the sum of the consumer group's committed offsets for topic.
func (e *env) groupOffsets(group, topic string) int64 {
	e.t.Helper()
	resp, err := kadm.NewClient(e.client()).FetchOffsets(context.Background(), group)
	if err != nil {
		e.t.Fatal(err)
	}
	var sum int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			sum += o.At
		}
	})
	return sum
}

// TestCatalogGoneWhileRunning (issue 6 item 7): when the SQLite catalog is deleted or replaced under a running
// stage, /healthz answers 503 naming the catalog at once (before anything is committed), the next batch fails
// instead of "committing" into the unlinked file, nothing more is acknowledged to the Kafka group, the
// deleted catalog is not recreated, and a graceful stop exits 1 naming the catalog.
func TestCatalogGoneWhileRunning(t *testing.T) {
	for _, mode := range []string{"deleted", "replaced"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			const topic, table = "catalog.events", "staging.catalog_events"
			createTopic(t, e, topic, 2)
			addr := loopbackAddr(t)
			p := e.startStage(e.writeConfig(topic, "catalog_events", "{interval: 300ms, max_rows: 100000}"), "--http", addr)
			recs := func(from, to int) []*kgo.Record {
				var out []*kgo.Record
				for i := from; i < to; i++ {
					out = append(out, &kgo.Record{Partition: int32(i % 2), Value: eventJSON(fmt.Sprintf("c-%d", i), i)})
				}
				return out
			}
			produceTo(t, e, topic, recs(0, 100))
			waitFor(t, 60*time.Second, "the first 100 records committed", func() bool { return e.caughtUp(topic, table, table+"_rejected") })
			waitFor(t, 30*time.Second, "the group offsets to reach 100", func() bool { return e.groupOffsets("bigfather-test", topic) == 100 })
			if code, body := httpGet("http://" + addr + "/readyz"); code != 200 {
				t.Fatalf("readyz before: %d %s", code, body)
			}

			path := filepath.Join(e.dir, "catalog.db")
			switch mode {
			case "deleted":
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
						t.Fatal(err)
					}
				}
			case "replaced":
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path+".restored", data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(path+".restored", path); err != nil {
					t.Fatal(err)
				}
			}
			reason := map[string]string{"deleted": "the file was deleted", "replaced": "the file was replaced by another one"}[mode]
			want := fmt.Sprintf("catalog sqlite://%s: %s", path, reason)

			// Unhealthy at once, while nothing is even trying to commit.
			var body string
			waitFor(t, 10*time.Second, "readyz 503 naming the catalog", func() bool {
				var code int
				code, body = httpGet("http://" + addr + "/readyz")
				return code == 503 && strings.Contains(body, want)
			})
			if !strings.Contains(body, `"status":"not ready"`) || !strings.Contains(body, "commits are stopped until the process restarts") {
				t.Errorf("readyz body: %s", body)
			}

			// New records: the batch fails, the pipeline reports the catalog, nothing reaches the group.
			produceTo(t, e, topic, recs(100, 150))
			waitFor(t, 30*time.Second, "the pipeline failing on the catalog", func() bool {
				_, body = httpGet("http://" + addr + "/readyz")
				return strings.Contains(body, `"state":"failing"`) && strings.Count(body, want) >= 2
			})
			time.Sleep(time.Second) // a group commit, if any, would have happened by now
			if got := e.groupOffsets("bigfather-test", topic); got != 100 {
				t.Errorf("group offsets after the catalog went: %d, want still 100", got)
			}
			if mode == "deleted" {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("catalog path: %v, want it still absent (not recreated empty)", err)
				}
			}

			if code := p.stop(t, 30*time.Second); code != 1 {
				t.Fatalf("stage exited %d after SIGTERM with the catalog %s, want 1; log:\n%s", code, mode, p.tail())
			}
			if log := readFile(p.log); !strings.Contains(log, "bigfather: ") || !strings.Contains(log[strings.LastIndex(log, "bigfather: "):], want) {
				t.Errorf("the last line does not name the catalog; log:\n%s", p.tail())
			}
		})
	}
}
