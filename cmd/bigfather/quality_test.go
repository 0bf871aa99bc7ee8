package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// writeQualityConfig writes the test pipeline with extra YAML (dedup, routes, policies...).
func (e *env) writeQualityConfig(topic, table, extra string) string {
	return e.writePipelineConfig(topic, table, "{interval: 1s, max_rows: 5000}", extra)
}

// gameEvent is the i-th test event, half a second after the previous one (100,000 events span 14h, inside a
// 24h dedup window): every 10th is a purchase.
func gameEvent(i int) []byte {
	ts := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 500 * time.Millisecond)
	if i%10 == 3 {
		return []byte(fmt.Sprintf(`{"event_id":"e-%06d","event_time":%q,"player_id":"p%05d","event_type":"purchase","amount":%d.99,"client_seq":%d}`,
			i, ts.Format(time.RFC3339), i%997, i%50, i))
	}
	return []byte(fmt.Sprintf(`{"event_id":"e-%06d","event_time":%q,"player_id":"p%05d","event_type":"level_up","level":%d,"client_seq":%d}`,
		i, ts.Format(time.RFC3339Nano), i%997, i%100+1, i))
}

// produceTo sends records to explicit partitions, waiting for every ack.
func produceTo(t *testing.T, e *env, topic string, recs []*kgo.Record) {
	t.Helper()
	cl := e.client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// ownsWithin is how long a stage started after a SIGKILL may take to own partitions. Usually it is one
// session timeout. But on the embedded broker a member killed in the middle of a rebalance holds the group
// until the rebalance timeout (franz-go's default, 60s) removes it; measured, the group then stalls for
// about 70s. The wait allows that, a rejoin and a loaded machine.
const ownsWithin = 120 * time.Second

// killRepeatedly starts `stage` with args and kills it with SIGKILL at a random moment after it owns
// partitions, times times.
func killRepeatedly(t *testing.T, e *env, cfg string, times int, rng *rand.Rand, args ...string) {
	t.Helper()
	for i := 0; i < times; i++ {
		p := e.startStage(cfg, args...)
		for deadline := time.Now().Add(ownsWithin); !strings.Contains(readFile(p.log), "partitions assigned"); time.Sleep(250 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("victim %d owns no partitions after %v; the stage logs:\n%s", i+1, ownsWithin, e.stageLogTails())
			}
		}
		time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
		p.kill(t)
	}
}

// TestDedupUnderKills: 100,000 unique events with 10% of them produced twice (some right away on another
// partition, some much later), staged by two processes in one group while one of them is killed with SIGKILL
// five times: the table holds exactly 100,000 rows.
func TestDedupUnderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	const unique, dups = 100_000, 10_000
	e := newEnv(t)
	topic := "dedup.events"
	createTopic(t, e, topic, 8)
	cfg := e.writeQualityConfig(topic, "dedup_events", "    dedup: {field: event_id, window: 24h}\n")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	t.Logf("seed %d", seed)

	// The stream: unique events round-robin over partitions; 5,000 duplicates right after their original on
	// another partition, 5,000 re-sent at the end of the stream (far apart in Kafka, same event).
	perm := rng.Perm(unique)
	soon, late := map[int]bool{}, perm[dups/2:dups]
	for _, i := range perm[:dups/2] {
		soon[i] = true
	}
	var recs []*kgo.Record
	for i := 0; i < unique; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(i % 8), Value: gameEvent(i)})
		if soon[i] {
			recs = append(recs, &kgo.Record{Partition: int32((i + 1 + rng.IntN(7)) % 8), Value: gameEvent(i)})
		}
	}
	for _, i := range late {
		recs = append(recs, &kgo.Record{Partition: int32(rng.IntN(8)), Value: gameEvent(i)})
	}
	if len(recs) != unique+dups {
		t.Fatalf("built %d records", len(recs))
	}
	go func() {
		for len(recs) > 0 { // spread over the kills
			n := min(5000, len(recs))
			produceTo(t, e, topic, recs[:n])
			recs = recs[n:]
			time.Sleep(300 * time.Millisecond)
		}
	}()
	stable := e.startStage(cfg, "--instance-id", "stable", "--session-timeout", "6s")
	killRepeatedly(t, e, cfg, 5, rng, "--session-timeout", "6s")
	last := e.startStage(cfg, "--session-timeout", "6s")
	waitFor(t, 60*time.Second, "all records produced", func() bool { return sumOffsets(e.endOffsets(topic)) == unique+dups })
	e.finish(last, topic, "staging.dedup_events", "staging.dedup_events_rejected")
	if code := stable.stop(t, 60*time.Second); code != 0 {
		t.Fatalf("stable stage exited %d; log:\n%s", code, stable.tail())
	}
	e.assertRows("staging.dedup_events", unique)
	if got := e.queryInt("select count(*) from staging.dedup_events where event_id not like 'e-%'"); got != 0 {
		t.Errorf("%d rows with unexpected ids", got)
	}
}

