package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// avroSchema is a parsed Avro schema.
//
// Its canonical form is the schema as the parser understands it (names fully qualified, references to named
// types resolved, every attribute in its normal spelling) written as JSON with object keys sorted and no
// whitespace. Unlike the Avro spec's Parsing Canonical Form it keeps defaults, aliases, doc, order, logical
// types and custom properties: two schemas differing in a default resolve data differently, so they must not
// be taken for the same schema.
type avroSchema struct {
	raw       string
	canonical string
	schema    avro.Schema
}

// Type returns Avro.
func (s *avroSchema) Type() Type { return Avro }

// Raw returns the text as registered.
func (s *avroSchema) Raw() string { return s.raw }

// Canonical returns the normalized text.
func (s *avroSchema) Canonical() string { return s.canonical }

func parseAvro(text string, refs []Reference, resolve Resolver) (*avroSchema, error) {
	if err := validJSON(text); err != nil {
		return nil, fmt.Errorf("%w: Avro: %v", ErrInvalid, err)
	}
	cache := &avro.SchemaCache{}
	if err := addAvroRefs(cache, refs, resolve, nil); err != nil {
		return nil, err
	}
	sc, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		return nil, fmt.Errorf("%w: Avro: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "avro: "))
	}
	canonical, err := canonicalAvro(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: Avro: writing the canonical form: %v", ErrInvalid, err)
	}
	return &avroSchema{raw: text, canonical: canonical, schema: sc}, nil
}

