package demo

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the topic Produce writes to when ProduceOptions.Topic is
// empty.
const DefaultTopic = "game.events"

// flushGrace is how long Produce keeps waiting for acknowledgements after its
// context ends before it gives up on the records still in flight.
const flushGrace = 10 * time.Second

// ProduceOptions configures Produce.
type ProduceOptions struct {
	// Brokers are the seed brokers, host:port each. Required.
	Brokers []string
	// Topic is the topic to write, default DefaultTopic. It is created on
	// first use if the cluster allows auto creation.
	Topic string
	// Rate is the target events per second; 0 produces as fast as the
	// cluster accepts. It paces generated events, dropped ones included;
	// malformed records and duplicates come on top.
	Rate int
	// Count is how many events to generate; 0 generates until the context
	// ends. Events dropped by GapRate count: Count is the length of the
	// original stream, which AllEvents receives in full.
	Count int
	// Seed seeds the Generator; 0 picks a random seed (logged), so runs
	// do not repeat event IDs.
	Seed int64
	// Players is the world's population, default DefaultPlayers.
	Players int
	// Live stamps each event with the wall clock when it is produced.
	// Otherwise events carry the generator's clock, which advances about
	// 10ms per event whatever the real rate: it starts so that Count
	// events end about now (a backfill), or now when Count is 0.
	Live bool
	// Span, when set with Count and not Live, spreads the Count events over that much simulated time ending
	// about now (the clock moves Span/Count per event on average): a history of several days in a few
	// seconds of producing, for day-based metrics such as retention.
	Span time.Duration

	// MalformedRate, from 0 to 1, is the chance that a generated event is
	// followed by a malformed record, produced in addition to the valid
	// stream: truncated JSON, "level":"ten", no event_time, event_type
	// "level_down" or platform "smart_fridge", about equally often. A
	// malformed record has a fresh event_id and its event's player_id and
	// client_seq.
	MalformedRate float64
	// DuplicateRate, from 0 to 1, is the chance that a produced event is
	// produced a second time, byte for byte: half of the copies right
	// after the original, half held back and produced after 1 to 5,000
	// further events. About a third of the copies are keyed by another player,
	// so they land on other partitions. When Count events are generated,
	// copies still held back are produced before Produce returns; when
	// the context ends first, they are not.
	DuplicateRate float64
	// GapRate, from 0 to 1, is the chance that a generated event is lost
	// before Kafka: its player's client_seq advances, but it is never
	// produced.
	GapRate float64
	// AllEvents, when set, receives every generated event, produced or
	// dropped, as one JSON line, in generation order: the original stream
	// to backfill from. Lines are the produced record values exactly.
	// Malformed records and duplicates are not written. Produce buffers
	// its writes and flushes them before it returns. It cannot be combined
	// with Encode.
	AllEvents io.Writer
	// Encode, when set, appends an event's record value to dst and returns
	// the extended buffer, in place of the JSON of AppendJSON: AppendAvro
	// wrapped in a schema registry frame, say. Produce calls it once per
	// produced event, from its own goroutine; a duplicate repeats its
	// original's value. Malformed records stay malformed JSON.
	Encode func(dst []byte, e Event) []byte

	// Logger receives progress and the client's warnings; nil discards.
	Logger *slog.Logger
}

// ProduceStats counts what Produce did. Valid, Malformed and Duplicates
// count acknowledged records.
type ProduceStats struct {
	// Valid is how many generated events were produced.
	Valid int
	// Malformed is how many malformed records were produced (MalformedRate).
	Malformed int
	// Duplicates is how many second copies of events were produced
	// (DuplicateRate).
	Duplicates int
	// Dropped is how many generated events were lost on purpose and never
	// produced (GapRate).
	Dropped int
}

// Records returns how many records were produced: Valid + Malformed +
// Duplicates.
func (s ProduceStats) Records() int { return s.Valid + s.Malformed + s.Duplicates }

