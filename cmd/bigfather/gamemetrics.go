package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/metrics"
	"github.com/bigfather/bigfather/internal/metrics/chart"
)

const metricsUsage = `usage: bigfather metrics list|describe|show|refresh [flags]
  bigfather metrics list     [--config FILE | --data DIR]
  bigfather metrics describe NAME [--config FILE | --data DIR]
  bigfather metrics show     NAME [--from DAY] [--to DAY] [--by DIM] [--format table|csv|json|svg|png] [--out FILE] [--refresh=false]
  bigfather metrics refresh  [NAME...] [--config FILE | --data DIR]`

func cmdMetrics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", metricsUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("metrics "+sub, stderr)
	cfgPath := fs.String("config", "", "config file (default: the defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory written by `bigfather up`")
	var from, to, by, format, out *string
	var refresh *bool
	var name string
	var names []string // metrics refresh NAME...
	switch sub {
	case "list":
	case "refresh":
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			names, args = append(names, args[0]), args[1:]
		}
	case "describe", "show":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return usagef("bigfather metrics %s: name a metric\n%s", sub, metricsUsage)
		}
		name, args = args[0], args[1:]
		if sub == "show" {
			from = fs.String("from", "", "first day, YYYY-MM-DD (default: 29 days before --to)")
			to = fs.String("to", "", "last day, YYYY-MM-DD (default: the newest day with data)")
			by = fs.String("by", "", "break down by this dimension")
			format = fs.String("format", "table", "output format: table, csv, json, svg or png")
			out = fs.String("out", "", "write to this file instead of standard output")
			refresh = fs.Bool("refresh", true, "bring the metric up to the table's current snapshot first")
		}
	default:
		return usagef("bigfather metrics: unknown subcommand %q\n%s", sub, metricsUsage)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("bigfather metrics %s: unexpected argument %q\n%s", sub, fs.Arg(0), metricsUsage)
	}
	if format != nil {
		switch *format {
		case "table", "csv", "json", "svg", "png":
		default:
			return usagef("unknown output format %q (expected table, csv, json, svg or png)", *format)
		}
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, true)
	if err != nil {
		return err
	}
	if len(cfg.Metrics) == 0 {
		return usagef("the config declares no metrics: add a metrics block (see the README)")
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return err
	}
	defer lk.Close()
	svc, err := metrics.New(lk, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return usagef("%v", err)
	}
	switch sub {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "name\tkind\ttable\tunit\tdimensions\tdescription")
		for _, in := range svc.List() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, in.Kind, in.Table, in.Unit, strings.Join(in.Dimensions, ","), in.Description)
		}
		return tw.Flush()
	case "describe":
		in, err := svc.Describe(name)
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprintf(stdout, "%s (%s over %s, in %s; materialized as %s)\n\n", in.Name, in.Kind, in.Table, in.Unit, in.MaterializedAs)
		for _, p := range in.Semantics {
			fmt.Fprintf(stdout, "%s\n\n", p)
		}
		return nil
	case "refresh":
		start := time.Now()
		outs, err := svc.Refresh(ctx, names...)
		if errors.Is(err, metrics.ErrUnknownMetric) {
			return usagef("%v", err)
		}
		for _, o := range outs {
			what := fmt.Sprintf("%d days recomputed", len(o.Days))
			switch {
			case o.UpToDate:
				what = "up to date"
			case o.Full:
				what = "recomputed whole"
			}
			fmt.Fprintf(stdout, "%s: %s, %d rows, source snapshot %d\n", o.Metric, what, o.Rows, o.SourceSnapshot)
		}
		fmt.Fprintf(stdout, "(%d metrics in %s)\n", len(outs), time.Since(start).Round(time.Millisecond))
		return err
	}
	if _, err := svc.Describe(name); err != nil {
		return usagef("%v", err)
	}
	if *refresh {
		// Only this metric: another one failing (a currency without a rate, say) must not hide this one.
		if _, err := svc.Refresh(ctx, name); err != nil {
			return err
		}
	}
	res, err := svc.Show(ctx, metrics.Query{Name: name, From: *from, To: *to, By: *by})
	var pe *metrics.ParamError
	if errors.As(err, &pe) {
		return usagef("--%v", err)
	}
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "svg", "png":
		if err := drawChart(w, *format, res); err != nil {
			return err
		}
	default:
		if err := res.Write(w, *format); err != nil {
			return err
		}
	}
	if f, ok := w.(*os.File); ok && f != stdout {
		return f.Close()
	}
	return nil
}

