package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// Table properties of a materialized metric, set in the same commit as its rows.
const (
	propSource        = "bigfather.metric.source"          // the staged table, namespace.name
	propSourceSnap    = "bigfather.metric.source-snapshot" // the source snapshot the rows cover
	propFingerprint   = "bigfather.metric.fingerprint"     // Def.Fingerprint of what computed them
	propCompleteUntil = "bigfather.metric.complete-until"  // newest event time in that snapshot (RFC 3339)
	propRefreshedAt   = "bigfather.metric.refreshed-at"
	propGaps          = "bigfather.metric.gaps" // JSON: the completeness holes as day spans (gapSpan)
	propGapsKnown     = "bigfather.metric.gaps-known"
	// summaryRefresh marks a metric refresh's snapshot: "full" or the number of days recomputed.
	summaryRefresh = "bigfather.metric.refresh"
)

// materializedColumns is the schema of every metric table: one row per day (retention: cohort day and N;
// funnel: day and step) and breakdown key; dimension is "" for the total.
var materializedColumns = []lake.Column{
	{Name: "day", Type: "date"}, {Name: "dimension", Type: "string"}, {Name: "key", Type: "string"},
	{Name: "n", Type: "int"}, {Name: "event", Type: "string"}, {Name: "cohort_size", Type: "long"},
	{Name: "retained", Type: "long"}, {Name: "value", Type: "double"},
}

// Outcome is what one metric's refresh did.
type Outcome struct {
	Metric string
	// UpToDate: the metric already covered the source's current snapshot; nothing was written.
	UpToDate bool
	// Full: every day was recomputed (first refresh, changed definition, or history the refresh could not
	// follow); otherwise Days are the days (retention: cohort days) recomputed.
	Full bool
	Days []string
	// Rows is how many rows the metric table holds afterwards; SourceSnapshot the snapshot it covers.
	Rows           int
	SourceSnapshot int64
	Conflicts      int
}

// row is one materialized row.
type row struct {
	day       time.Time
	dimension string
	key       string
	n         *int64
	event     *string
	size      *int64
	retained  *int64
	value     *float64
}

// gapSpan is a group of completeness holes that start on day From and end on day To (local days).
type gapSpan struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Count   int64  `json:"count"`
	Missing int64  `json:"missing"`
}

// source is one staged table as a refresh round sees it.
type source struct {
	name          string
	tbl           *table.Table
	snap          *table.Snapshot
	relation      string // how the engine names its current snapshot
	completeUntil time.Time
	gaps          map[string][]gapSpan // by time zone
	// deltaOf is the snapshot whose added rows and old rows are registered as bf_delta.src and bf_old.src
	// (0: none), and deltaEmpty whether no files were added since it; metrics of one source usually share it.
	deltaOf    int64
	deltaEmpty bool
}

