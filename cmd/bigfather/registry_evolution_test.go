package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/registry/wire"
)

// The subject's versions in TestRegistryEvolutionUnderKills: v2 widens score to long and adds an optional
// level; v3 retypes score to string, which no compatibility level but NONE accepts.
const (
	evoV1 = `{"type":"record","name":"Match","namespace":"game","fields":[
 {"name":"id","type":"string"},
 {"name":"score","type":"int"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`
	evoV2 = `{"type":"record","name":"Match","namespace":"game","fields":[
 {"name":"id","type":"string"},
 {"name":"score","type":"long"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"level","type":["null","int"],"default":null}]}`
	evoV3 = `{"type":"record","name":"Match","namespace":"game","fields":[
 {"name":"id","type":"string"},
 {"name":"score","type":"string"},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"level","type":["null","int"],"default":null}]}`
)

type evoMatchV1 struct {
	ID    string    `avro:"id"`
	Score int32     `avro:"score"`
	TS    time.Time `avro:"ts"`
}

type evoMatchV2 struct {
	ID    string    `avro:"id"`
	Score int64     `avro:"score"`
	TS    time.Time `avro:"ts"`
	Level *int32    `avro:"level"`
}

// evoSums are the totals of the records one phase of the test produced.
type evoSums struct {
	rows, score, levels, levelSum int64
}

