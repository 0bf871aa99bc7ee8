// Package dedup remembers which event ids a table already holds, within a window of event time, and where each
// came from, so that a source duplicate (the same event produced twice into Kafka, on any partition) is staged
// once.
//
// The main table is the authority: the index holds, for every id hash, the position (source and offset) of the
// copy the table kept. A record is a duplicate when the index holds its id at a different position; a record
// read again at the same position (a replay after a crash) is the same record, not a duplicate. That rule
// gives every table of a pipeline the same answer however their commits interleave with crashes.
package dedup

import (
	"sync"
	"time"

	"github.com/zeebo/xxh3"
)

// Hash is the 64-bit hash ids are kept as. Two different ids collide with probability about n²/2⁶⁵ for n ids
// in the window (3·10⁻⁸ for a million ids); a collision would drop the later event as a duplicate.
func Hash(id []byte) uint64 { return xxh3.Hash(id) }

// Position packs a source number (see Sources) and an offset into one word: 16 bits of source, 48 of offset.
type Position uint64

// Pos makes a Position.
func Pos(source uint16, offset int64) Position {
	return Position(uint64(source)<<48 | uint64(offset)&(1<<48-1))
}

// Source returns the source number.
func (p Position) Source() uint16 { return uint16(p >> 48) }

// Offset returns the offset.
func (p Position) Offset() int64 { return int64(p & (1<<48 - 1)) }

type entry struct {
	pos    Position
	minute uint32 // event time in minutes since the epoch, for eviction
}

// Index maps id hashes to the position of the kept copy. It is safe for concurrent use.
type Index struct {
	mu        sync.RWMutex
	m         map[uint64]entry
	window    time.Duration
	watermark uint32 // latest event minute added
}

// New returns an empty index keeping ids for window of event time.
func New(window time.Duration) *Index {
	return &Index{m: make(map[uint64]entry), window: window}
}

// Window returns the index's window.
func (x *Index) Window() time.Duration { return x.window }

// Lookup returns the kept position of an id hash.
func (x *Index) Lookup(h uint64) (Position, bool) {
	x.mu.RLock()
	e, ok := x.m[h]
	x.mu.RUnlock()
	return e.pos, ok
}

// IsDuplicate reports whether the index keeps this id at another position.
func (x *Index) IsDuplicate(h uint64, pos Position) bool {
	kept, ok := x.Lookup(h)
	return ok && kept != pos
}

// Add records that the table keeps the id at pos. An id already kept keeps its first position.
func (x *Index) Add(h uint64, pos Position, eventTime time.Time) {
	m := minuteOf(eventTime)
	x.mu.Lock()
	if _, ok := x.m[h]; !ok {
		x.m[h] = entry{pos: pos, minute: m}
	}
	x.watermark = max(x.watermark, m)
	x.mu.Unlock()
}

// AddAll adds n ids under one lock: at(i) returns the i-th id hash, position, event time (µs) and whether to
// add it.
func (x *Index) AddAll(n int, at func(i int) (h uint64, pos Position, micros int64, ok bool)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := 0; i < n; i++ {
		h, pos, micros, ok := at(i)
		if !ok {
			continue
		}
		m := minuteOfMicros(micros)
		if _, seen := x.m[h]; !seen {
			x.m[h] = entry{pos: pos, minute: m}
		}
		x.watermark = max(x.watermark, m)
	}
}

func minuteOfMicros(us int64) uint32 {
	if us < 0 {
		return 0
	}
	return uint32(us / 60_000_000)
}

// Evict forgets ids older than the window behind the newest event time, and returns how many it forgot.
func (x *Index) Evict() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := uint32(x.window / time.Minute)
	if x.watermark <= w {
		return 0
	}
	cut, n := x.watermark-w, 0
	for h, e := range x.m {
		if e.minute < cut {
			delete(x.m, h)
			n++
		}
	}
	return n
}

// Len returns the number of ids kept.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.m)
}

// Reset forgets everything.
func (x *Index) Reset() {
	x.mu.Lock()
	x.m = make(map[uint64]entry)
	x.watermark = 0
	x.mu.Unlock()
}

func minuteOf(t time.Time) uint32 {
	if t.IsZero() || t.Unix() < 0 {
		return 0
	}
	return uint32(t.Unix() / 60)
}

// Sources numbers record sources ("topic/partition", "backfill:file/0") for Positions. It is safe for concurrent
// use; numbers are per process.
type Sources struct {
	mu  sync.Mutex
	ids map[sourceKey]uint16
}

type sourceKey struct {
	topic     string
	partition int32
}

// ID returns the number of a source, assigning the next one on first sight.
func (s *Sources) ID(topic string, partition int32) uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[sourceKey]uint16{}
	}
	k := sourceKey{topic, partition}
	id, ok := s.ids[k]
	if !ok {
		id = uint16(len(s.ids))
		s.ids[k] = id
	}
	return id
}
