package stage

import (
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/apache/iceberg-go"

	"github.com/bigfather/bigfather/internal/registry/wire"
	"github.com/bigfather/bigfather/internal/row"
)

// coerceColumn puts a decoded value (see package wire) into a column of type t: primitives into their row.Value
// field, decimals and nested values into N (see row.Nested). A value the column cannot hold is an error
// naming path.
func coerceColumn(v any, t iceberg.Type, path string, out *row.Value) error {
	*out = row.Value{}
	if v == nil {
		out.Null = true
		return nil
	}
	switch t := t.(type) {
	case iceberg.StringType:
		switch v := v.(type) {
		case string:
			if !utf8.ValidString(v) {
				return fmt.Errorf("field %s: the string is not valid UTF-8", path)
			}
			out.S = []byte(v)
			return nil
		}
	case iceberg.BinaryType:
		switch v := v.(type) {
		case []byte:
			out.S = v
			return nil
		case string:
			out.S = []byte(v)
			return nil
		}
	case iceberg.Int32Type:
		if i, ok := v.(int64); ok {
			if i < math.MinInt32 || i > math.MaxInt32 {
				return fmt.Errorf("field %s: %d is out of the int column's range", path, i)
			}
			out.I = i
			return nil
		}
	case iceberg.Int64Type:
		if i, ok := v.(int64); ok {
			out.I = i
			return nil
		}
	case iceberg.Float32Type, iceberg.Float64Type:
		switch v := v.(type) {
		case float64:
			out.F = v
			return nil
		case int64:
			out.F = float64(v)
			return nil
		}
	case iceberg.BooleanType:
		if b, ok := v.(bool); ok {
			if b {
				out.I = 1
			}
			return nil
		}
	case iceberg.TimestampTzType:
		if ts, ok := v.(time.Time); ok {
			out.I = ts.UnixMicro()
			return nil
		}
	case iceberg.DateType:
		if ts, ok := v.(time.Time); ok {
			out.I = int64(math.Floor(float64(ts.Unix()) / 86400))
			return nil
		}
	default:
		n, err := coerceNested(v, t, path)
		if err != nil {
			return err
		}
		out.N = n
		return nil
	}
	return fmt.Errorf("field %s: a %s value does not fit the %s column", path, kindOf(v), t)
}

// coerceNested turns a decoded value into the row.Nested shape of type t.
func coerceNested(v any, t iceberg.Type, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t := t.(type) {
	case iceberg.DecimalType:
		r, ok := v.(*big.Rat)
		if !ok {
			if i, isInt := v.(int64); isInt {
				r = new(big.Rat).SetInt64(i)
			} else {
				break
			}
		}
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale())), nil)))
		if !scaled.IsInt() {
			return nil, fmt.Errorf("field %s: %s has more than the column's %d decimals", path, r.FloatString(10), t.Scale())
		}
		un := scaled.Num()
		if len(un.Text(10)) > t.Precision()+btoi(un.Sign() < 0) {
			return nil, fmt.Errorf("field %s: %s has more digits than the column's precision %d", path, r.FloatString(t.Scale()), t.Precision())
		}
		return un, nil
	case *iceberg.StructType:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		out := make([]any, len(t.FieldList))
		for i, f := range t.FieldList {
			x, err := coerceNested(m[f.Name], f.Type, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case *iceberg.ListType:
		l, ok := v.([]any)
		if !ok {
			break
		}
		out := make([]any, len(l))
		for i, e := range l {
			x, err := coerceNested(e, t.Element, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if x == nil && t.ElementRequired {
				return nil, fmt.Errorf("field %s[%d]: null in a list of required elements", path, i)
			}
			out[i] = x
		}
		return out, nil
	case *iceberg.MapType:
		m, ok := v.(wire.Map)
		if !ok {
			break
		}
		out := make([]any, 0, 2*len(m))
		for _, e := range m {
			k, err := coerceNested(e.Key, t.KeyType, path+".key")
			if err != nil {
				return nil, err
			}
			if k == nil {
				return nil, fmt.Errorf("field %s: a map key is null", path)
			}
			x, err := coerceNested(e.Value, t.ValueType, fmt.Sprintf("%s[%v]", path, e.Key))
			if err != nil {
				return nil, err
			}
			out = append(out, k, x)
		}
		return out, nil
	default:
		var rv row.Value
		if err := coerceColumn(v, t, path, &rv); err != nil {
			return nil, err
		}
		return leaf(t, rv), nil
	}
	return nil, fmt.Errorf("field %s: a %s value does not fit the %s column", path, kindOf(v), t)
}

// leaf is a primitive row value as a nested tree leaf.
func leaf(t iceberg.Type, v row.Value) any {
	switch t.(type) {
	case iceberg.StringType:
		return string(v.S)
	case iceberg.BinaryType:
		return v.S
	case iceberg.Float32Type, iceberg.Float64Type:
		return v.F
	case iceberg.BooleanType:
		return v.I != 0
	}
	return v.I
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case []byte:
		return "bytes"
	case int64:
		return "integer"
	case float64:
		return "floating-point"
	case bool:
		return "boolean"
	case time.Time:
		return "timestamp"
	case *big.Rat:
		return "decimal"
	case map[string]any:
		return "record"
	case []any:
		return "array"
	case wire.Map:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
