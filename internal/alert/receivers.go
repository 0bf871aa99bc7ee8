package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bigfather/bigfather/internal/config"
)

// Source is how notifications name their sender (Opsgenie's source, PagerDuty's payload.source).
const Source = "bigfather"

// StatusError is a receiver's answer with an unexpected HTTP status.
type StatusError struct {
	// Receiver is the receiver's name.
	Receiver string
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body.
	Body string
}

// Error says which receiver answered what.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("receiver %s answered HTTP %d", e.Receiver, e.Code)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// NewReceivers builds the receivers a config names; client nil means one with a 10-second timeout.
func NewReceivers(cfgs []config.AlertReceiver, client *http.Client) ([]Receiver, error) {
	out := make([]Receiver, 0, len(cfgs))
	for _, c := range cfgs {
		r, err := NewReceiver(c, client)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// NewReceiver builds one receiver from its config: opsgenie, slack, pagerduty or webhook (an empty URL means
// the default of opsgenie and pagerduty). client nil means one with a 10-second timeout. Errors never show the receiver's URL or keys.
func NewReceiver(c config.AlertReceiver, client *http.Client) (Receiver, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.MinSeverity != "" && Severity(c.MinSeverity).rank() == len(severities) {
		return nil, fmt.Errorf("receiver %s: unknown min_severity %q", c.Name, c.MinSeverity)
	}
	switch {
	case c.URL == "" && c.Type == config.ReceiverOpsgenie:
		c.URL = config.DefaultOpsgenieURL
	case c.URL == "" && c.Type == config.ReceiverPagerDuty:
		c.URL = config.DefaultPagerDutyURL
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("receiver %s: url is not an http(s) URL", c.Name)
	}
	b := base{name: c.Name, min: Severity(c.MinSeverity), url: strings.TrimRight(c.URL, "/"), client: client}
	switch c.Type {
	case config.ReceiverOpsgenie:
		if c.APIKey == "" {
			return nil, fmt.Errorf("receiver %s: opsgenie needs api_key", c.Name)
		}
		return &Opsgenie{base: b, key: c.APIKey}, nil
	case config.ReceiverSlack:
		b.url = c.URL // a webhook URL is used exactly as given
		return &Slack{base: b}, nil
	case config.ReceiverPagerDuty:
		if c.RoutingKey == "" {
			return nil, fmt.Errorf("receiver %s: pagerduty needs routing_key", c.Name)
		}
		b.url = c.URL
		return &PagerDuty{base: b, routingKey: c.RoutingKey}, nil
	case config.ReceiverWebhook:
		b.url = c.URL
		return &Webhook{base: b}, nil
	}
	return nil, fmt.Errorf("receiver %s: unknown type %q", c.Name, c.Type)
}

// base is what every HTTP receiver shares: its name, severity filter, URL and client.
type base struct {
	name   string
	min    Severity
	url    string
	client *http.Client
}

// Name returns the receiver's name.
func (b *base) Name() string { return b.name }

// Accepts reports whether s is at least the receiver's min_severity.
func (b *base) Accepts(s Severity) bool { return s.AtLeast(b.min) }

// post sends body as JSON to target with headers, and returns a *StatusError unless the answer's status is
// one of ok. Errors never include target (it may hold a secret) or the headers.
func (b *base) post(ctx context.Context, target string, headers map[string]string, body any, ok ...int) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("receiver %s: encoding the notification: %w", b.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("receiver %s: building the request failed", b.name)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bigfather-alerts")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error's text quotes the URL
		}
		return fmt.Errorf("receiver %s: posting the notification: %w", b.name, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if slices.Contains(ok, resp.StatusCode) {
		return nil
	}
	return &StatusError{Receiver: b.name, Code: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(text), "?"))}
}

// truncate cuts s to at most n characters, ending it with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// entity is what an alert is about: its pipeline, table, consumer group or readiness check, else the rule.
func entity(a Alert) (kind, name string) {
	for _, k := range []string{"pipeline", "table", "group", "check"} {
		if v := a.Labels[k]; v != "" {
			return k, v
		}
	}
	return "rule", a.Rule
}

// labelText lists labels as k=v, sorted, comma-separated.
func labelText(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ", ")
}

// Opsgenie creates alerts through Opsgenie's Alert API and closes them on resolve, by alias (the alert's
// Key): POST {url}/v2/alerts and POST {url}/v2/alerts/{alias}/close?identifierType=alias, authorized with
// "Authorization: GenieKey KEY". Priority follows severity: critical P1, error P2, warning P3, info P5.
type Opsgenie struct {
	base
	key string
}

