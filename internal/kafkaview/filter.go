package kafkaview

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"github.com/twmb/franz-go/pkg/kgo"
)

// filterCostLimit bounds the work of one evaluation, so that a filter cannot stall a scan.
const filterCostLimit = 1_000_000

// FilterVariables documents the variables a Browse or Tail filter sees, by name.
var FilterVariables = map[string]string{
	"key":       "string: the key as Message shows it: its text when UTF-8, else base64; empty for a null key",
	"value":     "dyn: the value parsed as JSON when it is valid JSON (integers as int, other numbers as double), else a string as Message shows it (text, or base64 when not UTF-8); null for a tombstone",
	"headers":   "map(string, string): header values by key (the first of repeated keys; non-UTF-8 values in base64)",
	"topic":     "string",
	"partition": "int",
	"offset":    "int",
	"timestamp": "google.protobuf.Timestamp: the record timestamp",
	"size":      "int: bytes of key, value, and header keys and values",
}

// newFilterEnv builds the environment every filter compiles in (once per View).
func newFilterEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.Strings(),
		ext.Math(),
		ext.Encoders(),
		cel.Variable("key", cel.StringType),
		cel.Variable("value", cel.DynType),
		cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("topic", cel.StringType),
		cel.Variable("partition", cel.IntType),
		cel.Variable("offset", cel.IntType),
		cel.Variable("timestamp", cel.TimestampType),
		cel.Variable("size", cel.IntType),
	)
}

// filter is a compiled CEL filter; nil matches every record.
type filter struct {
	prg cel.Program
}

// compileFilter compiles expr, which must be a boolean (or dyn, checked per record) CEL expression.
// Errors are *InputError with Param "filter" and CEL's message; an empty expr gives a nil filter.
func compileFilter(env *cel.Env, expr string) (*filter, error) {
	if expr == "" {
		return nil, nil
	}
	if len(expr) > MaxFilterLength {
		return nil, inputErr("filter", "expected at most %d bytes, got %d", MaxFilterLength, len(expr))
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, inputErr("filter", "%s", iss.Err())
	}
	if k := ast.OutputType().Kind(); k != types.BoolKind && k != types.DynKind {
		return nil, inputErr("filter", "expected a boolean expression, got one of type %s", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(filterCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, inputErr("filter", "%s", err)
	}
	return &filter{prg: prg}, nil
}

// match reports whether the record passes; an evaluation error (a missing map key, a type mismatch
// under dyn, the cost limit) or a non-boolean result is no match.
func (f *filter) match(r *kgo.Record) bool {
	if f == nil {
		return true
	}
	out, _, err := f.prg.Eval(&recordVars{r: r})
	if err != nil {
		return false
	}
	b, ok := out.(types.Bool)
	return ok && bool(b)
}

// recordVars resolves the filter variables of one record, converting each only when asked.
type recordVars struct {
	r     *kgo.Record
	value ref.Val
}

var _ interpreter.Activation = (*recordVars)(nil)

// ResolveName implements interpreter.Activation.
func (a *recordVars) ResolveName(name string) (any, bool) {
	r := a.r
	switch name {
	case "key":
		return types.String(fieldText(r.Key)), true
	case "value":
		if a.value == nil {
			a.value = jsonValue(r.Value)
		}
		return a.value, true
	case "headers":
		m := make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			if _, dup := m[h.Key]; !dup {
				m[h.Key] = headerText(h.Value)
			}
		}
		return types.DefaultTypeAdapter.NativeToValue(m), true
	case "topic":
		return types.String(r.Topic), true
	case "partition":
		return types.Int(r.Partition), true
	case "offset":
		return types.Int(r.Offset), true
	case "timestamp":
		return types.Timestamp{Time: r.Timestamp.UTC()}, true
	case "size":
		n := len(r.Key) + len(r.Value)
		for _, h := range r.Headers {
			n += len(h.Key) + len(h.Value)
		}
		return types.Int(n), true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *recordVars) Parent() interpreter.Activation { return nil }

// headerText is a header value as Message shows it: text when UTF-8, else base64.
func headerText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// fieldText is a key or non-JSON value as the filter sees it: the whole field (never cut) as text when
// UTF-8, else base64, as Message shows it.
func fieldText(b []byte) string { return headerText(b) }

// jsonValue is a record value for CEL: the parsed JSON when it is valid JSON, null for a null value,
// else the value as a string.
func jsonValue(b []byte) ref.Val {
	if b == nil {
		return types.NullValue
	}
	if len(b) > 0 && utf8.Valid(b) && json.Valid(b) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil {
			return types.DefaultTypeAdapter.NativeToValue(fromJSON(v))
		}
	}
	return types.String(fieldText(b))
}

// fromJSON turns json.Number into int64 when integral and in range, else float64.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
	}
	return v
}
