package query

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Result is the whole result of a query.
//
// Values in Rows are plain Go values: nil for NULL, bool, int64 (uint64 for UBIGINT), float64 (FLOAT values
// hold the shortest decimal that round-trips the float32), string (also for UUID, as 8-4-4-4-12 hex, and for
// INTERVAL), []byte, time.Time in UTC (DATE at midnight, TIME on 0001-01-01), *big.Int for HUGEINT,
// json.Number holding the exact text for DECIMAL (keeping the scale's trailing zeros), []any for lists and
// map[string]any for structs and maps.
type Result struct {
	// Columns are the result's column names, in order.
	Columns []string
	// Types are the DuckDB type names of the columns, e.g. "BIGINT", "DECIMAL(10,2)", "TIMESTAMPTZ".
	Types []string
	// Rows holds one slice of values per row, in column order.
	Rows [][]any
}

// Write writes the result to w in format "table" (aligned columns, NULL shown as NULL, then a row count),
// "csv" (a header row, NULL as an empty field) or "json" (an array of objects with keys in column order).
// Timestamps are written as RFC 3339 in UTC, dates as YYYY-MM-DD, binary values as standard base64, and
// decimals and big integers as exact numbers. JSON has no NaN or infinities, so these are written as the
// strings "NaN", "Infinity" and "-Infinity" in every format.
func (r *Result) Write(w io.Writer, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "table":
		err = r.writeTable(bw)
	case "csv":
		err = r.writeCSV(bw)
	case "json":
		err = r.writeJSON(bw)
	default:
		return fmt.Errorf("unknown output format %q (expected table, csv or json)", format)
	}
	if err != nil {
		return fmt.Errorf("writing %s output: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s output: %w", format, err)
	}
	return nil
}

var tableEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

func (r *Result) writeTable(w *bufio.Writer) error {
	n := len(r.Columns)
	if n > 0 {
		cells := make([][]string, len(r.Rows))
		widths := make([]int, n)
		right := make([]bool, n)
		for i, c := range r.Columns {
			widths[i] = utf8.RuneCountInString(c)
			right[i] = isNumeric(r.typ(i))
		}
		for ri, row := range r.Rows {
			cells[ri] = make([]string, n)
			for i := range n {
				s := "NULL"
				if i < len(row) && row[i] != nil {
					s = tableEscaper.Replace(formatText(row[i], r.typ(i)))
				}
				cells[ri][i] = s
				widths[i] = max(widths[i], utf8.RuneCountInString(s))
			}
		}
		line := func(vals []string) {
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
				if right[i] {
					b.WriteString(pad + v)
				} else {
					b.WriteString(v + pad)
				}
			}
			w.WriteString(strings.TrimRight(b.String(), " ") + "\n")
		}
		line(r.Columns)
		dashes := make([]string, n)
		for i := range dashes {
			dashes[i] = strings.Repeat("-", widths[i])
		}
		w.WriteString(strings.Join(dashes, "-+-") + "\n")
		for _, row := range cells {
			line(row)
		}
	}
	if len(r.Rows) == 1 {
		_, err := w.WriteString("(1 row)\n")
		return err
	}
	_, err := fmt.Fprintf(w, "(%d rows)\n", len(r.Rows))
	return err
}

