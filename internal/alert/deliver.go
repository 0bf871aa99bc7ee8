package alert

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Receiver delivers notifications to one destination. NewReceiver builds the four kinds a config names;
// tests and embedders may bring their own.
type Receiver interface {
	// Name identifies the receiver in rules, logs and the notifications metric.
	Name() string
	// Accepts reports whether alerts of severity s go to this receiver.
	Accepts(s Severity) bool
	// Send delivers one notification: a firing alert (State firing) or a resolved one (State resolved). An
	// error of a failed HTTP request with a status other than 429 or 5xx is not retried.
	Send(ctx context.Context, a Alert) error
}

// deliverer owns one goroutine per receiver, each sending its queue's notifications in order with retries,
// so a receiver that is slow or down delays only itself and a resolve never overtakes its firing.
type deliverer struct {
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   sync.Once
	inflight inflight // notifications queued and not yet done with
	log      *slog.Logger
	sent     *prometheus.CounterVec
	order    []string // receiver names, in the order given
	queues   map[string]chan Alert
	attempts int
	backoff  time.Duration
	maxWait  time.Duration
}

func startDeliverer(receivers []Receiver, sent *prometheus.CounterVec, o options) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	d := &deliverer{ctx: ctx, cancel: cancel, log: o.log, sent: sent, queues: map[string]chan Alert{},
		attempts: o.attempts, backoff: o.backoff, maxWait: o.maxBackoff}
	for _, r := range receivers {
		for _, result := range []string{"ok", "retry", "failed"} {
			sent.WithLabelValues(r.Name(), result).Add(0)
		}
		q := make(chan Alert, o.queue)
		d.order = append(d.order, r.Name())
		d.queues[r.Name()] = q
		d.wg.Add(1)
		go d.run(r, q)
	}
	return d
}

// enqueue queues a for the named receivers (none: all) that accept its severity, without blocking.
func (d *deliverer) enqueue(names []string, a Alert) {
	if len(names) == 0 {
		names = d.order
	}
	for _, name := range names {
		q := d.queues[name]
		if q == nil || d.ctx.Err() != nil {
			continue
		}
		d.inflight.add()
		select {
		case q <- a:
		default:
			d.inflight.done()
			d.sent.WithLabelValues(name, "failed").Inc()
			d.log.Error("alert notification dropped: the receiver's queue is full", "receiver", name, "rule", a.Rule,
				"key", a.Key, "state", a.State)
		}
	}
}

// run sends q's notifications to r until the deliverer closes.
func (d *deliverer) run(r Receiver, q chan Alert) {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			for {
				select {
				case a := <-q:
					d.sent.WithLabelValues(r.Name(), "failed").Inc()
					d.log.Warn("alert notification dropped: shutting down", "receiver", r.Name(), "rule", a.Rule, "key", a.Key, "state", a.State)
					d.inflight.done()
				default:
					return
				}
			}
		case a := <-q:
			if r.Accepts(a.Severity) {
				d.deliver(r, a)
			}
			d.inflight.done()
		}
	}
}

// deliver sends a to r, retrying failures a retry may cure with exponential backoff, up to the attempts
// allowed. Errors are logged with the receiver's name only: receiver errors never carry URLs or keys.
func (d *deliverer) deliver(r Receiver, a Alert) {
	wait := d.backoff
	for attempt := 1; ; attempt++ {
		err := r.Send(d.ctx, a)
		if err == nil {
			d.sent.WithLabelValues(r.Name(), "ok").Inc()
			return
		}
		if d.ctx.Err() != nil {
			d.sent.WithLabelValues(r.Name(), "failed").Inc()
			d.log.Warn("alert notification dropped: shutting down", "receiver", r.Name(), "rule", a.Rule, "key", a.Key, "state", a.State)
			return
		}
		if !retryable(err) || attempt >= d.attempts {
			d.sent.WithLabelValues(r.Name(), "failed").Inc()
			d.log.Error("alert notification failed", "receiver", r.Name(), "rule", a.Rule, "key", a.Key, "state", a.State,
				"attempts", attempt, "err", err)
			return
		}
		d.sent.WithLabelValues(r.Name(), "retry").Inc()
		d.log.Warn("alert notification failed; retrying", "receiver", r.Name(), "rule", a.Rule, "key", a.Key, "state", a.State,
			"attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-d.ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, d.maxWait)
	}
}

// flush waits until every queued notification is delivered, given up or dropped, or ctx ends.
func (d *deliverer) flush(ctx context.Context) error {
	d.inflight.mu.Lock()
	if d.inflight.n == 0 {
		d.inflight.mu.Unlock()
		return nil
	}
	zero := d.inflight.zero
	d.inflight.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// inflight counts notifications in the queues or being delivered; zero is closed whenever the count drops to
// zero. Unlike a sync.WaitGroup it may be added to while someone waits.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

func (c *inflight) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.zero = make(chan struct{})
	}
	c.n++
}

func (c *inflight) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		close(c.zero)
	}
}

func (d *deliverer) close() {
	d.closed.Do(func() {
		d.cancel()
		d.wg.Wait()
	})
}

// retryable reports whether a retry may cure err: anything but an HTTP answer other than 429 or 5xx.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == 429 || se.Code >= 500
	}
	return true
}
