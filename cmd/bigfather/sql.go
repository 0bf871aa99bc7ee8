package main

import (
	"context"
	"errors"
	"io"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

func cmdSQL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sql", stderr)
	cfgPath := fs.String("config", "", "config file (default: the defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory written by `bigfather up`")
	format := fs.String("format", "table", "output format: table, csv or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(`usage: bigfather sql [--config FILE | --data DIR] [--format table|csv|json] "SQL"`)
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return usagef("unknown output format %q (expected table, csv or json)", *format)
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, true)
	if err != nil {
		return err
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	eng, err := query.Open(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.RegisterLake(ctx, lk); err != nil {
		return err
	}
	res, err := eng.Query(ctx, fs.Arg(0))
	if errors.Is(err, query.ErrRefused) {
		return usagef("%v", err) // the query asked for something the sandbox does not allow: exit 2
	}
	if err != nil {
		return err
	}
	return res.Write(stdout, *format)
}
