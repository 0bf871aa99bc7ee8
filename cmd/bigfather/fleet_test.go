package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/testpg"
	"github.com/bigfather/bigfather/internal/tests3"
)

// TestFleet (issue 7, acceptance 1): three stage processes in separate working directories share nothing but
// Kafka, a Postgres catalog and an S3 warehouse. 200,000 events over 8 partitions plus 1,000 malformed records
// are staged while the processes are killed with SIGKILL 12 times between them; midway the topic grows from 8
// to 12 partitions and 50,000 more events go only to the new ones. Checked with `bigfather sql` from a fourth
// working directory: exactly 250,000 rows with distinct ids and distinct (partition, offset), and exactly 1,000
// rejected records. The processes maintain the tables every 2 s throughout; after `bigfather maintain` every
// object under the tables' locations is referenced and the answers are unchanged.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	const valid, bad, grown = 200_000, 1_000, 50_000
	pg := testpg.Start(t)
	s3 := tests3.Start(t)
	e := newEnv(t)
	db := pg.CreateDatabase(t)
	bucket := s3.Bucket()
	t.Setenv(pgPasswordVar, pg.Password)
	t.Setenv("BF_TEST_S3_SECRET", tests3.SecretKey)
	topic := "fleet.events"
	createTopic(t, e, topic, 8)

	cfgText := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: s3://%s/lake
s3:
  endpoint: %s
  region: %s
  access_key_id: %s
  secret_access_key: ${BF_TEST_S3_SECRET}
catalog:
  uri: postgres://%s:${%s}@127.0.0.1:%d/%s?sslmode=disable
http: 127.0.0.1:0
%spipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.fleet_events
      partition_by: ["day(event_time)"]%s
    commit: {interval: 1s, max_rows: 20000}
`, e.broker.Addr(), bucket, s3.Endpoint, tests3.Region, tests3.AccessKey, pg.User, pgPasswordVar, pg.Port, db, maintainConfig, topic, testColumns)
	// Every process and the reader get their own working directory and their own copy of the config.
	dirs := make([]string, 4)
	cfgs := make([]string, 4)
	for i := range dirs {
		dirs[i] = filepath.Join(e.dir, fmt.Sprintf("machine-%d", i))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			t.Fatal(err)
		}
		cfgs[i] = filepath.Join(dirs[i], "bigfather.yaml")
		if err := os.WriteFile(cfgs[i], []byte(cfgText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("BIGFATHER_CACHE_DIR", filepath.Join(dirs[3], "cache"))
	start := func(i int) *stageProc {
		return e.startStageIn(dirs[i], cfgs[i], "--instance-id", fmt.Sprintf("machine-%d", i), "--session-timeout", "6s")
	}
	procs := []*stageProc{start(0), start(1), start(2)}

	produced := make(chan error, 2)
	go func() { produced <- produceCrashRecords(e, topic, valid, bad, 300*time.Millisecond) }()

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)
	main, rejected := "staging.fleet_events", "staging.fleet_events_rejected"
	for k := range 12 {
		i := rng.IntN(len(procs))
		waitFor(t, 60*time.Second, "the victim to own partitions", func() bool {
			return strings.Contains(readFile(procs[i].log), "partitions assigned")
		})
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		procs[i].kill(t)
		procs[i] = start(i)
		if k == 5 { // midway: the topic grows, and the new partitions alone get 50,000 more events
			if err := <-produced; err != nil {
				t.Fatal(err)
			}
			resp, err := kadm.NewClient(e.client()).CreatePartitions(context.Background(), 4, topic)
			if err != nil || resp[topic].Err != nil {
				t.Fatalf("adding partitions: %v %v", err, resp[topic].Err)
			}
			go func() {
				var recs []*kgo.Record
				for j := range grown {
					recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(8 + j%4), Value: eventJSON(fmt.Sprintf("grown-%06d", j), j)})
				}
				cl := e.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
				produced <- cl.ProduceSync(context.Background(), recs...).FirstErr()
			}()
		}
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 240*time.Second, "all 12 partitions committed to both tables", func() bool {
		return len(e.endOffsets(topic)) == 12 && s3CaughtUp(e, cfgs[3], topic, main, rejected)
	})
	for _, p := range procs {
		// Its signal handler is installed before it logs anything: a SIGTERM before that would kill it.
		waitFor(t, 30*time.Second, "the stage process to start", func() bool { return strings.Contains(readFile(p.log), "msg=staging") })
		if code := p.stop(t, 60*time.Second); code != 0 {
			t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, p.tail())
		}
	}

	total := int64(valid + grown)
	checks := []struct {
		query string
		want  int64
	}{
		{"select count(*) from " + main, total},
		{"select count(distinct event_id) from " + main, total},
		{"select count(distinct (_partition, _offset)) from " + main, total},
		{"select count(*) from " + main + " where _partition >= 8", grown},
		{"select count(*) from " + rejected, bad},
	}
	for _, c := range checks {
		if got := sqlIntIn(t, dirs[3], cfgs[3], c.query); got != c.want {
			t.Errorf("%s: %d, want exactly %d", c.query, got, c.want)
		}
	}
	// The three processes maintained the tables every 2 s meanwhile (on Postgres and S3); once more by hand,
	// nothing unreferenced is left in the bucket and the answers are the same.
	maintainAndCheck(t, cfgs[3], main, rejected)
	for _, c := range checks {
		if got := sqlIntIn(t, dirs[3], cfgs[3], c.query); got != c.want {
			t.Errorf("after maintenance, %s: %d, want exactly %d", c.query, got, c.want)
		}
	}
}

// sqlIntIn runs `bigfather sql --format csv query` in working directory dir and returns the one integer it
// prints.
func sqlIntIn(t *testing.T, dir, cfg, query string) int64 {
	t.Helper()
	cmd := exec.Command(binPath, "sql", "--config", cfg, "--format", "csv", query)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bigfather sql %q: %v\n%s", query, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if len(lines) != 2 || err != nil {
		t.Fatalf("bigfather sql %q printed %q, want a header and one integer", query, out)
	}
	return n
}
