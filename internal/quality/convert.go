package quality

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

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
		c.bufs[i] = appendJSON(c.bufs[i][:0], sc.v)
		out.S = c.bufs[i]
	case kLong, kInt:
		if sc.kind != jNumber {
			return wrongType(col, sc)
		}
		n := sc.i
		if !sc.isInt {
			// 1e2, 12.0 and -3.50e1 are integers written otherwise: read them exactly, not through float64.
			v, integral, fits := exactInt(sc.s)
			switch {
			case !integral:
				return wrongType(col, sc)
			case !fits:
				return outOfRange(col, sc)
			}
			n = v
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

// appendJSON appends v to dst as compact JSON text. fastjson's MarshalTo is not used for this: it quotes a
// string that holds a quote, a backslash or a control character with strconv.Quote, whose Go escapes
// (\x00, \a, \v, \x7f, \U000e0001) are not JSON.
func appendJSON(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		n := 0
		o.Visit(func(key []byte, x *fastjson.Value) {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			dst = appendJSON(dst, x)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for k, x := range a {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, x)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		return appendJSONString(dst, v.GetStringBytes())
	}
	return v.MarshalTo(dst) // a number as written, true, false or null
}

// appendJSONString appends s (valid UTF-8, as the scan ensures) as a JSON string, escaping only what RFC 8259
// requires: the quote, the backslash and the control characters.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range s {
		switch {
		case ch == '"' || ch == '\\':
			dst = append(dst, '\\', ch)
		case ch >= 0x20:
			dst = append(dst, ch)
		case ch == '\n':
			dst = append(dst, '\\', 'n')
		case ch == '\r':
			dst = append(dst, '\\', 'r')
		case ch == '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		}
	}
	return append(dst, '"')
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

// exactInt reads the text of a JSON number exactly: integral says it is mathematically an integer (1e2,
// 12.0, -3.50e1, 1.5e3), fits that the integer is within int64 (n).
func exactInt(t []byte) (n int64, integral, fits bool) {
	neg := len(t) > 0 && t[0] == '-'
	if neg {
		t = t[1:]
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	digits := t[:i] // the integer part, then the fraction's digits, read as one run with a decimal scale
	var frac []byte
	if i < len(t) && t[i] == '.' {
		j := i + 1
		for j < len(t) && t[j] >= '0' && t[j] <= '9' {
			j++
		}
		frac, i = t[i+1:j], j
	}
	exp := 0
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		expNeg := i < len(t) && t[i] == '-'
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if exp < 1_000_000 {
				exp = exp*10 + int(t[i]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	// The value is the run digits+frac times 10^scale. Leading zeros change nothing; trailing zeros of
	// the run move into the scale.
	scale := exp - len(frac)
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		for len(frac) > 0 && frac[0] == '0' {
			frac = frac[1:]
		}
	}
	digit := func(k int) byte {
		if k < len(digits) {
			return digits[k] - '0'
		}
		return frac[k-len(digits)] - '0'
	}
	all := len(digits) + len(frac)
	for all > 0 && digit(all-1) == 0 {
		all--
		scale++
	}
	if all == 0 {
		return 0, true, true // zero, however it is written
	}
	if scale < 0 {
		return 0, false, false
	}
	if all+scale > 19 {
		return 0, true, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	for k := 0; k < all+scale; k++ {
		d := uint64(0)
		if k < all {
			d = uint64(digit(k))
		}
		if u > (limit-d)/10 {
			return 0, true, false
		}
		u = u*10 + d
	}
	if neg {
		return -int64(u), true, true
	}
	return int64(u), true, true
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

// Epoch numbers under coerce_timestamps: a magnitude below 1e10 is seconds (up to 2286-11-20), from 1e11
// milliseconds (from 1973-03-03). Between the two, one digit would move the time by centuries (99999999999
// is the year 5138 as seconds, 1973 as milliseconds), so those values are refused as ambiguous.
const (
	epochSecondsBelow = 1e10
	epochMillisFrom   = 1e11
)

// epochMicros turns epoch seconds or milliseconds into microseconds by the rule above. ambiguous reports a
// value between the two ranges; ok is false for it and for values beyond the timestamp range.
func epochMicros(sc *scalar) (us int64, ok, ambiguous bool) {
	if sc.isInt {
		switch a := sc.i; {
		case a > -epochSecondsBelow && a < epochSecondsBelow:
			return a * 1e6, true, false
		case a > -epochMillisFrom && a < epochMillisFrom:
			return 0, false, true
		case a > math.MaxInt64/1000 || a < math.MinInt64/1000:
			return 0, false, false
		}
		return sc.i * 1000, true, false
	}
	if !sc.numOK {
		return 0, false, false
	}
	f := sc.f * 1e3
	switch a := math.Abs(sc.f); {
	case a < epochSecondsBelow:
		f = sc.f * 1e6
	case a < epochMillisFrom:
		return 0, false, true
	}
	if f >= 9.2e18 || f <= -9.2e18 {
		return 0, false, false
	}
	return int64(math.Round(f)), true, false
}

// ambiguousEpoch is the violation for a value epochMicros calls ambiguous.
func ambiguousEpoch(col *column, sc *scalar) *Violation {
	secs := time.Unix(int64(sc.f), 0).UTC().Format(time.DateOnly)
	millis := time.UnixMilli(int64(sc.f)).UTC().Format(time.DateOnly)
	return &Violation{CodeOutOfRange, col.name, fmt.Sprintf("field %q: epoch value %s is ambiguous: %s as seconds, %s as milliseconds "+
		"(seconds must be below 10000000000, milliseconds at least 100000000000)", col.name, clip(string(sc.s)), secs, millis)}
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
