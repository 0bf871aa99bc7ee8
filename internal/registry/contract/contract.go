// Package contract enforces the domain rules of a registry subject's data contract on decoded records, as
// Confluent's data contracts define them. Big Father runs them at staging, server-side, so a record is held to
// its subject's contract even when its producer never ran the rules:
//
//   - CEL conditions (kind CONDITION, type CEL): the expression, over the variable message (the record), must
//     be true;
//   - field-level rules (type CEL_FIELD) on the record's top-level fields that carry one of the rule's tags
//     (every field when the rule names none): the expression sees value, name (also fieldName), typeName
//     (STRING, INT, LONG, DOUBLE, BOOLEAN, BYTES, RECORD, ARRAY, MAP, TIMESTAMP, DECIMAL, NULL), tags and
//     message; "GUARD ; EXPR" runs EXPR only where GUARD is true. A condition must be true for each field; a
//     transform's result replaces the field's value (a masked string, a rounded number) and must keep its
//     kind.
//
// A rule whose onFailure is NONE on write ("NONE" or "NONE,..."), is run but lets failing records pass; ERROR
// (the default) and DLQ reject them, into the pipeline's rejected records.
//
// Rules that are disabled, that apply only on read (mode READ), or that are neither (record-level transforms,
// encryption, migration rules) are not run here; Skipped lists them so that reports can say so.
package contract

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/bigfather/bigfather/internal/registry/wire"
)

// Rule is a domain rule as the registry stores it (the fields this package reads).
type Rule struct {
	Name      string
	Kind      string // CONDITION or TRANSFORM
	Mode      string // WRITE, READ, WRITEREAD, UPGRADE, DOWNGRADE, UPDOWN; empty is WRITE
	Type      string // CEL, CEL_FIELD, ...
	Expr      string
	OnFailure string // NONE, ERROR, DLQ; may name two actions, "write,read"
	Disabled  bool
	// Tags are the tags of the fields a CEL_FIELD rule applies to; none: every field.
	Tags []string
}

// FieldTags maps a top-level field name to its tags (from the schema's metadata and inline annotations).
type FieldTags map[string][]string

// Set is a compiled rule set. It is safe for concurrent use.
type Set struct {
	rules   []compiled
	skipped []string
	tags    FieldTags
}

type compiled struct {
	name, expr string
	prg        cel.Program
	// Field-level rules: the guard (nil: none), whether the result replaces the value, and the fields the
	// rule applies to, sorted.
	field     bool
	ignore    bool // onFailure NONE on write: a failure lets the record pass
	guard     cel.Program
	transform bool
	fields    []string
}

// Violation is a record that fails a rule.
type Violation struct {
	// Rule is the failing rule's name.
	Rule string
	// Reason says what failed: the rule, its expression and, when it could not be evaluated, why.
	Reason string
}

// Error returns the reason.
func (v *Violation) Error() string { return v.Reason }

// Compile compiles the rules that run at staging; tags says which fields carry which tags, for field-level
// rules. An expression that does not compile, or a condition that does not yield a boolean, is an error naming
// the rule.
func Compile(rules []Rule, tags FieldTags) (*Set, error) {
	env, err := cel.NewEnv(cel.Variable("message", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		return nil, fmt.Errorf("creating the CEL environment: %w", err)
	}
	fieldEnv, err := cel.NewEnv(cel.Variable("message", cel.MapType(cel.StringType, cel.DynType)), cel.Variable("value", cel.DynType),
		cel.Variable("name", cel.StringType), cel.Variable("fieldName", cel.StringType), cel.Variable("typeName", cel.StringType),
		cel.Variable("tags", cel.ListType(cel.StringType)))
	if err != nil {
		return nil, fmt.Errorf("creating the CEL environment: %w", err)
	}
	s := &Set{tags: tags}
	for _, r := range rules {
		mode := strings.ToUpper(r.Mode)
		runs := mode == "" || strings.Contains(mode, "WRITE")
		switch {
		case r.Disabled || !runs:
			s.skipped = append(s.skipped, r.Name)
		case r.Type == "CEL" && r.Kind == "CONDITION":
			prg, err := compileBool(env, r.Name, r.Expr, true)
			if err != nil {
				return nil, err
			}
			s.rules = append(s.rules, compiled{name: r.Name, expr: r.Expr, prg: prg, ignore: writeAction(r.OnFailure) == "NONE"})
		case r.Type == "CEL_FIELD" && (r.Kind == "CONDITION" || r.Kind == "TRANSFORM"):
			c := compiled{name: r.Name, expr: r.Expr, field: true, transform: r.Kind == "TRANSFORM", fields: tagged(tags, r.Tags),
				ignore: writeAction(r.OnFailure) == "NONE"}
			guard, expr, ok := splitGuard(r.Expr)
			if ok {
				if c.guard, err = compileBool(fieldEnv, r.Name, guard, true); err != nil {
					return nil, err
				}
			}
			if c.prg, err = compileBool(fieldEnv, r.Name, expr, !c.transform); err != nil {
				return nil, err
			}
			s.rules = append(s.rules, c)
		default:
			s.skipped = append(s.skipped, r.Name)
		}
	}
	return s, nil
}

// writeAction is the action of onFailure on write: the first of "WRITE_ACTION,READ_ACTION", ERROR when empty
// (Confluent's default).
func writeAction(onFailure string) string {
	a, _, _ := strings.Cut(onFailure, ",")
	if a = strings.ToUpper(strings.TrimSpace(a)); a == "" {
		return "ERROR"
	}
	return a
}

// compileBool compiles expr; with wantBool it must yield a boolean.
func compileBool(env *cel.Env, rule, expr string, wantBool bool) (cel.Program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("rule %s: expression %q: %v", rule, expr, iss.Err())
	}
	if wantBool && ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("rule %s: expression %q yields %s, expected a bool", rule, expr, ast.OutputType())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("rule %s: expression %q: %w", rule, expr, err)
	}
	return prg, nil
}

