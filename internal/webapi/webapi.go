// Package webapi holds the API families of the console under /api/v1, one file per page: overview,
// pipelines, tables, SQL, topics, the audit log, the session and the registry subjects in use. Each family
// reads the running platform (config, lake, metrics, health, Kafka) through Platform and registers its routes
// with internal/api.
package webapi

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/kafkaview"
	"github.com/bigfather/bigfather/internal/lake"
	gamemetrics "github.com/bigfather/bigfather/internal/metrics"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/query"
	"github.com/bigfather/bigfather/internal/stage"
)

// Platform is what the console reads and acts on.
type Platform struct {
	Config *config.Config
	// Pipelines are the ones this process runs (all of Config's when it runs the console alone).
	Pipelines []*config.Pipeline
	Lake      *lake.Lake
	Metrics   *monitor.Metrics
	// GameMetrics serves the config's game metrics (nil: none configured).
	GameMetrics *gamemetrics.Service
	Health      *monitor.Health
	History     *monitor.History
	// Watcher judges pipelines, consumer groups and the infrastructure (nil: no monitor page data).
	Watcher *monitor.Watcher
	// Alerts evaluates the alert rules (nil: none).
	Alerts *alert.Engine
	// Control pauses and resumes this process's pipelines; nil in a console-only process.
	Control *stage.Control
	// Kafka is a client of the cluster (no consumer group); nil when there is none.
	Kafka *kgo.Client
	// Auth identifies callers; nil when authentication is off.
	Auth *auth.Authenticator
	// Audit is the audit log store; nil when the catalog is not a SQL database.
	Audit *audit.Store
	Log   *slog.Logger

	kafkaView *kafkaview.View

	sqlHistory queryHistory
}

// Modules are every API family of the console.
func (p *Platform) Modules() []api.Module {
	return []api.Module{session{p}, overview{p}, topics{p}, pipelines{p}, tables{p}, sqlAPI{p}, auditLog{p}, monitorAPI{p}, alertsAPI{p}, schemasAPI{p}, metricsAPI{p}}
}

// Start readies what the families share (the Kafka view); Close releases it.
func (p *Platform) Start() error {
	if p.Kafka == nil {
		return nil
	}
	v, err := kafkaview.New(p.Kafka, kafkaview.WithLogger(p.Log))
	if err != nil {
		return fmt.Errorf("starting the console's Kafka view: %w", err)
	}
	p.kafkaView = v
	return nil
}

// Close releases what Start made.
func (p *Platform) Close() {
	if p.kafkaView != nil {
		p.kafkaView.Close()
	}
}

// pipeline finds a configured pipeline by name.
func (p *Platform) pipeline(name string) (*config.Pipeline, error) {
	for _, pl := range p.Pipelines {
		if pl.Name == name {
			return pl, nil
		}
	}
	return nil, api.NotFound("pipeline", name)
}

// engine opens a query engine over the named tables, or over every table when none is named (as `bigfather
// sql` does). A named table the catalog does not hold is left out, so a query on it fails as a missing table.
func (p *Platform) engine(ctx context.Context, tables ...string) (*query.Engine, error) {
	eng, err := query.Open(ctx)
	if err != nil {
		return nil, err
	}
	register := func() error { return eng.RegisterLake(ctx, p.Lake) }
	if len(tables) > 0 {
		register = func() error {
			known, err := p.Lake.Tables(ctx)
			if err != nil {
				return err
			}
			return eng.RegisterTables(ctx, p.Lake, slices.DeleteFunc(slices.Clone(tables), func(t string) bool { return !slices.Contains(known, t) })...)
		}
	}
	if err := register(); err != nil {
		eng.Close()
		return nil, err
	}
	return eng, nil
}

// queryHistory keeps the last queries of each user, newest first.
type queryHistory struct {
	mu    sync.Mutex
	byWho map[string][]historyEntry
}

type historyEntry struct {
	At     time.Time `json:"at"`
	Query  string    `json:"query"`
	Rows   *int      `json:"rows,omitempty"`
	TookMS int64     `json:"took_ms"`
	Error  string    `json:"error,omitempty"`
}

const historyKeep = 50

func (h *queryHistory) add(who string, e historyEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byWho == nil {
		h.byWho = map[string][]historyEntry{}
	}
	list := append([]historyEntry{e}, h.byWho[who]...)
	if len(list) > historyKeep {
		list = list[:historyKeep]
	}
	h.byWho[who] = list
}

func (h *queryHistory) list(who string) []historyEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.byWho[who])
}