// drawChart draws the chart that suits res.
func drawChart(w io.Writer, format string, res *metrics.Result) error {
	title := fmt.Sprintf("%s, %s to %s", res.Metric, res.From, res.To)
	if res.By != "" {
		title += " by " + res.By
	}
	switch res.Chart {
	case metrics.ChartHeatmap:
		// Columns are the day Ns present, in order.
		var ns []int
		for _, r := range res.Rows {
			ns = append(ns, r.N)
		}
		slices.Sort(ns)
		ns = slices.Compact(ns)
		cols := make([]string, len(ns))
		for i, n := range ns {
			cols[i] = fmt.Sprintf("D%d", n)
		}
		var rows []string
		idx := map[string]int{}
		var values [][]*float64
		for _, r := range res.Rows {
			label := r.Day
			if res.By != "" {
				label += " " + r.Key
			}
			i, ok := idx[label]
			if !ok {
				i = len(rows)
				idx[label] = i
				rows = append(rows, label)
				values = append(values, make([]*float64, len(cols)))
			}
			col, _ := slices.BinarySearch(ns, r.N)
			values[i][col] = r.Value
		}
		return chart.Heatmap(w, format, title, rows, cols, values)
	case metrics.ChartBars:
		var labels []string
		var values []float64
		at := map[int]int{}
		for _, r := range res.Rows {
			i, ok := at[r.N]
			if !ok {
				i = len(labels)
				at[r.N] = i
				labels = append(labels, r.Event)
				values = append(values, 0)
			}
			if r.Value != nil {
				values[i] += *r.Value
			}
		}
		return chart.Bars(w, format, title, labels, values)
	}
	var series []chart.Series
	at := map[string]int{}
	for _, r := range res.Rows {
		name := res.Metric
		if res.By != "" {
			name = r.Key
		}
		i, ok := at[name]
		if !ok {
			i = len(series)
			at[name] = i
			series = append(series, chart.Series{Name: name})
		}
		day, _ := time.Parse(time.DateOnly, r.Day)
		p := chart.Point{Day: day, Null: r.Value == nil}
		if r.Value != nil {
			p.Value = *r.Value
		}
		series[i].Points = append(series[i].Points, p)
	}
	return chart.TimeSeries(w, format, title, res.Unit, series)
}

// metricsRefreshInterval is how often a staging process refreshes the config's metrics.
const metricsRefreshInterval = 15 * time.Second

// refreshMetrics refreshes gm until ctx ends, waiting interval between refreshes, or twice as long as the
// last one took when that is longer, so refreshing never takes more than a third of the process's time. With
// a shared catalog database only the holder of the "metrics" lease refreshes, so a fleet computes each
// refresh once; the lease lasts three intervals, so another process takes over that long after the holder
// stops.
func refreshMetrics(ctx context.Context, gm *metrics.Service, wt *watching, interval time.Duration, log *slog.Logger) {
	for {
		wait := interval
		hold := true
		if wt.store != nil {
			ok, err := wt.store.Lease(ctx, "metrics", wt.instance, time.Now(), 3*interval)
			if err != nil && ctx.Err() == nil {
				log.Warn("metrics lease not renewed", "err", err)
			}
			hold = ok
		}
		if hold {
			start := time.Now()
			outs, err := gm.Refresh(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				log.Warn("metric refresh failed", "err", err)
			}
			changed := 0
			for _, o := range outs {
				if !o.UpToDate {
					changed++
				}
			}
			took := time.Since(start)
			if changed > 0 {
				log.Info("metrics refreshed", "metrics", changed, "took", took.Round(time.Millisecond))
			}
			wait = max(wait, 2*took)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
