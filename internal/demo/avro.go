package demo

import (
	"encoding/binary"
	"math"
)

// AvroSchema is the Avro record schema of an Event, the fields in the order
// of the demo pipeline's declared columns. event_time is a timestamp-millis
// long; item_id, amount and currency, which only some event types carry, are
// unions with null (default null). AppendAvro writes records of it.
const AvroSchema = `{"type":"record","name":"GameEvent","namespace":"bigfather.demo","fields":[` +
	`{"name":"event_id","type":"string"},` +
	`{"name":"event_time","type":{"type":"long","logicalType":"timestamp-millis"}},` +
	`{"name":"player_id","type":"string"},` +
	`{"name":"event_type","type":"string"},` +
	`{"name":"level","type":"int"},` +
	`{"name":"item_id","type":["null","string"],"default":null},` +
	`{"name":"amount","type":["null","double"],"default":null},` +
	`{"name":"currency","type":["null","string"],"default":null},` +
	`{"name":"platform","type":"string"},` +
	`{"name":"country","type":"string"},` +
	`{"name":"client_seq","type":"long"}]}`

// AppendAvro appends e to dst as one record of AvroSchema in Avro's binary
// encoding (no container, no registry framing) and returns the extended
// buffer. It allocates nothing beyond growing dst. Like AppendJSON it leaves
// item_id, currency and amount null when empty or zero (and amount when not
// finite); event_time is milliseconds since the Unix epoch. Strings are
// written as they are.
func AppendAvro(dst []byte, e Event) []byte {
	dst = appendAvroString(dst, e.EventID)
	dst = binary.AppendVarint(dst, e.EventTime.UnixMilli())
	dst = appendAvroString(dst, e.PlayerID)
	dst = appendAvroString(dst, e.EventType)
	dst = binary.AppendVarint(dst, int64(int32(e.Level)))
	dst = appendAvroOptString(dst, e.ItemID)
	if e.Amount != 0 && !math.IsNaN(e.Amount) && !math.IsInf(e.Amount, 0) {
		dst = append(dst, avroSecondBranch)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.Amount))
	} else {
		dst = append(dst, avroNullBranch)
	}
	dst = appendAvroOptString(dst, e.Currency)
	dst = appendAvroString(dst, e.Platform)
	dst = appendAvroString(dst, e.Country)
	return binary.AppendVarint(dst, e.ClientSeq)
}

// The union branch indexes of ["null", T] as Avro writes them: a zig-zag
// varint long, 0 for null and 1 for T.
const (
	avroNullBranch   = 0x00
	avroSecondBranch = 0x02
)

// appendAvroString appends s as an Avro string: its length as a zig-zag
// varint, then its bytes. encoding/binary's varints are zig-zag encoded, as
// Avro's ints and longs are.
func appendAvroString(dst []byte, s string) []byte {
	dst = binary.AppendVarint(dst, int64(len(s)))
	return append(dst, s...)
}

// appendAvroOptString appends s as a ["null","string"] union: null when empty.
func appendAvroOptString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, avroNullBranch)
	}
	return appendAvroString(append(dst, avroSecondBranch), s)
}
