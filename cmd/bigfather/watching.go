package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/kafkaview"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/platformdb"
	"github.com/bigfather/bigfather/internal/stage"
)

// watching is a process's monitor: the watcher judging every pipeline of the config, its history, and what
// they hold open.
type watching struct {
	watcher *monitor.Watcher
	history *monitor.History
	alerts  *alert.Engine
	prober  *monitor.Prober
	// store holds history, signals and the alert lease (nil with a REST catalog).
	store    *monitor.Store
	instance string
	interval time.Duration
	leader   atomic.Bool
	log      *slog.Logger
	closers  []func()
}

func (w *watching) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}

// startWatching builds the watcher of a process that runs the local pipelines (none for the console alone).
// History and signals live in the catalog database when it is SQLite or Postgres; with a REST catalog they
// stay in the process.
func startWatching(ctx context.Context, cfg *config.Config, brokers []string, local []*config.Pipeline, lk *lake.Lake,
	m *monitor.Metrics, health *monitor.Health, control *stage.Control, log *slog.Logger) (*watching, error) {
	host, _ := os.Hostname()
	instance := host + "-" + strconv.Itoa(os.Getpid()) + "-" + uuid.NewString()[:8]
	w := &watching{instance: instance, interval: cfg.Monitor.Interval, log: log}
	keep := int(cfg.Monitor.History / cfg.Monitor.Interval)
	w.history = monitor.NewHistory(m, keep)
	var store *monitor.Store
	if platformdb.Supported(cfg.Catalog.URI) {
		st, err := monitor.OpenStore(ctx, cfg.Catalog.URI)
		if err != nil {
			return nil, err
		}
		w.closers = append(w.closers, func() { st.Close() })
		store, w.store = st, st
		w.history.Persist(st, instance, cfg.Monitor.History, log)
	} else {
		log.Info("monitor history kept in this process only (the catalog is not a SQL database)")
	}
	o := monitor.WatchOptions{
		Settings: cfg.Monitor, Lake: lk, Metrics: m, Health: health, Store: store, History: w.history,
		Instance: instance, Log: log, SmallFileSize: cfg.Maintenance.TargetFileSize * 3 / 4,
	}
	for i := range cfg.Pipelines {
		o.Pipelines = append(o.Pipelines, &cfg.Pipelines[i])
	}
	for _, p := range local {
		o.Local = append(o.Local, p.Name)
	}
	if control != nil {
		o.Paused = func(p string) bool { return control.PausedBy(p) == "operator" }
	}
	if len(brokers) > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("bigfather-monitor"))
		if err != nil {
			w.close()
			return nil, fmt.Errorf("creating the monitor's Kafka client: %w", err)
		}
		w.closers = append(w.closers, cl.Close)
		view, err := kafkaview.New(cl, kafkaview.WithLogger(log))
		if err != nil {
			w.close()
			return nil, fmt.Errorf("creating the monitor's Kafka view: %w", err)
		}
		w.closers = append(w.closers, view.Close)
		o.Admin, o.Times = kadm.NewClient(cl), view
		sending := func() bool { return true }
		if store != nil {
			sending = w.leader.Load
		}
		w.prober = monitor.NewProber(o.Pipelines, cl, lk, m, sending, log)
		o.Prober = w.prober
	}
	w.watcher = monitor.NewWatcher(o)
	rules, err := alert.Rules(cfg)
	if err != nil {
		w.close()
		return nil, err
	}
	receivers, err := alert.NewReceivers(cfg.Alerts.Receivers, nil)
	if err != nil {
		w.close()
		return nil, err
	}
	// Every process evaluates the rules (the console shows them); with a shared database only the holder of
	// the "alerts" lease notifies, so a fleet sends each notification once.
	gate := func() bool { return true }
	if store != nil {
		gate = w.leader.Load
	}
	eng, err := alert.New(rules, receivers, m.Registry, alert.WithRegisterer(m.Registry), alert.WithLogger(log), alert.WithNotifyGate(gate))
	if err != nil {
		w.close()
		return nil, fmt.Errorf("starting the alert rules: %w", err)
	}
	w.alerts = eng
	w.closers = append(w.closers, func() {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eng.Flush(fctx) // notifications queued before the stop still go out
		eng.Close()
	})
	return w, nil
}

// run samples, evaluates the alert rules and holds the notification lease until ctx ends.
func (w *watching) run(ctx context.Context) {
	if w.store != nil {
		go w.holdLease(ctx)
	}
	go func() { _ = w.alerts.Run(ctx, w.interval) }()
	if w.prober != nil {
		go w.prober.Run(ctx)
	}
	w.watcher.Run(ctx)
}

// holdLease takes and renews the "alerts" lease every interval; it lasts three intervals (at least 15 s), so
// another process takes over that long after this one stops.
func (w *watching) holdLease(ctx context.Context) {
	ttl := max(3*w.interval, 15*time.Second)
	t := time.NewTicker(min(w.interval, ttl/3))
	defer t.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, ttl/3)
		ok, err := w.store.Lease(lctx, "alerts", w.instance, time.Now(), ttl)
		cancel()
		if err != nil && ctx.Err() == nil {
			w.log.Warn("alert lease not renewed", "err", err)
		}
		if ok != w.leader.Load() {
			w.log.Info("alert notifications", "sent_by_this_process", ok)
		}
		w.leader.Store(ok)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
