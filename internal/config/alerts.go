package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bigfather/bigfather/internal/runbook"
)

// Alerts holds the alerting settings (yaml: alerts): the rules evaluated in process (the built-in ones and
// those configured here) and the receivers their notifications go to. internal/alert compiles and runs them.
//
// API keys, routing keys and receiver URLs (a Slack webhook URL is its own secret) never appear in errors,
// logs or String.
type Alerts struct {
	// Builtin says whether the built-in rules run alongside the configured ones (yaml: builtin; default true).
	Builtin bool
	// ConsoleURL is the console's base URL as readers of a notification reach it, such as
	// https://bigfather.example.com; runbook links in alert bodies are ConsoleURL/ui/runbooks/ID. Empty means
	// "http://" + the http address (yaml: console_url).
	ConsoleURL string
	// Rules are the configured alert rules (yaml: rules).
	Rules []AlertRule
	// Receivers are where notifications go (yaml: receivers). Without any, alerts are only shown (console,
	// API, bigfather_alerts_firing).
	Receivers []AlertReceiver
}

// AlertRule is one configured alert rule: a condition on a metric (Metric, Op, Value) or on a status (Status,
// Scope), held for For before it fires.
type AlertRule struct {
	// Name identifies the rule: [A-Za-z][A-Za-z0-9_]*, unique, not starting with BigFather (the built-in
	// rules' prefix) (yaml: name).
	Name string
	// Metric is the metric a metric rule compares, such as bigfather_consumer_lag_seconds (yaml: metric).
	Metric string
	// Match keeps only the series whose labels have these values (yaml: match).
	Match map[string]string
	// Op compares a series' value with Value: >, >=, <, <=, == or != (yaml: op; metric rules only).
	Op string
	// Value is the threshold (yaml: value; metric rules only). YAML also takes a duration, read in seconds.
	Value float64
	// By groups the series by these labels and compares each group's maximum (> and >=) or minimum (< and <=)
	// instead of each series, so one alert stands for a whole pipeline rather than one per partition
	// (yaml: by; metric rules only).
	By []string
	// Status lists the statuses a status rule fires on: WARN, STALL, STOP, ERR, REWIND, PAUSED (yaml: status).
	Status []string
	// Scope is what a status rule watches: pipeline (default), partition or group (yaml: scope).
	Scope string
	// For is how long the condition must hold before the alert fires (yaml: for; default 0, at once).
	For time.Duration
	// Severity is critical, error, warning or info (yaml: severity; default warning).
	Severity string
	// Labels are added to the alert's labels (yaml: labels).
	Labels map[string]string
	// Summary is the alert's one-line text; {LABEL} is replaced by the series' label, {value} by its value,
	// {value:duration} by its value read as seconds (5m 12s); {{ and }} are literal braces. Empty means a
	// generated one (yaml: summary).
	Summary string
	// Runbook is a runbook id (see internal/runbook) or an http(s) URL of your own (yaml: runbook).
	Runbook string
	// Receivers names the receivers notified; empty means all (yaml: receivers).
	Receivers []string
}

// AlertReceiver is one destination of notifications.
type AlertReceiver struct {
	// Name identifies the receiver in rules, logs and metrics: [A-Za-z][A-Za-z0-9_-]*, unique (yaml: name).
	Name string
	// Type is opsgenie, slack, pagerduty or webhook (yaml: type).
	Type string
	// URL is where notifications are posted (yaml: url). Opsgenie: the API's base URL (default
	// https://api.opsgenie.com; https://api.eu.opsgenie.com for the EU instance). PagerDuty: the Events v2
	// endpoint (default https://events.pagerduty.com/v2/enqueue). Slack: the incoming webhook's URL. Webhook:
	// your endpoint. Slack and webhook URLs are treated as secrets.
	URL string
	// APIKey is the key of an Opsgenie API integration, sent as "Authorization: GenieKey KEY" (yaml: api_key;
	// opsgenie only).
	APIKey string
	// RoutingKey is the integration key of a PagerDuty service's Events API v2 integration (yaml: routing_key;
	// pagerduty only).
	RoutingKey string
	// MinSeverity drops notifications of alerts less severe than this; empty sends all (yaml: min_severity).
	MinSeverity string
}

// The alert receiver types.
const (
	ReceiverOpsgenie  = "opsgenie"
	ReceiverSlack     = "slack"
	ReceiverPagerDuty = "pagerduty"
	ReceiverWebhook   = "webhook"
)

// Default receiver URLs, and the prefix reserved for the built-in rules' names.
const (
	DefaultOpsgenieURL  = "https://api.opsgenie.com"
	DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
	BuiltinRulePrefix   = "BigFather"
)

