package stage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/schema"
	"github.com/bigfather/bigfather/internal/registry/wire"
	"github.com/bigfather/bigfather/internal/stage"
)

// registryRig is a broker, a lake and a registry on one SQLite catalog, for registry-format staging tests.
type registryRig struct {
	ctx   context.Context
	lk    *lake.Lake
	store *registry.Store
	url   string
	br    *broker.Broker
	cl    *kgo.Client
}

func newRegistryRig(t *testing.T, topic string) *registryRig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	uri := "sqlite://" + filepath.Join(dir, "catalog.db")
	store, err := registry.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(registry.NewHandler(store))
	t.Cleanup(srv.Close)
	lk, err := lake.Open(ctx, uri, filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lk.Close() })
	br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &registryRig{ctx: ctx, lk: lk, store: store, url: srv.URL, br: br, cl: cl}
}

func (r *registryRig) produce(t *testing.T, key string, value []byte) {
	t.Helper()
	if err := r.cl.ProduceSync(r.ctx, &kgo.Record{Key: []byte(key), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// stage runs p until want rows are committed to each table named, then stops it.
func (r *registryRig) stage(t *testing.T, p *config.Pipeline, want map[string]float64) {
	t.Helper()
	m := monitor.NewMetrics()
	rctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{r.br.Addr()}, Lake: r.lk, Metrics: m, Registry: r.store,
			Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for table, n := range want {
		for testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, table)) < n {
			if time.Now().After(deadline) {
				cancel()
				<-done
				t.Fatalf("timed out waiting for %v rows in %s (have %v)", n, table, testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, table)))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

const jsonEventSchema = `{"type":"object","properties":{
 "event_id":{"type":"string"},
 "email":{"type":"string","confluent:tags":["PII"]},
 "event_type":{"type":"string"},
 "platform":{"type":"string"},
 "score":{"type":"integer"},
 "ts":{"type":"string","format":"date-time"},
 "items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"}}}},
 "extra":{"type":"object","additionalProperties":{"type":"number"}}},
 "required":["event_id","event_type","score"]}`

// TestRegistryJSONSchemaPath stages JSON Schema records through the whole path: cleansing, a derived column,
// a filter, dedup, a route, and a data-contract rule that exactly 1% of the records break (issue 10,
// acceptance 6): exactly those land in the rejected table, each naming the rule.
func TestRegistryJSONSchemaPath(t *testing.T) {
	r := newRegistryRig(t, "js")
	rules := map[string]any{"domainRules": []map[string]any{{"name": "scoreInRange", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
		"expr": "message.score >= 0 && message.score <= 1000", "onFailure": "DLQ"},
		{"name": "maskPII", "kind": "TRANSFORM", "mode": "WRITE", "type": "CEL_FIELD", "tags": []string{"PII"}, "expr": "typeName == 'STRING' ; 'redacted'"}}}
	schemaID, status, body := registerTyped(t, r.url, "js-value", "JSON", jsonEventSchema, rules)
	if status != http.StatusOK {
		t.Fatalf("register: %d %s", status, body)
	}
	const n = 2000
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wantBad := map[int]bool{}
	staged, ios := 0, 0
	for i := range n {
		score := i % 1000
		if i%100 == 42 {
			score = 5000 + i // breaks the rule: 1% of the records
			wantBad[i] = true
		}
		evType, platform := "play", []string{" IOS ", "android", "Web"}[i%3]
		eventID := fmt.Sprintf("e-%d", i)
		switch {
		case i%50 == 7:
			evType = "debug" // filtered
		case i%250 == 11:
			eventID = "e-10" // a duplicate of record 10
		}
		rec := fmt.Sprintf(`{"event_id":%q,"email":"player-%[1]s@example.com","event_type":%q,"platform":%q,"score":%d,"ts":%q,"items":[{"sku":"s%d","qty":%d}],"extra":{"x":%d.5}}`,
			eventID, evType, platform, score, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, i%3, i)
		r.produce(t, eventID, wire.Frame(schemaID, nil, []byte(rec)))
		switch {
		case wantBad[i]:
		case evType == "debug":
		case eventID == "e-10" && i != 10: // a duplicate
		default:
			staged++
			if i%3 == 0 {
				ios++
			}
		}
	}
	p := &config.Pipeline{Name: "js", Topics: []string{"js"}, Start: "earliest", Format: config.FormatJSONSchema, Subject: "js-value",
		SchemaChange: config.SchemaChangePause, Group: "g-js", Table: config.Table{Name: "staging.js"},
		Commit:  config.Commit{Interval: 200 * time.Millisecond, MaxRows: 500, MaxBytes: 64 << 20},
		Cleanse: config.Cleanse{Trim: true, Fields: []config.FieldCleanse{{Field: "platform", Case: "lower", Aliases: map[string]string{"web": "browser"}}}},
		Enrich:  config.Enrich{Derive: []config.Derived{{Name: "double_score", Type: config.TypeLong, Expr: "score * 2"}}},
		Filters: []config.Filter{{Name: "no-debug", Drop: `event_type == "debug"`}},
		Dedup:   config.Dedup{Field: "event_id", TimeField: "ts", Window: 24 * time.Hour},
		Routes:  []config.Route{{Table: "staging.js_ios", When: `platform == "ios"`}},
	}
	r.stage(t, p, map[string]float64{"staging.js": float64(staged), "staging.js_ios": float64(ios), "staging.js_rejected": float64(len(wantBad))})

	got := fmt.Sprint(queryTable(t, r.lk, "staging.js", `select count(*), count(distinct event_id), sum(double_score) = 2 * sum(score),
		count(*) filter (where platform = 'ios'), count(*) filter (where platform = 'browser'), count(*) filter (where event_type = 'debug'),
		min(_schema_id), max(_schema_id), count(*) filter (where email = 'redacted'), sum(items[1].qty), typeof(any_value(items)), typeof(any_value(extra)) from staging.js`))
	var qty int
	for i := range n {
		if !wantBad[i] && i%50 != 7 && i%250 != 11 {
			qty += i % 3
		}
	}
	want := fmt.Sprintf("[[%d %d true %d %d 0 %d %d %d %d STRUCT(qty BIGINT, sku VARCHAR)[] MAP(VARCHAR, DOUBLE)]]", staged, staged, ios, countBrowser(n, wantBad), schemaID, schemaID, staged, qty)
	if got != want {
		t.Errorf("staged rows:\n got %s\nwant %s", got, want)
	}
	if got := fmt.Sprint(queryTable(t, r.lk, "staging.js_ios", "select count(*), min(platform), max(platform) from staging.js_ios")); got != fmt.Sprintf("[[%d ios ios]]", ios) {
		t.Errorf("route: %s", got)
	}
	rej := queryTable(t, r.lk, "staging.js_rejected", "select _offset, _partition, reason_code, field, reason from staging.js_rejected order by reason")
	if len(rej) != len(wantBad) {
		t.Fatalf("rejected: %d rows, want %d: %v", len(rej), len(wantBad), rej)
	}
	for _, row := range rej {
		if row[2] != "contract_violation" || row[3] != "scoreInRange" {
			t.Errorf("rejected row %v: want contract_violation naming scoreInRange", row)
		}
	}
	// A replay of partition 0 through the same pipeline reads every record with the registry again and stages
	// nothing new: dedup knows every id.
	stats, err := stage.ReplayRange(r.ctx, stage.Options{Pipeline: p, Brokers: []string{r.br.Addr()}, Lake: r.lk, Registry: r.store,
		Logger: slog.New(slog.DiscardHandler)}, stage.Replay{Topic: "js", Partition: 0, From: 0, To: -1})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Staged != 0 || stats.Read == 0 || stats.Duplicates+stats.Rejected+stats.Filtered != stats.Read {
		t.Errorf("replay: %+v, want every record read again and nothing staged", stats)
	}
	if got := fmt.Sprint(queryTable(t, r.lk, "staging.js", "select count(*) from staging.js")); got != fmt.Sprintf("[[%d]]", staged) {
		t.Errorf("after the replay: %s rows, want %d", got, staged)
	}
	// Exactly the breaking records: their ids, read back from the rejected raw values.
	var gotBad []string
	for _, row := range queryTable(t, r.lk, "staging.js_rejected", "select value from staging.js_rejected") {
		var rec struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(row[0].([]byte)[5:], &rec); err != nil {
			t.Fatal(err)
		}
		gotBad = append(gotBad, rec.EventID)
	}
	var wantIDs []string
	for i := range wantBad {
		wantIDs = append(wantIDs, fmt.Sprintf("e-%d", i))
	}
	slices.Sort(gotBad)
	slices.Sort(wantIDs)
	if !slices.Equal(gotBad, wantIDs) {
		t.Errorf("rejected records %v, want %v", gotBad, wantIDs)
	}
	if got := fmt.Sprint(queryTable(t, r.lk, "staging.js_rejected", `select count(*) from staging.js_rejected
		where reason like 'subject js-value: rule scoreInRange failed: message.score >= 0 && message.score <= 1000 is false'`)); got != fmt.Sprintf("[[%d]]", len(wantBad)) {
		t.Errorf("rejected reasons: %s", got)
	}
}

func countBrowser(n int, bad map[int]bool) int {
	c := 0
	for i := range n {
		if i%3 == 2 && !bad[i] && i%50 != 7 && i%250 != 11 {
			c++
		}
	}
	return c
}

const protoSchema = `syntax = "proto3";
package game;
import "google/protobuf/timestamp.proto";
message Purchase {
  string id = 1;
  uint64 cents = 2;
  optional int32 level = 3;
  Currency currency = 4;
  google.protobuf.Timestamp at = 5;
  repeated string tags = 6;
  map<string, int64> counts = 7;
  Item item = 8;
  enum Currency { UNKNOWN = 0; KRW = 1; USD = 2; }
  message Item { string sku = 1; double price = 2; }
}
message Other { string x = 1; }`

// TestRegistryProtobuf stages Protobuf records framed with message indexes ([0] as one zero byte, as
// Confluent's serializers write it) and without any (as the npm client does); a record naming the second
// message is rejected.
func TestRegistryProtobuf(t *testing.T) {
	r := newRegistryRig(t, "pb")
	body := fmt.Sprintf(`{"schemaType":"PROTOBUF","schema":%q}`, protoSchema)
	resp, err := http.Post(r.url+"/subjects/pb-value/versions", registry.ContentType, stringsReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	parsed, err := schema.Parse(schema.Protobuf, protoSchema, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := schema.ProtoOf(parsed).Messages().Get(0)
	at := time.Date(2026, 11, 30, 9, 0, 0, 500_000_000, time.UTC)
	for i := range 6 {
		m := dynamicpb.NewMessage(md)
		f := md.Fields()
		m.Set(f.ByName("id"), protoString(fmt.Sprintf("p-%d", i)))
		m.Set(f.ByName("cents"), protoUint(uint64(1)<<63+uint64(i)))
		if i%2 == 0 {
			m.Set(f.ByName("level"), protoInt32(int32(i)))
		}
		m.Set(f.ByName("currency"), protoEnum(int32(1+i%2)))
		ts := dynamicpb.NewMessage(f.ByName("at").Message())
		ts.Set(ts.Descriptor().Fields().ByName("seconds"), protoInt64(at.Unix()))
		ts.Set(ts.Descriptor().Fields().ByName("nanos"), protoInt32(int32(at.Nanosecond())))
		m.Set(f.ByName("at"), protoMsg(ts))
		l := m.Mutable(f.ByName("tags")).List()
		l.Append(protoString("a"))
		l.Append(protoString(fmt.Sprint(i)))
		m.Mutable(f.ByName("counts")).Map().Set(protoString("z").MapKey(), protoInt64(int64(i)))
		m.Mutable(f.ByName("counts")).Map().Set(protoString("a").MapKey(), protoInt64(1))
		item := m.Mutable(f.ByName("item")).Message()
		item.Set(item.Descriptor().Fields().ByName("sku"), protoString("sku"))
		item.Set(item.Descriptor().Fields().ByName("price"), protoFloat(1.5))
		payload, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		indexes := []int{0}
		if i >= 3 {
			indexes = nil // no message indexes at all
		}
		r.produce(t, "k", wire.Frame(1, indexes, payload))
	}
	r.produce(t, "k", wire.Frame(1, []int{1}, []byte{0x0a, 0x01, 'x'}))
	p := &config.Pipeline{Name: "pb", Topics: []string{"pb"}, Start: "earliest", Format: config.FormatProtobuf, Subject: "pb-value",
		SchemaChange: config.SchemaChangeReject, Group: "g-pb", Table: config.Table{Name: "staging.pb"},
		Commit: config.Commit{Interval: 200 * time.Millisecond, MaxRows: 500, MaxBytes: 64 << 20}}
	r.stage(t, p, map[string]float64{"staging.pb": 6, "staging.pb_rejected": 1})
	checks := []struct{ sql, want string }{
		{`select id, cast(cents as varchar), level, currency, "at", tags, counts, item.sku, item.price from staging.pb order by id`,
			fmt.Sprintf("[[p-0 9223372036854775808 0 KRW %[1]v [a 0] map[a:1 z:0] sku 1.5] [p-1 9223372036854775809 <nil> USD %[1]v [a 1] map[a:1 z:1] sku 1.5] "+
				"[p-2 9223372036854775810 2 KRW %[1]v [a 2] map[a:1 z:2] sku 1.5] [p-3 9223372036854775811 <nil> USD %[1]v [a 3] map[a:1 z:3] sku 1.5] "+
				"[p-4 9223372036854775812 4 KRW %[1]v [a 4] map[a:1 z:4] sku 1.5] [p-5 9223372036854775813 <nil> USD %[1]v [a 5] map[a:1 z:5] sku 1.5]]", at)},
		{`select typeof(cents), typeof(level), typeof("at") from staging.pb limit 1`, "[[DECIMAL(20,0) INTEGER TIMESTAMP WITH TIME ZONE]]"},
		{`select reason_code, reason from staging.pb_rejected`,
			"[[undecodable schema id 1: the message indexes [1] name message game.Other; the table follows game.Purchase, the schema's first message]]"},
	}
	for _, c := range checks {
		name := "staging.pb"
		if c.sql[len(c.sql)-9:] == "_rejected" {
			name = "staging.pb_rejected"
		}
		if got := fmt.Sprint(queryTable(t, r.lk, name, c.sql)); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// TestRegistrySchemaChange: a version the table cannot take (score int → string, accepted by the registry
// under NONE) pauses the pipeline before its first record under schema_change: pause, naming the change, and
// leaves the table as it was; under schema_change: reject its records land in the rejected table.
func TestRegistrySchemaChange(t *testing.T) {
	for _, policy := range []string{config.SchemaChangePause, config.SchemaChangeReject} {
		t.Run(policy, func(t *testing.T) {
			topic := "sc-" + policy
			r := newRegistryRig(t, topic)
			subject := topic + "-value"
			req, _ := http.NewRequest(http.MethodPut, r.url+"/config/"+subject, stringsReader(`{"compatibility":"NONE"}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			v1 := `{"type":"object","properties":{"id":{"type":"string"},"score":{"type":"integer"}}}`
			v2 := `{"type":"object","properties":{"id":{"type":"string"},"score":{"type":"string"}}}`
			id1, _, _ := registerTyped(t, r.url, subject, "JSON", v1, nil)
			for i := range 3 {
				r.produce(t, "k", wire.Frame(id1, nil, fmt.Appendf(nil, `{"id":"a%d","score":%d}`, i, i)))
			}
			p := &config.Pipeline{Name: topic, Topics: []string{topic}, Start: "earliest", Format: config.FormatJSONSchema, Subject: subject,
				SchemaChange: policy, Group: "g-" + topic, Table: config.Table{Name: "staging.t" + policy},
				Commit: config.Commit{Interval: 100 * time.Millisecond, MaxRows: 500, MaxBytes: 64 << 20}}
			m, health := monitor.NewMetrics(), monitor.NewHealth()
			rctx, cancel := context.WithCancel(r.ctx)
			done := make(chan error, 1)
			go func() {
				done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{r.br.Addr()}, Lake: r.lk, Metrics: m, Health: health, Registry: r.store,
					Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s (statuses %+v)", what, health.Statuses())
					}
				}
			}
			waitFor("3 rows", func() bool { return testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) >= 3 })
			id2, status, body := registerTyped(t, r.url, subject, "JSON", v2, nil)
			if status != http.StatusOK {
				t.Fatalf("register v2: %d %s", status, body)
			}
			r.produce(t, "k", wire.Frame(id2, nil, []byte(`{"id":"b0","score":"high"}`)))
			r.produce(t, "k", wire.Frame(id1, nil, []byte(`{"id":"a3","score":3}`)))
			why := fmt.Sprintf("schema id %d of subject %s changes the table in a way it cannot take: cannot change column type: score: long -> string", id2, subject)
			if policy == config.SchemaChangePause {
				waitFor("a pause", func() bool { return testutil.ToFloat64(m.Paused.WithLabelValues(p.Name)) == 1 })
				st := health.Statuses()[p.Name]
				if want := fmt.Sprintf("record %s/0@3 rejected: schema_change: %s", topic, why); st.State != "paused" || st.LastError != want {
					t.Errorf("paused with %q (%s), want %q", st.LastError, st.State, want)
				}
				if got := fmt.Sprint(queryTable(t, r.lk, p.Table.Name, "select count(*), typeof(any_value(score)) from "+p.Table.Name)); got != "[[3 BIGINT]]" {
					t.Errorf("table after the pause: %s", got)
				}
				return
			}
			waitFor("the rejection", func() bool {
				return testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name+"_rejected")) >= 1 &&
					testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) >= 4
			})
			if got := fmt.Sprint(queryTable(t, r.lk, p.Table.Name+"_rejected", "select _offset, reason_code, reason from "+p.Table.Name+"_rejected")); got != fmt.Sprintf("[[3 schema_change %s]]", why) {
				t.Errorf("rejected: %s", got)
			}
		})
	}
}
