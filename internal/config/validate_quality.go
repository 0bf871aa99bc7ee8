package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// This file checks the staging-quality settings of quality.go. CEL
// expressions are only checked for being present; the transform package
// compiles them.

var filterNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fillDefaults gives a pipeline built in Go the defaults the key specs give
// absent YAML keys, wherever it left a value zero. Feature blocks that are off
// stay off.
func fillDefaults(p *Pipeline) {
	if p.Definitions.Enabled() {
		def := specDefaults(definitionsKeys)
		fill(&p.Definitions.SelectBy, def.SelectBy)
		fill(&p.Definitions.Unknown, def.Unknown)
	}
	lim := specDefaults(limitsKeys)
	fill(&p.Limits.MaxRecordBytes, lim.MaxRecordBytes)
	fill(&p.Limits.MaxDepth, lim.MaxDepth)
	fill(&p.OnReject.Policy, specDefaults(onRejectKeys).Policy)
	fut := specDefaults(futureKeys)
	fill(&p.Cleanse.Future.Field, fut.Field)
	fill(&p.Cleanse.Future.Action, fut.Action)
	if p.Dedup.Enabled() {
		dd := specDefaults(dedupKeys)
		fill(&p.Dedup.Window, dd.Window)
		fill(&p.Dedup.TimeField, dd.TimeField)
	}
}

// fill sets *v to def when *v is zero.
func fill[V comparable](v *V, def V) {
	var zero V
	if *v == zero {
		*v = def
	}
}

// fields checks field references against a pipeline's declared columns.
type fields struct {
	v        *validator
	declared map[string]bool // nil: do not check (definitions configured, or columns broken)
}

// ref checks that the field at path names a declared column.
func (f fields) ref(path, name string) {
	switch {
	case f.v.broken(path):
	case strings.TrimSpace(name) == "":
		f.v.fail(path, "must not be empty")
	case f.declared != nil && !f.declared[name]:
		f.v.fail(path, "field %q is not a declared column", name)
	}
}

// quality checks the staging-quality settings of p. defs says definitions are
// configured, so field references are left to the schemas.
func (v *validator) quality(p *Pipeline, path string, defs bool) {
	f := fields{v: v}
	if !defs && !v.broken(path+".table.columns") {
		f.declared = map[string]bool{}
		for _, c := range p.Table.Columns {
			f.declared[c.Name] = true
		}
	}
	v.definitions(p.Definitions, path+".definitions")
	v.limits(p.Limits, path+".limits")
	v.onReject(p, path+".on_reject")
	v.cleanse(p.Cleanse, path+".cleanse", f)
	v.enrich(p, path, f)
	v.filters(p.Filters, path+".filters")
	v.dedup(p.Dedup, path+".dedup", f)
	v.routes(p, path)
	v.completeness(p.Completeness, path+".completeness", f)
}

func (v *validator) definitions(d Definitions, path string) {
	if !d.Enabled() && !v.present(path) {
		return
	}
	fromRegistry := d.Registry.Enabled() || v.present(path+".registry") || v.broken(path+".registry")
	switch {
	case len(d.Files) > 0 || fromRegistry || v.broken(path):
	case v.present(path + ".files"):
		v.fail(path+".files", "at least one definition file is required (or take the definitions from the schema registry with definitions.registry)")
	default:
		v.fail(path+".files", "missing required key (or take the definitions from the schema registry with definitions.registry)")
	}
	if fromRegistry {
		v.definitionsRegistry(d.Registry, path+".registry")
	}
	for i, file := range d.Files {
		fp := fmt.Sprintf("%s.files[%d]", path, i)
		if j := slices.Index(d.Files[:i], file); j >= 0 {
			v.fail(fp, "duplicate definition file %q (also files[%d])", file, j)
			continue
		}
		v.file(fp, "definition", d.BaseDir, file)
	}
	if strings.TrimSpace(d.SelectBy) == "" && !v.broken(path+".select_by") {
		v.fail(path+".select_by", "must not be empty")
	}
	if d.Unknown != "reject" && d.Unknown != "pass" && !v.broken(path+".unknown") {
		v.fail(path+".unknown", "unknown %q (expected reject or pass)", d.Unknown)
	}
}

// definitionsRegistry checks the registry source of definitions: a subject prefix, and a catalog database
// for the registry to live in.
func (v *validator) definitionsRegistry(r DefinitionsRegistry, path string) {
	if !v.broken(path+".subject_prefix") && strings.TrimSpace(r.SubjectPrefix) == "" {
		v.fail(path+".subject_prefix", "must not be empty (subjects are named PREFIX + EVENT_TYPE)")
	}
	if v.broken(path) {
		return
	}
	switch u, err := url.Parse(v.c.Catalog.URI); {
	case err != nil:
		// catalog.uri reports it.
	case u.Scheme == "http" || u.Scheme == "https":
		v.fail(path, "the schema registry lives in the catalog database, which a REST catalog does not give; "+
			"use a sqlite:// or postgres:// catalog.uri, or definitions.files")
	}
}