// Produce generates events and produces them to opts.Topic, keyed by
// player_id so each player's events stay in order on one partition, with
// the faults the options ask for. It waits for every produced record to be
// acknowledged before returning, and returns counts of what was.
//
// When Count > 0, Produce returns ctx.Err() if ctx ends before Count events
// are generated and their records acknowledged. When Count is 0, it runs
// until ctx ends and then returns nil. Either way, records already handed to
// the client are still given flushGrace to be acknowledged after ctx ends.
// Any produce failure, or a failure to write AllEvents, stops Produce and is
// returned.
func Produce(ctx context.Context, opts ProduceOptions) (ProduceStats, error) {
	if len(opts.Brokers) == 0 {
		return ProduceStats{}, errors.New("demo: produce: no brokers given")
	}
	if opts.Rate < 0 || opts.Count < 0 {
		return ProduceStats{}, fmt.Errorf("demo: produce: negative rate (%d) or count (%d)", opts.Rate, opts.Count)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"malformed", opts.MalformedRate}, {"duplicate", opts.DuplicateRate}, {"gap", opts.GapRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			return ProduceStats{}, fmt.Errorf("demo: produce: %s rate %v outside [0, 1]", r.name, r.v)
		}
	}
	if opts.Encode != nil && opts.AllEvents != nil {
		return ProduceStats{}, errors.New("demo: produce: AllEvents writes JSON lines of the produced values, which Encode replaces; set one of them")
	}
	topic := opts.Topic
	if topic == "" {
		topic = DefaultTopic
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("topic", topic)
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Int64()
	}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(opts.Brokers...),
		kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(5*time.Millisecond),
		// Kafka's (and kfake's) default message.max.bytes is 1 MiB + 12.
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(256<<10),
		kgo.MaxBufferedBytes(128<<20),
		// Snappy shrinks the JSON several times for a small CPU cost
		// (lz4 costs ~40% of throughput on two cores, none gains ~15%).
		kgo.ProducerBatchCompression(kgo.SnappyCompression()),
		kgo.RecordDeliveryTimeout(time.Minute),
		kgo.WithLogger(kgoLogger{log}),
	)
	if err != nil {
		return ProduceStats{}, fmt.Errorf("demo: produce to %s: creating client: %w", topic, err)
	}
	defer cl.Close()

	// Records use their own context so that ctx ending stops generation
	// without failing records already buffered; those get flushGrace.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer rcancel()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(flushGrace, rcancel) })
	defer stopGrace()

	var (
		ackValid, ackBad, ackDup atomic.Int64
		failed                   atomic.Bool
		errMu                    sync.Mutex
		firstErr                 error
	)
	// One promise per kind of record, each counting its own.
	promise := func(acked *atomic.Int64) func(*kgo.Record, error) {
		return func(r *kgo.Record, err error) {
			if err == nil {
				acked.Add(1)
				return
			}
			errMu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("record for %s: %w", r.Key, err)
				failed.Store(true)
			}
			errMu.Unlock()
		}
	}
	validDone, badDone, dupDone := promise(&ackValid), promise(&ackBad), promise(&ackDup)

	genStart := time.Now()
	step := meanStep
	if !opts.Live && opts.Span > 0 && opts.Count > 0 {
		step = opts.Span / time.Duration(opts.Count)
	}
	if !opts.Live {
		genStart = genStart.Add(-time.Duration(opts.Count) * step)
	}
	gen := NewGenerator(seed, opts.Players, genStart)
	gen.SetMeanStep(step)
	encode := opts.Encode
	if encode == nil {
		encode = gen.AppendJSON
	}
	flt := newFaults(seed, opts.GapRate, opts.DuplicateRate, opts.MalformedRate)
	var all *bufio.Writer
	if opts.AllEvents != nil {
		all = bufio.NewWriterSize(opts.AllEvents, 256<<10)
	}
	log.Info("producing demo events", "brokers", opts.Brokers, "seed", seed, "players", len(gen.players),
		"rate", opts.Rate, "count", opts.Count, "live", opts.Live, "malformed_rate", opts.MalformedRate,
		"duplicate_rate", opts.DuplicateRate, "gap_rate", opts.GapRate)
	start := time.Now()

	var (
		generated int          // events generated, dropped ones included
		sent      int          // records handed to the client
		dropped   int          // events not produced on purpose
		dupOrder  int          // duplicates held so far, to order ties
		allErr    error        // the first failure to write AllEvents
		sl        slab         // record keys and values
		recs      []kgo.Record // records, carved off in order
		scratch   []byte       // JSON of dropped events
	)
	send := func(key, value []byte, ts time.Time, done func(*kgo.Record, error)) {
		if len(recs) == 0 {
			recs = make([]kgo.Record, 1024)
		}
		r := &recs[0]
		recs = recs[1:]
		r.Key, r.Value, r.Timestamp = key, value, ts
		cl.Produce(rctx, r, done)
		sent++
	}
	produce := func(n int) {
		for range n {
			e := gen.Next()
			generated++
			// Every knob draws for every event, so that each picks the
			// same events whatever the others do.
			drop := flt.drop()
			dup, isDup := flt.dup(len(gen.players))
			bad, isBad := flt.malformed()
			var ts time.Time
			if opts.Live {
				e.EventTime = time.Now()
				ts = e.EventTime
			}
			if drop {
				dropped++
				if all != nil {
					scratch = gen.AppendJSON(scratch[:0], e)
					allErr = cmp.Or(allErr, writeLine(all, scratch))
				}
			} else {
				off := sl.start()
				sl.buf = append(sl.buf, e.PlayerID...)
				key := sl.end(off)
				off = sl.start()
				sl.buf = encode(sl.buf, e)
				value := sl.end(off)
				if all != nil {
					allErr = cmp.Or(allErr, writeLine(all, value))
				}
				send(key, value, ts, validDone)
				if isDup {
					if other := gen.players[dup.keyPlayer].id; dup.otherKey && other != e.PlayerID {
						off := sl.start()
						sl.buf = append(sl.buf, other...)
						key = sl.end(off)
					}
					if dup.delay == 0 {
						send(key, value, time.Time{}, dupDone)
					} else {
						dupOrder++
						flt.hold(heldDup{due: generated + dup.delay, order: dupOrder, key: key, value: value})
					}
				}
			}
			if isBad {
				off := sl.start()
				sl.buf = append(sl.buf, e.PlayerID...)
				key := sl.end(off)
				off = sl.start()
				sl.buf = gen.appendMalformed(sl.buf, e, bad)
				send(key, sl.end(off), ts, badDone)
			}
			for {
				d, ok := flt.due(generated)
				if !ok {
					break
				}
				send(d.key, d.value, time.Time{}, dupDone)
			}
		}
	}

	const (
		chunk = 1024                  // events between checks when unpaced
		tick  = 10 * time.Millisecond // pacing granularity
	)
	var (
		ticker *time.Ticker
		tokens float64
		last   time.Time
	)
	if opts.Rate > 0 {
		ticker = time.NewTicker(tick)
		defer ticker.Stop()
		last = time.Now()
	}
