package monitor

import "time"

// Status is the verdict of the status rules on a partition, a pipeline or a consumer group.
type Status string

// The statuses, Burrow-style. Worse statuses sort first in Statuses.
const (
	// StatusOK: the consumer keeps up (or has nothing to do).
	StatusOK Status = "OK"
	// StatusWarn: the consumer commits, but its lag grew over the whole window.
	StatusWarn Status = "WARN"
	// StatusStall: the consumer is alive (consuming or trying to commit) but no commit moved its offset over
	// the window while records wait, or its last commit attempt failed.
	StatusStall Status = "STALL"
	// StatusStop: no progress at all over the window while records wait: nothing consumes.
	StatusStop Status = "STOP"
	// StatusErr: commits failed at every sample of the window.
	StatusErr Status = "ERR"
	// StatusRewind: the committed offset moved back within the window.
	StatusRewind Status = "REWIND"
	// StatusPaused: the pipeline is paused (on_reject: pause, or an operator's pause).
	StatusPaused Status = "PAUSED"
)

// Statuses lists every status, worst first: the order Worst uses.
var Statuses = []Status{StatusErr, StatusStop, StatusStall, StatusRewind, StatusPaused, StatusWarn, StatusOK}

// rank orders statuses: lower is worse.
func (s Status) rank() int {
	for i, t := range Statuses {
		if t == s {
			return i
		}
	}
	return len(Statuses)
}

// Worst returns the worst of statuses; OK for none.
func Worst(statuses ...Status) Status {
	w := StatusOK
	for _, s := range statuses {
		if s.rank() < w.rank() {
			w = s
		}
	}
	return w
}

// Observation is one sample of a partition as the status rules see it.
type Observation struct {
	At time.Time
	// Committed is the next offset the consumer has committed: for a pipeline, the offset its main table
	// stores; for a consumer group, its committed offset. -1 when nothing is committed yet.
	Committed int64
	// End is the partition's high watermark.
	End int64
	// Consuming says whether the consumer read records since the observation before (pipelines only; a
	// consumer group's reads are not visible, so this is false for groups).
	Consuming bool
	// Failing says whether the pipeline's last commit attempt failed (pipelines only).
	Failing bool
	// Paused says whether the pipeline is paused (pipelines only).
	Paused bool
}

// Lag is the records between the committed offset and the high watermark (all of them when nothing is
// committed).
func (o Observation) Lag() int64 {
	if o.Committed < 0 {
		return max(o.End, 0)
	}
	return max(o.End-o.Committed, 0)
}

// Evaluate applies the status rules to a partition's observations, oldest first, of which the last window
// are considered. The rules, first match wins:
//
//  1. PAUSED: the pipeline is paused at the newest observation.
//  2. ERR: commits failed at every observation of a full window.
//  3. REWIND: the committed offset decreased between two observations of the window.
//  4. STALL: the last commit attempt failed; or, over a full window, records waited (lag > 0) at every
//     observation and the committed offset never moved, while the consumer was reading.
//  5. STOP: over a full window, records waited at every observation, the committed offset never moved, and
//     nothing was read.
//  6. WARN: over a full window the committed offset moved, records waited at every observation, and the lag
//     never shrank from one observation to the next and ended higher than it began.
//  7. OK otherwise, including while fewer than window observations exist.
func Evaluate(obs []Observation, window int) Status {
	if len(obs) == 0 {
		return StatusOK
	}
	if len(obs) > window {
		obs = obs[len(obs)-window:]
	}
	last := obs[len(obs)-1]
	full := len(obs) == window
	if last.Paused {
		return StatusPaused
	}
	if full && all(obs, func(o Observation) bool { return o.Failing }) {
		return StatusErr
	}
	for i := 1; i < len(obs); i++ {
		if obs[i-1].Committed >= 0 && obs[i].Committed < obs[i-1].Committed {
			return StatusRewind
		}
	}
	if last.Failing {
		return StatusStall
	}
	if !full {
		return StatusOK
	}
	waiting := all(obs, func(o Observation) bool { return o.Lag() > 0 })
	if !waiting {
		return StatusOK
	}
	moved := obs[0].Committed != last.Committed
	if !moved {
		// Reads at the first observation happened before the window began.
		if some(obs[1:], func(o Observation) bool { return o.Consuming }) {
			return StatusStall
		}
		return StatusStop
	}
	growing := last.Lag() > obs[0].Lag()
	for i := 1; i < len(obs) && growing; i++ {
		growing = obs[i].Lag() >= obs[i-1].Lag()
	}
	if growing {
		return StatusWarn
	}
	return StatusOK
}

func all(obs []Observation, f func(Observation) bool) bool {
	for _, o := range obs {
		if !f(o) {
			return false
		}
	}
	return true
}

func some(obs []Observation, f func(Observation) bool) bool {
	for _, o := range obs {
		if f(o) {
			return true
		}
	}
	return false
}