// refreshSource refreshes every metric over one source table, returning their outcomes.
func (s *Service) refreshSource(ctx context.Context, name string, defs []*Def) ([]Outcome, error) {
	tbl, err := s.lake.LoadTable(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil, nil // nothing staged yet
	}
	eng, err := query.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	src := &source{name: name, tbl: tbl, snap: snap, relation: `"bf_cur"."src"`, gaps: map[string][]gapSpan{}}
	files, err := s.lake.SnapshotAt(ctx, name, snap.SnapshotID)
	if err != nil {
		return nil, err
	}
	if err := register(ctx, eng, "bf_cur", "src", files.Columns, files.DataFiles, files.DeleteFiles); err != nil {
		return nil, err
	}
	var out []Outcome
	var errs []error
	for _, d := range defs {
		o, err := s.refreshMetric(ctx, eng, src, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("refreshing metric %s: %w", d.Name, err))
			continue
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// register makes files queryable as ns.name.
func register(ctx context.Context, eng *query.Engine, ns, name string, cols []lake.SnapshotColumn, files, deletes []string) error {
	t := query.Table{Namespace: ns, Name: name, DataFiles: files, PositionDeletes: deletes}
	for _, c := range cols {
		t.Columns = append(t.Columns, query.Column{Name: c.Name, Type: c.Type})
	}
	return eng.Register(ctx, t)
}

// maxRefreshConflicts bounds how often one metric's refresh is replanned when other processes keep
// committing to its table.
const maxRefreshConflicts = 20

// refreshMetric brings one metric's table up to src's snapshot: in one commit, the recomputed days' rows
// replace the old ones and the covered snapshot is recorded.
func (s *Service) refreshMetric(ctx context.Context, eng *query.Engine, src *source, d *Def) (Outcome, error) {
	out := Outcome{Metric: d.Name, SourceSnapshot: src.snap.SnapshotID}
	mt, err := s.lake.EnsureTable(ctx, lake.TableSpec{Name: MaterializedTable(d.Name), Columns: materializedColumns})
	if err != nil {
		return out, err
	}
	for {
		props := mt.Properties()
		fp := d.Fingerprint()
		stored, _ := strconv.ParseInt(props[propSourceSnap], 10, 64)
		if props[propSource] == src.name && stored == src.snap.SnapshotID && props[propFingerprint] == fp {
			out.UpToDate = true
			return out, nil
		}
		var days []string // nil: every day
		if props[propSource] == src.name && props[propFingerprint] == fp && stored != 0 {
			days, err = s.affectedDays(ctx, eng, src, d, stored)
			if err != nil {
				return out, err
			}
		}
		out.Full, out.Days = days == nil, days
		rows, err := s.compute(ctx, eng, src, d, days)
		if err != nil {
			return out, err
		}
		if days != nil {
			kept, err := s.keptRows(ctx, eng, mt, d, days)
			if err != nil {
				return out, err
			}
			rows = append(kept, rows...)
		}
		newProps, err := s.properties(ctx, eng, src, d)
		if err != nil {
			return out, err
		}
		nt, err := s.replaceRows(ctx, mt, rows, newProps, out)
		if err == nil {
			out.Rows = len(rows)
			_ = nt
			return out, nil
		}
		if !lake.IsConflict(err) || out.Conflicts >= maxRefreshConflicts {
			return out, err
		}
		out.Conflicts++
		if mt, err = s.lake.LoadTable(ctx, MaterializedTable(d.Name)); err != nil {
			return out, err
		}
	}
}

// affectedDays lists the days (retention: cohort days) that rows added since snapshot stored may change, or
// nil when the table's history since then cannot be followed row by row (rows removed, history expired):
// then everything is recomputed.
func (s *Service) affectedDays(ctx context.Context, eng *query.Engine, src *source, d *Def, stored int64) ([]string, error) {
	if !appendsOnly(src.tbl, stored) {
		s.log.Info("metric refresh: source rows were removed or rewritten since the last refresh; recomputing every day", "metric", d.Name, "table", src.name)
		return nil, nil
	}
	if src.deltaOf != stored {
		ok, err := s.registerDelta(ctx, eng, src, stored)
		if err != nil || !ok {
			return nil, err
		}
	}
	if src.deltaEmpty {
		return []string{}, nil
	}
	res, err := eng.Query(ctx, d.affectedSQL(src.relation, `"bf_delta"."src"`, `"bf_old"."src"`))
	if err != nil {
		return nil, fmt.Errorf("finding the days to recompute: %w", err)
	}
	days := []string{}
	for _, r := range res.Rows {
		if t, ok := r[0].(time.Time); ok {
			days = append(days, t.Format(time.DateOnly))
		}
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}

// registerDelta registers the rows src gained since snapshot stored as bf_delta.src and the table as it was
// then as bf_old.src; false when the history since then cannot be followed.
func (s *Service) registerDelta(ctx context.Context, eng *query.Engine, src *source, stored int64) (bool, error) {
	added, err := lake.AddedSince(ctx, src.tbl, stored, "")
	if errors.Is(err, lake.ErrHistoryGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	old, err := s.lake.SnapshotAt(ctx, src.name, stored)
	if errors.Is(err, lake.ErrHistoryGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	src.deltaOf, src.deltaEmpty = stored, len(added) == 0
	if len(added) == 0 {
		return true, nil
	}
	local, err := s.lake.LocalFiles(ctx, src.tbl, added)
	if err != nil {
		return false, err
	}
	cols := make([]lake.SnapshotColumn, 0, len(src.tbl.Schema().Fields()))
	for _, f := range src.tbl.Schema().Fields() {
		cols = append(cols, lake.SnapshotColumn{Name: f.Name, Type: f.Type.String()})
	}
	if err := register(ctx, eng, "bf_delta", "src", cols, local, nil); err != nil {
		return false, err
	}
	if err := register(ctx, eng, "bf_old", "src", old.Columns, old.DataFiles, old.DeleteFiles); err != nil {
		return false, err
	}
	return true, nil
}

// appendsOnly reports whether every snapshot after stored up to the current one only added rows (appends, or
// maintenance rewrites, which keep the rows).
func appendsOnly(t *table.Table, stored int64) bool {
	for s := t.CurrentSnapshot(); s != nil && s.SnapshotID != stored; {
		if s.Summary != nil && s.Summary.Operation != table.OpAppend && s.Summary.Properties[lake.MaintenanceProperty] == "" {
			return false
		}
		if s.ParentSnapshotID == nil {
			return false
		}
		s = t.SnapshotByID(*s.ParentSnapshotID)
	}
	return true
}

// compute runs d over src for days (nil: all): the total and every dimension, in one query.
func (s *Service) compute(ctx context.Context, eng *query.Engine, src *source, d *Def, days []string) ([]row, error) {
	if days != nil && len(days) == 0 {
		return nil, nil
	}
	switch d.Kind {
	case KindRevenue, KindARPDAU, KindARPPU:
		if err := s.checkPriced(ctx, eng, d, scope{src: src.relation, days: days}); err != nil {
			return nil, err
		}
	}
	q, err := d.computeSQL(scope{src: src.relation, days: days, dims: append([]string{""}, d.Dimensions...)})
	if err != nil {
		return nil, err
	}
	res, err := eng.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("computing %s: %w", d.Name, err)
	}
	out := make([]row, 0, len(res.Rows))
	for _, r := range res.Rows {
		key, _ := r[1].(string)
		dim, value := splitKey(key)
		r[1] = value
		out = append(out, toRow(r, dim))
	}
	return out, nil
}

// checkPriced fails when a purchase in sc has a currency the rates do not convert, naming them.
func (s *Service) checkPriced(ctx context.Context, eng *query.Engine, d *Def, sc scope) error {
	q := d.unpricedSQL(sc)
	if q == "" {
		return nil
	}
	res, err := eng.Query(ctx, q)
	if err != nil {
		return err
	}
	if len(res.Rows) == 0 {
		return nil
	}
	var parts []string
	for _, r := range res.Rows {
		day, _ := r[1].(time.Time)
		parts = append(parts, fmt.Sprintf("%v (%v purchases, the first on %s)", r[0], r[2], day.Format(time.DateOnly)))
	}
	return fmt.Errorf("no rate for currency %s in rates file %s: add it, or the revenue would leave those purchases out", strings.Join(parts, ", "), d.RatesFile)
}

// toRow converts a result row (outputColumns, or a materialized row's day, dimension, key, ...) to a row.
func toRow(r []any, dim string) row {
	out := row{dimension: dim}
	out.day, _ = r[0].(time.Time)
	out.key, _ = r[1].(string)
	out.n = intPtr(r[2])
	if s, ok := r[3].(string); ok {
		out.event = &s
	}
	out.size, out.retained = intPtr(r[4]), intPtr(r[5])
	if f, ok := r[6].(float64); ok {
		out.value = &f
	}
	return out
}

func intPtr(v any) *int64 {
	switch x := v.(type) {
	case int64:
		return &x
	case int32:
		y := int64(x)
		return &y
	case int:
		y := int64(x)
		return &y
	}
	return nil
}

// keptRows reads the metric table's rows outside days.
func (s *Service) keptRows(ctx context.Context, eng *query.Engine, mt *table.Table, d *Def, days []string) ([]row, error) {
	if mt.CurrentSnapshot() == nil {
		return nil, nil
	}
	files, err := s.lake.Snapshot(ctx, MaterializedTable(d.Name))
	if err != nil {
		return nil, err
	}
	if err := register(ctx, eng, "bf_metric", "m", files.Columns, files.DataFiles, files.DeleteFiles); err != nil {
		return nil, err
	}
	res, err := eng.Query(ctx, `SELECT day, key, n, event, cohort_size, retained, value, dimension FROM "bf_metric"."m" WHERE NOT (`+dayIn("day", days)+`)`)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", MaterializedTable(d.Name), err)
	}
	out := make([]row, 0, len(res.Rows))
	for _, r := range res.Rows {
		dim, _ := r[7].(string)
		out = append(out, toRow(r, dim))
	}
	return out, nil
}

// properties are the table properties a refresh of d over src commits.
func (s *Service) properties(ctx context.Context, eng *query.Engine, src *source, d *Def) (iceberg.Properties, error) {
	if src.completeUntil.IsZero() {
		res, err := eng.Query(ctx, fmt.Sprintf("SELECT max(CAST(%s AS TIMESTAMPTZ)) FROM %s", quote(d.TimeField), src.relation))
		if err != nil {
			return nil, fmt.Errorf("reading the newest event time: %w", err)
		}
		if len(res.Rows) == 1 {
			src.completeUntil, _ = res.Rows[0][0].(time.Time)
		}
	}
	props := iceberg.Properties{
		propSource: src.name, propSourceSnap: strconv.FormatInt(src.snap.SnapshotID, 10), propFingerprint: d.Fingerprint(),
		propRefreshedAt: time.Now().UTC().Format(time.RFC3339Nano), propGapsKnown: "false", propGaps: "[]",
	}
	if !src.completeUntil.IsZero() {
		props[propCompleteUntil] = src.completeUntil.UTC().Format(time.RFC3339Nano)
	}
	if c, ok := s.completeness[src.name]; ok {
		spans, err := s.gapSpans(ctx, eng, src, d, c.ProducerField, c.SeqField)
		if err != nil {
			return nil, err
		}
		js, _ := json.Marshal(spans)
		props[propGaps], props[propGapsKnown] = string(js), "true"
	}
	return props, nil
}

// gapSpans groups the completeness holes of src (by producer and sequence number) by the local days of the
// rows on either side of each hole; a hole before a producer's first row spans that row's day.
func (s *Service) gapSpans(ctx context.Context, eng *query.Engine, src *source, d *Def, producer, seq string) ([]gapSpan, error) {
	if spans, ok := src.gaps[d.TimeZone]; ok {
		return spans, nil
	}
	q := fmt.Sprintf(`WITH r AS (SELECT %[1]s AS p, %[2]s AS seq, min(%[3]s) AS day FROM %[4]s WHERE %[1]s IS NOT NULL AND %[2]s IS NOT NULL GROUP BY 1, 2),
l AS (SELECT p, seq, day, lag(seq) OVER w AS pseq, lag(day) OVER w AS pday FROM r WINDOW w AS (PARTITION BY p ORDER BY seq))
SELECT coalesce(pday, day) AS from_day, day AS to_day, count(*) AS n, sum(seq - coalesce(pseq, 0) - 1) AS missing
FROM l WHERE seq - coalesce(pseq, 0) > 1 GROUP BY 1, 2 ORDER BY 1, 2`, quote(producer), quote(seq), d.dayExpr(""), src.relation)
	res, err := eng.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading completeness holes by (%s, %s): %w", producer, seq, err)
	}
	spans := []gapSpan{}
	for _, r := range res.Rows {
		from, _ := r[0].(time.Time)
		to, _ := r[1].(time.Time)
		n, missing := intPtr(r[2]), toInt(r[3])
		if n == nil {
			continue
		}
		spans = append(spans, gapSpan{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Count: *n, Missing: missing})
	}
	src.gaps[d.TimeZone] = spans
	return spans, nil
}

// toInt reads an integer result value (HUGEINT sums arrive as *big.Int, decimals as json.Number).
func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	case interface{ Int64() int64 }:
		return x.Int64()
	}
	return 0
}

