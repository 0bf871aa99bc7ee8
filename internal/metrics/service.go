package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// ErrUnknownMetric is wrapped by the errors for a metric name the config does not define.
var ErrUnknownMetric = errors.New("unknown metric")

// ParamError is a bad query parameter of Show: Param is "from", "to" or "by".
type ParamError struct{ Param, Msg string }

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// Service computes, materializes and serves the config's metrics.
type Service struct {
	lake  *lake.Lake
	defs  []*Def
	names map[string]*Def
	// completeness holds, per staged table, the pipeline's completeness fields (for the gaps of a range).
	completeness map[string]config.Completeness
	log          *slog.Logger
	refreshMu    sync.Mutex // one refresh at a time in this process
}

// New resolves cfg's metrics (nil when it declares none) over the tables of lk.
func New(lk *lake.Lake, cfg *config.Config, log *slog.Logger) (*Service, error) {
	if len(cfg.Metrics) == 0 {
		return nil, nil
	}
	defs, err := Defs(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{lake: lk, defs: defs, names: map[string]*Def{}, completeness: map[string]config.Completeness{}, log: log}
	for _, d := range defs {
		s.names[d.Name] = d
	}
	for _, p := range cfg.Pipelines {
		if p.Completeness.Enabled() {
			s.completeness[p.Table.Name] = p.Completeness
		}
	}
	return s, nil
}

// List describes every metric, in config order.
func (s *Service) List() []Info {
	out := make([]Info, len(s.defs))
	for i, d := range s.defs {
		out[i] = d.Info()
	}
	return out
}

func (s *Service) def(name string) (*Def, error) {
	d, ok := s.names[name]
	if !ok {
		names := make([]string, len(s.defs))
		for i, d := range s.defs {
			names[i] = d.Name
		}
		return nil, fmt.Errorf("%w %q (defined: %s)", ErrUnknownMetric, name, strings.Join(names, ", "))
	}
	return d, nil
}

// Describe describes one metric.
func (s *Service) Describe(name string) (Info, error) {
	d, err := s.def(name)
	if err != nil {
		return Info{}, err
	}
	return d.Info(), nil
}

// Refresh brings the named metrics (every metric when none are named) up to their source tables' current
// snapshots, one commit per metric. A metric that fails does not stop the others; the errors are joined.
func (s *Service) Refresh(ctx context.Context, names ...string) ([]Outcome, error) {
	for _, n := range names {
		if _, err := s.def(n); err != nil {
			return nil, err
		}
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	var tables []string
	byTable := map[string][]*Def{}
	for _, d := range s.defs {
		if len(names) > 0 && !slices.Contains(names, d.Name) {
			continue
		}
		if _, ok := byTable[d.Table]; !ok {
			tables = append(tables, d.Table)
		}
		byTable[d.Table] = append(byTable[d.Table], d)
	}
	var out []Outcome
	var errs []error
	for _, t := range tables {
		o, err := s.refreshSource(ctx, t, byTable[t])
		if errors.Is(err, catalog.ErrNoSuchTable) {
			continue // not staged yet
		}
		out = append(out, o...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// defaultSpan is how many days Show covers when the query names no range: the last 30 days with data.
const defaultSpan = 30

// Show reads a metric's materialized rows for q, with their completeness.
func (s *Service) Show(ctx context.Context, q Query) (*Result, error) {
	d, err := s.def(q.Name)
	if err != nil {
		return nil, err
	}
	if q.By != "" && !slices.Contains(d.Dimensions, q.By) {
		dims := "none are configured"
		if len(d.Dimensions) > 0 {
			dims = "expected one of: " + strings.Join(d.Dimensions, ", ")
		}
		return nil, &ParamError{"by", fmt.Sprintf("metric %s has no dimension %q (%s)", d.Name, q.By, dims)}
	}
	var from, to time.Time
	for _, p := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", q.From, &from}, {"to", q.To, &to}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, p.v)
		if err != nil {
			return nil, &ParamError{p.name, fmt.Sprintf("expected a day as YYYY-MM-DD, got %q", p.v)}
		}
		*p.dst = t
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, &ParamError{"to", fmt.Sprintf("%s is before from %s", q.To, q.From)}
	}
	res := &Result{Metric: d.Name, Kind: d.Kind, Chart: d.Chart(), Unit: d.Unit(), By: q.By, Rows: []Row{},
		Source: Source{Table: d.Table}, Gaps: Gaps{Days: []string{}}}
	files, err := s.lake.Snapshot(ctx, MaterializedTable(d.Name))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		res.From, res.To = dayString(from), dayString(to)
		return res, nil // not computed yet
	}
	if err != nil {
		return nil, err
	}
	mt, err := s.lake.LoadTable(ctx, MaterializedTable(d.Name))
	if err != nil {
		return nil, err
	}
	eng, err := query.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if err := register(ctx, eng, "bf_metric", "m", files.Columns, files.DataFiles, files.DeleteFiles); err != nil {
		return nil, err
	}
	if to.IsZero() || from.IsZero() {
		r, err := eng.Query(ctx, `SELECT max(day) FROM "bf_metric"."m"`)
		if err != nil {
			return nil, err
		}
		newest, _ := r.Rows[0][0].(time.Time)
		if newest.IsZero() {
			newest = time.Now().UTC().Truncate(24 * time.Hour)
		}
		switch {
		case to.IsZero() && from.IsZero():
			to, from = newest, newest.AddDate(0, 0, -(defaultSpan-1))
		case to.IsZero():
			to = from.AddDate(0, 0, defaultSpan-1)
		default:
			from = to.AddDate(0, 0, -(defaultSpan - 1))
		}
	}
	res.From, res.To = dayString(from), dayString(to)
	r, err := eng.Query(ctx, fmt.Sprintf(`SELECT day, key, n, event, cohort_size, retained, value FROM "bf_metric"."m"
WHERE dimension = %s AND day BETWEEN DATE %s AND DATE %s ORDER BY day, key, n`, literal(q.By), literal(res.From), literal(res.To)))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", MaterializedTable(d.Name), err)
	}
	for _, v := range r.Rows {
		mr := toRow(v, q.By)
		out := Row{Day: dayString(mr.day), Key: mr.key, N: int(deref(mr.n)), CohortSize: deref(mr.size), Retained: deref(mr.retained), Value: mr.value}
		if mr.event != nil {
			out.Event = *mr.event
		}
		res.Rows = append(res.Rows, out)
	}
	props := mt.Properties()
	res.Source.SnapshotID, _ = strconv.ParseInt(props[propSourceSnap], 10, 64)
	res.Source.RefreshedAt, _ = time.Parse(time.RFC3339Nano, props[propRefreshedAt])
	res.CompleteUntil, _ = time.Parse(time.RFC3339Nano, props[propCompleteUntil])
	if props[propGapsKnown] == "true" {
		res.Gaps.Known = true
		var spans []gapSpan
		if err := json.Unmarshal([]byte(props[propGaps]), &spans); err != nil {
			return nil, fmt.Errorf("reading the completeness holes recorded on %s: %w", MaterializedTable(d.Name), err)
		}
		days := map[string]bool{}
		for _, sp := range spans {
			if sp.To < res.From || sp.From > res.To {
				continue
			}
			res.Gaps.Count += sp.Count
			res.Gaps.Missing += sp.Missing
			f, _ := time.Parse(time.DateOnly, max(sp.From, res.From))
			l, _ := time.Parse(time.DateOnly, min(sp.To, res.To))
			for day := f; !day.After(l); day = day.AddDate(0, 0, 1) {
				days[dayString(day)] = true
			}
		}
		for day := range days {
			res.Gaps.Days = append(res.Gaps.Days, day)
		}
		slices.Sort(res.Gaps.Days)
	}
	return res, nil
}

func dayString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