// TestRegistryEvolutionUnderKills is issue 10's acceptance 4 end to end: registry-framed Avro records on a
// 3-partition topic, produced with v1 of the subject and then with v2 (score widened from int to long, an
// optional level added), staged by `bigfather stage` processes killed with SIGKILL at random moments in both
// phases, the registry on a `bigfather console` process sharing the catalog. An incompatible v3 is refused with
// 409 and leaves the subject at two versions. The table ends with exactly one row per record and per (partition,
// offset), score BIGINT and level INTEGER, v1 rows with a null level and v1's id in _schema_id, v2 rows with
// v2's id and exactly the scores and levels produced, and no rejected record.
func TestRegistryEvolutionUnderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	const (
		n1, n2       = 3000, 3000
		topic        = "evo.matches"
		subject      = topic + "-value"
		table        = "staging.evo_matches"
		rejected     = table + "_rejected"
		killsByPhase = 3
	)
	e := newEnv(t)
	createTopic(t, e, topic, 3)
	cfg := filepath.Join(e.dir, "bigfather.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
pipelines:
  - name: test
    topics: [%s]
    format: avro
    schema_change: pause
    table:
      name: %s
    commit: {interval: 200ms, max_rows: 250}
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), topic, table)), 0o644); err != nil {
		t.Fatal(err)
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 10))
	t.Logf("kill schedule seed %d", seed)
	defer func() {
		if t.Failed() {
			t.Logf("stage logs:\n%s", e.stageLogTails())
		}
	}()

	// The registry: a console process on the same catalog database, as an operator would run it.
	addr := loopbackAddr(t)
	console := e.startProcess("", "console", "--config", cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("console log:\n%s", console.tail())
		}
	}()
	base := "http://" + addr
	waitFor(t, 60*time.Second, "the console's HTTP port", func() bool {
		code, _ := httpGet(base + "/healthz")
		return code == http.StatusOK
	})
	id1 := evoRegister(t, base, subject, evoV1)

	s1, s2 := avro.MustParse(evoV1), avro.MustParse(evoV2)
	ts0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var want1, want2 evoSums
	v1 := make([][]byte, n1)
	for i := range v1 {
		score := int32(i*37%100_000 - 5_000) // negative ones too: no contract forbids them
		payload, err := avro.Marshal(s1, evoMatchV1{ID: fmt.Sprintf("v1-%05d", i), Score: score, TS: ts0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		v1[i] = wire.Frame(id1, nil, payload)
		want1.rows++
		want1.score += int64(score)
	}

	// Phase 1: v1 records while the stage is killed and restarted.
	produced := make(chan error, 1)
	go func() { produced <- evoProduce(e, topic, v1) }()
	victim := []string{"--instance-id", "evo-victim"}
	killRepeatedly(t, e, cfg, killsByPhase, rng, victim...)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}

	// Phase 2: v2 is registered while a stage that has staged every v1 record runs, so that stage meets v2's
	// id in its stream and evolves the table itself; it is killed soon after, and more after it.
	p := e.startStage(cfg, victim...)
	waitFor(t, ownsWithin, "the stage to own the partitions", func() bool { return strings.Contains(readFile(p.log), "partitions assigned") })
	waitFor(t, 60*time.Second, "the v1 records committed", func() bool { return e.caughtUp(topic, table) })
	id2 := evoRegister(t, base, subject, evoV2)
	if id2 == id1 {
		t.Fatalf("v2 registered with v1's id %d", id1)
	}
	v2 := make([][]byte, n2)
	for i := range v2 {
		score := int64(i)
		if i%3 == 0 {
			score = 3_000_000_000 + int64(i)*1_000 // beyond an int's range
		}
		var level *int32
		if i%2 == 0 {
			l := int32(i % 50)
			level = &l
			want2.levels++
			want2.levelSum += int64(l)
		}
		payload, err := avro.Marshal(s2, evoMatchV2{ID: fmt.Sprintf("v2-%05d", i), Score: score, TS: ts0.Add(time.Hour + time.Duration(i)*time.Second), Level: level})
		if err != nil {
			t.Fatal(err)
		}
		v2[i] = wire.Frame(id2, nil, payload)
		want2.rows++
		want2.score += score
	}
	go func() { produced <- evoProduce(e, topic, v2) }()
	waitFor(t, 30*time.Second, "the running stage to evolve the table for v2", func() bool {
		return strings.Contains(readFile(p.log), "a record's schema adds to the table; evolving it")
	})
	time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
	p.kill(t)
	killRepeatedly(t, e, cfg, killsByPhase-1, rng, victim...)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}

	// The incompatible v3 is refused with Confluent's 409, and the subject keeps its two versions.
	status, body := evoPost(t, base+"/subjects/"+subject+"/versions", evoV3)
	var refusal struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	const wantMessage = `Schema being registered is incompatible with an earlier schema for subject "` + subject + `", details: ` +
		`[the new schema cannot read data written with the previous version: at /score: the reader's type string does not match the writer's type long]`
	if err := dec.Decode(&refusal); err != nil || status != http.StatusConflict || refusal.ErrorCode != 409 || refusal.Message != wantMessage {
		t.Errorf("registering the incompatible v3: %d %s (%v)\nwant 409 {\"error_code\":409,\"message\":%q}", status, body, err, wantMessage)
	}
	if code, versions := httpGet(base + "/subjects/" + subject + "/versions"); code != http.StatusOK || strings.TrimSpace(versions) != "[1,2]" {
		t.Errorf("GET /subjects/%s/versions after the refusal: %d %s, want [1,2]", subject, code, versions)
	}

	last := e.startStage(cfg, victim...)
	e.finish(last, topic, table)
	if code := console.stop(t, 30*time.Second); code != 0 {
		t.Errorf("console exited %d after SIGTERM, want 0", code)
	}
	evolved := 0
	logs, _ := filepath.Glob(filepath.Join(e.dir, "stage-*.log"))
	for _, l := range logs {
		evolved += strings.Count(readFile(l), "evolving it")
	}
	t.Logf("%d stage processes, %d live table evolutions", len(logs), evolved)

	// Exactly once: every record one row, every (partition, offset) of the topic one row, none missing.
	total := want1.rows + want2.rows
	e.assertEvoRows(table, total)
	ends := e.endOffsets(topic)
	var sumEnds int64
	for part := int32(0); part < 3; part++ {
		end := ends.Get(tp(topic, part))
		sumEnds += end
		got := e.query(fmt.Sprintf("select count(*), count(distinct _offset), coalesce(min(_offset), -1), coalesce(max(_offset), -1) from %s where _partition = %d", table, part))
		if want := fmt.Sprint([][]any{{end, end, int64(0), end - 1}}); fmt.Sprint(got) != want {
			t.Errorf("partition %d: count, distinct offsets, min, max = %v; want %s (its end offset is %d)", part, got, want, end)
		}
	}
	if sumEnds != total {
		t.Errorf("the topic holds %d records, want %d", sumEnds, total)
	}

	// The table followed the subject: score widened, level added.
	out, err := exec.Command(binPath, "sql", "--config", cfg, "--format", "json",
		"select typeof(score) as score_type, typeof(level) as level_type from "+table+" limit 1").CombinedOutput()
	if err != nil {
		t.Fatalf("bigfather sql: %v\n%s", err, out)
	}
	var types []map[string]string
	if err := json.Unmarshal(out, &types); err != nil || len(types) != 1 || types[0]["score_type"] != "BIGINT" || types[0]["level_type"] != "INTEGER" {
		t.Errorf("column types: %s (%v); want score BIGINT and level INTEGER", out, err)
	}

	// Every row as it was produced, with the id of the schema it was written with.
	checks := []struct {
		what, sql string
		want      [][]any
	}{
		{"v1 rows", fmt.Sprintf(`select count(*), sum(score), count(level), count(*) filter (where _schema_id = %d) from %s where id like 'v1-%%'`, id1, table),
			[][]any{{want1.rows, want1.score, int64(0), want1.rows}}},
		{"v2 rows", fmt.Sprintf(`select count(*), sum(score), count(level), sum(level), count(*) filter (where _schema_id = %d), count(*) filter (where score > 2147483647) from %s where id like 'v2-%%'`, id2, table),
			[][]any{{want2.rows, want2.score, want2.levels, want2.levelSum, want2.rows, int64(n2 / 3)}}},
		{"one v2 row", fmt.Sprintf(`select score, level, ts, _schema_id from %s where id = 'v2-00042'`, table),
			[][]any{{int64(3_000_042_000), int32(42), ts0.Add(time.Hour + 42*time.Second), int32(id2)}}},
		{"one v1 row", fmt.Sprintf(`select score, level, ts, _schema_id from %s where id = 'v1-00007'`, table),
			[][]any{{int64(7*37 - 5_000), nil, ts0.Add(7 * time.Second), int32(id1)}}},
	}
	for _, c := range checks {
		if got := e.query(c.sql); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %s\n got %v\nwant %v", c.what, c.sql, got, c.want)
		}
	}
	if e.storedOffsets(rejected) != nil {
		if n := e.queryInt("select count(*) from " + rejected); n != 0 {
			t.Errorf("%s holds %d rows, want none: %v", rejected, n, e.query("select _partition, _offset, reason_code, reason from "+rejected+" limit 5"))
		}
	}
}