// replaceRows writes rows as the metric table's only data file and commits it with props, replacing every
// current data file, on the snapshot mt was loaded at.
func (s *Service) replaceRows(ctx context.Context, mt *table.Table, rows []row, props iceberg.Properties, o Outcome) (*table.Table, error) {
	slices.SortFunc(rows, func(a, b row) int {
		if c := a.day.Compare(b.day); c != 0 {
			return c
		}
		if c := strings.Compare(a.dimension, b.dimension); c != 0 {
			return c
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(deref(a.n) - deref(b.n))
	})
	var files []iceberg.DataFile
	if len(rows) > 0 {
		rec, err := buildRecord(mt, rows)
		if err != nil {
			return nil, err
		}
		files, err = lake.WriteFiles(ctx, mt, rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
	var old []iceberg.DataFile
	if mt.CurrentSnapshot() != nil {
		tasks, err := mt.Scan().PlanFiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("planning files of %s: %w", strings.Join(mt.Identifier(), "."), err)
		}
		for _, t := range tasks {
			old = append(old, t.File)
		}
	}
	summary := iceberg.Properties{summaryRefresh: "full"}
	if !o.Full {
		summary[summaryRefresh] = strconv.Itoa(len(o.Days))
	}
	txn := mt.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		return nil, err
	}
	if err := txn.SetProperties(props); err != nil {
		return nil, err
	}
	var err error
	switch {
	case len(old) > 0:
		err = txn.ReplaceDataFilesWithDataFiles(ctx, old, files, summary)
	case len(files) > 0:
		err = txn.AddDataFiles(ctx, files, summary)
	}
	if err != nil {
		return nil, fmt.Errorf("committing %s: %w", strings.Join(mt.Identifier(), "."), err)
	}
	nt, err := txn.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("committing %s: %w", strings.Join(mt.Identifier(), "."), err)
	}
	return nt, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// buildRecord builds rows as one Arrow record of mt's schema (materializedColumns).
func buildRecord(mt *table.Table, rows []row) (arrow.RecordBatch, error) {
	sc, err := table.SchemaToArrowSchema(mt.Schema(), nil, true, false)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, f := range sc.Fields() {
		fb := b.Field(i)
		for _, r := range rows {
			switch f.Name {
			case "day":
				fb.(*array.Date32Builder).Append(arrow.Date32FromTime(r.day))
			case "dimension":
				fb.(*array.StringBuilder).Append(r.dimension)
			case "key":
				fb.(*array.StringBuilder).Append(r.key)
			case "event":
				if r.event == nil {
					fb.AppendNull()
				} else {
					fb.(*array.StringBuilder).Append(*r.event)
				}
			case "n":
				if r.n == nil {
					fb.AppendNull()
				} else {
					fb.(*array.Int32Builder).Append(int32(*r.n))
				}
			case "cohort_size", "retained":
				p := r.size
				if f.Name == "retained" {
					p = r.retained
				}
				if p == nil {
					fb.AppendNull()
				} else {
					fb.(*array.Int64Builder).Append(*p)
				}
			case "value":
				if r.value == nil {
					fb.AppendNull()
				} else {
					fb.(*array.Float64Builder).Append(*r.value)
				}
			default:
				fb.AppendNull()
			}
		}
	}
	return b.NewRecordBatch(), nil
}
