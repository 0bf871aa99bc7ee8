// Package stage is the Big Father core: it consumes Kafka topics, decodes and checks every record, and commits
// rows to Iceberg tables together with the offsets they cover, so a crash, restart or rebalance at any instant
// loses and duplicates nothing (DESIGN.md, exactly-once protocol).
//
// A worker runs one consumer-group session at a time. Its poll loop decodes records into the active buffers of
// the main and the rejected table; when a bound is reached it seals them into a batch for the session's
// committer goroutine, which writes the Parquet files and commits each table in order while the poll loop
// decodes the next batch. Rebalances, shutdown and assignment drain the committer first.
package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	// Health receives the pipeline's state for /healthz; optional.
	Health *monitor.Health
	Logger *slog.Logger
	// InstanceID, when set, makes the worker a static group member: a restarted process with the same id takes
	// its partitions back at once instead of waiting for the session timeout.
	InstanceID string
	// SessionTimeout is the consumer-group session timeout; default 10s.
	SessionTimeout time.Duration
	// ClientOptions are extra franz-go options.
	ClientOptions []kgo.Opt
}

// partState is the consumed position of one assigned partition.
type partState struct {
	next int64 // next offset to accept; -1 until the first record arrives (start or end of the log)
}

// batch is a sealed buffer on its way to the committer.
type batch struct {
	recs     []arrow.RecordBatch // one per sink, in w.sinks order
	consumed lake.Offsets        // next offset per partition after the batch
	done     chan struct{}       // closed once committed or dropped; nil when nobody waits
}

// errDropped marks batches that must not be committed because partitions were lost.
var errDropped = errors.New("partitions lost: dropping buffered batches")

// worker stages one pipeline. mu guards the poll-side state: the poll loop and the group's callbacks share it.
type worker struct {
	opts  Options
	p     *config.Pipeline
	log   *slog.Logger
	m     *monitor.Metrics
	mu    sync.Mutex
	dec   *decoder
	main  *sink
	rejs  *sink
	sinks []*sink
	parts map[lake.TopicPartition]*partState
	// firstBuffered is when the oldest buffered record arrived; zero when nothing is buffered.
	firstBuffered time.Time
	cl            *kgo.Client
	// pending feeds the session's committer; nil when no committer runs.
	pending       chan *batch
	committerDone chan struct{}
	// failure is the committer's first error in this session; later batches are dropped.
	failMu  sync.Mutex
	failure error
}

// Run stages the pipeline until ctx ends, then commits what it consumed and returns nil. Several processes
// running the same pipeline share its partitions through the Kafka consumer group.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = monitor.NewMetrics()
	}
	if opts.Health == nil {
		opts.Health = monitor.NewHealth()
	}
	opts.Health.Starting(opts.Pipeline.Name)
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 10 * time.Second
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
	if w.rejs, err = newSink(rejTbl, nil); err != nil {
		return err
	}
	w.sinks = []*sink{w.main, w.rejs}
	for {
		err := w.session(ctx)
		if ctx.Err() != nil {
			return err
		}
		if err != nil {
			w.opts.Health.Failed(p.Name, err, time.Now())
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
		kgo.SessionTimeout(w.opts.SessionTimeout),
		kgo.HeartbeatInterval(min(w.opts.SessionTimeout/5, 3*time.Second)),
		kgo.FetchMaxBytes(8 << 20),
		kgo.FetchMaxPartitionBytes(2 << 20),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.ClientID("bigfather-stage"),
	}
	if w.opts.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(w.opts.InstanceID))
	}
	if w.p.Start == "latest" {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	opts = append(opts, w.opts.ClientOptions...)
	return kgo.NewClient(opts...)
}

// session runs one consumer-group session. It returns nil after the final commit when ctx ends, nil when a
// batch had to be dropped (Run then starts a fresh session, which re-seeks every partition from the tables),
// and the error when a commit fails.
func (w *worker) session(ctx context.Context) error {
	cl, err := w.newClient()
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	w.mu.Lock()
	w.cl = cl
	w.parts = map[lake.TopicPartition]*partState{}
	w.startCommitter()
	w.mu.Unlock()
	err = w.poll(ctx, cl)
	w.mu.Lock()
	w.discard() // anything left was not committed; the next session reads it again
	w.stopCommitter()
	w.mu.Unlock()
	cl.Close()
	return err
}

