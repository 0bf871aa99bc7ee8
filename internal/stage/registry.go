package stage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/hamba/avro/v2"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/contract"
	"github.com/bigfather/bigfather/internal/registry/schema"
	"github.com/bigfather/bigfather/internal/registry/wire"
	"github.com/bigfather/bigfather/internal/row"
)

// Reason codes of registry-framed records, beside quality's.
const (
	// CodeNotFramed: the record does not start with the magic byte and a schema id.
	CodeNotFramed = "not_framed"
	// CodeUnknownSchema: the schema id is not in the registry, or not a version of the pipeline's subject.
	CodeUnknownSchema = "unknown_schema"
	// CodeUndecodable: the bytes do not decode with the schema the id names.
	CodeUndecodable = "undecodable"
	// CodeSchemaChange: the record's schema changes the table in a way it cannot take (schema_change: reject).
	CodeSchemaChange = "schema_change"
	// CodeContractViolation: the record fails a domain rule of the subject's data contract.
	CodeContractViolation = "contract_violation"
)

// SchemaIDColumn is the column of a registry-format table that holds the id of the schema each row was
// decoded with.
const SchemaIDColumn = "_schema_id"

// schemaBook decodes a registry pipeline's records: it fetches schemas by id from the registry and caches
// their decoders, knows which of them the table holds, and runs the subject's contract rules. It is shared by
// the engine's checkers, which run on several goroutines.
type schemaBook struct {
	store   *registry.Store
	subject string
	// cols are the base columns: the table's registry columns, then SchemaIDColumn; types the Iceberg types
	// of all but the last.
	cols  []config.Column
	types []iceberg.Type
	// refused holds, by schema id, why the table cannot take the schema (from lake.Follow).
	refused map[int]string
	// pauseOnChange: schema_change pause (else reject).
	pauseOnChange bool
	clean         *cleanser

	mu      sync.RWMutex
	entries map[int]*schemaEntry
}

// schemaEntry is what the book knows of one schema id.
type schemaEntry struct {
	dec   wire.Decoder
	rules *contract.Set // the domain rules of the schema's data contract
	// Exactly one of these may be set: records of the id are rejected with bad, block the pipeline with
	// change (schema_change: pause), or need the table evolved first (evolve).
	bad    *quality.Violation
	change *quality.Violation
	evolve bool
	// err is a registry that did not answer: not cached, and the session fails and retries.
	err error
}

// followedSchemas reads every version of the subject, in order, with its decoder's fields. It waits while
// the subject has no version, the pipeline failing meanwhile, until ctx ends.
type followed struct {
	ids     []int
	schemas []*iceberg.Schema
	decs    map[int]wire.Decoder
	bad     map[int]string // ids whose schema cannot become columns
}

func readSubject(ctx context.Context, store *registry.Store, subject string) (*followed, error) {
	vs, err := store.Versions(ctx, subject, true) // soft-deleted versions' records are still in Kafka
	if registry.CodeOf(err) == registry.CodeSubjectNotFound {
		return &followed{decs: map[int]wire.Decoder{}, bad: map[int]string{}}, nil // none yet: the caller waits
	}
	if err != nil {
		return nil, fmt.Errorf("reading the versions of subject %s: %w", subject, err)
	}
	f := &followed{decs: map[int]wire.Decoder{}, bad: map[int]string{}}
	for _, n := range vs {
		v, err := store.Version(ctx, subject, n, true)
		if err != nil {
			return nil, fmt.Errorf("reading subject %s version %d: %w", subject, n, err)
		}
		if _, seen := f.decs[v.ID]; seen || f.bad[v.ID] != "" {
			continue
		}
		dec, _, err := parseSchema(ctx, store, v.Schema)
		if err != nil {
			f.bad[v.ID] = err.Error()
			continue
		}
		f.ids = append(f.ids, v.ID)
		f.decs[v.ID] = dec
		f.schemas = append(f.schemas, iceberg.NewSchema(0, dec.Fields()...))
	}
	return f, nil
}

