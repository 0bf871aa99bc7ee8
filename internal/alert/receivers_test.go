package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bigfather/bigfather/internal/config"
)

// request is what a receiver server got.
type request struct {
	method, path, escapedPath, query string
	header                           http.Header
	body                             map[string]any
	raw                              string
}

// server is a receiver endpoint on 127.0.0.1 that records requests and answers with the given statuses in
// turn (the last one from then on).
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	count    int // requests ever received
	statuses []int
	answer   string
}

func newServer(t *testing.T, answer string, statuses ...int) *server {
	t.Helper()
	s := &server{statuses: statuses, answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("%s %s: body is not a JSON object: %v: %q", r.Method, r.URL, err, data)
		}
		s.mu.Lock()
		s.requests = append(s.requests, request{method: r.Method, path: r.URL.Path, escapedPath: r.URL.EscapedPath(),
			query: r.URL.RawQuery, header: r.Header.Clone(), body: body, raw: string(data)})
		s.count++
		code := s.statuses[min(s.count, len(s.statuses))-1]
		s.mu.Unlock()
		w.WriteHeader(code)
		_, _ = io.WriteString(w, s.answer)
	}))
	t.Cleanup(s.Close)
	return s
}

// take returns the requests received since the last take.
func (s *server) take() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests
	s.requests = nil
	return r
}

// stalled is a firing status alert, as the engine hands it to receivers.
func stalled() Alert {
	return Alert{
		Rule: "BigFatherPipelineStalled", Key: `BigFatherPipelineStalled{pipeline="game-events"}`, State: StateFiring, Severity: Error,
		Labels:  map[string]string{"pipeline": "game-events", "status": "STALL"},
		Summary: "pipeline game-events is STALL: it runs but its offsets do not move",
		Runbook: "stall", RunbookURL: "http://bf.internal:8080/ui/runbooks/stall", Value: 1,
		ActiveAt: t0, FiredAt: t0.Add(100 * time.Second),
	}
}

func resolvedOf(a Alert) Alert {
	a.State, a.ResolvedAt = StateResolved, t0.Add(10*time.Minute)
	return a
}

func mustReceiver(t *testing.T, c config.AlertReceiver) Receiver {
	t.Helper()
	r, err := NewReceiver(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkRequest(t *testing.T, what string, got request, method, path, escapedPath, query string, headers map[string]string, body map[string]any) {
	t.Helper()
	if got.method != method || got.path != path || got.escapedPath != escapedPath || got.query != query {
		t.Errorf("%s: %s %s (escaped %s) ?%s\nwant %s %s (escaped %s) ?%s", what, got.method, got.path, got.escapedPath, got.query,
			method, path, escapedPath, query)
	}
	for k, v := range headers {
		if g := got.header.Get(k); g != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, g, v)
		}
	}
	if !reflect.DeepEqual(got.body, body) {
		g, _ := json.MarshalIndent(got.body, "", "  ")
		w, _ := json.MarshalIndent(body, "", "  ")
		t.Errorf("%s: body\n got %s\nwant %s", what, g, w)
	}
}

const genieKey = "genie-key-0123456789abcdef"

