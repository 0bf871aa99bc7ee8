// Package wire reads records in the schema registry's wire format into trees of Go values, and derives the
// Iceberg schema a table needs to hold them.
//
// The framing is Confluent's: a zero magic byte, the schema id as a 4-byte big-endian integer, for Protobuf
// the message indexes (a zigzag varint count, then that many zigzag varint indexes; a single 0 byte stands for
// [0], the first message), then the payload in the schema's encoding: Avro binary, Protobuf binary, or JSON
// text for JSON Schema.
//
// # The value tree
//
// A decoded record is a map[string]any whose values are:
//
//   - nil (null, an absent optional field);
//   - bool;
//   - int64 (every integer type);
//   - float64 (float and double);
//   - string (strings, enum symbols, UUIDs);
//   - []byte (bytes and fixed);
//   - time.Time, UTC (timestamps; dates at midnight);
//   - *big.Rat (decimals);
//   - map[string]any (records, messages, objects);
//   - []any (arrays, repeated fields);
//   - Map (maps, whose keys are any of the scalars above).
//
// # Types
//
// Schema derives Iceberg fields, by name: Avro int → int, long → long, float, double, boolean, string,
// bytes and fixed → binary, enum → string, record → struct, array → list, map → map<string, V>, a union of
// null and one type → that type, optional; a union of several types → string holding the value as JSON;
// logical date → date, timestamp-* and local-timestamp-* → timestamp, decimal → decimal(P,S), uuid → string,
// time-* → long (microseconds). Protobuf int32, sint32, sfixed32 → int; int64, sint64, sfixed64, uint32,
// fixed32 → long; uint64 and fixed64 → decimal(20,0); float, double, bool, string; bytes → binary; enum →
// string (the value's name); message → struct; repeated → list; map → map; google.protobuf.Timestamp →
// timestamp; the wrapper types → their value, optional. JSON Schema string → string (format date-time →
// timestamp, date → date), integer → long, number → double, boolean, object with properties → struct, object
// with only additionalProperties → map<string, V>, array with items → list, and anything else (no type,
// several types, oneOf) → string holding the value as JSON.
//
// Every field is optional in the table: a later version may drop any of them, and a required column could
// not hold the rows written without it.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Entry is one key and value of a Map.
type Entry struct {
	Key   any
	Value any
}

// Map is a decoded map, its entries in the order they were read.
type Map []Entry

// magic is the first byte of every registry-framed record.
const magic = 0

// ErrNotFramed marks a record that is not in the registry's wire format.
var ErrNotFramed = errors.New("not in the schema registry wire format")

// Split returns the schema id of a framed record and the bytes after it.
func Split(raw []byte) (id int, rest []byte, err error) {
	switch {
	case len(raw) == 0:
		return 0, nil, fmt.Errorf("%w: the record is empty, expected a zero magic byte and a 4-byte schema id", ErrNotFramed)
	case raw[0] != magic:
		return 0, nil, fmt.Errorf("%w: the first byte is 0x%02x, expected the magic byte 0x00", ErrNotFramed, raw[0])
	case len(raw) < 5:
		return 0, nil, fmt.Errorf("%w: the record is %d bytes, too short for the magic byte and a 4-byte schema id", ErrNotFramed, len(raw))
	}
	return int(binary.BigEndian.Uint32(raw[1:5])), raw[5:], nil
}

// maxIndexes bounds the message index path of a Protobuf record: nesting deeper than this is not a schema.
const maxIndexes = 100

// SplitIndexes reads the Protobuf message indexes at the start of rest (after Split).
func SplitIndexes(rest []byte) (indexes []int, payload []byte, err error) {
	n, size := binary.Varint(rest)
	if size <= 0 {
		return nil, nil, fmt.Errorf("%w: the Protobuf message indexes are cut short", ErrNotFramed)
	}
	rest = rest[size:]
	if n == 0 {
		return []int{0}, rest, nil
	}
	if n < 0 || n > maxIndexes {
		return nil, nil, fmt.Errorf("%w: %d Protobuf message indexes, expected 0 to %d", ErrNotFramed, n, maxIndexes)
	}
	indexes = make([]int, n)
	for i := range indexes {
		v, size := binary.Varint(rest)
		if size <= 0 || v < 0 {
			return nil, nil, fmt.Errorf("%w: Protobuf message index %d of %d is cut short or negative", ErrNotFramed, i+1, n)
		}
		indexes[i], rest = int(v), rest[size:]
	}
	return indexes, rest, nil
}

// Frame writes a framed record: the magic byte, id and, for Protobuf, the message indexes (nil for other
// formats), then payload. Tests and the demo producer use it.
func Frame(id int, indexes []int, payload []byte) []byte {
	out := make([]byte, 5, 5+len(payload)+8)
	binary.BigEndian.PutUint32(out[1:], uint32(id))
	switch {
	case indexes == nil:
	case len(indexes) == 1 && indexes[0] == 0:
		out = append(out, 0)
	default:
		out = binary.AppendVarint(out, int64(len(indexes)))
		for _, i := range indexes {
			out = binary.AppendVarint(out, int64(i))
		}
	}
	return append(out, payload...)
}
