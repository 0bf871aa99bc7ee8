package schema

import (
	"github.com/hamba/avro/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// AvroOf returns the parsed Avro schema of p, with its references resolved, or nil when p is not Avro.
func AvroOf(p Parsed) avro.Schema {
	if s, ok := p.(*avroSchema); ok {
		return s.schema
	}
	return nil
}

// ProtoOf returns the compiled file descriptor of p, its imports resolved, or nil when p is not Protobuf.
func ProtoOf(p Parsed) protoreflect.FileDescriptor {
	if s, ok := p.(*protoSchema); ok {
		return s.file
	}
	return nil
}

// JSONOf returns the document of a JSON schema (decoded as santhosh-tekuri/jsonschema decodes JSON: numbers
// are json.Number), the referenced documents by reference name, and the compiled schema that validates
// instances; zero values when p is not a JSON schema.
func JSONOf(p Parsed) (doc any, refs map[string]any, compiled *jsonschema.Schema) {
	if s, ok := p.(*jsonSchema); ok {
		return s.doc, s.refs, s.compiled
	}
	return nil, nil, nil
}
