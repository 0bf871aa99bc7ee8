package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
		Catalog:   Catalog{URI: "postgres://bf@db.internal/catalog"},
		HTTP:      "0.0.0.0:9090",
		Path:      "testdata/valid.yaml",
		Pipelines: []Pipeline{
			{
				Name:   "game-events",
				Topics: []string{"game.events", "game.events.v2"},
				Start:  "latest",
				Format: "json",
				Group:  "bf-games",
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
				Commit: Commit{Interval: 30 * time.Second, MaxRows: 1000, MaxBytes: 64_000_000},
			},
			{ // every optional key left to its default
				Name:   "sessions",
				Topics: []string{"sessions"},
				Start:  "earliest",
				Format: "json",
				Group:  "bigfather-sessions",
				Table: Table{
					Name:    "staging.sessions",
					Columns: []Column{{Name: "session_id", Type: TypeString}},
				},
				Commit: Commit{Interval: 10 * time.Second, MaxRows: 500000, MaxBytes: 128 << 20},
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

func TestErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
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
`, `bad.yaml:3: pipelines[0].colums: unknown key (expected one of: name, topics, start, format, group, table, commit)`},
		{"unknown top-level key", "warehous: /tmp\n" + minimal,
			`bad.yaml:1: warehous: unknown key (expected one of: kafka, warehouse, catalog, http, pipelines)`},
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
		{"format not supported yet", minimal + "    format: avro\n",
			`bad.yaml:8: pipelines[0].format: format "avro" is not supported yet (supported: json)`},
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
	}
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
