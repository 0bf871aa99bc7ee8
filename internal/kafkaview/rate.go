package kafkaview

import (
	"sync"
	"time"
)

// rateMaxAge is how old a base observation may be: past it, the next observation starts over instead of
// averaging over a long, possibly unrepresentative, span. Samples untouched this long are dropped.
const rateMaxAge = 5 * time.Minute

// sampler turns observations of a topic's summed end offsets into records per second. A rate needs two
// observations at least RateMinInterval apart; until then it is 0.
type sampler struct {
	mu        sync.Mutex
	m         map[string]*sample
	lastSweep time.Time
}

// sample is one topic's base observation and the latest rate computed against an older base.
type sample struct {
	at   time.Time // when end was observed
	end  int64     // the sum of the topic's end offsets at that time
	rate float64
	seen time.Time // the last observation, to drop forgotten topics
}

func newSampler() *sampler { return &sampler{m: make(map[string]*sample)} }

// observe records the topics' summed end offsets observed at now and returns each topic's rate.
func (s *sampler) observe(now time.Time, ends map[string]int64) map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) > rateMaxAge {
		for t, x := range s.m {
			if now.Sub(x.seen) > rateMaxAge {
				delete(s.m, t)
			}
		}
		s.lastSweep = now
	}
	rates := make(map[string]float64, len(ends))
	for t, end := range ends {
		x := s.m[t]
		switch {
		case x == nil:
			s.m[t] = &sample{at: now, end: end, seen: now}
		case end < x.end || now.Sub(x.at) > rateMaxAge:
			// The topic was recreated (offsets went back), or the base is too old to mean much now.
			*x = sample{at: now, end: end, seen: now}
		case now.Sub(x.at) >= RateMinInterval:
			x.rate = float64(end-x.end) / now.Sub(x.at).Seconds()
			x.at, x.end, x.seen = now, end, now
			rates[t] = x.rate
		default:
			x.seen = now
			rates[t] = x.rate
		}
	}
	return rates
}
