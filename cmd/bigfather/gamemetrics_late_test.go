package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lateEvent is one event of the late-data world, as a JSON line.
func lateEvent(id, ts, player, typ string, amount float64) string {
	am := ""
	if amount > 0 {
		am = fmt.Sprintf(`,"amount":%g`, amount)
	}
	return fmt.Sprintf(`{"event_id":%q,"event_time":%q,"player_id":%q,"event_type":%q%s}`, id, ts, player, typ, am)
}

// metricRows runs `metrics show NAME --format json --refresh=false` over 2026-03-01..2026-03-31 and returns
// its rows as "day=value" (retention: "cohort+N=size/retained/value").
func metricRows(t *testing.T, cfg, name string) []string {
	t.Helper()
	out := runCLI(t, "metrics", "show", name, "--config", cfg, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "--refresh=false")
	var res struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("metrics show %s: %v\n%s", name, err, out)
	}
	var rows []string
	for _, r := range res.Rows {
		v := "null"
		if f, ok := r["value"].(float64); ok {
			v = fmt.Sprint(f)
		}
		if name == "retention" {
			rows = append(rows, fmt.Sprintf("%s+%v=%v/%v/%s", r["cohort_day"], r["day_n"], r["cohort_size"], r["retained"], v))
			continue
		}
		rows = append(rows, fmt.Sprintf("%s=%s", r["day"], v))
	}
	return rows
}

