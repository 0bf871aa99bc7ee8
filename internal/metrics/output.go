package metrics

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Columns are the result's column names in table and CSV output: day (retention: cohort_day), the breakdown
// key under its dimension's name, the kind's own columns, value.
func (r *Result) Columns() []string {
	cols := []string{"day"}
	if r.Kind == KindRetention {
		cols[0] = "cohort_day"
	}
	if r.By != "" {
		cols = append(cols, r.By)
	}
	switch r.Kind {
	case KindRetention:
		cols = append(cols, "day_n", "cohort_size", "retained")
	case KindFunnel:
		cols = append(cols, "step", "event")
	}
	return append(cols, "value")
}

// cells formats one row in Columns order; null values are empty.
func (r *Result) cells(row Row) []string {
	out := []string{row.Day}
	if r.By != "" {
		out = append(out, row.Key)
	}
	switch r.Kind {
	case KindRetention:
		out = append(out, strconv.Itoa(row.N), strconv.FormatInt(row.CohortSize, 10), strconv.FormatInt(row.Retained, 10))
	case KindFunnel:
		out = append(out, strconv.Itoa(row.N), row.Event)
	}
	v := ""
	if row.Value != nil {
		v = strconv.FormatFloat(*row.Value, 'g', -1, 64)
	}
	return append(out, v)
}

// Write writes r as "table" (aligned columns with a header saying how complete the numbers are), "csv" (a
// header row, null as an empty field; values printed exactly as in JSON) or "json" (DESIGN.md's object).
func (r *Result) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		js, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", js)
		return err
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(r.Columns()); err != nil {
			return err
		}
		for _, row := range r.Rows {
			if err := cw.Write(r.cells(row)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(r.Columns(), "\t"))
		for _, row := range r.Rows {
			c := r.cells(row)
			if c[len(c)-1] == "" {
				c[len(c)-1] = "NULL"
			}
			fmt.Fprintln(tw, strings.Join(c, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "(%d rows; %s)\n", len(r.Rows), r.completeness())
		return err
	}
	return fmt.Errorf("format %q: expected table, csv or json", format)
}

// completeness says in words how complete r is.
func (r *Result) completeness() string {
	if r.Source.SnapshotID == 0 {
		return "not computed yet: the first refresh has not finished"
	}
	s := fmt.Sprintf("%s snapshot %d", r.Source.Table, r.Source.SnapshotID)
	if !r.CompleteUntil.IsZero() {
		s = "complete until " + r.CompleteUntil.UTC().Format("2006-01-02T15:04:05Z") + ", " + s
	}
	switch {
	case !r.Gaps.Known:
		s += "; completeness not tracked"
	case r.Gaps.Count == 0:
		s += "; no known gaps"
	default:
		s += fmt.Sprintf("; %d known gaps (%d records missing) on %s", r.Gaps.Count, r.Gaps.Missing, strings.Join(r.Gaps.Days, ", "))
	}
	return s
}
