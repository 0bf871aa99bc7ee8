package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is where an alert is in its life.
type State string

// The alert states.
const (
	// StatePending: the condition holds, for less than the rule's For so far.
	StatePending State = "pending"
	// StateFiring: the condition has held for the rule's For; receivers were notified.
	StateFiring State = "firing"
	// StateResolved: the condition no longer holds (only in resolve notifications).
	StateResolved State = "resolved"
)

// Alert is one alert: a rule and the series it matched.
type Alert struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Key identifies the alert: the rule's name and the series' labels (without status for status rules). It is
	// Opsgenie's alias and PagerDuty's dedup_key.
	Key string `json:"key"`
	// State is pending or firing (resolved in resolve notifications).
	State State `json:"state"`
	// Severity is the rule's severity.
	Severity Severity `json:"severity"`
	// Labels are the series' labels (with the current status for status rules) and the rule's labels.
	Labels map[string]string `json:"labels"`
	// Summary is the rule's summary filled in for this series.
	Summary string `json:"summary"`
	// Runbook is the rule's runbook id or URL, RunbookURL the link to it ("" for none).
	Runbook    string `json:"runbook,omitempty"`
	RunbookURL string `json:"runbook_url,omitempty"`
	// Value is the series' value at the last evaluation (1 for status rules). JSON writes NaN and ±Inf as null.
	Value float64 `json:"value"`
	// ActiveAt is when the condition began to hold (the evaluation that first saw it).
	ActiveAt time.Time `json:"active_at"`
	// FiredAt is when the alert fired; zero while pending.
	FiredAt time.Time `json:"fired_at,omitzero"`
	// ResolvedAt is when the condition stopped holding; set in resolve notifications only.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// MarshalJSON writes the alert with a value JSON can hold: NaN and ±Inf become null.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(a), finite(a.Value)})
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (a Alert) clone() Alert {
	a.Labels = maps.Clone(a.Labels)
	return a
}

// Engine evaluates rules over a gatherer's metrics and notifies receivers. Its methods are safe for
// concurrent use. New starts one delivery goroutine per receiver; Close stops them.
type Engine struct {
	rules     []Rule
	gatherer  prometheus.Gatherer
	log       *slog.Logger
	firing    *prometheus.GaugeVec
	deliverer *deliverer

	gate func() bool

	mu     sync.Mutex
	active map[string]*entry // by Alert.Key
}

// entry is an alert the engine tracks and the rule it belongs to.
type entry struct {
	rule  *Rule
	alert Alert
	// sent says the firing notification went out (false while another process notifies: see WithNotifyGate).
	sent bool
}

// Option configures an Engine.
type Option func(*options)

type options struct {
	reg        prometheus.Registerer
	log        *slog.Logger
	attempts   int
	backoff    time.Duration
	maxBackoff time.Duration
	queue      int
	gate       func() bool
}

// WithRegisterer registers the engine's metrics on reg: bigfather_alerts_firing{rule,severity} and
// bigfather_alert_notifications_total{receiver,result} (result: ok, retry, failed). Without it they are kept
// but not exposed.
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithLogger logs failed and retried notifications (never a receiver's URL or key) and evaluation errors to
// log. The default discards them.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// WithRetry sets how often a notification is attempted (at least 1; default 6) and the wait before the first
// retry (default 1s), which doubles after every failure up to a minute. Only failures a retry may cure are
// retried: network errors, HTTP 429 and 5xx.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) {
		o.attempts, o.backoff = max(attempts, 1), max(backoff, time.Millisecond)
	}
}

// WithQueue sets how many notifications may wait per receiver (default 1000); a notification that finds the
// queue full is dropped, logged and counted as failed, so evaluation never blocks.
func WithQueue(n int) Option { return func(o *options) { o.queue = max(n, 1) } }

// WithNotifyGate makes the engine notify only while gate returns true: of several processes evaluating the
// same rules, the one holding the notification lease sends. Alerts still pend, fire and resolve everywhere
// (Firing shows them); a process that gains the lease sends the firing notifications it held back, and sends
// resolves from then on. Opsgenie and PagerDuty deduplicate such a re-send by alias and dedup key.
func WithNotifyGate(gate func() bool) Option { return func(o *options) { o.gate = gate } }