loop:
	for (opts.Count == 0 || generated < opts.Count) && !failed.Load() && allErr == nil {
		n := chunk
		if ticker != nil {
			select {
			case <-ctx.Done():
				break loop
			case now := <-ticker.C:
				// Token bucket holding at most one second of events,
				// so a stall is not followed by an unbounded burst.
				tokens = min(tokens+float64(opts.Rate)*now.Sub(last).Seconds(), float64(max(opts.Rate, 1)))
				last = now
				n = int(tokens)
				tokens -= float64(n)
			}
		} else if ctx.Err() != nil {
			break
		}
		if opts.Count > 0 {
			n = min(n, opts.Count-generated)
		}
		produce(n)
	}
	// The stream is complete: duplicates still held back are due now.
	if opts.Count > 0 && generated == opts.Count && ctx.Err() == nil && !failed.Load() {
		for {
			d, ok := flt.due(math.MaxInt)
			if !ok {
				break
			}
			send(d.key, d.value, time.Time{}, dupDone)
		}
	}
	if all != nil {
		allErr = cmp.Or(allErr, all.Flush())
	}

	flushErr := cl.Flush(rctx)
	stats := ProduceStats{Valid: int(ackValid.Load()), Malformed: int(ackBad.Load()), Duplicates: int(ackDup.Load()), Dropped: dropped}
	produced := stats.Records()
	errMu.Lock()
	prodErr := firstErr
	errMu.Unlock()
	elapsed := time.Since(start)
	log.Info("produced demo events", "records", produced, "valid", stats.Valid, "malformed", stats.Malformed,
		"duplicates", stats.Duplicates, "dropped", stats.Dropped, "seconds", elapsed.Seconds(),
		"events_per_second", float64(generated)/elapsed.Seconds())

	switch {
	case prodErr != nil && !(ctx.Err() != nil && errors.Is(prodErr, context.Canceled)):
		return stats, fmt.Errorf("demo: produce to %s: %w", topic, prodErr)
	case produced < sent:
		// Only after ctx ended and flushGrace ran out.
		return stats, fmt.Errorf("demo: produce to %s: %d of %d records unacknowledged %v after cancel: %w",
			topic, sent-produced, sent, flushGrace, errors.Join(ctx.Err(), flushErr))
	case allErr != nil:
		return stats, fmt.Errorf("demo: produce to %s: writing all events: %w", topic, allErr)
	case opts.Count > 0 && generated < opts.Count:
		return stats, ctx.Err()
	}
	return stats, nil
}

// slab hands out record keys and values carved in order from large buffers
// that are never overwritten, so records and held duplicates can keep them.
// Append to buf between start and end.
type slab struct{ buf []byte }

// start makes room for a key or value and returns where it begins.
func (s *slab) start() int {
	if cap(s.buf)-len(s.buf) < 1024 {
		s.buf = make([]byte, 0, 1<<20)
	}
	return len(s.buf)
}

// end returns what was appended since start returned off.
func (s *slab) end(off int) []byte { return s.buf[off:len(s.buf):len(s.buf)] }

// writeLine writes b and a newline to w.
func writeLine(w *bufio.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

// kgoLogger passes the client's warnings and errors to slog.
type kgoLogger struct{ l *slog.Logger }

func (kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	sl := slog.LevelWarn
	if level == kgo.LogLevelError {
		sl = slog.LevelError
	}
	k.l.Log(context.Background(), sl, msg, keyvals...)
}