// addAvroRefs parses the referenced schemas, depth first, into cache so the named types they define can be used
// by name. chain holds the references being resolved, to report cycles.
func addAvroRefs(cache *avro.SchemaCache, refs []Reference, resolve Resolver, chain []Reference) error {
	for _, ref := range refs {
		if slices.Contains(chain, ref) || len(chain) >= maxRefDepth {
			return fmt.Errorf("%w: reference %q (subject %q version %d) is part of a reference cycle", ErrInvalid, ref.Name, ref.Subject, ref.Version)
		}
		text, sub, err := resolve(ref)
		if err != nil {
			return fmt.Errorf("resolving reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
		if err := addAvroRefs(cache, sub, resolve, append(chain, ref)); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(text, "", cache); err != nil {
			return fmt.Errorf("%w: Avro: referenced schema %q (subject %q version %d): %v", ErrInvalid, ref.Name, ref.Subject, ref.Version, err)
		}
	}
	return nil
}

// validJSON reports where text is not JSON.
func validJSON(text string) error {
	var v any
	err := json.Unmarshal([]byte(text), &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("not valid JSON at byte %d: %v", syn.Offset, err)
	}
	if err != nil {
		return fmt.Errorf("not valid JSON: %v", err)
	}
	return nil
}

// canonicalAvro writes sc as JSON with sorted keys and no whitespace.
func canonicalAvro(sc avro.Schema) (string, error) {
	b, err := json.Marshal(sc)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	b, err = json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *avroSchema) compat(writer Parsed) []string {
	w, ok := writer.(*avroSchema)
	if !ok {
		return []string{fmt.Sprintf("the schema types differ (%s and %s)", s.Type(), writer.Type())}
	}
	c := &avroChecker{seen: map[[2]string]bool{}}
	c.match(s.schema, w.schema, "")
	return c.out
}

// avroChecker applies the Avro specification's schema resolution rules, collecting what fails. hamba/avro's
// SchemaCompatibility gives the same verdicts (the tests check it case by case) but one message at most, without
// a location, and it caches verdicts by Parsing Canonical Form fingerprint, which ignores defaults and aliases;
// this checker says what changed where for every incompatibility.
type avroChecker struct {
	seen map[[2]string]bool // reader/writer record pairs being compared, for recursive types
	out  []string
}

func (c *avroChecker) fail(path, format string, args ...any) {
	if path == "" {
		path = "/"
	}
	c.out = append(c.out, fmt.Sprintf("at %s: ", path)+fmt.Sprintf(format, args...))
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// avroTypeName names a schema for messages: a primitive's type, a named type's full name, or the structure.
func avroTypeName(s avro.Schema) string {
	s = deref(s)
	switch t := s.(type) {
	case avro.NamedSchema:
		return fmt.Sprintf("%s %s", t.Type(), t.FullName())
	case *avro.ArraySchema:
		return "array of " + avroTypeName(t.Items())
	case *avro.MapSchema:
		return "map of " + avroTypeName(t.Values())
	case *avro.UnionSchema:
		names := make([]string, 0, len(t.Types()))
		for _, b := range t.Types() {
			names = append(names, avroTypeName(b))
		}
		return "union [" + strings.Join(names, ", ") + "]"
	}
	return string(s.Type())
}

// avroPromotions lists, for each writer primitive, the reader primitives it can be promoted to (Avro spec,
// schema resolution).
var avroPromotions = map[avro.Type][]avro.Type{
	avro.Int:    {avro.Long, avro.Float, avro.Double},
	avro.Long:   {avro.Float, avro.Double},
	avro.Float:  {avro.Double},
	avro.String: {avro.Bytes},
	avro.Bytes:  {avro.String},
}

// namesMatch reports whether a reader named type resolves a writer one: the same unqualified name (the
// specification's rule, as Confluent applies it) or a reader alias naming the writer.
func namesMatch(r, w avro.NamedSchema) bool {
	if r.Name() == w.Name() || r.FullName() == w.FullName() {
		return true
	}
	return slices.Contains(r.Aliases(), w.FullName())
}

// readable reports, without recording anything, whether reader reads data written with writer.
func (c *avroChecker) readable(reader, writer avro.Schema) bool {
	sub := &avroChecker{seen: c.seen}
	sub.match(reader, writer, "")
	return len(sub.out) == 0
}

// match checks that reader reads data written with writer; path locates them in the schema.
func (c *avroChecker) match(reader, writer avro.Schema, path string) {
	reader, writer = deref(reader), deref(writer)
	if wu, ok := writer.(*avro.UnionSchema); ok {
		// Every branch the writer may have written must be readable.
		for _, b := range wu.Types() {
			if ru, ok := reader.(*avro.UnionSchema); ok {
				if !c.unionHas(ru, b) {
					if same := sameKind(ru, b); same != nil {
						c.match(same, b, path)
						continue
					}
					c.fail(path, "the writer's union branch %s is missing from the reader's %s", avroTypeName(b), avroTypeName(ru))
				}
				continue
			}
			if !c.readable(reader, b) {
				c.fail(path, "the writer's union branch %s cannot be read as the reader's %s", avroTypeName(b), avroTypeName(reader))
			}
		}
		return
	}
	if ru, ok := reader.(*avro.UnionSchema); ok {
		if !c.unionHas(ru, writer) {
			if same := sameKind(ru, writer); same != nil {
				c.match(same, writer, path)
				return
			}
			c.fail(path, "the writer's %s matches no branch of the reader's %s", avroTypeName(writer), avroTypeName(ru))
		}
		return
	}
	if reader.Type() != writer.Type() {
		if slices.Contains(avroPromotions[writer.Type()], reader.Type()) {
			return
		}
		c.fail(path, "the reader's type %s does not match the writer's type %s", avroTypeName(reader), avroTypeName(writer))
		return
	}
	switch r := reader.(type) {
	case *avro.RecordSchema:
		c.record(r, writer.(*avro.RecordSchema), path)
	case *avro.EnumSchema:
		w := writer.(*avro.EnumSchema)
		if !namesMatch(r, w) {
			c.fail(path, "the reader's enum name %q does not match the writer's %q", r.FullName(), w.FullName())
			return
		}
		for _, sym := range w.Symbols() {
			if !slices.Contains(r.Symbols(), sym) && !r.HasDefault() {
				c.fail(path, "the writer's symbol %q is missing from the reader's enum %s, which has no default", sym, r.FullName())
			}
		}
	case *avro.FixedSchema:
		w := writer.(*avro.FixedSchema)
		if !namesMatch(r, w) {
			c.fail(path, "the reader's fixed name %q does not match the writer's %q", r.FullName(), w.FullName())
			return
		}
		if r.Size() != w.Size() {
			c.fail(path, "the reader's fixed %s has size %d and the writer's %d", r.FullName(), r.Size(), w.Size())
		}
	case *avro.ArraySchema:
		c.match(r.Items(), writer.(*avro.ArraySchema).Items(), path+"/items")
	case *avro.MapSchema:
		c.match(r.Values(), writer.(*avro.MapSchema).Values(), path+"/values")
	}
}

// unionHas reports whether some branch of the reader's union reads the writer's (non-union) schema.
func (c *avroChecker) unionHas(ru *avro.UnionSchema, w avro.Schema) bool {
	for _, b := range ru.Types() {
		if c.readable(b, w) {
			return true
		}
	}
	return false
}

// sameKind returns the reader union's branch of the same type as w (and the same name, for a named type), the
// branch whose differences explain why w cannot be read; nil if there is none.
func sameKind(ru *avro.UnionSchema, w avro.Schema) avro.Schema {
	w = deref(w)
	for _, b := range ru.Types() {
		b = deref(b)
		if b.Type() != w.Type() {
			continue
		}
		rn, rok := b.(avro.NamedSchema)
		wn, wok := w.(avro.NamedSchema)
		if !rok || !wok || namesMatch(rn, wn) {
			return b
		}
	}
	return nil
}

func (c *avroChecker) record(r, w *avro.RecordSchema, path string) {
	if !namesMatch(r, w) {
		c.fail(path, "the reader's record name %q does not match the writer's %q", r.FullName(), w.FullName())
		return
	}
	// A pair already being compared further up is a recursive type: it is compatible if the rest is.
	key := [2]string{r.FullName(), w.FullName()}
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	defer delete(c.seen, key)
	for _, rf := range r.Fields() {
		fpath := path + "/" + rf.Name()
		wf := writerField(w, rf)
		if wf == nil {
			if !rf.HasDefault() {
				c.fail(fpath, "reader's field %q (%s) has no default and the writer has no such field", rf.Name(), avroTypeName(rf.Type()))
			}
			continue
		}
		c.match(rf.Type(), wf.Type(), fpath)
	}
}

// writerField finds the writer's field a reader field reads: by name, else by one of the reader field's aliases.
func writerField(w *avro.RecordSchema, rf *avro.Field) *avro.Field {
	for _, wf := range w.Fields() {
		if wf.Name() == rf.Name() {
			return wf
		}
	}
	for _, wf := range w.Fields() {
		if slices.Contains(rf.Aliases(), wf.Name()) {
			return wf
		}
	}
	return nil
}