func (w *worker) poll(ctx context.Context, cl *kgo.Client) error {
	for {
		wait := w.p.Commit.Interval
		w.mu.Lock()
		if !w.firstBuffered.IsZero() {
			wait = time.Until(w.firstBuffered.Add(w.p.Commit.Interval))
		}
		w.mu.Unlock()
		pollCtx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fetches := cl.PollRecords(pollCtx, 10000)
		cancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return w.finalFlush()
		}
		if fetches.IsClientClosed() {
			return errors.New("kafka client closed")
		}
		w.mu.Lock()
		w.handle(fetches)
		w.mu.Unlock()
		cl.AllowRebalance()
		if err := w.failed(); err != nil {
			var fenced *lake.FencedError
			if errors.As(err, &fenced) || errors.Is(err, errDropped) {
				w.log.Warn("batch dropped; re-reading from the tables' offsets", "err", err)
				return nil
			}
			return err
		}
	}
}

// finalFlush commits everything consumed on shutdown.
func (w *worker) finalFlush() error {
	w.mu.Lock()
	w.drain()
	w.mu.Unlock()
	if err := w.failed(); err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	w.log.Info("stopped after the final commit")
	return nil
}

// handle stages one poll's records and seals a batch when a bound is reached. Called with mu held.
func (w *worker) handle(fetches kgo.Fetches) {
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
		mainFrom, rejFrom := w.main.skipBelow.Get(tp), w.rejs.skipBelow.Get(tp)
		for _, r := range fp.Records {
			if r.Offset < st.next {
				continue // already seen
			}
			st.next = r.Offset + 1
			consumed++
			if rej := w.dec.decode(r.Value); rej != nil {
				if r.Offset >= rejFrom {
					w.rejs.addRejected(r, rej, now)
					w.m.RowsRejected.WithLabelValues(w.p.Name, rej.Code).Inc()
				}
			} else if r.Offset >= mainFrom {
				w.main.addRow(r, w.dec.vals, now)
			}
			if w.main.rows+w.rejs.rows >= w.p.Commit.MaxRows || w.main.bytes+w.rejs.bytes >= w.p.Commit.MaxBytes {
				w.seal(nil) // the batch ends at this record; the rest of the poll starts the next one
			}
		}
		if st.next >= 0 {
			w.m.ConsumerLag.WithLabelValues(w.p.Name, tp.Topic, strconv.Itoa(int(tp.Partition))).Set(float64(max(fp.HighWatermark-st.next, 0)))
		}
	})
	if consumed == 0 && w.firstBuffered.IsZero() {
		return
	}
	w.m.RecordsConsumed.WithLabelValues(w.p.Name).Add(float64(consumed))
	if w.firstBuffered.IsZero() {
		w.firstBuffered = time.Now()
	}
	if time.Since(w.firstBuffered) >= w.p.Commit.Interval {
		w.seal(nil)
	}
}

// seal hands the buffered rows and the consumed offsets to the committer; it blocks while the committer is
// busy with the previous batch, which bounds memory to two batches. Called with mu held.
func (w *worker) seal(done chan struct{}) {
	if w.pending == nil {
		if done != nil {
			close(done)
		}
		return
	}
	b := &batch{consumed: lake.Offsets{}, done: done}
	for tp, st := range w.parts {
		if st.next >= 0 {
			b.consumed[tp] = st.next
		}
	}
	for _, s := range w.sinks {
		rec, _ := s.seal()
		b.recs = append(b.recs, rec)
	}
	w.firstBuffered = time.Time{}
	w.pending <- b
}

// drain seals what is buffered and waits until the committer has committed everything before it. Called with
// mu held; the committer never takes mu.
func (w *worker) drain() {
	done := make(chan struct{})
	w.seal(done)
	<-done
}

// discard drops everything buffered. Called with mu held.
func (w *worker) discard() {
	for _, s := range w.sinks {
		s.discard()
	}
	w.firstBuffered = time.Time{}
}

func (w *worker) startCommitter() {
	w.failMu.Lock()
	w.failure = nil
	w.failMu.Unlock()
	w.pending = make(chan *batch, 1)
	w.committerDone = make(chan struct{})
	go w.commitLoop(w.pending, w.committerDone)
}

func (w *worker) stopCommitter() {
	if w.pending == nil {
		return
	}
	close(w.pending)
	<-w.committerDone
	w.pending = nil
}

func (w *worker) fail(err error) {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	if w.failure == nil {
		w.failure = err
	}
}

func (w *worker) failed() error {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	return w.failure
}

// commitLoop commits sealed batches in order. After a failure it drops the rest of the session's batches.
func (w *worker) commitLoop(pending <-chan *batch, done chan<- struct{}) {
	defer close(done)
	// Commits run to completion even when the worker is stopping: the final flush needs them.
	ctx := context.Background()
	for b := range pending {
		if w.failed() == nil {
			if err := w.commitBatch(ctx, b); err != nil {
				w.fail(err)
			}
		}
		for _, r := range b.recs {
			r.Release()
		}
		if b.done != nil {
			close(b.done)
		}
	}
}

