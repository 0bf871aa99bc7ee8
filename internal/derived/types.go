package derived

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// column is one column of the SQL's result: its name, the DuckDB type DESCRIBE reports, and the Iceberg type
// the derived table stores it as.
type column struct {
	name    string
	duck    string       // as DESCRIBE reports it, e.g. "HUGEINT", "DECIMAL(18,2)"
	iceberg iceberg.Type // what the table stores
}

var decimalRE = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

// icebergOf maps a DuckDB result type to the Iceberg type a derived table stores it as. Integers narrower than
// 32 bits widen to int, wider ones (HUGEINT is what sum() over BIGINT returns) narrow to long: a value that
// does not fit fails the refresh instead of being cut. UUIDs are stored as their text.
func icebergOf(duck string) (iceberg.Type, bool) {
	switch duck {
	case "BOOLEAN":
		return iceberg.PrimitiveTypes.Bool, true
	case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT":
		return iceberg.PrimitiveTypes.Int32, true
	case "BIGINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT":
		return iceberg.PrimitiveTypes.Int64, true
	case "FLOAT":
		return iceberg.PrimitiveTypes.Float32, true
	case "DOUBLE":
		return iceberg.PrimitiveTypes.Float64, true
	case "VARCHAR", "UUID":
		return iceberg.PrimitiveTypes.String, true
	case "DATE":
		return iceberg.PrimitiveTypes.Date, true
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ":
		return iceberg.PrimitiveTypes.TimestampTz, true
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return iceberg.PrimitiveTypes.Timestamp, true
	case "BLOB":
		return iceberg.PrimitiveTypes.Binary, true
	}
	if m := decimalRE.FindStringSubmatch(duck); m != nil {
		p, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		if p >= 1 && p <= 38 && s <= p {
			return iceberg.DecimalTypeOf(p, s), true
		}
	}
	return nil, false
}

// duckOf is the DuckDB type a value of Iceberg type t is cast to before it is read back: the one whose Go
// values toArrow takes.
func duckOf(t iceberg.Type) string {
	switch t := t.(type) {
	case iceberg.BooleanType:
		return "BOOLEAN"
	case iceberg.Int32Type:
		return "INTEGER"
	case iceberg.Int64Type:
		return "BIGINT"
	case iceberg.Float32Type:
		return "FLOAT"
	case iceberg.Float64Type:
		return "DOUBLE"
	case iceberg.StringType:
		return "VARCHAR"
	case iceberg.DateType:
		return "DATE"
	case iceberg.TimestampTzType:
		return "TIMESTAMPTZ"
	case iceberg.TimestampType:
		return "TIMESTAMP"
	case iceberg.BinaryType:
		return "BLOB"
	case iceberg.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision(), t.Scale())
	}
	return ""
}

// partitionable reports whether identity partitions over values of t can be matched exactly, by text, between
// DuckDB results and manifests.
func partitionable(t iceberg.Type) bool {
	switch t.(type) {
	case iceberg.BooleanType, iceberg.Int32Type, iceberg.Int64Type, iceberg.StringType, iceberg.DateType,
		iceberg.TimestampTzType, iceberg.TimestampType, iceberg.DecimalType:
		return true
	}
	return false
}

// quoteIdent quotes a SQL identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes a SQL string literal for DuckDB.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Timestamp text in the form DuckDB casts back exactly.
const (
	tsLayout   = "2006-01-02 15:04:05.999999"
	tstzLayout = "2006-01-02 15:04:05.999999+00"
)

// partValue is one partition value: its text (as Outcome.Partitions shows it and a SQL literal casts back) or
// NULL.
type partValue struct {
	null bool
	text string
}

func (p partValue) String() string {
	if p.null {
		return "NULL"
	}
	return p.text
}

// literal is p as a DuckDB expression of type duck.
func (p partValue) literal(duck string) string {
	if p.null {
		return "CAST(NULL AS " + duck + ")"
	}
	return "CAST(" + quoteString(p.text) + " AS " + duck + ")"
}

