package transform

import (
	"errors"
	"fmt"
	"path/filepath"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/bigfather/bigfather/internal/config"
)

// compile fills s from the pipeline's settings: it names the columns, loads the lookup tables and
// compiles every expression.
func (s *shared) compile(p *config.Pipeline, base []config.Column) error {
	// Column slots: base, derived, lookups.
	owner := make(map[string]string) // column name → what defined it, for duplicate errors
	s.index[kafkaVar] = kafkaIndex
	for i, c := range base {
		s.types = append(s.types, c.Type)
		owner[c.Name] = "a record column"
		if celType(c.Type) != nil && isIdent(c.Name) && c.Name != kafkaVar {
			s.index[c.Name] = i
		}
	}
	claim := func(what, name string, t config.ColumnType) error {
		if name == "" {
			return errors.New("name is empty")
		}
		if celType(t) == nil {
			return fmt.Errorf("column %q: unknown type %q", name, t)
		}
		if name == kafkaVar {
			return fmt.Errorf("column name %q is reserved for the Kafka metadata", name)
		}
		if prev, dup := owner[name]; dup {
			return fmt.Errorf("column %q already exists as %s", name, prev)
		}
		owner[name] = what
		return nil
	}
	for i, d := range p.Enrich.Derive {
		if err := claim("a derived column", d.Name, d.Type); err != nil {
			return fmt.Errorf("enrich.derive[%d] %q: %w", i, d.Name, err)
		}
		s.extra = append(s.extra, config.Column{Name: d.Name, Type: d.Type})
	}
	for i, lc := range p.Enrich.Lookups {
		if len(lc.Columns) == 0 {
			return fmt.Errorf("enrich.lookups[%d] %q: no columns", i, lc.File)
		}
		for _, c := range lc.Columns {
			if err := claim("a column of lookup "+lc.File, c.Name, c.Type); err != nil {
				return fmt.Errorf("enrich.lookups[%d] %q: %w", i, lc.File, err)
			}
			s.extra = append(s.extra, config.Column{Name: c.Name, Type: c.Type})
		}
	}
	for _, c := range s.extra {
		s.types = append(s.types, c.Type)
	}

	// Lookups: load the tables now so that a missing or broken file fails the pipeline at start.
	slot := s.base + len(p.Enrich.Derive)
	var vars []cel.EnvOption
	for i, lc := range p.Enrich.Lookups {
		l, err := newLookup(lc, base, slot)
		if err != nil {
			return fmt.Errorf("enrich.lookups[%d] %q: %w", i, lc.File, err)
		}
		s.lookups = append(s.lookups, l)
		for _, c := range lc.Columns {
			if isIdent(c.Name) {
				s.index[c.Name] = slot
				vars = append(vars, cel.Variable(c.Name, celType(c.Type)))
			}
			slot++
		}
	}

	// The environment: base columns, lookup columns and kafka; each derived column extends it for the
	// expressions after it.
	env, err := newEnv()
	if err != nil {
		return fmt.Errorf("creating the CEL environment: %w", err)
	}
	for _, c := range base {
		if i, ok := s.index[c.Name]; ok && i < s.base {
			vars = append(vars, cel.Variable(c.Name, celType(c.Type)))
		}
	}
	if env, err = env.Extend(vars...); err != nil {
		return fmt.Errorf("declaring the record columns in CEL: %w", err)
	}

	for i, d := range p.Enrich.Derive {
		where := fmt.Sprintf("enrich.derive[%d] %q", i, d.Name)
		prg, out, err := compileExpr(env, d.Expr)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if !assignable(d.Type, out) {
			return fmt.Errorf("%s: expression %q has type %s, but a %s column needs %s",
				where, d.Expr, out, d.Type, celType(d.Type).TypeName())
		}
		r := &rule{name: "derive:" + d.Name, expr: d.Expr, prg: prg, typ: d.Type, slot: s.base + i}
		s.derived = append(s.derived, r)
		if isIdent(d.Name) {
			s.index[d.Name] = r.slot
			if env, err = env.Extend(cel.Variable(d.Name, celType(d.Type))); err != nil {
				return fmt.Errorf("%s: declaring the column in CEL: %w", where, err)
			}
		}
	}

	for i, f := range p.Filters {
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("filters[%d]", i)
		}
		r, err := compileBool(env, "filter:"+name, f.Drop)
		if err != nil {
			return fmt.Errorf("filters[%d] %q: %w", i, f.Name, err)
		}
		s.filters = append(s.filters, r)
	}

	for i, rc := range p.Routes {
		rt := &route{eventTypes: rc.EventTypes}
		if rc.When != "" {
			r, err := compileBool(env, "route:"+rc.Table, rc.When)
			if err != nil {
				return fmt.Errorf("routes[%d] %q: %w", i, rc.Table, err)
			}
			rt.rule = r
		}
		s.routes = append(s.routes, rt)
	}
	return nil
}

// newEnv returns the CEL environment every expression starts from: the standard library, the strings and
// math extensions, and the kafka variable.
func newEnv() (*cel.Env, error) {
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	return cel.NewEnv(
		cel.CustomTypeAdapter(reg),
		cel.CustomTypeProvider(&provider{Registry: reg}),
		ext.Strings(),
		ext.Math(),
		cel.Variable(kafkaVar, kafkaType),
	)
}

// compileExpr compiles and plans one expression, returning its program and result type.
func compileExpr(env *cel.Env, expr string) (cel.Program, *types.Type, error) {
	if expr == "" {
		return nil, nil, errors.New("expression is empty")
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, nil, fmt.Errorf("compiling %q: %w", expr, iss.Err())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, fmt.Errorf("planning %q: %w", expr, err)
	}
	return prg, ast.OutputType(), nil
}

// compileBool compiles a filter or route expression, which must be a bool.
func compileBool(env *cel.Env, name, expr string) (*rule, error) {
	prg, out, err := compileExpr(env, expr)
	if err != nil {
		return nil, err
	}
	if k := out.Kind(); k != types.BoolKind && k != types.DynKind {
		return nil, fmt.Errorf("expression %q has type %s, want bool", expr, out)
	}
	return &rule{name: name, expr: expr, prg: prg}, nil
}

// assignable reports whether an expression of type out can fill a column of type t: its type must be
// the column's CEL type (or its nullable form), null, or dyn, which is checked per record.
func assignable(t config.ColumnType, out *types.Type) bool {
	switch out.Kind() {
	case types.DynKind, types.NullTypeKind:
		return true
	}
	return celType(t).IsAssignableType(out)
}

// isIdent reports whether name can be a CEL variable: an identifier that is not a reserved word.
func isIdent(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	switch name {
	case "false", "in", "null", "true", "as", "break", "const", "continue", "else", "for", "function", "if",
		"import", "let", "loop", "package", "namespace", "return", "var", "void", "while":
		return false
	}
	return true
}

// lookupPath resolves a lookup file against its base directory.
func lookupPath(l config.Lookup) string {
	if filepath.IsAbs(l.File) || l.BaseDir == "" {
		return l.File
	}
	return filepath.Join(l.BaseDir, l.File)
}
