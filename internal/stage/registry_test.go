package stage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/wire"
	"github.com/bigfather/bigfather/internal/stage"
)

const avroV1 = `{"type":"record","name":"Event","namespace":"game","fields":[
 {"name":"id","type":"string"},
 {"name":"score","type":"int"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"geo","type":{"type":"record","name":"Geo","fields":[{"name":"lat","type":"double"},{"name":"lon","type":"double"}]}},
 {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}}]}`

// avroV2 widens score to long and adds an optional level; its contract rejects negative scores.
const avroV2 = `{"type":"record","name":"Event","namespace":"game","fields":[
 {"name":"id","type":"string"},
 {"name":"score","type":"long"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"geo","type":{"type":"record","name":"Geo","fields":[{"name":"lat","type":"double"},{"name":"lon","type":"double"}]}},
 {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
 {"name":"level","type":["null","int"],"default":null}]}`

type geo struct {
	Lat float64 `avro:"lat"`
	Lon float64 `avro:"lon"`
}

type eventV1 struct {
	ID    string           `avro:"id"`
	Score int32            `avro:"score"`
	TS    time.Time        `avro:"ts"`
	Price *big.Rat         `avro:"price"`
	Tags  []string         `avro:"tags"`
	Attrs map[string]int64 `avro:"attrs"`
	Geo   geo              `avro:"geo"`
	Kind  string           `avro:"kind"`
}

type eventV2 struct {
	ID    string           `avro:"id"`
	Score int64            `avro:"score"`
	TS    time.Time        `avro:"ts"`
	Price *big.Rat         `avro:"price"`
	Tags  []string         `avro:"tags"`
	Attrs map[string]int64 `avro:"attrs"`
	Geo   geo              `avro:"geo"`
	Kind  string           `avro:"kind"`
	Level *int32           `avro:"level"`
}

// registerSchema registers text under subject over the registry API and returns the id, or the status and
// body of a refusal.
func registerSchema(t *testing.T, url, subject, text string, ruleSet any) (int, int, string) {
	t.Helper()
	return registerTyped(t, url, subject, "", text, ruleSet)
}

