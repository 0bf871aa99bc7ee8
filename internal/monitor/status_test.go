package monitor

import (
	"testing"
	"time"
)

// timeline builds observations one interval apart from committed offsets and high watermarks.
func timeline(committed, end []int64, mark func(i int, o *Observation)) []Observation {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	out := make([]Observation, len(committed))
	for i := range committed {
		out[i] = Observation{At: t0.Add(time.Duration(i) * 10 * time.Second), Committed: committed[i], End: end[i]}
		if mark != nil {
			mark(i, &out[i])
		}
	}
	return out
}

func TestEvaluate(t *testing.T) {
	flat := []int64{100, 100, 100, 100, 100}
	ends := []int64{150, 160, 170, 180, 190}
	moving := []int64{100, 110, 120, 130, 140}
	tests := []struct {
		name string
		obs  []Observation
		want Status
	}{
		{"no observations", nil, StatusOK},
		{"caught up", timeline(moving, moving, nil), StatusOK},
		{"keeping up with lag", timeline(moving, []int64{150, 160, 170, 180, 190}, nil), StatusOK},
		{"lag growing", timeline(moving, []int64{150, 165, 180, 195, 210}, nil), StatusWarn},
		{"lag growing then shrinking once", timeline(moving, []int64{150, 165, 170, 195, 210}, nil), StatusOK},
		{"lag ends where it began", timeline(moving, []int64{150, 160, 170, 180, 190}, nil), StatusOK},
		{"stopped with lag", timeline(flat, ends, nil), StatusStop},
		{"stopped, nothing waiting", timeline(flat, flat, nil), StatusOK},
		{"stopped, caught up at the end", timeline(flat, []int64{150, 150, 150, 150, 100}, nil), StatusOK},
		{"never committed, records waiting", timeline([]int64{-1, -1, -1, -1, -1}, ends, nil), StatusStop},
		{"reading but not committing", timeline(flat, ends, func(i int, o *Observation) { o.Consuming = i > 0 }), StatusStall},
		{"read only before the window", timeline(flat, ends, func(i int, o *Observation) { o.Consuming = i == 0 }), StatusStop},
		{"last commit failed", timeline(moving, ends, func(i int, o *Observation) { o.Failing = i == 4 }), StatusStall},
		{"failing, not yet a window", timeline(flat, ends, func(i int, o *Observation) { o.Failing = i >= 1 }), StatusStall},
		{"failing for a whole window", timeline(flat, ends, func(i int, o *Observation) { o.Failing = true }), StatusErr},
		{"failing, then one success", timeline(moving, ends, func(i int, o *Observation) { o.Failing = i != 4 }), StatusOK},
		{"offset moved back", timeline([]int64{100, 110, 50, 60, 70}, ends, nil), StatusRewind},
		{"rewind from nothing is a first commit", timeline([]int64{-1, -1, 10, 20, 30}, []int64{150, 150, 150, 150, 150}, nil), StatusOK},
		{"paused wins", timeline(flat, ends, func(i int, o *Observation) { o.Paused = i == 4; o.Failing = true }), StatusPaused},
		{"paused before, resumed now", timeline(moving, ends, func(i int, o *Observation) { o.Paused = i < 4 }), StatusOK},
		{"partial window is OK", timeline(flat[:3], ends[:3], nil), StatusOK},
		{"partial window still sees a rewind", timeline([]int64{100, 50}, []int64{150, 150}, nil), StatusRewind},
		{"only the last window counts",
			timeline([]int64{100, 50, 100, 110, 120, 130, 140}, []int64{150, 150, 150, 160, 170, 180, 190}, nil), StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.obs, 5); got != tt.want {
				t.Errorf("Evaluate = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{nil, StatusOK},
		{[]Status{StatusOK, StatusWarn}, StatusWarn},
		{[]Status{StatusWarn, StatusPaused}, StatusPaused},
		{[]Status{StatusStall, StatusStop, StatusOK}, StatusStop},
		{[]Status{StatusRewind, StatusErr}, StatusErr},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
