package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadValid(t *testing.T) {
	c, err := Load("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Kafka:     Kafka{Brokers: []string{"127.0.0.1:9092", "kafka-2:9092"}},
		Warehouse: "s3://lake/bigfather",
		S3:        S3{Endpoint: "https://s3.example.internal", Region: "eu-west-1", PathStyle: true},
		Catalog:   Catalog{URI: "postgres://bf@db.internal/catalog"},
		HTTP:      "0.0.0.0:9090",
		Path:      "testdata/valid.yaml",
		Maintenance: Maintenance{Interval: 10 * time.Minute, TargetFileSize: 128 << 20, SnapshotRetention: 24 * time.Hour,
			MinSnapshots: 10, OrphanAge: 24 * time.Hour},
		Monitor: Monitor{Interval: 10 * time.Second, Window: 10, History: 24 * time.Hour, FreshnessSLO: 5 * time.Minute, Groups: true},
		Alerts:  Alerts{Builtin: true},
		Pipelines: []Pipeline{
			{
				Name:   "game-events",
				Topics: []string{"game.events", "game.events.v2"},
				Start:  "latest",
				Format: "json", SchemaChange: "pause",
				Group: "bf-games",
				Table: Table{
					Name:        "staging.game_events",
					PartitionBy: []string{"day(event_time)", "bucket(16, player_id)", "truncate(10, country)", "level", "hour(_ingested_at)"},
					Columns: []Column{
						{Name: "event_id", Type: TypeString, Required: true},
						{Name: "event_time", Type: TypeTimestamp, Required: true},
						{Name: "player_id", Type: TypeString},
						{Name: "level", Type: TypeInt},
						{Name: "amount", Type: TypeDouble},
						{Name: "country", Type: TypeString},
					},
					Partitions: []PartitionField{
						{Transform: "day", Column: "event_time"},
						{Transform: "bucket", Column: "player_id", Param: 16},
						{Transform: "truncate", Column: "country", Param: 10},
						{Transform: "identity", Column: "level"},
						{Transform: "hour", Column: "_ingested_at"},
					},
				},
				Commit:      Commit{Interval: 30 * time.Second, MaxRows: 1000, MaxBytes: 64_000_000},
				Definitions: Definitions{BaseDir: "testdata"},
				Limits:      absentLimits,
				OnReject:    absentOnReject,
				Cleanse:     absentCleanse,
			},
			{ // every optional key left to its default
				Name:   "sessions",
				Topics: []string{"sessions"},
				Start:  "earliest",
				Format: "json", SchemaChange: "pause",
				Group: "bigfather-sessions",
				Table: Table{
					Name:    "staging.sessions",
					Columns: []Column{{Name: "session_id", Type: TypeString}},
				},
				Commit:      Commit{Interval: 10 * time.Second, MaxRows: 500000, MaxBytes: 128 << 20},
				Definitions: Definitions{BaseDir: "testdata"},
				Limits:      absentLimits,
				OnReject:    absentOnReject,
				Cleanse:     absentCleanse,
			},
		},
	}
	c.lines = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(ValidateOptions{}); err != nil {
		t.Errorf("Validate without the embedded broker: %v", err)
	}
	if ns, name := c.Pipelines[0].Table.Namespace(), c.Pipelines[0].Table.TableName(); ns != "staging" || name != "game_events" {
		t.Errorf("Namespace, TableName = %q, %q", ns, name)
	}
	var got []string
	for _, p := range c.Pipelines[0].Table.Partitions {
		got = append(got, p.String())
	}
	if s := strings.Join(got, " "); s != "day(event_time) bucket(16, player_id) truncate(10, country) identity(level) hour(_ingested_at)" {
		t.Errorf("PartitionField.String: %s", s)
	}
}

func TestTopLevelDefaults(t *testing.T) {
	c, err := Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Warehouse != "./data/warehouse" || c.Catalog.URI != "sqlite://./data/catalog.db" || c.HTTP != "127.0.0.1:8080" || len(c.Kafka.Brokers) != 0 {
		t.Errorf("defaults not applied: %+v", c)
	}
	err = c.Validate(ValidateOptions{})
	if want := "min.yaml:1: kafka.brokers: no brokers configured (only `bigfather up` can run without them, using its embedded broker)"; err == nil || err.Error() != want {
		t.Errorf("Validate without the embedded broker:\n got %v\nwant %s", err, want)
	}
}

