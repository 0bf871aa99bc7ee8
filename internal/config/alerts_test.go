package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Test secrets of the alert receivers.
const (
	testGenieKey   = "genie-0123456789abcdef"
	testRoutingKey = "R0UT1NGKEY0123456789abcdefABCDEF"
	testSlackURL   = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
)

// TestAlertsBlock: rules and receivers decode with their defaults (severity, for, scope, receiver URLs), a
// status may be one string, a value may be a duration in seconds, and secrets come from the environment.
func TestAlertsBlock(t *testing.T) {
	t.Setenv("BF_GENIE", testGenieKey)
	t.Setenv("BF_PD", testRoutingKey)
	t.Setenv("BF_SLACK", testSlackURL)
	c, err := Parse("alerts.yaml", []byte(`alerts:
  console_url: https://bf.example.com/
  rules:
    - name: HighLag
      metric: bigfather_consumer_lag_seconds
      match: {pipeline: game-events}
      op: ">"
      value: 5m
      by: [pipeline]
      for: 2m
      severity: critical
      labels: {team: data}
      summary: "lag of {pipeline} is {value}s"
      runbook: lag-slo
      receivers: [ops, chat]
    - name: Stuck
      status: STALL
    - name: GroupDown
      status: [STOP, ERR]
      scope: group
      runbook: https://wiki.example.com/groups
  receivers:
    - {name: ops, type: opsgenie, api_key: "${BF_GENIE}"}
    - {name: chat, type: slack, url: "${BF_SLACK}", min_severity: error}
    - {name: pd, type: pagerduty, routing_key: "${BF_PD}"}
    - {name: hook, type: webhook, url: "http://127.0.0.1:9000/alerts?token=x"}
    - {name: eu, type: opsgenie, url: "https://api.eu.opsgenie.com/", api_key: "${BF_GENIE}"}
`+minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := Alerts{
		Builtin:    true,
		ConsoleURL: "https://bf.example.com",
		Rules: []AlertRule{
			{Name: "HighLag", Metric: "bigfather_consumer_lag_seconds", Match: map[string]string{"pipeline": "game-events"},
				Op: ">", Value: 300, By: []string{"pipeline"}, For: 2 * time.Minute, Severity: "critical",
				Labels: map[string]string{"team": "data"}, Summary: "lag of {pipeline} is {value}s", Runbook: "lag-slo",
				Receivers: []string{"ops", "chat"}},
			{Name: "Stuck", Status: []string{"STALL"}, Scope: "pipeline", Severity: "warning"},
			{Name: "GroupDown", Status: []string{"STOP", "ERR"}, Scope: "group", Severity: "warning", Runbook: "https://wiki.example.com/groups"},
		},
		Receivers: []AlertReceiver{
			{Name: "ops", Type: "opsgenie", URL: "https://api.opsgenie.com", APIKey: testGenieKey},
			{Name: "chat", Type: "slack", URL: testSlackURL, MinSeverity: "error"},
			{Name: "pd", Type: "pagerduty", URL: "https://events.pagerduty.com/v2/enqueue", RoutingKey: testRoutingKey},
			{Name: "hook", Type: "webhook", URL: "http://127.0.0.1:9000/alerts?token=x"},
			{Name: "eu", Type: "opsgenie", URL: "https://api.eu.opsgenie.com", APIKey: testGenieKey},
		},
	}
	if !reflect.DeepEqual(c.Alerts, want) {
		t.Errorf("alerts:\n got %#v\nwant %#v", c.Alerts.Rules, want.Rules)
		t.Errorf("receivers:\n got %v\nwant %v", c.Alerts.Receivers, want.Receivers)
	}
}

// TestAlertsDefaults: an absent block, an empty one and the built-in config run the built-in rules only; a
// config built in Go gets the rule defaults on Validate.
func TestAlertsDefaults(t *testing.T) {
	for _, yaml := range []string{"", "alerts: {}\n", "alerts: {builtin: true}\n"} {
		c, err := Parse("a.yaml", []byte(yaml+minimal))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Alerts, Alerts{Builtin: true}) {
			t.Errorf("%q: alerts = %v, want the built-in rules only", yaml, c.Alerts)
		}
	}
	c, err := Parse("off.yaml", []byte("alerts: {builtin: false}\n"+minimal))
	if err != nil || c.Alerts.Builtin {
		t.Errorf("builtin: false = %v, %v", c.Alerts, err)
	}
	if got := Default(t.TempDir()).Alerts; !reflect.DeepEqual(got, Alerts{Builtin: true}) {
		t.Errorf("Default(dir).Alerts = %v, want the built-in rules only", got)
	}
	c, err = Parse("go.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	c.lines, c.Path = nil, ""
	c.Alerts = Alerts{Rules: []AlertRule{{Name: "Down", Status: []string{"STOP"}}, {Name: "Lag", Metric: "x", Op: ">"}},
		Receivers: []AlertReceiver{{Name: "pd", Type: "pagerduty", RoutingKey: testRoutingKey}}}
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err != nil {
		t.Fatal(err)
	}
	if r := c.Alerts.Rules[0]; r.Scope != "pipeline" || r.Severity != "warning" {
		t.Errorf("Go-built status rule: scope %q, severity %q; want pipeline, warning", r.Scope, r.Severity)
	}
	if u := c.Alerts.Receivers[0].URL; u != DefaultPagerDutyURL {
		t.Errorf("Go-built pagerduty receiver URL = %q, want %s", u, DefaultPagerDutyURL)
	}
}

// TestAlertsErrors: each bad rule or receiver names file, line and key, and what was expected.
func TestAlertsErrors(t *testing.T) {
	rule := func(body string) string { return "alerts:\n  rules:\n    - name: R\n" + body + minimal }
	recv := func(body string) string { return "alerts:\n  receivers:\n    - name: x\n" + body + minimal }
	runErrorCases(t, []errorCase{
		{"unknown key", "alerts:\n  rule: []\n" + minimal,
			`bad.yaml:2: alerts.rule: unknown key (expected one of: builtin, console_url, rules, receivers)`},
		{"bad console url", "alerts:\n  console_url: bf.example.com\n" + minimal,
			`bad.yaml:2: alerts.console_url: expected the console's http(s)://host[:port][/path] as its readers reach it, got "bf.example.com"`},
		{"no condition", rule("      for: 1m\n"),
			`bad.yaml:3: alerts.rules[0]: a rule needs a condition: metric (with op and value) or status`},
		{"both conditions", rule("      metric: m\n      op: '>'\n      value: 1\n      status: [STOP]\n"),
			`bad.yaml:7: alerts.rules[0].status: a rule has metric (with op and value) or status, not both`},
		{"empty status list", rule("      status: []\n"),
			`bad.yaml:4: alerts.rules[0].status: at least one status is required (expected some of: WARN, STALL, STOP, ERR, REWIND, PAUSED)`},
		{"bad name", "alerts:\n  rules:\n    - {name: 9lives, status: STOP}\n" + minimal,
			`bad.yaml:3: alerts.rules[0].name: invalid rule name "9lives" (expected a letter, then letters, digits or _)`},
		{"reserved name", "alerts:\n  rules:\n    - {name: BigFatherMine, status: STOP}\n" + minimal,
			`bad.yaml:3: alerts.rules[0].name: rule names starting with BigFather are reserved for the built-in rules, got "BigFatherMine"`},
		{"duplicate name", "alerts:\n  rules:\n    - {name: A, status: STOP}\n    - {name: A, status: ERR}\n" + minimal,
			`bad.yaml:4: alerts.rules[1].name: duplicate rule name "A" (also alerts.rules[0])`},
		{"bad metric", rule("      metric: lag-seconds\n      op: '>'\n      value: 1\n"),
			`bad.yaml:4: alerts.rules[0].metric: invalid metric name "lag-seconds" (expected letters, digits, _ and :, not starting with a digit)`},
		{"missing op", rule("      metric: m\n      value: 1\n"),
			`bad.yaml:3: alerts.rules[0].op: missing required key for a metric rule (expected one of: > >= < <= == !=)`},
		{"bad op", rule("      metric: m\n      op: '=>'\n      value: 1\n"),
			`bad.yaml:5: alerts.rules[0].op: unknown operator "=>" (expected one of: > >= < <= == !=)`},
		{"missing value", rule("      metric: m\n      op: '>'\n"),
			`bad.yaml:3: alerts.rules[0].value: missing required key for a metric rule (the threshold)`},
		{"bad value", rule("      metric: m\n      op: '>'\n      value: lots\n"),
			`bad.yaml:6: alerts.rules[0].value: expected a number (or a duration like 5m, read as seconds), got "lots"`},
		{"NaN value", rule("      metric: m\n      op: '>'\n      value: .nan\n"),
			`bad.yaml:6: alerts.rules[0].value: expected a number (or a duration like 5m, read as seconds), got ".nan"`},
		{"by with ==", rule("      metric: m\n      op: '=='\n      value: 0\n      by: [pipeline]\n"),
			`bad.yaml:7: alerts.rules[0].by: applies only with >, >=, < or <= (groups compare their maximum or minimum), not ==`},
		{"scope on metric rule", rule("      metric: m\n      op: '>'\n      value: 1\n      scope: group\n"),
			`bad.yaml:7: alerts.rules[0].scope: applies only to status rules (a metric rule's series are its metric's)`},
		{"op on status rule", rule("      status: [STOP]\n      op: '>'\n"),
			`bad.yaml:5: alerts.rules[0].op: applies only to metric rules (a status rule fires on its statuses)`},
		{"value on status rule", rule("      status: [STOP]\n      value: 0\n"),
			`bad.yaml:5: alerts.rules[0].value: applies only to metric rules (a status rule fires on its statuses)`},
		{"unknown status", rule("      status: [STOP, STALLED]\n"),
			`bad.yaml:4: alerts.rules[0].status[1]: unknown status "STALLED" (expected some of: WARN, STALL, STOP, ERR, REWIND, PAUSED)`},
		{"unknown single status", rule("      status: stop\n"),
			`bad.yaml:4: alerts.rules[0].status: unknown status "stop" (expected some of: WARN, STALL, STOP, ERR, REWIND, PAUSED)`},
		{"OK status", rule("      status: [OK]\n"),
			`bad.yaml:4: alerts.rules[0].status[0]: OK is not a condition to alert on (expected some of: WARN, STALL, STOP, ERR, REWIND, PAUSED)`},
		{"duplicate status", rule("      status: [ERR, ERR]\n"),
			`bad.yaml:4: alerts.rules[0].status[1]: duplicate status "ERR"`},
		{"bad scope", rule("      status: [STOP]\n      scope: topic\n"),
			`bad.yaml:5: alerts.rules[0].scope: unknown scope "topic" (expected one of: pipeline, partition, group)`},
		{"match label of another scope", rule("      status: [STOP]\n      match: {topic: game.events}\n"),
			`bad.yaml:5: alerts.rules[0].match.topic: bigfather_pipeline_status has no label "topic" (its labels: pipeline; the statuses go in status)`},
		{"match status label", rule("      status: [STOP]\n      scope: partition\n      match: {status: ERR}\n"),
			`bad.yaml:6: alerts.rules[0].match.status: bigfather_partition_status has no label "status" (its labels: pipeline, topic, partition; the statuses go in status)`},
		{"bad match label", rule("      metric: m\n      op: '>'\n      value: 1\n      match: {__name__: m}\n"),
			`bad.yaml:7: alerts.rules[0].match.__name__: invalid label name "__name__" (expected letters, digits and _, not starting with a digit or __)`},
		{"negative for", rule("      status: [STOP]\n      for: -1m\n"),
			`bad.yaml:5: alerts.rules[0].for: must not be negative, got -1m0s`},
		{"bad severity", rule("      status: [STOP]\n      severity: high\n"),
			`bad.yaml:5: alerts.rules[0].severity: unknown severity "high" (expected one of: critical, error, warning, info)`},
		{"reserved label", rule("      status: [STOP]\n      labels: {severity: page}\n"),
			`bad.yaml:5: alerts.rules[0].labels.severity: label "severity" is set by the rule itself (alertname and severity from its name and severity)`},
		{"unknown runbook", rule("      status: [STOP]\n      runbook: stopped\n"),
			`bad.yaml:5: alerts.rules[0].runbook: unknown runbook "stopped" (expected an http(s):// URL or one of: err, stop, stall, rewind, paused, warn, consumer-group, table-not-fresh, lag-slo, not-ready, kafka-partitions-offline, kafka-under-replicated, table-small-files)`},
		{"unknown receiver", "alerts:\n  receivers: [{name: ops, type: webhook, url: 'http://127.0.0.1:1/'}]\n  rules:\n    - name: R\n      status: [STOP]\n      receivers: [ops, pager]\n" + minimal,
			`bad.yaml:6: alerts.rules[0].receivers[1]: unknown receiver "pager" (configured: ops)`},
		{"no receivers configured", rule("      status: [STOP]\n      receivers: [ops]\n"),
			`bad.yaml:5: alerts.rules[0].receivers[0]: unknown receiver "ops" (configured: none)`},
		{"bad receiver type", recv("      type: email\n"),
			`bad.yaml:4: alerts.receivers[0].type: unknown receiver type "email" (expected one of: opsgenie, slack, pagerduty, webhook)`},
		{"bad receiver name", "alerts:\n  receivers: [{name: 'on call', type: webhook, url: 'http://127.0.0.1:1/'}]\n" + minimal,
			`bad.yaml:2: alerts.receivers[0].name: invalid receiver name "on call" (expected a letter, then letters, digits, _ or -)`},
		{"duplicate receiver", "alerts:\n  receivers:\n    - {name: a, type: webhook, url: 'http://127.0.0.1:1/'}\n    - {name: a, type: webhook, url: 'http://127.0.0.1:2/'}\n" + minimal,
			`bad.yaml:4: alerts.receivers[1].name: duplicate receiver name "a" (also alerts.receivers[0])`},
		{"opsgenie without key", recv("      type: opsgenie\n"),
			`bad.yaml:3: alerts.receivers[0].api_key: missing required key for an opsgenie receiver (the key of an Opsgenie API integration)`},
		{"pagerduty without key", recv("      type: pagerduty\n"),
			`bad.yaml:3: alerts.receivers[0].routing_key: missing required key for a pagerduty receiver (the integration key of an Events API v2 integration)`},
		{"slack without url", recv("      type: slack\n"),
			`bad.yaml:3: alerts.receivers[0].url: missing required key for a slack receiver (the incoming webhook's URL, https://hooks.slack.com/services/...)`},
		{"webhook without url", recv("      type: webhook\n"),
			`bad.yaml:3: alerts.receivers[0].url: missing required key for a webhook receiver (the URL notifications are posted to)`},
		{"opsgenie url not http", recv("      type: opsgenie\n      api_key: k\n      url: api.opsgenie.com\n"),
			`bad.yaml:6: alerts.receivers[0].url: expected an http(s)://host[:port][/path] URL without user:password@, query or fragment, got "api.opsgenie.com"`},
		{"webhook url not http, not shown", recv("      type: webhook\n      url: ftp://example.com/hook-secret-token\n"),
			`bad.yaml:5: alerts.receivers[0].url: expected an http(s)://host[:port]/path URL without user:password@ (the value is not shown: it may be a secret)`},
		{"key on the wrong type", recv("      type: slack\n      url: https://hooks.slack.com/services/a\n      routing_key: abcdefgh\n"),
			`bad.yaml:6: alerts.receivers[0].routing_key: applies only to pagerduty receivers (this one is slack)`},
		{"bad min severity", recv("      type: webhook\n      url: http://127.0.0.1:1/\n      min_severity: urgent\n"),
			`bad.yaml:6: alerts.receivers[0].min_severity: unknown severity "urgent" (expected one of: critical, error, warning, info)`},
	})
}

// TestAlertsSecrets: receiver keys and secret URLs, from the file or the environment, appear in no error and
// not in String or %#v.
func TestAlertsSecrets(t *testing.T) {
	t.Setenv("BF_SLACK", testSlackURL)
	for _, tc := range []struct{ name, yaml, secret string }{
		{"slack url from env", "alerts:\n  receivers: [{name: s, type: slack, url: '${BF_SLACK}', api_key: x}]\n", testSlackURL},
		{"api key on slack", "alerts:\n  receivers: [{name: s, type: slack, url: 'https://hooks.slack.com/x', api_key: " + testGenieKey + "}]\n", testGenieKey},
		{"routing key with bad severity", "alerts:\n  receivers: [{name: p, type: pagerduty, routing_key: " + testRoutingKey + ", min_severity: " + testRoutingKey + "}]\n", testRoutingKey},
		{"webhook url with bad user", "alerts:\n  receivers: [{name: w, type: webhook, url: 'https://u:pw@hooks.example.com/secret-path-1234'}]\n", "secret-path-1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.yaml+minimal))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
	a := Alerts{Builtin: true, Receivers: []AlertReceiver{
		{Name: "ops", Type: "opsgenie", URL: DefaultOpsgenieURL, APIKey: testGenieKey},
		{Name: "chat", Type: "slack", URL: testSlackURL},
		{Name: "pd", Type: "pagerduty", URL: DefaultPagerDutyURL, RoutingKey: testRoutingKey},
	}}
	for _, s := range []string{a.String(), fmt.Sprintf("%#v", a), fmt.Sprintf("%v", a.Receivers), fmt.Sprintf("%+v", a)} {
		for _, secret := range []string{testGenieKey, testSlackURL, testRoutingKey} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows a secret", s)
			}
		}
	}
	if want := `{name: "ops", type: "opsgenie", url: "https://api.opsgenie.com", api_key: "<redacted>", routing_key: "", min_severity: ""}`; a.Receivers[0].String() != want {
		t.Errorf("String() = %s\nwant %s", a.Receivers[0].String(), want)
	}
}
