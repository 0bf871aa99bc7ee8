// Package completeness finds lost and out-of-order records from per-producer sequence numbers.
//
// Where every record carries a producer id (a player, a device, a client) and a sequence number that the
// producer increments by one per record (client_seq in the demo), a hole in a producer's sequence is a record
// that was lost on the way, and a record that arrives after a higher one of its producer arrived out of order.
//
// Two views, for two jobs:
//   - [Tracker] watches records as they are staged, for live metrics. It is cheap per record and bounded in
//     memory, and it only knows what it has seen since it started.
//   - [Build] reports over a whole table with SQL, the source of truth across restarts and processes: the
//     holes in each producer's sequence, how many records they add up to, and how many rows arrived out of
//     order or repeat a sequence number.
//
// Non-obvious points:
//   - Sequences start at 1. [Build] always reports a producer whose lowest sequence number is above 1 as
//     missing 1 to that number minus one. A Tracker does so only with [Tracker.AssumeStartAtOne], because after
//     a restart it sees each producer from the middle of its history.
//   - A duplicate (a sequence number already seen) is never also counted as out of order, and an out-of-order
//     record is one that fills a hole. Both views agree on this.
//   - A loss is seen only once a later record of the same producer arrives: a producer's latest records,
//     lost, leave no hole yet.
package completeness

import (
	"cmp"
	"slices"
	"sync"
)

// DefaultMaxProducers is the bound of a Tracker created with maxProducers <= 0.
const DefaultMaxProducers = 100_000

// MaxHolesPerProducer bounds the open holes a Tracker keeps per producer. Opening one more forgets the
// producer's oldest (lowest) hole; see [Stats.DroppedHoles].
const MaxHolesPerProducer = 64

