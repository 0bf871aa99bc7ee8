package completeness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/bigfather/bigfather/internal/query"
)

// arrivalColumns are the staging columns that give a row's arrival order, in sort order, where the table
// has them.
var arrivalColumns = []string{"_kafka_timestamp", "_topic", "_partition", "_offset"}

// Report is the completeness of one table: the holes in each producer's sequence numbers over all its rows.
type Report struct {
	// Table is the table reported on, namespace.name.
	Table string `json:"table"`
	// ProducerField and SeqField are the columns holding the producer id and its sequence number.
	ProducerField string `json:"producer_field"`
	SeqField      string `json:"seq_field"`
	// Producers is how many distinct producers the table holds.
	Producers int64 `json:"producers"`
	// Rows is how many rows the table holds; Unkeyed of them lack a producer or a sequence number and are
	// left out of everything else.
	Rows    int64 `json:"rows"`
	Unkeyed int64 `json:"unkeyed_rows"`
	// GapCount is how many holes there are in all, and MissingTotal how many sequence numbers they hold.
	GapCount     int64 `json:"gap_count"`
	MissingTotal int64 `json:"missing_total"`
	// Gaps are the largest holes (then by producer and sequence number), at most the limit given to Build.
	Gaps []Range `json:"gaps"`
	// OutOfOrder is how many rows arrived after a row of the same producer with a higher sequence number,
	// not counting repeats of a sequence number already seen. Arrival order is ArrivalColumns ascending
	// (rows without them last); without any of those columns, OutOfOrder is 0.
	OutOfOrder     int64    `json:"out_of_order"`
	ArrivalColumns []string `json:"arrival_columns"`
	// DuplicateSeqs is how many rows repeat a (producer, sequence number) pair of another row.
	DuplicateSeqs int64 `json:"duplicate_seqs"`
}

// Build reports the completeness of table (namespace.name, already registered with eng) whose rows carry a
// producer id in producerField and a per-producer sequence number in seqField. The report lists at most
// limit gaps (all if limit <= 0); its totals are over all of them.
//
// Sequence numbers are taken to start at 1: a producer whose lowest number is n > 1 is missing 1..n-1. A
// table whose old rows were deleted or expired therefore reports them as a leading gap per producer.
func Build(ctx context.Context, eng *query.Engine, table, producerField, seqField string, limit int) (*Report, error) {
	r, err := build(ctx, eng, table, producerField, seqField, limit)
	if err != nil {
		return nil, fmt.Errorf("completeness of %s by (%s, %s): %w", table, producerField, seqField, err)
	}
	return r, nil
}

