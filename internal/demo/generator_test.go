package demo

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"testing"
	"time"
)

var testStart = time.Date(2025, 3, 14, 9, 26, 53, 589_793_238, time.UTC)

// jsonEvent mirrors the JSON form of Event for decoding.
type jsonEvent struct {
	EventID   string    `json:"event_id"`
	EventTime time.Time `json:"event_time"`
	PlayerID  string    `json:"player_id"`
	EventType string    `json:"event_type"`
	Level     int       `json:"level"`
	ItemID    string    `json:"item_id"`
	Amount    float64   `json:"amount"`
	Currency  string    `json:"currency"`
	Platform  string    `json:"platform"`
	Country   string    `json:"country"`
	ClientSeq int64     `json:"client_seq"`
}

func (j jsonEvent) event() Event {
	return Event{j.EventID, j.EventTime, j.PlayerID, j.EventType, j.Level, j.ItemID, j.Amount, j.Currency, j.Platform, j.Country, j.ClientSeq}
}

func TestDeterminism(t *testing.T) {
	a := NewGenerator(42, 0, testStart)
	b := NewGenerator(42, 0, testStart)
	c := NewGenerator(43, 0, testStart)
	var ja, jb []byte
	differs := false
	for i := range 1000 {
		ea, eb, ec := a.Next(), b.Next(), c.Next()
		if ea != eb {
			t.Fatalf("event %d differs for one seed:\n%+v\n%+v", i, ea, eb)
		}
		ja, jb = a.AppendJSON(ja[:0], ea), b.AppendJSON(jb[:0], eb)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("event %d JSON differs for one seed:\n%s\n%s", i, ja, jb)
		}
		differs = differs || ea.EventID != ec.EventID
	}
	if !differs {
		t.Fatal("seeds 42 and 43 gave the same event IDs")
	}
}

var (
	reEventTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	reUUID      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	rePlayer    = regexp.MustCompile(`^p\d{6}$`)
	reItem      = regexp.MustCompile(`^[a-z_]+_\d\d$`)
	reCountry   = regexp.MustCompile(`^[A-Z]{2}$`)
)

func TestJSONFields(t *testing.T) {
	g := NewGenerator(1, 0, testStart)
	var buf []byte
	counts := map[string]int{}
	const n = 100_000
	for i := range n {
		e := g.Next()
		buf = g.AppendJSON(buf[:0], e)
		if !json.Valid(buf) {
			t.Fatalf("event %d: invalid JSON: %s", i, buf)
		}
		var m map[string]any
		if err := json.Unmarshal(buf, &m); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, buf)
		}
		var je jsonEvent
		if err := json.Unmarshal(buf, &je); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, buf)
		}
		if got := je.event(); !got.EventTime.Equal(e.EventTime) || (func() bool { got.EventTime = e.EventTime; return got != e })() {
			t.Fatalf("event %d: round trip gave %+v, want %+v", i, je.event(), e)
		}

		counts[e.EventType]++
		want := []string{"event_id", "event_time", "player_id", "event_type", "level", "platform", "country", "client_seq"}
		switch e.EventType {
		case SessionStart, SessionEnd, LevelUp:
		case ItemAcquire:
			want = append(want, "item_id")
		case Purchase:
			want = append(want, "item_id", "amount", "currency")
		default:
			t.Fatalf("event %d: unknown event_type %q", i, e.EventType)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("event %d (%s): fields %v, want %v: %s", i, e.EventType, keys, want, buf)
		}

		str := func(k string, re *regexp.Regexp) {
			s, ok := m[k].(string)
			if !ok || !re.MatchString(s) {
				t.Fatalf("event %d: %s = %#v, does not match %s: %s", i, k, m[k], re, buf)
			}
		}
		str("event_id", reUUID)
		str("event_time", reEventTime)
		str("player_id", rePlayer)
		str("country", reCountry)
		if l, ok := m["level"].(float64); !ok || l < 1 || l > MaxLevel || l != math.Trunc(l) {
			t.Fatalf("event %d: level %#v: %s", i, m["level"], buf)
		}
		if s, ok := m["client_seq"].(float64); !ok || s < 1 || s != math.Trunc(s) {
			t.Fatalf("event %d: client_seq %#v: %s", i, m["client_seq"], buf)
		}
		if p := m["platform"]; p != "ios" && p != "android" && p != "pc" {
			t.Fatalf("event %d: platform %#v", i, p)
		}
		if _, ok := m["item_id"]; ok {
			str("item_id", reItem)
		}
		if e.EventType == Purchase {
			cur := m["currency"]
			amounts := map[any][]float64{
				"USD": {0.99, 4.99, 9.99, 19.99, 49.99}, "EUR": {0.99, 4.99, 9.99, 19.99, 49.99},
				"KRW": {1200, 5900, 12000, 25000, 59000}, "JPY": {160, 800, 1500, 3000, 7800},
			}[cur]
			if a, ok := m["amount"].(float64); !ok || !slices.Contains(amounts, a) {
				t.Fatalf("event %d: amount %#v in %v: %s", i, m["amount"], cur, buf)
			}
		}
		if d := e.EventTime.Sub(testStart); d < -time.Millisecond || d > n*20*time.Millisecond {
			t.Fatalf("event %d: event_time %v is %v from start", i, e.EventTime, d)
		}
	}
	t.Logf("event mix over %d events: %v", n, counts)
	if f := float64(counts[Purchase]) / n; f < 0.02 || f > 0.04 {
		t.Errorf("purchases are %.1f%% of events, want about 3%%", 100*f)
	}
	if counts[SessionStart] == 0 || counts[SessionEnd] == 0 || counts[LevelUp] == 0 || counts[ItemAcquire] < n/2 {
		t.Errorf("implausible event mix %v", counts)
	}
}

