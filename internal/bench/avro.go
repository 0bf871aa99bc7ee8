package bench

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/schema"
)

// registerAvro registers demo.AvroSchema under subject in store and returns its schema id.
func registerAvro(ctx context.Context, store *registry.Store, subject string) (int, error) {
	parsed, err := schema.Parse(schema.Avro, demo.AvroSchema, nil, nil)
	if err != nil {
		return 0, fmt.Errorf("parsing the demo event's Avro schema: %w", err)
	}
	v, _, err := store.Register(ctx, registry.Registration{Subject: subject, Type: schema.Avro, Text: demo.AvroSchema,
		Canonical: parsed.Canonical()})
	if err != nil {
		return 0, fmt.Errorf("registering the demo event's Avro schema under subject %s: %w", subject, err)
	}
	return v.ID, nil
}

// framedAvro encodes demo events as the Avro shape's record values: the schema registry's wire format (the
// magic byte 0, the schema id as 4 big-endian bytes) around demo.AppendAvro. It counts the bytes it wrote.
type framedAvro struct {
	id    uint32
	bytes int64
}

// encode appends e's framed record to dst; it is a demo.ProduceOptions.Encode.
func (f *framedAvro) encode(dst []byte, e demo.Event) []byte {
	n := len(dst)
	dst = binary.BigEndian.AppendUint32(append(dst, 0), f.id)
	dst = demo.AppendAvro(dst, e)
	f.bytes += int64(len(dst) - n)
	return dst
}