// TestOpsgenie: a firing alert is created with POST /v2/alerts, GenieKey authorization, the alias, priority
// from severity and the runbook in description and details; a resolve closes it by alias.
func TestOpsgenie(t *testing.T) {
	s := newServer(t, `{"result":"Request will be processed","took":0.1,"requestId":"x"}`, http.StatusAccepted)
	r := mustReceiver(t, config.AlertReceiver{Name: "ops", Type: "opsgenie", URL: s.URL + "/", APIKey: genieKey})
	ctx := context.Background()
	if err := r.Send(ctx, stalled()); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, resolvedOf(stalled())); err != nil {
		t.Fatal(err)
	}
	reqs := s.take()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	headers := map[string]string{"Authorization": "GenieKey " + genieKey, "Content-Type": "application/json"}
	checkRequest(t, "create", reqs[0], "POST", "/v2/alerts", "/v2/alerts", "", headers, map[string]any{
		"message": "pipeline game-events is STALL: it runs but its offsets do not move",
		"alias":   `BigFatherPipelineStalled{pipeline="game-events"}`,
		"description": "pipeline game-events is STALL: it runs but its offsets do not move\n\n" +
			"Rule: BigFatherPipelineStalled (error)\nLabels: pipeline=game-events, status=STALL\nValue: 1\n" +
			"Active since: 2026-03-01T12:00:00Z\nRunbook: http://bf.internal:8080/ui/runbooks/stall\n",
		"tags": []any{"bigfather", "error", "BigFatherPipelineStalled"},
		"details": map[string]any{"pipeline": "game-events", "status": "STALL", "alert_rule": "BigFatherPipelineStalled",
			"alert_value": "1", "active_since": "2026-03-01T12:00:00Z", "runbook_url": "http://bf.internal:8080/ui/runbooks/stall"},
		"entity":   "game-events",
		"source":   "bigfather",
		"priority": "P2",
	})
	checkRequest(t, "close", reqs[1], "POST", `/v2/alerts/BigFatherPipelineStalled{pipeline="game-events"}/close`,
		"/v2/alerts/BigFatherPipelineStalled%7Bpipeline=%22game-events%22%7D/close", "identifierType=alias", headers, map[string]any{
			"source": "bigfather",
			"note":   "Resolved at 2026-03-01T12:10:00Z: pipeline game-events is STALL: it runs but its offsets do not move",
		})
}

// TestOpsgenieFields: priority follows severity, the message is cut to 130 characters, and an alias with a
// slash stays one path segment.
func TestOpsgenieFields(t *testing.T) {
	s := newServer(t, "{}", http.StatusAccepted)
	r := mustReceiver(t, config.AlertReceiver{Name: "ops", Type: "opsgenie", URL: s.URL, APIKey: genieKey})
	for sev, want := range map[Severity]string{Critical: "P1", Error: "P2", Warning: "P3", Info: "P5"} {
		a := stalled()
		a.Severity = sev
		if err := r.Send(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if got := s.take()[0].body["priority"]; got != want {
			t.Errorf("severity %s: priority %v, want %s", sev, got, want)
		}
	}
	a := stalled()
	a.Summary = strings.Repeat("é", 200)
	a.Key = `R{table="a/b"}`
	if err := r.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	got := s.take()[0]
	if msg := got.body["message"].(string); msg != strings.Repeat("é", 129)+"…" {
		t.Errorf("message of a 200-character summary = %q (%d characters), want 129 and an ellipsis", msg, len([]rune(msg)))
	}
	if err := r.Send(context.Background(), resolvedOf(a)); err != nil {
		t.Fatal(err)
	}
	if got := s.take()[0]; got.escapedPath != "/v2/alerts/R%7Btable=%22a%2Fb%22%7D/close" || got.path != `/v2/alerts/R{table="a/b"}/close` {
		t.Errorf("close path = %s (%s)", got.escapedPath, got.path)
	}
}

// TestSlack: firing and resolved messages are posted to the webhook URL as {"text": ...} in mrkdwn, with
// Slack's three special characters escaped.
func TestSlack(t *testing.T) {
	s := newServer(t, "ok", http.StatusOK)
	r := mustReceiver(t, config.AlertReceiver{Name: "chat", Type: "slack", URL: s.URL + "/services/T000/B000/XXXX"})
	a := stalled()
	a.Summary = "pipeline <game-events> & friends"
	ctx := context.Background()
	if err := r.Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, resolvedOf(a)); err != nil {
		t.Fatal(err)
	}
	reqs := s.take()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	h := map[string]string{"Content-Type": "application/json", "Authorization": ""}
	checkRequest(t, "firing", reqs[0], "POST", "/services/T000/B000/XXXX", "/services/T000/B000/XXXX", "", h, map[string]any{
		"text": ":rotating_light: *FIRING* [error] BigFatherPipelineStalled\npipeline &lt;game-events&gt; &amp; friends\n" +
			"`pipeline=game-events, status=STALL`\nActive since 2026-03-01T12:00:00Z, value 1\n<http://bf.internal:8080/ui/runbooks/stall|Runbook>",
	})
	checkRequest(t, "resolved", reqs[1], "POST", "/services/T000/B000/XXXX", "/services/T000/B000/XXXX", "", h, map[string]any{
		"text": ":white_check_mark: *RESOLVED* [error] BigFatherPipelineStalled\npipeline &lt;game-events&gt; &amp; friends\n" +
			"`pipeline=game-events, status=STALL`\nActive from 2026-03-01T12:00:00Z to 2026-03-01T12:10:00Z\n<http://bf.internal:8080/ui/runbooks/stall|Runbook>",
	})
}

