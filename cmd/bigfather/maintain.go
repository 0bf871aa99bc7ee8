package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
	"github.com/bigfather/bigfather/internal/monitor"
)

// cmdMaintain runs table maintenance once on every table the config's pipelines write, or on --table.
func cmdMaintain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("maintain", stderr)
	cfgPath := fs.String("config", "", "config file (default: the defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory written by `bigfather up`")
	only := fs.String("table", "", "maintain only this table (namespace.table; one the config's pipelines write)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("usage: bigfather maintain [--config FILE | --data DIR] [--table T]")
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, true)
	if err != nil {
		return err
	}
	tables := maintainedTables(cfg.Pipelines)
	if *only != "" {
		if !slices.Contains(tables, *only) {
			return usagef("maintain: table %q is not written by any pipeline of the config (tables: %v)", *only, tables)
		}
		tables = []string{*only}
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	var errs []error
	for _, name := range tables {
		rep, err := maintain.Table(ctx, lk, name, maintenanceOptions(cfg.Maintenance))
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(stdout, "%s: %v\n", name, err)
			continue
		}
		fmt.Fprintln(stdout, rep)
	}
	return errors.Join(errs...)
}

func maintenanceOptions(m config.Maintenance) maintain.Options {
	return maintain.Options{TargetFileSize: m.TargetFileSize, SnapshotRetention: m.SnapshotRetention,
		MinSnapshots: m.MinSnapshots, OrphanAge: m.OrphanAge}
}

// maintainedTables lists the tables pipes write: main, rejected and route tables, sorted, each once.
func maintainedTables(pipes []config.Pipeline) []string {
	var out []string
	for _, p := range pipes {
		out = append(out, p.Table.Name, p.Table.Name+"_rejected")
		for _, r := range p.Routes {
			out = append(out, r.Table)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func derefPipelines(pipes []*config.Pipeline) []config.Pipeline {
	out := make([]config.Pipeline, len(pipes))
	for i, p := range pipes {
		out[i] = *p
	}
	return out
}

// runMaintenance maintains tables every interval (give or take a tenth, so processes sharing the tables
// drift apart) until ctx ends, the first time about one interval after start. A failed run is logged and
// counted, never fatal: staging goes on, and the next run tries again. Runs that change nothing are only
// counted; when ctx ends, one line sums up the runs this process made.
func runMaintenance(ctx context.Context, lk *lake.Lake, tables []string, m config.Maintenance, mm *monitor.MaintenanceMetrics, log *slog.Logger) {
	var runs, changed, failed int
	defer func() { log.Info("maintenance stopped", "runs", runs, "changed", changed, "failed", failed) }()
	for {
		wait := m.Interval - m.Interval/10 + time.Duration(rand.Int64N(int64(m.Interval/5)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		for _, name := range tables {
			if ctx.Err() != nil {
				return
			}
			rep, err := maintain.Table(ctx, lk, name, maintenanceOptions(m))
			mm.LastRun.WithLabelValues(name).SetToCurrentTime()
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return
				}
				runs++
				failed++
				mm.Runs.WithLabelValues(name, "error").Inc()
				log.Warn("maintenance failed", "table", name, "err", err)
				continue
			case rep.Yielded:
				mm.Runs.WithLabelValues(name, "yielded").Inc()
			default:
				mm.Runs.WithLabelValues(name, "ok").Inc()
			}
			runs++
			mm.DataFiles.WithLabelValues(name).Set(float64(rep.DataFiles))
			mm.SmallFiles.WithLabelValues(name).Set(float64(rep.SmallFiles))
			mm.Snapshots.WithLabelValues(name).Set(float64(rep.Snapshots))
			mm.FilesRewritten.WithLabelValues(name).Add(float64(rep.FilesRewritten))
			mm.BytesRemoved.WithLabelValues(name).Add(float64(rep.BytesRemoved))
			if rep.FilesRewritten > 0 || rep.ManifestsMerged > 0 || rep.SnapshotsExpired > 0 || rep.OrphansRemoved > 0 || rep.Yielded {
				changed++
				log.Info("maintained", "table", name, "rewritten", rep.FilesRewritten, "written", rep.FilesWritten,
					"manifests_merged", rep.ManifestsMerged, "yielded", rep.Yielded, "expired", rep.SnapshotsExpired, "orphans", rep.OrphansRemoved,
					"bytes_removed", rep.BytesRemoved, "data_files", rep.DataFiles, "snapshots", rep.Snapshots, "took", rep.Took)
			}
		}
	}
}
