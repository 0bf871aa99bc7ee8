package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/derived"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/memlimit"
	gamemetrics "github.com/bigfather/bigfather/internal/metrics"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/stage"
	"github.com/bigfather/bigfather/internal/transform"
)

func cmdStage(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("stage", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	pipeline := fs.String("pipeline", "", "run only this pipeline (default: all)")
	httpAddr := fs.String("http", "", `HTTP address of the console (/ui), its API, /metrics and /healthz (default: the config's http; "off" disables)`)
	// Kafka brokers accept session timeouts within group.min/max.session.timeout.ms, 6s and 30m by default.
	sessionTimeout := boundedDuration(fs, "session-timeout", 10*time.Second, 6*time.Second, 30*time.Minute,
		"consumer-group session timeout: how soon a dead process's partitions move to the others")
	instanceID := fs.String("instance-id", "", "static consumer-group member id: a restarted process with the same id resumes its partitions at once")
	insecure := fs.Bool("insecure", false, "serve a non-loopback --http address without auth configured")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("stage: --config is required")
	}
	cfg, err := loadConfig(*cfgPath, "", false)
	if err != nil {
		return err
	}
	pipes, err := selectPipelines(cfg, *pipeline)
	if err != nil {
		return err
	}
	addr := cfg.HTTP
	if *httpAddr != "" {
		addr = *httpAddr
	}
	return runStaging(ctx, cfg, cfg.Kafka.Brokers, pipes, stagingOptions{httpAddr: addr, insecure: *insecure, instanceID: *instanceID, sessionTimeout: *sessionTimeout}, log)
}

func selectPipelines(cfg *config.Config, name string) ([]*config.Pipeline, error) {
	if name == "" {
		out := make([]*config.Pipeline, len(cfg.Pipelines))
		for i := range cfg.Pipelines {
			out[i] = &cfg.Pipelines[i]
		}
		return out, nil
	}
	p, err := cfg.Pipeline(name)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return []*config.Pipeline{p}, nil
}

// compilePipelines compiles every pipeline's log definitions (its files, and defs[p.Name] read from the schema
// registry) and CEL expressions before anything starts, so a broken definition or expression is a
// configuration error (exit 2) naming the pipeline and the rule.
func compilePipelines(pipes []*config.Pipeline, defs map[string][]quality.DefinitionSource, log *slog.Logger) error {
	for _, p := range pipes {
		if p.Registry() {
			continue // columns come from the registry subject when staging starts
		}
		c, err := quality.New(p, quality.WithDefinitions(defs[p.Name]...))
		if err != nil {
			return usagef("pipeline %s: %v", p.Name, err)
		}
		prog, err := transform.New(p, c.Columns(), log)
		if err != nil {
			return usagef("pipeline %s: %v", p.Name, err)
		}
		prog.Close()
	}
	return nil
}

// openSchemaStore opens the schema registry in the catalog database when a pipeline's format is registry-
// framed; nil when none is. A REST catalog has no database for it: that is a configuration error.
func openSchemaStore(ctx context.Context, cfg *config.Config, pipes []*config.Pipeline) (*registry.Store, error) {
	for _, p := range pipes {
		if !p.Registry() {
			continue
		}
		if !strings.HasPrefix(cfg.Catalog.URI, "sqlite://") && !strings.HasPrefix(cfg.Catalog.URI, "postgres://") && !strings.HasPrefix(cfg.Catalog.URI, "postgresql://") {
			return nil, usagef("pipeline %s: format %s reads its schemas from the schema registry, which lives in the catalog database: use a sqlite:// or postgres:// catalog.uri", p.Name, p.Format)
		}
		store, err := registry.Open(ctx, cfg.Catalog.URI)
		if err != nil {
			return nil, fmt.Errorf("opening the schema registry: %w", err)
		}
		return store, nil
	}
	return nil, nil
}

// stagingOptions are the process-level settings of runStaging.
type stagingOptions struct {
	httpAddr string
	// insecure allows serving a non-loopback address without auth configured.
	insecure       bool
	instanceID     string
	sessionTimeout time.Duration
	// extra runs alongside the workers (the demo producer under `up`).
	extra func(context.Context) error
}

