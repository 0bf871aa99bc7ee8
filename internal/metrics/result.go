package metrics

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Chart kinds: the chart that suits a metric.
const (
	ChartLine    = "line"    // a time series: one value per day
	ChartHeatmap = "heatmap" // retention's cohort triangle: cohort day × day N
	ChartBars    = "bars"    // a funnel's steps
)

// Info describes a metric: what GET /api/v1/metrics lists and `bigfather metrics describe` prints.
type Info struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Table       string `json:"table"`
	Description string `json:"description"`
	// Semantics says what the number means, one paragraph per entry: the day boundary, what counts, how late
	// events, duplicates, rejected rows and canary rows are treated.
	Semantics  []string `json:"semantics"`
	Dimensions []string `json:"dimensions"`
	TimeZone   string   `json:"time_zone"`
	// Unit is what a value counts: "players", "sessions", "ratio", or a currency code (revenue).
	Unit  string `json:"unit"`
	Chart string `json:"chart"`
	// Steps are a funnel's event types; RetentionDays retention's N.
	Steps         []string `json:"steps,omitempty"`
	RetentionDays []int    `json:"retention_days,omitempty"`
	// MaterializedAs is the Iceberg table holding the metric's rows (metrics.NAME).
	MaterializedAs string `json:"materialized_as"`
}

// Query asks for a metric's rows: days From..To inclusive (YYYY-MM-DD, local days of the metric's zone),
// broken down by dimension By when set.
type Query struct {
	Name string
	From string
	To   string
	By   string
}

// Result is a metric's rows for a query, with how complete they are. Its JSON form is DESIGN.md's
// `metrics show --format json` object.
type Result struct {
	Metric string
	Kind   string
	Chart  string
	Unit   string
	From   string
	To     string
	By     string
	// CompleteUntil is the newest event time among the source rows the numbers are computed from (zero when
	// the source has no rows).
	CompleteUntil time.Time
	// Source says which table snapshot the numbers cover.
	Source Source
	// Gaps are the completeness report's known holes whose time span meets From..To.
	Gaps Gaps
	Rows []Row
}

// Source is the staged table snapshot a metric's rows are computed from.
type Source struct {
	Table       string    `json:"table"`
	SnapshotID  int64     `json:"snapshot_id"`
	RefreshedAt time.Time `json:"refreshed_at"`
}

// Gaps summarizes the completeness report's holes (lost records, by the pipeline's producer sequence
// numbers) within a query's days. Known is false when the source pipeline tracks no completeness.
type Gaps struct {
	Known bool `json:"known"`
	// Count is how many holes meet the range and Missing how many records they hold.
	Count   int64 `json:"count"`
	Missing int64 `json:"missing"`
	// Days are the local days the holes fall on (a hole between two rows spans their days).
	Days []string `json:"days"`
}

// Row is one value of a metric: per day (Day), or per cohort day and day N (retention), or per day and step
// (funnel); under a breakdown, per dimension value (Key) too.
type Row struct {
	Day string // YYYY-MM-DD: the day, or retention's cohort day
	Key string // the dimension's value under a breakdown
	// N is retention's day N or a funnel's step (1-based); Event a funnel step's event type.
	N     int
	Event string
	// CohortSize and Retained are retention's counts.
	CohortSize int64
	Retained   int64
	// Value is the metric's value; nil is null (arppu on a day without payers, for example).
	Value *float64
}

// MarshalJSON writes r in DESIGN.md's shape: metric, from, to, (by), complete_until, rows, then the extras.
func (r *Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		js, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.Write(js)
		return nil
	}
	b.WriteByte('{')
	var until any
	if !r.CompleteUntil.IsZero() {
		until = r.CompleteUntil.UTC().Format(time.RFC3339Nano)
	}
	rows := make([]json.RawMessage, len(r.Rows))
	for i, row := range r.Rows {
		rows[i] = r.rowJSON(row)
	}
	for _, f := range []struct {
		name string
		v    any
		skip bool
	}{
		{"metric", r.Metric, false}, {"from", r.From, false}, {"to", r.To, false}, {"by", r.By, r.By == ""},
		{"complete_until", until, false}, {"rows", rows, false},
		{"kind", r.Kind, false}, {"chart", r.Chart, false}, {"unit", r.Unit, false},
		{"source", r.Source, false}, {"gaps", r.Gaps, false},
	} {
		if f.skip {
			continue
		}
		if err := field(f.name, f.v); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// rowJSON writes one row with the keys of r's kind, in order.
func (r *Result) rowJSON(row Row) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	add := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		js, _ := json.Marshal(v)
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.Write(js)
	}
	switch r.Kind {
	case "retention":
		add("cohort_day", row.Day)
	default:
		add("day", row.Day)
	}
	if r.By != "" {
		add(r.By, row.Key)
	}
	switch r.Kind {
	case "retention":
		add("day_n", row.N)
		add("cohort_size", row.CohortSize)
		add("retained", row.Retained)
	case "funnel":
		add("step", row.N)
		add("event", row.Event)
	}
	add("value", row.Value)
	b.WriteByte('}')
	return b.Bytes()
}
