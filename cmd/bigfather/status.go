package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
)

// statusView is what `bigfather status` prints: the monitor's report, the active alerts, and where they came
// from.
type statusView struct {
	// Source is "http://ADDR" when a running process answered, else "sampled" (this command sampled the
	// cluster and the tables itself; statuses then come from the history the processes recorded).
	Source string         `json:"source"`
	Report monitor.Report `json:"report"`
	Alerts []alert.Alert  `json:"alerts"`
	// Ready says every readiness check passed.
	Ready bool `json:"ready"`
}

// cmdStatus runs `bigfather status`: health, lag and status as a terminal table (or JSON). It asks the process
// serving the config's HTTP address; when none answers it samples Kafka and the tables itself.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("status", stderr)
	cfgPath := fs.String("config", "", "config file (default: the defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory, when there is no --config")
	httpAddr := fs.String("http", "", "address of a running bigfather process (default: the config's http)")
	token := fs.String("token", "", "bearer token for a process with auth configured (default: $BIGFATHER_TOKEN)")
	format := fs.String("format", "table", "output: table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usagef("status: --format must be table or json, got %q", *format)
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, *cfgPath == "")
	if err != nil {
		return err
	}
	addr := cfg.HTTP
	if *httpAddr != "" {
		addr = *httpAddr
	}
	if *token == "" {
		*token = os.Getenv("BIGFATHER_TOKEN")
	}
	v, err := askProcess(ctx, addr, *token)
	if err != nil {
		var denied *deniedError
		if errors.As(err, &denied) {
			return err
		}
		log.Debug("no process answers; sampling directly", "addr", addr, "err", err)
		if v, err = sampleDirectly(ctx, cfg, log); err != nil {
			return err
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		printStatus(stdout, v)
	}
	if bad := unhealthy(v); bad != "" {
		return errors.New("status: " + bad)
	}
	return nil
}

// unhealthy names what makes the status command exit 1: a failing readiness check, or a pipeline in ERR,
// STOP or STALL.
func unhealthy(v statusView) string {
	var bad []string
	for _, c := range v.Report.Checks {
		if !c.OK {
			bad = append(bad, c.Name+" not ready")
		}
	}
	for _, p := range v.Report.Pipelines {
		switch p.Status {
		case monitor.StatusErr, monitor.StatusStop, monitor.StatusStall:
			bad = append(bad, "pipeline "+p.Name+" "+string(p.Status))
		}
	}
	return strings.Join(bad, "; ")
}

// deniedError is a process that answered but refused the call (401/403): asking the tables directly would hide
// that the token is wrong.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return e.msg }

// askProcess reads the report and the active alerts from a running process.
func askProcess(ctx context.Context, addr, token string) (statusView, error) {
	v := statusView{Source: "http://" + addr}
	cl := &http.Client{Timeout: 5 * time.Second}
	get := func(path string, into any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return json.NewDecoder(resp.Body).Decode(into)
		case http.StatusUnauthorized, http.StatusForbidden:
			return &deniedError{msg: fmt.Sprintf("status: http://%s%s answered %d: give a viewer token with --token or $BIGFATHER_TOKEN", addr, path, resp.StatusCode)}
		}
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := get("/api/v1/monitor", &v.Report); err != nil {
		return v, err
	}
	var alerts struct {
		Items []alert.Alert `json:"items"`
	}
	if err := get("/api/v1/alerts", &alerts); err != nil {
		return v, err
	}
	v.Alerts = alerts.Items
	v.Ready = ready(v.Report)
	return v, nil
}

// sampleDirectly takes one sample of the cluster and the tables, without a running process. Statuses need a
// window of samples: they come from the newest point the processes recorded in the history (when the
// catalog is a SQL database and it is recent), else they read UNKNOWN.
func sampleDirectly(ctx context.Context, cfg *config.Config, log *slog.Logger) (statusView, error) {
	v := statusView{Source: "sampled", Alerts: []alert.Alert{}}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		return v, err
	}
	defer lk.Close()
	m := monitor.NewMetricsWith(monitor.MetricsOptions{FreshnessSLO: cfg.Monitor.FreshnessSLO})
	wt, err := startWatching(ctx, cfg, cfg.Kafka.Brokers, nil, lk, m, nil, nil, log)
	if err != nil {
		return v, err
	}
	defer wt.close()
	wt.watcher.Sample(ctx)
	v.Report = wt.watcher.Report()
	for i := range v.Report.Pipelines {
		p := &v.Report.Pipelines[i]
		p.Status = "UNKNOWN"
		if wt.store == nil {
			continue
		}
		pts, err := wt.store.Points(ctx, "pipeline:"+p.Name, time.Now().Add(-3*cfg.Monitor.Interval-time.Minute))
		if err == nil && len(pts) > 0 && pts[len(pts)-1].Status != "" {
			p.Status = pts[len(pts)-1].Status
		}
	}
	v.Ready = ready(v.Report)
	return v, nil
}

func ready(r monitor.Report) bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// printStatus writes the view as tables.
func printStatus(w io.Writer, v statusView) {
	state := "ready"
	if !v.Ready {
		state = "NOT READY"
	}
	fmt.Fprintf(w, "%s (from %s at %s)\n", state, v.Source, v.Report.At.Local().Format("2006-01-02 15:04:05"))
	for _, c := range v.Report.Checks {
		mark := "ok"
		if !c.OK {
			mark = "FAILING: " + c.Message
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, mark)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tSTATUS\tLAG\tLAG SECONDS\tPROCESSES\tDETAIL")
	for _, p := range v.Report.Pipelines {
		detail := p.Detail
		if p.Error != "" {
			detail = p.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%d\t%s\n", p.Name, p.Status, p.Lag, p.LagSeconds, p.Processes, oneLine(detail, 80))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tFRESHNESS SECONDS\tEVENT AGE SECONDS\tLAST COMMIT\tDATA FILES\tSMALL FILES\tSNAPSHOTS")
	for _, p := range v.Report.Pipelines {
		for _, t := range p.Tables {
			last := "-"
			if !t.LastCommit.IsZero() {
				last = t.LastCommit.Local().Format("15:04:05")
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%d\t%d\t%d\n", t.Name, t.FreshnessSeconds, t.EventAgeSeconds, last, t.DataFiles, t.SmallFiles, t.Snapshots)
		}
	}
	tw.Flush()
	if len(v.Report.Groups) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CONSUMER GROUP\tSTATE\tSTATUS\tLAG\tLAG SECONDS")
		for _, g := range v.Report.Groups {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f\n", g.Group, g.State, g.Status, g.Lag, g.LagSeconds)
		}
		tw.Flush()
	}
	k := v.Report.Kafka
	reachable := 0
	for _, b := range k.Brokers {
		if b.Reachable {
			reachable++
		}
	}
	fmt.Fprintf(w, "\nkafka: %d/%d brokers reachable, %d topics, %d partitions, %d under-replicated, %d offline\n",
		reachable, len(k.Brokers), k.Topics, k.Partitions, k.UnderReplicated, k.Offline)
	fmt.Fprintln(w)
	if len(v.Alerts) == 0 {
		if v.Source == "sampled" {
			fmt.Fprintln(w, "alerts: unknown (no process answers; alerts are evaluated by the running processes)")
		} else {
			fmt.Fprintln(w, "alerts: none pending or firing")
		}
		return
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tSTATE\tSEVERITY\tSUMMARY\tRUNBOOK")
	for _, a := range v.Alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Rule, a.State, a.Severity, oneLine(a.Summary, 80), a.RunbookURL)
	}
	tw.Flush()
}

// oneLine cuts s to n characters on one line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
