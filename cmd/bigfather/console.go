package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/console"
	"github.com/bigfather/bigfather/internal/lake"
	gamemetrics "github.com/bigfather/bigfather/internal/metrics"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/platformdb"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/server"
	"github.com/bigfather/bigfather/internal/stage"
	"github.com/bigfather/bigfather/internal/webapi"
)

// web is the console and its API for one process.
type web struct {
	api     *api.API
	console http.Handler
	// registry is the schema registry API (nil with a REST catalog: it keeps its schemas in a SQL database).
	registry http.Handler
	watch    *watching
	close    func()
}

// newWeb builds the console and the /api/v1 handler over the process's platform. control is nil in a
// console-only process. The audit log lives in the catalog database when it is SQLite or Postgres; with a
// REST catalog mutating calls are logged to the process log only.
func newWeb(ctx context.Context, cfg *config.Config, brokers []string, pipes []*config.Pipeline, lk *lake.Lake, m *monitor.Metrics,
	health *monitor.Health, control *stage.Control, authn *auth.Authenticator, wt *watching, gm *gamemetrics.Service, log *slog.Logger) (*web, error) {
	var closers []func()
	w := &web{watch: wt, console: console.Handler()}
	var auditor api.Auditor = logAuditor{log}
	var store *audit.Store
	if uri := cfg.Catalog.URI; platformdb.Supported(uri) {
		st, err := audit.Open(ctx, uri)
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { st.Close() })
		auditor, store = st, st
		reg, err := registry.Open(ctx, uri)
		if err != nil {
			for _, c := range closers {
				c()
			}
			return nil, err
		}
		closers = append(closers, func() { reg.Close() })
		w.registry = guardRegistry(registry.NewHandler(reg, registry.WithLogger(log)), authn, auditor, log)
	}
	var kc *kgo.Client
	if len(brokers) > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("bigfather-console"))
		if err != nil {
			for _, c := range closers {
				c()
			}
			return nil, fmt.Errorf("creating the console's Kafka client: %w", err)
		}
		closers = append(closers, cl.Close)
		kc = cl
	}
	p := &webapi.Platform{Config: cfg, Pipelines: pipes, Lake: lk, Metrics: m, Health: health, History: wt.history, Watcher: wt.watcher, Alerts: wt.alerts, Control: control, Kafka: kc, Auth: authn, Audit: store, GameMetrics: gm, Log: log}
	if err := p.Start(); err != nil {
		for _, c := range closers {
			c()
		}
		return nil, err
	}
	closers = append([]func(){p.Close}, closers...) // the view before the client it uses
	w.api = api.New(authn, auditor, log)
	w.api.Add(p.Modules()...)
	w.close = func() {
		for _, c := range closers {
			c()
		}
	}
	return w, nil
}

// newAuthenticator builds the callers' authentication from the config's auth block, and refuses to serve a
// non-loopback address without it unless insecure (--insecure) says so.
func newAuthenticator(cfg *config.Config, addr string, insecure bool, log *slog.Logger) (*auth.Authenticator, error) {
	a, err := auth.New(cfg.Auth, auth.WithLogger(log))
	if err != nil {
		return nil, err
	}
	if err := auth.CheckBinding(addr, a.Enabled(), insecure); err != nil {
		return nil, usagef("%v", err)
	}
	if insecure && !a.Enabled() {
		log.Warn("serving without authentication on a non-loopback address (--insecure): anyone who reaches it is an admin", "addr", addr)
	}
	return a, nil
}

// serve runs the HTTP server on addr with the console until ctx ends.
func (w *web) serve(ctx context.Context, g *errgroup.Group, addr string, m *monitor.Metrics, health *monitor.Health, log *slog.Logger) error {
	srv, err := server.New(addr, server.Options{Metrics: m, Health: health, API: w.api, Console: w.console, Ready: w.watch.watcher.Ready,
		Registry: w.registry, RegistryPaths: registry.Paths()}, log)
	if err != nil {
		return err
	}
	log.Info("http listening", "addr", srv.Addr(), "console", "http://"+srv.Addr()+"/ui/")
	g.Go(func() error { return srv.Serve(ctx) })
	return nil
}

// logAuditor writes audit entries to the process log (REST catalogs have no database for the audit log).
type logAuditor struct{ log *slog.Logger }

func (a logAuditor) Record(_ context.Context, e audit.Entry) error {
	a.log.Info("audit", "actor", e.Actor, "role", e.Role, "action", e.Action, "path", e.Path, "remote", e.Remote, "outcome", e.Outcome, "status", e.Status)
	return nil
}

// cmdConsole runs the console and its API alone: `bigfather console --config FILE [--http ADDR]`.
func cmdConsole(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("console", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	httpAddr := fs.String("http", "", "HTTP address (default: the config's http)")
	insecure := fs.Bool("insecure", false, "serve a non-loopback --http address without auth configured")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("console: --config is required")
	}
	cfg, err := loadConfig(*cfgPath, "", false)
	if err != nil {
		return err
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	pipes := make([]*config.Pipeline, len(cfg.Pipelines))
	for i := range cfg.Pipelines {
		pipes[i] = &cfg.Pipelines[i]
	}
	addr := cfg.HTTP
	if *httpAddr != "" {
		addr = *httpAddr
	}
	authn, err := newAuthenticator(cfg, addr, *insecure, log)
	if err != nil {
		return err
	}
	m, health := monitor.NewMetricsWith(monitor.MetricsOptions{FreshnessSLO: cfg.Monitor.FreshnessSLO}), monitor.NewHealth()
	wt, err := startWatching(ctx, cfg, cfg.Kafka.Brokers, nil, lk, m, health, nil, log)
	if err != nil {
		return err
	}
	defer wt.close()
	gm, err := gamemetrics.New(lk, cfg, log)
	if err != nil {
		return err
	}
	w, err := newWeb(ctx, cfg, cfg.Kafka.Brokers, pipes, lk, m, health, nil, authn, wt, gm, log)
	if err != nil {
		return err
	}
	defer w.close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { wt.run(gctx); return nil })
	if err := w.serve(gctx, g, addr, m, health, log); err != nil {
		return err
	}
	return g.Wait()
}

// cmdAuth runs `bigfather auth hash`: it reads a password from the first line of standard input and prints
// its bcrypt hash for a user's password_hash.
func cmdAuth(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "hash" {
		return usagef("usage: bigfather auth hash < password-file  (prints the bcrypt hash of the first line)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return usagef("auth hash: the first line of standard input is empty; give the password there")
	}
	h, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, h)
	return nil
}