// runCLI runs the binary and returns stdout, failing the test on a non-zero exit.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bigfather %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestBackfillFillsGaps: 5% of a stream is lost before Kafka; the completeness report finds exactly those
// sequence numbers missing; backfilling the full original file leaves the table holding exactly the full set.
func TestBackfillFillsGaps(t *testing.T) {
	const total = 20_000
	e := newEnv(t)
	topic := "gaps.events"
	createTopic(t, e, topic, 8)
	cfg := e.writeQualityConfig(topic, "gap_events", `    dedup: {field: event_id, window: 24h}
    completeness: {producer_field: player_id, seq_field: client_seq}
`)
	// Player p<k> emits client_seq 1, 2, 3...; 5% of the events (1,000 exactly) never reach Kafka.
	rng := rand.New(rand.NewPCG(7, 7))
	var all strings.Builder
	var recs []*kgo.Record
	seq := map[int]int{}
	lost := map[int]bool{}
	// A loss after a player's last delivered event leaves no hole to see; the report finds the others.
	lastDelivered, lostSeqs := map[int]int{}, map[int][]int{}
	for _, i := range rng.Perm(total)[:total/20] {
		lost[i] = true
	}
	for i := 0; i < total; i++ {
		player := i % 400
		seq[player]++
		ts := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		ev := fmt.Sprintf(`{"event_id":"g-%06d","event_time":%q,"player_id":"p%05d","event_type":"level_up","level":3,"client_seq":%d}`,
			i, ts.Format(time.RFC3339), player, seq[player])
		all.WriteString(ev + "\n")
		if !lost[i] {
			recs = append(recs, &kgo.Record{Partition: int32(player % 8), Value: []byte(ev)})
			lastDelivered[player] = seq[player]
		} else {
			lostSeqs[player] = append(lostSeqs[player], seq[player])
		}
	}
	detectable := int64(0)
	for player, seqs := range lostSeqs {
		for _, s := range seqs {
			if s < lastDelivered[player] {
				detectable++
			}
		}
	}
	if detectable < total/20-50 {
		t.Fatalf("only %d of %d losses are detectable; pick another seed", detectable, total/20)
	}
	original := filepath.Join(e.dir, "original.jsonl")
	if err := os.WriteFile(original, []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	produceTo(t, e, topic, recs)
	e.finish(e.startStage(cfg), topic, "staging.gap_events", "staging.gap_events_rejected")
	e.assertRows("staging.gap_events", total-total/20)

	var report struct {
		MissingTotal int64 `json:"missing_total"`
		Gaps         []struct {
			Producer string `json:"producer"`
			From, To int64
		} `json:"gaps"`
	}
	out := runCLI(t, "completeness", "--config", cfg, "--format", "json")
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("completeness json: %v\n%s", err, out)
	}
	if report.MissingTotal != detectable {
		t.Errorf("completeness reports %d missing, want %d\n%s", report.MissingTotal, detectable, out)
	}

	out = runCLI(t, "backfill", "--config", cfg, "--from", original)
	want := fmt.Sprintf("read %d records: staged %d, duplicates dropped %d, rejected 0, filtered 0; 0 already staged before", total, total/20, total-total/20)
	if !strings.HasPrefix(out, want) {
		t.Errorf("backfill said %q, want prefix %q", out, want)
	}
	e.assertRows("staging.gap_events", total)
	out = runCLI(t, "completeness", "--config", cfg, "--format", "json")
	if err := json.Unmarshal([]byte(out), &report); err != nil || report.MissingTotal != 0 {
		t.Errorf("after backfill: %v, missing %d, want 0\n%s", err, report.MissingTotal, out)
	}
	// Backfilling the same file again stages nothing: it resumes after its last record.
	out = runCLI(t, "backfill", "--config", cfg, "--from", original)
	if want := fmt.Sprintf("read 0 records: staged 0, duplicates dropped 0, rejected 0, filtered 0; %d already staged before", total); !strings.HasPrefix(out, want) {
		t.Errorf("second backfill said %q, want prefix %q", out, want)
	}
	e.assertRows("staging.gap_events", total)
}

