package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestStatusCommand: `bigfather status` asks the running process (table and JSON), and once no process runs it
// samples Kafka and the tables itself, reading the last recorded status from the history.
func TestStatusCommand(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "st.events", 2)
	cfg := withMonitor(t, e.writeConfig("st.events", "st_events", "{interval: 200ms, max_rows: 100000}"), monitorSettings)
	addr := loopbackAddr(t)
	stage := e.startStage(cfg, "--http", addr)
	recs := make([]*kgo.Record, 50)
	for i := range recs {
		recs[i] = &kgo.Record{Partition: int32(i % 2), Value: gameEvent(i)}
	}
	produceTo(t, e, "st.events", recs)

	type view struct {
		Source string
		Ready  bool
		Report struct {
			Checks []struct {
				Name string
				OK   bool
			}
			Pipelines []struct {
				Name       string
				Status     string
				Lag        int64
				Partitions []struct{ Committed, End int64 }
				Tables     []struct{ Name string }
			}
		}
	}
	var v view
	waitFor(t, 60*time.Second, "status to show the pipeline caught up", func() bool {
		code, out, _ := runBin(t, "status", "--config", cfg, "--http", addr, "--format", "json")
		v = view{}
		return code == 0 && json.Unmarshal([]byte(out), &v) == nil && len(v.Report.Pipelines) == 1 &&
			v.Report.Pipelines[0].Status == "OK" && v.Report.Pipelines[0].Lag == 0 && len(v.Report.Pipelines[0].Partitions) == 2
	})
	if v.Source != "http://"+addr || !v.Ready || len(v.Report.Checks) != 4 {
		t.Errorf("status from the process: source %q, ready %v, checks %+v", v.Source, v.Ready, v.Report.Checks)
	}
	for _, p := range v.Report.Pipelines[0].Partitions {
		if p.Committed != 25 || p.End != 25 {
			t.Errorf("partition %+v, want committed 25 of 25", p)
		}
	}
	code, out, stderr := runBin(t, "status", "--config", cfg, "--http", addr)
	for _, want := range []string{"ready (from http://" + addr, "  kafka      ok", "test      OK      0", "staging.st_events ", "kafka: 1/1 brokers reachable", "alerts: none pending or firing"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status table (exit %d) lacks %q:\n%s%s", code, want, out, stderr)
		}
	}

	// No process: sampled directly; the status is the last one recorded.
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d", code)
	}
	code, out, stderr = runBin(t, "status", "--config", cfg, "--format", "json")
	v = view{}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 {
		t.Fatalf("status without a process: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if v.Source != "sampled" || !v.Ready || v.Report.Pipelines[0].Status != "OK" || v.Report.Pipelines[0].Lag != 0 || len(v.Report.Pipelines[0].Tables) == 0 {
		t.Errorf("sampled status: %+v", v)
	}

	// Records wait, nothing stages: the lag shows; a bad flag is a usage error.
	produceTo(t, e, "st.events", recs[:10])
	code, out, _ = runBin(t, "status", "--config", cfg, "--format", "json")
	if json.Unmarshal([]byte(out), &v) != nil || v.Report.Pipelines[0].Lag != 10 {
		t.Errorf("status with 10 records waiting: exit %d\n%s", code, out)
	}
	if code, _, stderr := runBin(t, "status", "--config", cfg, "--format", "yaml"); code != 2 || !strings.Contains(stderr, `status: --format must be table or json, got "yaml"`) {
		t.Errorf("--format yaml: exit %d, %s", code, stderr)
	}
}
