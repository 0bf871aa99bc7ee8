package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/runbook"
	"github.com/bigfather/bigfather/internal/testbrowser"
)

// monitorShots are the screenshots the monitor script takes, in its order.
var monitorShots = []string{"monitor-history", "monitor", "monitor-paused", "runbook", "monitor-overview"}

// monitorPipeline is the pipeline the monitor test's config stages the demo into.
const monitorPipeline = "game-events"

// browserChart is a history chart as testdata/browser/monitor.mjs reads it from the page: its data-* attributes
// (first and last x in Unix seconds) and its canvas's size in CSS pixels.
type browserChart struct {
	ID            string
	Points, Gaps  int
	First, Last   float64
	Width, Height int
}

// monitorSeen is what testdata/browser/monitor.mjs reports seeing; JSON fields match case-insensitively.
type monitorSeen struct {
	Charts         []browserChart
	HistoryCaption string
	RangePressed   string
	Range          struct {
		Pressed, URL string
		Charts       int
	}
	Checks             []struct{ Name, OK, Text string }
	Status, StatusLink string
	Brokers            string
	Kafka              []string
	BrokerRows         [][]string
	AlertsCard         string
	RulesSummary       string
	Tables             []struct{ Table, Pipeline, Freshness string }
	Nav                []string
	NavCurrent         string
	Redrawn            bool
	PartitionsOpen     bool
	Partitions         []struct{ Topic, Partition, Status string }
	PausedAlert        struct{ Severity, State, Rule, Summary, Runbook string }
	PausedHeading      string
	PausedLink         string
	Runbook            struct {
		Path, Title, Meaning string
		Confirm              int
		Actions, Rules       []string
		NavCurrent           string
	}
	ResumedStatus string
	RunbookList   []string
	Sparks        []browserChart
	Shots         []string
	Took          map[string]int
}

// historyPoint is a point of GET /api/v1/pipelines/{name}/history.
type historyPoint struct {
	At     time.Time
	Lag    int64
	Status string
}

// writeMonitorConfig writes the config the monitor test runs `up` with: the embedded broker (no kafka.brokers),
// the catalog and warehouse under dir, the monitor sampling every second, and one pipeline staging the demo's
// topic every second.
func writeMonitorConfig(t *testing.T, dir string) string {
	t.Helper()
	cfg := fmt.Sprintf(`warehouse: %s
catalog:
  uri: sqlite://%s
monitor: {interval: 1s, window: 5}
pipelines:
  - name: %s
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by: ["day(event_time)"]%s
    commit: {interval: 1s}
`, filepath.Join(dir, "warehouse"), filepath.Join(dir, "catalog.db"), monitorPipeline, testColumns)
	path := filepath.Join(dir, "bigfather.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startMonitorUp starts `bigfather up --demo --config cfg` on dir's data with its console on httpAddr and its
// broker on brokerAddr, logging to dir/name.log; it is killed when the test ends, unless stopped.
func startMonitorUp(t *testing.T, dir, name, cfg, httpAddr, brokerAddr string) *demoProc {
	t.Helper()
	p := &demoProc{log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binPath, "up", "--demo", "--config", cfg, "--data", filepath.Join(dir, "data"), "--http", httpAddr,
		"--broker-listen", brokerAddr, "--demo-rate", "200")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s log (end):\n%s", name, lastBytes(readFile(p.log), 4000))
		}
	})
	return p
}

// pipelineHistory reads the pipeline's history points.
func pipelineHistory(base string) ([]historyPoint, error) {
	var h struct{ Points []historyPoint }
	err := getJSON(base+"/api/v1/pipelines/"+monitorPipeline+"/history", &h)
	return h.Points, err
}