// duckPart is the partition value of a DuckDB result value (already cast to duckOf(t)).
func duckPart(v any, t iceberg.Type) (partValue, error) {
	if v == nil {
		return partValue{null: true}, nil
	}
	switch v := v.(type) {
	case string:
		return partValue{text: v}, nil
	case bool:
		return partValue{text: strconv.FormatBool(v)}, nil
	case int64:
		return partValue{text: strconv.FormatInt(v, 10)}, nil
	case json.Number:
		return partValue{text: string(v)}, nil
	case time.Time:
		return partValue{text: timeText(v.UTC(), t)}, nil
	}
	return partValue{}, fmt.Errorf("unexpected partition value %v (%T)", v, v)
}

// icebergPart is the partition value a manifest records for a data file, in duckPart's form.
func icebergPart(v any, t iceberg.Type) (partValue, error) {
	if v == nil {
		return partValue{null: true}, nil
	}
	switch v := v.(type) {
	case string:
		return partValue{text: v}, nil
	case bool:
		return partValue{text: strconv.FormatBool(v)}, nil
	case int32:
		return partValue{text: strconv.FormatInt(int64(v), 10)}, nil
	case int64:
		return partValue{text: strconv.FormatInt(v, 10)}, nil
	case iceberg.Date:
		return partValue{text: time.Unix(int64(v)*86400, 0).UTC().Format(time.DateOnly)}, nil
	case iceberg.Timestamp:
		return partValue{text: timeText(time.UnixMicro(int64(v)).UTC(), t)}, nil
	case iceberg.Decimal:
		return partValue{text: v.Val.ToString(int32(v.Scale))}, nil
	case iceberg.DecimalLiteral:
		return partValue{text: v.Val.ToString(int32(v.Scale))}, nil
	}
	return partValue{}, fmt.Errorf("unexpected partition value %v (%T) in a manifest", v, v)
}

func timeText(v time.Time, t iceberg.Type) string {
	switch t.(type) {
	case iceberg.DateType:
		return v.Format(time.DateOnly)
	case iceberg.TimestampTzType:
		return v.Format(tstzLayout)
	}
	return v.Format(tsLayout)
}

// toArrow builds one record batch of sc (the table's Arrow schema) from result rows whose values are in
// column order, of the Go types the query package returns for the DuckDB types of duckOf.
func toArrow(sc *arrow.Schema, cols []column, rows [][]any) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Reserve(len(rows))
	for ri, row := range rows {
		for ci, v := range row {
			if err := appendValue(b.Field(ci), v); err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", ri+1, cols[ci].name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

func appendValue(fb array.Builder, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("unexpected value %v (%T) for an Arrow %s", v, v, fb.Type()) }
	switch fb := fb.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.Int32Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		fb.Append(int32(x))
	case *array.Int64Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.Float32Builder:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		fb.Append(float32(x))
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.LargeStringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		fb.Append(x)
	case *array.Date32Builder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		fb.Append(arrow.Date32FromTime(x))
	case *array.TimestampBuilder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		unit := fb.Type().(*arrow.TimestampType).Unit
		ts, err := arrow.TimestampFromTime(x, unit)
		if err != nil {
			return err
		}
		fb.Append(ts)
	case *array.Decimal128Builder:
		dt := fb.Type().(*arrow.Decimal128Type)
		var num decimal128.Num
		switch x := v.(type) {
		case json.Number:
			n, err := decimal128.FromString(string(x), dt.Precision, dt.Scale)
			if err != nil {
				return err
			}
			num = n
		case *big.Int:
			num = decimal128.FromBigInt(x)
		default:
			return bad()
		}
		fb.Append(num)
	default:
		return fmt.Errorf("unsupported Arrow column type %s", fb.Type())
	}
	return nil
}

// arrowSchema is the Arrow schema WriteFiles expects for t: its fields with their Iceberg field ids.
func arrowSchema(t *table.Table) (*arrow.Schema, error) {
	return table.SchemaToArrowSchema(t.Schema(), nil, true, false)
}