// file checks that the file name, relative to base unless absolute, exists;
// what names the kind of file in messages.
func (v *validator) file(path, what, base, name string) {
	if v.broken(path) {
		return
	}
	if strings.TrimSpace(name) == "" {
		v.fail(path, "must not be empty")
		return
	}
	full := name
	if !filepath.IsAbs(name) {
		full = filepath.Join(base, name)
	}
	info, err := os.Stat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.fail(path, "%s file %q does not exist", what, name)
	case err != nil:
		v.fail(path, "%s file %q cannot be read (%v)", what, name, err)
	case info.IsDir():
		v.fail(path, "%s file %q is a directory", what, name)
	}
}

func (v *validator) limits(l Limits, path string) {
	if l.MaxRecordBytes <= 0 && !v.broken(path+".max_record_bytes") {
		v.fail(path+".max_record_bytes", "must be a positive size, got %d", l.MaxRecordBytes)
	}
	switch {
	case v.broken(path + ".max_depth"):
	case l.MaxDepth <= 0:
		v.fail(path+".max_depth", "must be a positive integer, got %d", l.MaxDepth)
	case l.MaxDepth > MaxDepthLimit:
		v.fail(path+".max_depth", "must be at most %d, the deepest nesting the JSON parser reads, got %d", MaxDepthLimit, l.MaxDepth)
	}
}

func (v *validator) onReject(p *Pipeline, path string) {
	o := p.OnReject
	policies := []string{PolicyDLQ, PolicySkip, PolicyPause}
	known := slices.Contains(policies, o.Policy)
	if !known && !v.broken(path+".policy") {
		v.fail(path+".policy", "unknown policy %q (expected one of: %s)", o.Policy, strings.Join(policies, ", "))
	}
	tp := path + ".dlq_topic"
	switch t := o.DLQTopic; {
	case t == "" || v.broken(tp):
	case o.Policy != PolicyDLQ && known:
		v.fail(tp, "dlq_topic is only allowed with policy dlq (policy is %q)", o.Policy)
	case !topicNameRe.MatchString(t) || t == "." || t == ".." || len(t) > 249:
		v.fail(tp, "invalid topic name %q (expected up to 249 letters, digits, '.', '_' or '-')", t)
	case slices.Contains(p.Topics, t):
		v.fail(tp, "DLQ topic %q is also a topic this pipeline consumes", t)
	}
}

func (v *validator) cleanse(c Cleanse, path string, f fields) {
	for i, rule := range c.Fields {
		rp := fmt.Sprintf("%s.fields[%d]", path, i)
		f.ref(rp+".field", rule.Field)
		for j, prev := range c.Fields[:i] {
			if prev.Field == rule.Field && rule.Field != "" {
				v.fail(rp+".field", "duplicate rule for field %q (also fields[%d])", rule.Field, j)
				break
			}
		}
		if rule.Case != "" && rule.Case != "lower" && rule.Case != "upper" && !v.broken(rp+".case") {
			v.fail(rp+".case", "unknown case %q (expected lower or upper)", rule.Case)
		}
	}
	fp := path + ".future"
	if c.Future.Action != "reject" && c.Future.Action != "clamp" && !v.broken(fp+".action") {
		v.fail(fp+".action", "unknown action %q (expected reject or clamp)", c.Future.Action)
	}
	switch {
	case c.Future.MaxSkew < 0:
		v.fail(fp+".max_skew", "must not be negative, got %s", c.Future.MaxSkew)
	case c.Future.MaxSkew > 0:
		f.ref(fp+".field", c.Future.Field)
	}
}

// enrich checks derived and lookup columns. Every column they add must have a
// new name: not a declared column, not a reserved one, not added twice.
func (v *validator) enrich(p *Pipeline, path string, f fields) {
	added := map[string]string{} // lower-cased name -> where it is defined, relative to the pipeline
	for i, c := range p.Table.Columns {
		if _, dup := added[strings.ToLower(c.Name)]; !dup {
			added[strings.ToLower(c.Name)] = fmt.Sprintf("table.columns[%d]", i)
		}
	}
	column := func(cp, rel string, c Column) {
		lower := strings.ToLower(c.Name)
		switch {
		case v.broken(cp + ".name"):
		case !columnNameRe.MatchString(c.Name):
			v.fail(cp+".name", "invalid column name %q (expected letters, digits and _, not starting with a digit)", c.Name)
		case slices.Contains(reservedColumns, lower):
			v.fail(cp+".name", "column name %q is reserved (the pipeline adds %s itself)", c.Name, strings.Join(reservedColumns, ", "))
		case added[lower] != "":
			v.fail(cp+".name", "duplicate column name %q (also %s)", c.Name, added[lower])
		default:
			added[lower] = rel
		}
		if !slices.Contains(columnTypes, c.Type) && !v.broken(cp+".type") {
			v.fail(cp+".type", "unknown column type %q (expected one of: %s)", c.Type, joinTypes(columnTypes))
		}
	}

	for i, d := range p.Enrich.Derive {
		rel := fmt.Sprintf("enrich.derive[%d]", i)
		dp := path + "." + rel
		column(dp, rel, Column{Name: d.Name, Type: d.Type})
		if strings.TrimSpace(d.Expr) == "" && !v.broken(dp+".expr") {
			v.fail(dp+".expr", "must not be empty")
		}
	}
	for i := range p.Enrich.Lookups {
		l := &p.Enrich.Lookups[i]
		rel := fmt.Sprintf("enrich.lookups[%d]", i)
		lp := path + "." + rel
		v.file(lp+".file", "lookup", l.BaseDir, l.File)
		f.ref(lp+".key", l.Key)
		if l.KeyColumn == "" {
			l.KeyColumn = l.Key
		}
		if len(l.Columns) == 0 && !v.broken(lp) {
			v.fail(lp+".columns", "at least one column is required")
		}
		for j, c := range l.Columns {
			crel := fmt.Sprintf("%s.columns[%d]", rel, j)
			column(path+"."+crel, crel, c)
		}
	}
}