// TestMetricsLateData: metrics materialized for 2026-03-01..05; late events for 03-02 arrive through Kafka,
// then late events for 03-03 (a new player) through a backfill. Each refresh recomputes exactly the days
// the late rows change, whose new values are exact, and leaves every other day as it was. Then a refresh
// over a large late batch is SIGKILLed at random moments: after every kill each metric table holds either
// all of its old rows or all of its new ones, and a last refresh completes them exactly.
func TestMetricsLateData(t *testing.T) {
	e := newEnv(t)
	cfg := e.writeConfig("late.events", "late", "{interval: 200ms}")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte("metrics:\n  - pack: game\n    table: staging.late\n")...)
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name string, lines ...string) string {
		path := filepath.Join(e.dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The world: A and B start on 03-01 (A buys 5), A and C play on 03-02, B buys 10 on 03-03, A plays on
	// 03-04 and C on 03-05.
	first := write("first.jsonl",
		lateEvent("e01", "2026-03-01T09:00:00Z", "A", "login", 0),
		lateEvent("e02", "2026-03-01T09:10:00Z", "A", "purchase", 5),
		lateEvent("e03", "2026-03-01T10:00:00Z", "B", "login", 0),
		lateEvent("e04", "2026-03-02T11:00:00Z", "A", "login", 0),
		lateEvent("e05", "2026-03-02T12:00:00Z", "C", "login", 0),
		lateEvent("e06", "2026-03-03T13:00:00Z", "B", "purchase", 10),
		lateEvent("e07", "2026-03-04T14:00:00Z", "A", "login", 0),
		lateEvent("e08", "2026-03-05T15:00:00Z", "C", "login", 0),
	)
	runCLI(t, "backfill", "--config", cfg, "--from", first)
	refresh := runCLI(t, "metrics", "refresh", "--config", cfg)
	if !strings.Contains(refresh, "dau: recomputed whole, 5 rows") {
		t.Fatalf("first refresh:\n%s", refresh)
	}
	check := func(stage string, want map[string][]string) {
		t.Helper()
		for name, rows := range want {
			if got := metricRows(t, cfg, name); !slices.Equal(got, rows) {
				t.Errorf("%s: %s:\n got %v\nwant %v", stage, name, got, rows)
			}
		}
	}
	before := map[string][]string{
		"dau":         {"2026-03-01=2", "2026-03-02=2", "2026-03-03=1", "2026-03-04=1", "2026-03-05=1"},
		"revenue":     {"2026-03-01=5", "2026-03-02=0", "2026-03-03=10", "2026-03-04=0", "2026-03-05=0"},
		"new_players": {"2026-03-01=2", "2026-03-02=1", "2026-03-03=0", "2026-03-04=0", "2026-03-05=0"},
		// Cohort 03-01 (A, B): A is back on 03-02. Cohort 03-02 (C): not on 03-03. D7 is not observable yet.
		"retention": {"2026-03-01+1=2/1/0.5", "2026-03-02+1=1/0/0"},
	}
	check("before the late events", before)

	// Late through Kafka: B plays and buys 7 on 03-02.
	cl := e.client()
	for _, line := range []string{
		lateEvent("e09", "2026-03-02T16:00:00Z", "B", "login", 0),
		lateEvent("e10", "2026-03-02T16:05:00Z", "B", "purchase", 7),
	} {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "late.events", Value: []byte(line)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	e.finish(e.startStage(cfg), "late.events", "staging.late")
	refresh = runCLI(t, "metrics", "refresh", "--config", cfg)
	for _, want := range []string{"dau: 1 days recomputed", "revenue: 1 days recomputed", "new_players: 1 days recomputed",
		"retention: 1 days recomputed", "wau: 7 days recomputed"} {
		if !strings.Contains(refresh, want) {
			t.Errorf("refresh after the Kafka late events: want %q in:\n%s", want, refresh)
		}
	}
	afterKafka := map[string][]string{
		"dau":         {"2026-03-01=2", "2026-03-02=3", "2026-03-03=1", "2026-03-04=1", "2026-03-05=1"},
		"revenue":     {"2026-03-01=5", "2026-03-02=7", "2026-03-03=10", "2026-03-04=0", "2026-03-05=0"},
		"new_players": before["new_players"],
		// B is back on 03-02 too.
		"retention": {"2026-03-01+1=2/2/1", "2026-03-02+1=1/0/0"},
	}
	check("after the late events through Kafka", afterKafka)

	// Late through a backfill: D, new, plays and buys 2 on 03-03 and never comes back.
	late := write("late.jsonl",
		lateEvent("e11", "2026-03-03T08:00:00Z", "D", "login", 0),
		lateEvent("e12", "2026-03-03T08:30:00Z", "D", "purchase", 2),
	)
	runCLI(t, "backfill", "--config", cfg, "--from", late)
	refresh = runCLI(t, "metrics", "refresh", "--config", cfg)
	for _, want := range []string{"dau: 1 days recomputed", "revenue: 1 days recomputed", "new_players: 1 days recomputed", "retention: 1 days recomputed"} {
		if !strings.Contains(refresh, want) {
			t.Errorf("refresh after the backfill: want %q in:\n%s", want, refresh)
		}
	}
	check("after the backfill", map[string][]string{
		"dau":         {"2026-03-01=2", "2026-03-02=3", "2026-03-03=2", "2026-03-04=1", "2026-03-05=1"},
		"revenue":     {"2026-03-01=5", "2026-03-02=7", "2026-03-03=12", "2026-03-04=0", "2026-03-05=0"},
		"new_players": {"2026-03-01=2", "2026-03-02=1", "2026-03-03=1", "2026-03-04=0", "2026-03-05=0"},
		"retention":   {"2026-03-01+1=2/2/1", "2026-03-02+1=1/0/0", "2026-03-03+1=1/0/0"},
	})

	// A large late batch: 400 players over 03-01..03-05, so a refresh takes a while; it is SIGKILLed at
	// random moments.
	rng := rand.New(rand.NewPCG(7, 11))
	var batch []string
	active := map[string]map[string]bool{} // day -> players, for the expected dau
	for _, day := range []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"} {
		active[day] = map[string]bool{}
	}
	for _, r := range metricRowsRaw(t, e, "SELECT CAST(event_time AS DATE), player_id FROM staging.late") {
		active[r[0]][r[1]] = true
	}
	for i := range 20000 {
		day := 1 + rng.IntN(5)
		player := fmt.Sprintf("q%03d", rng.IntN(400))
		ts := time.Date(2026, 3, day, rng.IntN(24), rng.IntN(60), 0, 0, time.UTC)
		batch = append(batch, lateEvent(fmt.Sprintf("big%05d", i), ts.Format(time.RFC3339), player, "login", 0))
		active[ts.Format(time.DateOnly)][player] = true
	}
	runCLI(t, "backfill", "--config", cfg, "--from", write("big.jsonl", batch...))
	tables := []string{"dau", "wau", "new_players", "retention", "revenue"}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, name := range tables {
			rows := metricRowsRaw(t, e, "SELECT CAST(day AS VARCHAR), dimension, key, CAST(n AS VARCHAR), CAST(value AS VARCHAR) FROM metrics."+name+" ORDER BY ALL")
			var s []string
			for _, r := range rows {
				s = append(s, strings.Join(r, "|"))
			}
			out[name] = strings.Join(s, "\n")
		}
		return out
	}
	old := snapshot()
	var seen []map[string]string
	for range 8 {
		p := e.startProcess("", "metrics", "refresh", "--config", cfg)
		time.Sleep(time.Duration(100+rng.IntN(1500)) * time.Millisecond)
		p.kill(t)
		seen = append(seen, snapshot())
	}
	runCLI(t, "metrics", "refresh", "--config", cfg)
	final := snapshot()
	mixed := 0
	for k, s := range seen {
		for _, name := range tables {
			if s[name] != old[name] && s[name] != final[name] {
				mixed++
				t.Errorf("after kill %d, metrics.%s is neither its old nor its new content:\n%s", k+1, name, s[name])
			}
		}
	}
	wantDAU := []string{}
	for _, day := range []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"} {
		wantDAU = append(wantDAU, fmt.Sprintf("%s=%d", day, len(active[day])))
	}
	if got := metricRows(t, cfg, "dau"); !slices.Equal(got, wantDAU) {
		t.Errorf("dau after the kills and a last refresh:\n got %v\nwant %v", got, wantDAU)
	}
	changed := 0
	for _, s := range seen {
		if s["dau"] == final["dau"] && final["dau"] != old["dau"] {
			changed++
		}
	}
	t.Logf("%d kills: dau already new after %d of them, never mixed (%d mixed)", len(seen), changed, mixed)

	// A derived table declared in the config is created and filled by the stage process's refresher.
	data, err = os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte("derived:\n  - name: analytics.daily_players\n    sql: SELECT CAST(event_time AS DATE) AS day, count(DISTINCT player_id) AS players, count(*) AS events FROM staging.late GROUP BY 1\n    partition: day\n    refresh: 1s\n")...)
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := e.startStage(cfg)
	want := metricRowsRaw(t, e, "SELECT CAST(CAST(event_time AS DATE) AS VARCHAR), count(DISTINCT player_id), count(*) FROM staging.late GROUP BY 1 ORDER BY 1")
	waitFor(t, 60*time.Second, "analytics.daily_players", func() bool {
		lk := e.openLake()
		defer lk.Close()
		if _, err := lk.LoadTable(context.Background(), "analytics.daily_players"); err != nil {
			return false
		}
		got := metricRowsRaw(t, e, "SELECT CAST(day AS VARCHAR), players, events FROM analytics.daily_players ORDER BY 1")
		return slices.EqualFunc(got, want, slices.Equal)
	})
	if code := p.stop(t, 60*time.Second); code != 0 {
		t.Fatalf("stage exited %d, want 0; log:\n%s", code, p.tail())
	}
}

// metricRowsRaw runs a query over the env's lake and returns every value as text.
func metricRowsRaw(t *testing.T, e *env, sql string) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range e.query(sql) {
		row := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case time.Time:
				row[i] = x.Format(time.DateOnly)
			case nil:
				row[i] = "NULL"
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	return out
}
