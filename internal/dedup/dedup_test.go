package dedup

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestIndex(t *testing.T) {
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	x := New(24 * time.Hour)
	var src Sources
	p0, p3 := src.ID("game.events", 0), src.ID("game.events", 3)
	if p0 == p3 || src.ID("game.events", 0) != p0 {
		t.Fatalf("source ids: %d %d", p0, p3)
	}
	a, b := Hash([]byte("event-a")), Hash([]byte("event-b"))
	first := Pos(p0, 10)
	x.Add(a, first, base)
	steps := []struct {
		name string
		h    uint64
		pos  Position
		dup  bool
	}{
		{"same record replayed", a, first, false},
		{"copy on another partition", a, Pos(p3, 500), true},
		{"copy later on the same partition", a, Pos(p0, 11), true},
		{"unknown id", b, Pos(p3, 1), false},
	}
	for _, s := range steps {
		if got := x.IsDuplicate(s.h, s.pos); got != s.dup {
			t.Errorf("%s: IsDuplicate = %v, want %v", s.name, got, s.dup)
		}
	}
	x.Add(a, Pos(p3, 500), base) // a second Add keeps the first position
	if pos, _ := x.Lookup(a); pos != first {
		t.Errorf("kept position %v, want %v", pos, first)
	}
	if Pos(7, 123456789).Source() != 7 || Pos(7, 123456789).Offset() != 123456789 {
		t.Error("position packing")
	}

	// Eviction is by event time, relative to the newest event added.
	x.Add(b, Pos(p3, 1), base.Add(23*time.Hour))
	if n := x.Evict(); n != 0 {
		t.Errorf("evicted %d within the window", n)
	}
	x.Add(Hash([]byte("c")), Pos(p3, 2), base.Add(25*time.Hour))
	if n := x.Evict(); n != 1 || x.Len() != 2 {
		t.Errorf("evicted %d, kept %d; want 1 and 2", n, x.Len())
	}
	if _, ok := x.Lookup(a); ok {
		t.Error("a should be evicted")
	}
}

// TestMemoryPerMillionIDs measures the heap an index needs per million ids (documented in the README).
func TestMemoryPerMillionIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := New(24 * time.Hour)
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		x.Add(Hash([]byte(fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i))), Pos(uint16(i%8), int64(i)), base.Add(time.Duration(i)*50*time.Millisecond))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mib := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("dedup index: %.1f MiB of heap per million ids", mib)
	if x.Len() != n {
		t.Fatalf("kept %d ids, want %d", x.Len(), n)
	}
	if mib > 64 {
		t.Errorf("index uses %.1f MiB per million ids, want at most 64", mib)
	}
	runtime.KeepAlive(x)
}

func BenchmarkIsDuplicate(b *testing.B) {
	x := New(time.Hour)
	now := time.Now()
	for i := 0; i < 100_000; i++ {
		x.Add(uint64(i)*0x9E3779B97F4A7C15, Pos(1, int64(i)), now)
	}
	id := []byte("d60f5254-2a78-4a59-81e4-5b44f658d5f1")
	for b.Loop() {
		x.IsDuplicate(Hash(id), Pos(1, 5))
	}
}