// TestRoutingUnderKills: purchases land in staging.purchases as well as the main table, each exactly once,
// while the stage process is killed with SIGKILL repeatedly.
func TestRoutingUnderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	const total = 60_000
	e := newEnv(t)
	topic := "route.events"
	createTopic(t, e, topic, 8)
	cfg := e.writeQualityConfig(topic, "route_events", `    dedup: {field: event_id, window: 24h}
    routes:
      - {table: staging.purchases, when: 'event_type == "purchase"'}
`)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var recs []*kgo.Record
	for i := 0; i < total; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(rng.IntN(8)), Value: gameEvent(i)})
	}
	go func() {
		for len(recs) > 0 {
			n := min(4000, len(recs))
			produceTo(t, e, topic, recs[:n])
			recs = recs[n:]
			time.Sleep(300 * time.Millisecond)
		}
	}()
	killRepeatedly(t, e, cfg, 6, rng, "--instance-id", "router")
	last := e.startStage(cfg, "--instance-id", "router")
	waitFor(t, 60*time.Second, "all records produced", func() bool { return sumOffsets(e.endOffsets(topic)) == total })
	e.finish(last, topic, "staging.route_events", "staging.purchases", "staging.route_events_rejected")
	e.assertRows("staging.route_events", total)
	e.assertRows("staging.purchases", total/10)
	if got := e.queryInt("select count(*) from staging.purchases where event_type <> 'purchase' or event_id not in (select event_id from staging.route_events)"); got != 0 {
		t.Errorf("%d purchases rows that are not purchases of the main table", got)
	}
}

// TestReplayRange: a filter wrongly dropped level_up events; after removing it, replaying the topic's range
// stages exactly the missing events and drops the ones the table holds as duplicates.
func TestReplayRange(t *testing.T) {
	const total = 3000
	e := newEnv(t)
	topic := "replay.events"
	createTopic(t, e, topic, 2)
	var recs []*kgo.Record
	for i := 0; i < total; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: gameEvent(i)})
	}
	produceTo(t, e, topic, recs)
	dedupYAML := "    dedup: {field: event_id, window: 24h}\n"
	cfg := e.writeQualityConfig(topic, "replay_events", dedupYAML+"    filters:\n      - {name: no_level_up, drop: 'event_type == \"level_up\"'}\n")
	e.finish(e.startStage(cfg), topic, "staging.replay_events", "staging.replay_events_rejected")
	purchases := int64(total / 10)
	e.assertRows("staging.replay_events", purchases)

	cfg = e.writeQualityConfig(topic, "replay_events", dedupYAML)
	// Purchases are the events with i%10 == 3: all odd, so all on partition 1.
	for part, want := range map[string]string{
		"0": "read 1500 records: staged 1500, duplicates dropped 0, rejected 0, filtered 0",
		"1": "read 1500 records: staged 1200, duplicates dropped 300, rejected 0, filtered 0",
	} {
		if out := runCLI(t, "backfill", "--config", cfg, "--from-offsets", topic+":"+part+":0-"); !strings.HasPrefix(out, want) {
			t.Errorf("replay of partition %s said %q, want prefix %q", part, out, want)
		}
	}
	e.assertRows("staging.replay_events", total)
	if got := e.queryInt("select count(*) from staging.replay_events where _topic = 'replay:replay.events'"); got != total-purchases {
		t.Errorf("%d rows staged by the replay, want %d", got, total-purchases)
	}
	// The time form replays nothing new now.
	out := runCLI(t, "backfill", "--config", cfg, "--from-time", topic+":2000-01-01T00:00:00Z..2100-01-01T00:00:00Z")
	if !strings.Contains(out, "staged 0,") {
		t.Errorf("replay by time said %q, want nothing staged", out)
	}
	e.assertRows("staging.replay_events", total)
}
