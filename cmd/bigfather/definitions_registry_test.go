package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/schema"
)

// The log definitions of the registry tests: two kept in the schema registry (level_up in two versions, the
// second capping the level), one in a file.
const (
	regLevelUpV1 = `{"type": "object", "required": ["event_id", "event_time", "player_id", "event_type", "level"],
  "properties": {"event_id": {"type": "string"}, "event_time": {"type": "string", "format": "date-time"},
    "player_id": {"type": "string"}, "event_type": {"const": "level_up"}, "level": {"type": "integer", "minimum": 1}}}`
	regLevelUpV2 = `{"type": "object", "required": ["event_id", "event_time", "player_id", "event_type", "level"],
  "properties": {"event_id": {"type": "string"}, "event_time": {"type": "string", "format": "date-time"},
    "player_id": {"type": "string"}, "event_type": {"const": "level_up"}, "level": {"type": "integer", "minimum": 1, "maximum": 100}}}`
	regSessionEnd = `{"type": "object", "required": ["event_id", "event_time", "player_id", "event_type"],
  "properties": {"event_id": {"type": "string"}, "event_time": {"type": "string", "format": "date-time"},
    "player_id": {"type": "string"}, "event_type": {"const": "session_end"}, "duration_s": {"type": "integer", "minimum": 0}},
  "additionalProperties": false}`
	filePurchase = `{"title": "purchase", "type": "object", "required": ["event_id", "event_time", "player_id", "event_type", "amount"],
  "properties": {"event_id": {"type": "string"}, "event_time": {"type": "string", "format": "date-time"},
    "player_id": {"type": "string"}, "event_type": {"const": "purchase"}, "amount": {"type": "number", "exclusiveMinimum": 0},
    "currency": {"enum": ["USD", "EUR"]}}}`
)

// register registers schemas (subject → text) of type t in the schema registry of the catalog at uri, in the
// order given.
func register(t *testing.T, uri string, typ schema.Type, subjectsAndTexts ...string) {
	t.Helper()
	ctx := context.Background()
	s, err := registry.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i+1 < len(subjectsAndTexts); i += 2 {
		subject, text := subjectsAndTexts[i], subjectsAndTexts[i+1]
		parsed, err := schema.Parse(typ, text, nil, nil)
		if err != nil {
			t.Fatalf("parsing the schema of %s: %v", subject, err)
		}
		if _, _, err := s.Register(ctx, registry.Registration{Subject: subject, Type: typ, Text: text, Canonical: parsed.Canonical()}); err != nil {
			t.Fatalf("registering %s: %v", subject, err)
		}
	}
}

// writeRegistryDefsConfig writes a config whose one pipeline "test" reads topic into staging.<table>, its
// columns from the definitions: extra is the definitions block's body.
func (e *env) writeRegistryDefsConfig(brokers, topic, table, definitions string) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
pipelines:
  - name: test
    topics: [%s]
    table: {name: staging.%s}
    commit: {interval: 1s}
    definitions:
