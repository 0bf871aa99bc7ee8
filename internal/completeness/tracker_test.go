package completeness

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
)

// obs is one arrival: producer and sequence number.
type obs struct {
	p   string
	seq int64
}

func TestTracker(t *testing.T) {
	tests := []struct {
		name     string
		startOne bool
		in       []obs
		want     Stats
		missing  []Range
	}{
		{name: "in order", in: []obs{{"a", 1}, {"a", 2}, {"a", 3}, {"b", 7}, {"b", 8}},
			want: Stats{Producers: 2}},
		{name: "gap", in: []obs{{"a", 1}, {"a", 2}, {"a", 5}, {"a", 6}},
			want: Stats{Producers: 1, Gaps: 1, Missing: 2}, missing: []Range{{"a", 3, 4}}},
		{name: "late fill", in: []obs{{"a", 1}, {"a", 4}, {"a", 2}, {"a", 3}},
			want: Stats{Producers: 1, Gaps: 1, OutOfOrder: 2}},
		{name: "fill from the top", in: []obs{{"a", 1}, {"a", 5}, {"a", 4}},
			want: Stats{Producers: 1, Gaps: 1, Missing: 2, OutOfOrder: 1}, missing: []Range{{"a", 2, 3}}},
		{name: "split hole", in: []obs{{"a", 1}, {"a", 10}, {"a", 5}},
			want:    Stats{Producers: 1, Gaps: 1, Missing: 7, OutOfOrder: 1},
			missing: []Range{{"a", 6, 9}, {"a", 2, 4}}},
		{name: "duplicates", in: []obs{{"a", 1}, {"a", 2}, {"a", 2}, {"a", 1}, {"a", 5}, {"a", 3}, {"a", 3}, {"a", 5}},
			want: Stats{Producers: 1, Gaps: 1, Missing: 1, OutOfOrder: 1, Duplicates: 4}, missing: []Range{{"a", 4, 4}}},
		{name: "several holes", in: []obs{{"a", 1}, {"a", 3}, {"a", 6}, {"a", 10}, {"a", 4}, {"a", 9}, {"a", 2}},
			want:    Stats{Producers: 1, Gaps: 3, Missing: 3, OutOfOrder: 3},
			missing: []Range{{"a", 7, 8}, {"a", 5, 5}}},
		{name: "several producers", in: []obs{{"b", 1}, {"a", 1}, {"b", 3}, {"a", 3}, {"c", 1}, {"c", 9}},
			want:    Stats{Producers: 3, Gaps: 3, Missing: 9},
			missing: []Range{{"c", 2, 8}, {"a", 2, 2}, {"b", 2, 2}}},
		{name: "first seq starts tracking", in: []obs{{"a", 5}, {"a", 6}, {"a", 3}},
			want: Stats{Producers: 1, Untracked: 1}},
		{name: "start at one", startOne: true, in: []obs{{"a", 5}, {"a", 6}, {"a", 3}, {"b", 1}, {"c", 0}},
			want:    Stats{Producers: 3, Gaps: 1, Missing: 3, OutOfOrder: 1, Untracked: 1},
			missing: []Range{{"a", 1, 2}, {"a", 4, 4}}},
		{name: "negative and zero seqs", in: []obs{{"a", -3}, {"a", 0}, {"a", -1}},
			want: Stats{Producers: 1, Gaps: 1, Missing: 1, OutOfOrder: 1}, missing: []Range{{"a", -2, -2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(0)
			tr.AssumeStartAtOne = tt.startOne
			for _, o := range tt.in {
				tr.Observe([]byte(o.p), o.seq)
			}
			if got := tr.Stats(); got != tt.want {
				t.Errorf("Stats = %+v\nwant    %+v", got, tt.want)
			}
			got := tr.Missing(0)
			if len(got) == 0 && len(tt.missing) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.missing) {
				t.Errorf("Missing = %v, want %v", got, tt.missing)
			}
			if len(tt.missing) > 1 {
				if got := tr.Missing(1); !reflect.DeepEqual(got, tt.missing[:1]) {
					t.Errorf("Missing(1) = %v, want %v", got, tt.missing[:1])
				}
			}
		})
	}
}

