package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/lake"
)

// TestGameMetricsRandom: 50,000 demo events (1,000 players, spread over the 9 days ending now) with duplicates,
// malformed records and lost events are staged with the default pipeline and measured by the default game
// pack. Every metric `metrics show` prints (and dau and revenue by platform) equals, row for row and bit for
// bit, a computation in this file over the events that reached Kafka, written from the metrics' stated
// semantics (describe.go, DESIGN.md "Metrics (contract)"); the result's gaps are exactly the holes the lost
// events left in the players' client_seq.
//
// What reached Kafka is read back from the topic with a plain consumer, not taken from the code under test: a
// generated event (a line of AllEvents) was delivered when a record's value is that line byte for byte; the
// other records are second copies (a value seen before) or malformed records (a value that is no line).
func TestGameMetricsRandom(t *testing.T) {
	const (
		topic   = demo.DefaultTopic // the default pipeline's topic
		count   = 50_000
		players = 1000
		seed    = 20261111
		// Nine days and a population of about three times the daily players give retention (N = 1 and 7)
		// and wau substance (mau counts everybody seen since the first day). At 50,000 events over 9 days a
		// duplicate held back 5,000 events comes at most 22 hours of event time later: within the default
		// 24-hour dedup window, so staging must drop every second copy.
		span = 9 * 24 * time.Hour
	)
	e := newEnv(t)
	createTopic(t, e, topic, 8)
	cfg := gmrWriteConfig(t, e)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var all bytes.Buffer
	stats, err := demo.Produce(ctx, demo.ProduceOptions{
		Brokers: []string{e.broker.Addr()}, Topic: topic, Count: count, Span: span, Seed: seed, Players: players,
		MalformedRate: 0.01, DuplicateRate: 0.05, GapRate: 0.02, AllEvents: &all,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := gmrReadWorld(t, e, topic, all.Bytes())
	t.Logf("seed %d: %d events generated, %d delivered, %d lost (%d of them after their player's last delivered event), %d second copies, %d malformed records; event times %s .. %s",
		seed, len(w.all), len(w.delivered), len(w.lost), w.trailingLost, w.duplicates, w.malformed,
		w.delivered[0].time.Format(time.RFC3339Nano), w.newest.Format(time.RFC3339Nano))
	// The topic agrees with what Produce says it did.
	if len(w.all) != count || len(w.delivered) != stats.Valid || len(w.lost) != stats.Dropped ||
		w.duplicates != stats.Duplicates || w.malformed != stats.Malformed {
		t.Fatalf("the topic holds %d delivered events, %d lost of %d, %d second copies, %d malformed; Produce says %+v",
			len(w.delivered), len(w.lost), len(w.all), w.duplicates, w.malformed, stats)
	}
	if w.duplicates == 0 || w.malformed == 0 || len(w.lost)-w.trailingLost == 0 {
		t.Fatalf("the faults did not happen: %d second copies, %d malformed, %d visible losses", w.duplicates, w.malformed, len(w.lost)-w.trailingLost)
	}

	gmrStage(t, e, cfg, topic)
	// Staging kept exactly the delivered events, once each, and rejected exactly the malformed records.
	ids := make([]string, len(w.delivered))
	for i, ev := range w.delivered {
		ids[i] = ev.id
	}
	slices.Sort(ids)
	if got := lines(runCLI(t, "sql", "--config", cfg, "--format", "csv", "select event_id from staging.game_events order by event_id")); !slices.Equal(got[1:], ids) {
		t.Fatalf("staging.game_events holds %d rows, want exactly the %d delivered events", len(got)-1, len(ids))
	}
	if got := lines(runCLI(t, "sql", "--config", cfg, "--format", "csv", "select count(*) from staging.game_events_rejected")); got[1] != fmt.Sprint(w.malformed) {
		t.Fatalf("staging.game_events_rejected holds %s rows, want the %d malformed records", got[1], w.malformed)
	}

	// The stage process may have refreshed some metrics already (it does every 15 s): then they are up to date.
	refresh := runCLI(t, "metrics", "refresh", "--config", cfg)
	for _, m := range gmrMetrics {
		if !strings.Contains("\n"+refresh, "\n"+m+": ") {
			t.Errorf("metrics refresh did not refresh %s:\n%s", m, refresh)
		}
	}

	o := newGMROracle(w)
	t.Logf("days with data: %s; retention rows: %d", strings.Join(o.days, ", "), len(o.retention()))
	if len(o.days) < 9 || len(o.retention()) == 0 {
		t.Fatalf("the events fall on %d days with %d retention rows, want at least 9 days and some retention", len(o.days), len(o.retention()))
	}
	// One day of slack on both sides: days without data have no rows.
	first, _ := time.Parse(time.DateOnly, o.days[0])
	last, _ := time.Parse(time.DateOnly, o.days[len(o.days)-1])
	from, to := first.AddDate(0, 0, -1).Format(time.DateOnly), last.AddDate(0, 0, 1).Format(time.DateOnly)
	holes := o.holes()
	wantGaps := gmrGapsIn(holes, from, to)
	// Every client_seq below a player's last delivered one was generated, so the holes hold exactly the lost
	// events that a delivered one follows.
	if wantGaps.Missing != int64(len(w.lost)-w.trailingLost) {
		t.Fatalf("the holes hold %d events, but %d events were lost before a delivered one", wantGaps.Missing, len(w.lost)-w.trailingLost)
	}
	t.Logf("holes: %d, missing %d, on %s", wantGaps.Count, wantGaps.Missing, strings.Join(wantGaps.Days, ", "))
	for _, c := range []struct {
		metric, by string
		want       []map[string]any
	}{
		{"dau", "", o.active(1, "")},
		{"dau", "platform", o.active(1, "platform")},
		{"wau", "", o.active(7, "")},
		{"mau", "", o.active(30, "")},
		{"new_players", "", o.newPlayers()},
		{"retention", "", o.retention()},
		{"revenue", "", o.money("revenue", "")},
		{"revenue", "platform", o.money("revenue", "platform")},
		{"paying_users", "", o.money("paying_users", "")},
		{"arpdau", "", o.money("arpdau", "")},
		{"arppu", "", o.money("arppu", "")},
		{"conversion", "", o.money("conversion", "")},
		{"sessions", "", o.sessions()},
		{"funnel", "", o.funnel()},
	} {
		what := c.metric
		if c.by != "" {
			what += " --by " + c.by
		}
		if len(c.want) == 0 {
			t.Fatalf("metrics show %s: the oracle expects no rows", what)
		}
		got := gmrShow(t, cfg, c.metric, from, to, c.by)
		if got.Metric != c.metric || got.From != from || got.To != to || got.By != c.by {
			t.Errorf("metrics show %s: metric %q from %q to %q by %q, want %q %q %q %q", what, got.Metric, got.From, got.To, got.By, c.metric, from, to, c.by)
		}
		if until, err := time.Parse(time.RFC3339Nano, got.CompleteUntil); err != nil || !until.Equal(w.newest) {
			t.Errorf("metrics show %s: complete_until %q, want the newest event time %s", what, got.CompleteUntil, w.newest.Format(time.RFC3339Nano))
		}
		if !reflect.DeepEqual(got.Gaps, wantGaps) {
			t.Errorf("metrics show %s: gaps %+v, want %+v", what, got.Gaps, wantGaps)
		}
		gmrCompare(t, what, got.Rows, c.want)
	}
	// One day at a time, the gaps are the holes whose span meets the day: this checks each hole's span.
	dau := o.active(1, "")
	for _, day := range o.days {
		got := gmrShow(t, cfg, "dau", day, day, "")
		if want := gmrGapsIn(holes, day, day); !reflect.DeepEqual(got.Gaps, want) {
			t.Errorf("metrics show dau --from %s --to %s: gaps %+v, want %+v", day, day, got.Gaps, want)
		}
		gmrCompare(t, "dau --from "+day+" --to "+day, got.Rows, slices.DeleteFunc(slices.Clone(dau), func(r map[string]any) bool { return r["day"] != day }))
	}
}

// gmrMetrics are the game pack's metrics.
var gmrMetrics = []string{"dau", "wau", "mau", "new_players", "retention", "revenue", "paying_users", "arpdau", "arppu",
	"conversion", "sessions", "funnel"}

// gmrWriteConfig writes the default config (config.Default) for the env's broker and directory, with a
// one-second commit interval, and checks that its pipeline and metrics are the default ones.
func gmrWriteConfig(t *testing.T, e *env) string {
	t.Helper()
	defs, err := demo.WriteDefinitions(filepath.Join(e.dir, "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(defs)
	rates := filepath.Join(e.dir, "rates.csv")
	if err := demo.WriteRates(rates); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
pipelines:
  - name: game-events
    topics: [game.events]
    start: earliest
    format: json
    table:
      name: staging.game_events
      partition_by: ["day(event_time)"]
      columns:
        - {name: event_id,   type: string,    required: true}
        - {name: event_time, type: timestamp, required: true}
        - {name: player_id,  type: string,    required: true}
        - {name: event_type, type: string,    required: true}
        - {name: level,      type: int}
        - {name: item_id,    type: string}
        - {name: amount,     type: double}
        - {name: currency,   type: string}
        - {name: platform,   type: string}
        - {name: country,    type: string}
        - {name: client_seq, type: long}
    commit: {interval: 1s}
    definitions:
      select_by: event_type
      unknown: reject
      files: [%s]
    cleanse:
      trim: true
      fields:
        - {field: platform, case: lower}
        - {field: country, case: upper, null_if_invalid: true}
    enrich:
      derive:
        - {name: is_mobile, type: boolean, expr: 'platform == "ios" || platform == "android"'}
    dedup: {field: event_id, window: 24h, time_field: event_time}
    routes:
      - {table: staging.purchases, event_types: [purchase]}
    completeness: {producer_field: player_id, seq_field: client_seq}
metrics:
  - pack: game
    table: staging.game_events
    currency_field: currency
    rates: %s
    dimensions: [platform, country]
    session_event: session_start
    steps: [session_start, item_acquire, purchase]
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), strings.Join(defs, ", "), rates)
	path := filepath.Join(e.dir, "bigfather.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(path)
	if err == nil {
		err = got.Validate(config.ValidateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	def := config.Default(e.dir)
	gp, dp := got.Pipelines[0], def.Pipelines[0]
	gp.Commit = dp.Commit
	gm, dm := got.Metrics[0], def.Metrics[0]
	gp.Definitions.BaseDir = dp.Definitions.BaseDir
	gm.BaseDir = dm.BaseDir
	if !reflect.DeepEqual(gp, dp) || !reflect.DeepEqual(gm, dm) {
		t.Fatalf("the test's config is not the default one:\npipeline %+v\nwant     %+v\nmetrics %+v\nwant    %+v", gp, dp, gm, dm)
	}
	return path
}

// gmrStage runs `bigfather stage` until the main and rejected tables store the topic's end offsets (for
// pipeline game-events), then stops it with SIGTERM.
func gmrStage(t *testing.T, e *env, cfg, topic string) {
	t.Helper()
	p := e.startStage(cfg)
	waitFor(t, 30*time.Second, "the stage process to start", func() bool { return strings.Contains(readFile(p.log), "msg=staging") })
	ends := e.endOffsets(topic)
	lk := e.openLake()
	defer lk.Close()
	caughtUp := func() bool {
		for _, name := range []string{"staging.game_events", "staging.game_events_rejected"} {
			tbl, err := lk.LoadTable(context.Background(), name)
			if err != nil {
				return false
			}
			stored := lake.StoredOffsets(tbl, "game-events")
			for tp, end := range ends {
				if stored.Get(tp) != end {
					return false
				}
			}
		}
		return true
	}
	deadline := time.Now().Add(90 * time.Second)
	for !caughtUp() {
		if time.Now().After(deadline) {
			t.Fatalf("after 90s the tables do not store the end offsets %v; stage log:\n%s", ends, p.tail())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code := p.stop(t, 60*time.Second); code != 0 {
		t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, p.tail())
	}
}

// gmrEvent is one generated event, as AllEvents has it.
type gmrEvent struct {
	id, player, typ   string
	time              time.Time
	day               string // UTC
	seq               int64
	amount            float64
	currency          string
	platform, country string
	delivered         bool
}

// gmrWorld is what the test produced, as read back from the topic.
type gmrWorld struct {
	all, delivered, lost  []*gmrEvent
	duplicates, malformed int
	// trailingLost counts lost events after their player's last delivered one: no hole shows them.
	trailingLost int
	newest       time.Time
}

// gmrReadWorld parses the AllEvents lines and reads every record of topic back: a record whose value is a
// line delivered that event (the first time), one whose value is no line is a malformed record.
func gmrReadWorld(t *testing.T, e *env, topic string, allEvents []byte) *gmrWorld {
	t.Helper()
	w := &gmrWorld{}
	byLine := map[string]*gmrEvent{}
	for i, l := range strings.Split(strings.TrimSuffix(string(allEvents), "\n"), "\n") {
		var j struct {
			EventID   string  `json:"event_id"`
			EventTime string  `json:"event_time"`
			PlayerID  string  `json:"player_id"`
			EventType string  `json:"event_type"`
			Amount    float64 `json:"amount"`
			Currency  string  `json:"currency"`
			Platform  string  `json:"platform"`
			Country   string  `json:"country"`
			ClientSeq int64   `json:"client_seq"`
		}
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("AllEvents line %d: %v: %s", i+1, err, l)
		}
		ts, err := time.Parse(time.RFC3339Nano, j.EventTime)
		if err != nil {
			t.Fatalf("AllEvents line %d: %v", i+1, err)
		}
		ev := &gmrEvent{id: j.EventID, player: j.PlayerID, typ: j.EventType, time: ts, day: ts.UTC().Format(time.DateOnly),
			seq: j.ClientSeq, amount: j.Amount, currency: j.Currency, platform: j.Platform, country: j.Country}
		if byLine[l] != nil {
			t.Fatalf("AllEvents line %d repeats an earlier line", i+1)
		}
		byLine[l] = ev
		w.all = append(w.all, ev)
	}

	want := sumOffsets(e.endOffsets(topic))
	cl := e.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for n := int64(0); n < want; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading %s back after %d of %d records: %v", topic, n, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			ev := byLine[string(r.Value)]
			switch {
			case ev == nil:
				w.malformed++
			case ev.delivered:
				w.duplicates++
			default:
				ev.delivered = true
			}
		})
	}
	lastDelivered := map[string]int64{}
	for _, ev := range w.all {
		if ev.delivered {
			w.delivered = append(w.delivered, ev)
			lastDelivered[ev.player] = max(lastDelivered[ev.player], ev.seq)
			if ev.time.After(w.newest) {
				w.newest = ev.time
			}
		} else {
			w.lost = append(w.lost, ev)
		}
	}
	for _, ev := range w.lost {
		if ev.seq > lastDelivered[ev.player] {
			w.trailingLost++
		}
	}
	return w
}

// gmrShown is the JSON `metrics show` prints.
type gmrShown struct {
	Metric        string           `json:"metric"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	By            string           `json:"by"`
	CompleteUntil string           `json:"complete_until"`
	Rows          []map[string]any `json:"rows"`
	Gaps          gmrGaps          `json:"gaps"`
}

// gmrGaps is a result's gaps.
type gmrGaps struct {
	Known   bool     `json:"known"`
	Count   int64    `json:"count"`
	Missing int64    `json:"missing"`
	Days    []string `json:"days"`
}

func gmrShow(t *testing.T, cfg, name, from, to, by string) gmrShown {
	t.Helper()
	args := []string{"metrics", "show", name, "--from", from, "--to", to, "--format", "json", "--config", cfg}
	if by != "" {
		args = append(args, "--by", by)
	}
	out := runCLI(t, args...)
	var s gmrShown
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("metrics show %s: %v\n%s", name, err, out)
	}
	return s
}

// gmrCompare compares rows exactly (keys, strings, float64 values with ==, null), in the order of their day
// (cohort day), breakdown key and step (day N).
func gmrCompare(t *testing.T, what string, got, want []map[string]any) {
	t.Helper()
	sortRows := func(rows []map[string]any) {
		sort.SliceStable(rows, func(i, j int) bool { return gmrRowKey(rows[i]) < gmrRowKey(rows[j]) })
	}
	sortRows(got)
	sortRows(want)
	if len(got) != len(want) {
		t.Errorf("metrics show %s: %d rows, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range max(len(got), len(want)) {
		var g, w map[string]any
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if reflect.DeepEqual(g, w) {
			continue
		}
		if bad++; bad <= 10 {
			t.Errorf("metrics show %s: row %d is %s, want %s", what, i, gmrRowString(g), gmrRowString(w))
		}
	}
	if bad > 10 {
		t.Errorf("metrics show %s: %d rows differ in all", what, bad)
	}
}

func gmrRowKey(r map[string]any) string {
	day, _ := r["day"].(string)
	if c, ok := r["cohort_day"].(string); ok {
		day = c
	}
	key, _ := r["platform"].(string)
	n, _ := r["step"].(float64)
	if d, ok := r["day_n"].(float64); ok {
		n = d
	}
	return fmt.Sprintf("%s|%s|%03d", day, key, int(n))
}

func gmrRowString(r map[string]any) string {
	if r == nil {
		return "(none)"
	}
	js, _ := json.Marshal(r)
	return string(js)
}

// gmrOracle computes the metrics over the delivered events from their stated semantics: a day is the UTC
// calendar day of event_time; every delivered event is a row (each once: the second copies are the same
// event).
type gmrOracle struct {
	rows     []*gmrEvent
	days     []string                   // days with rows, sorted
	byPlayer map[string][]*gmrEvent     // each player's rows by time
	activeOn map[string]map[string]bool // day → players with a row on it
	rates    map[string]*big.Rat
}

func newGMROracle(w *gmrWorld) *gmrOracle {
	o := &gmrOracle{rows: w.delivered, byPlayer: map[string][]*gmrEvent{}, activeOn: map[string]map[string]bool{}, rates: map[string]*big.Rat{}}
	for _, ev := range w.delivered {
		o.byPlayer[ev.player] = append(o.byPlayer[ev.player], ev)
		if o.activeOn[ev.day] == nil {
			o.activeOn[ev.day] = map[string]bool{}
			o.days = append(o.days, ev.day)
		}
		o.activeOn[ev.day][ev.player] = true
	}
	slices.Sort(o.days)
	for _, evs := range o.byPlayer {
		slices.SortStableFunc(evs, func(a, b *gmrEvent) int { return a.time.Compare(b.time) })
	}
	for _, r := range demo.Rates {
		rate, ok := new(big.Rat).SetString(r.Rate)
		if !ok {
			panic("demo rate " + r.Rate)
		}
		o.rates[r.Currency] = gmrRound(rate, 9)
	}
	return o
}

// gmrDay shifts a YYYY-MM-DD day by n days.
func gmrDay(day string, n int) string {
	d, _ := time.Parse(time.DateOnly, day)
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// dim is a row's value of a breakdown dimension ("" for the total).
func (ev *gmrEvent) dim(name string) string {
	switch name {
	case "platform":
		return ev.platform
	case "country":
		return ev.country
	}
	return ""
}

// gmrRow builds an expected per-day row.
func gmrRow(day, by, key string, value any) map[string]any {
	r := map[string]any{"day": day, "value": value}
	if by != "" {
		r[by] = key
	}
	return r
}

// dayKeys lists the (day, key) pairs with rows, and the players active on each.
func (o *gmrOracle) dayKeys(by string) map[[2]string]map[string]bool {
	out := map[[2]string]map[string]bool{}
	for _, ev := range o.rows {
		k := [2]string{ev.day, ev.dim(by)}
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][ev.player] = true
	}
	return out
}

// active: for every day (and key) with rows, the distinct players with a row (under that key) in the window
// days ending on it.
func (o *gmrOracle) active(window int, by string) []map[string]any {
	dk := o.dayKeys(by)
	var out []map[string]any
	for k := range dk {
		players := map[string]bool{}
		for i := range window {
			for p := range dk[[2]string{gmrDay(k[0], -i), k[1]}] {
				players[p] = true
			}
		}
		out = append(out, gmrRow(k[0], by, k[1], float64(len(players))))
	}
	return out
}

// firstDays is each player's first day: the day of their earliest row.
func (o *gmrOracle) firstDays() map[string]string {
	out := map[string]string{}
	for p, evs := range o.byPlayer {
		out[p] = evs[0].day
	}
	return out
}

// newPlayers: for every day with rows, the players whose first day it is.
func (o *gmrOracle) newPlayers() []map[string]any {
	n := map[string]int{}
	for _, d := range o.firstDays() {
		n[d]++
	}
	var out []map[string]any
	for _, d := range o.days {
		out = append(out, gmrRow(d, "", "", float64(n[d])))
	}
	return out
}

// retention (classic): per cohort day c and N in 1, 7, 30 with day c+N not after the newest day with rows,
// the cohort's size and how many of it have a row on day c+N.
func (o *gmrOracle) retention() []map[string]any {
	cohorts := map[string][]string{}
	for p, d := range o.firstDays() {
		cohorts[d] = append(cohorts[d], p)
	}
	newest := o.days[len(o.days)-1]
	var out []map[string]any
	for c, members := range cohorts {
		for _, n := range []int{1, 7, 30} {
			day := gmrDay(c, n)
			if day > newest {
				continue
			}
			retained := 0
			for _, p := range members {
				if o.activeOn[day][p] {
					retained++
				}
			}
			out = append(out, map[string]any{"cohort_day": c, "day_n": float64(n), "cohort_size": float64(len(members)),
				"retained": float64(retained), "value": float64(retained) / float64(len(members))})
		}
	}
	return out
}

// gmrRound rounds r to places decimals, halves away from zero.
func gmrRound(r *big.Rat, places int) *big.Rat {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(scale))
	num := new(big.Int).Abs(x.Num())
	den := x.Denom()
	// floor(|x| + 1/2) = (2 num + den) div (2 den)
	q := new(big.Int).Div(new(big.Int).Add(new(big.Int).Lsh(num, 1), den), new(big.Int).Lsh(den, 1))
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, scale)
}

// money computes revenue, paying_users, arpdau, arppu or conversion for every day (and key) with rows:
// revenue sums each purchase's amount taken to 4 decimals times its currency's rate (9 decimals) exactly,
// rounded to 6 decimals; ratios are float64 divisions of the float64 numbers.
func (o *gmrOracle) money(metric, by string) []map[string]any {
	dk := o.dayKeys(by)
	rev := map[[2]string]*big.Rat{}
	payers := map[[2]string]map[string]bool{}
	for _, ev := range o.rows {
		if ev.typ != demo.Purchase {
			continue
		}
		k := [2]string{ev.day, ev.dim(by)}
		rate, ok := o.rates[ev.currency]
		if !ok {
			panic("no rate for " + ev.currency)
		}
		amount := gmrRound(new(big.Rat).SetFloat64(ev.amount), 4)
		if rev[k] == nil {
			rev[k] = new(big.Rat)
			payers[k] = map[string]bool{}
		}
		rev[k].Add(rev[k], amount.Mul(amount, rate))
		payers[k][ev.player] = true
	}
	var out []map[string]any
	for k, players := range dk {
		r := new(big.Rat)
		if rev[k] != nil {
			r = rev[k]
		}
		revenue, _ := gmrRound(r, 6).Float64()
		dau, paying := float64(len(players)), float64(len(payers[k]))
		var v any
		switch metric {
		case "revenue":
			v = revenue
		case "paying_users":
			v = paying
		case "arpdau":
			v = revenue / dau
		case "arppu":
			if paying > 0 {
				v = revenue / paying
			}
		case "conversion":
			v = paying / dau
		}
		out = append(out, gmrRow(k[0], by, k[1], v))
	}
	return out
}

// sessions: for every day with rows, its session_start rows.
func (o *gmrOracle) sessions() []map[string]any {
	n := map[string]int{}
	for _, ev := range o.rows {
		if ev.typ == demo.SessionStart {
			n[ev.day]++
		}
	}
	var out []map[string]any
	for _, d := range o.days {
		out = append(out, gmrRow(d, "", "", float64(n[d])))
	}
	return out
}

// funnel: per player and day with a session_start row, the funnel starts at the first one that day (step 1);
// step i is reached at the earliest row of its event at or after the time step i-1 was reached and less than
// one day (the pack's window) after the start. Per day with a start, each step's players.
func (o *gmrOracle) funnel() []map[string]any {
	steps := []string{demo.SessionStart, demo.ItemAcquire, demo.Purchase}
	reached := map[string][]int{} // day → players per step
	for _, evs := range o.byPlayer {
		starts := map[string]time.Time{}
		for _, ev := range evs {
			if _, ok := starts[ev.day]; ev.typ == steps[0] && !ok {
				starts[ev.day] = ev.time
			}
		}
		for day, t1 := range starts {
			if reached[day] == nil {
				reached[day] = make([]int, len(steps))
			}
			reached[day][0]++
			at := t1
			for i := 1; i < len(steps); i++ {
				found := false
				for _, ev := range evs {
					if ev.typ == steps[i] && !ev.time.Before(at) && ev.time.Before(t1.Add(24*time.Hour)) {
						at, found = ev.time, true
						break // evs are in time order: the first match is the earliest
					}
				}
				if !found {
					break
				}
				reached[day][i]++
			}
		}
	}
	var out []map[string]any
	for day, n := range reached {
		for i, step := range steps {
			out = append(out, map[string]any{"day": day, "step": float64(i + 1), "event": step, "value": float64(n[i])})
		}
	}
	return out
}

// gmrHole is one hole in a player's client_seq: missing events between the delivered events on days from
// and to.
type gmrHole struct {
	from, to string
	missing  int64
}

// holes are the holes the lost events left: per player the maximal runs of lost client_seq that a delivered
// event follows (a loss after the player's last delivered event leaves no hole). A hole spans the days of the
// delivered events on either side of it (just the following one's when it starts at client_seq 1).
func (o *gmrOracle) holes() []gmrHole {
	var out []gmrHole
	for _, evs := range o.byPlayer {
		bySeq := map[int64]*gmrEvent{}
		var maxSeq int64
		for _, ev := range evs {
			bySeq[ev.seq] = ev
			maxSeq = max(maxSeq, ev.seq)
		}
		for s := int64(1); s < maxSeq; s++ {
			if bySeq[s] != nil {
				continue
			}
			end := s // the run of missing s..end-1, then end delivered
			for bySeq[end] == nil {
				end++
			}
			h := gmrHole{from: bySeq[end].day, to: bySeq[end].day, missing: end - s}
			if s > 1 {
				h.from = bySeq[s-1].day
			}
			out = append(out, h)
			s = end
		}
	}
	return out
}

// gmrGapsIn summarizes the holes that meet days from..to: how many, the events they hold, and the days of from..to
// they span.
func gmrGapsIn(holes []gmrHole, from, to string) gmrGaps {
	g := gmrGaps{Known: true, Days: []string{}}
	days := map[string]bool{}
	for _, h := range holes {
		if h.to < from || h.from > to {
			continue
		}
		g.Count++
		g.Missing += h.missing
		for d := max(h.from, from); d <= min(h.to, to); d = gmrDay(d, 1) {
			days[d] = true
		}
	}
	for d := range days {
		g.Days = append(g.Days, d)
	}
	slices.Sort(g.Days)
	return g
}
