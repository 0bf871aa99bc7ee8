// Package config loads and validates Big Father's YAML configuration.
//
// Loading happens in three steps, each in its own file:
//
//   - spec.go decodes the yaml.Node tree. One table of key specs per YAML
//     mapping is the single source of truth for which keys exist, which are
//     required, their defaults and how each value is decoded. Unknown keys and
//     values of the wrong kind are reported with the exact line.
//   - validate.go checks what the decoder cannot: names, enums, URIs,
//     partition transforms against column types, duplicates across pipelines.
//     validate_quality.go does the same for the staging-quality settings of
//     quality.go: field references against declared columns (unless log
//     definitions decide the fields), files on disk, added column names,
//     route tables. CEL expressions are compiled elsewhere, not here.
//   - This file holds the types, the entry points and the Error type.
//
// Every problem with a config file is a *Error that reads
// "FILE:LINE: KEY: MSG"; when several problems exist, the first in document
// order is reported.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is a whole Big Father configuration file.
type Config struct {
	// Kafka says where the brokers are (yaml: kafka).
	Kafka Kafka
	// Warehouse is where table data lives: a local path or s3://bucket/prefix (yaml: warehouse).
	Warehouse string
	// S3 holds the object store settings of an s3:// warehouse (yaml: s3).
	S3 S3
	// Catalog is the Iceberg catalog holding table metadata (yaml: catalog).
	Catalog Catalog
	// HTTP is the host:port the HTTP server listens on (yaml: http).
	HTTP string
	// Auth says who may use the HTTP surface: users, bearer tokens and their roles, and how sessions are
	// signed (yaml: auth; see auth.go). Without users or tokens authentication is off.
	Auth Auth
	// Maintenance says how the tables are kept healthy: compaction, snapshot expiry, orphan removal
	// (yaml: maintenance; see maintenance.go).
	Maintenance Maintenance
	// MemoryLimit is the soft limit on the Go memory of a stage or up process, in bytes, or MemoryLimitAuto
	// (derived from the pipelines' batch sizes, see MemoryLimitFor) or MemoryLimitOff (yaml: memory_limit).
	MemoryLimit int64
	// Monitor says how pipelines, consumer groups and the infrastructure are sampled and judged
	// (yaml: monitor; see monitor.go).
	Monitor Monitor
	// Alerts are the alert rules and the receivers they notify (yaml: alerts; see alerts.go).
	Alerts Alerts
	// Pipelines are the topic-to-table pipelines (yaml: pipelines).
	Pipelines []Pipeline
	// Metrics are the metrics computed over staged tables (yaml: metrics; see metrics.go), followed by those
	// of MetricFiles.
	Metrics []Metric
	// MetricFiles are files (or glob patterns) beside the config, relative to its directory, each a YAML list
	// of metrics with the keys of a metrics entry (yaml: metric_files).
	MetricFiles []string
	// Derived are the tables computed by SQL and refreshed incrementally (yaml: derived; see metrics.go).
	Derived []DerivedTable
	// Path is the file the config was loaded from, "" for built-in defaults; it is not a YAML key.
	Path string

	// lines maps key paths such as "pipelines[0].table.name" to the line
	// their value starts on, so that Validate can point at the file.
	lines map[string]int
	// secrets are the values ${VAR} references put into the config; errors show the references instead.
	secrets []expansion
	// files maps key paths of values read from another file than Path (metrics of MetricFiles, such as
	// "metrics[3]") to that file, so that problems with them name it.
	files map[string]string
}

// Kafka holds the Kafka connection settings.
type Kafka struct {
	// Brokers are seed broker addresses (yaml: brokers). Empty means "use the
	// embedded broker", which only `bigfather up` allows; see ValidateOptions.
	Brokers []string
}

