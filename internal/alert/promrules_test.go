package alert

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/runbook"
)

// promtool returns the path of promtool (Debian's prometheus package), or skips the test when it is missing
// and BIGFATHER_SKIP_PROMTOOL=1.
func promtool(t *testing.T) string {
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

// testConfig has every kind of rule: the built-in ones and custom ones with matchers, by, every operator,
// labels, literal braces and each placeholder.
const testConfig = `alerts:
  console_url: https://bf.example.com
  rules:
    - {name: LagHigh, metric: bigfather_consumer_lag_records, match: {pipeline: "game-events", topic: "a\"b"}, op: ">", value: 1e6, for: 90s, labels: {team: data}}
    - {name: LagLowest, metric: bigfather_consumer_lag_seconds, by: [pipeline, topic], op: "<=", value: 0.5}
    - {name: Ready, metric: bigfather_ready_check, op: "!=", value: 1, summary: "check {check} is {value}; literal {{braces}}, {{{{double}}}}, {{{value}}} and {nolabel}"}
    - {name: Same, metric: bigfather_kafka_partitions_offline, op: "==", value: 2, runbook: "https://wiki.example.com/kafka?id=1"}
    - {name: AtLeast, metric: bigfather_table_small_files, op: ">=", value: 10, severity: info}
    - {name: Below, metric: bigfather_group_lag_records, op: "<", value: -1, severity: error}
    - {name: PartitionBroken, status: [STOP, STALL, ERR], scope: partition, match: {pipeline: game-events}, for: 1h30m, severity: critical}
    - {name: GroupRewind, status: REWIND, scope: group, runbook: rewind}
pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events, columns: [{name: id, type: string}]}
`

func testRules(t *testing.T) []Rule {
	t.Helper()
	cfg, err := config.Parse("rules.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := Rules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// TestPrometheusRulesCheck: the exported file of the built-in and custom rules passes `promtool check rules`,
// and holds each rule's expression, for, labels and annotations exactly.
func TestPrometheusRulesCheck(t *testing.T) {
	rules := testRules(t)
	data, err := PrometheusRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bigfather.rules.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool(t), "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, data)
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(rules)); !strings.Contains(string(out), want) {
		t.Errorf("promtool says %q, want %q", out, want)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Groups) != 1 || file.Groups[0].Name != "bigfather" || len(file.Groups[0].Rules) != len(rules) {
		t.Fatalf("groups: %+v", file.Groups)
	}
	got := map[string]string{}
	for _, r := range file.Groups[0].Rules {
		got[r.Alert] = fmt.Sprintf("%s | for %s | %v | %v", r.Expr, r.For, r.Labels, r.Annotations)
	}
	for name, want := range map[string]string{
		RulePipelineError: `max without (status) (bigfather_pipeline_status{status="ERR"}) == 1 | for  | map[severity:critical] | ` +
			`map[runbook_url:https://bf.example.com/ui/runbooks/err summary:pipeline {{ $labels.pipeline }} is ERR: its commits keep failing]`,
		RulePipelineStalled: `max without (status) (bigfather_pipeline_status{status="STALL"}) == 1 | for 1m40s | map[severity:error] | ` +
			`map[runbook_url:https://bf.example.com/ui/runbooks/stall summary:pipeline {{ $labels.pipeline }} is STALL: it runs but its offsets do not move]`,
		RuleConsumerGroupStopped: `max without (status) (bigfather_group_status{status=~"STOP|STALL|ERR"}) == 1 | for 1m40s | map[severity:warning] | ` +
			`map[runbook_url:https://bf.example.com/ui/runbooks/consumer-group summary:consumer group {{ $labels.group }} is ` +
			`{{ with printf "bigfather_group_status{group=%q} == 1" $labels.group | query }}{{ . | first | label "status" }}{{ end }}: its offsets do not move while records wait]`,
		RuleLagAboveSLO: `max by (pipeline) (bigfather_consumer_lag_seconds) > 300 | for  | map[severity:warning] | ` +
			`map[runbook_url:https://bf.example.com/ui/runbooks/lag-slo summary:pipeline {{ $labels.pipeline }} lags {{ $value | humanizeDuration }} behind, more than the freshness objective of 5m]`,
		RuleNotReady:        `bigfather_ready_check == 0 | for 2m | map[severity:critical] | map[runbook_url:https://bf.example.com/ui/runbooks/not-ready summary:readiness check {{ $labels.check }} fails]`,
		RuleTableSmallFiles: `bigfather_table_small_files > 1000 | for 1h | map[severity:warning] | map[runbook_url:https://bf.example.com/ui/runbooks/table-small-files summary:table {{ $labels.table }} has {{ $value }} small data files]`,
		"LagHigh": `bigfather_consumer_lag_records{pipeline="game-events", topic="a\"b"} > 1e+06 | for 1m30s | map[severity:warning team:data] | ` +
			`map[summary:bigfather_consumer_lag_records is {{ $value }}, above 1e+06]`,
		"LagLowest": `min by (pipeline, topic) (bigfather_consumer_lag_seconds) <= 0.5 | for  | map[severity:warning] | ` +
			`map[summary:bigfather_consumer_lag_seconds of pipeline {{ $labels.pipeline }}, topic {{ $labels.topic }} is {{ $value }}, at or below 0.5]`,
		"Ready": `bigfather_ready_check != 1 | for  | map[severity:warning] | ` +
			`map[summary:check {{ $labels.check }} is {{ $value }}; literal {braces}, {{ "{{" }}double}}, {{ "{" }}{{ $value }}} and {{ $labels.nolabel }}]`,
		"Same":    `bigfather_kafka_partitions_offline == 2 | for  | map[severity:warning] | map[runbook_url:https://wiki.example.com/kafka?id=1 summary:bigfather_kafka_partitions_offline is {{ $value }}, equal to 2]`,
		"AtLeast": `bigfather_table_small_files >= 10 | for  | map[severity:info] | map[summary:bigfather_table_small_files is {{ $value }}, at or above 10]`,
		"Below":   `bigfather_group_lag_records < -1 | for  | map[severity:error] | map[summary:bigfather_group_lag_records is {{ $value }}, below -1]`,
		"PartitionBroken": `max without (status) (bigfather_partition_status{pipeline="game-events", status=~"STOP|STALL|ERR"}) == 1 | for 1h30m | map[severity:critical] | ` +
			`map[summary:partition {{ $labels.topic }}/{{ $labels.partition }} of pipeline {{ $labels.pipeline }} is ` +
			`{{ with printf "bigfather_partition_status{pipeline=%q,topic=%q,partition=%q} == 1" $labels.pipeline $labels.topic $labels.partition | query }}{{ . | first | label "status" }}{{ end }}]`,
	} {
		if got[name] != want {
			t.Errorf("rule %s:\n got %s\nwant %s", name, got[name], want)
		}
	}
}

// TestBuiltinRules: the built-in rules have unique names with the reserved prefix, a runbook that exists, and
// For derived from the monitor's window; the consumer-group rule exists only when groups are monitored.
func TestBuiltinRules(t *testing.T) {
	mon := config.Monitor{Interval: 10 * time.Second, Window: 10, History: time.Hour, FreshnessSLO: 5 * time.Minute, Groups: true}
	rules := BuiltinRules(mon)
	names := map[string]bool{}
	for _, r := range rules {
		if err := r.check(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(r.Name, config.BuiltinRulePrefix) || names[r.Name] {
			t.Errorf("rule name %q: not prefixed or not unique", r.Name)
		}
		names[r.Name] = true
		if _, ok := runbook.Get(r.Runbook); !ok {
			t.Errorf("rule %s: runbook %q does not exist", r.Name, r.Runbook)
		}
		if r.Summary == "" {
			t.Errorf("rule %s has no summary", r.Name)
		}
	}
	for _, name := range []string{RulePipelineError, RulePipelineStopped, RulePipelineStalled, RulePipelineRewind, RulePipelinePaused,
		RulePipelineLagGrowing, RuleConsumerGroupStopped, RuleTableNotFresh, RuleLagAboveSLO, RuleNotReady, RuleKafkaPartitionsOffline,
		RuleKafkaUnderReplicated, RuleTableSmallFiles} {
		if !names[name] {
			t.Errorf("no built-in rule %s", name)
		}
	}
	byName := map[string]Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	if r := byName[RulePipelineStalled]; r.For != 100*time.Second || !slices.Equal(r.Statuses, []string{"STALL"}) || r.Severity != Error {
		t.Errorf("stalled rule: %+v", r)
	}
	if r := byName[RuleTableNotFresh]; r.Value != 300 || r.Metric != "bigfather_table_freshness_seconds" {
		t.Errorf("freshness rule: %+v", r)
	}
	mon.Groups, mon.FreshnessSLO, mon.Window = false, time.Hour, 3
	for _, r := range BuiltinRules(mon) {
		if r.Name == RuleConsumerGroupStopped {
			t.Error("the consumer group rule is built in although monitor.groups is false")
		}
		if r.Name == RuleLagAboveSLO && (r.Value != 3600 || !strings.HasSuffix(r.Summary, "objective of 1h")) {
			t.Errorf("lag rule with a 1h objective: %+v", r)
		}
		if r.Name == RulePipelineLagGrowing && r.For != 30*time.Second {
			t.Errorf("WARN rule's for with a 3-sample window = %s, want 30s", r.For)
		}
	}
}

// TestRulesFromConfig: built-in rules come first unless turned off, then the configured ones, with runbook
// links resolved against the console URL (or the http address).
func TestRulesFromConfig(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte("http: 0.0.0.0:9090\n"+testConfig[strings.Index(testConfig, "pipelines:"):]))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := Rules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if want := "http://" + host + ":9090/ui/runbooks/err"; rules[0].Name != RulePipelineError || rules[0].RunbookURL != want {
		t.Errorf("first rule %s, runbook URL %q; want %s, %q", rules[0].Name, rules[0].RunbookURL, RulePipelineError, want)
	}
	cfg.Alerts.Builtin = false
	cfg.Alerts.Rules = []config.AlertRule{{Name: "Mine", Status: []string{"STOP"}, Scope: "pipeline", Runbook: "stop"}}
	cfg.Alerts.ConsoleURL = "https://bf.example.com/"
	rules, err = Rules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Severity != Warning || rules[0].RunbookURL != "https://bf.example.com/ui/runbooks/stop" {
		t.Errorf("rules = %+v", rules)
	}
	if u := ConsoleURL(&config.Config{HTTP: "127.0.0.1:8080"}); u != "http://127.0.0.1:8080" {
		t.Errorf("ConsoleURL = %s", u)
	}
}

// TestHumanizeSeconds: durations read as Prometheus's humanizeDuration writes them.
func TestHumanizeSeconds(t *testing.T) {
	for v, want := range map[float64]string{0: "0s", 0.25: "250ms", 0.0005: "500us", 12.5: "12.5s", 59: "59s", 300: "5m 0s",
		400.9: "6m 40s", 3605: "1h 0m 5s", 90061: "1d 1h 1m 1s", -90: "-1m 30s"} {
		if got := humanizeSeconds(v); got != want {
			t.Errorf("humanizeSeconds(%v) = %q, want %q", v, got, want)
		}
	}
	for d, want := range map[time.Duration]string{5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 45 * time.Second: "45s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// timeline is a metric's samples, one per minute, for both the engine and promtool.
type timeline struct {
	name   string
	labels map[string]string
	values []float64
}

// statusTimeline is the enum-style status gauges of one object over time.
func statusTimeline(name string, labels map[string]string, per []string) []timeline {
	var out []timeline
	for _, s := range statuses {
		l := maps.Clone(labels)
		l["status"] = s
		tl := timeline{name: name, labels: l}
		for _, cur := range per {
			tl.values = append(tl.values, map[bool]float64{true: 1, false: 0}[cur == s])
		}
		out = append(out, tl)
	}
	return out
}

// TestPrometheusRulesBehaveLikeTheEngine: the exported rules, run by `promtool test rules` over the same
// samples the engine evaluates minute by minute, fire the same alerts with the same labels (less the status
// label, which the exported expressions drop) and the same summaries and runbook links.
func TestPrometheusRulesBehaveLikeTheEngine(t *testing.T) {
	rules := testRules(t)
	rules = append(rules, Rule{Name: "BrokenPipeline", Statuses: []string{"STALL", "ERR"}, Scope: ScopePipeline, For: 2 * time.Minute,
		Severity: Critical, Labels: map[string]string{"team": "data"}, Runbook: "stall", RunbookURL: "https://bf.example.com/ui/runbooks/stall"})
	var series []timeline
	series = append(series, statusTimeline("bigfather_pipeline_status", map[string]string{"pipeline": "game-events"}, []string{"OK", "ERR", "ERR", "STALL", "STALL"})...)
	series = append(series, statusTimeline("bigfather_pipeline_status", map[string]string{"pipeline": "quiet"}, []string{"OK", "OK", "OK", "OK", "OK"})...)
	series = append(series, statusTimeline("bigfather_partition_status", map[string]string{"pipeline": "game-events", "topic": "game.events", "partition": "3"},
		[]string{"OK", "ERR", "STOP", "STOP", "STALL"})...)
	series = append(series, statusTimeline("bigfather_group_status", map[string]string{"group": "billing"}, []string{"OK", "REWIND", "REWIND", "OK", "REWIND"})...)
	series = append(series,
		timeline{"bigfather_consumer_lag_seconds", map[string]string{"pipeline": "a", "topic": "t", "partition": "0"}, []float64{100, 100, 100, 100, 100}},
		timeline{"bigfather_consumer_lag_seconds", map[string]string{"pipeline": "a", "topic": "t", "partition": "1"}, []float64{400, 400, 400, 400, 400}},
		timeline{"bigfather_consumer_lag_seconds", map[string]string{"pipeline": "b", "topic": "t", "partition": "0"}, []float64{0.25, 0.25, 0.25, 0.25, 0.25}},
		timeline{"bigfather_ready_check", map[string]string{"check": "catalog"}, []float64{1, 0, 0, 0, 0}},
		timeline{"bigfather_ready_check", map[string]string{"check": "kafka"}, []float64{1, 1, 1, 1, 1}},
		timeline{"bigfather_kafka_partitions_offline", nil, []float64{2, 2, 2, 2, 2}},
		timeline{"bigfather_table_small_files", map[string]string{"table": "staging.game_events"}, []float64{12, 12, 12, 12, 12}},
		timeline{"bigfather_table_freshness_seconds", map[string]string{"table": "staging.game_events"}, []float64{30, 30, 30, 90, 400}},
	)

	// The engine, minute by minute.
	reg := prometheus.NewRegistry()
	vecs := map[string]*prometheus.GaugeVec{}
	for _, s := range series {
		if vecs[s.name] == nil {
			vecs[s.name] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: s.name, Help: "h"}, slices.Sorted(maps.Keys(s.labels)))
			reg.MustRegister(vecs[s.name])
		}
	}
	e, err := New(rules, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const minutes = 5
	for m := range minutes {
		for _, s := range series {
			vecs[s.name].With(s.labels).Set(s.values[m])
		}
		if err := e.Evaluate(context.Background(), t0.Add(time.Duration(m)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	firing := map[string][]Alert{}
	for _, a := range e.Firing() {
		firing[a.Rule] = append(firing[a.Rule], a)
	}
	// Expected in process, so the comparison below cannot pass by both being empty.
	for rule, n := range map[string]int{"BrokenPipeline": 1, "PartitionBroken": 0, "GroupRewind": 1, RuleLagAboveSLO: 1, RuleNotReady: 1,
		"Ready": 1, "Same": 1, "AtLeast": 1, "LagLowest": 1, RuleTableNotFresh: 1} {
		if len(firing[rule]) != n {
			t.Errorf("engine: %d alerts of %s firing at minute 4, want %d", len(firing[rule]), rule, n)
		}
	}
	active := map[string]Alert{}
	for _, a := range e.Active() {
		active[a.Rule] = a
	}
	for rule, want := range map[string]string{
		"BrokenPipeline":  "pipeline game-events is STALL",
		"Ready":           "check catalog is 0; literal {braces}, {{double}}, {0} and ",
		RuleLagAboveSLO:   "pipeline a lags 6m 40s behind, more than the freshness objective of 5m",
		"PartitionBroken": "partition game.events/3 of pipeline game-events is STALL",
	} {
		if s := active[rule].Summary; s != want {
			t.Errorf("%s: summary = %q, want %q", rule, s, want)
		}
	}

	// promtool, over the same samples and the exported rules.
	dir := t.TempDir()
	data, err := PrometheusRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	type expAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
	type alertTest struct {
		EvalTime  string     `yaml:"eval_time"`
		Alertname string     `yaml:"alertname"`
		ExpAlerts []expAlert `yaml:"exp_alerts"`
	}
	type inputSeries struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	var inputs []inputSeries
	for _, s := range series {
		var vals []string
		for _, v := range s.values {
			vals = append(vals, strconv.FormatFloat(v, 'g', -1, 64))
		}
		inputs = append(inputs, inputSeries{Series: s.name + selector(s.labels, ""), Values: strings.Join(vals, " ")})
	}
	var tests []alertTest
	for _, r := range rules {
		at := alertTest{EvalTime: fmt.Sprintf("%dm", minutes-1), Alertname: r.Name, ExpAlerts: []expAlert{}}
		for _, a := range firing[r.Name] {
			labels := maps.Clone(a.Labels)
			if r.IsStatus() {
				delete(labels, "status")
			}
			labels["severity"] = string(a.Severity)
			ann := map[string]string{"summary": a.Summary}
			if a.RunbookURL != "" {
				ann["runbook_url"] = a.RunbookURL
			}
			at.ExpAlerts = append(at.ExpAlerts, expAlert{ExpLabels: labels, ExpAnnotations: ann})
		}
		tests = append(tests, at)
	}
	unit := map[string]any{
		"rule_files":          []string{"rules.yml"},
		"evaluation_interval": "1m",
		"tests":               []any{map[string]any{"interval": "1m", "input_series": inputs, "alert_rule_test": tests}},
	}
	ud, err := yaml.Marshal(unit)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yml"), ud, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s\nrules:\n%s", err, out, data)
	}
}
