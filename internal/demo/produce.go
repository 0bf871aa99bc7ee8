package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// cluster accepts.
	Rate int
	// Count is how many events to produce; 0 produces until the context
	// ends.
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
	// Logger receives progress and the client's warnings; nil discards.
	Logger *slog.Logger
}

// Produce generates events and produces them to opts.Topic, keyed by
// player_id so each player's events stay in order on one partition. It waits
// for every produced record to be acknowledged before returning, and returns
// how many were.
//
// When Count > 0, Produce returns ctx.Err() if ctx ends before Count events
// are acknowledged. When Count is 0, it runs until ctx ends and then returns
// nil. Either way, records already handed to the client are still given
// flushGrace to be acknowledged after ctx ends. Any produce failure stops
// Produce and is returned.
func Produce(ctx context.Context, opts ProduceOptions) (produced int, err error) {
	if len(opts.Brokers) == 0 {
		return 0, errors.New("demo: produce: no brokers given")
	}
	if opts.Rate < 0 || opts.Count < 0 {
		return 0, fmt.Errorf("demo: produce: negative rate (%d) or count (%d)", opts.Rate, opts.Count)
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
		return 0, fmt.Errorf("demo: produce to %s: creating client: %w", topic, err)
	}
	defer cl.Close()

	// Records use their own context so that ctx ending stops generation
	// without failing records already buffered; those get flushGrace.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer rcancel()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(flushGrace, rcancel) })
	defer stopGrace()

	var (
		acked    atomic.Int64
		failed   atomic.Bool
		errMu    sync.Mutex
		firstErr error
	)
	promise := func(r *kgo.Record, err error) {
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

	genStart := time.Now()
	if !opts.Live {
		genStart = genStart.Add(-time.Duration(opts.Count) * meanStep)
	}
	gen := NewGenerator(seed, opts.Players, genStart)
	log.Info("producing demo events", "brokers", opts.Brokers, "seed", seed, "players", len(gen.players),
		"rate", opts.Rate, "count", opts.Count, "live", opts.Live)
	start := time.Now()

	var (
		sent int
		slab []byte       // record keys and values, carved off in order
		recs []kgo.Record // records, carved off in order
	)
	produce := func(n int) {
		for range n {
			if len(recs) == 0 {
				recs = make([]kgo.Record, 1024)
			}
			r := &recs[0]
			recs = recs[1:]
			e := gen.Next()
			if opts.Live {
				e.EventTime = time.Now()
				r.Timestamp = e.EventTime
			}
			if cap(slab)-len(slab) < 1024 {
				slab = make([]byte, 0, 1<<20)
			}
			off := len(slab)
			slab = append(slab, e.PlayerID...)
			r.Key = slab[off:len(slab):len(slab)]
			off = len(slab)
			slab = gen.AppendJSON(slab, e)
			r.Value = slab[off:len(slab):len(slab)]
			cl.Produce(rctx, r, promise)
		}
		sent += n
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
	for (opts.Count == 0 || sent < opts.Count) && !failed.Load() {
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
			n = min(n, opts.Count-sent)
		}
		produce(n)
	}

	flushErr := cl.Flush(rctx)
	produced = int(acked.Load())
	errMu.Lock()
	prodErr := firstErr
	errMu.Unlock()
	elapsed := time.Since(start)
	log.Info("produced demo events", "events", produced, "seconds", elapsed.Seconds(),
		"events_per_second", float64(produced)/elapsed.Seconds())

	switch {
	case prodErr != nil && !(ctx.Err() != nil && errors.Is(prodErr, context.Canceled)):
		return produced, fmt.Errorf("demo: produce to %s: %w", topic, prodErr)
	case produced < sent:
		// Only after ctx ended and flushGrace ran out.
		return produced, fmt.Errorf("demo: produce to %s: %d of %d records unacknowledged %v after cancel: %w",
			topic, sent-produced, sent, flushGrace, errors.Join(ctx.Err(), flushErr))
	case opts.Count > 0 && produced < opts.Count:
		return produced, ctx.Err()
	}
	return produced, nil
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
