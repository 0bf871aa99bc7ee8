package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// jsonBase is the URL a JSON schema without $id is compiled at; references resolve against it.
const jsonBase = "https://schema-registry.invalid/"

// jsonSchema is a parsed JSON Schema: the decoded document, validated against its meta-schema, and the decoded
// documents of its references by reference name.
//
// Its canonical form is the document written with object keys sorted and no whitespace.
type jsonSchema struct {
	raw       string
	canonical string
	doc       any
	refs      map[string]any
	compiled  *jsonschema.Schema
}

// Type returns JSON.
func (s *jsonSchema) Type() Type { return JSON }

// Raw returns the text as registered.
func (s *jsonSchema) Raw() string { return s.raw }

// Canonical returns the normalized text.
func (s *jsonSchema) Canonical() string { return s.canonical }

// refLoader serves a schema's references, by name, to the compiler: a URL is a reference's when it is the name
// or ends with "/" and the name (a relative name resolved against the schema's $id). Anything else is refused:
// a schema may use only its references and the built-in meta-schemas.
type refLoader map[string]any

// Load returns the referenced document at u.
func (l refLoader) Load(u string) (any, error) {
	if doc, ok := lookupRef(l, u); ok {
		return doc, nil
	}
	return nil, fmt.Errorf("%s is neither a reference of the schema nor a known meta-schema", u)
}

// lookupRef finds the referenced document u names: the reference named u, or the one whose name ends u's path.
func lookupRef(refs map[string]any, u string) (any, bool) {
	if doc, ok := refs[u]; ok {
		return doc, true
	}
	for name, doc := range refs {
		if strings.HasSuffix(u, "/"+strings.TrimPrefix(name, "./")) {
			return doc, true
		}
	}
	return nil, false
}

func decodeJSON(text string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader(text))
}

func parseJSON(text string, refs []Reference, resolve Resolver) (*jsonSchema, error) {
	if err := validJSON(text); err != nil {
		return nil, fmt.Errorf("%w: JSON Schema: %v", ErrInvalid, err)
	}
	doc, err := decodeJSON(text)
	if err != nil {
		return nil, fmt.Errorf("%w: JSON Schema: %v", ErrInvalid, err)
	}
	s := &jsonSchema{raw: text, doc: doc, refs: map[string]any{}}
	if err := s.addRefs(refs, resolve, nil); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refLoader(s.refs))
	c.DefaultDraft(jsonschema.Draft7) // Confluent's default when a schema names no $schema
	main := jsonBase + "schema.json"
	if err := c.AddResource(main, doc); err != nil {
		return nil, fmt.Errorf("%w: JSON Schema: %v", ErrInvalid, err)
	}
	compiled, err := c.Compile(main)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), fmt.Sprintf("%q", main+"#"), "the schema")
		msg = strings.ReplaceAll(msg, main, "the schema")
		return nil, fmt.Errorf("%w: JSON Schema: %s", ErrInvalid, msg)
	}
	canonical, err := canonicalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: JSON Schema: writing the canonical form: %v", ErrInvalid, err)
	}
	s.canonical, s.compiled = canonical, compiled
	return s, nil
}

// addRefs decodes the referenced schemas, depth first, and keeps them by name for the compiler and the
// compatibility checks. chain holds the references being resolved, to report cycles.
func (s *jsonSchema) addRefs(refs []Reference, resolve Resolver, chain []Reference) error {
	for _, ref := range refs {
		if slices.Contains(chain, ref) || len(chain) >= maxRefDepth {
			return fmt.Errorf("%w: reference %q (subject %q version %d) is part of a reference cycle", ErrInvalid, ref.Name, ref.Subject, ref.Version)
		}
		if _, ok := s.refs[ref.Name]; ok {
			continue
		}
		text, sub, err := resolve(ref)
		if err != nil {
			return fmt.Errorf("resolving reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
		doc, err := decodeJSON(text)
		if err != nil {
			return fmt.Errorf("%w: JSON Schema: referenced schema %q (subject %q version %d): %v", ErrInvalid, ref.Name, ref.Subject, ref.Version, err)
		}
		s.refs[ref.Name] = doc
		if err := s.addRefs(sub, resolve, append(chain, ref)); err != nil {
			return err
		}
	}
	return nil
}

// canonicalJSON writes v with object keys sorted and no whitespace.
func canonicalJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
