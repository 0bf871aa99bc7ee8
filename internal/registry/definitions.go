package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// Definition is a staging-quality log definition kept in the registry: the latest live version of a subject
// named PREFIX + EVENT_TYPE, a JSON Schema.
type Definition struct {
	// Subject is the subject's name.
	Subject string
	// EventType is the subject's name without the prefix.
	EventType string
	// Version is the number of the subject's latest live version.
	Version int
	// ID is that version's schema id.
	ID int
	// Schema is the JSON Schema text as registered.
	Schema string
}

// DefinitionError reports a subject under a definitions prefix that cannot be a log definition.
type DefinitionError struct {
	Subject string
	// Reason says what is wrong with it.
	Reason string
}

func (e *DefinitionError) Error() string {
	return fmt.Sprintf("subject %q cannot be a log definition: %s", e.Subject, e.Reason)
}

// Definitions returns the log definitions under prefix: for every subject whose name starts with prefix and
// that has a live version, its latest live version, by subject name. Each must be a JSON Schema (schemaType
// JSON) without references, since a definition is one self-contained schema, and the subject's name must be
// longer than the prefix; otherwise the error is a *DefinitionError naming the subject. A subject deleted
// while they are read is left out. No subject under prefix is not an error: the result is empty.
func (s *Store) Definitions(ctx context.Context, prefix string) ([]Definition, error) {
	subjects, err := s.Subjects(ctx, prefix, false)
	if err != nil {
		return nil, fmt.Errorf("reading the log definitions under %q: %w", prefix, err)
	}
	out := []Definition{}
	for _, sub := range subjects {
		v, err := s.Version(ctx, sub, Latest, false)
		var nf *NotFoundError
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the log definitions under %q: %w", prefix, err)
		}
		eventType := strings.TrimPrefix(sub, prefix)
		switch {
		case eventType == "":
			return nil, &DefinitionError{Subject: sub, Reason: fmt.Sprintf("its name is the prefix %q itself, without an event type after it", prefix)}
		case v.Type != schema.JSON:
			return nil, &DefinitionError{Subject: sub, Reason: fmt.Sprintf("its latest version (%d) has schemaType %s; log definitions are JSON schemas (schemaType JSON)", v.Version, v.Type)}
		case len(v.References) > 0:
			refs := make([]string, len(v.References))
			for i, r := range v.References {
				refs[i] = fmt.Sprintf("%s version %d", r.Subject, r.Version)
			}
			return nil, &DefinitionError{Subject: sub, Reason: fmt.Sprintf("its latest version (%d) references other subjects (%s); a log definition is one self-contained schema ($ref only to its own #/$defs)",
				v.Version, strings.Join(refs, ", "))}
		}
		out = append(out, Definition{Subject: sub, EventType: eventType, Version: v.Version, ID: v.ID, Schema: v.Text})
	}
	return out, nil
}