%s`, brokers, filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), topic, table, definitions)
	path := filepath.Join(e.dir, "bigfather.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// TestDefinitionsFromRegistry: `bigfather stage` takes the log definitions under definitions.registry's prefix
// from the schema registry in the catalog database, each subject's latest version, beside a definition file;
// records are accepted and rejected by them with exact reasons.
func TestDefinitionsFromRegistry(t *testing.T) {
	e := newEnv(t)
	const topic = "regdefs.events"
	createTopic(t, e, topic, 1)
	uri := "sqlite://" + filepath.Join(e.dir, "catalog.db")
	register(t, uri, schema.JSON,
		"game.definitions.level_up", regLevelUpV1,
		"game.definitions.level_up", regLevelUpV2,
		"game.definitions.session_end", regSessionEnd,
		"game.definitions", regSessionEnd, // the prefix without its dot: not under it
	)
	register(t, uri, schema.Avro, "regdefs.events-value", `{"type": "record", "name": "Event", "fields": [{"name": "a", "type": "string"}]}`)
	if err := os.WriteFile(filepath.Join(e.dir, "purchase.json"), []byte(filePurchase), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := e.writeRegistryDefsConfig(e.broker.Addr(), topic, "regdefs",
		"      files: [purchase.json]\n      registry: {subject_prefix: game.definitions.}\n")

	ts := func(i int) string {
		return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
	}
	// Valid records, in turn level_up, session_end and purchase; a bad one after every 25th (offsets 25, 51, ...).
	bad := []struct {
		value               string
		code, field, reason string
	}{
		{`{"event_id":"b1","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"level_up","level":150}`,
			"out_of_range", "level", `field "level": 150 is more than the maximum 100`},
		{`{"event_id":"b2","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"level_up"}`,
			"missing_field", "level", `required field "level" is missing (expected long)`},
		{`{"event_id":"b3","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"session_end","duration_s":5,"score":1}`,
			"additional_property", "score", `field "score": additional property not allowed by the session_end definition`},
		{`{"event_id":"b4","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"session_end","duration_s":-1}`,
			"out_of_range", "duration_s", `field "duration_s": -1 is less than the minimum 0`},
		{`{"event_id":"b5","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"purchase","amount":4.99,"currency":"JPY"}`,
			"not_in_enum", "currency", `field "currency": "JPY" is not one of "USD", "EUR"`},
		{`{"event_id":"b6","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"login"}`,
			"unplanned_event", "event_type", `event type "login" has no definition (known: level_up, purchase, session_end)`},
	}
	const valid = 150
	var recs []*kgo.Record
	var wantRejected []string
	nbad := 0
	for i := 0; i < valid; i++ {
		var v string
		switch i % 3 {
		case 0:
			v = fmt.Sprintf(`{"event_id":"e-%03d","event_time":%q,"player_id":"p%d","event_type":"level_up","level":%d}`, i, ts(i), i%7, i%100+1)
		case 1:
			v = fmt.Sprintf(`{"event_id":"e-%03d","event_time":%q,"player_id":"p%d","event_type":"session_end","duration_s":%d}`, i, ts(i), i%7, i*10)
		default:
			v = fmt.Sprintf(`{"event_id":"e-%03d","event_time":%q,"player_id":"p%d","event_type":"purchase","amount":%d.99,"currency":"EUR"}`, i, ts(i), i%7, i%20)
		}
		recs = append(recs, &kgo.Record{Partition: 0, Value: []byte(v)})
		if (i+1)%25 == 0 {
			b := bad[nbad]
			recs = append(recs, &kgo.Record{Partition: 0, Value: []byte(b.value)})
			wantRejected = append(wantRejected, fmt.Sprintf("%d %s %s %s", len(recs)-1, b.code, b.field, b.reason))
			nbad++
		}
	}
	if nbad != len(bad) {
		t.Fatalf("produced %d bad records, want %d", nbad, len(bad))
	}
	produceTo(t, e, topic, recs)

	p := e.startStage(cfg)
	e.finish(p, topic, "staging.regdefs", "staging.regdefs_rejected")
	if log := readFile(p.log); !strings.Contains(log, `msg="log definitions from the schema registry" pipeline=test subject_prefix=game.definitions. definitions="[level_up@2 session_end@1]"`) {
		t.Errorf("the stage log does not name the registry definitions and their versions:\n%s", p.tail())
	}
	e.assertRows("staging.regdefs", valid)
	for _, tc := range []struct {
		sql  string
		want int64
	}{
		{"select count(*) from staging.regdefs where event_type = 'level_up' and level between 1 and 100 and duration_s is null", valid / 3},
		{"select count(*) from staging.regdefs where event_type = 'session_end' and duration_s >= 0 and level is null", valid / 3},
		{"select count(*) from staging.regdefs where event_type = 'purchase' and amount > 0 and currency = 'EUR'", valid / 3},
	} {
		if got := e.queryInt(tc.sql); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.sql, got, tc.want)
		}
	}
	var gotRejected []string
	for _, r := range e.query("select _offset, reason_code, field, reason from staging.regdefs_rejected order by _offset") {
		gotRejected = append(gotRejected, fmt.Sprintf("%v %v %v %v", r...))
	}
	if strings.Join(gotRejected, "\n") != strings.Join(wantRejected, "\n") {
		t.Errorf("rejected rows:\n got %s\nwant %s", strings.Join(gotRejected, "\n"), strings.Join(wantRejected, "\n"))
	}
}