// runStaging opens the lake, serves HTTP and runs a worker per pipeline until ctx ends.
func runStaging(ctx context.Context, cfg *config.Config, brokers []string, pipes []*config.Pipeline, opts stagingOptions, log *slog.Logger) error {
	defs, err := registryDefinitions(ctx, cfg, pipes, log)
	if err != nil {
		return err
	}
	if err := compilePipelines(pipes, defs, log); err != nil {
		return err
	}
	schemas, err := openSchemaStore(ctx, cfg, pipes)
	if err != nil {
		return err
	}
	if schemas != nil {
		defer schemas.Close()
	}
	serving := opts.httpAddr != "" && opts.httpAddr != "off"
	var authn *auth.Authenticator
	if serving {
		if authn, err = newAuthenticator(cfg, opts.httpAddr, opts.insecure, log); err != nil {
			return err
		}
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	metrics := monitor.NewMetricsWith(monitor.MetricsOptions{FreshnessSLO: cfg.Monitor.FreshnessSLO})
	health, control := monitor.NewHealth(), stage.NewControl()
	g, gctx := errgroup.WithContext(ctx)
	// The batches are most of the memory: hold the process near what they need instead of the runtime's
	// default of twice the live heap, which also keeps freed pages from piling up unreturned.
	switch limit, src := memlimit.Apply(cfg.MemoryLimitFor(pipes)); src {
	case memlimit.FromConfig:
		log.Info("memory limit", "limit", memlimit.MiB(limit), "from", src)
		go memlimit.Guard(gctx, 5*time.Second, log)
	case memlimit.FromEnv:
		log.Info("memory limit", "limit", memlimit.MiB(limit), "from", src)
	}
	// /healthz names a store that stops answering (S3 down, Postgres restarting) while staging retries.
	var stores storeHealth
	health.Watch("stores", stores.get)
	go lk.Watch(gctx, stores.set)
	wt, err := startWatching(ctx, cfg, brokers, pipes, lk, metrics, health, control, log)
	if err != nil {
		return err
	}
	defer wt.close()
	g.Go(func() error { wt.run(gctx); return nil })
	gm, err := gamemetrics.New(lk, cfg, log)
	if err != nil {
		return err
	}
	if gm != nil {
		g.Go(func() error { refreshMetrics(gctx, gm, wt, metricsRefreshInterval, log); return nil })
	}
	if len(cfg.Derived) > 0 {
		g.Go(func() error { (&derived.Runner{Lake: lk, Tables: cfg.Derived, Log: log}).Run(gctx); return nil })
	}
	if serving {
		w, err := newWeb(ctx, cfg, brokers, pipes, lk, metrics, health, control, authn, wt, gm, log)
		if err != nil {
			return err
		}
		defer w.close()
		if err := w.serve(gctx, g, opts.httpAddr, metrics, health, log); err != nil {
			return err
		}
	}
	for _, p := range pipes {
		g.Go(func() error {
			instance := ""
			if opts.instanceID != "" {
				instance = opts.instanceID + "-" + p.Name
			}
			err := stage.Run(gctx, stage.Options{Pipeline: p, Brokers: brokers, Lake: lk, Metrics: metrics, Health: health, Control: control, Logger: log, InstanceID: instance, SessionTimeout: opts.sessionTimeout, Definitions: defs[p.Name], Registry: schemas})
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			if ctx.Err() == nil {
				return errors.New("pipeline " + p.Name + " stopped")
			}
			return nil
		})
	}
	if opts.extra != nil {
		g.Go(func() error { return opts.extra(gctx) })
	}
	if cfg.Maintenance.Interval > 0 {
		mm := monitor.NewMaintenanceMetrics(metrics.Registry)
		g.Go(func() error {
			runMaintenance(gctx, lk, maintainedTables(derefPipelines(pipes)), cfg.Maintenance, mm, log)
			return nil
		})
	}
	log.Info("staging", "pipelines", len(pipes), "brokers", brokers, "catalog", lake.RedactURI(cfg.Catalog.URI), "warehouse", cfg.Warehouse)
	if err := g.Wait(); err != nil {
		return err
	}
	// A stop is graceful only if the catalog holding the commits is still the one opened (deleted or replaced:
	// exit 1, whatever moment of a pipeline's retry loop the signal caught).
	return lk.CheckCatalog()
}

// storeHealth holds the last result of the lake's store probe.
type storeHealth struct {
	mu  sync.Mutex
	err error
}

func (s *storeHealth) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *storeHealth) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