func TestTrackerEviction(t *testing.T) {
	tr := NewTracker(2)
	tr.Observe([]byte("a"), 1)
	tr.Observe([]byte("a"), 3) // hole a 2..2
	tr.Observe([]byte("b"), 1)
	tr.Observe([]byte("b"), 4) // hole b 2..3
	tr.Observe([]byte("a"), 4) // a is now the most recent
	tr.Observe([]byte("c"), 1) // evicts b, the least recently seen
	want := Stats{Producers: 2, Gaps: 2, Missing: 1, Evictions: 1}
	if got := tr.Stats(); got != want {
		t.Fatalf("after eviction Stats = %+v, want %+v", got, want)
	}
	if got, want := tr.Missing(0), []Range{{"a", 2, 2}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing = %v, want %v", got, want)
	}
	// b comes back as a new producer: its earlier numbers are untracked.
	tr.Observe([]byte("b"), 5) // evicts a
	tr.Observe([]byte("b"), 2)
	want = Stats{Producers: 2, Gaps: 2, Missing: 0, Untracked: 1, Evictions: 2}
	if got := tr.Stats(); got != want {
		t.Fatalf("after second eviction Stats = %+v, want %+v", got, want)
	}
	// Many producers through a small tracker stay within the bound.
	for i := range 1000 {
		tr.Observe(fmt.Appendf(nil, "p%d", i), 1)
	}
	if s := tr.Stats(); s.Producers != 2 || s.Evictions != 1002 {
		t.Fatalf("after 1000 producers Stats = %+v, want 2 producers and 1002 evictions", s)
	}
}

func TestTrackerHoleBound(t *testing.T) {
	tr := NewTracker(0)
	const holes = MaxHolesPerProducer + 10
	for i := range int64(holes + 1) {
		tr.Observe([]byte("a"), 1+2*i) // 1, 3, 5, ...: a hole of one before each but the first
	}
	s := tr.Stats()
	if s.Gaps != holes || s.Missing != MaxHolesPerProducer || s.DroppedHoles != 10 {
		t.Fatalf("Stats = %+v, want %d gaps, %d missing, 10 dropped", s, holes, MaxHolesPerProducer)
	}
	// The oldest holes were forgotten: filling one counts as a duplicate, a kept one as out of order.
	tr.Observe([]byte("a"), 2)
	tr.Observe([]byte("a"), 2*holes)
	s = tr.Stats()
	if s.Duplicates != 1 || s.OutOfOrder != 1 || s.Missing != MaxHolesPerProducer-1 {
		t.Fatalf("after fills Stats = %+v", s)
	}
	// Splitting holes also stays within the bound.
	tr = NewTracker(0)
	tr.Observe([]byte("b"), 1)
	tr.Observe([]byte("b"), 1000)
	for seq := int64(3); seq < 1000; seq += 2 {
		tr.Observe([]byte("b"), seq)
	}
	if got := len(tr.Missing(0)); got != MaxHolesPerProducer {
		t.Fatalf("%d holes after splits, want %d", got, MaxHolesPerProducer)
	}
	s = tr.Stats()
	var sum uint64
	for _, r := range tr.Missing(0) {
		sum += r.Len()
	}
	if s.Missing != sum {
		t.Fatalf("Missing stat %d, sum of holes %d", s.Missing, sum)
	}
}

func TestTrackerCopiesProducer(t *testing.T) {
	tr := NewTracker(0)
	buf := []byte("player-1")
	tr.Observe(buf, 1)
	tr.Observe(buf, 3)
	copy(buf, "XXXXXX")
	if got := tr.Missing(0); len(got) != 1 || got[0].Producer != "player-1" {
		t.Fatalf("Missing = %v, want a hole of player-1", got)
	}
}

func TestTrackerAllocs(t *testing.T) {
	tr := NewTracker(0)
	p := []byte("p000042")
	tr.Observe(p, 1)
	seq := int64(1)
	if n := testing.AllocsPerRun(1000, func() { seq++; tr.Observe(p, seq) }); n != 0 {
		t.Fatalf("Observe of a known producer allocates %v times", n)
	}
}

func TestTrackerConcurrent(t *testing.T) {
	tr := NewTracker(0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := fmt.Appendf(nil, "p%d", g)
			for seq := int64(1); seq <= 10_000; seq++ {
				if seq%200 != 0 { // lose every 200th; the last is lost for good, too late to open a hole
					tr.Observe(p, seq)
				}
				if seq%1000 == 0 {
					tr.Stats()
					tr.Missing(3)
				}
			}
		})
	}
	wg.Wait()
	want := Stats{Producers: 8, Gaps: 8 * 49, Missing: 8 * 49}
	if got := tr.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

// BenchmarkObserve observes in-order sequence numbers of a known producer.
func BenchmarkObserve(b *testing.B) {
	tr := NewTracker(0)
	p := []byte("p000042")
	var seq int64
	b.ReportAllocs()
	for b.Loop() {
		seq++
		tr.Observe(p, seq)
	}
}

// BenchmarkObserveManyProducers spreads in-order sequence numbers over 5,000 producers, as in the demo.
func BenchmarkObserveManyProducers(b *testing.B) {
	const n = 5000
	tr := NewTracker(0)
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = fmt.Appendf(nil, "p%06d", i)
	}
	seqs := make([]int64, n)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		seqs[i]++
		tr.Observe(ps[i], seqs[i])
		i = (i + 7919) % n
	}
}
