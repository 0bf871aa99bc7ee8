// Package contract enforces the domain rules of a registry subject's data contract on decoded records, as
// Confluent's data contracts define them: rules of kind CONDITION and type CEL whose expression, over the
// variable message (the record), must be true. Big Father runs them at staging, server-side, so a record is
// held to its subject's contract even when its producer never ran the rules.
//
// Rules that are disabled, that apply only on read (mode READ), or that are not CEL conditions (transforms,
// encryption, migration rules) are not run here; Skipped lists them so that reports can say so.
package contract

import (
	"fmt"
	"math/big"
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
}

// Set is a compiled rule set. It is safe for concurrent use.
type Set struct {
	rules   []compiled
	skipped []string
}

type compiled struct {
	name, expr string
	prg        cel.Program
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

// Compile compiles the rules that run at staging. An expression that does not compile or does not yield a
// boolean is an error naming the rule.
func Compile(rules []Rule) (*Set, error) {
	env, err := cel.NewEnv(cel.Variable("message", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		return nil, fmt.Errorf("creating the CEL environment: %w", err)
	}
	s := &Set{}
	for _, r := range rules {
		mode := strings.ToUpper(r.Mode)
		if r.Disabled || r.Kind != "CONDITION" || r.Type != "CEL" || !(mode == "" || strings.Contains(mode, "WRITE")) {
			s.skipped = append(s.skipped, r.Name)
			continue
		}
		ast, iss := env.Compile(r.Expr)
		if iss.Err() != nil {
			return nil, fmt.Errorf("rule %s: expression %q: %v", r.Name, r.Expr, iss.Err())
		}
		if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
			return nil, fmt.Errorf("rule %s: expression %q yields %s, expected a bool", r.Name, r.Expr, ast.OutputType())
		}
		prg, err := env.Program(ast)
		if err != nil {
			return nil, fmt.Errorf("rule %s: expression %q: %w", r.Name, r.Expr, err)
		}
		s.rules = append(s.rules, compiled{name: r.Name, expr: r.Expr, prg: prg})
	}
	return s, nil
}

// Len is the number of rules that run.
func (s *Set) Len() int { return len(s.rules) }

// Skipped names the rules that do not run at staging.
func (s *Set) Skipped() []string { return s.skipped }

// Check runs the rules in order on a decoded record (see package wire) and returns the first that fails, or
// nil. A rule whose expression fails to evaluate (a missing field, a type mismatch) fails.
func (s *Set) Check(record map[string]any) *Violation {
	if s == nil || len(s.rules) == 0 {
		return nil
	}
	act := map[string]any{"message": celValue(record)}
	for _, r := range s.rules {
		out, _, err := r.prg.Eval(act)
		if err != nil {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s (%s) could not be evaluated: %v", r.name, r.expr, err)}
		}
		if b, ok := out.Value().(bool); !ok || !b {
			return &Violation{Rule: r.name, Reason: fmt.Sprintf("rule %s failed: %s is %v", r.name, r.expr, out.Value())}
		}
	}
	return nil
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
