// Package stage is the Big Father core: it consumes Kafka topics, decodes and checks every record, and commits
// rows to Iceberg tables together with the offsets they cover, so a crash, restart or rebalance at any instant
// loses and duplicates nothing (DESIGN.md, exactly-once protocol).
package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
)

// Options configure one pipeline's worker.
type Options struct {
	Pipeline *config.Pipeline
	Brokers  []string
	Lake     *lake.Lake
	Metrics  *monitor.Metrics
	Logger   *slog.Logger
	// ClientOptions are extra franz-go options (tests use them to shorten group timeouts).
	ClientOptions []kgo.Opt
}

// partState is the consumed position of one assigned partition.
type partState struct {
	next int64 // next offset to accept; -1 until the first record arrives (start of log or end of log)
}

// worker stages one pipeline. Its state is guarded by mu: the poll loop and the group's rebalance callbacks both
// touch it.
type worker struct {
	opts    Options
	p       *config.Pipeline
	log     *slog.Logger
	m       *monitor.Metrics
	mu      sync.Mutex
	dec     *decoder
	main    *sink
	rejects *sink
	parts   map[lake.TopicPartition]*partState
	// restart is set when the buffered batch had to be dropped (fenced, partitions lost): the poll loop then
	// starts a fresh consumer, which re-seeks every partition from the tables.
	restart bool
	// firstBuffered is when the oldest buffered record arrived; zero when nothing is buffered.
	firstBuffered time.Time
	cl            *kgo.Client
}

