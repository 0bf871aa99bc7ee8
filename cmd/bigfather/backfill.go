package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("backfill", stderr)
	cfgPath := fs.String("config", "", "config file (default: the defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory written by `bigfather up`")
	pipeline := fs.String("pipeline", "", "pipeline to backfill (default: the only one)")
	from := fs.String("from", "", "comma-separated JSON Lines (.jsonl) or Parquet (.parquet) files; more may follow as arguments")
	fromOffsets := fs.String("from-offsets", "", "replay a Kafka range: TOPIC:PARTITION:FROM-TO (TO empty: to the end)")
	fromTime := fs.String("from-time", "", "replay a Kafka time range: TOPIC:SINCE..UNTIL (RFC 3339)")
	brokers := fs.String("brokers", "", "Kafka brokers for replays (default: the config's)")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := append(splitList(*from), fs.Args()...)
	modes := 0
	for _, set := range []bool{len(files) > 0, *fromOffsets != "", *fromTime != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return usagef("backfill: give exactly one of --from FILES, --from-offsets TOPIC:PARTITION:FROM-TO or --from-time TOPIC:SINCE..UNTIL")
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, true)
	if err != nil {
		return err
	}
	p, err := cfg.Pipeline(*pipeline)
	if err != nil {
		return usagef("%v", err)
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	defs, err := registryDefinitions(ctx, cfg, []*config.Pipeline{p}, log)
	if err != nil {
		return err
	}
	schemas, err := openSchemaStore(ctx, cfg, []*config.Pipeline{p})
	if err != nil {
		return err
	}
	if schemas != nil {
		defer schemas.Close()
	}
	opts := stage.Options{Pipeline: p, Lake: lk, Metrics: monitor.NewMetrics(), Logger: log, Brokers: cfg.Kafka.Brokers, Definitions: defs[p.Name], Registry: schemas}
	if *brokers != "" {
		opts.Brokers = splitList(*brokers)
	}
	start := time.Now()
	var stats stage.BackfillStats
	switch {
	case len(files) > 0:
		stats, err = stage.Backfill(ctx, opts, files)
	default:
		r, perr := parseReplay(*fromOffsets, *fromTime)
		if perr != nil {
			return perr
		}
		if len(opts.Brokers) == 0 {
			return usagef("backfill: replaying needs brokers (--brokers or kafka.brokers)")
		}
		stats, err = stage.ReplayRange(ctx, opts, r)
		var re *stage.RangeError
		if errors.As(err, &re) {
			return usagef("backfill: %v", err)
		}
	}
	fmt.Fprintf(stdout, "read %d records: staged %d, duplicates dropped %d, rejected %d, filtered %d; %d already staged before (%.1fs)\n",
		stats.Read, stats.Staged, stats.Duplicates, stats.Rejected, stats.Filtered, stats.Skipped, time.Since(start).Seconds())
	return err
}

// parseReplay reads TOPIC:PARTITION:FROM-TO or TOPIC:SINCE..UNTIL.
func parseReplay(offsets, times string) (stage.Replay, error) {
	if offsets != "" {
		i := strings.LastIndexByte(offsets, ':')
		j := strings.LastIndexByte(offsets[:max(i, 0)], ':')
		if i < 0 || j < 0 {
			return stage.Replay{}, usagef("backfill: --from-offsets %q: expected TOPIC:PARTITION:FROM-TO", offsets)
		}
		part, err := strconv.ParseInt(offsets[j+1:i], 10, 32)
		fromS, toS, ok := strings.Cut(offsets[i+1:], "-")
		from, err2 := strconv.ParseInt(fromS, 10, 64)
		to := int64(-1)
		var err3 error
		if toS != "" {
			to, err3 = strconv.ParseInt(toS, 10, 64)
		}
		if err != nil || err2 != nil || err3 != nil || !ok || from < 0 || to < -1 {
			return stage.Replay{}, usagef("backfill: --from-offsets %q: expected TOPIC:PARTITION:FROM-TO with numbers", offsets)
		}
		if toS != "" && from >= to {
			return stage.Replay{}, usagef("backfill: --from-offsets %q: the range %d-%d of %s partition %d is reversed or empty: FROM must be less than TO (TO is exclusive)",
				offsets, from, to, offsets[:j], part)
		}
		return stage.Replay{Topic: offsets[:j], Partition: int32(part), From: from, To: to}, nil
	}
	topic, span, ok := strings.Cut(times, ":")
	sinceS, untilS, ok2 := strings.Cut(span, "..")
	since, err := time.Parse(time.RFC3339, sinceS)
	until, err2 := time.Parse(time.RFC3339, untilS)
	if !ok || !ok2 || err != nil || err2 != nil || !until.After(since) {
		return stage.Replay{}, usagef("backfill: --from-time %q: expected TOPIC:SINCE..UNTIL with RFC 3339 times, SINCE before UNTIL", times)
	}
	return stage.Replay{Topic: topic, Since: since, Until: until, ByTime: true}, nil
}
