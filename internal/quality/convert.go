package quality

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// This file converts checked values to column values. Its rules and messages are those of the stage
// decoder it replaces, byte for byte; with definitions (schema) a few are relaxed to agree with JSON Schema:
// integral numbers such as 2.0 fill integer columns.

// expected says what each column type accepts, for wrong_type messages.
var expected = map[config.ColumnType]string{
	config.TypeString:    "a string",
	config.TypeLong:      "an integer (long)",
	config.TypeInt:       "an integer (int)",
	config.TypeDouble:    "a number (double)",
	config.TypeFloat:     "a number (float)",
	config.TypeBoolean:   "true or false (boolean)",
	config.TypeTimestamp: "an RFC 3339 string or epoch milliseconds (timestamp)",
	config.TypeDate:      "a YYYY-MM-DD string (date)",
}

// convert stores sc in out by the rules of column i.
func (c *Checker) convert(i int, col *column, sc *scalar, out *row.Value, schema bool) *Violation {
	switch col.kind {
	case kString:
		if sc.kind != jString {
			return wrongType(col, sc)
		}
		out.S = sc.s
	case kJSON:
		if !accepts(col.json, sc) {
			return &Violation{CodeWrongType, col.name, fmt.Sprintf("field %q: expected %s, got %s", col.name, expectedText(col.json, fmtNone), describe(sc))}
		}
		c.bufs[i] = sc.v.MarshalTo(c.bufs[i][:0])
		out.S = c.bufs[i]
	case kLong, kInt:
		if sc.kind != jNumber {
			return wrongType(col, sc)
		}
		var n int64
		switch {
		case sc.isInt:
			n = sc.i
		case schema && sc.integral() && sc.f >= -(1<<63) && sc.f < 1<<63:
			n = int64(sc.f)
		case sc.numOK && !sc.integral():
			return wrongType(col, sc)
		default:
			return outOfRange(col, sc)
		}
		if col.kind == kInt && (n < math.MinInt32 || n > math.MaxInt32) {
			return outOfRange(col, sc)
		}
		out.I = n
	case kDouble, kFloat:
		if sc.kind != jNumber {
			return wrongType(col, sc)
		}
		if !sc.numOK || (col.kind == kFloat && math.Abs(sc.f) > math.MaxFloat32) {
			return outOfRange(col, sc)
		}
		out.F = sc.f
	case kBool:
		if sc.kind != jBool {
			return wrongType(col, sc)
		}
		if sc.b {
			out.I = 1
		}
	case kTimestamp:
		switch sc.kind {
		case jTime:
			out.I = sc.i
		case jString:
			us, ok := sc.ts, sc.tsOK
			if !sc.tsDone {
				us, ok = parseDateTime(sc.s, false)
				if !ok {
					us, ok = slowDateTime(sc.s)
				}
			}
			if !ok {
				return wrongType(col, sc)
			}
			out.I = us
		case jNumber:
			if !sc.isInt || sc.i > math.MaxInt64/1000 || sc.i < math.MinInt64/1000 {
				return wrongType(col, sc)
			}
			out.I = sc.i * 1000
		default:
			return wrongType(col, sc)
		}
	case kDate:
		if sc.kind != jString {
			return wrongType(col, sc)
		}
		days, ok := sc.ts, sc.tsOK
		if !sc.tsDone {
			days, ok = parseDate(sc.s)
		}
		if !ok {
			return wrongType(col, sc)
		}
		out.I = days
	}
	return nil
}

func wrongType(col *column, sc *scalar) *Violation {
	return &Violation{CodeWrongType, col.name, fmt.Sprintf("field %q: expected %s, got %s", col.name, expected[col.typ], describe(sc))}
}

func outOfRange(col *column, sc *scalar) *Violation {
	return &Violation{CodeOutOfRange, col.name, fmt.Sprintf("field %q: value %s is out of range for %s", col.name, clip(string(sc.s)), col.typ)}
}

// parseNumber parses the text of a JSON number. isInt says it is written as an integer that fits int64 (i);
// ok says f is finite.
func parseNumber(t []byte) (f float64, i int64, isInt, ok bool) {
	j, neg := 0, false
	if len(t) > 0 && t[0] == '-' {
		j, neg = 1, true
	}
	if j < len(t) && len(t)-j <= 19 {
		var u uint64
		digits := true
		for _, ch := range t[j:] {
			if ch < '0' || ch > '9' {
				digits = false
				break
			}
			u = u*10 + uint64(ch-'0')
		}
		if digits && (u <= math.MaxInt64 || (neg && u == 1<<63)) {
			if neg {
				i = -int64(u)
			} else {
				i = int64(u)
			}
			return float64(i), i, true, true
		}
	}
	f, err := strconv.ParseFloat(unsafeString(t), 64)
	return f, 0, false, err == nil
}

// isJSONNumber reports whether t is a number as JSON writes them.
func isJSONNumber(t []byte) bool {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	switch {
	case i < len(t) && t[i] == '0':
		i++
	case i < len(t) && t[i] >= '1' && t[i] <= '9':
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		start := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		start := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(t)
}

// epochMicros turns epoch seconds (magnitude below 1e11, before the year 5138) or milliseconds into
// microseconds.
func epochMicros(sc *scalar) (int64, bool) {
	if sc.isInt {
		switch {
		case sc.i > -1e11 && sc.i < 1e11:
			return sc.i * 1e6, true
		case sc.i > math.MaxInt64/1000 || sc.i < math.MinInt64/1000:
			return 0, false
		}
		return sc.i * 1000, true
	}
	if !sc.numOK {
		return 0, false
	}
	us := sc.f * 1e3
	if math.Abs(sc.f) < 1e11 {
		us = sc.f * 1e6
	}
	if us >= 9.2e18 || us <= -9.2e18 {
		return 0, false
	}
	return int64(math.Round(us)), true
}

// slowDateTime is time.Parse(time.RFC3339Nano), for the forms the fast parser leaves to it.
func slowDateTime(b []byte) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t.UnixMicro(), err == nil
}

// unsafeString views b as a string for calls that do not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