const routingKey = "R0UT1NGKEY0123456789abcdefABCDEF"

// TestPagerDuty: a trigger event carries routing_key, dedup_key, the payload and the runbook link; a resolve
// carries routing_key, event_action and dedup_key only.
func TestPagerDuty(t *testing.T) {
	s := newServer(t, `{"status":"success","message":"Event processed","dedup_key":"x"}`, http.StatusAccepted)
	r := mustReceiver(t, config.AlertReceiver{Name: "pd", Type: "pagerduty", URL: s.URL + "/v2/enqueue", RoutingKey: routingKey})
	ctx := context.Background()
	if err := r.Send(ctx, stalled()); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, resolvedOf(stalled())); err != nil {
		t.Fatal(err)
	}
	reqs := s.take()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	h := map[string]string{"Content-Type": "application/json"}
	key := `BigFatherPipelineStalled{pipeline="game-events"}`
	checkRequest(t, "trigger", reqs[0], "POST", "/v2/enqueue", "/v2/enqueue", "", h, map[string]any{
		"routing_key": routingKey, "event_action": "trigger", "dedup_key": key, "client": "Big Father",
		"payload": map[string]any{
			"summary": "pipeline game-events is STALL: it runs but its offsets do not move", "source": "bigfather",
			"severity": "error", "timestamp": "2026-03-01T12:01:40Z", "component": "game-events", "group": "pipeline",
			"class":          "BigFatherPipelineStalled",
			"custom_details": map[string]any{"pipeline": "game-events", "status": "STALL", "value": "1", "active_since": "2026-03-01T12:00:00Z"},
		},
		"links": []any{map[string]any{"href": "http://bf.internal:8080/ui/runbooks/stall", "text": "Runbook"}},
	})
	checkRequest(t, "resolve", reqs[1], "POST", "/v2/enqueue", "/v2/enqueue", "", h, map[string]any{
		"routing_key": routingKey, "event_action": "resolve", "dedup_key": key,
	})
	// Each severity is PagerDuty's own, and a long summary is cut to 1024 characters.
	a := stalled()
	a.Severity, a.Summary = Info, strings.Repeat("x", 2000)
	if err := r.Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	p := s.take()[0].body["payload"].(map[string]any)
	if p["severity"] != "info" || len([]rune(p["summary"].(string))) != 1024 {
		t.Errorf("payload severity %v, summary of %d characters", p["severity"], len([]rune(p["summary"].(string))))
	}
}

// TestWebhook: the documented JSON shape, firing and resolved.
func TestWebhook(t *testing.T) {
	s := newServer(t, "", http.StatusNoContent)
	r := mustReceiver(t, config.AlertReceiver{Name: "hook", Type: "webhook", URL: s.URL + "/hooks/bigfather?token=abc"})
	ctx := context.Background()
	if err := r.Send(ctx, stalled()); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, resolvedOf(stalled())); err != nil {
		t.Fatal(err)
	}
	reqs := s.take()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	want := map[string]any{
		"version": "1", "status": "firing", "rule": "BigFatherPipelineStalled", "key": `BigFatherPipelineStalled{pipeline="game-events"}`,
		"severity": "error", "labels": map[string]any{"pipeline": "game-events", "status": "STALL"},
		"summary":     "pipeline game-events is STALL: it runs but its offsets do not move",
		"runbook_url": "http://bf.internal:8080/ui/runbooks/stall", "starts_at": "2026-03-01T12:00:00Z",
		"fired_at": "2026-03-01T12:01:40Z", "value": 1.0,
	}
	h := map[string]string{"Content-Type": "application/json"}
	checkRequest(t, "firing", reqs[0], "POST", "/hooks/bigfather", "/hooks/bigfather", "token=abc", h, want)
	want["status"], want["ends_at"] = "resolved", "2026-03-01T12:10:00Z"
	checkRequest(t, "resolved", reqs[1], "POST", "/hooks/bigfather", "/hooks/bigfather", "token=abc", h, want)
}