func (v *validator) filters(fs []Filter, path string) {
	for i, f := range fs {
		fp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case v.broken(fp + ".name"):
		case !filterNameRe.MatchString(f.Name):
			v.fail(fp+".name", "invalid filter name %q (expected letters, digits, '_' or '-')", f.Name)
		default:
			for j, prev := range fs[:i] {
				if prev.Name == f.Name {
					v.fail(fp+".name", "duplicate filter name %q (also filters[%d])", f.Name, j)
					break
				}
			}
		}
		if strings.TrimSpace(f.Drop) == "" && !v.broken(fp+".drop") {
			v.fail(fp+".drop", "must not be empty")
		}
	}
}

func (v *validator) dedup(d Dedup, path string, f fields) {
	if !d.Enabled() && !v.present(path) {
		return
	}
	f.ref(path+".field", d.Field)
	if d.Window <= 0 && !v.broken(path+".window") {
		v.fail(path+".window", "must be a positive duration, got %s", d.Window)
	}
	f.ref(path+".time_field", d.TimeField)
}

// routes checks p's routes on their own; routeTables checks them against other pipelines.
func (v *validator) routes(p *Pipeline, path string) {
	own, rejected := p.Table.Name, p.Table.Name+"_rejected"
	for i, r := range p.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", path, i)
		switch tp := rp + ".table"; {
		case v.broken(tp):
		case !tableNameRe.MatchString(r.Table):
			v.fail(tp, "invalid table name %q (expected namespace.table, each part [a-z_][a-z0-9_]*)", r.Table)
		case r.Table == own:
			v.fail(tp, "route table %q is the pipeline's own table", r.Table)
		case r.Table == rejected:
			v.fail(tp, "route table %q is the pipeline's table for rejected records", r.Table)
		default:
			for j, prev := range p.Routes[:i] {
				if prev.Table == r.Table {
					v.fail(tp, "duplicate route table %q (also routes[%d])", r.Table, j)
					break
				}
			}
		}

		hasWhen := r.When != "" || v.present(rp+".when")
		hasTypes := r.EventTypes != nil || v.present(rp+".event_types")
		switch {
		case v.broken(rp+".when") || v.broken(rp+".event_types"):
		case hasWhen && hasTypes:
			at := rp + ".event_types"
			if v.c.line(rp+".when") > v.c.line(at) {
				at = rp + ".when"
			}
			v.fail(at, "a route takes when or event_types, not both")
		case hasWhen:
			if strings.TrimSpace(r.When) == "" {
				v.fail(rp+".when", "must not be empty")
			}
		case hasTypes && !p.Definitions.Enabled():
			if !v.broken(path + ".definitions") {
				v.fail(rp+".event_types", "event_types needs definitions (set definitions.files or definitions.registry)")
			}
		case hasTypes:
			v.eventTypes(r.EventTypes, rp+".event_types")
		default:
			v.fail(rp, "a route needs when or event_types")
		}
	}
}

func (v *validator) eventTypes(types []string, path string) {
	if len(types) == 0 {
		v.fail(path, "at least one event type is required")
	}
	for i, t := range types {
		tp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case strings.TrimSpace(t) == "":
			v.fail(tp, "must not be empty")
		case slices.Contains(types[:i], t):
			v.fail(tp, "duplicate event type %q", t)
		}
	}
}

func (v *validator) completeness(c Completeness, path string, f fields) {
	if !c.Enabled() && !v.present(path) {
		// Set in Go with only one of the two: the YAML specs require both.
		switch {
		case c.ProducerField != "":
			v.fail(path+".seq_field", "must be set together with producer_field")
		case c.SeqField != "":
			v.fail(path+".producer_field", "must be set together with seq_field")
		}
		return
	}
	f.ref(path+".producer_field", c.ProducerField)
	f.ref(path+".seq_field", c.SeqField)
	if c.SeqField == c.ProducerField && c.SeqField != "" {
		v.fail(path+".seq_field", "must differ from producer_field")
	}
}