// assertEvoRows checks that table holds exactly want rows, want distinct ids and want distinct (partition,
// offset).
func (e *env) assertEvoRows(table string, want int64) {
	e.t.Helper()
	got := e.query("select count(*), count(distinct id), count(distinct (_partition, _offset)) from " + table)
	if fmt.Sprint(got) != fmt.Sprint([][]any{{want, want, want}}) {
		e.t.Errorf("%s: rows, distinct ids, distinct (partition, offset) = %v; want %d of each", table, got, want)
	}
}

// evoProduce produces values round-robin over the topic's partitions in chunks of 300 with a pause between
// chunks, so that the stage processes are killed while records arrive.
func evoProduce(e *env, topic string, values [][]byte) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addr()), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var firstErr error
	for i, v := range values {
		cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
			}
		})
		if (i+1)%300 == 0 {
			if err := cl.Flush(ctx); err != nil {
				return err
			}
			time.Sleep(150 * time.Millisecond)
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}

// evoPost posts a schema to a registry path and returns the status and body.
func evoPost(t *testing.T, url, schema string) (int, string) {
	t.Helper()
	req, _ := json.Marshal(map[string]string{"schema": schema})
	resp, err := http.Post(url, "application/vnd.schemaregistry.v1+json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// evoRegister registers a schema under subject over the registry API and returns its id.
func evoRegister(t *testing.T, base, subject, schema string) int {
	t.Helper()
	status, body := evoPost(t, base+"/subjects/"+subject+"/versions", schema)
	var out struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || status != http.StatusOK || out.ID < 1 {
		t.Fatalf("registering under %s: %d %s (%v)", subject, status, body, err)
	}
	return out.ID
}