func TestUniqueEventIDs(t *testing.T) {
	g := NewGenerator(7, 0, testStart)
	seen := make(map[string]struct{}, 100_000)
	for i := range 100_000 {
		id := g.Next().EventID
		if _, dup := seen[id]; dup {
			t.Fatalf("event %d repeats event_id %s", i, id)
		}
		seen[id] = struct{}{}
	}
}

// TestPlayerStories checks each player's stream: client_seq counts from 1
// without gaps, sessions open and close in order, levels only rise by one,
// and platform and country never change.
func TestPlayerStories(t *testing.T) {
	type state struct {
		seq               int64
		inSession         bool
		level             int
		platform, country string
		currency          string
	}
	g := NewGenerator(3, 1000, testStart)
	players := map[string]*state{}
	var last time.Time
	for i := range 200_000 {
		e := g.Next()
		if e.EventTime.Before(last) {
			t.Fatalf("event %d: time went back from %v to %v", i, last, e.EventTime)
		}
		last = e.EventTime
		p := players[e.PlayerID]
		if p == nil {
			p = &state{level: e.Level, platform: e.Platform, country: e.Country}
			players[e.PlayerID] = p
		}
		if e.ClientSeq != p.seq+1 {
			t.Fatalf("event %d: %s client_seq %d after %d", i, e.PlayerID, e.ClientSeq, p.seq)
		}
		p.seq = e.ClientSeq
		if e.Platform != p.platform || e.Country != p.country {
			t.Fatalf("event %d: %s moved from %s/%s to %s/%s", i, e.PlayerID, p.platform, p.country, e.Platform, e.Country)
		}
		switch e.EventType {
		case SessionStart:
			if p.inSession {
				t.Fatalf("event %d: %s starts a session inside one", i, e.PlayerID)
			}
			p.inSession = true
		case SessionEnd:
			if !p.inSession {
				t.Fatalf("event %d: %s ends a session outside one", i, e.PlayerID)
			}
			p.inSession = false
		default:
			if !p.inSession {
				t.Fatalf("event %d: %s %s outside a session", i, e.PlayerID, e.EventType)
			}
		}
		wantLevel := p.level
		if e.EventType == LevelUp {
			wantLevel++
		}
		if e.Level != wantLevel || e.Level > MaxLevel {
			t.Fatalf("event %d: %s %s at level %d, was %d", i, e.PlayerID, e.EventType, e.Level, p.level)
		}
		p.level = e.Level
		if e.EventType == Purchase {
			if p.currency != "" && p.currency != e.Currency {
				t.Fatalf("event %d: %s pays in %s, earlier %s", i, e.PlayerID, e.Currency, p.currency)
			}
			p.currency = e.Currency
		}
	}
	if len(players) < 900 {
		t.Fatalf("only %d of 1000 players played", len(players))
	}
}

func TestSmallWorlds(t *testing.T) {
	for _, n := range []int{1, 2, 9} {
		g := NewGenerator(5, n, testStart)
		for range 1000 {
			g.Next()
		}
	}
	g := NewGenerator(5, 1_500_000, testStart)
	if e := g.Next(); len(e.PlayerID) != 8 {
		t.Fatalf("player ID %q for 1.5M players, want p + 7 digits", e.PlayerID)
	}
}

func TestAppendJSONStrings(t *testing.T) {
	g := NewGenerator(1, 1, testStart)
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\n\r\t", "\x00\x01\x1f\x7f", "<&>", "한국어", "\u2028", "bad\xffutf8\xc3", "emoji 🎮"} {
		e := Event{EventID: s, PlayerID: s, EventType: s, ItemID: s, Currency: s, Platform: s, Country: s, EventTime: testStart}
		buf := g.AppendJSON(nil, e)
		var je jsonEvent
		if err := json.Unmarshal(buf, &je); err != nil {
			t.Fatalf("%q: %v: %s", s, err, buf)
		}
		want, _ := json.Marshal(s) // replaces invalid UTF-8 like we do
		var ws string
		json.Unmarshal(want, &ws)
		if je.EventID != ws || je.Country != ws || (s != "" && je.ItemID != ws) {
			t.Fatalf("%q round-tripped to %q, want %q", s, je.EventID, ws)
		}
	}
	// Extreme values stay valid JSON.
	for _, e := range []Event{
		{Amount: math.NaN()}, {Amount: math.Inf(1)}, {Amount: -1e300}, {Amount: 5e-324},
		{EventTime: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)}, {EventTime: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Level: math.MinInt, ClientSeq: math.MaxInt64},
	} {
		buf := g.AppendJSON(nil, e)
		if !json.Valid(buf) {
			t.Errorf("invalid JSON for %+v: %s", e, buf)
		}
	}
	// Time zones are converted to UTC.
	kst := time.FixedZone("KST", 9*3600)
	buf := g.AppendJSON(nil, Event{EventTime: time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, kst)})
	if !bytes.Contains(buf, []byte(`"event_time":"2025-01-01T18:04:05.006Z"`)) {
		t.Fatalf("KST time encoded as %s", buf)
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	g := NewGenerator(1, 0, testStart)
	events := make([]Event, 100)
	for i := range events {
		events[i] = g.Next()
	}
	buf := make([]byte, 0, 1024)
	i := 0
	if allocs := testing.AllocsPerRun(1000, func() {
		buf = g.AppendJSON(buf[:0], events[i%len(events)])
		i++
	}); allocs != 0 {
		t.Fatalf("AppendJSON allocates %v times per event", allocs)
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := NewGenerator(1, 0, testStart)
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = g.AppendJSON(buf[:0], g.Next())
	}
	b.SetBytes(int64(len(buf)))
}