// opsgenieCreate is the body of Opsgenie's create-alert request.
type opsgenieCreate struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
}

// opsgenieClose is the body of Opsgenie's close-alert request.
type opsgenieClose struct {
	Source string `json:"source"`
	Note   string `json:"note"`
}

var opsgeniePriority = map[Severity]string{Critical: "P1", Error: "P2", Warning: "P3", Info: "P5"}

// Limits of Opsgenie's Alert API fields, in characters.
const (
	opsgenieMessageMax     = 130
	opsgenieAliasMax       = 512
	opsgenieDescriptionMax = 15000
	opsgenieTagMax         = 50
	opsgenieEntityMax      = 512
	opsgenieNoteMax        = 25000
)

// Send creates the alert (firing) or closes it (resolved).
func (o *Opsgenie) Send(ctx context.Context, a Alert) error {
	auth := map[string]string{"Authorization": "GenieKey " + o.key}
	alias := truncate(a.Key, opsgenieAliasMax)
	if a.State == StateResolved {
		target := o.url + "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias"
		note := truncate("Resolved at "+a.ResolvedAt.UTC().Format(time.RFC3339)+": "+a.Summary, opsgenieNoteMax)
		return o.post(ctx, target, auth, opsgenieClose{Source: Source, Note: note}, http.StatusAccepted)
	}
	details := maps.Clone(a.Labels)
	if details == nil {
		details = map[string]string{}
	}
	details["alert_rule"] = a.Rule
	details["alert_value"] = formatValue(a.Value)
	details["active_since"] = a.ActiveAt.UTC().Format(time.RFC3339)
	if a.RunbookURL != "" {
		details["runbook_url"] = a.RunbookURL
	}
	_, name := entity(a)
	return o.post(ctx, o.url+"/v2/alerts", auth, opsgenieCreate{
		Message:     truncate(a.Summary, opsgenieMessageMax),
		Alias:       alias,
		Description: truncate(description(a), opsgenieDescriptionMax),
		Tags:        []string{"bigfather", truncate(string(a.Severity), opsgenieTagMax), truncate(a.Rule, opsgenieTagMax)},
		Details:     details,
		Entity:      truncate(name, opsgenieEntityMax),
		Source:      Source,
		Priority:    opsgeniePriority[a.Severity],
	}, http.StatusAccepted)
}

// description is the long text of an alert: summary, rule, labels, value, since when, and the runbook.
func description(a Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nRule: %s (%s)\n", a.Summary, a.Rule, a.Severity)
	if len(a.Labels) > 0 {
		fmt.Fprintf(&b, "Labels: %s\n", labelText(a.Labels))
	}
	fmt.Fprintf(&b, "Value: %s\nActive since: %s\n", formatValue(a.Value), a.ActiveAt.UTC().Format(time.RFC3339))
	if a.RunbookURL != "" {
		fmt.Fprintf(&b, "Runbook: %s\n", a.RunbookURL)
	}
	return b.String()
}

// Slack posts firing and resolved messages to a Slack incoming webhook: {"text": ...} in Slack's mrkdwn,
// with the runbook as a link. Slack answers 200 "ok".
type Slack struct{ base }

// slackMessage is the body of an incoming-webhook post.
type slackMessage struct {
	Text string `json:"text"`
}

// Send posts the message.
func (s *Slack) Send(ctx context.Context, a Alert) error {
	return s.post(ctx, s.url, nil, slackMessage{Text: slackText(a)}, http.StatusOK)
}

// slackText renders an alert in Slack's mrkdwn.
func slackText(a Alert) string {
	var b strings.Builder
	if a.State == StateResolved {
		fmt.Fprintf(&b, ":white_check_mark: *RESOLVED* [%s] %s\n", a.Severity, slackEscape(a.Rule))
	} else {
		fmt.Fprintf(&b, ":rotating_light: *FIRING* [%s] %s\n", a.Severity, slackEscape(a.Rule))
	}
	b.WriteString(slackEscape(a.Summary) + "\n")
	if len(a.Labels) > 0 {
		b.WriteString("`" + slackEscape(strings.ReplaceAll(labelText(a.Labels), "`", "'")) + "`\n")
	}
	if a.State == StateResolved {
		fmt.Fprintf(&b, "Active from %s to %s", a.ActiveAt.UTC().Format(time.RFC3339), a.ResolvedAt.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "Active since %s, value %s", a.ActiveAt.UTC().Format(time.RFC3339), formatValue(a.Value))
	}
	if a.RunbookURL != "" {
		fmt.Fprintf(&b, "\n<%s|Runbook>", slackEscape(a.RunbookURL))
	}
	return b.String()
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// PagerDuty sends Events API v2 events: trigger when an alert fires, resolve when it resolves, with the
// alert's Key as dedup_key. PagerDuty answers 202.
type PagerDuty struct {
	base
	routingKey string
}

// pagerDutyEvent is an Events API v2 event.
type pagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *pagerDutyPayload `json:"payload,omitempty"`
	Links       []pagerDutyLink   `json:"links,omitempty"`
	Client      string            `json:"client,omitempty"`
}

type pagerDutyPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp"`
	Component     string            `json:"component"`
	Group         string            `json:"group"`
	Class         string            `json:"class"`
	CustomDetails map[string]string `json:"custom_details"`
}

type pagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// pagerDutySummaryMax is the longest payload.summary PagerDuty takes.
const pagerDutySummaryMax = 1024

// Send triggers or resolves the event.
func (p *PagerDuty) Send(ctx context.Context, a Alert) error {
	ev := pagerDutyEvent{RoutingKey: p.routingKey, EventAction: "trigger", DedupKey: a.Key}
	if a.State == StateResolved {
		ev.EventAction = "resolve"
		return p.post(ctx, p.url, nil, ev, http.StatusAccepted)
	}
	details := maps.Clone(a.Labels)
	if details == nil {
		details = map[string]string{}
	}
	details["value"] = formatValue(a.Value)
	details["active_since"] = a.ActiveAt.UTC().Format(time.RFC3339)
	kind, name := entity(a)
	ev.Client = "Big Father"
	ev.Payload = &pagerDutyPayload{
		Summary:       truncate(a.Summary, pagerDutySummaryMax),
		Source:        Source,
		Severity:      string(a.Severity),
		Timestamp:     a.FiredAt.UTC().Format(time.RFC3339),
		Component:     name,
		Group:         kind,
		Class:         a.Rule,
		CustomDetails: details,
	}
	if a.RunbookURL != "" {
		ev.Links = []pagerDutyLink{{Href: a.RunbookURL, Text: "Runbook"}}
	}
	return p.post(ctx, p.url, nil, ev, http.StatusAccepted)
}

// Webhook posts every notification as JSON to a URL and takes any 2xx answer:
//
//	{
//	  "version": "1",
//	  "status": "firing",                         // or "resolved"
//	  "rule": "BigFatherPipelineStalled",
//	  "key": "BigFatherPipelineStalled{pipeline=\"game-events\"}",   // stable per alert: dedupe on it
//	  "severity": "error",                        // critical, error, warning or info
//	  "labels": {"pipeline": "game-events", "status": "STALL"},
//	  "summary": "pipeline game-events is STALL: it runs but its offsets do not move",
//	  "runbook_url": "http://bigfather.internal:8080/ui/runbooks/stall",   // omitted without a runbook
//	  "starts_at": "2026-01-02T15:04:05Z",        // when the condition began
//	  "fired_at": "2026-01-02T15:05:45Z",         // when the alert fired (after the rule's for)
//	  "ends_at": "2026-01-02T15:20:00Z",          // resolved notifications only
//	  "value": 1                                  // null when not a finite number
//	}
type Webhook struct{ base }

// WebhookPayload is the JSON body a Webhook receiver posts.
type WebhookPayload struct {
	Version    string            `json:"version"`
	Status     State             `json:"status"`
	Rule       string            `json:"rule"`
	Key        string            `json:"key"`
	Severity   Severity          `json:"severity"`
	Labels     map[string]string `json:"labels"`
	Summary    string            `json:"summary"`
	RunbookURL string            `json:"runbook_url,omitempty"`
	StartsAt   time.Time         `json:"starts_at"`
	FiredAt    time.Time         `json:"fired_at"`
	EndsAt     *time.Time        `json:"ends_at,omitempty"`
	Value      *float64          `json:"value"`
}

// Send posts the payload.
func (w *Webhook) Send(ctx context.Context, a Alert) error {
	p := WebhookPayload{Version: "1", Status: a.State, Rule: a.Rule, Key: a.Key, Severity: a.Severity, Labels: a.Labels,
		Summary: a.Summary, RunbookURL: a.RunbookURL, StartsAt: a.ActiveAt.UTC(), FiredAt: a.FiredAt.UTC(), Value: finite(a.Value)}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if a.State == StateResolved {
		end := a.ResolvedAt.UTC()
		p.EndsAt = &end
	}
	return w.post(ctx, w.url, nil, p, okStatuses...)
}

// okStatuses are the 2xx statuses.
var okStatuses = func() []int {
	var s []int
	for c := 200; c < 300; c++ {
		s = append(s, c)
	}
	return s
}()