// TestMonitorBrowser is the monitoring acceptance test (issue 9, acceptance 5): the history survives a restart
// and the console's charts show it. `bigfather up --demo` samples every second until the pipeline's history
// holds ten points, stops (SIGTERM, exit 0), stays down for a few seconds and starts again on the same data
// directory; headless Chromium then checks that the pipeline page's charts start at the oldest point from
// before the restart, end after it and show the downtime as a gap; that the Monitor page shows the readiness
// checks passing, the pipeline's status with its partitions, the alerts and the one reachable broker, and
// follows a pause and a resume; that a status badge opens its runbook; and that the overview draws the last
// hour. Screenshots go to $BIGFATHER_SCREENSHOTS when set:
//
//	BIGFATHER_SCREENSHOTS=docs/screenshots go test ./cmd/bigfather -run TestMonitorBrowser
func TestMonitorBrowser(t *testing.T) {
	testbrowser.Require(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	cfg := writeMonitorConfig(t, dir)
	httpAddr, brokerAddr := loopbackAddr(t), loopbackAddr(t)
	base := "http://" + httpAddr

	first := startMonitorUp(t, dir, "up-1", cfg, httpAddr, brokerAddr)
	var before []historyPoint
	waitFor(t, 90*time.Second, "ten history points before the restart", func() bool {
		pts, err := pipelineHistory(base)
		before = pts
		return err == nil && len(pts) >= 10
	})
	oldest := before[0].At
	first.stop(t)
	stopped := time.Now()
	// Down for a few samples, so the charts have a gap to show.
	time.Sleep(3 * time.Second)

	second := startMonitorUp(t, dir, "up-2", cfg, httpAddr, brokerAddr)
	waitFor(t, 60*time.Second, "ready again after the restart", func() bool {
		code, body := httpGet(base + "/readyz")
		return code == http.StatusOK && strings.HasPrefix(body, `{"status":"ready"`)
	})
	var after []historyPoint
	waitFor(t, 30*time.Second, "three history points after the restart", func() bool {
		pts, err := pipelineHistory(base)
		after = pts
		n := 0
		for _, p := range pts {
			if p.At.After(stopped) {
				n++
			}
		}
		return err == nil && n >= 3
	})
	if !after[0].At.Equal(oldest) {
		t.Fatalf("after the restart the history starts at %s, before it at %s: the history did not survive", after[0].At, oldest)
	}
	report, ok := monitorReport(t, httpAddr)
	if !ok {
		t.Fatal("GET /api/v1/monitor failed after the restart")
	}
	apiPipeline, ok := pipelineIn(report, monitorPipeline)
	if !ok {
		t.Fatalf("the monitor report lacks %s: %+v", monitorPipeline, report)
	}
	var rules struct {
		Items []struct{ Name, Runbook string }
	}
	if err := getJSON(base+"/api/v1/alerts/rules", &rules); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	out := testbrowser.RunTimeout(t, "testdata/browser/monitor.mjs", map[string]string{
		"BASE_URL": base,
		"SHOT_DIR": shots,
		"PIPELINE": monitorPipeline,
	}, 2*time.Minute)
	t.Logf("browser script ran %s", time.Since(start).Round(time.Millisecond))
	var seen monitorSeen
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &seen); err != nil {
		t.Fatalf("the script's report is not one JSON line: %v\n%s", err, out)
	}
	t.Logf("steps took (ms): %v", seen.Took)

	t.Run("history charts span the restart", func(t *testing.T) {
		var ids []string
		for _, c := range seen.Charts {
			ids = append(ids, c.ID)
		}
		if want := []string{"rate", "lag", "delay", "commit"}; !slices.Equal(ids, want) {
			t.Fatalf("history charts %q, want %q", ids, want)
		}
		for _, c := range seen.Charts {
			if c.First != float64(oldest.Unix()) {
				t.Errorf("chart %s starts at %s, want the oldest point from before the restart, %s",
					c.ID, time.Unix(int64(c.First), 0).UTC(), oldest)
			}
			if c.Last < float64(stopped.Unix()) {
				t.Errorf("chart %s ends at %s, before the process was stopped at %s: no point after the restart",
					c.ID, time.Unix(int64(c.Last), 0).UTC(), stopped.UTC())
			}
			if c.Points < len(before)+3 {
				t.Errorf("chart %s has %d points, want at least the %d from before the restart and 3 after", c.ID, c.Points, len(before))
			}
			if c.Gaps < 1 {
				t.Errorf("chart %s shows %d gaps, want one where the process was down", c.ID, c.Gaps)
			}
			if c.Width < 200 || c.Height < 100 {
				t.Errorf("chart %s has a %dx%d canvas, want one drawn", c.ID, c.Width, c.Height)
			}
		}
		if !strings.Contains(seen.HistoryCaption, " points since ") || seen.RangePressed != "true" {
			t.Errorf("history caption %q, 1 h pressed %q; want \"N points since HH:MM:SS\" and the 1 h range pressed",
				seen.HistoryCaption, seen.RangePressed)
		}
		if seen.Range.Pressed != "true" || seen.Range.URL != "?range=6h" || seen.Range.Charts != 4 {
			t.Errorf("after picking 6 h: %+v; want it pressed, ?range=6h in the URL and 4 charts", seen.Range)
		}
	})

	t.Run("monitor page", func(t *testing.T) {
		var checks []string
		for _, c := range seen.Checks {
			checks = append(checks, c.Name+"="+c.OK)
			if c.OK == "true" && !strings.Contains(c.Text, "passing") {
				t.Errorf("check %s shows %q, want it passing", c.Name, c.Text)
			}
		}
		if want := []string{"kafka=true", "catalog=true", "warehouse=true", "pipelines=true"}; !slices.Equal(checks, want) {
			t.Errorf("readiness checks %q, want %q", checks, want)
		}
		if seen.Status != "OK" && seen.Status != "WARN" {
			t.Errorf("%s's status on the Monitor page is %q, want OK (or WARN); the API said %s", monitorPipeline, seen.Status, apiPipeline.Status)
		}
		if want := map[string]string{"OK": "/ui/runbooks", "WARN": "/ui/runbooks/warn"}[seen.Status]; seen.StatusLink != want {
			t.Errorf("the %s badge links %q, want %q", seen.Status, seen.StatusLink, want)
		}
		if seen.Brokers != "1 of 1 reachable" || len(seen.BrokerRows) != 1 || seen.BrokerRows[0][1] != brokerAddr || seen.BrokerRows[0][2] != "yes" {
			t.Errorf("Kafka: brokers %q, rows %q; want 1 of 1 reachable, %s reachable", seen.Brokers, seen.BrokerRows, brokerAddr)
		}
		// Brokers, topics, partitions, under-replicated, offline.
		if want := []string{"1 of 1 reachable", fmt.Sprint(report.Kafka.Topics), fmt.Sprint(report.Kafka.Partitions), "0", "0"}; !slices.Equal(seen.Kafka, want) {
			t.Errorf("Kafka cluster %q, want %q", seen.Kafka, want)
		}
		if !strings.Contains(seen.AlertsCard, "No alert is firing or pending.") && !strings.Contains(seen.AlertsCard, "Runbook") {
			t.Errorf("the alerts section shows neither alerts nor that there are none:\n%s", seen.AlertsCard)
		}
		if want := fmt.Sprintf("Alert rules (%d)", len(rules.Items)); seen.RulesSummary != want || len(rules.Items) == 0 {
			t.Errorf("alert rules summary %q, want %q", seen.RulesSummary, want)
		}
		var tables []string
		for _, tb := range seen.Tables {
			tables = append(tables, tb.Table+"@"+tb.Pipeline)
			if !strings.HasSuffix(tb.Freshness, " s") && !strings.HasSuffix(tb.Freshness, " min") {
				t.Errorf("table %s freshness %q, want a duration", tb.Table, tb.Freshness)
			}
		}
		if want := []string{"staging.game_events@" + monitorPipeline, "staging.game_events_rejected@" + monitorPipeline}; !slices.Equal(tables, want) {
			t.Errorf("tables %q, want %q", tables, want)
		}
		if want := []string{"Overview", "Topics", "Pipelines", "Monitor", "Tables", "Schemas", "SQL", "Metrics", "Audit log"}; !slices.Equal(seen.Nav, want) || seen.NavCurrent != "monitor" {
			t.Errorf("navigation %q (current %q), want %q (current monitor)", seen.Nav, seen.NavCurrent, want)
		}
		if !seen.Redrawn || !seen.PartitionsOpen {
			t.Errorf("redrawn %v, partitions still open %v; want the page to refresh and keep them open", seen.Redrawn, seen.PartitionsOpen)
		}
		if len(seen.Partitions) != len(apiPipeline.Partitions) || len(seen.Partitions) == 0 {
			t.Fatalf("%d partition rows, the API reports %d", len(seen.Partitions), len(apiPipeline.Partitions))
		}
		for i, p := range seen.Partitions {
			if p.Topic != "game.events" || p.Partition != fmt.Sprint(apiPipeline.Partitions[i].Partition) || !slices.Contains(monitor.Statuses, monitor.Status(p.Status)) {
				t.Errorf("partition row %d: %+v", i, p)
			}
		}
	})

	t.Run("pause shows and links its runbook", func(t *testing.T) {
		a := seen.PausedAlert
		if a.Severity != "warning" || a.State != "firing" || a.Rule != "BigFatherPipelinePaused" || a.Runbook != "/ui/runbooks/paused" ||
			!strings.Contains(a.Summary, monitorPipeline) {
			t.Errorf("paused alert %+v, want BigFatherPipelinePaused firing, warning, about %s, runbook /ui/runbooks/paused", a, monitorPipeline)
		}
		if seen.PausedHeading != "Alerts: 1 firing" || seen.PausedLink != "/ui/runbooks/paused" {
			t.Errorf("while paused: alerts heading %q, status link %q", seen.PausedHeading, seen.PausedLink)
		}
		rb, ok := runbook.Get("paused")
		if !ok {
			t.Fatal("no runbook paused")
		}
		got := seen.Runbook
		if got.Path != "/ui/runbooks/paused" || got.Title != rb.Title || got.Confirm != len(rb.Confirm) || len(got.Actions) != len(rb.Actions) ||
			got.NavCurrent != "monitor" {
			t.Errorf("runbook page %+v, want %s with %d checks and %d actions", got, rb.Title, len(rb.Confirm), len(rb.Actions))
		}
		if len(got.Actions) > 0 && got.Actions[0] != strings.ReplaceAll(rb.Actions[0], "`", "") {
			t.Errorf("first action %q, want %q", got.Actions[0], rb.Actions[0])
		}
		if !slices.Contains(got.Rules, "BigFatherPipelinePaused") {
			t.Errorf("the runbook lists rules %q, want BigFatherPipelinePaused among them", got.Rules)
		}
		if seen.ResumedStatus == "PAUSED" || seen.ResumedStatus == "" {
			t.Errorf("after resume the status is %q", seen.ResumedStatus)
		}
		if !slices.Equal(seen.RunbookList, runbook.IDs()) {
			t.Errorf("the runbooks page lists %q, want %q", seen.RunbookList, runbook.IDs())
		}
	})

	t.Run("overview draws the last hour", func(t *testing.T) {
		var ids []string
		for _, c := range seen.Sparks {
			ids = append(ids, c.ID)
			if c.Points < len(before) || c.First != float64(oldest.Unix()) || c.Width == 0 || c.Height == 0 {
				t.Errorf("overview chart %+v, want every point since %s drawn", c, oldest)
			}
		}
		if want := []string{"rate:" + monitorPipeline, "lag:" + monitorPipeline}; !slices.Equal(ids, want) {
			t.Errorf("overview charts %q, want %q", ids, want)
		}
	})

	t.Run("screenshots", func(t *testing.T) { checkScreenshots(t, shots, monitorShots, seen.Shots) })

	second.stop(t)
}