// registerTyped is registerSchema for a schemaType ("" for Avro).
func registerTyped(t *testing.T, url, subject, schemaType, text string, ruleSet any) (int, int, string) {
	t.Helper()
	req := map[string]any{"schema": text, "ruleSet": ruleSet}
	if schemaType != "" {
		req["schemaType"] = schemaType
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post(url+"/subjects/"+subject+"/versions", registry.ContentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID int `json:"id"`
	}
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, resp.StatusCode, strings.TrimSpace(raw.String())
	}
	if err := json.Unmarshal(raw.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out.ID, resp.StatusCode, ""
}

// TestRegistryAvroEvolution stages registry-framed Avro records while the subject evolves: v1 creates the
// table with nested, decimal and enum columns; v2 widens an int to long and adds an optional column, which
// the running stage adds to the table; an incompatible v3 is refused by the registry. Records with an
// unknown id, without framing, or breaking v2's contract rule land in the rejected table with their reason.
func TestRegistryAvroEvolution(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	uri := "sqlite://" + filepath.Join(dir, "catalog.db")
	store, err := registry.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(registry.NewHandler(store))
	defer srv.Close()
	lk, err := lake.Open(ctx, uri, filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(vals ...[]byte) {
		t.Helper()
		for _, v := range vals {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}

	id1, status, body := registerSchema(t, srv.URL, "events-value", avroV1, nil)
	if status != http.StatusOK {
		t.Fatalf("registering v1: %d %s", status, body)
	}
	s1, s2 := avro.MustParse(avroV1), avro.MustParse(avroV2)
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		payload, err := avro.Marshal(s1, eventV1{ID: fmt.Sprintf("v1-%d", i), Score: int32(i), TS: base.Add(time.Duration(i) * time.Minute),
			Price: big.NewRat(int64(100*i+5), 100), Tags: []string{"t", fmt.Sprint(i)}, Attrs: map[string]int64{"k": int64(i)},
			Geo: geo{Lat: 37.5, Lon: float64(i)}, Kind: []string{"A", "B"}[i%2]})
		if err != nil {
			t.Fatal(err)
		}
		produce(wire.Frame(id1, nil, payload))
	}
	produce(wire.Frame(9999, nil, []byte{1, 2}), []byte(`{"id":"plain json"}`))

	p := &config.Pipeline{Name: "events", Topics: []string{"events"}, Start: "earliest", Format: config.FormatAvro, Subject: "events-value",
		SchemaChange: config.SchemaChangePause, Group: "g-events", Table: config.Table{Name: "staging.events"},
		Commit: config.Commit{Interval: 200 * time.Millisecond, MaxRows: 1000, MaxBytes: 64 << 20}}
	m := monitor.NewMetrics()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{br.Addr()}, Lake: lk, Metrics: m, Registry: store,
			Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	}()
	waitRows := func(table string, n float64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, table)) < n {
			if time.Now().After(deadline) {
				if table == "staging.events" {
					t.Log(queryTable(t, lk, "staging.events_rejected", "select _offset, reason_code, reason from staging.events_rejected"))
				}
				t.Fatalf("timed out waiting for %v rows in %s (have %v)", n, table, testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, table)))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitRows("staging.events", 10)

	rules := map[string]any{"domainRules": []map[string]any{{"name": "scoreNotNegative", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
		"expr": "message.score >= 0", "onFailure": "DLQ"}}}
	id2, status, body := registerSchema(t, srv.URL, "events-value", avroV2, rules)
	if status != http.StatusOK {
		t.Fatalf("registering v2: %d %s", status, body)
	}
	for i := range 10 {
		var level *int32
		if i%2 == 0 {
			l := int32(i * 10)
			level = &l
		}
		score := int64(i) + 5_000_000_000
		if i == 7 {
			score = -1 // breaks the contract
		}
		payload, err := avro.Marshal(s2, eventV2{ID: fmt.Sprintf("v2-%d", i), Score: score, TS: base.Add(time.Hour), Price: big.NewRat(1, 4),
			Tags: nil, Attrs: map[string]int64{}, Geo: geo{Lat: 1, Lon: 2}, Kind: "B", Level: level})
		if err != nil {
			t.Fatal(err)
		}
		produce(wire.Frame(id2, nil, payload))
	}
	incompatible := strings.Replace(avroV2, `{"name":"score","type":"long"}`, `{"name":"score","type":"string"}`, 1)
	if _, status, body := registerSchema(t, srv.URL, "events-value", incompatible, nil); status != http.StatusConflict || !strings.Contains(body, `"error_code":409`) {
		t.Errorf("incompatible v3: %d %s, want 409", status, body)
	}
	waitRows("staging.events", 19)
	waitRows("staging.events_rejected", 3)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		sql  string
		want string
	}{
		{`select count(*), count(distinct id), count(level), sum(level), min(score), max(score) from staging.events`,
			"[[19 19 5 200 0 5000000009]]"},
		{`select typeof(score), typeof(level), typeof(price), typeof(geo), typeof(tags), typeof(attrs) from staging.events limit 1`,
			"[[BIGINT INTEGER DECIMAL(10,2) STRUCT(lat DOUBLE, lon DOUBLE) VARCHAR[] MAP(VARCHAR, BIGINT)]]"},
		{`select id, score, level, cast(price as varchar), ts, geo.lat, geo.lon, tags[2], attrs['k'], kind, _schema_id from staging.events where id in ('v1-3', 'v2-4') order by id`,
			fmt.Sprintf("[[v1-3 3 <nil> 3.05 %v 37.5 3 3 3 B %d] [v2-4 5000000004 40 0.25 %v 1 2 <nil> <nil> B %d]]",
				base.Add(3*time.Minute), id1, base.Add(time.Hour), id2)},
		{`select count(*) filter (where level is null and _schema_id = ` + fmt.Sprint(id1) + `) from staging.events`, "[[10]]"},
		{`select reason_code, field, reason from staging.events_rejected order by _offset`, fmt.Sprintf("[%s %s %s]",
			"[unknown_schema <nil> schema id 9999 is not in the schema registry]",
			"[not_framed <nil> not in the schema registry wire format: the first byte is 0x7b, expected the magic byte 0x00]",
			"[contract_violation scoreNotNegative subject events-value: rule scoreNotNegative failed: message.score >= 0 is false]")},
	}
	run := func(when string) {
		for _, c := range checks {
			name := "staging.events"
			if strings.Contains(c.sql, "_rejected") {
				name = "staging.events_rejected"
			}
			rows := queryTable(t, lk, name, c.sql)
			if got := fmt.Sprint(rows); got != c.want {
				t.Errorf("%s: %s\n got %s\nwant %s", when, c.sql, got, c.want)
			}
		}
	}
	run("staged")
	// Compaction rewrites files of both schemas (v1's lack level, have score as int) into the current one.
	rep, err := maintain.Table(ctx, lk, "staging.events", maintain.Options{TargetFileSize: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesRewritten < 2 || rep.FilesWritten != 1 {
		t.Errorf("compaction: %+v, want the files rewritten into one", rep)
	}
	run("compacted")
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
