// Package alert evaluates alert rules in process and notifies receivers: Opsgenie (its Alert API), Slack
// incoming webhooks, PagerDuty Events v2 and generic JSON webhooks. The same rules export as a Prometheus
// rules file for teams who alert through Alertmanager.
//
// A rule is a condition on the process's own Prometheus metrics, read through a prometheus.Gatherer: a metric
// compared with a threshold (optionally the maximum or minimum per group of labels), or a status gauge
// (bigfather_pipeline_status, bigfather_partition_status, bigfather_group_status) being one of some
// statuses. Evaluation follows Prometheus: a matching series is pending from its first matching evaluation,
// fires once it has matched for the rule's For, and resolves at the first evaluation it no longer matches (or
// is gone). An alert is identified by its rule and its series' labels, without the status label of status
// rules, so a pipeline going from ERR to STALL stays one alert. Each alert sends one notification when it
// fires and one when it resolves, asynchronously, with retries.
package alert

import (
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/runbook"
)

// Severity is how urgent an alert is: critical, error, warning or info.
type Severity string

// The severities, most severe first.
const (
	Critical Severity = "critical"
	Error    Severity = "error"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

var severities = []Severity{Critical, Error, Warning, Info}

// rank orders severities: 0 is the most severe, len(severities) an unknown one.
func (s Severity) rank() int {
	if i := slices.Index(severities, s); i >= 0 {
		return i
	}
	return len(severities)
}

// AtLeast reports whether s is as severe as min or more; every severity is at least "".
func (s Severity) AtLeast(min Severity) bool {
	return min == "" || s.rank() <= min.rank()
}

// Scopes of status rules: which status gauge they read.
const (
	ScopePipeline  = "pipeline"
	ScopePartition = "partition"
	ScopeGroup     = "group"
)

// Rule is one alert rule: a metric condition (Metric, Op, Value, By) or a status condition (Statuses, Scope),
// with the series filtered by Match, held for For before it fires.
type Rule struct {
	// Name identifies the rule; it is the alert's name (alertname in Prometheus).
	Name string
	// Metric is the metric a metric rule compares. Histograms and summaries are read as NAME_count and
	// NAME_sum.
	Metric string
	// Op compares a series' value with Value: >, >=, <, <=, == or !=.
	Op string
	// Value is the threshold of a metric rule.
	Value float64
	// By, when set, groups a metric rule's series by these labels and compares each group's maximum (> and >=)
	// or minimum (< and <=): PromQL's max by (...) or min by (...). The alert's labels are then By's.
	By []string
	// Statuses are the statuses a status rule fires on (WARN, STALL, STOP, ERR, REWIND, PAUSED).
	Statuses []string
	// Scope is the status gauge a status rule reads: ScopePipeline, ScopePartition or ScopeGroup.
	Scope string
	// Match keeps only the series whose labels have these values.
	Match map[string]string
	// For is how long the condition must hold before the alert fires; 0 fires at the first match.
	For time.Duration
	// Severity is the alert's severity.
	Severity Severity
	// Labels are added to the alert's labels (they win over the series' labels of the same name).
	Labels map[string]string
	// Summary is the alert's one-line text: {LABEL} is replaced by the label's value, {value} by the value and
	// {value:duration} by the value read as seconds, like 5m 12s; {{ and }} are literal braces. Empty means a
	// generated one.
	Summary string
	// Runbook is a runbook id (see internal/runbook) or an http(s) URL.
	Runbook string
	// RunbookURL is the link alert bodies carry: Runbook itself when it is a URL, else
	// CONSOLE_URL/ui/runbooks/ID; empty for none. Rules fills it.
	RunbookURL string
	// Receivers names the receivers notified; empty means all.
	Receivers []string
}

// IsStatus reports whether r is a status rule.
func (r *Rule) IsStatus() bool { return len(r.Statuses) > 0 }

// family is the metric family a rule reads.
func (r *Rule) family() string {
	if r.IsStatus() {
		return "bigfather_" + r.Scope + "_status"
	}
	return r.Metric
}

// check reports what is wrong with a rule a caller built, naming the rule.
func (r *Rule) check() error {
	if !ruleNameRe.MatchString(r.Name) {
		return fmt.Errorf("rule %q: invalid name (expected a letter, then letters, digits or _)", r.Name)
	}
	if r.Severity.rank() == len(severities) {
		return fmt.Errorf("rule %s: unknown severity %q (expected one of: critical, error, warning, info)", r.Name, r.Severity)
	}
	if r.For < 0 {
		return fmt.Errorf("rule %s: negative for %s", r.Name, r.For)
	}
	if r.IsStatus() {
		if r.Metric != "" {
			return fmt.Errorf("rule %s: both a metric and statuses", r.Name)
		}
		if _, ok := config.AlertScopeLabels[r.Scope]; !ok {
			return fmt.Errorf("rule %s: unknown scope %q (expected one of: %s)", r.Name, r.Scope, strings.Join(config.AlertScopes, ", "))
		}
		for _, s := range r.Statuses {
			if !slices.Contains(config.AlertStatuses, s) {
				return fmt.Errorf("rule %s: unknown status %q (expected some of: %s)", r.Name, s, strings.Join(config.AlertStatuses, ", "))
			}
		}
		for _, l := range slices.Sorted(maps.Keys(r.Match)) {
			if !slices.Contains(config.AlertScopeLabels[r.Scope], l) {
				return fmt.Errorf("rule %s: %s has no label %q to match (its labels: %s)", r.Name, r.family(), l,
					strings.Join(config.AlertScopeLabels[r.Scope], ", "))
			}
		}
		return nil
	}
	if !metricNameRe.MatchString(r.Metric) {
		return fmt.Errorf("rule %s: invalid metric name %q", r.Name, r.Metric)
	}
	if _, ok := ops[r.Op]; !ok {
		return fmt.Errorf("rule %s: unknown operator %q (expected one of: %s)", r.Name, r.Op, strings.Join(config.AlertOps, " "))
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return fmt.Errorf("rule %s: threshold %v is not a finite number", r.Name, r.Value)
	}
	if len(r.By) > 0 && (r.Op == "==" || r.Op == "!=") {
		return fmt.Errorf("rule %s: by needs >, >=, < or <=, not %s", r.Name, r.Op)
	}
	return nil
}

var (
	ruleNameRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	metricNameRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// ops are the comparison operators.
var ops = map[string]func(a, b float64) bool{
	">":  func(a, b float64) bool { return a > b },
	">=": func(a, b float64) bool { return a >= b },
	"<":  func(a, b float64) bool { return a < b },
	"<=": func(a, b float64) bool { return a <= b },
	"==": func(a, b float64) bool { return a == b },
	"!=": func(a, b float64) bool { return a != b },
}

// opWords say an operator in a summary: "above 300".
var opWords = map[string]string{
	">": "above", ">=": "at or above", "<": "below", "<=": "at or below", "==": "equal to", "!=": "not equal to",
}

// Names of the built-in rules.
const (
	RulePipelineError          = "BigFatherPipelineError"
	RulePipelineStopped        = "BigFatherPipelineStopped"
	RulePipelineStalled        = "BigFatherPipelineStalled"
	RulePipelineRewind         = "BigFatherPipelineRewind"
	RulePipelinePaused         = "BigFatherPipelinePaused"
	RulePipelineLagGrowing     = "BigFatherPipelineLagGrowing"
	RuleConsumerGroupStopped   = "BigFatherConsumerGroupStopped"
	RuleTableNotFresh          = "BigFatherTableNotFresh"
	RuleLagAboveSLO            = "BigFatherLagAboveFreshnessSLO"
	RuleNotReady               = "BigFatherNotReady"
	RuleKafkaPartitionsOffline = "BigFatherKafkaPartitionsOffline"
	RuleKafkaUnderReplicated   = "BigFatherKafkaPartitionsUnderReplicated"
	RuleTableSmallFiles        = "BigFatherTableSmallFiles"
)

// SmallFilesThreshold is the number of small data files in one table above which RuleTableSmallFiles fires
// (after an hour): compaction, when it runs, keeps a table far below it.
const SmallFilesThreshold = 1000

// BuiltinRules returns the built-in rules for the monitor settings: one per bad pipeline status, stopped
// consumer groups (when monitor.groups is on), tables staler than the freshness objective, lag beyond it,
// failing readiness checks, and offline or under-replicated Kafka partitions. Their For is derived from the
// monitor's window where a status needs confirming; RunbookURL is left empty (Rules fills it).
func BuiltinRules(mon config.Monitor) []Rule {
	window := mon.Interval * time.Duration(mon.Window)
	slo := mon.FreshnessSLO.Seconds()
	status := func(name string, st string, sev Severity, hold time.Duration, summary, rb string) Rule {
		return Rule{Name: name, Statuses: []string{st}, Scope: ScopePipeline, For: hold, Severity: sev,
			Summary: summary, Runbook: rb}
	}
	rules := []Rule{
		status(RulePipelineError, "ERR", Critical, 0, "pipeline {pipeline} is ERR: its commits keep failing", "err"),
		status(RulePipelineStopped, "STOP", Critical, 0, "pipeline {pipeline} is STOP: nothing consumes it while records wait", "stop"),
		status(RulePipelineStalled, "STALL", Error, window, "pipeline {pipeline} is STALL: it runs but its offsets do not move", "stall"),
		status(RulePipelineRewind, "REWIND", Warning, 0, "pipeline {pipeline} is REWIND: a stored offset moved back", "rewind"),
		status(RulePipelinePaused, "PAUSED", Warning, 0, "pipeline {pipeline} is PAUSED: it stages nothing until resumed", "paused"),
		status(RulePipelineLagGrowing, "WARN", Warning, window, "pipeline {pipeline} is WARN: its lag keeps growing", "warn"),
	}
	if mon.Groups {
		rules = append(rules, Rule{Name: RuleConsumerGroupStopped, Statuses: []string{"STOP", "STALL", "ERR"}, Scope: ScopeGroup,
			For: window, Severity: Warning, Summary: "consumer group {group} is {status}: its offsets do not move while records wait",
			Runbook: "consumer-group"})
	}
	return append(rules,
		Rule{Name: RuleTableNotFresh, Metric: "bigfather_table_freshness_seconds", Op: ">", Value: slo, Severity: Error,
			Summary: "table {table} was last committed {value:duration} ago, more than the freshness objective of " + shortDuration(mon.FreshnessSLO),
			Runbook: "table-not-fresh"},
		Rule{Name: RuleLagAboveSLO, Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: slo, By: []string{"pipeline"},
			Severity: Warning, Summary: "pipeline {pipeline} lags {value:duration} behind, more than the freshness objective of " + shortDuration(mon.FreshnessSLO),
			Runbook: "lag-slo"},
		Rule{Name: RuleNotReady, Metric: "bigfather_ready_check", Op: "==", Value: 0, For: 2 * time.Minute, Severity: Critical,
			Summary: "readiness check {check} fails", Runbook: "not-ready"},
		Rule{Name: RuleKafkaPartitionsOffline, Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 0, For: time.Minute,
			Severity: Critical, Summary: "{value} Kafka partitions have no leader", Runbook: "kafka-partitions-offline"},
		Rule{Name: RuleKafkaUnderReplicated, Metric: "bigfather_kafka_partitions_under_replicated", Op: ">", Value: 0,
			For: 5 * time.Minute, Severity: Warning, Summary: "{value} Kafka partitions are under-replicated", Runbook: "kafka-under-replicated"},
		Rule{Name: RuleTableSmallFiles, Metric: "bigfather_table_small_files", Op: ">", Value: SmallFilesThreshold, For: time.Hour,
			Severity: Warning, Summary: "table {table} has {value} small data files", Runbook: "table-small-files"},
	)
}

// Rules returns the rules a config runs: the built-in ones unless alerts.builtin is false, then the
// configured ones, each with RunbookURL resolved against ConsoleURL(cfg). The config must have been validated.
func Rules(cfg *config.Config) ([]Rule, error) {
	var rules []Rule
	if cfg.Alerts.Builtin {
		rules = BuiltinRules(cfg.Monitor)
	}
	for _, c := range cfg.Alerts.Rules {
		r := Rule{
			Name: c.Name, Metric: c.Metric, Op: c.Op, Value: c.Value, By: slices.Clone(c.By),
			Statuses: slices.Clone(c.Status), Scope: c.Scope, Match: maps.Clone(c.Match), For: c.For,
			Severity: Severity(c.Severity), Labels: maps.Clone(c.Labels), Summary: c.Summary, Runbook: c.Runbook,
			Receivers: slices.Clone(c.Receivers),
		}
		if r.Severity == "" {
			r.Severity = Warning
		}
		rules = append(rules, r)
	}
	base := ConsoleURL(cfg)
	seen := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		if err := r.check(); err != nil {
			return nil, err
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("rule %s: defined twice", r.Name)
		}
		seen[r.Name] = true
		r.RunbookURL = RunbookURL(base, r.Runbook)
	}
	return rules, nil
}

// RunbookURL returns the link for a runbook id or URL: the URL itself, or consoleURL/ui/runbooks/ID for a
// known id; "" for none or an unknown id.
func RunbookURL(consoleURL, runbookRef string) string {
	if strings.HasPrefix(runbookRef, "http://") || strings.HasPrefix(runbookRef, "https://") {
		return runbookRef
	}
	if _, ok := runbook.Get(runbookRef); !ok {
		return ""
	}
	return strings.TrimRight(consoleURL, "/") + "/ui/runbooks/" + runbookRef
}

// ConsoleURL returns the console's base URL for links in alert bodies: alerts.console_url, or
// "http://" + the http address, with this machine's host name in place of a wildcard address (0.0.0.0, ::).
func ConsoleURL(cfg *config.Config) string {
	if cfg.Alerts.ConsoleURL != "" {
		return strings.TrimRight(cfg.Alerts.ConsoleURL, "/")
	}
	host, port, err := net.SplitHostPort(cfg.HTTP)
	if err != nil {
		return "http://" + cfg.HTTP
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Expr returns the rule's condition in PromQL, as the exported rules file has it.
func (r *Rule) Expr() string {
	if r.IsStatus() {
		m := maps.Clone(r.Match)
		if m == nil {
			m = map[string]string{}
		}
		sel := r.family() + selector(m, statusMatcher(r.Statuses))
		return "max without (status) (" + sel + ") == 1"
	}
	sel := r.Metric + selector(r.Match, "")
	if len(r.By) > 0 {
		agg := "max"
		if r.Op == "<" || r.Op == "<=" {
			agg = "min"
		}
		sel = agg + " by (" + strings.Join(r.By, ", ") + ") (" + sel + ")"
	}
	return sel + " " + r.Op + " " + formatValue(r.Value)
}

// statusMatcher is the PromQL matcher of the status label for statuses.
func statusMatcher(statuses []string) string {
	if len(statuses) == 1 {
		return `status="` + statuses[0] + `"`
	}
	return `status=~"` + strings.Join(statuses, "|") + `"`
}

// selector renders label matchers, sorted by name, plus extra; "" when there are none.
func selector(match map[string]string, extra string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(match)) {
		parts = append(parts, k+"="+strconv.Quote(match[k]))
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// formatValue writes a sample value as Prometheus templates' {{ $value }} does.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// humanizeSeconds writes seconds as Prometheus templates' humanizeDuration does ("6m 40s", "1h 0m 5s",
// "12.5s", "250ms"), so summaries read the same in process and through Alertmanager.
func humanizeSeconds(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	if v == 0 {
		return "0s"
	}
	if math.Abs(v) >= 1 {
		sign := ""
		if v < 0 {
			sign, v = "-", -v
		}
		d := int64(v)
		sec, mins, hours, days := d%60, d/60%60, d/3600%24, d/86400
		switch {
		case days != 0:
			return fmt.Sprintf("%s%dd %dh %dm %ds", sign, days, hours, mins, sec)
		case hours != 0:
			return fmt.Sprintf("%s%dh %dm %ds", sign, hours, mins, sec)
		case mins != 0:
			return fmt.Sprintf("%s%dm %ds", sign, mins, sec)
		}
		return fmt.Sprintf("%s%.4gs", sign, v)
	}
	prefix := ""
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%ss", v, prefix)
}

// shortDuration writes d like time.Duration does, without zero minutes and seconds: 5m, 1h, 1h30m, 90s is 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