// The values alert rules and receivers accept, in the order error messages list them.
var (
	// AlertOps are the comparison operators of metric rules.
	AlertOps = []string{">", ">=", "<", "<=", "==", "!="}
	// AlertSeverities are the severities, most severe first.
	AlertSeverities = []string{"critical", "error", "warning", "info"}
	// AlertStatuses are the statuses a status rule may fire on (OK is none).
	AlertStatuses = []string{"WARN", "STALL", "STOP", "ERR", "REWIND", "PAUSED"}
	// AlertScopes are what a status rule may watch.
	AlertScopes = []string{"pipeline", "partition", "group"}
	// AlertScopeLabels are the labels of each scope's status metric besides status.
	AlertScopeLabels = map[string][]string{
		"pipeline":  {"pipeline"},
		"partition": {"pipeline", "topic", "partition"},
		"group":     {"group"},
	}
	receiverTypes = []string{ReceiverOpsgenie, ReceiverSlack, ReceiverPagerDuty, ReceiverWebhook}
)

var alertsKeys = []key[Alerts]{
	{name: "builtin", def: "true", decode: set(boolean, func(a *Alerts) *bool { return &a.Builtin })},
	{name: "console_url", decode: set(str, func(a *Alerts) *string { return &a.ConsoleURL })},
	{name: "rules", decode: set(list(mapping(alertRuleKeys)), func(a *Alerts) *[]AlertRule { return &a.Rules })},
	{name: "receivers", decode: set(list(mapping(alertReceiverKeys)), func(a *Alerts) *[]AlertReceiver { return &a.Receivers })},
}

// alertRuleKeys has no default for scope: it applies to status rules only (see alerts).
var alertRuleKeys = []key[AlertRule]{
	{name: "name", required: true, decode: set(str, func(r *AlertRule) *string { return &r.Name })},
	{name: "metric", decode: set(str, func(r *AlertRule) *string { return &r.Metric })},
	{name: "match", decode: set(stringMap, func(r *AlertRule) *map[string]string { return &r.Match })},
	{name: "op", decode: set(str, func(r *AlertRule) *string { return &r.Op })},
	{name: "value", decode: set(number, func(r *AlertRule) *float64 { return &r.Value })},
	{name: "by", decode: set(list(str), func(r *AlertRule) *[]string { return &r.By })},
	{name: "status", decode: set(strOrList, func(r *AlertRule) *[]string { return &r.Status })},
	{name: "scope", decode: set(str, func(r *AlertRule) *string { return &r.Scope })},
	{name: "for", def: "0s", decode: set(duration, func(r *AlertRule) *time.Duration { return &r.For })},
	{name: "severity", def: "warning", decode: set(str, func(r *AlertRule) *string { return &r.Severity })},
	{name: "labels", decode: set(stringMap, func(r *AlertRule) *map[string]string { return &r.Labels })},
	{name: "summary", decode: set(str, func(r *AlertRule) *string { return &r.Summary })},
	{name: "runbook", decode: set(str, func(r *AlertRule) *string { return &r.Runbook })},
	{name: "receivers", decode: set(list(str), func(r *AlertRule) *[]string { return &r.Receivers })},
}

// alertReceiverKeys has no default for url: it depends on the type (see alerts).
var alertReceiverKeys = []key[AlertReceiver]{
	{name: "name", required: true, decode: set(str, func(r *AlertReceiver) *string { return &r.Name })},
	{name: "type", required: true, decode: set(str, func(r *AlertReceiver) *string { return &r.Type })},
	{name: "url", decode: set(str, func(r *AlertReceiver) *string { return &r.URL })},
	{name: "api_key", decode: set(str, func(r *AlertReceiver) *string { return &r.APIKey })},
	{name: "routing_key", decode: set(str, func(r *AlertReceiver) *string { return &r.RoutingKey })},
	{name: "min_severity", decode: set(str, func(r *AlertReceiver) *string { return &r.MinSeverity })},
}

