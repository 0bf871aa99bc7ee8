package transform

import (
	"fmt"
	"math"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

const (
	microsPerDay  = 86400 * 1000 * 1000
	secondsPerDay = 86400
)

// Nullable CEL types of the column types.
var (
	nullableString = types.NewNullableType(types.StringType)
	nullableInt    = types.NewNullableType(types.IntType)
	nullableDouble = types.NewNullableType(types.DoubleType)
	nullableBool   = types.NewNullableType(types.BoolType)
)

// celType returns the CEL type a column of type t is declared with, or nil for an unknown type.
func celType(t config.ColumnType) *types.Type {
	switch t {
	case config.TypeString:
		return nullableString
	case config.TypeLong, config.TypeInt:
		return nullableInt
	case config.TypeDouble, config.TypeFloat:
		return nullableDouble
	case config.TypeBoolean:
		return nullableBool
	case config.TypeTimestamp, config.TypeDate:
		return types.TimestampType // nullable in CEL already
	}
	return nil
}

// toCEL converts a column value to CEL. Strings are not copied; see bytesString.
func toCEL(v row.Value, t config.ColumnType) ref.Val {
	if v.Null {
		return types.NullValue
	}
	switch t {
	case config.TypeString:
		return types.String(bytesString(v.S))
	case config.TypeLong, config.TypeInt:
		return types.Int(v.I)
	case config.TypeDouble, config.TypeFloat:
		return types.Double(v.F)
	case config.TypeBoolean:
		return types.Bool(v.I != 0)
	case config.TypeTimestamp:
		return types.Timestamp{Time: time.UnixMicro(v.I).UTC()}
	case config.TypeDate:
		return types.Timestamp{Time: time.Unix(v.I*secondsPerDay, 0).UTC()}
	}
	return types.NullValue
}

// fromCEL converts an expression result to a value of column type t. CEL null becomes a null value;
// a result of another type, an int out of an int column's range or a double out of a float's range is an
// error.
func fromCEL(out ref.Val, t config.ColumnType) (row.Value, error) {
	if out == types.NullValue {
		return row.Value{Null: true}, nil
	}
	switch t {
	case config.TypeString:
		if v, ok := out.(types.String); ok {
			return row.Value{S: []byte(v)}, nil
		}
	case config.TypeLong, config.TypeInt:
		if v, ok := out.(types.Int); ok {
			if t == config.TypeInt && (v < math.MinInt32 || v > math.MaxInt32) {
				return row.Value{}, fmt.Errorf("result %d is out of the int column's range", int64(v))
			}
			return row.Value{I: int64(v)}, nil
		}
	case config.TypeDouble, config.TypeFloat:
		if v, ok := out.(types.Double); ok {
			f := float64(v)
			if t == config.TypeFloat {
				if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
					return row.Value{}, fmt.Errorf("result %g is out of the float column's range", f)
				}
				f = float64(float32(f))
			}
			return row.Value{F: f}, nil
		}
	case config.TypeBoolean:
		if v, ok := out.(types.Bool); ok {
			if v {
				return row.Value{I: 1}, nil
			}
			return row.Value{}, nil
		}
	case config.TypeTimestamp, config.TypeDate:
		if v, ok := out.(types.Timestamp); ok {
			us := v.UnixMicro()
			if t == config.TypeDate {
				return row.Value{I: floorDiv(us, microsPerDay)}, nil
			}
			return row.Value{I: us}, nil
		}
	}
	return row.Value{}, fmt.Errorf("result is %s, but the column is %s", out.Type().TypeName(), t)
}

// floorDiv divides rounding toward negative infinity, so that instants before 1970 land on their day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
