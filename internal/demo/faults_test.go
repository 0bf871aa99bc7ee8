package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeRecords reads every record of topic, failing unless exactly n arrive.
func consumeRecords(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	var drained time.Time // when we reached n; then poll a little longer for extras
	for drained.IsZero() || time.Since(drained) < 500*time.Millisecond {
		pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", len(recs), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		recs = append(recs, fs.Records()...)
		if len(recs) > n {
			t.Fatalf("consumed %d records, want %d", len(recs), n)
		}
		if len(recs) == n && drained.IsZero() {
			drained = time.Now()
		}
	}
	return recs
}

var (
	eventTypes    = []string{SessionStart, SessionEnd, LevelUp, ItemAcquire, Purchase}
	platformNames = []string{"android", "ios", "pc"}
)

// malformedKind returns why v is not a valid event ("" if it is one): "truncated", "wrong type",
// "no event_time", "event_type" or "platform".
func malformedKind(v []byte) string {
	if !json.Valid(v) {
		return "truncated"
	}
	var m map[string]any
	if err := json.Unmarshal(v, &m); err != nil {
		return "truncated"
	}
	switch {
	case !isNumber(m["level"]):
		return "wrong type"
	case m["event_time"] == nil:
		return "no event_time"
	case !slices.Contains(eventTypes, str(m["event_type"])):
		return "event_type"
	case !slices.Contains(platformNames, str(m["platform"])):
		return "platform"
	}
	return ""
}

func isNumber(v any) bool { _, ok := v.(float64); return ok }

func str(v any) string { s, _ := v.(string); return s }

func TestAppendMalformed(t *testing.T) {
	g := NewGenerator(3, 0, testStart)
	e := g.Next()
	valid := g.AppendJSON(nil, e)
	for kind, want := range map[int]string{badTruncated: "truncated", badWrongType: "wrong type",
		badNoEventTime: "no event_time", badEventType: "event_type", badPlatform: "platform"} {
		for _, cut := range []float64{0, 0.5, 0.999999} {
			got := g.appendMalformed([]byte("prefix"), e, badPlan{kind: kind, eventID: "fresh", cut: cut})
			if !bytes.HasPrefix(got, []byte("prefix")) {
				t.Fatalf("kind %s: lost the buffer's prefix: %s", want, got)
			}
			rec := got[len("prefix"):]
			if k := malformedKind(rec); k != want {
				t.Errorf("kind %s (cut %v) reads as %q: %s", want, cut, k, rec)
			}
			if kind != badTruncated {
				var m map[string]any
				json.Unmarshal(rec, &m)
				if m["event_id"] != "fresh" || m["player_id"] != e.PlayerID || m["client_seq"] != float64(e.ClientSeq) {
					t.Errorf("kind %s: %s, want event_id fresh and the event's player and client_seq", want, rec)
				}
				if kind != badWrongType && m["level"] != float64(e.Level) {
					t.Errorf("kind %s changed level: %s", want, rec)
				}
			} else if len(rec) == 0 || len(rec) >= len(valid) {
				t.Errorf("truncated to %d of %d bytes", len(rec), len(valid))
			}
		}
	}
}

// faultRun is one Produce with faults and what reached Kafka.
type faultRun struct {
	stats ProduceStats
	all   []byte        // AllEvents
	recs  []*kgo.Record // consumed, in partition order
	parts map[int32][][]byte
}

func produceFaults(t *testing.T, addr, topic string, opts ProduceOptions) faultRun {
	t.Helper()
	var all bytes.Buffer
	opts.Brokers, opts.Topic, opts.AllEvents = []string{addr}, topic, &all
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := Produce(ctx, opts)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	r := faultRun{stats: st, all: all.Bytes(), recs: consumeRecords(t, addr, topic, st.Records()), parts: map[int32][][]byte{}}
	for _, rec := range r.recs {
		r.parts[rec.Partition] = append(r.parts[rec.Partition], rec.Value)
	}
	return r
}

