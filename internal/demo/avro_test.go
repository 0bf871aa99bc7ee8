package demo

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// avroEvent mirrors AvroSchema for decoding with hamba/avro.
type avroEvent struct {
	EventID   string    `avro:"event_id"`
	EventTime time.Time `avro:"event_time"`
	PlayerID  string    `avro:"player_id"`
	EventType string    `avro:"event_type"`
	Level     int32     `avro:"level"`
	ItemID    *string   `avro:"item_id"`
	Amount    *float64  `avro:"amount"`
	Currency  *string   `avro:"currency"`
	Platform  string    `avro:"platform"`
	Country   string    `avro:"country"`
	ClientSeq int64     `avro:"client_seq"`
}

// event is the Event a decoded record stands for: nulls as the zero values AppendAvro writes as null.
func (a avroEvent) event() Event {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var amount float64
	if a.Amount != nil {
		amount = *a.Amount
	}
	return Event{a.EventID, a.EventTime.UTC(), a.PlayerID, a.EventType, int(a.Level), deref(a.ItemID), amount,
		deref(a.Currency), a.Platform, a.Country, a.ClientSeq}
}

// TestAppendAvro decodes AppendAvro's records with hamba/avro against AvroSchema: every event of a generated
// stream comes back whole, the optional fields null exactly when AppendJSON leaves them out, and nothing is
// left over.
func TestAppendAvro(t *testing.T) {
	sch, err := avro.Parse(AvroSchema)
	if err != nil {
		t.Fatalf("AvroSchema: %v", err)
	}
	g := NewGenerator(3, 0, testStart)
	var buf, js []byte
	nulls := map[string]int{}
	const n = 50_000
	for i := range n {
		e := g.Next()
		buf = AppendAvro(buf[:0], e)
		var got avroEvent
		if err := avro.Unmarshal(sch, buf, &got); err != nil {
			t.Fatalf("event %d: %v: % x", i, err, buf)
		}
		if got.event() != e {
			t.Fatalf("event %d: decoded %+v, want %+v", i, got.event(), e)
		}
		// Unmarshal reads one record; re-encoding what it read must give every byte back.
		again, err := avro.Marshal(sch, got)
		if err != nil {
			t.Fatalf("event %d: re-encoding: %v", i, err)
		}
		if string(again) != string(buf) {
			t.Fatalf("event %d: % x re-encodes as % x", i, buf, again)
		}
		js = g.AppendJSON(js[:0], e)
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		for name, null := range map[string]bool{"item_id": got.ItemID == nil, "amount": got.Amount == nil, "currency": got.Currency == nil} {
			if _, inJSON := m[name]; inJSON == null {
				t.Fatalf("event %d: %s null in Avro %v, in the JSON %v: %s", i, name, null, inJSON, js)
			}
			if null {
				nulls[name]++
			}
		}
	}
	if nulls["item_id"] == 0 || nulls["item_id"] == n || nulls["amount"] == 0 || nulls["amount"] == n {
		t.Errorf("nulls %v over %d events: want some of each field null and some not", nulls, n)
	}
}

