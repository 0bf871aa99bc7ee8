// Package row holds the in-memory form of one staged record that the pipeline stages share: typed column
// values plus the Kafka metadata of the record they came from.
package row

import "time"

// Value is one column value. Which field holds it depends on the column type: S for string and binary; I for
// long, int, boolean (0/1), timestamp (microseconds since the epoch, UTC) and date (days since the epoch); F
// for double and float; N for decimals (a *big.Int, the unscaled value at the column's scale) and nested
// columns (a Nested tree). Null marks a missing or null value.
type Value struct {
	Null bool
	I    int64
	F    float64
	S    []byte
	N    any
}

// Nested values, in N, are trees shaped like their column: a struct is a []any holding one value per field
// in the column's field order, a list a []any, a map a []any of alternating keys and values; the leaves are
// nil, bool, int64 (integers, timestamps in microseconds, dates in days), float64, string, []byte and
// *big.Int (decimals, unscaled).

// Meta is where a record came from. For records read from files (backfill) Topic is "backfill:<name>@<hash16>"
// (the file's name and the start of its content's SHA-256), Partition is 0 and Offset is the record's index in
// the file.
type Meta struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time // Kafka record timestamp; zero for files
	Key       []byte
	// Probe marks a monitor probe record (header ProbeHeader): its offset is committed like any record's, but
	// it becomes no row, is checked by nothing and counts nowhere.
	Probe bool
}

// ProbeHeader is the Kafka header that marks a probe record; its value is the pipeline that sent it.
const ProbeHeader = "bigfather-probe"
