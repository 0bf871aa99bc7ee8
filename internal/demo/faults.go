package demo

import (
	"bytes"
	"container/heap"
	"math/rand/v2"
)

// Fault injection for Produce: malformed records, duplicates and lost events.
//
// Each knob draws from a random source of its own, seeded from the Produce seed, so the generated events
// are the same whatever the knobs, and each knob picks the same events whatever the other knobs are set to:
// one seed and GapRate drop the same events with or without duplicates.

// Malformed record kinds, each breaking one rule a strict pipeline checks.
const (
	badTruncated   = iota // JSON cut short
	badWrongType          // "level":"ten"
	badNoEventTime        // the required event_time missing
	badEventType          // event_type "level_down", which no definition knows
	badPlatform           // platform "smart_fridge", outside the enum
	badKinds
)

// Stream constants of the fault sources; the generator's own is 0x9e3779b97f4a7c15.
const (
	gapStream = 0x3c6ef372fe94f82b
	dupStream = 0xa54ff53a5f1d36f1
	badStream = 0x510e527fade682d1
)

// maxDupDelay is the most further events after which a held duplicate is produced again.
const maxDupDelay = 5000

// faults decides, event by event, what Produce does besides producing the event.
type faults struct {
	gapRate, dupRate, badRate float64
	gapRNG, dupRNG, badRNG    *rand.Rand
	held                      heldDups
}

func newFaults(seed int64, gapRate, dupRate, badRate float64) *faults {
	src := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), stream)) }
	return &faults{
		gapRate: gapRate, dupRate: dupRate, badRate: badRate,
		gapRNG: src(gapStream), dupRNG: src(dupStream), badRNG: src(badStream),
	}
}

// drop reports whether the next event is lost before Kafka.
func (f *faults) drop() bool {
	return f.gapRate > 0 && f.gapRNG.Float64() < f.gapRate
}

// dupPlan is what happens to a second copy of an event.
type dupPlan struct {
	delay     int // further events before it is produced; 0 produces it right after the original
	otherKey  bool
	keyPlayer int // the player whose id keys it, with otherKey, unless that is the event's own
}

// dup reports whether the next event is produced twice, and how. It draws the same numbers whether or not
// the event is dropped, so that GapRate does not change which events are duplicated.
func (f *faults) dup(players int) (dupPlan, bool) {
	if f.dupRate <= 0 || f.dupRNG.Float64() >= f.dupRate {
		return dupPlan{}, false
	}
	var p dupPlan
	if f.dupRNG.IntN(2) == 0 {
		p.delay = 1 + f.dupRNG.IntN(maxDupDelay)
	}
	// A third of the copies carry another player's key, so they land on another partition, as when a
	// client retries through a different path.
	p.otherKey = f.dupRNG.IntN(3) == 0
	p.keyPlayer = f.dupRNG.IntN(players)
	return p, true
}

// badPlan is a malformed record to produce besides an event.
type badPlan struct {
	kind    int
	eventID string
	cut     float64 // where badTruncated cuts, as a fraction of the record
}

// malformed reports whether a malformed record follows the next event, and which.
func (f *faults) malformed() (badPlan, bool) {
	if f.badRate <= 0 || f.badRNG.Float64() >= f.badRate {
		return badPlan{}, false
	}
	return badPlan{kind: f.badRNG.IntN(badKinds), eventID: newUUID(f.badRNG), cut: f.badRNG.Float64()}, true
}

// appendMalformed appends a malformed record made from e with a fresh event ID. It keeps e's player and
// client_seq: a broken client's record that a lax pipeline stages shows up as a repeated sequence number.
func (g *Generator) appendMalformed(dst []byte, e Event, p badPlan) []byte {
	e.EventID = p.eventID
	switch p.kind {
	case badEventType:
		e.EventType = "level_down"
	case badPlatform:
		e.Platform = "smart_fridge"
	}
	start := len(dst)
	dst = g.AppendJSON(dst, e)
	rec := dst[start:]
	switch p.kind {
	case badTruncated:
		// Any proper prefix of an object is invalid JSON.
		return dst[:start+1+int(p.cut*float64(len(rec)-2))]
	case badWrongType:
		i := bytes.Index(rec, []byte(`,"level":`)) + len(`,"level":`)
		j := i + bytes.IndexByte(rec[i:], ',')
		tail := append([]byte(nil), rec[j:]...)
		return append(append(dst[:start+i], `"ten"`...), tail...)
	case badNoEventTime:
		i := bytes.Index(rec, []byte(`,"event_time":"`))
		j := i + len(`,"event_time":"`)
		j += bytes.IndexByte(rec[j:], '"') + 1
		tail := append([]byte(nil), rec[j:]...)
		return append(dst[:start+i], tail...)
	}
	return dst
}

// heldDup is a duplicate waiting to be produced after event number due.
type heldDup struct {
	due        int
	order      int // arrival order, to break ties in due deterministically
	key, value []byte
}

// heldDups is a min-heap of held duplicates by due.
type heldDups []heldDup

func (h heldDups) Len() int { return len(h) }
func (h heldDups) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].order < h[j].order
}
func (h heldDups) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldDups) Push(x any)   { *h = append(*h, x.(heldDup)) }
func (h *heldDups) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// hold keeps d until it is due.
func (f *faults) hold(d heldDup) {
	heap.Push(&f.held, d)
}

// due removes and returns the next held duplicate due at or before event number n.
func (f *faults) due(n int) (heldDup, bool) {
	if len(f.held) == 0 || f.held[0].due > n {
		return heldDup{}, false
	}
	return heap.Pop(&f.held).(heldDup), true
}
