package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/monitor"
)

// monitorSettings samples four times a second and judges over six samples, so each status shows within
// seconds.
const monitorSettings = "monitor: {interval: 250ms, window: 6}\n"

// withMonitor adds a top-level block to a config file written by writePipelineConfig.
func withMonitor(t *testing.T, path, block string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(data), "pipelines:\n", block+"pipelines:\n", 1)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// monitorReport reads GET /api/v1/monitor.
func monitorReport(t *testing.T, addr string) (monitor.Report, bool) {
	t.Helper()
	code, body := httpGet("http://" + addr + "/api/v1/monitor")
	var r monitor.Report
	if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		return r, false
	}
	return r, true
}

func pipelineIn(r monitor.Report, name string) (monitor.PipelineReport, bool) {
	for _, p := range r.Pipelines {
		if p.Name == name {
			return p, true
		}
	}
	return monitor.PipelineReport{}, false
}

func groupIn(r monitor.Report, name string) (monitor.GroupReport, bool) {
	for _, g := range r.Groups {
		if g.Group == name {
			return g, true
		}
	}
	return monitor.GroupReport{}, false
}

// TestMonitorStatuses scripts each status against a real broker, a `bigfather console` process judging and
// `bigfather stage` processes staging: OK, PAUSED (on_reject: pause) and back, STALL then ERR (commits fail:
// the table's data directory is replaced by a file) and back, WARN (producing faster than a stage committing
// ten rows at a time), STOP (no stage while records wait), OK again; and a consumer group of someone else's
// that stops consuming (STOP) and whose offsets are reset backwards (REWIND).
func TestMonitorStatuses(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "mon.events", 1)
	// Local receivers: Opsgenie's Alert API and a webhook, recording what they were sent.
	ops, hook := newReceiver(t), newReceiver(t)
	alerts := fmt.Sprintf(`alerts:
  builtin: false
  rules:
    - {name: Stuck, status: [STALL, ERR], scope: pipeline, for: 1s, severity: critical}
  receivers:
    - {name: ops, type: opsgenie, url: %q, api_key: "genie-key-for-the-test"}
    - {name: hook, type: webhook, url: %q}
`, ops.url, hook.url+"/hook")
	cfg := withMonitor(t, e.writePipelineConfig("mon.events", "mon_events", "{interval: 200ms, max_rows: 100000}", "    on_reject: {policy: pause}\n"), monitorSettings+alerts)
	consoleAddr, stageAddr := loopbackAddr(t), loopbackAddr(t)
	console := e.startProcess("", "console", "--config", cfg, "--http", consoleAddr)
	var last monitor.Report
	defer func() {
		if t.Failed() {
			data, _ := json.MarshalIndent(last, "", " ")
			t.Logf("last report: %s\nconsole log:\n%s\nstage logs:\n%s", data, console.tail(), e.stageLogTails())
		}
	}()
	// status waits until the pipeline has the status and check holds.
	status := func(want monitor.Status, timeout time.Duration, check func(monitor.PipelineReport) bool) monitor.PipelineReport {
		t.Helper()
		var p monitor.PipelineReport
		waitFor(t, timeout, "pipeline status "+string(want), func() bool {
			r, ok := monitorReport(t, consoleAddr)
			if !ok {
				return false
			}
			last = r
			p, ok = pipelineIn(r, "test")
			if ok && p.Error != "" {
				t.Logf("sample error: %s", p.Error)
			}
			return ok && p.Error == "" && len(p.Partitions) == 1 && p.Status == want && (check == nil || check(p))
		})
		return p
	}
	next := 0
	produce := func(n int) {
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Partition: 0, Value: gameEvent(next)}
			next++
		}
		produceTo(t, e, "mon.events", recs)
	}

	// OK: caught up.
	stage := e.startStage(cfg, "--http", stageAddr)
	produce(100)
	p := status(monitor.StatusOK, 60*time.Second, func(p monitor.PipelineReport) bool { return p.Lag == 0 && p.Processes == 1 && len(p.Partitions) == 1 })
	if got := p.Partitions[0]; got.Committed != 100 || got.End != 100 || got.Status != monitor.StatusOK {
		t.Errorf("caught up: partition %+v, want committed 100 = end, OK", got)
	}

	// PAUSED: a record of the wrong type under on_reject: pause; resumed with skip, back to OK.
	bad, _ := malformed(3)
	produceTo(t, e, "mon.events", []*kgo.Record{{Partition: 0, Value: bad}})
	produce(10)
	p = status(monitor.StatusPaused, 30*time.Second, nil)
	if !p.Paused || !strings.Contains(p.Detail, "record mon.events/0@100 rejected: wrong_type") {
		t.Errorf("paused pipeline: paused %v, detail %q", p.Paused, p.Detail)
	}
	resp, err := http.Post("http://"+stageAddr+"/api/v1/pipelines/test/resume?action=skip", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	status(monitor.StatusOK, 30*time.Second, func(p monitor.PipelineReport) bool { return p.Lag == 0 && !p.Paused })

	// STALL, then ERR: commits fail while the table's data directory is a file; back to OK once it is back.
	data := filepath.Join(e.dir, "warehouse", "staging.db", "mon_events", "data")
	if err := os.Rename(data, data+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	produce(20)
	p = status(monitor.StatusStall, 30*time.Second, nil)
	if !p.Failing || p.Lag != 20 {
		t.Errorf("stalled pipeline: failing %v, lag %d; want failing, lag 20", p.Failing, p.Lag)
	}
	status(monitor.StatusErr, 30*time.Second, func(p monitor.PipelineReport) bool { return p.Failing && p.Lag == 20 })
	// The alert on STALL or ERR reached both receivers, once (the console and the stage both evaluate it; the
	// holder of the alerts lease sends).
	const alias = `Stuck{pipeline="test"}`
	create := ops.wait(t, "the Opsgenie create", func(r received) bool { return r.path == "/v2/alerts" })
	if create.method != http.MethodPost || create.auth != "GenieKey genie-key-for-the-test" || create.contentType != "application/json" ||
		create.json["alias"] != alias || create.json["priority"] != "P1" || create.json["source"] != "bigfather" ||
		!strings.Contains(fmt.Sprint(create.json["message"]), "test") {
		t.Errorf("Opsgenie create: %+v", create)
	}
	fired := hook.wait(t, "the webhook's firing", func(r received) bool { return r.json["status"] == "firing" })
	if fired.path != "/hook" || fired.json["rule"] != "Stuck" || fired.json["severity"] != "critical" || fired.json["key"] != alias {
		t.Errorf("webhook firing: %+v", fired)
	}
	if err := os.Remove(data); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(data+".away", data); err != nil {
		t.Fatal(err)
	}
	status(monitor.StatusOK, 60*time.Second, func(p monitor.PipelineReport) bool { return p.Lag == 0 && !p.Failing })
	// Recovered: Opsgenie's alert is closed by alias, the webhook hears it resolved.
	closed := ops.wait(t, "the Opsgenie close", func(r received) bool { return strings.HasSuffix(r.path, "/close") })
	if closed.path != "/v2/alerts/"+url.PathEscape(alias)+"/close" || closed.query != "identifierType=alias" || closed.auth != "GenieKey genie-key-for-the-test" {
		t.Errorf("Opsgenie close: %+v", closed)
	}
	hook.wait(t, "the webhook's resolve", func(r received) bool { return r.json["status"] == "resolved" && r.json["key"] == alias })
	if n := ops.count(func(r received) bool { return r.path == "/v2/alerts" }); n != 1 {
		t.Errorf("%d Opsgenie creates, want 1", n)
	}
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d, want 0", code)
	}

	// WARN: a stage committing ten rows at a time falls behind a steady producer.
	slow := filepath.Join(e.dir, "slow.yaml")
	slowCfg, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(slow, []byte(strings.Replace(string(slowCfg), "{interval: 200ms, max_rows: 100000}", "{interval: 200ms, max_rows: 10}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stage = e.startStage(slow)
	ctx, stopProducing := context.WithCancel(context.Background())
	producing := make(chan struct{})
	go func() {
		defer close(producing)
		for ctx.Err() == nil {
			produce(100)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	status(monitor.StatusWarn, 60*time.Second, func(p monitor.PipelineReport) bool { return p.Lag > 0 })
	stopProducing()
	<-producing

	// STOP: nothing stages while records wait.
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("slow stage exited %d, want 0", code)
	}
	p = status(monitor.StatusStop, 30*time.Second, func(p monitor.PipelineReport) bool { return p.Processes == 0 })
	waiting := p.Lag
	if waiting <= 0 || p.LagSeconds <= 0 {
		t.Errorf("stopped pipeline: lag %d records, %.1f s; want both positive", p.Lag, p.LagSeconds)
	}

	// OK again once a stage catches up.
	stage = e.startStage(cfg)
	status(monitor.StatusOK, 60*time.Second, func(p monitor.PipelineReport) bool { return p.Lag == 0 && p.Processes == 1 })
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d, want 0", code)
	}

	// Someone else's consumer group: it reads and commits, then stops consuming while records wait (STOP);
	// its offsets reset backwards (REWIND).
	adm := kadm.NewClient(e.client())
	end := int64(next) + 1 // the skipped bad record is in the topic too
	commit := func(at int64) {
		t.Helper()
		offs := kadm.Offsets{}
		offs.AddOffset("mon.events", 0, at, -1)
		if err := adm.CommitAllOffsets(context.Background(), "analytics", offs); err != nil {
			t.Fatal(err)
		}
	}
	group := func(want monitor.Status, check func(monitor.GroupReport) bool) monitor.GroupReport {
		t.Helper()
		var g monitor.GroupReport
		waitFor(t, 30*time.Second, "group analytics "+string(want), func() bool {
			r, ok := monitorReport(t, consoleAddr)
			if !ok {
				return false
			}
			last = r
			g, ok = groupIn(r, "analytics")
			return ok && g.Status == want && (check == nil || check(g))
		})
		return g
	}
	commit(end - 30)
	g := group(monitor.StatusStop, nil)
	if g.Lag != 30 || len(g.Partitions) != 1 || g.Partitions[0].Committed != end-30 || g.Partitions[0].End != end || g.LagSeconds <= 0 {
		t.Errorf("stopped group: %+v, want lag 30 at %d of %d", g, end-30, end)
	}
	if _, ours := groupIn(last, "bigfather-test"); ours {
		t.Error("the pipeline's own group is listed among the other consumer groups")
	}
	commit(end - 80)
	group(monitor.StatusRewind, func(g monitor.GroupReport) bool { return g.Lag == 80 })
	commit(end)
	group(monitor.StatusOK, func(g monitor.GroupReport) bool { return g.Lag == 0 })

	// The statuses are metrics too.
	code, body := httpGet("http://" + consoleAddr + "/metrics")
	for _, want := range []string{
		`bigfather_pipeline_status{pipeline="test",status="OK"} 1`,
		`bigfather_partition_status{partition="0",pipeline="test",status="OK",topic="mon.events"} 1`,
		`bigfather_group_status{group="analytics",status="OK"} 1`,
		`bigfather_consumer_lag_records{partition="0",pipeline="test",topic="mon.events"} 0`,
		fmt.Sprintf(`bigfather_group_lag_records{group="analytics"} %d`, 0),
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// received is one request a local receiver got.
type received struct {
	method, path, query, auth, contentType string
	json                                   map[string]any
}

// receiver is an HTTP server on loopback that records every request and answers 202.
type receiver struct {
	url string
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := received{method: req.Method, path: req.URL.EscapedPath(), query: req.URL.RawQuery, auth: req.Header.Get("Authorization"),
			contentType: req.Header.Get("Content-Type")}
		_ = json.Unmarshal(body, &rec.json)
		r.mu.Lock()
		r.got = append(r.got, rec)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// wait waits for a request that match accepts and returns the first.
func (r *receiver) wait(t *testing.T, what string, match func(received) bool) received {
	t.Helper()
	var found received
	waitFor(t, 30*time.Second, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, g := range r.got {
			if match(g) {
				found = g
				return true
			}
		}
		return false
	})
	return found
}

func (r *receiver) count(match func(received) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if match(g) {
			n++
		}
	}
	return n
}