// parseSchema parses a registry schema, resolving its references in the store, and returns its decoder and
// the tags of its top-level fields (for field-level rules).
func parseSchema(ctx context.Context, store *registry.Store, sc registry.Schema) (wire.Decoder, contract.FieldTags, error) {
	resolve := func(ref schema.Reference) (string, []schema.Reference, error) {
		v, err := store.Version(ctx, ref.Subject, ref.Version, true)
		if err != nil {
			return "", nil, err
		}
		return v.Text, v.References, nil
	}
	p, err := schema.Parse(sc.Type, sc.Text, sc.References, resolve)
	if err != nil {
		return nil, nil, fmt.Errorf("schema id %d does not parse: %w", sc.ID, err)
	}
	dec, err := wire.New(p)
	if err != nil {
		return nil, nil, fmt.Errorf("schema id %d cannot become table columns: %w", sc.ID, err)
	}
	return dec, fieldTags(p, sc.Metadata), nil
}

// fieldTags collects the tags of a schema's top-level fields: the metadata's tags, whose paths name a field by
// their last segment ("Event.email", "**.email", "email"), and, in Avro and JSON Schema, a field's inline
// "confluent:tags" annotation.
func fieldTags(p schema.Parsed, md *registry.Metadata) contract.FieldTags {
	out := contract.FieldTags{}
	add := func(field string, tags ...string) {
		for _, t := range tags {
			if !slices.Contains(out[field], t) {
				out[field] = append(out[field], t)
			}
		}
	}
	if md != nil {
		for path, tags := range md.Tags {
			add(path[strings.LastIndexByte(path, '.')+1:], tags...)
		}
	}
	inline := func(field string, v any) {
		if list, ok := v.([]any); ok {
			for _, t := range list {
				if s, ok := t.(string); ok {
					add(field, s)
				}
			}
		}
	}
	if rec, ok := schema.AvroOf(p).(*avro.RecordSchema); ok {
		for _, f := range rec.Fields() {
			inline(f.Name(), f.Prop("confluent:tags"))
		}
	}
	if doc, _, _ := schema.JSONOf(p); doc != nil {
		if m, ok := doc.(map[string]any); ok {
			if props, ok := m["properties"].(map[string]any); ok {
				for name, prop := range props {
					if pm, ok := prop.(map[string]any); ok {
						inline(name, pm["confluent:tags"])
					}
				}
			}
		}
	}
	return out
}

// registryColumns are the base columns of a registry table: its fields that are neither Kafka metadata nor
// the transform's, in table order, then SchemaIDColumn.
func registryColumns(sc *iceberg.Schema, skip map[string]bool) ([]config.Column, []iceberg.Type) {
	var cols []config.Column
	var types []iceberg.Type
	for _, f := range sc.Fields() {
		if skip[f.Name] || f.Name == SchemaIDColumn {
			continue
		}
		cols = append(cols, config.Column{Name: f.Name, Type: config.ColumnType(lake.TypeName(f.Type))})
		types = append(types, f.Type)
	}
	return append(cols, config.Column{Name: SchemaIDColumn, Type: config.TypeInt}), types
}

// decode fills vals (one per base column) from a framed record. It returns evolve when the table must take
// the record's schema first, a violation when the record is refused, err when the registry did not answer
// (nothing about the record is known), or none of them.
func (b *schemaBook) decode(ctx context.Context, raw []byte, now time.Time, vals []row.Value) (evolve bool, v *quality.Violation, err error) {
	if b.clean.maxBytes > 0 && int64(len(raw)) > b.clean.maxBytes {
		return false, quality.Oversize(int64(len(raw)), b.clean.maxBytes), nil
	}
	id, rest, serr := wire.Split(raw)
	if serr != nil {
		return false, &quality.Violation{Code: CodeNotFramed, Reason: serr.Error()}, nil
	}
	e := b.entry(ctx, id)
	switch {
	case e.err != nil:
		return false, nil, e.err
	case e.bad != nil:
		return false, e.bad, nil
	case e.change != nil:
		return false, e.change, nil
	case e.evolve:
		return true, nil, nil
	}
	rec, derr := e.dec.Decode(rest)
	if derr != nil {
		return false, &quality.Violation{Code: CodeUndecodable, Reason: fmt.Sprintf("schema id %d: %v", id, derr)}, nil
	}
	b.clean.strings(rec)
	if cv := e.rules.Check(rec); cv != nil {
		return false, &quality.Violation{Code: CodeContractViolation, Field: cv.Rule, Reason: fmt.Sprintf("subject %s: %s", b.subject, cv.Reason)}, nil
	}
	last := len(b.cols) - 1
	for i, t := range b.types {
		if cerr := coerceColumn(rec[b.cols[i].Name], t, b.cols[i].Name, &vals[i]); cerr != nil {
			return false, &quality.Violation{Code: quality.CodeWrongType, Field: b.cols[i].Name, Reason: fmt.Sprintf("schema id %d: %v", id, cerr)}, nil
		}
	}
	vals[last] = row.Value{I: int64(id)}
	return false, b.clean.futureRule(b.cols, vals, now), nil
}

