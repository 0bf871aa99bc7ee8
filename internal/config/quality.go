package config

import "time"

// Definitions are a pipeline's log definitions: one JSON Schema (draft 2020-12) per event type (yaml: definitions).
// They come from files, from the schema registry, or both; an event type defined twice is an error when the
// pipeline starts.
type Definitions struct {
	// SelectBy is the record field whose value picks the definition, default "event_type" (yaml: select_by).
	SelectBy string
	// Files are the JSON Schema files, relative to the config file's directory (yaml: files). Each file's
	// "title" (or, without one, the file name without .json) is the event type it defines; a "version"
	// (integer) keyword at the top level is its version, default 1.
	Files []string
	// Registry takes definitions from the schema registry in the catalog database (yaml: registry).
	Registry DefinitionsRegistry
	// Unknown is what happens to an event type without a definition: "reject" (default) or "pass" (yaml: unknown).
	Unknown string
	// BaseDir is the directory Files are relative to (the config file's directory); not a YAML key.
	BaseDir string
}

// Enabled reports whether log definitions are configured, from files or the schema registry.
func (d Definitions) Enabled() bool { return len(d.Files) > 0 || d.Registry.Enabled() }

// DefinitionsRegistry selects the schema registry subjects that are log definitions. Each subject named
// SubjectPrefix + EVENT_TYPE defines EVENT_TYPE with its latest version, which must be a JSON Schema (schemaType
// JSON) without references; that version's number is the definition's version. The subjects are read when
// staging starts, so a new version takes effect at the next start. The registry lives in the catalog
// database, so it needs a SQLite or Postgres catalog.
type DefinitionsRegistry struct {
	// SubjectPrefix starts the name of every definition subject, e.g. "game.definitions." (yaml: subject_prefix).
	SubjectPrefix string
}

// Enabled reports whether definitions are taken from the registry.
func (r DefinitionsRegistry) Enabled() bool { return r.SubjectPrefix != "" }

// Limits bound a record before it is checked (yaml: limits).
type Limits struct {
	// MaxRecordBytes rejects larger records as oversize, default 1 MiB (yaml: max_record_bytes).
	MaxRecordBytes int64
	// MaxDepth rejects records nested deeper than this, default 32, at most MaxDepthLimit (yaml: max_depth).
	MaxDepth int
}

// Rejection policies.
const (
	PolicyDLQ   = "dlq"   // rejected table, plus the DLQ topic when set (default)
	PolicySkip  = "skip"  // counted in metrics only
	PolicyPause = "pause" // stop the pipeline at the first rejected record until resumed
)

// OnReject says what happens to rejected records (yaml: on_reject).
type OnReject struct {
	// Policy is dlq (default), skip or pause (yaml: policy).
	Policy string
	// DLQTopic, with the dlq policy, also produces each rejected record there, the reason in its headers
	// (yaml: dlq_topic).
	DLQTopic string
}

// Cleanse declares mechanical clean-ups applied before validation (yaml: cleanse).
type Cleanse struct {
	// Trim removes leading and trailing white space from every string field (yaml: trim).
	Trim bool
	// CoerceNumbers turns numeric strings ("12", "4.99") into numbers for integer and number fields
	// (yaml: coerce_numbers).
	CoerceNumbers bool
	// CoerceTimestamps accepts epoch seconds or milliseconds, as numbers or numeric strings, for timestamp
	// fields (yaml: coerce_timestamps).
	CoerceTimestamps bool
	// Fields are per-field rules (yaml: fields).
	Fields []FieldCleanse
	// Future bounds timestamps in the future (yaml: future).
	Future FutureRule
}

// FieldCleanse is a clean-up rule for one field.
type FieldCleanse struct {
	// Field is the field name (yaml: field).
	Field string
	// Case is "lower", "upper" or "" (yaml: case).
	Case string
	// Aliases map values to canonical ones after trimming and case, e.g. {IOS: ios} (yaml: aliases).
	Aliases map[string]string
	// NullIfInvalid turns an invalid value of this optional field into null instead of rejecting the record
	// (yaml: null_if_invalid).
	NullIfInvalid bool
}

// FutureRule handles timestamps later than now plus a skew.
type FutureRule struct {
	// Field is the timestamp field checked, default "event_time" (yaml: field).
	Field string
	// MaxSkew is how far in the future a timestamp may be; 0 disables the rule (yaml: max_skew).
	MaxSkew time.Duration
	// Action is "reject" (default) or "clamp" to now (yaml: action).
	Action string
}

// Enrich declares added columns (yaml: enrich).
type Enrich struct {
	// Derive computes columns with CEL expressions over the record and its Kafka metadata (yaml: derive).
	Derive []Derived
	// Lookups join columns from a reference file by key (yaml: lookups).
	Lookups []Lookup
}

// Derived is one computed column.
type Derived struct {
	// Name is the new column's name (yaml: name).
	Name string
	// Type is its column type (yaml: type).
	Type ColumnType
	// Expr is a CEL expression; record fields are variables by name (null when absent), and `kafka` holds
	// topic, partition, offset, timestamp and key (yaml: expr).
	Expr string
}

// Lookup adds columns from a reference file (CSV with a header row, or JSON Lines), reloaded when the file
// changes.
type Lookup struct {
	// File is the reference file, relative to the config file's directory (yaml: file).
	File string
	// Key is the record field to look up (yaml: key).
	Key string
	// KeyColumn is the reference file's key column, default Key (yaml: key_column).
	KeyColumn string
	// Columns are the reference columns to add, each under its own name (yaml: columns).
	Columns []Column
	// BaseDir is the directory File is relative to; not a YAML key.
	BaseDir string
}

// Filter drops records for which a CEL expression is true; each rule's drops are counted (yaml: filters).
type Filter struct {
	// Name identifies the rule in metrics (yaml: name).
	Name string
	// Drop is the CEL expression (yaml: drop).
	Drop string
}

// Dedup drops records whose id was already staged within a window of event time (yaml: dedup).
type Dedup struct {
	// Field is the event id field; "" disables dedup (yaml: field).
	Field string
	// Window is how far back in event time duplicates are caught, default 24h (yaml: window).
	Window time.Duration
	// TimeField is the event time field the window is measured on, default "event_time" (yaml: time_field).
	TimeField string
}

// Enabled reports whether dedup is configured.
func (d Dedup) Enabled() bool { return d.Field != "" }

// Route fans records out to another table with the same columns (yaml: routes).
type Route struct {
	// Table is the destination, "namespace.table" (yaml: table).
	Table string
	// When is a CEL expression selecting the records (yaml: when).
	When string
	// EventTypes select records by the definitions' select_by field (yaml: event_types).
	EventTypes []string
}

// Completeness tracks per-producer sequence numbers to find lost and out-of-order records (yaml: completeness).
type Completeness struct {
	// ProducerField identifies the producer, e.g. player_id (yaml: producer_field).
	ProducerField string
	// SeqField is the producer's sequence number, e.g. client_seq (yaml: seq_field).
	SeqField string
}

// Enabled reports whether completeness tracking is configured.
func (c Completeness) Enabled() bool { return c.ProducerField != "" && c.SeqField != "" }

// MaxDepthLimit is the largest max_depth: the nesting fastjson, the record parser, reads at most.
const MaxDepthLimit = 300
