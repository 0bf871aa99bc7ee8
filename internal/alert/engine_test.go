package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// statuses are the values of the status label, as the monitor exports them.
var statuses = []string{"OK", "WARN", "STALL", "STOP", "ERR", "REWIND", "PAUSED"}

// world is a registry with the metrics the rules read, set by the tests.
type world struct {
	reg       *prometheus.Registry
	pipeline  *prometheus.GaugeVec // pipeline, status
	partition *prometheus.GaugeVec // pipeline, topic, partition, status
	group     *prometheus.GaugeVec // group, status
	lag       *prometheus.GaugeVec // pipeline, topic, partition
	ready     *prometheus.GaugeVec // check
	offline   prometheus.Gauge
	commits   *prometheus.CounterVec   // pipeline, table, result
	duration  *prometheus.HistogramVec // pipeline
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		reg:       prometheus.NewRegistry(),
		pipeline:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bigfather_pipeline_status", Help: "h"}, []string{"pipeline", "status"}),
		partition: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bigfather_partition_status", Help: "h"}, []string{"pipeline", "topic", "partition", "status"}),
		group:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bigfather_group_status", Help: "h"}, []string{"group", "status"}),
		lag:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bigfather_consumer_lag_seconds", Help: "h"}, []string{"pipeline", "topic", "partition"}),
		ready:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bigfather_ready_check", Help: "h"}, []string{"check"}),
		offline:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "bigfather_kafka_partitions_offline", Help: "h"}),
		commits:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bigfather_commits_total", Help: "h"}, []string{"pipeline", "table", "result"}),
		duration:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bigfather_commit_duration_seconds", Help: "h"}, []string{"pipeline"}),
	}
	w.reg.MustRegister(w.pipeline, w.partition, w.group, w.lag, w.ready, w.offline, w.commits, w.duration)
	return w
}

// setStatus sets an enum-style status gauge: 1 for status, 0 for the others.
func setStatus(g *prometheus.GaugeVec, status string, labels ...string) {
	for _, s := range statuses {
		v := 0.0
		if s == status {
			v = 1
		}
		g.WithLabelValues(append(slices.Clone(labels), s)...).Set(v)
	}
}

// recorder is a receiver that keeps what it is sent, as "STATE KEY".
type recorder struct {
	name string
	min  Severity
	mu   sync.Mutex
	got  []string
	all  []Alert
}

func (r *recorder) Name() string            { return r.name }
func (r *recorder) Accepts(s Severity) bool { return s.AtLeast(r.min) }
func (r *recorder) Send(_ context.Context, a Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, string(a.State)+" "+a.Key)
	r.all = append(r.all, a)
	return nil
}

// take returns what was sent since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// step is one evaluation: change the world, evaluate at t0+at, expect exactly these notifications and these
// active alerts ("STATE KEY").
type step struct {
	at     time.Duration
	set    func(w *world)
	notify []string
	active []string
}