// entry returns what the book knows of id, fetching the schema on first sight.
func (b *schemaBook) entry(ctx context.Context, id int) *schemaEntry {
	b.mu.RLock()
	e := b.entries[id]
	b.mu.RUnlock()
	if e != nil {
		return e
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e = b.entries[id]; e != nil {
		return e
	}
	e = b.resolve(ctx, id)
	if e.err == nil {
		b.entries[id] = e
	}
	return e
}

func (b *schemaBook) resolve(ctx context.Context, id int) *schemaEntry {
	unknown := func(format string, args ...any) *schemaEntry {
		return &schemaEntry{bad: &quality.Violation{Code: CodeUnknownSchema, Reason: fmt.Sprintf(format, args...)}}
	}
	sc, err := b.store.Schema(ctx, id)
	if registry.CodeOf(err) == registry.CodeSchemaNotFound {
		return unknown("schema id %d is not in the schema registry", id)
	}
	if err != nil {
		return &schemaEntry{err: fmt.Errorf("schema id %d: reading the schema registry: %w", id, err)}
	}
	svs, err := b.store.SubjectVersions(ctx, id, true)
	if err != nil {
		return &schemaEntry{err: fmt.Errorf("schema id %d: reading the schema registry: %w", id, err)}
	}
	under := false
	for _, sv := range svs {
		under = under || sv.Subject == b.subject
	}
	if !under {
		return unknown("schema id %d is not a version of subject %s, which the pipeline's table follows", id, b.subject)
	}
	if why, ok := b.refused[id]; ok {
		return b.changed(id, why)
	}
	dec, tags, err := parseSchema(ctx, b.store, sc)
	if err != nil {
		return &schemaEntry{bad: &quality.Violation{Code: CodeUndecodable, Reason: err.Error()}}
	}
	rules, err := rulesOf(sc, tags)
	if err != nil {
		return &schemaEntry{bad: &quality.Violation{Code: CodeContractViolation, Reason: fmt.Sprintf("schema id %d: the data contract's rules do not compile: %v", id, err)}}
	}
	if !b.holds(dec.Fields()) {
		return &schemaEntry{dec: dec, rules: rules, evolve: true}
	}
	return &schemaEntry{dec: dec, rules: rules}
}

// changed is the entry of a schema the table cannot take.
func (b *schemaBook) changed(id int, why string) *schemaEntry {
	v := &quality.Violation{Code: CodeSchemaChange, Reason: fmt.Sprintf("schema id %d of subject %s changes the table in a way it cannot take: %s", id, b.subject, why)}
	if b.pauseOnChange {
		return &schemaEntry{change: v}
	}
	return &schemaEntry{bad: v}
}

// holds reports whether the table's columns hold every field of a schema as it is.
func (b *schemaBook) holds(fields []iceberg.NestedField) bool {
	for _, f := range fields {
		i := -1
		for j := range b.types {
			if b.cols[j].Name == f.Name {
				i = j
				break
			}
		}
		if i < 0 || !typeHolds(b.types[i], f.Type) {
			return false
		}
	}
	return true
}

// typeHolds reports whether a column of type table holds values of type writer unchanged: the same type, a
// narrower one Iceberg could promote (int in long, float in double, a decimal of lower precision and the
// same scale), or nested types whose every part holds.
func typeHolds(table, writer iceberg.Type) bool {
	switch t := table.(type) {
	case *iceberg.StructType:
		w, ok := writer.(*iceberg.StructType)
		if !ok {
			return false
		}
		for _, wf := range w.FieldList {
			i := slices.IndexFunc(t.FieldList, func(f iceberg.NestedField) bool { return f.Name == wf.Name })
			if i < 0 || !typeHolds(t.FieldList[i].Type, wf.Type) {
				return false
			}
		}
		return true
	case *iceberg.ListType:
		w, ok := writer.(*iceberg.ListType)
		return ok && typeHolds(t.Element, w.Element)
	case *iceberg.MapType:
		w, ok := writer.(*iceberg.MapType)
		return ok && t.KeyType.Equals(w.KeyType) && typeHolds(t.ValueType, w.ValueType)
	case iceberg.Int64Type:
		_, isInt := writer.(iceberg.Int32Type)
		return isInt || table.Equals(writer)
	case iceberg.Float64Type:
		_, isFloat := writer.(iceberg.Float32Type)
		return isFloat || table.Equals(writer)
	case iceberg.DecimalType:
		w, ok := writer.(iceberg.DecimalType)
		return ok && w.Scale() == t.Scale() && w.Precision() <= t.Precision()
	}
	return table.Equals(writer)
}

// rulesOf compiles the domain rules of a schema's data contract; tags are its fields' tags.
func rulesOf(sc registry.Schema, tags contract.FieldTags) (*contract.Set, error) {
	if sc.RuleSet == nil {
		return nil, nil
	}
	rules := make([]contract.Rule, 0, len(sc.RuleSet.DomainRules))
	for _, r := range sc.RuleSet.DomainRules {
		rules = append(rules, contract.Rule{Name: r.Name, Kind: r.Kind, Mode: r.Mode, Type: r.Type, Expr: r.Expr,
			OnFailure: r.OnFailure, Disabled: r.Disabled, Tags: r.Tags})
	}
	return contract.Compile(rules, tags)
}

// derivedNames are the columns the transform adds (derived and looked-up), which a registry table holds
// beside the subject's fields.
func derivedNames(p *config.Pipeline) map[string]bool {
	out := map[string]bool{}
	for _, m := range metaColumns {
		out[m.Name] = true
	}
	for _, d := range p.Enrich.Derive {
		out[d.Name] = true
	}
	for _, l := range p.Enrich.Lookups {
		for _, c := range l.Columns {
			out[c.Name] = true
		}
	}
	return out
}

// followSubject makes the main table follow the pipeline's subject (creating it from the first version) and
// returns the base columns. It waits, the pipeline failing in /healthz, while the subject has no version.
func (e *engine) followSubject(ctx context.Context, opts Options) ([]config.Column, error) {
	p := e.p
	if opts.Registry == nil {
		return nil, fmt.Errorf("pipeline %s: format %s needs the schema registry, which lives in the catalog database: use a sqlite:// or postgres:// catalog", p.Name, p.Format)
	}
	var fol *followed
	for waited := false; ; waited = true {
		var err error
		if fol, err = readSubject(ctx, opts.Registry, p.Subject); err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		if len(fol.ids) > 0 {
			break
		}
		if len(fol.bad) > 0 {
			for id, why := range fol.bad {
				return nil, fmt.Errorf("pipeline %s: no version of subject %s can become table columns: schema id %d: %s", p.Name, p.Subject, id, why)
			}
		}
		if !waited {
			e.log.Warn("waiting for the first version of the pipeline's subject", "subject", p.Subject)
			e.health.Failed(p.Name, fmt.Errorf("subject %s has no version yet: register a schema", p.Subject), time.Now())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	e.followed = fol
	skip := derivedNames(p)
	spec := tableSpec(p.Table.Name, nil, p.Table.Partitions)
	spec.Fields, spec.Owner = fol.schemas[0].Fields(), lake.Ownership{Pipeline: p.Name, Shared: p.Table.Shared}
	spec.Columns = append(spec.Columns, lake.Column{Name: SchemaIDColumn, Type: "int"})
	t, err := e.lk.EnsureTable(ctx, spec)
	if err != nil {
		return nil, err
	}
	t, refused, err := e.lk.Follow(ctx, t, fol.schemas)
	if err != nil {
		return nil, err
	}
	cols, types := registryColumns(t.Schema(), skip)
	e.book = &schemaBook{store: opts.Registry, subject: p.Subject, cols: cols, types: types,
		refused: map[int]string{}, pauseOnChange: p.SchemaChange != config.SchemaChangeReject, entries: map[int]*schemaEntry{},
		clean: newCleanser(p, cols)}
	for id, why := range fol.bad {
		e.book.refused[id] = why
	}
	for i, err := range refused {
		if err != nil {
			e.book.refused[fol.ids[i]] = err.Error()
			e.log.Warn("the table cannot take a version of its subject; its records will be held back", "subject", p.Subject,
				"schema_id", fol.ids[i], "reason", err, "schema_change", p.SchemaChange)
		}
	}
	e.regFields = nil
	for _, c := range cols[:len(cols)-1] {
		f, _ := t.Schema().FindFieldByName(c.Name)
		e.regFields = append(e.regFields, f)
	}
	return cols, nil
}

// registrySpec puts the subject's fields of a registry pipeline's table into spec as Iceberg fields (nested
// types have no column type name IcebergType reads).
func (e *engine) registrySpec(spec lake.TableSpec) lake.TableSpec {
	names := map[string]bool{}
	for _, f := range e.regFields {
		names[f.Name] = true
	}
	spec.Fields = e.regFields
	var cols []lake.Column
	for _, c := range spec.Columns {
		if !names[c.Name] {
			cols = append(cols, c)
		}
	}
	spec.Columns = cols
	return spec
}

// cleanser applies a pipeline's cleansing rules to a decoded registry record's top-level strings (trim, case,
// aliases) and its future-timestamp rule to the timestamp column, as the JSON checker does for JSON records.
// The typed formats need no coercion of numbers or epoch timestamps.
type cleanser struct {
	trim     bool
	fields   map[string]config.FieldCleanse
	future   int // base column of the future rule; -1 for none
	maxSkew  time.Duration
	clamp    bool
	maxBytes int64
}

func newCleanser(p *config.Pipeline, cols []config.Column) *cleanser {
	c := &cleanser{trim: p.Cleanse.Trim, fields: map[string]config.FieldCleanse{}, future: -1,
		maxSkew: p.Cleanse.Future.MaxSkew, clamp: p.Cleanse.Future.Action == "clamp", maxBytes: p.Limits.MaxRecordBytes}
	for _, f := range p.Cleanse.Fields {
		c.fields[f.Field] = f
	}
	if c.maxSkew > 0 {
		for i, col := range cols {
			if col.Name == p.Cleanse.Future.Field && col.Type == config.TypeTimestamp {
				c.future = i
			}
		}
	}
	return c
}

// strings cleanses the record's top-level strings in place.
func (c *cleanser) strings(rec map[string]any) {
	if !c.trim && len(c.fields) == 0 {
		return
	}
	for name, v := range rec {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if c.trim {
			s = strings.TrimSpace(s)
		}
		if f, ok := c.fields[name]; ok {
			switch f.Case {
			case "lower":
				s = strings.ToLower(s)
			case "upper":
				s = strings.ToUpper(s)
			}
			if canon, ok := f.Aliases[s]; ok {
				s = canon
			}
		}
		rec[name] = s
	}
}

// futureRule checks (or clamps) the future-timestamp column.
func (c *cleanser) futureRule(cols []config.Column, vals []row.Value, now time.Time) *quality.Violation {
	if c.future < 0 {
		return nil
	}
	v := &vals[c.future]
	if v.Null || v.I-now.UnixMicro() <= c.maxSkew.Microseconds() {
		return nil
	}
	if c.clamp {
		v.I = now.UnixMicro()
		return nil
	}
	name := cols[c.future].Name
	return &quality.Violation{Code: quality.CodeFutureTimestamp, Field: name, Reason: fmt.Sprintf("field %q: %s is %s ahead of now, more than the %s allowed",
		name, time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano), time.Duration(v.I-now.UnixMicro())*time.Microsecond, c.maxSkew)}
}