// TestAppendAvroEdges checks the encoding of values the generator does not make: empty and non-ASCII strings,
// zero and non-finite amounts, negative numbers, times before the epoch.
func TestAppendAvroEdges(t *testing.T) {
	sch := avro.MustParse(AvroSchema)
	tests := []struct {
		name       string
		e          Event
		wantAmount *float64
	}{
		{"zero amount is null", Event{EventTime: time.UnixMilli(0).UTC(), Amount: 0}, nil},
		{"NaN amount is null", Event{EventTime: time.UnixMilli(1).UTC(), Amount: math.NaN()}, nil},
		{"infinite amount is null", Event{EventTime: time.UnixMilli(2).UTC(), Amount: math.Inf(-1)}, nil},
		{"negative numbers", Event{EventTime: time.UnixMilli(-86_400_001).UTC(), Level: -3, ClientSeq: -1 << 40, Amount: -0.5}, ptr(-0.5)},
		{"long and non-ASCII strings", Event{EventID: strings.Repeat("é", 200), EventTime: time.UnixMilli(1_700_000_000_123).UTC(),
			PlayerID: "p000001", ItemID: "검", Currency: "KRW", Amount: 1200, Platform: "pc", Country: "KR", ClientSeq: 1 << 62}, ptr(1200.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got avroEvent
			if err := avro.Unmarshal(sch, AppendAvro(nil, tt.e), &got); err != nil {
				t.Fatal(err)
			}
			want := tt.e
			if tt.wantAmount == nil {
				want.Amount = 0
			}
			if got.event() != want {
				t.Errorf("decoded %+v, want %+v", got.event(), want)
			}
			if (got.Amount == nil) != (tt.wantAmount == nil) || (got.Amount != nil && *got.Amount != *tt.wantAmount) {
				t.Errorf("amount %v, want %v", got.Amount, tt.wantAmount)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAppendAvroAllocs(t *testing.T) {
	g := NewGenerator(1, 0, testStart)
	e := g.Next()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = AppendAvro(buf[:0], e) }); n != 0 {
		t.Errorf("AppendAvro allocates %v times per event, want 0", n)
	}
}

// TestProduceEncode produces one seed's stream twice, as JSON and through Encode as Avro: the Avro records are
// the same events (event_time aside: the clock starts at each run's start), keyed by player.
func TestProduceEncode(t *testing.T) {
	b := startBroker(t)
	const n = 3000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for topic, encode := range map[string]func([]byte, Event) []byte{"json": nil, "avro": AppendAvro} {
		st, err := Produce(ctx, ProduceOptions{Brokers: []string{b.Addr()}, Topic: topic, Count: n, Seed: 21, Players: 300, Encode: encode})
		if err != nil || st != (ProduceStats{Valid: n}) {
			t.Fatalf("Produce %s = %+v, %v; want %d valid records", topic, st, err, n)
		}
	}
	byID := map[string]Event{}
	for _, r := range consumeRecords(t, b.Addr(), "json", n) {
		var e jsonEvent
		if err := json.Unmarshal(r.Value, &e); err != nil {
			t.Fatalf("json record %d/%d: %v", r.Partition, r.Offset, err)
		}
		byID[e.EventID] = e.event()
	}
	sch := avro.MustParse(AvroSchema)
	for _, r := range consumeRecords(t, b.Addr(), "avro", n) {
		var a avroEvent
		if err := avro.Unmarshal(sch, r.Value, &a); err != nil {
			t.Fatalf("avro record %d/%d: %v: % x", r.Partition, r.Offset, err, r.Value)
		}
		got := a.event()
		want, ok := byID[got.EventID]
		if !ok {
			t.Fatalf("avro record %d/%d: event %s is not in the JSON run", r.Partition, r.Offset, got.EventID)
		}
		delete(byID, got.EventID)
		if d := got.EventTime.Sub(want.EventTime); d < -time.Minute || d > time.Minute {
			t.Errorf("event %s: event_time %v, the JSON run's %v", got.EventID, got.EventTime, want.EventTime)
		}
		got.EventTime = want.EventTime
		if got != want {
			t.Fatalf("avro record %d/%d: %+v, want %+v", r.Partition, r.Offset, got, want)
		}
		if string(r.Key) != got.PlayerID {
			t.Errorf("avro record %d/%d: key %q, player_id %q", r.Partition, r.Offset, r.Key, got.PlayerID)
		}
	}
	if len(byID) != 0 {
		t.Errorf("%d events of the JSON run are missing from the Avro run", len(byID))
	}
}

func TestProduceEncodeWithAllEvents(t *testing.T) {
	var all strings.Builder
	_, err := Produce(context.Background(), ProduceOptions{Brokers: []string{"127.0.0.1:1"}, Count: 1, Encode: AppendAvro, AllEvents: &all})
	if err == nil || !strings.Contains(err.Error(), "AllEvents") || !strings.Contains(err.Error(), "Encode") {
		t.Errorf("Produce with Encode and AllEvents: %v, want an error naming both", err)
	}
}
