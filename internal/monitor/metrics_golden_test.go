package monitor_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/monitor"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the metrics a bigfather up process registers")

// goldenFile holds the name, type and label names of every metric family a `bigfather up` process exports,
// apart from the Go runtime's (go_*) and the process's (process_*).
const goldenFile = "testdata/metrics.golden"

const updateHint = "go test ./internal/monitor -run TestMetricsGolden -update"

// Label values of the populated registry: one pipeline reading one topic into one table, like the README's.
const (
	pipeline  = "game-events"
	table     = "staging.game_events"
	topic     = "game.events"
	partition = "0"
	group     = "analytics"
)

// upMetrics builds every collector a `bigfather up` process registers on one registry (monitor.NewMetricsWith,
// monitor.NewMaintenanceMetrics and the alert engine's), sets at least one series of each, and returns the
// registry with a handler serving it the way internal/server serves /metrics.
func upMetrics(t *testing.T) (*prometheus.Registry, http.Handler) {
	t.Helper()
	m := monitor.NewMetricsWith(monitor.MetricsOptions{FreshnessSLO: 5 * time.Minute})
	mm := monitor.NewMaintenanceMetrics(m.Registry)

	// The alert engine sets a firing series per rule and a notification series per receiver and result
	// when it starts. Its receiver posts to a real server.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(hook.Close)
	recv, err := alert.NewReceiver(config.AlertReceiver{Name: "ops", Type: config.ReceiverWebhook, URL: hook.URL}, hook.Client())
	if err != nil {
		t.Fatal(err)
	}
	mon := config.Monitor{Interval: 10 * time.Second, Window: 6, FreshnessSLO: 5 * time.Minute, Groups: true}
	eng, err := alert.New(alert.BuiltinRules(mon), []alert.Receiver{recv}, m.Registry, alert.WithRegisterer(m.Registry))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)

	now := float64(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix())
	m.RecordsConsumed.WithLabelValues(pipeline).Add(1200)
	m.ConsumedBytes.WithLabelValues(pipeline).Add(240_000)
	m.RowsCommitted.WithLabelValues(pipeline, table).Add(1180)
	m.CommittedBytes.WithLabelValues(pipeline, table).Add(81_920)
	m.RowsRejected.WithLabelValues(pipeline, "not_json").Add(12)
	m.RowsFiltered.WithLabelValues(pipeline, "drop_test_players").Add(5)
	m.Duplicates.WithLabelValues(pipeline).Add(3)
	m.DedupIDs.WithLabelValues(pipeline).Set(1180)
	m.SequenceGaps.WithLabelValues(pipeline).Inc()
	m.OutOfOrder.WithLabelValues(pipeline).Inc()
	m.MissingRecords.WithLabelValues(pipeline).Set(1)
	m.Paused.WithLabelValues(pipeline).Set(0)
	m.Commits.WithLabelValues(pipeline, table, "ok").Add(3)
	m.Commits.WithLabelValues(pipeline, table, "conflict").Inc()
	m.CommitDuration.WithLabelValues(pipeline, table).Observe(0.42)
	m.CommitFiles.WithLabelValues(pipeline, table).Observe(2)
	m.FileSize.WithLabelValues(pipeline, table).Observe(40_960)
	m.BatchesDiscarded.WithLabelValues(pipeline, "fenced").Inc()
	m.BufferedRows.WithLabelValues(pipeline).Set(20)
	m.BufferedBytes.WithLabelValues(pipeline).Set(4_000)
	m.Rebalances.WithLabelValues(pipeline, "assigned").Inc()
	m.LastCommit.WithLabelValues(table).Set(now)
	m.NewestEvent.WithLabelValues(table).Set(now - 4)
	counts := m.EndToEnd.NewCounts()
	counts.Observe(1.7)
	counts.Observe(2.4)
	m.EndToEnd.Add(pipeline, counts)
	m.ProbeRecords.WithLabelValues(pipeline).Add(6)
	m.ProbeLatency.WithLabelValues(pipeline).Observe(1.9)
	m.ProbePending.WithLabelValues(pipeline).Set(0)

	// What the watcher exports from its report.
	m.ConsumerLag.WithLabelValues(pipeline, topic, partition).Set(0)
	m.LagSeconds.WithLabelValues(pipeline, topic, partition).Set(0)
	for _, s := range monitor.Statuses {
		ok := boolFloat(s == monitor.StatusOK)
		m.PartitionStatus.WithLabelValues(pipeline, topic, partition, string(s)).Set(ok)
		m.PipelineStatus.WithLabelValues(pipeline, string(s)).Set(ok)
		m.GroupStatus.WithLabelValues(group, string(s)).Set(ok)
	}
	m.GroupLag.WithLabelValues(group).Set(30)
	m.GroupLagSeconds.WithLabelValues(group).Set(12.5)
	m.TableFreshness.WithLabelValues(table).Set(0)
	m.TableEventAge.WithLabelValues(table).Set(4)
	for _, c := range []string{"kafka", "catalog", "warehouse", "pipelines"} {
		m.ReadyCheck.WithLabelValues(c).Set(1)
	}
	m.KafkaBrokers.WithLabelValues("reachable").Set(3)
	m.KafkaBrokers.WithLabelValues("unreachable").Set(0)
	m.KafkaTopics.Set(4)
	m.KafkaPartitions.Set(32)
	m.KafkaUnderRepl.Set(0)
	m.KafkaOffline.Set(1)

	// What the HTTP server counts.
	m.HTTPRequests.WithLabelValues("api", http.MethodGet, "200").Inc()
	m.HTTPDuration.WithLabelValues("api").Observe(0.012)

	// What table maintenance sets.
	mm.DataFiles.WithLabelValues(table).Set(12)
	mm.SmallFiles.WithLabelValues(table).Set(2)
	mm.Snapshots.WithLabelValues(table).Set(40)
	mm.FilesRewritten.WithLabelValues(table).Add(9)
	mm.BytesRemoved.WithLabelValues(table).Add(1 << 20)
	mm.Runs.WithLabelValues(table, "ok").Inc()
	mm.LastRun.WithLabelValues(table).Set(now)

	// One alert fires (BigFatherKafkaPartitionsOffline holds for a minute) and its notification is delivered.
	at := time.Unix(int64(now), 0)
	for _, t0 := range []time.Time{at, at.Add(2 * time.Minute)} {
		if err := eng.Evaluate(context.Background(), t0); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Flush(ctx); err != nil {
		t.Fatalf("delivering the alert: %v", err)
	}
	if got := len(eng.Firing()); got != 1 {
		t.Fatalf("%d alerts firing, want 1 (BigFatherKafkaPartitionsOffline): %+v", got, eng.Firing())
	}

	// internal/server serves /metrics with this handler, which registers promhttp's error counter too.
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
	return m.Registry, h
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// runtimeMetric reports whether name is the Go runtime's or the process's: their names come with
// client_golang, not from Big Father, so the golden file leaves them out.
func runtimeMetric(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// familyLines returns one line per gathered family, `name type label,label` (label names sorted), sorted.
func familyLines(families []*dto.MetricFamily) []string {
	var out []string
	for _, f := range families {
		if runtimeMetric(f.GetName()) {
			continue
		}
		var labels []string
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		slices.Sort(labels)
		line := f.GetName() + " " + strings.ToLower(f.GetType().String())
		if len(labels) > 0 {
			line += " " + strings.Join(labels, ",")
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

// readGolden returns the golden file's lines without comments and blank lines.
func readGolden(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run `%s` to write it)", err, updateHint)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

const goldenHeader = `# The metric families a bigfather up process exports (go_* and process_* left out): name, type and label
# names. Alert rules, runbooks and deploy/grafana/bigfather.json use these names, so a change here is a change
# users see. Written by ` + "`" + updateHint + "`" + `.
`

// describedNames returns the name of every metric family the registry's collectors describe.
func describedNames(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	fqName := regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)
	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	var names []string
	for d := range ch {
		mt := fqName.FindStringSubmatch(d.String())
		if mt == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		if !runtimeMetric(mt[1]) && !slices.Contains(names, mt[1]) {
			names = append(names, mt[1])
		}
	}
	slices.Sort(names)
	return names
}

// TestMetricsGolden: the metric families a `bigfather up` process exports, with their types and label names,
// are exactly testdata/metrics.golden, so a rename or a relabelling is a deliberate change of that file.
// Every registered family has a series in the test, so none escapes the file.
func TestMetricsGolden(t *testing.T) {
	reg, _ := upMetrics(t)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := familyLines(families)
	gathered := map[string]bool{}
	for _, f := range families {
		gathered[f.GetName()] = true
	}
	for _, name := range describedNames(t, reg) {
		if !gathered[name] {
			t.Errorf("%s is registered but upMetrics sets no series of it, so the golden file cannot hold it: set one in upMetrics", name)
		}
	}
	if *update {
		if err := os.WriteFile(goldenFile, []byte(goldenHeader+strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := diffFamilies(readGolden(t), got); diff != "" {
		t.Errorf("the exported metrics differ from %s:\n%s\nIf the change is deliberate, run `%s`, and update the alert rules (internal/alert), runbooks (internal/runbook) and deploy/grafana/bigfather.json that use the old names.",
			goldenFile, diff, updateHint)
	}
}

// diffFamilies says which families were removed, added or changed (type or label names) from want to got.
func diffFamilies(want, got []string) string {
	byName := func(lines []string) map[string]string {
		m := map[string]string{}
		for _, l := range lines {
			name, _, _ := strings.Cut(l, " ")
			m[name] = l
		}
		return m
	}
	w, g := byName(want), byName(got)
	var b strings.Builder
	for _, l := range want {
		name, _, _ := strings.Cut(l, " ")
		switch now, ok := g[name]; {
		case !ok:
			fmt.Fprintf(&b, "  removed: %s\n", l)
		case now != l:
			fmt.Fprintf(&b, "  changed: %s\n       to: %s\n", l, now)
		}
	}
	for _, l := range got {
		if name, _, _ := strings.Cut(l, " "); w[name] == "" {
			fmt.Fprintf(&b, "  added:   %s\n", l)
		}
	}
	return b.String()
}

// TestDiffFamilies: the golden test's message names each removed, added and changed family.
func TestDiffFamilies(t *testing.T) {
	want := []string{"a_total counter pipeline", "b gauge table", "c gauge"}
	got := []string{"a_total counter pipeline,table", "c gauge", "d_seconds histogram pipeline"}
	const expected = "  changed: a_total counter pipeline\n       to: a_total counter pipeline,table\n" +
		"  removed: b gauge table\n" +
		"  added:   d_seconds histogram pipeline\n"
	if d := diffFamilies(want, got); d != expected {
		t.Errorf("diff:\n%s\nwant:\n%s", d, expected)
	}
	if d := diffFamilies(want, want); d != "" {
		t.Errorf("diff of equal lists: %q, want none", d)
	}
}

// promtoolPath returns promtool's path (Debian's prometheus package), or skips the test when it is missing
// and BIGFATHER_SKIP_PROMTOOL=1.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("BIGFATHER_SKIP_PROMTOOL") == "1" {
			t.Skip("promtool is not installed and BIGFATHER_SKIP_PROMTOOL=1")
		}
		t.Fatal("promtool is not on PATH: install it (apt-get install -y prometheus) or set BIGFATHER_SKIP_PROMTOOL=1 to skip this test")
	}
	return path
}

// checkMetrics pipes an exposition to `promtool check metrics` and fails the test with what it reports.
func checkMetrics(t *testing.T, promtool string, exposition []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetricsPromtool: the /metrics exposition of a populated registry passes `promtool check metrics`
// without a lint problem.
func TestMetricsPromtool(t *testing.T) {
	promtool := promtoolPath(t)
	_, h := upMetrics(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(`bigfather_pipeline_status{pipeline="game-events",status="OK"} 1`)) {
		t.Fatalf("the exposition lacks the populated series:\n%s", body)
	}
	checkMetrics(t, promtool, body)
}
