package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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
	closers []func()
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
	w := &watching{}
	host, _ := os.Hostname()
	instance := host + "-" + strconv.Itoa(os.Getpid()) + "-" + uuid.NewString()[:8]
	keep := int(cfg.Monitor.History / cfg.Monitor.Interval)
	w.history = monitor.NewHistory(m, keep)
	var store *monitor.Store
	if platformdb.Supported(cfg.Catalog.URI) {
		st, err := monitor.OpenStore(ctx, cfg.Catalog.URI)
		if err != nil {
			return nil, err
		}
		w.closers = append(w.closers, func() { st.Close() })
		store = st
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
	}
	w.watcher = monitor.NewWatcher(o)
	return w, nil
}