func (r *Result) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) && row[i] != nil {
				rec[i] = formatText(row[i], r.typ(i))
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeJSON(w *bufio.Writer) error {
	if len(r.Rows) == 0 {
		_, err := w.WriteString("[]\n")
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for ri, row := range r.Rows {
		buf.WriteString("  {")
		for i, col := range r.Columns {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeJSON(&buf, col); err != nil {
				return err
			}
			buf.WriteByte(':')
			var v any
			if i < len(row) {
				v = row[i]
			}
			if err := encodeJSON(&buf, jsonValue(v, r.typ(i))); err != nil {
				return fmt.Errorf("row %d, column %q: %w", ri+1, col, err)
			}
		}
		buf.WriteByte('}')
		if ri < len(r.Rows)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
	}
	_, err := w.WriteString("]\n")
	return err
}

// typ returns the type of column i, or "" if Types is short.
func (r *Result) typ(i int) string {
	if i < len(r.Types) {
		return r.Types[i]
	}
	return ""
}

// encodeJSON appends v as compact JSON without HTML escaping.
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// jsonValue returns v in a form encoding/json writes as specified for Write.
func jsonValue(v any, typ string) any {
	switch v := v.(type) {
	case time.Time:
		return formatTime(v, typ)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return formatFloat(v)
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonValue(e, "")
		}
		return out
	default:
		return v
	}
}

// formatText returns a non-nil value as text for the table and CSV formats.
func formatText(v any, typ string) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return formatFloat(v)
	case json.Number:
		return string(v)
	case *big.Int:
		return v.String()
	case time.Time:
		return formatTime(v, typ)
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case []any, map[string]any:
		var buf bytes.Buffer
		if err := encodeJSON(&buf, jsonValue(v, "")); err != nil {
			return fmt.Sprint(v)
		}
		return buf.String()
	default:
		return fmt.Sprint(v)
	}
}

// formatFloat formats like encoding/json does, with names for NaN and the infinities.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	b, _ := json.Marshal(f) // cannot fail for a finite float
	return string(b)
}

// formatTime formats a date, time of day or timestamp by its DuckDB type.
func formatTime(t time.Time, typ string) string {
	t = t.UTC()
	switch typ {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME":
		return t.Format("15:04:05.999999999")
	case "TIMETZ":
		return t.Format("15:04:05.999999999Z07:00")
	default:
		return t.Format(time.RFC3339Nano)
	}
}

// isNumeric reports whether a DuckDB type is a number, which the table format right-aligns.
func isNumeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"UHUGEINT", "FLOAT", "DOUBLE", "BIGNUM":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}

// convert turns a value scanned from the DuckDB driver into a plain Go value (see Result).
func convert(v any, typ string) any {
	switch v := v.(type) {
	case nil, bool, string, int64, float64, uint64, *big.Int:
		return v
	case time.Time:
		return v.UTC()
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		// The float64 nearest the float32's shortest decimal form, so 0.1f reads as 0.1, not
		// 0.10000000149011612.
		f, err := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		if err != nil {
			return float64(v)
		}
		return f
	case []byte:
		if typ == "UUID" && len(v) == 16 {
			return uuidString(v)
		}
		return bytes.Clone(v)
	case duckdb.UUID:
		return uuidString(v[:])
	case duckdb.Decimal:
		return json.Number(decimalString(v))
	case duckdb.Interval:
		return intervalString(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = convert(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = convert(e, "")
		}
		return out
	case duckdb.OrderedMap:
		keys, vals := v.Keys(), v.Values()
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[formatText(convert(k, ""), "")] = convert(vals[i], "")
		}
		return out
	case duckdb.Union:
		return convert(v.Value, "")
	default:
		return v
	}
}

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// decimalString formats a decimal exactly, keeping its scale: 12.50 stays "12.50".
func decimalString(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	if scale := int(d.Scale); scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if d.Value.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

// intervalString formats an interval the way DuckDB prints one, e.g. "1 year 2 months 3 days 04:05:06.5".
func intervalString(iv duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n == 0 {
			return
		}
		if n != 1 && n != -1 {
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
	}
	unit(int64(iv.Months/12), "year")
	unit(int64(iv.Months%12), "month")
	unit(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		sign, us := "", iv.Micros
		if us < 0 {
			sign, us = "-", -us
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// JSONRows returns the rows with every value in the form the "json" format writes it (times as RFC 3339 text,
// NaN and infinities as strings, binary as base64 once encoded), ready for encoding/json.
func (r *Result) JSONRows() [][]any {
	out := make([][]any, len(r.Rows))
	for i, row := range r.Rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = jsonValue(v, r.typ(j))
		}
		out[i] = vals
	}
	return out
}