func build(ctx context.Context, eng *query.Engine, table, producerField, seqField string, limit int) (*Report, error) {
	if table == "" || producerField == "" || seqField == "" {
		return nil, errors.New("table, producer field and seq field must be given")
	}
	tbl := quoteTable(table)
	res, err := eng.Query(ctx, "SELECT * FROM "+tbl+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	find := func(name string) (string, bool) {
		for _, c := range res.Columns {
			if strings.EqualFold(c, name) {
				return c, true
			}
		}
		return "", false
	}
	prod, ok := find(producerField)
	if !ok {
		return nil, fmt.Errorf("no column %q (columns: %s)", producerField, strings.Join(res.Columns, ", "))
	}
	seq, ok := find(seqField)
	if !ok {
		return nil, fmt.Errorf("no column %q (columns: %s)", seqField, strings.Join(res.Columns, ", "))
	}
	rep := &Report{Table: table, ProducerField: producerField, SeqField: seqField, Gaps: []Range{}, ArrivalColumns: []string{}}
	for _, c := range arrivalColumns {
		if name, ok := find(c); ok {
			rep.ArrivalColumns = append(rep.ArrivalColumns, name)
		}
	}
	ctes := cteSQL(tbl, quoteIdent(prod), quoteIdent(seq), rep.ArrivalColumns)

	res, err = eng.Query(ctx, ctes+summarySQL(tbl, len(rep.ArrivalColumns) > 0))
	if err != nil {
		return nil, err
	}
	if len(res.Rows) != 1 {
		return nil, fmt.Errorf("summary query returned %d rows", len(res.Rows))
	}
	var keyed, distinct int64
	for i, dst := range []*int64{&rep.Rows, &keyed, &rep.Producers, &distinct, &rep.GapCount, &rep.MissingTotal, &rep.OutOfOrder} {
		if *dst, err = toInt64(res.Rows[0][i]); err != nil {
			return nil, fmt.Errorf("summary column %s: %w", res.Columns[i], err)
		}
	}
	rep.Unkeyed = rep.Rows - keyed
	rep.DuplicateSeqs = keyed - distinct

	gapsSQL := ctes + "SELECT producer, gap_from, gap_to FROM g ORDER BY gap_to - gap_from DESC, producer, gap_from"
	if limit > 0 {
		gapsSQL += " LIMIT " + strconv.Itoa(limit)
	}
	if res, err = eng.Query(ctx, gapsSQL); err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		p, _ := row[0].(string)
		from, err1 := toInt64(row[1])
		to, err2 := toInt64(row[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("gap query: %w", err)
		}
		rep.Gaps = append(rep.Gaps, Range{Producer: p, From: from, To: to})
	}
	return rep, nil
}

// cteSQL returns the WITH clause the report's queries share:
//
//	r: keyed rows as (producer, seq, arrival columns...)
//	d: distinct (producer, seq)
//	g: holes as (producer, gap_from, gap_to): between consecutive distinct sequence numbers, and before a
//	   producer's lowest one when it is above 1
func cteSQL(tbl, prod, seq string, arrival []string) string {
	var b strings.Builder
	b.WriteString("WITH r AS (SELECT CAST(" + prod + " AS VARCHAR) AS producer, CAST(" + seq + " AS BIGINT) AS seq")
	for i, c := range arrival {
		fmt.Fprintf(&b, ", %s AS a%d", quoteIdent(c), i)
	}
	b.WriteString(" FROM " + tbl + " WHERE " + prod + " IS NOT NULL AND " + seq + " IS NOT NULL),\n")
	b.WriteString("d AS (SELECT DISTINCT producer, seq FROM r),\n")
	b.WriteString("g AS (SELECT producer, seq + 1 AS gap_from, next_seq - 1 AS gap_to FROM (" +
		"SELECT producer, seq, lead(seq) OVER (PARTITION BY producer ORDER BY seq) AS next_seq FROM d) " +
		"WHERE next_seq > seq + 1\n" +
		"  UNION ALL SELECT producer, 1 AS gap_from, min(seq) - 1 AS gap_to FROM d GROUP BY producer HAVING min(seq) > 1)")
	if len(arrival) > 0 {
		// o: each row with the highest sequence number of its producer's earlier arrivals (prev_max) and
		// whether it is the first arrival of its sequence number (nth = 1). Ties in arrival order are broken
		// by seq, which keeps the count deterministic.
		order := make([]string, len(arrival))
		for i := range arrival {
			order[i] = fmt.Sprintf("a%d NULLS LAST", i)
		}
		ord := strings.Join(order, ", ")
		b.WriteString(",\no AS (SELECT seq, " +
			"max(seq) OVER (PARTITION BY producer ORDER BY " + ord + ", seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max, " +
			"row_number() OVER (PARTITION BY producer, seq ORDER BY " + ord + ") AS nth FROM r)")
	}
	b.WriteString("\n")
	return b.String()
}

// summarySQL returns the query for the report's totals: rows, keyed rows, producers, distinct (producer, seq)
// pairs, gaps, missing sequence numbers and out-of-order rows.
func summarySQL(tbl string, arrival bool) string {
	ooo := "CAST(0 AS BIGINT)"
	if arrival {
		ooo = "(SELECT count(*) FROM o WHERE nth = 1 AND seq < prev_max)"
	}
	return "SELECT (SELECT count(*) FROM " + tbl + ") AS rows, " +
		"(SELECT count(*) FROM r) AS keyed_rows, " +
		"(SELECT count(DISTINCT producer) FROM d) AS producers, " +
		"(SELECT count(*) FROM d) AS distinct_seqs, " +
		"(SELECT count(*) FROM g) AS gaps, " +
		"(SELECT CAST(coalesce(sum(gap_to - gap_from + 1), 0) AS BIGINT) FROM g) AS missing, " +
		ooo + " AS out_of_order"
}

// toInt64 returns an integer query result value as an int64.
func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case uint64:
		if x <= 1<<63-1 {
			return int64(x), nil
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("unexpected value %v (%T)", v, v)
}

// quoteTable quotes namespace.name as two identifiers (one if there is no dot).
func quoteTable(table string) string {
	if ns, name, ok := strings.Cut(table, "."); ok {
		return quoteIdent(ns) + "." + quoteIdent(name)
	}
	return quoteIdent(table)
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Write writes the report to w in format "table" (summary lines, then the gap list as a table) or "json" (one
// object with snake_case keys).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		if err := r.writeTable(w); err != nil {
			return fmt.Errorf("writing completeness report: %w", err)
		}
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("writing completeness report: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown output format %q (expected table or json)", format)
}

func (r *Report) writeTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	ooo := strconv.FormatInt(r.OutOfOrder, 10)
	if len(r.ArrivalColumns) == 0 {
		ooo = "unknown (no _kafka_timestamp, _partition or _offset column)"
	}
	lines := [][2]string{
		{"table", r.Table},
		{"producer field", r.ProducerField},
		{"seq field", r.SeqField},
		{"rows", strconv.FormatInt(r.Rows, 10)},
		{"rows without producer or seq", strconv.FormatInt(r.Unkeyed, 10)},
		{"producers", strconv.FormatInt(r.Producers, 10)},
		{"gaps", strconv.FormatInt(r.GapCount, 10)},
		{"missing", strconv.FormatInt(r.MissingTotal, 10)},
		{"out of order", ooo},
		{"duplicate seqs", strconv.FormatInt(r.DuplicateSeqs, 10)},
	}
	for _, l := range lines {
		fmt.Fprintf(bw, "%-29s %s\n", l[0]+":", l[1])
	}
	if len(r.Gaps) == 0 {
		fmt.Fprintln(bw, "\nno gaps")
		return bw.Flush()
	}
	if int64(len(r.Gaps)) < r.GapCount {
		fmt.Fprintf(bw, "\nlargest %d of %d gaps:\n", len(r.Gaps), r.GapCount)
	} else {
		fmt.Fprintf(bw, "\n%d gaps:\n", len(r.Gaps))
	}
	gaps := &query.Result{
		Columns: []string{"producer", "from", "to", "missing"},
		Types:   []string{"VARCHAR", "BIGINT", "BIGINT", "UBIGINT"},
	}
	for _, g := range r.Gaps {
		gaps.Rows = append(gaps.Rows, []any{g.Producer, g.From, g.To, g.Len()})
	}
	if err := gaps.Write(bw, "table"); err != nil {
		return err
	}
	return bw.Flush()
}