// S3 holds the settings of an s3:// warehouse. Without AccessKeyID and SecretAccessKey the standard AWS
// credential chain applies (environment, shared files, instance roles).
type S3 struct {
	// Endpoint is the S3 API's base URL, http(s)://host[:port]; empty means AWS (yaml: endpoint).
	Endpoint string
	// Region is the bucket's region; with an endpoint and no region, us-east-1 (yaml: region).
	Region string
	// PathStyle addresses buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT; it defaults to true when
	// Endpoint is set, false otherwise (yaml: path_style).
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials; both or neither (yaml: access_key_id,
	// secret_access_key). The secret never appears in errors, logs or String.
	AccessKeyID     string
	SecretAccessKey string
}

// String describes the settings with the secret access key redacted.
func (s S3) String() string {
	secret := ""
	if s.SecretAccessKey != "" {
		secret = "<redacted>"
	}
	return fmt.Sprintf("{endpoint: %q, region: %q, path_style: %t, access_key_id: %q, secret_access_key: %q}",
		s.Endpoint, s.Region, s.PathStyle, s.AccessKeyID, secret)
}

// GoString is String, so %#v does not print the secret either.
func (s S3) GoString() string { return s.String() }

// Catalog holds the Iceberg catalog settings. Every key but URI applies to an Iceberg REST catalog only.
type Catalog struct {
	// URI is sqlite://PATH, postgres://..., postgresql://... or http(s)://... for a REST catalog (yaml: uri).
	URI string
	// Warehouse is the warehouse the REST catalog is asked for (the `warehouse` parameter of GET /v1/config):
	// a location or, for catalogs that serve several, a warehouse name. Empty means the top-level warehouse
	// (yaml: warehouse).
	Warehouse string
	// Prefix is the path segment the catalog's routes sit under (/v1/PREFIX/namespaces...), when the server's
	// config does not say it (yaml: prefix).
	Prefix string
	// Token is a bearer token sent with every request (yaml: token). Never shown in errors, logs or String.
	Token string
	// Credential is an OAuth2 client credential, CLIENT_ID:CLIENT_SECRET, exchanged for tokens at
	// OAuth2ServerURI (yaml: credential). The secret is never shown in errors, logs or String.
	Credential string
	// OAuth2ServerURI is the OAuth2 token endpoint; empty means the catalog's own URI/v1/oauth/tokens
	// (yaml: oauth2_server_uri).
	OAuth2ServerURI string
	// Scope is the OAuth2 scope requested with Credential; empty means "catalog" (yaml: scope).
	Scope string
}

// REST reports whether the catalog is an Iceberg REST catalog.
func (c Catalog) REST() bool {
	return strings.HasPrefix(c.URI, "http://") || strings.HasPrefix(c.URI, "https://")
}

// String describes the settings with the token and the credential's secret redacted.
func (c Catalog) String() string {
	token, cred := "", ""
	if c.Token != "" {
		token = "<redacted>"
	}
	if c.Credential != "" {
		id, _, ok := strings.Cut(c.Credential, ":")
		cred = "<redacted>"
		if ok {
			cred = id + ":<redacted>"
		}
	}
	return fmt.Sprintf("{uri: %q, warehouse: %q, prefix: %q, token: %q, credential: %q, oauth2_server_uri: %q, scope: %q}",
		c.URI, c.Warehouse, c.Prefix, token, cred, c.OAuth2ServerURI, c.Scope)
}

// GoString is String, so %#v does not print the secrets either.
func (c Catalog) GoString() string { return c.String() }

// Pipeline describes one stream from Kafka topics into one Iceberg table.
type Pipeline struct {
	// Name identifies the pipeline; it matches [a-z0-9][a-z0-9_-]* (yaml: name).
	Name string
	// Topics are the Kafka topics to consume; at least one (yaml: topics).
	Topics []string
	// Start is where to begin when the table holds no offsets yet: "earliest" (default) or "latest" (yaml: start).
	Start string
	// Format is the record format (yaml: format): "json" (default), or a registry-framed format, "avro",
	// "protobuf" or "jsonschema", whose records carry the id of their schema in the schema registry (a zero
	// byte, a 4-byte big-endian id and, for protobuf, the message indexes) and whose columns follow the
	// registry subject's schema.
	Format string
	// Subject is the registry subject whose schemas the table follows, for registry formats; it defaults to
	// TOPIC-value for the first topic, Confluent's topic name strategy (yaml: subject).
	Subject string
	// SchemaChange is what a registry-format pipeline does with a record whose schema the table cannot take
	// (a narrowed type, a field whose type changed): "pause" (default) stops the pipeline before it with a
	// status naming the change, "reject" sends the record to the rejected records like any other rejection
	// (yaml: schema_change).
	SchemaChange string
	// Group is the Kafka consumer group; it defaults to "bigfather-" + Name (yaml: group).
	Group string
	// Table is the destination table (yaml: table).
	Table Table
	// Commit controls how often staged rows are committed (yaml: commit).
	Commit Commit

	// The staging-quality settings; each is off when absent (see quality.go).
	Definitions  Definitions
	Limits       Limits
	OnReject     OnReject
	Cleanse      Cleanse
	Enrich       Enrich
	Filters      []Filter
	Dedup        Dedup
	Routes       []Route
	Completeness Completeness
	// Probe is how often the monitor sends a probe record through the pipeline and times it until the main
	// table's commit covers it; 0 (the default) sends none (yaml: probe).
	Probe time.Duration
}

// Registry reports whether the pipeline's format is registry-framed (avro, protobuf, jsonschema).
func (p *Pipeline) Registry() bool {
	return p.Format == FormatAvro || p.Format == FormatProtobuf || p.Format == FormatJSONSchema
}

// Record formats (Pipeline.Format).
const (
	FormatJSON       = "json"
	FormatAvro       = "avro"
	FormatProtobuf   = "protobuf"
	FormatJSONSchema = "jsonschema"
)

// Schema change policies (Pipeline.SchemaChange).
const (
	SchemaChangePause  = "pause"
	SchemaChangeReject = "reject"
)

// Table describes a destination Iceberg table.
type Table struct {
	// Name is "namespace.table" (yaml: name).
	Name string
	// PartitionBy lists partition expressions such as "day(event_time)" (yaml: partition_by).
	PartitionBy []string
	// Columns are the user-declared columns (yaml: columns); at least one unless the pipeline has
	// definitions, whose schemas then supply the columns.
	Columns []Column
	// Shared lets pipelines of other configs write this pipeline's tables (main, rejected, routes), and this
	// pipeline write theirs, when their configs set it too; without it a table another pipeline owns is
	// refused at start (yaml: shared; default false).
	Shared bool
	// Partitions are parsed from PartitionBy, one per entry; it is not a YAML key.
	Partitions []PartitionField
}

// Column is one user-declared table column.
type Column struct {
	// Name is the column name (yaml: name).
	Name string
	// Type is the column type (yaml: type).
	Type ColumnType
	// Required rejects records where the field is missing or null (yaml: required).
	Required bool
}

// ColumnType is the type of a declared column.
type ColumnType string

// The column types a config may declare.
const (
	TypeString    ColumnType = "string"
	TypeLong      ColumnType = "long"
	TypeInt       ColumnType = "int"
	TypeDouble    ColumnType = "double"
	TypeFloat     ColumnType = "float"
	TypeBoolean   ColumnType = "boolean"
	TypeTimestamp ColumnType = "timestamp"
	TypeDate      ColumnType = "date"
)

// columnTypes lists the valid column types in the order error messages show them.
var columnTypes = []ColumnType{TypeString, TypeLong, TypeInt, TypeDouble, TypeFloat, TypeBoolean, TypeTimestamp, TypeDate}

// PartitionField is one parsed partition_by entry.
type PartitionField struct {
	// Transform is identity, year, month, day, hour, bucket or truncate.
	Transform string
	// Column is the source column: a declared column, or _kafka_timestamp or _ingested_at.
	Column string
	// Param is N for bucket[N] and W for truncate[W]; 0 otherwise.
	Param int
}

// String returns the field in partition_by syntax, e.g. "day(event_time)" or "bucket(16, player_id)".
func (p PartitionField) String() string {
	if p.Transform == "bucket" || p.Transform == "truncate" {
		return p.Transform + "(" + strconv.Itoa(p.Param) + ", " + p.Column + ")"
	}
	return p.Transform + "(" + p.Column + ")"
}

// Commit controls when a pipeline commits its staged rows to the table.
type Commit struct {
	// Interval is the longest time rows wait before a commit; default 10s (yaml: interval).
	Interval time.Duration
	// MaxRows commits early once this many rows are staged; default 500000 (yaml: max_rows).
	MaxRows int
	// MaxBytes commits early once this many bytes are staged; default 128 MiB (yaml: max_bytes).
	MaxBytes int64
}

// Load reads the config file at path, applies defaults and validates it.
// Validation allows an empty kafka.brokers list (the embedded broker); commands
// that need real brokers call Validate(ValidateOptions{}) afterwards.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for a config already in memory; path is used in error messages and Config.Path.
func Parse(path string, data []byte) (*Config, error) {
	c, errs, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	// Validation also runs after decoding problems so that the first problem
	// in the file wins. Fields that failed to decode are left zero; what
	// validation says about them lands on the same line, after the decoding
	// problem, so the stable sort in first keeps the decoding message.
	errs = append(errs, c.check(ValidateOptions{EmbeddedBroker: true}, errs)...)
	redact(errs, c.secrets)
	if err := first(errs); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns the built-in configuration `bigfather up` uses without --config:
// the embedded broker, a local warehouse and SQLite catalog under dataDir, and
// one game-events pipeline.
func Default(dataDir string) *Config {
	c := &Config{
		Warehouse: filepath.Join(dataDir, "warehouse"),
		Catalog:   Catalog{URI: "sqlite://" + filepath.Join(dataDir, "catalog.db")},
		HTTP:      defaultHTTP,
		Pipelines: []Pipeline{{
			Name:   "game-events",
			Topics: []string{"game.events"},
			Start:  "earliest",
			Format: "json",
			Table: Table{
				Name:        "staging.game_events",
				PartitionBy: []string{"day(event_time)"},
				Columns: []Column{
					{Name: "event_id", Type: TypeString, Required: true},
					{Name: "event_time", Type: TypeTimestamp, Required: true},
					{Name: "player_id", Type: TypeString, Required: true},
					{Name: "event_type", Type: TypeString, Required: true},
					{Name: "level", Type: TypeInt},
					{Name: "item_id", Type: TypeString},
					{Name: "amount", Type: TypeDouble},
					{Name: "currency", Type: TypeString},
					{Name: "platform", Type: TypeString},
					{Name: "country", Type: TypeString},
					{Name: "client_seq", Type: TypeLong},
				},
			},
			Commit: Commit{Interval: 10 * time.Second, MaxRows: defaultMaxRows, MaxBytes: defaultMaxBytes},
			// The demo game's log definitions; `bigfather up` writes them under DIR/definitions.
			Definitions: Definitions{SelectBy: "event_type", Unknown: "reject", Files: []string{
				filepath.Join(dataDir, "definitions", "item_acquire.json"),
				filepath.Join(dataDir, "definitions", "level_up.json"),
				filepath.Join(dataDir, "definitions", "purchase.json"),
				filepath.Join(dataDir, "definitions", "session_end.json"),
				filepath.Join(dataDir, "definitions", "session_start.json"),
			}},
			Cleanse: Cleanse{Trim: true, Fields: []FieldCleanse{
				{Field: "platform", Case: "lower"},
				{Field: "country", Case: "upper", NullIfInvalid: true},
			}},
			Enrich: Enrich{Derive: []Derived{
				{Name: "is_mobile", Type: TypeBoolean, Expr: `platform == "ios" || platform == "android"`},
			}},
			Dedup:        Dedup{Field: "event_id", Window: 24 * time.Hour, TimeField: "event_time"},
			Routes:       []Route{{Table: "staging.purchases", EventTypes: []string{"purchase"}}},
			Completeness: Completeness{ProducerField: "player_id", SeqField: "client_seq"},
		}},
		// The game pack over the demo table; `bigfather up` writes the demo's currency rates to DIR/rates.csv.
		Metrics: []Metric{{
			Pack: "game", Table: "staging.game_events", CurrencyField: "currency",
			Rates: filepath.Join(dataDir, "rates.csv"), Dimensions: []string{"platform", "country"},
			SessionEvent: "session_start", Steps: []string{"session_start", "item_acquire", "purchase"},
		}},
	}
	// Fills Group and Partitions; the defaults are valid by construction once the definition files exist
	// (tested), and the commands that read records write them first.
	_ = c.Validate(ValidateOptions{EmbeddedBroker: true})
	return c
}

// Built-in defaults that Default and the key specs share.
const (
	defaultHTTP     = "127.0.0.1:8080"
	defaultMaxRows  = 500000
	defaultMaxBytes = 128 << 20
)

// Pipeline returns the pipeline called name. An empty name means the only
// pipeline, which is an error when the config defines several.
func (c *Config) Pipeline(name string) (*Pipeline, error) {
	if name == "" {
		switch len(c.Pipelines) {
		case 0:
			return nil, errors.New("config defines no pipelines")
		case 1:
			return &c.Pipelines[0], nil
		}
		return nil, fmt.Errorf("config defines %d pipelines (%s); name one", len(c.Pipelines), c.pipelineNames())
	}
	for i := range c.Pipelines {
		if c.Pipelines[i].Name == name {
			return &c.Pipelines[i], nil
		}
	}
	return nil, fmt.Errorf("no pipeline named %q (have: %s)", name, c.pipelineNames())
}

func (c *Config) pipelineNames() string {
	names := make([]string, len(c.Pipelines))
	for i, p := range c.Pipelines {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Namespace returns the part of the table name before the dot.
func (t Table) Namespace() string {
	ns, _, _ := strings.Cut(t.Name, ".")
	return ns
}

// TableName returns the part of the table name after the dot.
func (t Table) TableName() string {
	_, name, _ := strings.Cut(t.Name, ".")
	return name
}

// Error is a problem with a config, pointing at the file, line and key.
type Error struct {
	// File is the config path as given to Load or Parse; "" for built-in configs.
	File string
	// Line is the 1-based line in File; 0 when unknown.
	Line int
	// Key is the dotted key path such as "pipelines[0].table.name"; "" for file-level problems.
	Key string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "FILE:LINE: KEY: MSG", leaving out empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// IsConfigError reports whether err is, or wraps, a *Error.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