var (
	alertNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	receiverNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	metricNameRe   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRe    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// reservedAlertLabels are set by the rules themselves.
var reservedAlertLabels = []string{"alertname", "severity"}

// number parses a float, or a duration read as seconds (value: 5m is 300).
func number(d *decoder, n *yaml.Node, path string) (float64, bool) {
	const want = "a number (or a duration like 5m, read as seconds)"
	s, ok := scalar(d, n, path, want)
	if !ok {
		return 0, false
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, true
	}
	if dur, err := time.ParseDuration(s); err == nil {
		return dur.Seconds(), true
	}
	d.fail(deref(n).Line, path, "expected %s, got %q", want, s)
	return 0, false
}

// strOrList parses a list of strings, or one string as a list of one.
func strOrList(d *decoder, n *yaml.Node, path string) ([]string, bool) {
	if m := deref(n); m.Kind == yaml.ScalarNode && !isNull(m) {
		return []string{m.Value}, true
	}
	return list(str)(d, n, path)
}

// String describes the settings with every receiver's secrets redacted.
func (a Alerts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{builtin: %t, console_url: %q, rules: %d, receivers: [", a.Builtin, a.ConsoleURL, len(a.Rules))
	for i, r := range a.Receivers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	b.WriteString("]}")
	return b.String()
}

// GoString is String, so %#v does not print the secrets either.
func (a Alerts) GoString() string { return a.String() }

// String describes the receiver with its keys redacted, and its URL too when the URL is a secret (slack,
// webhook).
func (r AlertReceiver) String() string {
	u := r.URL
	if r.SecretURL() {
		u = redacted(u)
	}
	return fmt.Sprintf("{name: %q, type: %q, url: %q, api_key: %q, routing_key: %q, min_severity: %q}",
		r.Name, r.Type, u, redacted(r.APIKey), redacted(r.RoutingKey), r.MinSeverity)
}

// GoString is String, so %#v does not print the secrets either.
func (r AlertReceiver) GoString() string { return r.String() }

// SecretURL reports whether the receiver's URL is a secret: a Slack incoming webhook's URL is its only
// credential, and a webhook's may be one too.
func (r AlertReceiver) SecretURL() bool {
	return r.Type != ReceiverOpsgenie && r.Type != ReceiverPagerDuty
}

// alertsZero reports whether a config built in Go left the alerts block unset.
func alertsZero(a Alerts) bool {
	return !a.Builtin && a.ConsoleURL == "" && len(a.Rules) == 0 && len(a.Receivers) == 0
}

// alerts checks the alerts block: the console URL, each receiver and each rule. It fills the defaults that
// depend on other keys (a receiver's URL, a status rule's scope); a config built in Go that leaves the block
// zero gets the key specs' defaults, and its rules get severity warning when they leave it empty. Receiver secrets are added to the values errors never show, and no message quotes one.
func (v *validator) alerts(c *Config) {
	a := &c.Alerts
	if c.lines == nil && alertsZero(*a) {
		*a = specDefaults(alertsKeys)
	}
	if a.ConsoleURL != "" && !v.broken("alerts.console_url") {
		if !httpURL(a.ConsoleURL, false) {
			v.fail("alerts.console_url", "expected the console's http(s)://host[:port][/path] as its readers reach it, got %q", a.ConsoleURL)
		}
		a.ConsoleURL = strings.TrimRight(a.ConsoleURL, "/")
	}
	receivers := map[string]int{}
	for i := range a.Receivers {
		path := fmt.Sprintf("alerts.receivers[%d]", i)
		r := &a.Receivers[i]
		v.receiver(r, path)
		if r.Name == "" {
			continue
		}
		if j, dup := receivers[r.Name]; dup {
			v.fail(path+".name", "duplicate receiver name %q (also alerts.receivers[%d])", r.Name, j)
		} else {
			receivers[r.Name] = i
		}
	}
	rules := map[string]int{}
	for i := range a.Rules {
		path := fmt.Sprintf("alerts.rules[%d]", i)
		r := &a.Rules[i]
		v.alertRule(r, path, receivers)
		if r.Name == "" {
			continue
		}
		if j, dup := rules[r.Name]; dup {
			v.fail(path+".name", "duplicate rule name %q (also alerts.rules[%d])", r.Name, j)
		} else {
			rules[r.Name] = i
		}
	}
}

// receiver checks one receiver and fills its default URL.
func (v *validator) receiver(r *AlertReceiver, path string) {
	v.secret(path+".api_key", r.APIKey)
	v.secret(path+".routing_key", r.RoutingKey)
	if r.SecretURL() {
		v.secret(path+".url", r.URL)
	}
	if !v.broken(path+".name") && !receiverNameRe.MatchString(r.Name) {
		v.fail(path+".name", "invalid receiver name %q (expected a letter, then letters, digits, _ or -)", r.Name)
	}
	if v.broken(path + ".type") {
		return
	}
	if !slices.Contains(receiverTypes, r.Type) {
		v.fail(path+".type", "unknown receiver type %q (expected one of: %s)", r.Type, strings.Join(receiverTypes, ", "))
		return
	}
	if r.MinSeverity != "" && !slices.Contains(AlertSeverities, r.MinSeverity) {
		v.fail(path+".min_severity", "unknown severity %q (expected one of: %s)", r.MinSeverity, strings.Join(AlertSeverities, ", "))
	}
	switch r.Type {
	case ReceiverOpsgenie:
		if r.URL == "" {
			r.URL = DefaultOpsgenieURL
		}
	case ReceiverPagerDuty:
		if r.URL == "" {
			r.URL = DefaultPagerDutyURL
		}
	}
	switch {
	case v.broken(path + ".url"):
	case r.URL == "" && r.Type == ReceiverSlack:
		v.fail(path+".url", "missing required key for a slack receiver (the incoming webhook's URL, https://hooks.slack.com/services/...)")
	case r.URL == "":
		v.fail(path+".url", "missing required key for a webhook receiver (the URL notifications are posted to)")
	case r.SecretURL() && !httpURL(r.URL, true):
		// The URL may be the receiver's credential: say what is wrong without quoting it.
		v.fail(path+".url", "expected an http(s)://host[:port]/path URL without user:password@ (the value is not shown: it may be a secret)")
	case !r.SecretURL() && !httpURL(r.URL, false):
		v.fail(path+".url", "expected an http(s)://host[:port][/path] URL without user:password@, query or fragment, got %q", r.URL)
	}
	r.URL = strings.TrimRight(r.URL, "/")
	if r.Type == ReceiverOpsgenie && r.APIKey == "" && !v.broken(path+".api_key") {
		v.fail(path+".api_key", "missing required key for an opsgenie receiver (the key of an Opsgenie API integration)")
	}
	if r.Type != ReceiverOpsgenie && r.APIKey != "" {
		v.fail(path+".api_key", "applies only to opsgenie receivers (this one is %s)", r.Type)
	}
	if r.Type == ReceiverPagerDuty && r.RoutingKey == "" && !v.broken(path+".routing_key") {
		v.fail(path+".routing_key", "missing required key for a pagerduty receiver (the integration key of an Events API v2 integration)")
	}
	if r.Type != ReceiverPagerDuty && r.RoutingKey != "" {
		v.fail(path+".routing_key", "applies only to pagerduty receivers (this one is %s)", r.Type)
	}
}

// httpURL reports whether s is an absolute http(s) URL with a host and no user info; a query is allowed only
// with query (webhook URLs may carry one).
func httpURL(s string, query bool) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	return query || u.RawQuery == ""
}

// alertRule checks one rule against the receivers and fills a status rule's default scope.
func (v *validator) alertRule(r *AlertRule, path string, receivers map[string]int) {
	switch {
	case v.broken(path + ".name"):
	case !alertNameRe.MatchString(r.Name):
		v.fail(path+".name", "invalid rule name %q (expected a letter, then letters, digits or _)", r.Name)
	case strings.HasPrefix(r.Name, BuiltinRulePrefix):
		v.fail(path+".name", "rule names starting with %s are reserved for the built-in rules, got %q", BuiltinRulePrefix, r.Name)
	}
	metric := r.Metric != "" || v.broken(path+".metric")
	status := len(r.Status) > 0 || v.broken(path+".status")
	switch {
	case metric && status:
		v.fail(path+".status", "a rule has metric (with op and value) or status, not both")
	case !metric && !status && v.present(path+".status"):
		v.fail(path+".status", "at least one status is required (expected some of: %s)", strings.Join(AlertStatuses, ", "))
	case !metric && !status:
		v.fail(path, "a rule needs a condition: metric (with op and value) or status")
	case metric:
		v.metricRule(r, path)
	default:
		v.statusRule(r, path)
	}
	for _, name := range sortedKeys(r.Match) {
		lp := path + ".match." + name
		if !labelNameRe.MatchString(name) || strings.HasPrefix(name, "__") {
			v.fail(lp, "invalid label name %q (expected letters, digits and _, not starting with a digit or __)", name)
		}
	}
	if r.For < 0 {
		v.fail(path+".for", "must not be negative, got %s", r.For)
	}
	if r.Severity == "" && v.c.lines == nil {
		r.Severity = "warning"
	}
	if !v.broken(path+".severity") && !slices.Contains(AlertSeverities, r.Severity) {
		v.fail(path+".severity", "unknown severity %q (expected one of: %s)", r.Severity, strings.Join(AlertSeverities, ", "))
	}
	for _, name := range sortedKeys(r.Labels) {
		lp := path + ".labels." + name
		switch {
		case !labelNameRe.MatchString(name) || strings.HasPrefix(name, "__"):
			v.fail(lp, "invalid label name %q (expected letters, digits and _, not starting with a digit or __)", name)
		case slices.Contains(reservedAlertLabels, name):
			v.fail(lp, "label %q is set by the rule itself (%s from its name and severity)", name, strings.Join(reservedAlertLabels, " and "))
		}
	}
	if r.Runbook != "" && !v.broken(path+".runbook") {
		if _, ok := runbook.Get(r.Runbook); !ok && !httpURL(r.Runbook, true) {
			v.fail(path+".runbook", "unknown runbook %q (expected an http(s):// URL or one of: %s)", r.Runbook, strings.Join(runbook.IDs(), ", "))
		}
	}
	for i, name := range r.Receivers {
		rp := fmt.Sprintf("%s.receivers[%d]", path, i)
		if _, ok := receivers[name]; !ok {
			v.fail(rp, "unknown receiver %q (configured: %s)", name, receiverNames(v.c.Alerts.Receivers))
		} else if slices.Contains(r.Receivers[:i], name) {
			v.fail(rp, "duplicate receiver %q", name)
		}
	}
}

// metricRule checks the keys of a metric rule.
func (v *validator) metricRule(r *AlertRule, path string) {
	if !v.broken(path+".metric") && !metricNameRe.MatchString(r.Metric) {
		v.fail(path+".metric", "invalid metric name %q (expected letters, digits, _ and :, not starting with a digit)", r.Metric)
	}
	switch {
	case v.broken(path + ".op"):
	case r.Op == "":
		v.fail(path+".op", "missing required key for a metric rule (expected one of: %s)", strings.Join(AlertOps, " "))
	case !slices.Contains(AlertOps, r.Op):
		v.fail(path+".op", "unknown operator %q (expected one of: %s)", r.Op, strings.Join(AlertOps, " "))
	}
	if v.c.lines != nil && !v.present(path+".value") {
		v.fail(path+".value", "missing required key for a metric rule (the threshold)")
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		v.fail(path+".value", "must be a finite number, got %v", r.Value)
	}
	if len(r.By) > 0 && (r.Op == "==" || r.Op == "!=") {
		v.fail(path+".by", "applies only with >, >=, < or <= (groups compare their maximum or minimum), not %s", r.Op)
	}
	for i, l := range r.By {
		bp := fmt.Sprintf("%s.by[%d]", path, i)
		switch {
		case !labelNameRe.MatchString(l) || strings.HasPrefix(l, "__"):
			v.fail(bp, "invalid label name %q (expected letters, digits and _, not starting with a digit or __)", l)
		case slices.Contains(r.By[:i], l):
			v.fail(bp, "duplicate label %q", l)
		}
	}
	if r.Scope != "" {
		v.fail(path+".scope", "applies only to status rules (a metric rule's series are its metric's)")
	}
}

// statusRule checks the keys of a status rule and fills its default scope.
func (v *validator) statusRule(r *AlertRule, path string) {
	for _, k := range []struct {
		name string
		set  bool
	}{{"op", r.Op != ""}, {"value", v.present(path+".value") || r.Value != 0}, {"by", len(r.By) > 0}} {
		if k.set {
			v.fail(path+"."+k.name, "applies only to metric rules (a status rule fires on its statuses)")
		}
	}
	for i, s := range r.Status {
		sp := fmt.Sprintf("%s.status[%d]", path, i)
		if len(r.Status) == 1 && v.c.lines != nil && !v.present(sp) {
			// Written as one string rather than a list: point at the key itself.
			sp = path + ".status"
		}
		switch {
		case s == "OK":
			v.fail(sp, "OK is not a condition to alert on (expected some of: %s)", strings.Join(AlertStatuses, ", "))
		case !slices.Contains(AlertStatuses, s):
			v.fail(sp, "unknown status %q (expected some of: %s)", s, strings.Join(AlertStatuses, ", "))
		case slices.Contains(r.Status[:i], s):
			v.fail(sp, "duplicate status %q", s)
		}
	}
	if r.Scope == "" && !v.broken(path+".scope") {
		r.Scope = "pipeline"
	}
	labels, ok := AlertScopeLabels[r.Scope]
	if !ok {
		if !v.broken(path + ".scope") {
			v.fail(path+".scope", "unknown scope %q (expected one of: %s)", r.Scope, strings.Join(AlertScopes, ", "))
		}
		return
	}
	for _, name := range sortedKeys(r.Match) {
		if !slices.Contains(labels, name) {
			v.fail(path+".match."+name, "bigfather_%s_status has no label %q (its labels: %s; the statuses go in status)",
				r.Scope, name, strings.Join(labels, ", "))
		}
	}
}

func receiverNames(rs []AlertReceiver) string {
	if len(rs) == 0 {
		return "none"
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
