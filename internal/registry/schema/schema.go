// Package schema parses, normalizes and compares the schemas the registry keeps: Avro, JSON Schema and
// Protobuf, with references, and decides compatibility between versions at Confluent's seven levels.
package schema

import (
	"errors"
	"fmt"
)

// Type is a schema type as the registry API names it (schemaType).
type Type string

// The schema types.
const (
	Avro     Type = "AVRO"
	JSON     Type = "JSON"
	Protobuf Type = "PROTOBUF"
)

// Types lists every schema type, as GET /schemas/types answers.
var Types = []Type{JSON, Protobuf, Avro}

// ParseType reads a schemaType value; empty means Avro, as in Confluent's API.
func ParseType(s string) (Type, error) {
	switch Type(s) {
	case "":
		return Avro, nil
	case Avro, JSON, Protobuf:
		return Type(s), nil
	}
	return "", fmt.Errorf("unknown schema type %q (expected AVRO, JSON or PROTOBUF)", s)
}

// Reference is a schema reference: a name the schema uses (an Avro full name, a JSON Schema $ref URL, a .proto
// import path) resolved to a version of a subject.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Level is a compatibility level.
type Level string

// The compatibility levels.
const (
	None               Level = "NONE"
	Backward           Level = "BACKWARD"
	BackwardTransitive Level = "BACKWARD_TRANSITIVE"
	Forward            Level = "FORWARD"
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL"
	FullTransitive     Level = "FULL_TRANSITIVE"
)

// Levels lists every compatibility level.
var Levels = []Level{None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive}

// ParseLevel reads a compatibility level.
func ParseLevel(s string) (Level, error) {
	for _, l := range Levels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown compatibility level %q (expected one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)", s)
}

// ErrInvalid wraps every error about a schema that does not parse (Confluent's 42201).
var ErrInvalid = errors.New("invalid schema")