// Range is an inclusive range of a producer's missing sequence numbers.
type Range struct {
	// Producer is the producer id.
	Producer string `json:"producer"`
	// From and To are the first and last missing sequence numbers; From <= To.
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Len returns how many sequence numbers r holds.
func (r Range) Len() uint64 { return uint64(r.To-r.From) + 1 }

// Stats are a Tracker's counters.
type Stats struct {
	// Producers is how many producers are tracked now.
	Producers int
	// Gaps is how many holes were opened: arrivals whose sequence number skipped ahead.
	Gaps uint64
	// Missing is how many sequence numbers the open holes hold now; late arrivals lower it. Holes
	// forgotten by eviction or the per-producer bound no longer count.
	Missing uint64
	// OutOfOrder is how many arrivals filled a hole: below the producer's highest sequence number and not
	// seen before.
	OutOfOrder uint64
	// Duplicates is how many arrivals repeated a sequence number already seen.
	Duplicates uint64
	// Untracked is how many arrivals fell below the first sequence number tracked for their producer (or
	// below 1 with AssumeStartAtOne): the tracker cannot tell whether they are late or duplicates.
	Untracked uint64
	// Evictions is how many producers were forgotten to stay within the producer bound.
	Evictions uint64
	// DroppedHoles is how many holes were forgotten to stay within MaxHolesPerProducer.
	DroppedHoles uint64
}

// Tracker follows the sequence numbers of many producers as records arrive and counts holes, late arrivals
// and duplicates. Per producer it keeps the lowest and highest sequence number it tracks and up to
// MaxHolesPerProducer open holes, so its memory is bounded by the producer bound it was created with; beyond
// that bound, the least recently seen producer is forgotten. A Tracker is safe for concurrent use.
type Tracker struct {
	// AssumeStartAtOne makes the first sequence number seen from a producer, when above 1, open the hole 1
	// to that number minus one, as if the producer's records before it were lost. Leave it off when the
	// tracker may start in the middle of producers' histories (after a restart, or on a topic that does not
	// start at the beginning): then the first number seen is where tracking of that producer starts. Set it
	// before the first Observe.
	AssumeStartAtOne bool

	mu         sync.Mutex
	max        int
	producers  map[string]*producer
	head, tail *producer // least recently seen list; head is the most recent
	stats      Stats
}

// producer is one producer's state, also a node of the Tracker's recency list.
type producer struct {
	name       string
	low, high  int64   // tracked sequence numbers are low..high; high = low-1 before the first
	holes      []Range // open holes, ascending and disjoint, within low..high; Producer is unset
	prev, next *producer
}

// NewTracker returns a Tracker that keeps at most maxProducers producers (DefaultMaxProducers if
// maxProducers <= 0).
func NewTracker(maxProducers int) *Tracker {
	if maxProducers <= 0 {
		maxProducers = DefaultMaxProducers
	}
	return &Tracker{max: maxProducers, producers: make(map[string]*producer)}
}

// Observe records the arrival of producer's record with sequence number seq. It does not keep producer; the
// bytes are copied the first time a producer is seen. For a known producer it does not allocate unless it
// opens or splits a hole.
func (t *Tracker) Observe(producer []byte, seq int64) {
	t.mu.Lock()
	p := t.producers[string(producer)] // no allocation for the lookup
	if p == nil {
		p = t.add(producer, seq)
	} else {
		t.touch(p)
	}
	switch {
	case seq > p.high:
		if seq-1 > p.high {
			t.open(p, p.high+1, seq-1)
		}
		p.high = seq
	case seq < p.low:
		t.stats.Untracked++
	default:
		t.fill(p, seq)
	}
	t.mu.Unlock()
}

// add starts tracking a new producer whose first record has sequence number seq, evicting the least
// recently seen producer if the bound is reached, and puts it at the head of the recency list.
func (t *Tracker) add(name []byte, seq int64) *producer {
	var p *producer
	if len(t.producers) >= t.max {
		p = t.tail
		t.unlink(p)
		delete(t.producers, p.name)
		for _, h := range p.holes {
			t.stats.Missing -= h.Len()
		}
		t.stats.Evictions++
		*p = producer{holes: p.holes[:0]} // reuse the node and its holes' array
	} else {
		p = &producer{}
	}
	p.name = string(name)
	p.low = seq
	if t.AssumeStartAtOne {
		p.low = 1
	}
	p.high = p.low - 1
	t.producers[p.name] = p
	t.pushFront(p)
	return p
}

// open adds the hole from..to after p's other holes.
func (t *Tracker) open(p *producer, from, to int64) {
	t.stats.Gaps++
	t.stats.Missing += Range{From: from, To: to}.Len()
	p.holes = append(p.holes, Range{From: from, To: to})
	t.bound(p)
}

// fill handles seq at or below p.high: it either fills (part of) a hole or repeats a sequence number.
func (t *Tracker) fill(p *producer, seq int64) {
	// The first hole ending at or after seq is the only one that can hold it.
	i, _ := slices.BinarySearchFunc(p.holes, seq, func(h Range, seq int64) int { return cmp.Compare(h.To, seq) })
	if i == len(p.holes) || p.holes[i].From > seq {
		t.stats.Duplicates++
		return
	}
	t.stats.OutOfOrder++
	t.stats.Missing--
	h := &p.holes[i]
	switch {
	case h.From == h.To:
		p.holes = slices.Delete(p.holes, i, i+1)
	case seq == h.From:
		h.From++
	case seq == h.To:
		h.To--
	default: // split
		rest := Range{From: seq + 1, To: h.To}
		h.To = seq - 1
		p.holes = slices.Insert(p.holes, i+1, rest)
		t.bound(p)
	}
}

// bound forgets p's oldest holes beyond MaxHolesPerProducer.
func (t *Tracker) bound(p *producer) {
	for len(p.holes) > MaxHolesPerProducer {
		t.stats.Missing -= p.holes[0].Len()
		t.stats.DroppedHoles++
		p.holes = slices.Delete(p.holes, 0, 1)
	}
}

func (t *Tracker) pushFront(p *producer) {
	p.prev, p.next = nil, t.head
	if t.head != nil {
		t.head.prev = p
	}
	t.head = p
	if t.tail == nil {
		t.tail = p
	}
}

func (t *Tracker) unlink(p *producer) {
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		t.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		t.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

// touch moves p to the head of the recency list.
func (t *Tracker) touch(p *producer) {
	if t.head == p {
		return
	}
	t.unlink(p)
	t.pushFront(p)
}

// Stats returns the tracker's counters.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Producers = len(t.producers)
	return s
}

// Missing returns the open holes of all tracked producers, largest first (then by producer and sequence
// number), at most limit of them; limit <= 0 returns all.
func (t *Tracker) Missing(limit int) []Range {
	t.mu.Lock()
	var out []Range
	for name, p := range t.producers {
		for _, h := range p.holes {
			h.Producer = name
			out = append(out, h)
		}
	}
	t.mu.Unlock()
	sortRanges(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit:limit]
	}
	return out
}

// sortRanges sorts rs largest first, then by producer and first sequence number.
func sortRanges(rs []Range) {
	slices.SortFunc(rs, func(a, b Range) int {
		if c := cmp.Compare(b.Len(), a.Len()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Producer, b.Producer); c != 0 {
			return c
		}
		return cmp.Compare(a.From, b.From)
	})
}