// commitBatch commits a batch to every table in turn (main, then rejected), then mirrors the offsets into the
// consumer group.
func (w *worker) commitBatch(ctx context.Context, b *batch) error {
	for i, s := range w.sinks {
		start := time.Now()
		rows := b.recs[i].NumRows()
		conflicts, err := s.commit(ctx, w.p.Name, b.recs[i], b.consumed)
		w.m.Commits.WithLabelValues(w.p.Name, s.name, "conflict").Add(float64(conflicts))
		var fenced *lake.FencedError
		switch {
		case errors.As(err, &fenced):
			w.m.Commits.WithLabelValues(w.p.Name, s.name, "fenced").Inc()
			w.m.BatchesDiscarded.WithLabelValues(w.p.Name, "fenced").Inc()
			return err
		case err != nil:
			w.m.Commits.WithLabelValues(w.p.Name, s.name, "error").Inc()
			return err
		}
		w.m.Commits.WithLabelValues(w.p.Name, s.name, "ok").Inc()
		w.m.CommitDuration.WithLabelValues(w.p.Name, s.name).Observe(time.Since(start).Seconds())
		w.m.RowsCommitted.WithLabelValues(w.p.Name, s.name).Add(float64(rows))
		if rows > 0 {
			w.log.Debug("committed", "table", s.name, "rows", rows, "conflicts", conflicts, "took", time.Since(start))
		}
	}
	w.opts.Health.Committed(w.p.Name, time.Now())
	w.commitGroupOffsets(ctx, b.consumed)
	return nil
}

// commitGroupOffsets mirrors committed table offsets into the consumer group, only so that standard lag tools
// see progress (DESIGN.md step 4). The tables stay the source of truth.
func (w *worker) commitGroupOffsets(ctx context.Context, consumed lake.Offsets) {
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for tp, next := range consumed {
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: next}
	}
	if len(offsets) == 0 {
		return
	}
	// Bounded: the group commit is informational and must never hold up the committer (kgo blocks commits
	// while the group joins and syncs).
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	w.cl.CommitOffsets(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			w.log.Debug("committing group offsets", "err", err)
		}
		close(done)
	})
	<-done
}

// seekFromTables runs when partitions are assigned: after draining the committer it reads every table's stored
// offsets and starts each new partition at the smallest (DESIGN.md step 2). The group's committed offsets are
// never used.
func (w *worker) seekFromTables(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drain()
	for _, s := range w.sinks {
		if err := s.tbl.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("reading offsets of %s: %w", s.name, err)
		}
		s.stored = lake.StoredOffsets(s.tbl, w.p.Name)
	}
	out := make(map[string]map[int32]kgo.Offset, len(assigned))
	n := 0
	defer func() { w.log.Info("partitions assigned", "count", n, "owned", len(w.parts)) }()
	for topic, parts := range assigned {
		n += len(parts)
		out[topic] = make(map[int32]kgo.Offset, len(parts))
		for part := range parts {
			tp := lake.TopicPartition{Topic: topic, Partition: part}
			seek, known := int64(-1), 0
			for _, s := range w.sinks {
				off, ok := s.stored[tp]
				if ok {
					known++
					if seek < 0 || off < seek {
						seek = off
					}
				}
				if ok {
					s.skipBelow[tp] = off
				} else {
					delete(s.skipBelow, tp)
				}
			}
			switch {
			case known == len(w.sinks) || (known > 0 && w.p.Start == "latest"):
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

// onRevoked commits everything consumed before partitions move to another worker, then forgets them.
func (w *worker) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drain()
	w.forget(revoked)
	w.log.Info("partitions revoked after committing", "count", count(revoked), "owned", len(w.parts))
}

// onLost drops what is buffered and queued: partitions lost without a clean revoke may already belong to
// another worker. The session then restarts and re-seeks from the tables.
func (w *worker) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.BatchesDiscarded.WithLabelValues(w.p.Name, "lost").Inc()
	w.fail(errDropped)
	w.discard()
	w.forget(lost)
	w.log.Warn("partitions lost; dropped the buffered batch", "count", count(lost))
}

func (w *worker) forget(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			delete(w.parts, lake.TopicPartition{Topic: topic, Partition: p})
			w.m.ConsumerLag.DeleteLabelValues(w.p.Name, topic, strconv.Itoa(int(p)))
		}
	}
}

func count(parts map[string][]int32) int {
	n := 0
	for _, ps := range parts {
		n += len(ps)
	}
	return n
}