// Run stages the pipeline until ctx ends, then flushes, commits and returns nil. Several processes running the
// same pipeline share its partitions through the Kafka consumer group.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = monitor.NewMetrics()
	}
	p := opts.Pipeline
	w := &worker{opts: opts, p: p, log: opts.Logger.With("pipeline", p.Name), m: opts.Metrics, dec: newDecoder(p.Table.Columns)}
	mainTbl, err := opts.Lake.EnsureTable(ctx, MainTableSpec(p))
	if err != nil {
		return err
	}
	rejTbl, err := opts.Lake.EnsureTable(ctx, RejectedTableSpec(p))
	if err != nil {
		return err
	}
	if w.main, err = newSink(mainTbl, p.Table.Columns); err != nil {
		return err
	}
	if w.rejects, err = newSink(rejTbl, nil); err != nil {
		return err
	}
	for {
		err := w.consume(ctx)
		if ctx.Err() != nil {
			return err
		}
		if err != nil {
			w.log.Error("staging failed; restarting the consumer from the tables' offsets", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

func (w *worker) newClient() (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(w.opts.Brokers...),
		kgo.ConsumerGroup(w.p.Group),
		kgo.ConsumeTopics(w.p.Topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(w.seekFromTables),
		kgo.OnPartitionsRevoked(w.onRevoked),
		kgo.OnPartitionsLost(w.onLost),
		kgo.FetchMaxBytes(64 << 20),
		kgo.FetchMaxPartitionBytes(16 << 20),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.ClientID("bigfather-stage"),
	}
	if w.p.Start == "latest" {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	opts = append(opts, w.opts.ClientOptions...)
	return kgo.NewClient(opts...)
}

// consume runs one consumer-group session until ctx ends (returns nil after the final commit), a batch had to
// be dropped (returns nil with w.restart cleared, so Run starts afresh), or a commit fails (returns the error).
func (w *worker) consume(ctx context.Context) error {
	cl, err := w.newClient()
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	w.mu.Lock()
	w.cl, w.restart = cl, false
	w.parts = map[lake.TopicPartition]*partState{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.discard() // whatever is left could not be committed; the next session re-reads it
		w.mu.Unlock()
		cl.Close()
	}()
	for {
		wait := w.p.Commit.Interval
		w.mu.Lock()
		if !w.firstBuffered.IsZero() {
			wait = time.Until(w.firstBuffered.Add(w.p.Commit.Interval))
		}
		w.mu.Unlock()
		pollCtx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fetches := cl.PollRecords(pollCtx, 20000)
		cancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return w.finalFlush(ctx)
		}
		if fetches.IsClientClosed() {
			return errors.New("kafka client closed")
		}
		w.mu.Lock()
		err := w.handle(ctx, fetches)
		restart := w.restart
		w.mu.Unlock()
		cl.AllowRebalance()
		if err != nil || restart {
			return err
		}
	}
}

// finalFlush commits what is buffered on shutdown, with a fresh deadline since ctx is done.
func (w *worker) finalFlush(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flush(fctx); err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	w.commitGroupOffsets(fctx, true)
	w.log.Info("stopped after the final commit")
	return nil
}

// handle stages one poll's records and flushes when a bound is reached. Called with mu held.
func (w *worker) handle(ctx context.Context, fetches kgo.Fetches) error {
	fetches.EachError(func(topic string, partition int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			w.log.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
		}
	})
	now := time.Now().UnixMicro()
	consumed := 0
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		tp := lake.TopicPartition{Topic: fp.Topic, Partition: fp.Partition}
		st := w.parts[tp]
		if st == nil {
			return // not ours (any more)
		}
		mainFrom, rejFrom := w.main.from.Get(tp), w.rejects.from.Get(tp)
		for _, r := range fp.Records {
			if r.Offset < st.next {
				continue // already seen (a fetch from before a re-seek)
			}
			st.next = r.Offset + 1
			consumed++
			if rej := w.dec.decode(r.Value); rej != nil {
				if r.Offset >= rejFrom {
					w.rejects.addRejected(r, rej, now)
					w.m.RowsRejected.WithLabelValues(w.p.Name, rej.Code).Inc()
				}
				continue
			}
			if r.Offset >= mainFrom {
				w.main.addRow(r, w.dec.vals, now)
			}
		}
		if len(fp.Records) > 0 || fp.HighWatermark > 0 {
			next := st.next
			if next < 0 {
				next = fp.LogStartOffset
			}
			w.m.ConsumerLag.WithLabelValues(w.p.Name, tp.Topic, strconv.Itoa(int(tp.Partition))).Set(float64(max(fp.HighWatermark-next, 0)))
		}
	})
	if consumed > 0 {
		w.m.RecordsConsumed.WithLabelValues(w.p.Name).Add(float64(consumed))
		if w.firstBuffered.IsZero() {
			w.firstBuffered = time.Now()
		}
	}
	if w.firstBuffered.IsZero() {
		return nil
	}
	rows := w.main.rows + w.rejects.rows
	bytes := w.main.bytes + w.rejects.bytes
	if rows >= w.p.Commit.MaxRows || bytes >= w.p.Commit.MaxBytes || time.Since(w.firstBuffered) >= w.p.Commit.Interval {
		if err := w.flush(ctx); err != nil {
			return err
		}
		w.commitGroupOffsets(ctx, false)
	}
	return nil
}

// flush commits the buffered rows of every table with the offsets consumed so far. On a fence it drops the
// batch and asks for a restart. Called with mu held.
func (w *worker) flush(ctx context.Context) error {
	if w.firstBuffered.IsZero() {
		return nil
	}
	for _, s := range []*sink{w.main, w.rejects} {
		start := time.Now()
		rows, conflicts, err := s.commit(ctx, w.p.Name, w.parts)
		w.m.Commits.WithLabelValues(w.p.Name, s.name, "conflict").Add(float64(conflicts))
		var fenced *lake.FencedError
		switch {
		case errors.As(err, &fenced):
			w.m.Commits.WithLabelValues(w.p.Name, s.name, "fenced").Inc()
			w.m.BatchesDiscarded.WithLabelValues(w.p.Name, "fenced").Inc()
			w.log.Warn("batch fenced; dropping it and re-reading from the tables", "err", err)
			w.discard()
			w.restart = true
			return nil
		case err != nil:
			w.m.Commits.WithLabelValues(w.p.Name, s.name, "error").Inc()
			w.discard()
			return err
		}
		w.m.Commits.WithLabelValues(w.p.Name, s.name, "ok").Inc()
		w.m.CommitDuration.WithLabelValues(w.p.Name, s.name).Observe(time.Since(start).Seconds())
		w.m.RowsCommitted.WithLabelValues(w.p.Name, s.name).Add(float64(rows))
		if rows > 0 {
			w.log.Debug("committed", "table", s.name, "rows", rows, "conflicts", conflicts, "took", time.Since(start))
		}
	}
	w.firstBuffered = time.Time{}
	return nil
}

