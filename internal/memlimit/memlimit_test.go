package memlimit

import (
	"math"
	"testing"
)

func TestRaise(t *testing.T) {
	for _, tc := range []struct {
		name   string
		live   uint64
		limit  int64
		want   int64
		raised bool
	}{
		{"well under", 100 << 20, 384 << 20, 0, false},
		{"at three quarters", 288 << 20, 384 << 20, 0, false},
		{"past three quarters: twice live", 300 << 20, 384 << 20, 600 << 20, true},
		{"rounded up to a MiB", 300<<20 + 1, 384 << 20, 600<<20 + 1<<20, true},
		{"no limit", 1 << 40, math.MaxInt64, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, raised := raise(tc.live, tc.limit)
			if got != tc.want || raised != tc.raised {
				t.Errorf("raise(%d, %d) = %d, %v; want %d, %v", tc.live, tc.limit, got, raised, tc.want, tc.raised)
			}
		})
	}
}