// New returns an engine that evaluates rules over g's metrics and notifies receivers. Rules name the
// receivers they notify (none: all of them). It fails when a rule is invalid, two rules or two receivers
// share a name, a rule names an unknown receiver, or the metrics cannot be registered.
func New(rules []Rule, receivers []Receiver, g prometheus.Gatherer, opts ...Option) (*Engine, error) {
	o := options{log: slog.New(slog.NewTextHandler(io.Discard, nil)), attempts: 6, backoff: time.Second, maxBackoff: time.Minute, queue: 1000}
	for _, opt := range opts {
		opt(&o)
	}
	if g == nil {
		return nil, errors.New("alert engine: no gatherer")
	}
	byName := map[string]Receiver{}
	for _, r := range receivers {
		if _, dup := byName[r.Name()]; dup {
			return nil, fmt.Errorf("alert engine: two receivers named %q", r.Name())
		}
		byName[r.Name()] = r
	}
	rules = slices.Clone(rules)
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
		for _, name := range r.Receivers {
			if _, ok := byName[name]; !ok {
				return nil, fmt.Errorf("rule %s: unknown receiver %q", r.Name, name)
			}
		}
	}
	firing := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_alerts_firing", Help: "Alerts firing, by rule and severity.",
	}, []string{"rule", "severity"})
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bigfather_alert_notifications_total", Help: "Alert notification attempts by receiver and result (ok, retry: failed and retried, failed: given up or dropped).",
	}, []string{"receiver", "result"})
	if o.reg != nil {
		var err error
		if firing, err = register(o.reg, firing); err != nil {
			return nil, err
		}
		if sent, err = register(o.reg, sent); err != nil {
			return nil, err
		}
	}
	for _, r := range rules {
		firing.WithLabelValues(r.Name, string(r.Severity)).Set(0)
	}
	e := &Engine{rules: rules, gatherer: g, log: o.log, firing: firing, active: map[string]*entry{}, gate: o.gate}
	e.deliverer = startDeliverer(receivers, sent, o)
	return e, nil
}

// register registers c on reg, or returns the collector already registered there under the same
// description (a second engine on one registry shares its metrics).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("registering the alert metrics: %w", err)
	}
	return c, nil
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []Rule { return slices.Clone(e.rules) }

// Evaluate runs every rule once at time now: series that newly match become pending, pending ones that have
// matched for their rule's For fire, and firing ones that no longer match resolve. Notifications are queued,
// never awaited. When the metrics cannot be gathered, nothing changes and the error is returned.
func (e *Engine) Evaluate(ctx context.Context, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fams, err := e.gatherer.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics for the alert rules: %w", err)
	}
	families := index(fams)
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for i := range e.rules {
		r := &e.rules[i]
		for _, s := range r.matches(families) {
			key := identity(r.Name, s.labels)
			if seen[key] {
				continue
			}
			seen[key] = true
			labels := maps.Clone(s.labels)
			if r.IsStatus() {
				labels["status"] = s.status
			}
			maps.Copy(labels, r.Labels)
			en := e.active[key]
			if en == nil {
				en = &entry{rule: r, alert: Alert{Rule: r.Name, Key: key, State: StatePending, Severity: r.Severity,
					Runbook: r.Runbook, RunbookURL: r.RunbookURL, ActiveAt: now}}
				e.active[key] = en
			}
			en.alert.Labels, en.alert.Value, en.alert.Summary = labels, s.value, r.render(labels, s.value)
			if en.alert.State == StatePending && now.Sub(en.alert.ActiveAt) >= r.For {
				en.alert.State, en.alert.FiredAt = StateFiring, now
			}
			if en.alert.State == StateFiring && !en.sent && e.sending() {
				en.sent = true
				e.notify(r, en.alert.clone())
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(e.active)) {
		en := e.active[key]
		if seen[key] {
			continue
		}
		if en.alert.State == StateFiring && e.sending() {
			a := en.alert.clone()
			a.State, a.ResolvedAt = StateResolved, now
			e.notify(en.rule, a)
		}
		delete(e.active, key)
	}
	counts := map[string]int{}
	for _, en := range e.active {
		if en.alert.State == StateFiring {
			counts[en.rule.Name]++
		}
	}
	for _, r := range e.rules {
		e.firing.WithLabelValues(r.Name, string(r.Severity)).Set(float64(counts[r.Name]))
	}
	return nil
}

// sending says whether this engine notifies now (see WithNotifyGate).
func (e *Engine) sending() bool { return e.gate == nil || e.gate() }

// notify queues a for the rule's receivers that take its severity.
func (e *Engine) notify(r *Rule, a Alert) {
	e.log.Info("alert "+string(a.State), "rule", a.Rule, "key", a.Key, "severity", a.Severity, "summary", a.Summary)
	e.deliverer.enqueue(r.Receivers, a)
}

// Run evaluates the rules every interval, starting at once, until ctx ends; evaluation errors are logged.
func (e *Engine) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := e.Evaluate(ctx, time.Now()); err != nil && ctx.Err() == nil {
			e.log.Warn("evaluating alert rules", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Firing returns the firing alerts, most severe first, then by rule and key.
func (e *Engine) Firing() []Alert {
	return e.list(func(a *Alert) bool { return a.State == StateFiring })
}

// Active returns the pending and firing alerts, most severe first, then by rule and key.
func (e *Engine) Active() []Alert {
	return e.list(func(*Alert) bool { return true })
}

func (e *Engine) list(keep func(*Alert) bool) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, en := range e.active {
		if keep(&en.alert) {
			out = append(out, en.alert.clone())
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Flush waits until every notification queued so far is delivered or given up, or ctx ends (its error is
// then returned). Call it before Close to let the last notifications out on shutdown.
func (e *Engine) Flush(ctx context.Context) error { return e.deliverer.flush(ctx) }

// Close stops the delivery goroutines; notifications still queued or being retried are dropped (and logged).
// It is idempotent.
func (e *Engine) Close() { e.deliverer.close() }
