package wire

import (
	"fmt"

	"github.com/apache/iceberg-go"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// Decoder decodes the payloads of one schema. It is safe for concurrent use.
type Decoder interface {
	// Decode decodes the bytes after the schema id (for Protobuf, the message indexes come first) into a
	// record. Errors say what is wrong where, such as "field score: ...".
	Decode(rest []byte) (map[string]any, error)
	// Fields are the table columns that hold the schema's records, in schema order, with ids numbered from 1
	// (tables assign their own).
	Fields() []iceberg.NestedField
}

// New returns the decoder of a parsed schema. It fails when the schema's top level is not a record (Avro),
// a message (Protobuf) or an object (JSON Schema), or when a part of it cannot become a table column.
func New(p schema.Parsed) (Decoder, error) {
	switch p.Type() {
	case schema.Avro:
		return newAvro(schema.AvroOf(p))
	case schema.Protobuf:
		return newProto(schema.ProtoOf(p))
	case schema.JSON:
		return newJSON(p)
	}
	return nil, fmt.Errorf("unknown schema type %q", p.Type())
}

// ids numbers the fields of a derived schema.
type ids struct{ next int }

func (n *ids) id() int { n.next++; return n.next }

func optional(n *ids, name string, t iceberg.Type, doc string) iceberg.NestedField {
	return iceberg.NestedField{ID: n.id(), Name: name, Type: t, Doc: doc}
}
