package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestProbe: a pipeline with probe: 1s gets probe records through its topic; each is timed until the main
// table's commit covers it, and none becomes a row, a rejected record or a pause (the pipeline pauses on any
// rejected record here).
func TestProbe(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "probe.events", 2)
	cfg := withMonitor(t, e.writePipelineConfig("probe.events", "probe_events", "{interval: 200ms, max_rows: 100000}",
		"    probe: 1s\n    on_reject: {policy: pause}\n"), monitorSettings)
	addr := loopbackAddr(t)
	p := e.startStage(cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("stage log:\n%s", p.tail())
		}
	}()
	recs := make([]*kgo.Record, 40)
	for i := range recs {
		recs[i] = &kgo.Record{Partition: int32(i % 2), Value: gameEvent(i)}
	}
	produceTo(t, e, "probe.events", recs)
	waitFor(t, 60*time.Second, "three probes covered by commits", func() bool {
		code, body := httpGet("http://" + addr + "/metrics")
		return code == 200 && strings.Contains(body, "bigfather_probe_latency_seconds_count{pipeline=\"test\"} ") &&
			!strings.Contains(body, "bigfather_probe_latency_seconds_count{pipeline=\"test\"} 1\n") &&
			!strings.Contains(body, "bigfather_probe_latency_seconds_count{pipeline=\"test\"} 2\n")
	})
	// The report is the monitor's next sample: it shows the newest covered probe.
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last report of the pipeline: %s", last)
		}
	}()
	waitFor(t, 10*time.Second, "the monitor report to show a probe latency", func() bool {
		r, ok := monitorReport(t, addr)
		pr, found := pipelineIn(r, "test")
		last = fmt.Sprintf("%+v", pr)
		if pr.Probe != nil {
			last += fmt.Sprintf(" probe %+v", *pr.Probe)
		}
		return ok && found && pr.Probe != nil && pr.Probe.LastSeconds > 0 && !pr.Probe.LastAt.IsZero() && pr.Status == "OK"
	})
	code, metrics := httpGet("http://" + addr + "/metrics")
	if code != 200 || !strings.Contains(metrics, `bigfather_probe_records_total{pipeline="test"}`) {
		t.Errorf("/metrics lacks bigfather_probe_records_total")
	}
	if strings.Contains(metrics, `bigfather_rows_rejected_total`) {
		t.Errorf("probe records were rejected:\n%s", grepLines(metrics, "rejected"))
	}
	if code := p.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d", code)
	}
	// The rows are exactly the 40 events; the tables' offsets cover the probes too.
	e.assertRows("staging.probe_events", 40)
	ends := e.endOffsets("probe.events")
	if got := e.storedOffsets("staging.probe_events"); fmt.Sprint(got) != fmt.Sprint(ends) {
		t.Errorf("stored offsets %v, want the end offsets %v (probes included)", got, ends)
	}
	if total := ends.Get(tp("probe.events", 0)) + ends.Get(tp("probe.events", 1)); total < 43 {
		t.Errorf("the topic holds %d records, want the 40 events and at least 3 probes", total)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
