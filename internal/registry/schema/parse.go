package schema

import (
	"fmt"
)

// Parsed is a schema parsed together with its references.
type Parsed interface {
	// Type returns the schema type.
	Type() Type
	// Raw returns the text as registered.
	Raw() string
	// Canonical returns the normalized text: equal for the same schema written differently.
	Canonical() string
	// compat lists what stops reader from reading data written with writer (same type), each naming what
	// changed where.
	compat(writer Parsed) []string
}

// Resolver returns the text of a referenced schema and that schema's own references.
type Resolver func(ref Reference) (text string, refs []Reference, err error)

// maxRefDepth bounds reference chains so a cycle in references fails instead of recursing forever.
const maxRefDepth = 32

// Parse parses text as a schema of type t whose references refs are fetched with resolve (which may be nil when
// refs is empty). Errors about the schema itself wrap ErrInvalid and say what is wrong and where.
func Parse(t Type, text string, refs []Reference, resolve Resolver) (Parsed, error) {
	if len(refs) > 0 && resolve == nil {
		return nil, fmt.Errorf("%w: the schema has %d references but no resolver was given", ErrInvalid, len(refs))
	}
	switch t {
	case Avro:
		return parseAvro(text, refs, resolve)
	case JSON:
		return parseJSON(text, refs, resolve)
	case Protobuf:
		return parseProto(text, refs, resolve)
	}
	return nil, fmt.Errorf("%w: unknown schema type %q", ErrInvalid, t)
}

// Check returns, for candidate against the previous versions (oldest first) under level, the incompatibilities,
// each naming what changed where; nil means compatible. Transitive levels check every previous version, the
// others only the newest. BACKWARD means the candidate reads data written with a previous version, FORWARD that
// a previous version reads data written with the candidate, FULL both.
func Check(level Level, candidate Parsed, previous []Parsed) []string {
	if level == None || len(previous) == 0 {
		return nil
	}
	first := len(previous) - 1
	switch level {
	case BackwardTransitive, ForwardTransitive, FullTransitive:
		first = 0
	}
	backward := level == Backward || level == BackwardTransitive || level == Full || level == FullTransitive
	forward := level == Forward || level == ForwardTransitive || level == Full || level == FullTransitive
	var out []string
	for i := len(previous) - 1; i >= first; i-- {
		old := previous[i]
		which := "the previous version"
		if len(previous) > 1 {
			which = fmt.Sprintf("previous version %d of %d", i+1, len(previous))
		}
		if old.Type() != candidate.Type() {
			out = append(out, fmt.Sprintf("%s is of type %s and the new schema of type %s", which, old.Type(), candidate.Type()))
			continue
		}
		if backward {
			for _, m := range candidate.compat(old) {
				out = append(out, fmt.Sprintf("the new schema cannot read data written with %s: %s", which, m))
			}
		}
		if forward {
			for _, m := range old.compat(candidate) {
				out = append(out, fmt.Sprintf("%s cannot read data written with the new schema: %s", which, m))
			}
		}
	}
	return out
}