func runSteps(t *testing.T, rules []Rule, steps []step) (*Engine, *world, *recorder) {
	t.Helper()
	w := newWorld(t)
	rec := &recorder{name: "rec"}
	e, err := New(rules, []Receiver{rec}, w.reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	ctx := context.Background()
	for i, s := range steps {
		if s.set != nil {
			s.set(w)
		}
		if err := e.Evaluate(ctx, t0.Add(s.at)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); !slices.Equal(got, s.notify) {
			t.Errorf("step %d (t0+%s): notifications\n got %q\nwant %q", i, s.at, got, s.notify)
		}
		var active []string
		for _, a := range e.Active() {
			active = append(active, string(a.State)+" "+a.Key)
		}
		if !slices.Equal(active, s.active) {
			t.Errorf("step %d (t0+%s): active\n got %q\nwant %q", i, s.at, active, s.active)
		}
	}
	return e, w, rec
}

const lagKey = `HighLag{partition="0",pipeline="a",topic="t"}`

// TestEngineLifecycle: pending from the first match, firing at exactly For, one notification while firing,
// resolved when the condition clears, and a new alert when it comes back.
func TestEngineLifecycle(t *testing.T) {
	rule := Rule{Name: "HighLag", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 300, For: 2 * time.Minute, Severity: Error}
	lag := func(v float64) func(*world) {
		return func(w *world) { w.lag.WithLabelValues("a", "t", "0").Set(v) }
	}
	e, _, rec := runSteps(t, []Rule{rule}, []step{
		{at: 0, set: lag(100)},
		{at: 10 * time.Second, set: lag(400), active: []string{"pending " + lagKey}},
		{at: 2*time.Minute + 9*time.Second, active: []string{"pending " + lagKey}},
		{at: 2*time.Minute + 10*time.Second, notify: []string{"firing " + lagKey}, active: []string{"firing " + lagKey}},
		{at: 3 * time.Minute, set: lag(900), active: []string{"firing " + lagKey}},
		{at: 4 * time.Minute, set: lag(300), notify: []string{"resolved " + lagKey}},
		{at: 5 * time.Minute, set: lag(301), active: []string{"pending " + lagKey}},
		{at: 7 * time.Minute, notify: []string{"firing " + lagKey}, active: []string{"firing " + lagKey}},
	})
	f := e.Firing()
	if len(f) != 1 {
		t.Fatalf("Firing() = %v", f)
	}
	want := Alert{Rule: "HighLag", Key: lagKey, State: StateFiring, Severity: Error,
		Labels:   map[string]string{"pipeline": "a", "topic": "t", "partition": "0"},
		Summary:  "bigfather_consumer_lag_seconds is 301, above 300",
		Value:    301,
		ActiveAt: t0.Add(5 * time.Minute), FiredAt: t0.Add(7 * time.Minute)}
	if !alertEqual(f[0], want) {
		t.Errorf("Firing()[0] = %+v\nwant %+v", f[0], want)
	}
	// The resolve carried the alert as it fired, and when it ended.
	res := rec.all[1]
	if res.State != StateResolved || !res.ActiveAt.Equal(t0.Add(10*time.Second)) || !res.FiredAt.Equal(t0.Add(2*time.Minute+10*time.Second)) ||
		!res.ResolvedAt.Equal(t0.Add(4*time.Minute)) || res.Value != 900 {
		t.Errorf("resolve notification = %+v", res)
	}
}

func alertEqual(a, b Alert) bool {
	return a.Rule == b.Rule && a.Key == b.Key && a.State == b.State && a.Severity == b.Severity && a.Summary == b.Summary &&
		a.Value == b.Value && a.ActiveAt.Equal(b.ActiveAt) && a.FiredAt.Equal(b.FiredAt) && a.ResolvedAt.Equal(b.ResolvedAt) &&
		fmt.Sprint(a.Labels) == fmt.Sprint(b.Labels) && a.Runbook == b.Runbook && a.RunbookURL == b.RunbookURL
}

// TestEnginePendingNeverFires: a series that stops matching (or disappears) before For sends nothing.
func TestEnginePendingNeverFires(t *testing.T) {
	rule := Rule{Name: "HighLag", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 300, For: time.Minute, Severity: Error}
	runSteps(t, []Rule{rule}, []step{
		{at: 0, set: func(w *world) { w.lag.WithLabelValues("a", "t", "0").Set(400) }, active: []string{"pending " + lagKey}},
		{at: 30 * time.Second, set: func(w *world) { w.lag.Reset() }},
		{at: 90 * time.Second},
	})
}

// TestEngineDisappearingSeriesResolves: a firing alert whose series is gone resolves.
func TestEngineDisappearingSeriesResolves(t *testing.T) {
	rule := Rule{Name: "Offline", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 0, Severity: Critical}
	w := newWorld(t)
	rec := &recorder{name: "rec"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(w.offline)
	e, err := New([]Rule{rule}, []Receiver{rec}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	w.offline.Set(3)
	_ = e.Evaluate(ctx, t0)
	reg.Unregister(w.offline)
	_ = e.Evaluate(ctx, t0.Add(time.Second))
	_ = e.Flush(ctx)
	if got := rec.take(); !slices.Equal(got, []string{"firing Offline{}", "resolved Offline{}"}) {
		t.Errorf("notifications = %q", got)
	}
}

// TestEngineStatusIdentity: a status rule's alert is the pipeline's, whatever status among the rule's it is
// in: ERR then STALL is one alert, with the current status in its labels and summary.
func TestEngineStatusIdentity(t *testing.T) {
	rule := Rule{Name: "Broken", Statuses: []string{"STALL", "ERR"}, Scope: ScopePipeline, Severity: Critical, Runbook: "stall",
		RunbookURL: "http://bf:8080/ui/runbooks/stall"}
	key := `Broken{pipeline="game-events"}`
	e, _, rec := runSteps(t, []Rule{rule}, []step{
		{at: 0, set: func(w *world) { setStatus(w.pipeline, "OK", "game-events"); setStatus(w.pipeline, "ERR", "other") },
			notify: []string{`firing Broken{pipeline="other"}`}, active: []string{`firing Broken{pipeline="other"}`}},
		{at: 10 * time.Second, set: func(w *world) { setStatus(w.pipeline, "ERR", "game-events") },
			notify: []string{"firing " + key}, active: []string{"firing " + key, `firing Broken{pipeline="other"}`}},
		{at: 20 * time.Second, set: func(w *world) { setStatus(w.pipeline, "STALL", "game-events") },
			active: []string{"firing " + key, `firing Broken{pipeline="other"}`}},
	})
	f := e.Firing()
	want := Alert{Rule: "Broken", Key: key, State: StateFiring, Severity: Critical,
		Labels: map[string]string{"pipeline": "game-events", "status": "STALL"}, Summary: "pipeline game-events is STALL", Value: 1,
		Runbook: "stall", RunbookURL: "http://bf:8080/ui/runbooks/stall", ActiveAt: t0.Add(10 * time.Second), FiredAt: t0.Add(10 * time.Second)}
	if len(f) != 2 || !alertEqual(f[0], want) {
		t.Fatalf("Firing() = %+v\nwant first %+v", f, want)
	}
	if rec.all[1].Labels["status"] != "ERR" || rec.all[1].Summary != "pipeline game-events is ERR" {
		t.Errorf("the firing notification carries the status it fired in: %+v", rec.all[1])
	}
}

// TestEngineStatusChanges: the whole life of a status rule across statuses, with For.
func TestEngineStatusChanges(t *testing.T) {
	rule := Rule{Name: "Broken", Statuses: []string{"STALL", "ERR"}, Scope: ScopePipeline, For: 30 * time.Second, Severity: Error}
	key := `Broken{pipeline="p"}`
	st := func(s string) func(*world) { return func(w *world) { setStatus(w.pipeline, s, "p") } }
	runSteps(t, []Rule{rule}, []step{
		{at: 0, set: st("WARN")},
		{at: 10 * time.Second, set: st("ERR"), active: []string{"pending " + key}},
		{at: 20 * time.Second, set: st("STALL"), active: []string{"pending " + key}},
		// The pending time runs on across the change: 30 s after ERR began.
		{at: 40 * time.Second, set: st("ERR"), notify: []string{"firing " + key}, active: []string{"firing " + key}},
		{at: 50 * time.Second, set: st("WARN"), notify: []string{"resolved " + key}},
		{at: 60 * time.Second, set: st("STALL"), active: []string{"pending " + key}},
	})
}

// TestEnginePartitionAndGroupScopes: partition and group status rules read their gauges, with matchers.
func TestEnginePartitionAndGroupScopes(t *testing.T) {
	rules := []Rule{
		{Name: "PartStop", Statuses: []string{"STOP"}, Scope: ScopePartition, Match: map[string]string{"topic": "t1"}, Severity: Warning},
		{Name: "GroupStop", Statuses: []string{"STOP"}, Scope: ScopeGroup, Severity: Info},
	}
	e, _, _ := runSteps(t, rules, []step{{
		at: 0,
		set: func(w *world) {
			setStatus(w.partition, "STOP", "a", "t1", "0")
			setStatus(w.partition, "OK", "a", "t1", "1")
			setStatus(w.partition, "STOP", "a", "t2", "0")
			setStatus(w.group, "STOP", "billing")
			setStatus(w.group, "WARN", "search")
		},
		notify: []string{`firing PartStop{partition="0",pipeline="a",topic="t1"}`, `firing GroupStop{group="billing"}`},
		active: []string{`firing PartStop{partition="0",pipeline="a",topic="t1"}`, `firing GroupStop{group="billing"}`},
	}})
	if s := e.Firing()[0].Summary; s != "partition t1/0 of pipeline a is STOP" {
		t.Errorf("partition summary = %q", s)
	}
	if s := e.Firing()[1].Summary; s != "consumer group billing is STOP" {
		t.Errorf("group summary = %q", s)
	}
}

// TestEngineOps: every operator against values below, at and above the threshold, and NaN.
func TestEngineOps(t *testing.T) {
	for _, tc := range []struct {
		op   string
		want [4]bool // value 1, 2, 3, NaN against threshold 2
	}{
		{">", [4]bool{false, false, true, false}},
		{">=", [4]bool{false, true, true, false}},
		{"<", [4]bool{true, false, false, false}},
		{"<=", [4]bool{true, true, false, false}},
		{"==", [4]bool{false, true, false, false}},
		{"!=", [4]bool{true, false, true, true}},
	} {
		w := newWorld(t)
		for i, v := range []float64{1, 2, 3, math.NaN()} {
			w.ready.WithLabelValues(fmt.Sprint(i)).Set(v)
		}
		r := Rule{Name: "R", Metric: "bigfather_ready_check", Op: tc.op, Value: 2, Severity: Info}
		fams, _ := w.reg.Gather()
		var got [4]bool
		for _, s := range r.matches(index(fams)) {
			var i int
			fmt.Sscan(s.labels["check"], &i)
			got[i] = true
		}
		if got != tc.want {
			t.Errorf("op %s: matched %v, want %v", tc.op, got, tc.want)
		}
	}
}

// TestEngineMatchersAndBy: matchers filter series (a missing label matches ""), By groups them by maximum or
// minimum, and counters and histograms are read too.
func TestEngineMatchersAndBy(t *testing.T) {
	w := newWorld(t)
	w.lag.WithLabelValues("a", "t", "0").Set(100)
	w.lag.WithLabelValues("a", "t", "1").Set(400)
	w.lag.WithLabelValues("a", "u", "0").Set(50)
	w.lag.WithLabelValues("b", "t", "0").Set(200)
	w.commits.WithLabelValues("a", "s.t", "error").Add(3)
	w.commits.WithLabelValues("a", "s.t", "ok").Add(10)
	w.duration.WithLabelValues("a").Observe(2)
	w.duration.WithLabelValues("a").Observe(3)
	fams, err := w.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rule Rule
		want []string
	}{
		{"match", Rule{Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 60, Match: map[string]string{"pipeline": "a", "topic": "t"}},
			[]string{`{partition="0",pipeline="a",topic="t"}=100`, `{partition="1",pipeline="a",topic="t"}=400`}},
		{"match a missing label as empty", Rule{Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 0, Match: map[string]string{"zone": ""}},
			[]string{`{partition="0",pipeline="a",topic="t"}=100`, `{partition="0",pipeline="a",topic="u"}=50`, `{partition="0",pipeline="b",topic="t"}=200`, `{partition="1",pipeline="a",topic="t"}=400`}},
		{"max by pipeline", Rule{Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 150, By: []string{"pipeline"}},
			[]string{`{pipeline="a"}=400`, `{pipeline="b"}=200`}},
		{"max by pipeline above both", Rule{Metric: "bigfather_consumer_lag_seconds", Op: ">=", Value: 300, By: []string{"pipeline"}},
			[]string{`{pipeline="a"}=400`}},
		{"min by pipeline, topic", Rule{Metric: "bigfather_consumer_lag_seconds", Op: "<", Value: 150, By: []string{"pipeline", "topic"}},
			[]string{`{pipeline="a",topic="t"}=100`, `{pipeline="a",topic="u"}=50`}},
		{"counter", Rule{Metric: "bigfather_commits_total", Op: ">", Value: 0, Match: map[string]string{"result": "error"}},
			[]string{`{pipeline="a",result="error",table="s.t"}=3`}},
		{"histogram count", Rule{Metric: "bigfather_commit_duration_seconds_count", Op: ">=", Value: 2}, []string{`{pipeline="a"}=2`}},
		{"histogram sum", Rule{Metric: "bigfather_commit_duration_seconds_sum", Op: ">", Value: 4}, []string{`{pipeline="a"}=5`}},
		{"absent metric", Rule{Metric: "bigfather_nothing", Op: ">", Value: 0}, nil},
	} {
		var got []string
		for _, s := range tc.rule.matches(index(fams)) {
			got = append(got, strings.TrimPrefix(identity("", s.labels), "")+"="+formatValue(s.value))
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestEngineReceiversAndSeverity: a rule notifies the receivers it names (all when none), and a receiver gets
// only the severities from its minimum up.
func TestEngineReceiversAndSeverity(t *testing.T) {
	w := newWorld(t)
	all := &recorder{name: "all"}
	pager := &recorder{name: "pager", min: Error}
	chat := &recorder{name: "chat"}
	rules := []Rule{
		{Name: "Crit", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 0, Severity: Critical},
		{Name: "Warn", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 1, Severity: Warning},
		{Name: "ChatOnly", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 2, Severity: Critical, Receivers: []string{"chat"}},
	}
	e, err := New(rules, []Receiver{all, pager, chat}, w.reg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w.offline.Set(5)
	ctx := context.Background()
	_ = e.Evaluate(ctx, t0)
	_ = e.Flush(ctx)
	for _, tc := range []struct {
		r    *recorder
		want []string
	}{
		{all, []string{"firing Crit{}", "firing Warn{}"}},
		{pager, []string{"firing Crit{}"}},
		{chat, []string{"firing Crit{}", "firing Warn{}", "firing ChatOnly{}"}},
	} {
		if got := tc.r.take(); !slices.Equal(got, tc.want) {
			t.Errorf("receiver %s got %q, want %q", tc.r.name, got, tc.want)
		}
	}
}

// TestEngineMetrics: bigfather_alerts_firing counts firing alerts per rule (0 for quiet rules) and
// bigfather_alert_notifications_total counts results per receiver.
func TestEngineMetrics(t *testing.T) {
	w := newWorld(t)
	metrics := prometheus.NewRegistry()
	rec := &recorder{name: "rec"}
	failing := &failer{name: "down", err: &StatusError{Receiver: "down", Code: 503}}
	rules := []Rule{
		{Name: "Lag", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 10, Severity: Warning},
		{Name: "Quiet", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 1e9, Severity: Critical},
	}
	e, err := New(rules, []Receiver{rec, failing}, w.reg, WithRegisterer(metrics), WithRetry(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w.lag.WithLabelValues("a", "t", "0").Set(20)
	w.lag.WithLabelValues("a", "t", "1").Set(30)
	ctx := context.Background()
	_ = e.Evaluate(ctx, t0)
	_ = e.Flush(ctx)
	want := `
# HELP bigfather_alerts_firing Alerts firing, by rule and severity.
# TYPE bigfather_alerts_firing gauge
bigfather_alerts_firing{rule="Lag",severity="warning"} 2
bigfather_alerts_firing{rule="Quiet",severity="critical"} 0
# HELP bigfather_alert_notifications_total Alert notification attempts by receiver and result (ok, retry: failed and retried, failed: given up or dropped).
# TYPE bigfather_alert_notifications_total counter
bigfather_alert_notifications_total{receiver="down",result="failed"} 2
bigfather_alert_notifications_total{receiver="down",result="ok"} 0
bigfather_alert_notifications_total{receiver="down",result="retry"} 4
bigfather_alert_notifications_total{receiver="rec",result="failed"} 0
bigfather_alert_notifications_total{receiver="rec",result="ok"} 2
bigfather_alert_notifications_total{receiver="rec",result="retry"} 0
`
	if err := testutil.GatherAndCompare(metrics, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := failing.calls(); n != 6 {
		t.Errorf("the failing receiver was called %d times, want 3 attempts × 2 alerts", n)
	}
	w.lag.Reset()
	_ = e.Evaluate(ctx, t0.Add(time.Second))
	if v := testutil.ToFloat64(e.firing.WithLabelValues("Lag", "warning")); v != 0 {
		t.Errorf("after recovery bigfather_alerts_firing{rule=Lag} = %v", v)
	}
}

// failer is a receiver that always fails with err.
type failer struct {
	name string
	err  error
	mu   sync.Mutex
	n    int
}

func (f *failer) Name() string          { return f.name }
func (f *failer) Accepts(Severity) bool { return true }
func (f *failer) calls() int            { f.mu.Lock(); defer f.mu.Unlock(); return f.n }
func (f *failer) Send(context.Context, Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return f.err
}

// TestEngineNoRetryOnClientError: a 4xx other than 429 is given up at once; a network error is retried.
func TestEngineNoRetryOnClientError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&StatusError{Code: 401}, 1},
		{&StatusError{Code: 429}, 4},
		{&StatusError{Code: 500}, 4},
		{errors.New("connection refused"), 4},
	} {
		w := newWorld(t)
		f := &failer{name: "f", err: tc.err}
		e, err := New([]Rule{{Name: "R", Metric: "bigfather_kafka_partitions_offline", Op: ">=", Value: 0, Severity: Info}}, []Receiver{f}, w.reg,
			WithRetry(4, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_ = e.Evaluate(context.Background(), t0)
		_ = e.Flush(context.Background())
		e.Close()
		if f.calls() != tc.want {
			t.Errorf("%v: %d attempts, want %d", tc.err, f.calls(), tc.want)
		}
	}
}

// TestEngineEvaluationNeverBlocks: a receiver that hangs fills its queue; evaluation goes on, the overflow is
// counted as failed, and Close ends the hanging delivery.
func TestEngineEvaluationNeverBlocks(t *testing.T) {
	w := newWorld(t)
	h := &hanger{started: make(chan struct{})}
	metrics := prometheus.NewRegistry()
	e, err := New([]Rule{{Name: "R", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 0, Severity: Info}}, []Receiver{h}, w.reg,
		WithQueue(2), WithRegisterer(metrics))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		w.lag.WithLabelValues("a", "t", fmt.Sprint(i)).Set(1)
		if err := e.Evaluate(ctx, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-h.started
		}
	}
	// One is being sent (hanging), two wait, two found the queue full.
	if v := testutil.ToFloat64(e.deliverer.sent.WithLabelValues("hang", "failed")); v != 2 {
		t.Errorf("dropped = %v, want 2", v)
	}
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := e.Flush(flushCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush with a hanging receiver = %v, want the context's deadline", err)
	}
	e.Close() // cancels the hanging send
	e.Close() // idempotent
	if v := testutil.ToFloat64(e.deliverer.sent.WithLabelValues("hang", "failed")); v != 5 {
		t.Errorf("failed after Close = %v, want 5 (2 dropped, 1 cancelled, 2 left in the queue)", v)
	}
}

// hanger is a receiver whose Send waits for its context to end.
type hanger struct {
	once    sync.Once
	started chan struct{}
}

func (h *hanger) Name() string          { return "hang" }
func (h *hanger) Accepts(Severity) bool { return true }
func (h *hanger) Send(ctx context.Context, _ Alert) error {
	h.once.Do(func() { close(h.started) })
	<-ctx.Done()
	return ctx.Err()
}

// TestEngineGatherError: when the metrics cannot be gathered, Evaluate says so and changes nothing.
func TestEngineGatherError(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{name: "rec"}
	bad := prometheus.Gatherers{w.reg, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("scrape broke") })}
	e, err := New([]Rule{{Name: "R", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 0, Severity: Info}}, []Receiver{rec}, w.reg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w.offline.Set(1)
	ctx := context.Background()
	_ = e.Evaluate(ctx, t0)
	e.gatherer = bad
	err = e.Evaluate(ctx, t0.Add(time.Second))
	if err == nil || !strings.Contains(err.Error(), "gathering metrics for the alert rules") || !strings.Contains(err.Error(), "scrape broke") {
		t.Errorf("Evaluate = %v", err)
	}
	if got := e.Firing(); len(got) != 1 {
		t.Errorf("a failed gather changed the alerts: %v", got)
	}
}

// TestNewErrors: New refuses invalid rules, duplicates and unknown receivers, naming them.
func TestNewErrors(t *testing.T) {
	w := newWorld(t)
	ok := Rule{Name: "R", Metric: "m", Op: ">", Value: 1, Severity: Info}
	for _, tc := range []struct {
		rules []Rule
		recvs []Receiver
		want  string
	}{
		{[]Rule{ok, ok}, nil, "rule R: defined twice"},
		{[]Rule{{Name: "R", Metric: "m", Op: "=>", Severity: Info}}, nil, `rule R: unknown operator "=>" (expected one of: > >= < <= == !=)`},
		{[]Rule{{Name: "R", Statuses: []string{"STALLED"}, Scope: "pipeline", Severity: Info}}, nil, `rule R: unknown status "STALLED" (expected some of: WARN, STALL, STOP, ERR, REWIND, PAUSED)`},
		{[]Rule{{Name: "R", Statuses: []string{"STOP"}, Scope: "topic", Severity: Info}}, nil, `rule R: unknown scope "topic" (expected one of: pipeline, partition, group)`},
		{[]Rule{{Name: "R", Metric: "m", Op: ">", Severity: "high"}}, nil, `rule R: unknown severity "high" (expected one of: critical, error, warning, info)`},
		{[]Rule{{Name: "R", Metric: "m", Op: ">", Value: math.Inf(1), Severity: Info}}, nil, "rule R: threshold +Inf is not a finite number"},
		{[]Rule{{Name: "R", Metric: "m", Op: ">", Severity: Info, Receivers: []string{"pager"}}}, []Receiver{&recorder{name: "chat"}}, `rule R: unknown receiver "pager"`},
		{[]Rule{ok}, []Receiver{&recorder{name: "a"}, &recorder{name: "a"}}, `alert engine: two receivers named "a"`},
		{[]Rule{{Name: "R", Statuses: []string{"STOP"}, Scope: "group", Match: map[string]string{"pipeline": "p"}, Severity: Info}}, nil,
			`rule R: bigfather_group_status has no label "pipeline" to match (its labels: group)`},
	} {
		e, err := New(tc.rules, tc.recvs, w.reg)
		if err == nil {
			e.Close()
			t.Errorf("no error, want %s", tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
}

// TestRun: Run evaluates at once and then every interval until its context ends.
func TestRun(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{name: "rec"}
	e, err := New([]Rule{{Name: "R", Metric: "bigfather_kafka_partitions_offline", Op: ">", Value: 0, For: 30 * time.Millisecond, Severity: Info}},
		[]Receiver{rec}, w.reg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w.offline.Set(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx, 10*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.Firing()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	w.offline.Set(0)
	for len(e.Active()) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	_ = e.Flush(context.Background())
	if got := rec.take(); !slices.Equal(got, []string{"firing R{}", "resolved R{}"}) {
		t.Errorf("notifications = %q", got)
	}
}

// TestAlertJSON: alerts encode for the API with their fields, and a value JSON cannot hold as null.
func TestAlertJSON(t *testing.T) {
	a := Alert{Rule: "R", Key: "R{}", State: StateFiring, Severity: Warning, Labels: map[string]string{"table": "s.t"}, Summary: "s",
		Value: 2.5, ActiveAt: t0, FiredAt: t0.Add(time.Minute)}
	got, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rule":"R","key":"R{}","state":"firing","severity":"warning","labels":{"table":"s.t"},"summary":"s",` +
		`"active_at":"2026-03-01T12:00:00Z","fired_at":"2026-03-01T12:01:00Z","value":2.5}`
	if string(got) != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	a.Value = math.Inf(1)
	if got, err := json.Marshal(a); err != nil || !strings.HasSuffix(string(got), `"value":null}`) {
		t.Errorf("JSON of +Inf: %s, %v", got, err)
	}
}

// TestEngineNotifyGate: a process without the notification lease evaluates but sends nothing; once it holds
// the lease it sends the firing alert it held back, and the resolve.
func TestEngineNotifyGate(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{name: "rec"}
	leader := false
	rule := Rule{Name: "HighLag", Metric: "bigfather_consumer_lag_seconds", Op: ">", Value: 300, Severity: Error}
	e, err := New([]Rule{rule}, []Receiver{rec}, w.reg, WithNotifyGate(func() bool { return leader }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	ctx := context.Background()
	steps := []struct {
		leader bool
		lag    float64
		notify []string
		firing int
	}{
		{false, 400, nil, 1},
		{false, 500, nil, 1},
		{true, 500, []string{"firing " + lagKey}, 1},
		{true, 600, nil, 1},
		{true, 100, []string{"resolved " + lagKey}, 0},
		{false, 400, nil, 1},
		{false, 100, nil, 0}, // resolved while another process notifies: that one sends the resolve
	}
	for i, s := range steps {
		leader = s.leader
		w.lag.WithLabelValues("a", "t", "0").Set(s.lag)
		if err := e.Evaluate(ctx, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); !slices.Equal(got, s.notify) {
			t.Errorf("step %d: notifications %q, want %q", i, got, s.notify)
		}
		if got := len(e.Firing()); got != s.firing {
			t.Errorf("step %d: %d firing, want %d", i, got, s.firing)
		}
	}
}