func TestProduceFaults(t *testing.T) {
	b := startBroker(t)
	const n = 10_000
	run := produceFaults(t, b.Addr(), "faults", ProduceOptions{Count: n, Seed: 11, Players: 500,
		MalformedRate: 0.05, DuplicateRate: 0.1, GapRate: 0.05})
	st := run.stats
	t.Logf("stats %+v", st)
	if st.Valid+st.Dropped != n {
		t.Fatalf("valid %d + dropped %d, want %d generated", st.Valid, st.Dropped, n)
	}
	within := func(name string, got int, want float64) {
		if float64(got) < want*0.85 || float64(got) > want*1.15 {
			t.Errorf("%s = %d, want about %.0f", name, got, want)
		}
	}
	within("Dropped", st.Dropped, 0.05*n)
	within("Malformed", st.Malformed, 0.05*n)
	within("Duplicates", st.Duplicates, 0.1*float64(st.Valid))

	// AllEvents is the whole stream: every player's client_seq 1, 2, ... with no gaps.
	all := map[string]jsonEvent{} // by event_id
	lastSeq := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(run.all))
	for sc.Scan() {
		var e jsonEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || malformedKind(sc.Bytes()) != "" {
			t.Fatalf("AllEvents line %d: %v: %s", len(all)+1, err, sc.Bytes())
		}
		if e.ClientSeq != lastSeq[e.PlayerID]+1 {
			t.Fatalf("AllEvents: %s client_seq %d after %d", e.PlayerID, e.ClientSeq, lastSeq[e.PlayerID])
		}
		lastSeq[e.PlayerID] = e.ClientSeq
		all[e.EventID] = e
	}
	if len(all) != n {
		t.Fatalf("AllEvents has %d events, want %d", len(all), n)
	}

	// Kafka holds each produced event once or twice, byte for byte, and the malformed records.
	copies := map[string][]*kgo.Record{} // valid records by event_id
	kinds := map[string]int{}
	for _, r := range run.recs {
		if k := malformedKind(r.Value); k != "" {
			kinds[k]++
			continue
		}
		var e jsonEvent
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Fatal(err)
		}
		if _, ok := all[e.EventID]; !ok {
			t.Fatalf("record %d/%d is not in AllEvents: %s", r.Partition, r.Offset, r.Value)
		}
		copies[e.EventID] = append(copies[e.EventID], r)
	}
	malformed := 0
	for k, c := range kinds {
		malformed += c
		if c < st.Malformed/10 {
			t.Errorf("%d malformed records of kind %s, want about a fifth of %d", c, k, st.Malformed)
		}
	}
	if malformed != st.Malformed || len(kinds) != badKinds {
		t.Errorf("malformed records by kind %v, want %d of %d kinds", kinds, st.Malformed, badKinds)
	}
	dups, otherPartition, otherKey := 0, 0, 0
	for id, cs := range copies {
		if len(cs) > 2 {
			t.Fatalf("event %s produced %d times", id, len(cs))
		}
		if len(cs) == 2 {
			dups++
			if !bytes.Equal(cs[0].Value, cs[1].Value) {
				t.Fatalf("copies of %s differ:\n%s\n%s", id, cs[0].Value, cs[1].Value)
			}
			if cs[0].Partition != cs[1].Partition {
				otherPartition++
			}
			if !bytes.Equal(cs[0].Key, cs[1].Key) {
				otherKey++
			}
		}
	}
	if len(copies) != st.Valid || dups != st.Duplicates {
		t.Errorf("Kafka holds %d events, %d of them twice; stats %+v", len(copies), dups, st)
	}
	if otherKey < dups/5 || otherPartition == 0 {
		t.Errorf("of %d duplicates, %d have another key and %d are on another partition; want about a third", dups, otherKey, otherPartition)
	}

	// The gaps in Kafka's client_seqs are exactly the dropped events.
	produced := map[string]map[int64]bool{}
	for _, cs := range copies {
		e := all[eventID(t, cs[0].Value)]
		if produced[e.PlayerID] == nil {
			produced[e.PlayerID] = map[int64]bool{}
		}
		produced[e.PlayerID][e.ClientSeq] = true
	}
	missing := 0
	for _, e := range all {
		if !produced[e.PlayerID][e.ClientSeq] {
			missing++
		}
	}
	if missing != st.Dropped {
		t.Errorf("%d events of AllEvents are not in Kafka, want the %d dropped", missing, st.Dropped)
	}

	// Held duplicates come long after their originals; immediate ones right after, on the same partition.
	immediate, late := 0, 0
	for _, cs := range copies {
		if len(cs) == 2 && cs[0].Partition == cs[1].Partition {
			switch d := cs[1].Offset - cs[0].Offset; {
			case d == 1:
				immediate++
			case d > 10:
				late++
			}
		}
	}
	if immediate < dups/5 || late < dups/10 {
		t.Errorf("of %d duplicates, %d follow their original and %d come much later", dups, immediate, late)
	}
}

// eventTimes matches event_time values, also cut short.
var eventTimes = regexp.MustCompile(`"event_time":"[0-9T:.Z-]*`)

// noTimes returns b with event_time values removed.
func noTimes(b []byte) []byte { return eventTimes.ReplaceAll(b, []byte(`"event_time":"`)) }

func eventID(t *testing.T, v []byte) string {
	t.Helper()
	var e jsonEvent
	if err := json.Unmarshal(v, &e); err != nil {
		t.Fatal(err)
	}
	return e.EventID
}

func TestProduceFaultsDeterministic(t *testing.T) {
	b := startBroker(t)
	opts := ProduceOptions{Count: 5000, Seed: 5, Players: 300, MalformedRate: 0.02, DuplicateRate: 0.05, GapRate: 0.03}
	one := produceFaults(t, b.Addr(), "one", opts)
	two := produceFaults(t, b.Addr(), "two", opts)
	// The generator's clock starts relative to now, so runs differ in event times only.
	same := func(a, b []byte) bool { return bytes.Equal(noTimes(a), noTimes(b)) }
	if one.stats != two.stats || !same(one.all, two.all) {
		t.Fatalf("same seed and knobs gave stats %+v and %+v (AllEvents equal: %v)", one.stats, two.stats, same(one.all, two.all))
	}
	if len(one.parts) < 2 {
		t.Fatalf("records on %d partitions", len(one.parts))
	}
	for _, p := range slices.Sorted(maps.Keys(one.parts)) {
		if !slices.EqualFunc(one.parts[p], two.parts[p], same) {
			t.Fatalf("partition %d differs between runs", p)
		}
	}

	// Each knob picks the same events whatever the others do: GapRate alone drops the same events.
	gapsOnly := opts
	gapsOnly.MalformedRate, gapsOnly.DuplicateRate = 0, 0
	three := produceFaults(t, b.Addr(), "three", gapsOnly)
	if three.stats != (ProduceStats{Valid: one.stats.Valid, Dropped: one.stats.Dropped}) || !same(three.all, one.all) {
		t.Fatalf("gaps only: stats %+v, with all knobs %+v", three.stats, one.stats)
	}
	ids := func(r faultRun) map[string]bool {
		m := map[string]bool{}
		for _, rec := range r.recs {
			if malformedKind(rec.Value) == "" {
				m[eventID(t, rec.Value)] = true
			}
		}
		return m
	}
	if !maps.Equal(ids(one), ids(three)) {
		t.Fatal("gaps only produced other events than all knobs with the same GapRate")
	}
}
