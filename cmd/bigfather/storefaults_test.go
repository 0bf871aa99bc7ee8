package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/testpg"
	"github.com/bigfather/bigfather/internal/tests3"
)

// TestStoreFaults (issue 7, acceptance 4): while records keep arriving, the S3 warehouse stops for 20 s and
// later the Postgres catalog restarts. Staging stalls visibly (/healthz answers 503 naming the failing store),
// resumes by itself once the store is back, and the tables hold every record exactly once.
func TestStoreFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const valid, bad = 30_000, 300
	pg := testpg.Start(t)
	s3 := tests3.Start(t)
	e := newEnv(t)
	db := pg.CreateDatabase(t)
	bucket := s3.Bucket()
	t.Setenv(pgPasswordVar, pg.Password)
	t.Setenv("BF_TEST_S3_SECRET", tests3.SecretKey)
	t.Setenv("BIGFATHER_CACHE_DIR", filepath.Join(e.dir, "cache"))
	topic := "faults.events"
	createTopic(t, e, topic, 4)
	cfg := filepath.Join(e.dir, "faults.yaml")
	text := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: s3://%s/lake
s3:
  endpoint: %s
  region: %s
  access_key_id: %s
  secret_access_key: ${BF_TEST_S3_SECRET}
catalog:
  uri: postgres://%s:${%s}@127.0.0.1:%d/%s?sslmode=disable
pipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.fault_events
      partition_by: ["day(event_time)"]%s
    commit: {interval: 1s, max_rows: 5000}
`, e.broker.Addr(), bucket, s3.Endpoint, tests3.Region, tests3.AccessKey, pg.User, pgPasswordVar, pg.Port, db, topic, testColumns)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := loopbackAddr(t)
	p := e.startStage(cfg, "--http", addr)
	produced := make(chan error, 1)
	go func() { produced <- produceCrashRecords(e, topic, valid, bad, 2*time.Second) }()
	main, rejected := "staging.fault_events", "staging.fault_events_rejected"
	waitFor(t, 60*time.Second, "a first commit", func() bool {
		code, body := httpGet("http://" + addr + "/readyz")
		return code == 200 && strings.Contains(body, `"last_commit"`)
	})

	s3.Stop()
	var body string
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b := httpGet("http://" + addr + "/readyz")
		body = b
		if code == 503 && strings.Contains(body, "warehouse s3://"+bucket+"/lake") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not name the stopped S3 store within 60s: %d %s\nlog:\n%s", code, body, p.tail())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if strings.Contains(body, tests3.SecretKey) {
		t.Errorf("/readyz shows the S3 secret: %s", body)
	}
	time.Sleep(20 * time.Second)
	s3.Restart()
	waitFor(t, 60*time.Second, "/readyz to recover after S3 returned", func() bool {
		code, _ := httpGet("http://" + addr + "/readyz")
		return code == 200
	})

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 180*time.Second, "every partition committed", func() bool { return s3CaughtUp(e, cfg, topic, main, rejected) })
	if code := p.stop(t, 60*time.Second); code != 0 {
		t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, p.tail())
	}
	for _, c := range []struct {
		query string
		want  int64
	}{
		{"select count(*) from " + main, valid},
		{"select count(distinct event_id) from " + main, valid},
		{"select count(distinct (_partition, _offset)) from " + main, valid},
		{"select count(*) from " + rejected, bad},
	} {
		if got := sqlInt(t, cfg, c.query); got != c.want {
			t.Errorf("%s: %d, want exactly %d", c.query, got, c.want)
		}
	}
	if log := readFile(p.log); strings.Contains(log, pg.Password) || strings.Contains(log, tests3.SecretKey) {
		t.Error("the stage log shows a secret")
	}
}