// discard drops everything buffered. Called with mu held.
func (w *worker) discard() {
	w.main.discard()
	w.rejects.discard()
	w.firstBuffered = time.Time{}
}

// commitGroupOffsets mirrors the committed table offsets into the consumer group, only so that standard lag
// tools see progress (DESIGN.md step 4). Called with mu held.
func (w *worker) commitGroupOffsets(ctx context.Context, wait bool) {
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for tp, st := range w.parts {
		if st.next < 0 {
			continue
		}
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: st.next}
	}
	if len(offsets) == 0 {
		return
	}
	done := make(chan struct{})
	w.cl.CommitOffsets(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			w.log.Debug("committing group offsets", "err", err)
		}
		close(done)
	})
	if wait {
		w.mu.Unlock()
		<-done
		w.mu.Lock()
	}
}

// seekFromTables is called when partitions are assigned: it reads every table's stored offsets and starts each
// partition at the smallest (DESIGN.md step 2). The group's own committed offsets are never used.
func (w *worker) seekFromTables(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range []*sink{w.main, w.rejects} {
		if err := s.tbl.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("reading offsets of %s: %w", s.name, err)
		}
		s.from = lake.StoredOffsets(s.tbl, w.p.Name)
	}
	out := make(map[string]map[int32]kgo.Offset, len(assigned))
	for topic, parts := range assigned {
		out[topic] = make(map[int32]kgo.Offset, len(parts))
		for part := range parts {
			tp := lake.TopicPartition{Topic: topic, Partition: part}
			seek, known := int64(-1), 0
			for _, s := range []*sink{w.main, w.rejects} {
				if off, ok := s.from[tp]; ok {
					known++
					if seek < 0 || off < seek {
						seek = off
					}
				}
			}
			switch {
			case known == 2 || (known == 1 && w.p.Start == "latest"):
				out[topic][part] = kgo.NewOffset().At(seek).WithEpoch(-1)
				w.parts[tp] = &partState{next: seek}
			case w.p.Start == "latest":
				out[topic][part] = kgo.NewOffset().AtEnd()
				w.parts[tp] = &partState{next: -1}
			default:
				out[topic][part] = kgo.NewOffset().AtStart()
				w.parts[tp] = &partState{next: -1}
			}
			w.log.Debug("assigned", "topic", topic, "partition", part, "seek", seek)
		}
	}
	return out, nil
}

// onRevoked commits what is buffered before partitions move to another worker, then forgets them.
func (w *worker) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flush(ctx); err != nil {
		w.log.Error("commit before revocation failed; the batch will be re-read by the new owner", "err", err)
		w.discard()
		w.restart = true
	}
	w.forget(revoked)
}

// onLost drops the batch: partitions lost without a clean revoke may already be consumed elsewhere.
func (w *worker) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.BatchesDiscarded.WithLabelValues(w.p.Name, "lost").Inc()
	w.discard()
	w.forget(lost)
	w.restart = true
}

func (w *worker) forget(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			delete(w.parts, lake.TopicPartition{Topic: topic, Partition: p})
			w.m.ConsumerLag.DeleteLabelValues(w.p.Name, topic, strconv.Itoa(int(p)))
		}
	}
}