// splitGuard splits "GUARD ; EXPR" at the first semicolon outside a string literal.
func splitGuard(expr string) (guard, rest string, ok bool) {
	var quote byte
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ';':
			return strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+1:]), true
		}
	}
	return "", expr, false
}

// tagged lists, sorted, the fields carrying one of want (every field named in tags when want is empty, and
// then fields without tags too: tagged returns nil, meaning all).
func tagged(tags FieldTags, want []string) []string {
	if len(want) == 0 {
		return nil
	}
	var out []string
	for field, ts := range tags {
		for _, t := range ts {
			if slices.Contains(want, t) {
				out = append(out, field)
				break
			}
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{} // tagged rules with no tagged field apply to none
	}
	return out
}

// Len is the number of rules that run.
func (s *Set) Len() int { return len(s.rules) }

// Skipped names the rules that do not run at staging.
func (s *Set) Skipped() []string { return s.skipped }

// Check runs the rules in order on a decoded record (see package wire) and returns the first that fails, or
// nil. Field-level transforms change record in place. A rule whose expression fails to evaluate (a missing
// field, a type mismatch) fails.
func (s *Set) Check(record map[string]any) *Violation {
	if s == nil || len(s.rules) == 0 {
		return nil
	}
	msg := celValue(record)
	act := map[string]any{"message": msg}
	for _, r := range s.rules {
		if r.field {
			if v := s.field(r, record, &msg); v != nil && !r.ignore {
				return v
			}
			continue
		}
		act["message"] = msg // as the field-level transforms before left it
		out, _, err := r.prg.Eval(act)
		if err != nil && !r.ignore {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s (%s) could not be evaluated: %v", r.name, r.expr, err)}
		}
		if err != nil {
			continue
		}
		if b, ok := out.Value().(bool); (!ok || !b) && !r.ignore {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s failed: %s is %v", r.name, r.expr, out.Value())}
		}
	}
	return nil
}

// field runs a field-level rule on each field it applies to; msg is the record as CEL sees it, refreshed
// after a transform.
func (s *Set) field(r compiled, record map[string]any, msg *any) *Violation {
	names := r.fields
	if names == nil {
		names = make([]string, 0, len(record))
		for k := range record {
			names = append(names, k)
		}
		slices.Sort(names)
	}
	for _, name := range names {
		v, ok := record[name]
		if !ok {
			continue
		}
		act := map[string]any{"message": *msg, "value": celValue(v), "name": name, "fieldName": name, "typeName": typeName(v), "tags": tagsOf(s.tags[name])}
		if r.guard != nil {
			out, _, err := r.guard.Eval(act)
			if err != nil {
				return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s (%s) could not be evaluated on field %s: %v", r.name, r.expr, name, err)}
			}
			if b, _ := out.Value().(bool); !b {
				continue
			}
		}
		out, _, err := r.prg.Eval(act)
		if err != nil {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s (%s) could not be evaluated on field %s: %v", r.name, r.expr, name, err)}
		}
		if !r.transform {
			if b, ok := out.Value().(bool); !ok || !b {
				return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s failed on field %s: %s is %v", r.name, name, r.expr, out.Value())}
			}
			continue
		}
		nv, ok := fromCEL(out.Value(), v)
		if !ok {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s: the transform of field %s yields a %T, which does not fit its %s value", r.name, name, out.Value(), typeName(v))}
		}
		record[name] = nv
		*msg = celValue(record)
	}
	return nil
}

func tagsOf(ts []string) []string {
	if ts == nil {
		return []string{}
	}
	return ts
}

// fromCEL turns a transform's result into the decoded value it replaces, keeping its kind.
func fromCEL(out, old any) (any, bool) {
	switch old.(type) {
	case nil:
		return out, out == nil
	case string:
		s, ok := out.(string)
		return s, ok
	case int64:
		i, ok := out.(int64)
		return i, ok
	case float64:
		switch f := out.(type) {
		case float64:
			return f, true
		case int64:
			return float64(f), true
		}
	case bool:
		b, ok := out.(bool)
		return b, ok
	case []byte:
		b, ok := out.([]byte)
		return b, ok
	}
	return nil, false
}

// typeName names a decoded value's kind as Confluent's field-level rules do.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case string:
		return "STRING"
	case int64:
		return "LONG"
	case float64:
		return "DOUBLE"
	case bool:
		return "BOOLEAN"
	case []byte:
		return "BYTES"
	case map[string]any:
		return "RECORD"
	case []any:
		return "ARRAY"
	case wire.Map:
		return "MAP"
	case *big.Rat:
		return "DECIMAL"
	}
	return "TIMESTAMP"
}

// celKey converts a map key to what CEL looks keys up by: the 64-bit unsigned keys of Protobuf maps, decoded
// as whole decimals, become uints (CEL map keys are ints, uints, bools or strings, never doubles).
func celKey(k any) any {
	if r, ok := k.(*big.Rat); ok && r.IsInt() && r.Num().IsUint64() {
		return r.Num().Uint64()
	}
	return k
}

// celValue converts a decoded value to what CEL reads: decimals become doubles, maps CEL maps.
func celValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = celValue(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = celValue(x)
		}
		return out
	case wire.Map:
		m := make(map[any]any, len(v))
		for _, e := range v {
			m[celKey(e.Key)] = celValue(e.Value)
		}
		return m
	case *big.Rat:
		f, _ := v.Float64()
		return f
	}
	return v
}
