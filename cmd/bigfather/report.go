package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/bigfather/bigfather/internal/completeness"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
	"github.com/bigfather/bigfather/internal/stage"
)

// reportFlags are the flags shared by the report commands.
type reportFlags struct {
	cfgPath, dataDir, pipeline, format *string
}

func newReportFlags(name string, stderr io.Writer) (*reportFlags, func([]string) error) {
	fs := newFlags(name, stderr)
	f := &reportFlags{
		cfgPath:  fs.String("config", "", "config file (default: the defaults under --data)"),
		dataDir:  fs.String("data", "./data", "data directory written by `bigfather up`"),
		pipeline: fs.String("pipeline", "", "pipeline (default: the only one)"),
		format:   fs.String("format", "table", "output format: table or json"),
	}
	return f, func(args []string) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 0 {
			return usagef("%s: unexpected argument %q", name, fs.Arg(0))
		}
		if *f.format != "table" && *f.format != "json" {
			return usagef("unknown output format %q (expected table or json)", *f.format)
		}
		return nil
	}
}

// open loads the config, picks the pipeline and registers every table with a query engine.
func (f *reportFlags) open(ctx context.Context) (*config.Pipeline, *query.Engine, func(), error) {
	cfg, err := loadConfig(*f.cfgPath, *f.dataDir, true)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := cfg.Pipeline(*f.pipeline)
	if err != nil {
		return nil, nil, nil, usagef("%v", err)
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return nil, nil, nil, err
	}
	eng, err := query.Open(ctx)
	if err != nil {
		lk.Close()
		return nil, nil, nil, err
	}
	closeAll := func() { eng.Close(); lk.Close() }
	if err := eng.RegisterLake(ctx, lk); err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return p, eng, closeAll, nil
}

// openReport parses a report command's flags and opens its pipeline's tables for querying.
func openReport(ctx context.Context, name string, args []string, stderr io.Writer) (*reportFlags, *config.Pipeline, *query.Engine, func(), error) {
	f, parseArgs := newReportFlags(name, stderr)
	if err := parseArgs(args); err != nil {
		return nil, nil, nil, nil, err
	}
	p, eng, closeAll, err := f.open(ctx)
	return f, p, eng, closeAll, err
}

func cmdCompleteness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, p, eng, closeAll, err := openReport(ctx, "completeness", args, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	if !p.Completeness.Enabled() {
		return usagef("completeness: pipeline %s has no completeness settings (completeness: {producer_field: ..., seq_field: ...})", p.Name)
	}
	r, err := completeness.Build(ctx, eng, p.Table.Name, p.Completeness.ProducerField, p.Completeness.SeqField, 50)
	if err != nil {
		return err
	}
	return r.Write(stdout, *f.format)
}

func cmdRejected(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, p, eng, closeAll, err := openReport(ctx, "rejected", args, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	table := p.Table.Name + stage.RejectedSuffix
	res, err := eng.Query(ctx, fmt.Sprintf(`select reason_code, coalesce(field, '') as field, count(*) as records,
		min(_ingested_at) as first_seen, max(_ingested_at) as last_seen, any_value(reason) as example_reason
		from %s group by 1, 2 order by records desc, reason_code, field`, quoteTableName(table)))
	if err != nil {
		return err
	}
	format := *f.format
	if format == "table" {
		fmt.Fprintf(stdout, "Rejected records of pipeline %s (%s), by reason and field:\n", p.Name, table)
	}
	return res.Write(stdout, format)
}

func quoteTableName(name string) string {
	ns, t, _ := strings.Cut(name, ".")
	return `"` + ns + `"."` + t + `"`
}
