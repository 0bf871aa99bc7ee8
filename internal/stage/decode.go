package stage

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"

	"github.com/bigfather/bigfather/internal/config"
)

// Reason codes of rejected records. They are stable: dashboards and queries match on them.
const (
	ReasonNotJSON      = "not_json"
	ReasonNotObject    = "not_object"
	ReasonMissingField = "missing_field"
	ReasonWrongType    = "wrong_type"
	ReasonOutOfRange   = "out_of_range"
)

// Rejection says why a record could not become a row.
type Rejection struct {
	Code   string
	Reason string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Reason }

// value is one decoded field, typed by its column.
type value struct {
	null bool
	i    int64 // long, int, timestamp (µs), date (days), boolean (0/1)
	f    float64
	s    []byte
}

type column struct {
	name     string
	typ      config.ColumnType
	required bool
}

// decoder turns JSON records into rows of the configured columns. It is not safe for concurrent use.
type decoder struct {
	cols   []column
	index  map[string]int
	parser fastjson.Parser
	raw    []*fastjson.Value
	vals   []value
}

func newDecoder(cols []config.Column) *decoder {
	d := &decoder{index: make(map[string]int, len(cols)), raw: make([]*fastjson.Value, len(cols)), vals: make([]value, len(cols))}
	for i, c := range cols {
		d.cols = append(d.cols, column{name: c.Name, typ: c.Type, required: c.Required})
		d.index[c.Name] = i
	}
	return d
}

// decode parses one record into d.vals, or says why it cannot.
func (d *decoder) decode(data []byte) *Rejection {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Rejection{ReasonNotJSON, "record is empty, expected a JSON object"}
	}
	v, err := d.parser.ParseBytes(data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "cannot parse JSON: ")
		msg = strings.TrimSuffix(msg, `; unparsed tail: ""`)
		return &Rejection{ReasonNotJSON, "record is not valid JSON: " + msg}
	}
	obj, err := v.Object()
	if err != nil {
		return &Rejection{ReasonNotObject, "record is a JSON " + v.Type().String() + ", expected an object"}
	}
	clear(d.raw)
	obj.Visit(func(key []byte, v *fastjson.Value) {
		if i, ok := d.index[string(key)]; ok {
			d.raw[i] = v
		}
	})
	for i := range d.cols {
		if rej := d.convert(i); rej != nil {
			return rej
		}
	}
	return nil
}

func (d *decoder) convert(i int) *Rejection {
	c, raw, out := &d.cols[i], d.raw[i], &d.vals[i]
	*out = value{}
	if raw == nil || raw.Type() == fastjson.TypeNull {
		if c.required {
			state := "missing"
			if raw != nil {
				state = "null"
			}
			return &Rejection{ReasonMissingField, fmt.Sprintf("required field %q is %s (expected %s)", c.name, state, c.typ)}
		}
		out.null = true
		return nil
	}
	switch c.typ {
	case config.TypeString:
		if raw.Type() != fastjson.TypeString {
			return wrongType(c, raw)
		}
		out.s = raw.GetStringBytes()
	case config.TypeLong, config.TypeInt:
		if raw.Type() != fastjson.TypeNumber {
			return wrongType(c, raw)
		}
		n, err := raw.Int64()
		if err != nil {
			if _, ferr := raw.Float64(); ferr == nil && !isIntegral(raw) {
				return wrongType(c, raw)
			}
			return outOfRange(c, raw)
		}
		if c.typ == config.TypeInt && (n < math.MinInt32 || n > math.MaxInt32) {
			return outOfRange(c, raw)
		}
		out.i = n
	case config.TypeDouble, config.TypeFloat:
		if raw.Type() != fastjson.TypeNumber {
			return wrongType(c, raw)
		}
		f, err := raw.Float64()
		if err != nil || (c.typ == config.TypeFloat && math.Abs(f) > math.MaxFloat32) {
			return outOfRange(c, raw)
		}
		out.f = f
	case config.TypeBoolean:
		switch raw.Type() {
		case fastjson.TypeTrue:
			out.i = 1
		case fastjson.TypeFalse:
		default:
			return wrongType(c, raw)
		}
	case config.TypeTimestamp:
		switch raw.Type() {
		case fastjson.TypeString:
			t, err := time.Parse(time.RFC3339Nano, string(raw.GetStringBytes()))
			if err != nil {
				return wrongType(c, raw)
			}
			out.i = t.UnixMicro()
		case fastjson.TypeNumber:
			ms, err := raw.Int64()
			if err != nil || ms > math.MaxInt64/1000 || ms < math.MinInt64/1000 {
				return wrongType(c, raw)
			}
			out.i = ms * 1000
		default:
			return wrongType(c, raw)
		}
	case config.TypeDate:
		if raw.Type() != fastjson.TypeString {
			return wrongType(c, raw)
		}
		t, err := time.Parse(time.DateOnly, string(raw.GetStringBytes()))
		if err != nil {
			return wrongType(c, raw)
		}
		out.i = t.Unix() / 86400
	default:
		return &Rejection{ReasonWrongType, fmt.Sprintf("field %q: column type %s is not supported for JSON", c.name, c.typ)}
	}
	return nil
}

func isIntegral(v *fastjson.Value) bool {
	f, err := v.Float64()
	return err == nil && f == math.Trunc(f)
}

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

func wrongType(c *column, v *fastjson.Value) *Rejection {
	return &Rejection{ReasonWrongType, fmt.Sprintf("field %q: expected %s, got %s", c.name, expected[c.typ], describe(v))}
}

func outOfRange(c *column, v *fastjson.Value) *Rejection {
	return &Rejection{ReasonOutOfRange, fmt.Sprintf("field %q: value %s is out of range for %s", c.name, clip(v.String()), c.typ)}
}

// describe renders a JSON value for a message: its kind and a clipped literal.
func describe(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		return "string " + strconv.Quote(clip(string(v.GetStringBytes())))
	case fastjson.TypeNumber:
		return "number " + clip(v.String())
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "boolean " + v.String()
	case fastjson.TypeObject:
		return "an object"
	case fastjson.TypeArray:
		return "an array"
	}
	return v.Type().String()
}

func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// appender writes decoded values into the arrow builders of one record batch.
type appender func(v *value)

func newAppender(b array.Builder, typ config.ColumnType) appender {
	switch bb := b.(type) {
	case *array.StringBuilder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.BinaryBuilder.Append(v.s)
			}
		}
	case *array.Int64Builder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(v.i)
			}
		}
	case *array.Int32Builder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(int32(v.i))
			}
		}
	case *array.Float64Builder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(v.f)
			}
		}
	case *array.Float32Builder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(float32(v.f))
			}
		}
	case *array.BooleanBuilder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(v.i != 0)
			}
		}
	case *array.TimestampBuilder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(arrow.Timestamp(v.i))
			}
		}
	case *array.Date32Builder:
		return func(v *value) {
			if v.null {
				bb.AppendNull()
			} else {
				bb.Append(arrow.Date32(v.i))
			}
		}
	}
	panic(fmt.Sprintf("stage: no appender for column type %s (builder %T)", typ, b))
}