func TestDefault(t *testing.T) {
	dir := t.TempDir()
	// `bigfather up` writes the demo definitions before it builds the default config.
	if err := os.MkdirAll(filepath.Join(dir, "definitions"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"item_acquire", "level_up", "purchase", "session_end", "session_start"} {
		if err := os.WriteFile(filepath.Join(dir, "definitions", n+".json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rates.csv"), []byte("currency,rate\nUSD,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Default(dir)
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err != nil {
		t.Fatalf("Default does not validate: %v", err)
	}
	if c.Warehouse != filepath.Join(dir, "warehouse") || c.Catalog.URI != "sqlite://"+filepath.Join(dir, "catalog.db") || c.HTTP != "127.0.0.1:8080" || c.Path != "" {
		t.Errorf("Default: %+v", c)
	}
	p, err := c.Pipeline("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "game-events" || p.Group != "bigfather-game-events" || p.Table.Name != "staging.game_events" ||
		!reflect.DeepEqual(p.Topics, []string{"game.events"}) || len(p.Table.Columns) != 11 ||
		!reflect.DeepEqual(p.Table.Partitions, []PartitionField{{Transform: "day", Column: "event_time"}}) ||
		p.Commit != (Commit{Interval: 10 * time.Second, MaxRows: 500000, MaxBytes: 128 << 20}) {
		t.Errorf("Default pipeline: %+v", p)
	}
	// Default is built in Go; Validate gives it the defaults a YAML file gets.
	// The demo pipeline shows every staging-quality feature.
	if p.Limits != absentLimits || p.OnReject != absentOnReject || !p.Cleanse.Trim || len(p.Cleanse.Fields) != 2 ||
		len(p.Definitions.Files) != 5 || p.Definitions.SelectBy != "event_type" || p.Definitions.Unknown != "reject" ||
		p.Dedup != (Dedup{Field: "event_id", Window: 24 * time.Hour, TimeField: "event_time"}) ||
		p.Completeness != (Completeness{ProducerField: "player_id", SeqField: "client_seq"}) || len(p.Enrich.Derive) != 1 ||
		p.Filters != nil || !reflect.DeepEqual(p.Routes, []Route{{Table: "staging.purchases", EventTypes: []string{"purchase"}}}) {
		t.Errorf("Default quality settings: %+v", p)
	}
	err = c.Validate(ValidateOptions{})
	if want := "kafka.brokers: no brokers configured (only `bigfather up` can run without them, using its embedded broker)"; err == nil || err.Error() != want {
		t.Errorf("Default without the embedded broker:\n got %v\nwant %s", err, want)
	}
}

func TestPipelineLookup(t *testing.T) {
	c, err := Load("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.Pipeline("sessions"); err != nil || p != &c.Pipelines[1] {
		t.Errorf("Pipeline(sessions) = %v, %v", p, err)
	}
	for name, want := range map[string]string{
		"":      "config defines 2 pipelines (game-events, sessions); name one",
		"nope":  `no pipeline named "nope" (have: game-events, sessions)`,
		"games": `no pipeline named "games" (have: game-events, sessions)`,
	} {
		if _, err := c.Pipeline(name); err == nil || err.Error() != want {
			t.Errorf("Pipeline(%q) error:\n got %v\nwant %s", name, err, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/missing.yaml")
	if want := "reading config: open testdata/missing.yaml: no such file or directory"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if IsConfigError(err) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("I/O errors must wrap the cause and not be config errors: %#v", err)
	}
}

// minimal is the smallest valid config; cases below start from it.
const minimal = `pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      columns:
        - {name: event_id, type: string}
`

// errorCase is a config that must fail to parse as bad.yaml with exactly want.
type errorCase struct {
	name, yaml, want string
}

func TestErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{"unknown column type", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      columns:
        - {name: event_id, type: string}
        - {name: amount, type: strng}
`, `bad.yaml:8: pipelines[0].table.columns[1].type: unknown column type "strng" (expected one of: string, long, int, double, float, boolean, timestamp, date)`},
		{"unknown pipeline key", `
pipelines:
  - name: game-events
    colums: []
    topics: [game.events]
    table: {name: staging.game_events, columns: [{name: a, type: string}]}
`, `bad.yaml:3: pipelines[0].colums: unknown key (expected one of: name, topics, start, format, subject, schema_change, group, table, commit, definitions, limits, on_reject, cleanse, enrich, filters, dedup, routes, completeness, probe)`},
		{"unknown top-level key", "warehous: /tmp\n" + minimal,
			`bad.yaml:1: warehous: unknown key (expected one of: kafka, warehouse, s3, catalog, http, auth, maintenance, memory_limit, monitor, alerts, pipelines, metrics, metric_files, derived)`},
		{"integer expected", minimal + "    commit:\n      interval: 5s\n      max_rows: lots\n",
			`bad.yaml:10: pipelines[0].commit.max_rows: expected an integer, got "lots"`},
		{"missing table name", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      columns: [{name: event_id, type: string}]
`, `bad.yaml:5: pipelines[0].table.name: missing required key`},
		{"missing pipelines", "http: 127.0.0.1:9000\n",
			`bad.yaml:1: pipelines: missing required key`},
		{"unknown partition transform", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by: ["weekly(event_time)"]
      columns: [{name: event_time, type: timestamp}]
`, `bad.yaml:6: pipelines[0].table.partition_by[0]: unknown partition transform "weekly(event_time)" (expected identity, year, month, day, hour, bucket[N], truncate[W])`},
		{"undeclared partition column", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by: ["day(evnt_time)"]
      columns: [{name: event_time, type: timestamp}]
`, `bad.yaml:6: pipelines[0].table.partition_by[0]: column "evnt_time" is not declared in columns`},
		{"hour on a date", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by:
        - day(event_day)
        - hour(event_day)
      columns: [{name: event_day, type: date}]
`, `bad.yaml:8: pipelines[0].table.partition_by[1]: hour needs a timestamp column; "event_day" is date`},
		{"truncate on a double", minimal + "        - {name: amount, type: double}\n      partition_by: [\"truncate(10, amount)\"]\n",
			`bad.yaml:9: pipelines[0].table.partition_by[0]: truncate needs a string, int or long column; "amount" is double`},
		{"bucket count", minimal + "      partition_by: [\"bucket(0, event_id)\"]\n",
			`bad.yaml:8: pipelines[0].table.partition_by[0]: bucket[N] needs a positive integer N, got "0"`},
		{"duplicate column", minimal + "        - {name: event_id, type: long}\n",
			`bad.yaml:8: pipelines[0].table.columns[1].name: duplicate column name "event_id" (also columns[0])`},
		{"reserved column", minimal + "        - {name: _offset, type: long}\n",
			`bad.yaml:8: pipelines[0].table.columns[1].name: column name "_offset" is reserved (the pipeline adds _topic, _partition, _offset, _kafka_timestamp, _ingested_at itself)`},
		{"duplicate pipeline name", minimal + `  - name: game-events
    topics: [other]
    table: {name: staging.other, columns: [{name: a, type: string}]}
`, `bad.yaml:8: pipelines[1].name: duplicate pipeline name "game-events" (also pipelines[0])`},
		{"duplicate table", minimal + `  - name: other
    topics: [game.events]
    table: {name: staging.game_events, columns: [{name: a, type: string}]}
`, `bad.yaml:10: pipelines[1].table.name: table "staging.game_events" is already used by pipeline "game-events"`},
		{"table collides with rejected table", minimal + `  - name: other
    topics: [game.events]
    table: {name: staging.game_events_rejected, columns: [{name: a, type: string}]}
`, `bad.yaml:10: pipelines[1].table.name: table "staging.game_events_rejected" is already used by pipeline "game-events" for rejected records`},
		{"duplicate group", minimal + `    group: shared
  - name: other
    topics: [game.events]
    group: shared
    table: {name: staging.other, columns: [{name: a, type: string}]}
`, `bad.yaml:11: pipelines[1].group: consumer group "shared" is already used by pipeline "game-events"`},
		{"bad duration", minimal + "    commit: {interval: soon}\n",
			`bad.yaml:8: pipelines[0].commit.interval: expected a duration like 10s, got "soon"`},
		{"duration overflow", minimal + "    commit: {interval: 100000000h}\n",
			`bad.yaml:8: pipelines[0].commit.interval: "100000000h" is too large (the longest duration is 2562047h47m16.854775807s)`},
		{"non-positive max_rows", minimal + "    commit: {max_rows: 0}\n",
			`bad.yaml:8: pipelines[0].commit.max_rows: must be a positive integer, got 0`},
		{"bad max_bytes", minimal + "    commit: {max_bytes: big}\n",
			`bad.yaml:8: pipelines[0].commit.max_bytes: expected a size like 128MiB or a number of bytes, got "big"`},
		{"list expected", `
pipelines:
  - name: game-events
    topics: game.events
    table: {name: staging.game_events, columns: [{name: a, type: string}]}
`, `bad.yaml:3: pipelines[0].topics: expected a list, got a string`},
		{"empty topics value", `
pipelines:
  - name: game-events
    topics:
    table: {name: staging.game_events, columns: [{name: a, type: string}]}
`, `bad.yaml:3: pipelines[0].topics: expected a list, got an empty value`},
		{"mapping expected", "kafka: [a]\n" + minimal,
			`bad.yaml:1: kafka: expected a mapping, got a list`},
		{"boolean expected", minimal + "        - {name: level, type: int, required: yes}\n",
			`bad.yaml:8: pipelines[0].table.columns[1].required: expected true or false, got "yes"`},
		{"registry format with columns", minimal + "    format: avro\n",
			`bad.yaml:7: pipelines[0].table.columns: format avro takes its columns from the registry subject "game.events-value"; remove table.columns`},
		{"subject without a registry format", minimal + "    subject: x-value\n",
			`bad.yaml:8: pipelines[0].subject: subject is only for registry formats (avro, protobuf, jsonschema); format is "json"`},
		{"registry format with a REST catalog", "catalog: {uri: \"https://cat.example/\"}\n" + strings.Replace(minimal, "      columns:\n        - {name: event_id, type: string}\n", "", 1) + "    format: protobuf\n",
			`bad.yaml:7: pipelines[0].format: format protobuf reads its schemas from the schema registry, which lives in the catalog database; a REST catalog does not give one: use a sqlite:// or postgres:// catalog.uri`},
		{"unknown schema change", minimal + "    schema_change: ignore\n",
			`bad.yaml:8: pipelines[0].schema_change: unknown schema_change "ignore" (expected pause or reject)`},
		{"unknown format", minimal + "    format: xml\n",
			`bad.yaml:8: pipelines[0].format: unknown format "xml" (expected one of: json, avro, protobuf, jsonschema)`},
		{"unknown start", minimal + "    start: beginning\n",
			`bad.yaml:8: pipelines[0].start: unknown start position "beginning" (expected one of: earliest, latest)`},
		{"invalid pipeline name", strings.Replace(minimal, "game-events", "Game Events", 1),
			`bad.yaml:2: pipelines[0].name: invalid pipeline name "Game Events" (expected [a-z0-9][a-z0-9_-]*)`},
		{"invalid table name", strings.Replace(minimal, "staging.game_events", "game_events", 1),
			`bad.yaml:5: pipelines[0].table.name: invalid table name "game_events" (expected namespace.table, each part [a-z_][a-z0-9_]*)`},
		{"catalog scheme", "catalog: {uri: \"mysql://db/x\"}\n" + minimal,
			`bad.yaml:1: catalog.uri: unsupported catalog URI "mysql://db/x" (expected sqlite://PATH, postgres://..., postgresql://... or http(s)://... for a REST catalog)`},
		{"http address", "http: 8080\n" + minimal,
			`bad.yaml:1: http: expected host:port, got "8080"`},
		{"duplicate key", "http: :8080\n" + minimal + "http: :9090\n",
			`bad.yaml:9: http: duplicate key (first on line 1)`},
		{"first error in document order", `
pipelines:
  - name: game-events
    topics: [game.events]
    start: soon
    table:
      name: staging.game_events
      columns: [{name: a, type: strng}]
    commit: {interval: never}
`, `bad.yaml:4: pipelines[0].start: unknown start position "soon" (expected one of: earliest, latest)`},
		{"partitions are not checked against columns that failed to decode", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by: [day(event_time)]
      columns: event_time
`, `bad.yaml:7: pipelines[0].table.columns: expected a list, got a string`},
		{"yaml syntax", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
     columns: []
`, `bad.yaml:6: invalid YAML: did not find expected key`},
		{"tab indentation", "pipelines:\n\t- name: x\n",
			`bad.yaml:2: invalid YAML: found character that cannot start any token`},
		{"empty file", "", `bad.yaml:1: config is empty`},
		{"only comments", "# nothing here\n", `bad.yaml:1: config is empty`},
		{"two documents", minimal + "---\nhttp: :1\n",
			`bad.yaml:8: found a second YAML document (expected one)`},
		{"top level list", "- a\n", `bad.yaml:1: expected a mapping, got a list`},
	})
}

// runErrorCases parses each case as bad.yaml, so files it names are relative
// to the package directory.
func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("bad.yaml", []byte(strings.TrimPrefix(tc.yaml, "\n")))
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			if err.Error() != tc.want {
				t.Errorf("\n got %s\nwant %s", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || !IsConfigError(err) {
				t.Errorf("error is %T, want *config.Error", err)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "128MiB": 128 << 20, "64MB": 64_000_000, "1 GiB": 1 << 30, "512kb": 512_000, "10B": 10,
	} {
		c, err := Parse("s.yaml", []byte(minimal+"    commit: {max_bytes: "+in+"}\n"))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := c.Pipelines[0].Commit.MaxBytes; got != want {
			t.Errorf("%s = %d, want %d", in, got, want)
		}
	}
}

// What a pipeline that leaves out limits, on_reject and cleanse gets; the
// other quality blocks stay zero (off).
var (
	absentLimits   = Limits{MaxRecordBytes: 1 << 20, MaxDepth: 32}
	absentOnReject = OnReject{Policy: PolicyDLQ}
	absentCleanse  = Cleanse{Future: FutureRule{Field: "event_time", Action: "reject"}}
)

func TestLoadQuality(t *testing.T) {
	c, err := Load("testdata/quality.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP != "127.0.0.1:0" || len(c.Pipelines) != 3 {
		t.Fatalf("Load: http %q, %d pipelines", c.HTTP, len(c.Pipelines))
	}
	games, shop, sessions := c.Pipelines[0], c.Pipelines[1], c.Pipelines[2]

	// Every key set explicitly; columns come from the definitions.
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("game-events %s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	check("table", games.Table, Table{
		Name:        "staging.game_events",
		PartitionBy: []string{"day(event_time)"},
		Partitions:  []PartitionField{{Transform: "day", Column: "event_time"}},
	})
	check("definitions", games.Definitions, Definitions{
		SelectBy: "kind",
		Files:    []string{"defs/session_start.json", "defs/purchase.json"},
		Unknown:  "pass",
		BaseDir:  "testdata",
	})
	check("limits", games.Limits, Limits{MaxRecordBytes: 64 << 10, MaxDepth: 8})
	check("on_reject", games.OnReject, OnReject{Policy: PolicyDLQ, DLQTopic: "game.events.dlq"})
	check("cleanse", games.Cleanse, Cleanse{
		Trim: true, CoerceNumbers: true, CoerceTimestamps: true,
		Fields: []FieldCleanse{
			{Field: "platform", Case: "lower", Aliases: map[string]string{"iphone": "ios", "IOS": "ios"}},
			{Field: "country", Case: "upper", NullIfInvalid: true},
		},
		Future: FutureRule{Field: "event_time", MaxSkew: 10 * time.Minute, Action: "clamp"},
	})
	check("enrich", games.Enrich, Enrich{
		Derive: []Derived{{Name: "revenue_cents", Type: TypeLong, Expr: "int(amount * 100.0)"}},
		Lookups: []Lookup{{
			File: "items.csv", Key: "item_id", KeyColumn: "id", BaseDir: "testdata",
			Columns: []Column{{Name: "item_name", Type: TypeString}, {Name: "item_price", Type: TypeDouble}},
		}},
	})
	check("filters", games.Filters, []Filter{
		{Name: "drop_bots", Drop: `player_id.startsWith("bot_")`},
		{Name: "drop-tests", Drop: `event_type == "test"`},
	})
	check("dedup", games.Dedup, Dedup{Field: "event_id", Window: 48 * time.Hour, TimeField: "received_at"})
	check("routes", games.Routes, []Route{
		{Table: "staging.purchases", EventTypes: []string{"purchase"}},
		{Table: "staging.big_spenders", When: "amount > 100.0"},
	})
	check("completeness", games.Completeness, Completeness{ProducerField: "player_id", SeqField: "client_seq"})
	if !games.Definitions.Enabled() || !games.Dedup.Enabled() || !games.Completeness.Enabled() {
		t.Errorf("game-events: Enabled() false for a configured block")
	}

	// Without definitions; defaults inside present blocks; key_column defaults to key.
	check = func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("shop %s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	check("definitions", shop.Definitions, Definitions{BaseDir: "testdata"})
	check("limits", shop.Limits, absentLimits)
	check("on_reject", shop.OnReject, OnReject{Policy: PolicyPause})
	check("cleanse", shop.Cleanse, Cleanse{
		Fields: []FieldCleanse{{Field: "store"}},
		Future: FutureRule{Field: "ordered_at", MaxSkew: time.Hour, Action: "reject"},
	})
	check("lookups", shop.Enrich.Lookups, []Lookup{{
		File: "items.csv", Key: "sku", KeyColumn: "sku", BaseDir: "testdata",
		Columns: []Column{{Name: "item_name", Type: TypeString}},
	}})
	check("dedup", shop.Dedup, Dedup{Field: "order_id", Window: 24 * time.Hour, TimeField: "ordered_at"})
	check("routes", shop.Routes, []Route{{Table: "staging.big_spenders", When: "true"}})
	check("completeness", shop.Completeness, Completeness{ProducerField: "store", SeqField: "seq"})

	// Every quality block left out.
	want := sessions
	want.Definitions, want.Limits, want.OnReject, want.Cleanse = Definitions{BaseDir: "testdata"}, absentLimits, absentOnReject, absentCleanse
	want.Enrich, want.Filters, want.Dedup, want.Routes, want.Completeness = Enrich{}, nil, Dedup{}, nil, Completeness{}
	if !reflect.DeepEqual(sessions, want) {
		t.Errorf("sessions:\n got %+v\nwant %+v", sessions, want)
	}

	// Commands validate a loaded config again; that must change nothing.
	before := *c
	before.Pipelines = slices.Clone(c.Pipelines)
	if err := c.Validate(ValidateOptions{}); err != nil {
		t.Fatalf("Validate again: %v", err)
	}
	if !reflect.DeepEqual(*c, before) {
		t.Errorf("Validate changed a loaded config")
	}
}

// TestBaseDir checks that definition and lookup files are found relative to
// the config file, not the working directory.
func TestBaseDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"defs/a.json", "ref/items.csv"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	yaml := `pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events}
    definitions: {files: [defs/a.json]}
    enrich:
      lookups: [{file: ref/items.csv, key: item_id, columns: [{name: item_name, type: string}]}]
`
	path := filepath.Join(dir, "bigfather.yaml")
	c, err := Parse(path, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Pipelines[0]
	if p.Definitions.BaseDir != dir || p.Enrich.Lookups[0].BaseDir != dir {
		t.Errorf("BaseDir = %q, %q; want %q", p.Definitions.BaseDir, p.Enrich.Lookups[0].BaseDir, dir)
	}
	_, err = Parse("bigfather.yaml", []byte(yaml)) // the same files, looked for in the package directory
	if want := `bigfather.yaml:5: pipelines[0].definitions.files[0]: definition file "defs/a.json" does not exist`; err == nil || err.Error() != want {
		t.Errorf("relative to the working directory:\n got %v\nwant %s", err, want)
	}
}

// TestBuiltInGo checks configs built in Go: zero values get the spec
// defaults, and the checks still apply.
func TestBuiltInGo(t *testing.T) {
	c := Default(t.TempDir())
	p := &c.Pipelines[0]
	p.Dedup = Dedup{Field: "event_id"}
	p.Definitions = Definitions{Files: []string{"testdata/defs/purchase.json"}}
	p.Enrich.Lookups = []Lookup{{File: "testdata/items.csv", Key: "item_id", Columns: []Column{{Name: "item_name", Type: TypeString}}}}
	c.Metrics[0].Rates = "testdata/rates.csv"
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err != nil {
		t.Fatal(err)
	}
	if p.Dedup != (Dedup{Field: "event_id", Window: 24 * time.Hour, TimeField: "event_time"}) ||
		p.Definitions.SelectBy != "event_type" || p.Definitions.Unknown != "reject" || p.Enrich.Lookups[0].KeyColumn != "item_id" {
		t.Errorf("defaults not filled: %+v", p)
	}
	p.Completeness = Completeness{ProducerField: "player_id"}
	err := c.Validate(ValidateOptions{EmbeddedBroker: true})
	if want := "pipelines[0].completeness.seq_field: must be set together with producer_field"; err == nil || err.Error() != want {
		t.Errorf("half a completeness block:\n got %v\nwant %s", err, want)
	}
}

// withDefs is minimal with definitions instead of columns.
const withDefs = `pipelines:
  - name: game-events
    topics: [game.events]
    table: {name: staging.game_events}
    definitions: {files: [testdata/defs/purchase.json]}
`

func TestQualityErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		// table.columns and definitions
		{"columns without definitions", `
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
`, `bad.yaml:5: pipelines[0].table.columns: missing required key (columns are required unless definitions are configured)`},
		{"empty columns list", strings.Replace(minimal, "      columns:\n        - {name: event_id, type: string}\n", "      columns: []\n", 1),
			`bad.yaml:6: pipelines[0].table.columns: at least one column is required`},
		{"definitions that fail to decode do not blame columns", strings.Replace(withDefs, "[testdata/defs/purchase.json]", "testdata/defs/purchase.json", 1),
			`bad.yaml:5: pipelines[0].definitions.files: expected a list, got a string`},
		{"unknown definitions key", minimal + "    definitions: {files: [testdata/defs/purchase.json], selectby: kind}\n",
			`bad.yaml:8: pipelines[0].definitions.selectby: unknown key (expected one of: select_by, files, registry, unknown)`},
		{"missing definition file", minimal + "    definitions:\n      files: [testdata/defs/purchase.json, defs/x.json]\n",
			`bad.yaml:9: pipelines[0].definitions.files[1]: definition file "defs/x.json" does not exist`},
		{"definition file is a directory", minimal + "    definitions: {files: [testdata/defs]}\n",
			`bad.yaml:8: pipelines[0].definitions.files[0]: definition file "testdata/defs" is a directory`},
		{"duplicate definition file", minimal + "    definitions:\n      files:\n        - testdata/defs/purchase.json\n        - testdata/defs/purchase.json\n",
			`bad.yaml:11: pipelines[0].definitions.files[1]: duplicate definition file "testdata/defs/purchase.json" (also files[0])`},
		{"definitions without files", minimal + "    definitions: {select_by: kind}\n",
			`bad.yaml:8: pipelines[0].definitions.files: missing required key (or take the definitions from the schema registry with definitions.registry)`},
		{"definitions with no files", minimal + "    definitions: {files: []}\n",
			`bad.yaml:8: pipelines[0].definitions.files: at least one definition file is required (or take the definitions from the schema registry with definitions.registry)`},
		{"unknown policy for unknown event types", minimal + "    definitions:\n      files: [testdata/defs/purchase.json]\n      unknown: drop\n",
			`bad.yaml:10: pipelines[0].definitions.unknown: unknown "drop" (expected reject or pass)`},
		{"definitions is not a mapping", minimal + "    definitions: [testdata/defs/purchase.json]\n",
			`bad.yaml:8: pipelines[0].definitions: expected a mapping, got a list`},

		// limits and on_reject
		{"zero max_depth", minimal + "    limits: {max_depth: 0}\n",
			`bad.yaml:8: pipelines[0].limits.max_depth: must be a positive integer, got 0`},
		{"max_depth beyond the parser", minimal + "    limits: {max_depth: 301}\n",
			`bad.yaml:8: pipelines[0].limits.max_depth: must be at most 300, the deepest nesting the JSON parser reads, got 301`},
		{"bad max_record_bytes", minimal + "    limits:\n      max_record_bytes: huge\n",
			`bad.yaml:9: pipelines[0].limits.max_record_bytes: expected a size like 128MiB or a number of bytes, got "huge"`},
		{"unknown limits key", minimal + "    limits: {max_bytes: 1MiB}\n",
			`bad.yaml:8: pipelines[0].limits.max_bytes: unknown key (expected one of: max_record_bytes, max_depth)`},
		{"unknown reject policy", minimal + "    on_reject: {policy: drop}\n",
			`bad.yaml:8: pipelines[0].on_reject.policy: unknown policy "drop" (expected one of: dlq, skip, pause)`},
		{"dlq_topic with skip", minimal + "    on_reject:\n      policy: skip\n      dlq_topic: game.events.dlq\n",
			`bad.yaml:10: pipelines[0].on_reject.dlq_topic: dlq_topic is only allowed with policy dlq (policy is "skip")`},
		{"dlq_topic is a source topic", minimal + "    on_reject: {dlq_topic: game.events}\n",
			`bad.yaml:8: pipelines[0].on_reject.dlq_topic: DLQ topic "game.events" is also a topic this pipeline consumes`},
		{"invalid dlq_topic", minimal + "    on_reject: {dlq_topic: \"game events\"}\n",
			`bad.yaml:8: pipelines[0].on_reject.dlq_topic: invalid topic name "game events" (expected up to 249 letters, digits, '.', '_' or '-')`},

		// cleanse
		{"unknown case", minimal + "    cleanse:\n      fields:\n        - {field: event_id, case: title}\n",
			`bad.yaml:10: pipelines[0].cleanse.fields[0].case: unknown case "title" (expected lower or upper)`},
		{"aliases not a mapping", minimal + "    cleanse:\n      fields:\n        - field: event_id\n          aliases: [ios]\n",
			`bad.yaml:11: pipelines[0].cleanse.fields[0].aliases: expected a mapping of strings, got a list`},
		{"alias value not a string", minimal + "    cleanse:\n      fields:\n        - field: event_id\n          aliases:\n            iphone: ios\n            ipad: [ios]\n",
			`bad.yaml:13: pipelines[0].cleanse.fields[0].aliases.ipad: expected a string, got a list`},
		{"duplicate alias", minimal + "    cleanse:\n      fields:\n        - field: event_id\n          aliases:\n            iphone: ios\n            iphone: android\n",
			`bad.yaml:13: pipelines[0].cleanse.fields[0].aliases.iphone: duplicate key (first on line 12)`},
		{"cleanse field not declared", minimal + "    cleanse: {fields: [{field: platfrom}]}\n",
			`bad.yaml:8: pipelines[0].cleanse.fields[0].field: field "platfrom" is not a declared column`},
		{"duplicate cleanse rule", minimal + "    cleanse:\n      fields:\n        - {field: event_id, case: lower}\n        - {field: event_id, null_if_invalid: true}\n",
			`bad.yaml:11: pipelines[0].cleanse.fields[1].field: duplicate rule for field "event_id" (also fields[0])`},
		{"trim not a boolean", minimal + "    cleanse: {trim: yes}\n",
			`bad.yaml:8: pipelines[0].cleanse.trim: expected true or false, got "yes"`},
		{"unknown future action", minimal + "    cleanse:\n      future: {field: event_id, max_skew: 5m, action: drop}\n",
			`bad.yaml:9: pipelines[0].cleanse.future.action: unknown action "drop" (expected reject or clamp)`},
		{"negative max_skew", minimal + "    cleanse:\n      future:\n        field: event_id\n        max_skew: -5m\n",
			`bad.yaml:11: pipelines[0].cleanse.future.max_skew: must not be negative, got -5m0s`},
		{"future field defaults to an undeclared event_time", minimal + "    cleanse:\n      future: {max_skew: 10m}\n",
			`bad.yaml:9: pipelines[0].cleanse.future.field: field "event_time" is not a declared column`},
		{"unknown future key", minimal + "    cleanse:\n      future: {skew: 10m}\n",
			`bad.yaml:9: pipelines[0].cleanse.future.skew: unknown key (expected one of: field, max_skew, action)`},

		// enrich
		{"derived column collides with a declared one", minimal + "    enrich:\n      derive:\n        - {name: event_id, type: string, expr: \"'x'\"}\n",
			`bad.yaml:10: pipelines[0].enrich.derive[0].name: duplicate column name "event_id" (also table.columns[0])`},
		{"derived column is reserved", minimal + "    enrich:\n      derive:\n        - {name: _topic, type: string, expr: \"'x'\"}\n",
			`bad.yaml:10: pipelines[0].enrich.derive[0].name: column name "_topic" is reserved (the pipeline adds _topic, _partition, _offset, _kafka_timestamp, _ingested_at itself)`},
		{"derived columns collide", minimal + "    enrich:\n      derive:\n        - {name: cents, type: long, expr: \"1\"}\n        - {name: Cents, type: long, expr: \"2\"}\n",
			`bad.yaml:11: pipelines[0].enrich.derive[1].name: duplicate column name "Cents" (also enrich.derive[0])`},
		{"derived column type", minimal + "    enrich:\n      derive:\n        - name: cents\n          type: money\n          expr: \"1\"\n",
			`bad.yaml:11: pipelines[0].enrich.derive[0].type: unknown column type "money" (expected one of: string, long, int, double, float, boolean, timestamp, date)`},
		{"empty derive expr", minimal + "    enrich:\n      derive:\n        - {name: cents, type: long, expr: \"  \"}\n",
			`bad.yaml:10: pipelines[0].enrich.derive[0].expr: must not be empty`},
		{"derive without expr", minimal + "    enrich:\n      derive:\n        - {name: cents, type: long}\n",
			`bad.yaml:10: pipelines[0].enrich.derive[0].expr: missing required key`},
		{"missing lookup file", minimal + "    enrich:\n      lookups:\n        - {file: nope.csv, key: event_id, columns: [{name: n, type: string}]}\n",
			`bad.yaml:10: pipelines[0].enrich.lookups[0].file: lookup file "nope.csv" does not exist`},
		{"lookup key not declared", minimal + "    enrich:\n      lookups:\n        - file: testdata/items.csv\n          key: item_id\n          columns: [{name: n, type: string}]\n",
			`bad.yaml:11: pipelines[0].enrich.lookups[0].key: field "item_id" is not a declared column`},
		{"lookup without columns", minimal + "    enrich:\n      lookups:\n        - {file: testdata/items.csv, key: event_id}\n",
			`bad.yaml:10: pipelines[0].enrich.lookups[0].columns: missing required key`},
		{"lookup column takes no required", minimal + "    enrich:\n      lookups:\n        - file: testdata/items.csv\n          key: event_id\n          columns:\n            - {name: n, type: string, required: true}\n",
			`bad.yaml:13: pipelines[0].enrich.lookups[0].columns[0].required: unknown key (expected one of: name, type)`},
		{"lookup column collides with a derived one", minimal + "    enrich:\n      derive: [{name: n, type: long, expr: \"1\"}]\n      lookups:\n        - file: testdata/items.csv\n          key: event_id\n          columns: [{name: n, type: string}]\n",
			`bad.yaml:13: pipelines[0].enrich.lookups[0].columns[0].name: duplicate column name "n" (also enrich.derive[0])`},
		{"unknown enrich key", minimal + "    enrich: {lookup: []}\n",
			`bad.yaml:8: pipelines[0].enrich.lookup: unknown key (expected one of: derive, lookups)`},

		// filters
		{"filters not a list", minimal + "    filters: {name: bots, drop: \"true\"}\n",
			`bad.yaml:8: pipelines[0].filters: expected a list, got a mapping`},
		{"filter without drop", minimal + "    filters:\n      - name: bots\n",
			`bad.yaml:9: pipelines[0].filters[0].drop: missing required key`},
		{"duplicate filter name", minimal + "    filters:\n      - {name: bots, drop: \"true\"}\n      - {name: bots, drop: \"false\"}\n",
			`bad.yaml:10: pipelines[0].filters[1].name: duplicate filter name "bots" (also filters[0])`},
		{"invalid filter name", minimal + "    filters:\n      - {name: drop bots, drop: \"true\"}\n",
			`bad.yaml:9: pipelines[0].filters[0].name: invalid filter name "drop bots" (expected letters, digits, '_' or '-')`},

		// dedup
		{"dedup without field", minimal + "    dedup: {window: 1h}\n",
			`bad.yaml:8: pipelines[0].dedup.field: missing required key`},
		{"dedup field not declared", minimal + "    dedup:\n      field: evnt_id\n      time_field: event_id\n",
			`bad.yaml:9: pipelines[0].dedup.field: field "evnt_id" is not a declared column`},
		{"dedup time_field defaults to an undeclared event_time", minimal + "    dedup: {field: event_id}\n",
			`bad.yaml:8: pipelines[0].dedup.time_field: field "event_time" is not a declared column`},
		{"zero dedup window", minimal + "    dedup: {field: event_id, time_field: event_id, window: 0s}\n",
			`bad.yaml:8: pipelines[0].dedup.window: must be a positive duration, got 0s`},
		{"dedup not a mapping", minimal + "    dedup: event_id\n",
			`bad.yaml:8: pipelines[0].dedup: expected a mapping, got a string`},

		// routes
		{"route table name", minimal + "    routes:\n      - {table: purchases, when: \"true\"}\n",
			`bad.yaml:9: pipelines[0].routes[0].table: invalid table name "purchases" (expected namespace.table, each part [a-z_][a-z0-9_]*)`},
		{"route to the own table", minimal + "    routes:\n      - {table: staging.game_events, when: \"true\"}\n",
			`bad.yaml:9: pipelines[0].routes[0].table: route table "staging.game_events" is the pipeline's own table`},
		{"route to the rejected table", minimal + "    routes:\n      - {table: staging.game_events_rejected, when: \"true\"}\n",
			`bad.yaml:9: pipelines[0].routes[0].table: route table "staging.game_events_rejected" is the pipeline's table for rejected records`},
		{"duplicate route table", minimal + "    routes:\n      - {table: staging.big, when: \"amount > 1.0\"}\n      - {table: staging.big, when: \"amount > 2.0\"}\n",
			`bad.yaml:10: pipelines[0].routes[1].table: duplicate route table "staging.big" (also routes[0])`},
		{"route to another pipeline's table", minimal + "  - name: other\n    topics: [other]\n    table: {name: staging.other, columns: [{name: a, type: string}]}\n    routes: [{table: staging.game_events_rejected, when: \"true\"}]\n",
			`bad.yaml:11: pipelines[1].routes[0].table: route table "staging.game_events_rejected" is already used by pipeline "game-events" for rejected records`},
		{"table used by an earlier pipeline's route", minimal + "    routes: [{table: staging.other, when: \"true\"}]\n  - name: other\n    topics: [other]\n    table: {name: staging.other, columns: [{name: a, type: string}]}\n",
			`bad.yaml:11: pipelines[1].table.name: table "staging.other" is already used by pipeline "game-events" as a route`},
		{"route with when and event_types", withDefs + "    routes:\n      - table: staging.purchases\n        event_types: [purchase]\n        when: \"true\"\n",
			`bad.yaml:9: pipelines[0].routes[0].when: a route takes when or event_types, not both`},
		{"route with neither", minimal + "    routes:\n      - table: staging.purchases\n",
			`bad.yaml:9: pipelines[0].routes[0]: a route needs when or event_types`},
		{"event_types without definitions", minimal + "    routes:\n      - table: staging.purchases\n        event_types: [purchase]\n",
			`bad.yaml:10: pipelines[0].routes[0].event_types: event_types needs definitions (set definitions.files or definitions.registry)`},
		{"empty event_types", withDefs + "    routes:\n      - {table: staging.purchases, event_types: []}\n",
			`bad.yaml:7: pipelines[0].routes[0].event_types: at least one event type is required`},
		{"empty when", minimal + "    routes:\n      - {table: staging.purchases, when: \"\"}\n",
			`bad.yaml:9: pipelines[0].routes[0].when: must not be empty`},
		{"unknown route key", minimal + "    routes:\n      - {tables: staging.purchases, when: \"true\"}\n",
			`bad.yaml:9: pipelines[0].routes[0].tables: unknown key (expected one of: table, when, event_types)`},

		// completeness
		{"completeness without seq_field", minimal + "    completeness: {producer_field: event_id}\n",
			`bad.yaml:8: pipelines[0].completeness.seq_field: missing required key`},
		{"completeness field not declared", minimal + "    completeness:\n      producer_field: event_id\n      seq_field: client_seq\n",
			`bad.yaml:10: pipelines[0].completeness.seq_field: field "client_seq" is not a declared column`},
		{"completeness fields equal", minimal + "    completeness: {producer_field: event_id, seq_field: event_id}\n",
			`bad.yaml:8: pipelines[0].completeness.seq_field: must differ from producer_field`},
	})
}

// TestDefinitionsSkipColumnChecks checks that with definitions every field
// reference is left to the schemas, while the checks that do not depend on
// columns still apply.
func TestDefinitionsSkipColumnChecks(t *testing.T) {
	yaml := withDefs + `    cleanse:
      fields: [{field: platform}]
      future: {max_skew: 1m}
    enrich:
      lookups: [{file: testdata/items.csv, key: item_id, columns: [{name: item_name, type: string}]}]
    dedup: {field: event_id}
    completeness: {producer_field: player_id, seq_field: client_seq}
`
	if _, err := Parse("ok.yaml", []byte(yaml)); err != nil {
		t.Fatalf("field references with definitions: %v", err)
	}
	_, err := Parse("bad.yaml", []byte(yaml+"    filters: [{name: x, drop: \"\"}]\n"))
	if want := `bad.yaml:13: pipelines[0].filters[0].drop: must not be empty`; err == nil || err.Error() != want {
		t.Errorf("\n got %v\nwant %s", err, want)
	}
}