// TestReceiverErrorsHideSecrets: failed posts name the receiver and the status or cause, never the URL's path
// or a key.
func TestReceiverErrorsHideSecrets(t *testing.T) {
	s := newServer(t, "invalid_token", http.StatusForbidden)
	secretPath := "/services/T000/B000/s3cr3tPATH"
	r := mustReceiver(t, config.AlertReceiver{Name: "chat", Type: "slack", URL: s.URL + secretPath})
	err := r.Send(context.Background(), stalled())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden || err.Error() != "receiver chat answered HTTP 403: invalid_token" {
		t.Errorf("error = %v", err)
	}
	s.Close()
	err = r.Send(context.Background(), stalled())
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "receiver chat: posting the notification: ") {
		t.Errorf("error of a closed server = %v", err)
	}
	if !retryable(err) {
		t.Error("a connection error must be retried")
	}
	for _, c := range []config.AlertReceiver{
		{Name: "x", Type: "opsgenie", URL: "https://api.opsgenie.com"},
		{Name: "x", Type: "pagerduty", URL: config.DefaultPagerDutyURL},
		{Name: "x", Type: "email", URL: "https://example.com"},
		{Name: "x", Type: "slack", URL: "hooks.slack.com/services/s3cr3t"},
	} {
		if _, err := NewReceiver(c, nil); err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("NewReceiver(%v) = %v, want an error without the URL", c, err)
		}
	}
}