// TestDefinitionsFromRegistryErrors: a definitions prefix without subjects, a subject under it that is not a
// JSON schema, and an event type defined both in a file and in the registry stop `bigfather stage` before it
// starts, as configuration errors (exit 2) naming the pipeline and the subject.
func TestDefinitionsFromRegistryErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		setup       func(t *testing.T, uri string)
		definitions string
		want        string
	}{
		{"no subjects under the prefix", func(t *testing.T, uri string) {
			register(t, uri, schema.JSON, "game.defs.level_up", regLevelUpV1)
		}, "      registry: {subject_prefix: game.definitions.}\n",
			`bigfather: pipeline test: definitions.registry: no subject in the schema registry starts with "game.definitions." (register one JSON schema per event type, as subject game.definitions.EVENT_TYPE)`},
		{"an Avro subject under the prefix", func(t *testing.T, uri string) {
			register(t, uri, schema.JSON, "game.definitions.level_up", regLevelUpV1)
			register(t, uri, schema.Avro, "game.definitions.order", `{"type": "record", "name": "Order", "fields": []}`)
		}, "      registry: {subject_prefix: game.definitions.}\n",
			`bigfather: pipeline test: definitions.registry: subject "game.definitions.order" cannot be a log definition: its latest version (1) has schemaType AVRO; log definitions are JSON schemas (schemaType JSON)`},
		{"an event type in a file and in the registry", func(t *testing.T, uri string) {
			register(t, uri, schema.JSON, "game.definitions.purchase", strings.Replace(filePurchase, `"title": "purchase", `, "", 1))
		}, "      files: [purchase.json]\n      registry: {subject_prefix: game.definitions.}\n",
			`bigfather: pipeline test: definition "registry subject game.definitions.purchase, version 1": event type "purchase" is also defined by "purchase.json"`},
		{"a registry definition that does not compile", func(t *testing.T, uri string) {
			register(t, uri, schema.JSON, "game.definitions.level_up",
				`{"type": "object", "properties": {"event_type": {"const": "level_up"}, "tags": {"type": "array", "uniqueItems": true}}}`)
		}, "      registry: {subject_prefix: game.definitions.}\n",
			`bigfather: pipeline test: definition "registry subject game.definitions.level_up, version 1": unsupported keywords: /properties/tags/uniqueItems (supported: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, dir: t.TempDir()}
			tc.setup(t, "sqlite://"+filepath.Join(e.dir, "catalog.db"))
			if err := os.WriteFile(filepath.Join(e.dir, "purchase.json"), []byte(filePurchase), 0o644); err != nil {
				t.Fatal(err)
			}
			// Nothing listens at the broker address: the definitions fail before any connection.
			cfg := e.writeRegistryDefsConfig(loopbackAddr(t), "regdefs.events", "regdefs", tc.definitions)
			code, stdout, stderr := runBin(t, "stage", "--config", cfg, "--http", "off")
			// The log lines before it (the definitions read) are info; the error is the last line.
			last := stderr
			if i := strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n"); i >= 0 {
				last = stderr[i+1:]
			}
			if code != 2 || stdout != "" || !strings.HasPrefix(last, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and a last line starting with:\n%s", code, stdout, stderr, tc.want)
			}
		})
	}
}
