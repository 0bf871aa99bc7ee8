package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoProduceAvro: `bigfather demo produce --format avro` registers the demo event's Avro schema in a
// running process's registry and produces registry-framed records, which an avro pipeline stages with the
// schema's columns and id.
func TestDemoProduceAvro(t *testing.T) {
	e := newEnv(t)
	addr := loopbackAddr(t)
	cfg := filepath.Join(e.dir, "avro.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
pipelines:
  - name: test # the harness reads the offsets of pipeline test
    topics: [game.avro]
    format: avro
    table: {name: staging.avro_events, partition_by: ["day(event_time)"]}
    commit: {interval: 200ms}
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db")), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := e.startProcess("", "stage", "--config", cfg, "--http", addr)
	waitFor(t, 60*time.Second, "the stage's HTTP port", func() bool {
		code, _ := httpGet("http://" + addr + "/healthz")
		return code == http.StatusOK
	})
	const n = 500
	out, err := exec.Command(binPath, "demo", "produce", "--format", "avro", "--brokers", e.broker.Addr(), "--topic", "game.avro",
		"--count", fmt.Sprint(n), "--seed", "7", "--registry", "http://"+addr).CombinedOutput()
	if err != nil {
		t.Fatalf("demo produce: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("produced %d events to game.avro", n)) {
		t.Errorf("demo produce printed %s", out)
	}
	defer func() {
		if t.Failed() {
			t.Logf("stage log:\n%s", stage.tail())
			t.Logf("end offsets %v, stored %v", e.endOffsets("game.avro"), e.storedOffsets("staging.avro_events"))

		}
	}()
	waitFor(t, 60*time.Second, "the demo events staged", func() bool { return e.caughtUp("game.avro", "staging.avro_events") })
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d:\n%s", code, stage.tail())
	}
	got := e.query(`select count(*), count(distinct event_id), min(_schema_id), max(_schema_id), typeof(any_value(event_time)),
		typeof(any_value(level)), count(*) filter (where event_type = 'purchase' and amount is null) from staging.avro_events`)
	if fmt.Sprint(got) != fmt.Sprintf("[[%d %d 1 1 TIMESTAMP WITH TIME ZONE INTEGER 0]]", n, n) {
		t.Errorf("staged %v", got)
	}
}