// TestEndToEnd: one rule from a config with for: 1s fires to Opsgenie, Slack, PagerDuty and a webhook once it
// has held for a second, Opsgenie's first answer (500) is retried, and every receiver hears the resolve after
// recovery. The log names receivers, never their URLs or keys.
func TestEndToEnd(t *testing.T) {
	ops := newServer(t, "{}", http.StatusInternalServerError, http.StatusAccepted)
	slack := newServer(t, "ok", http.StatusOK)
	pd := newServer(t, `{"status":"success"}`, http.StatusAccepted)
	hook := newServer(t, "", http.StatusOK)
	t.Setenv("BF_TEST_GENIE", genieKey)
	t.Setenv("BF_TEST_PD", routingKey)
	t.Setenv("BF_TEST_SLACK", slack.URL+"/services/T1/B1/slackSECRET")
	cfg, err := config.Parse("e2e.yaml", []byte(`alerts:
  builtin: false
  console_url: http://bf.internal:8080
  rules:
    - name: PipelineBroken
      status: [STALL, ERR]
      for: 1s
      severity: critical
      labels: {team: data}
      runbook: stall
  receivers:
    - {name: ops, type: opsgenie, url: "`+ops.URL+`", api_key: "${BF_TEST_GENIE}"}
    - {name: chat, type: slack, url: "${BF_TEST_SLACK}"}
    - {name: pd, type: pagerduty, url: "`+pd.URL+`/v2/enqueue", routing_key: "${BF_TEST_PD}"}
    - {name: hook, type: webhook, url: "`+hook.URL+`/hookSECRET"}
pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events, columns: [{name: id, type: string}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := Rules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	receivers, err := NewReceivers(cfg.Alerts.Receivers, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	var logs bytes.Buffer
	metrics := prometheus.NewRegistry()
	e, err := New(rules, receivers, w.reg, WithRegisterer(metrics), WithRetry(3, 5*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	step := func(at time.Duration, status string) {
		t.Helper()
		setStatus(w.pipeline, status, "game-events")
		if err := e.Evaluate(ctx, t0.Add(at)); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(0, "STALL")
	step(500*time.Millisecond, "ERR")
	for _, s := range []*server{ops, slack, pd, hook} {
		if got := s.take(); len(got) != 0 {
			t.Fatalf("a notification before the rule's for: %+v", got)
		}
	}
	step(time.Second, "ERR")
	key := `PipelineBroken{pipeline="game-events"}`
	creates := ops.take()
	if len(creates) != 2 || creates[0].path != "/v2/alerts" || creates[1].path != "/v2/alerts" || creates[1].body["alias"] != key ||
		creates[1].body["priority"] != "P1" || creates[1].header.Get("Authorization") != "GenieKey "+genieKey {
		t.Errorf("opsgenie: want a create answered 500 then the same create again, got %+v", creates)
	} else if creates[0].raw != creates[1].raw {
		t.Errorf("the retry differs from the first attempt:\n%s\n%s", creates[0].raw, creates[1].raw)
	}
	if got := slack.take(); len(got) != 1 || !strings.HasPrefix(got[0].body["text"].(string), ":rotating_light: *FIRING* [critical] PipelineBroken\npipeline game-events is ERR\n") {
		t.Errorf("slack: %+v", got)
	}
	if got := pd.take(); len(got) != 1 || got[0].body["event_action"] != "trigger" || got[0].body["dedup_key"] != key || got[0].body["routing_key"] != routingKey {
		t.Errorf("pagerduty: %+v", got)
	}
	got := hook.take()
	if len(got) != 1 || got[0].body["status"] != "firing" || got[0].body["runbook_url"] != "http://bf.internal:8080/ui/runbooks/stall" ||
		!reflect.DeepEqual(got[0].body["labels"], map[string]any{"pipeline": "game-events", "status": "ERR", "team": "data"}) {
		t.Errorf("webhook: %+v", got)
	}
	// Still broken, now STALL: the same alert, nothing new.
	step(2*time.Second, "STALL")
	for _, s := range []*server{ops, slack, pd, hook} {
		if got := s.take(); len(got) != 0 {
			t.Errorf("a duplicate notification while firing: %+v", got)
		}
	}
	step(3*time.Second, "OK")
	if got := ops.take(); len(got) != 1 || got[0].path != "/v2/alerts/"+key+"/close" || got[0].query != "identifierType=alias" {
		t.Errorf("opsgenie resolve: %+v", got)
	}
	if got := slack.take(); len(got) != 1 || !strings.HasPrefix(got[0].body["text"].(string), ":white_check_mark: *RESOLVED*") {
		t.Errorf("slack resolve: %+v", got)
	}
	if got := pd.take(); len(got) != 1 || got[0].body["event_action"] != "resolve" || got[0].body["dedup_key"] != key {
		t.Errorf("pagerduty resolve: %+v", got)
	}
	if got := hook.take(); len(got) != 1 || got[0].body["status"] != "resolved" || got[0].body["ends_at"] != "2026-03-01T12:00:03Z" {
		t.Errorf("webhook resolve: %+v", got)
	}
	want := map[[2]string]float64{{"ops", "ok"}: 2, {"ops", "retry"}: 1, {"ops", "failed"}: 0, {"chat", "ok"}: 2, {"pd", "ok"}: 2, {"hook", "ok"}: 2}
	for k, v := range want {
		if got := testutil.ToFloat64(e.deliverer.sent.WithLabelValues(k[0], k[1])); got != v {
			t.Errorf("notifications{receiver=%s,result=%s} = %v, want %v", k[0], k[1], got, v)
		}
	}
	if !strings.Contains(logs.String(), "alert notification failed; retrying") || !strings.Contains(logs.String(), "receiver=ops") {
		t.Errorf("the retry is not logged:\n%s", logs.String())
	}
	for _, secret := range []string{genieKey, routingKey, "slackSECRET", "hookSECRET"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows a secret (%s):\n%s", secret, logs.String())
		}
	}
}
