// Package stage is the Big Father core: it consumes Kafka topics, checks, cleans, enriches, deduplicates and
// routes every record, and commits rows to Iceberg tables together with the offsets they cover, so a crash,
// restart or rebalance at any instant loses and duplicates nothing (DESIGN.md, exactly-once protocol).
//
// A worker runs one consumer-group session at a time. Its poll loop feeds records through the engine (check,
// transform, dedup, route) into the buffers of every table; when a bound is reached it seals them into a batch
// for the engine's committer goroutine, which writes the Parquet files and commits each table in order while
// the poll loop goes on. Rebalances, shutdown and assignment drain the committer first.
package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/row"
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
	// Control, when set, lets an operator resume a paused pipeline.
	Control *Control
	// InstanceID, when set, makes the worker a static group member: a restarted process with the same id takes
	// its partitions back at once instead of waiting for the session timeout.
	InstanceID string
	// SessionTimeout is the consumer-group session timeout; default 10s.
	SessionTimeout time.Duration
	// ClientOptions are extra franz-go options.
	ClientOptions []kgo.Opt
	// Definitions are log definitions given in memory, after the pipeline's definition files: those the caller
	// read from the schema registry for Pipeline.Definitions.Registry.
	Definitions []quality.DefinitionSource
	// Registry is the schema registry that registry-framed formats (avro, protobuf, jsonschema) read their
	// schemas from; required for them.
	Registry *registry.Store
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = monitor.NewMetrics()
	}
	if o.Health == nil {
		o.Health = monitor.NewHealth()
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 10 * time.Second
	}
}

// partState is the consumed position of one assigned partition.
type partState struct {
	next int64 // next offset to accept; -1 until the first record arrives (start or end of the log)
}

// maxBackoff bounds the wait between sessions that keep failing (a store down): staging resumes within it of
// the store's return.
const maxBackoff = 30 * time.Second

// errDropped marks batches that must not be committed because partitions were lost.
var errDropped = errors.New("partitions lost: dropping buffered batches")

// worker stages one pipeline from Kafka. mu guards the poll-side state: the poll loop and the group's
// callbacks share it.
type worker struct {
	opts  Options
	p     *config.Pipeline
	e     *engine
	mu    sync.Mutex
	parts map[lake.TopicPartition]*partState
	cl    *kgo.Client
	// blockedAt is the record that paused the pipeline (pause policy); resumeWith says what to do with it
	// when it is read again.
	blockedAt  *row.Meta
	resumeWith string
	// evolveAt is the registry record whose schema the table must take before it is read again (Run rebuilds
	// the engine); evolvedAt the last record that did, to catch a schema the rebuild did not make fit.
	evolveAt, evolvedAt *row.Meta
	// unreadErr ends the session: a registry record's schema could not be read.
	unreadErr error
	// fetchPaused is set while an operator holds the pipeline (holdIfAsked).
	fetchPaused bool
	floorBuf    []int64
	// fatal is a group error that restarting the session cannot cure (see fatalGroupError).
	fatal error
	// Per-poll scratch.
	metas    []row.Meta
	raws     [][]byte
	prepared []prepared
}

// Run stages the pipeline until ctx ends, then commits what it consumed and returns nil. Several processes
// running the same pipeline share its partitions through the Kafka consumer group.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	opts.Health.Starting(opts.Pipeline.Name)
	e, err := startEngine(ctx, opts)
	if err != nil || e == nil {
		return err // nil with no engine: stopped while starting (loading the dedup index, say), nothing consumed
	}
	w := &worker{opts: opts, p: opts.Pipeline, e: e}
	defer func() { w.e.close() }()
	if w.p.OnReject.DLQTopic != "" {
		e.produce = w.produceDLQ
	}
	backoff := time.Second
	for {
		if w.evolveAt != nil {
			if e, err = w.rebuild(ctx); err != nil || e == nil {
				return err
			}
		}
		committed := e.committedSeq.Load()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return err
		}
		if w.fatal != nil {
			opts.Health.Failed(w.p.Name, err, time.Now())
			return err
		}
		if e.committedSeq.Load() != committed {
			backoff = time.Second // the session committed: a new failure starts the backoff again
		}
		if err != nil {
			opts.Health.Failed(w.p.Name, err, time.Now())
			e.log.Error("staging failed; restarting the consumer from the tables' offsets", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
		}
		if w.blockedAt != nil {
			if err := w.waitResume(ctx); err != nil {
				return nil // ctx ended while paused: everything before the blocking record is committed
			}
		}
	}
}

// startEngine opens the pipeline's tables and state. A failure while a store (catalog or warehouse) does not
// answer is retried with backoff, the pipeline failing in /healthz meanwhile, as a failed session is: a process
// that starts while S3 or Postgres blips must wait for it, not exit. A failure while every store answers is
// tried once more (the store may have come back just after failing the attempt) and then returned: a table that
// does not fit the config, say. It returns nil, nil when ctx ends first.
func startEngine(ctx context.Context, opts Options) (*engine, error) {
	backoff := time.Second
	healthyFailures := 0
	for {
		e, err := newEngine(ctx, opts)
		if err == nil || ctx.Err() != nil {
			return e, nil
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		down := opts.Lake.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, nil
		}
		if down == nil {
			if healthyFailures++; healthyFailures > 1 {
				return nil, err
			}
		} else {
			healthyFailures = 0
		}
		opts.Health.Failed(opts.Pipeline.Name, err, time.Now())
		opts.Logger.Error("starting the pipeline failed; retrying", "pipeline", opts.Pipeline.Name,
			"err", err, "store", down, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
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
		// 4 MiB per fetch keeps fetch buffers small (a 64 MiB fetch holds ~400 MiB decoded) at full speed.
		kgo.FetchMaxBytes(4 << 20),
		kgo.FetchMaxPartitionBytes(1 << 20),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.ClientID("bigfather-stage"),
		// Partitions a topic gains are found at the next metadata refresh (default 5m).
		kgo.MetadataMaxAge(15 * time.Second),
		kgo.AllowAutoTopicCreation(), // the DLQ topic, on the embedded broker
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
// batch had to be dropped or the pipeline paused (Run then starts a fresh session, which re-seeks every
// partition from the tables), and the error when a commit fails.
func (w *worker) session(ctx context.Context) error {
	// The client joins the group in the background at once; holding mu until the session's state exists keeps
	// the group callbacks (seekFromTables) from running on the previous session's state.
	w.mu.Lock()
	cl, err := w.newClient()
	if err != nil {
		w.mu.Unlock()
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	w.cl = cl
	w.parts = map[lake.TopicPartition]*partState{}
	w.fetchPaused = false // a new client fetches; holdIfAsked pauses it again if an operator still holds the pipeline
	w.e.startCommitter(w.commitGroupOffsets)
	w.mu.Unlock()
	err = w.poll(ctx, cl)
	w.mu.Lock()
	w.e.discard() // anything left was not committed; the next session reads it again
	w.e.stopCommitter()
	w.mu.Unlock()
	cl.Close()
	return err
}

func (w *worker) poll(ctx context.Context, cl *kgo.Client) error {
	for {
		wait := w.p.Commit.Interval
		w.mu.Lock()
		if !w.e.firstBuffered.IsZero() {
			wait = time.Until(w.e.firstBuffered.Add(w.p.Commit.Interval))
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
		paused := w.handle(fetches)
		w.mu.Unlock()
		cl.AllowRebalance()
		if w.fatal != nil {
			return w.fatal
		}
		if paused {
			err := w.finalFlush()
			if unread := w.unreadErr; unread != nil {
				w.unreadErr = nil
				return unread
			}
			return err
		}
		w.holdIfAsked(cl)
		if err := w.e.failed(); err != nil {
			var fenced *lake.FencedError
			if errors.As(err, &fenced) || errors.Is(err, errDropped) {
				w.e.log.Warn("batch dropped; re-reading from the tables' offsets", "err", err)
				return nil
			}
			return err
		}
	}
}

// holdIfAsked pauses and resumes fetching as an operator asks (Control.Pause, Resume). Pausing commits what is
// buffered first; the client stays in the group, so the partitions stay with this process, consumed by no one.
func (w *worker) holdIfAsked(cl *kgo.Client) {
	if w.opts.Control == nil {
		return
	}
	switch asked := w.opts.Control.held(w.p.Name); {
	case asked && !w.fetchPaused:
		w.mu.Lock()
		w.e.drain(consumedOffsets(w.parts))
		w.mu.Unlock()
		cl.PauseFetchTopics(w.p.Topics...)
		w.fetchPaused = true
		w.e.m.Paused.WithLabelValues(w.p.Name).Set(1)
		w.opts.Health.Paused(w.p.Name, "paused by an operator", time.Now())
		w.e.log.Info("pipeline paused by an operator; buffered records committed")
	case !asked && w.fetchPaused:
		cl.ResumeFetchTopics(w.p.Topics...)
		w.fetchPaused = false
		w.e.m.Paused.WithLabelValues(w.p.Name).Set(0)
		w.opts.Health.Starting(w.p.Name)
		w.e.log.Info("pipeline resumed by an operator")
	}
}

// fatalGroupError turns the group errors that a new session would only repeat into a clear error: another
// process using the same instance id (the two would fence each other forever), and a session timeout the
// broker refuses. Others are nil.
func (w *worker) fatalGroupError(err error) error {
	switch {
	case errors.Is(err, kerr.FencedInstanceID):
		return fmt.Errorf("another process joined consumer group %s with the same --instance-id %q (FENCED_INSTANCE_ID): "+
			"every process needs its own instance id; stopping this one", w.p.Group, w.opts.InstanceID)
	case errors.Is(err, kerr.InvalidSessionTimeout):
		return fmt.Errorf("the broker refuses the session timeout %s for consumer group %s (INVALID_SESSION_TIMEOUT): "+
			"choose one within its group.min.session.timeout.ms and group.max.session.timeout.ms", w.opts.SessionTimeout, w.p.Group)
	}
	return nil
}

// finalFlush commits everything consumed (on shutdown, and before pausing).
func (w *worker) finalFlush() error {
	w.mu.Lock()
	w.e.drain(consumedOffsets(w.parts))
	w.mu.Unlock()
	if err := w.e.failed(); err != nil {
		return fmt.Errorf("final commit: %w", err)
	}
	if w.blockedAt == nil {
		w.e.log.Info("stopped after the final commit")
	}
	return nil
}

// handle stages one poll's records and seals a batch when a bound is reached. It reports whether a record
// paused the pipeline. Called with mu held.
func (w *worker) handle(fetches kgo.Fetches) (paused bool) {
	e := w.e
	fetches.EachError(func(topic string, partition int32, err error) {
		if f := w.fatalGroupError(err); f != nil {
			w.fatal = f
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			e.log.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
		}
	})
	now := time.Now()
	consumed, consumedBytes := 0, 0
	// Gather the new records of every owned partition, check and transform them in parallel, then place them
	// in order.
	w.metas, w.raws = w.metas[:0], w.raws[:0]
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		st := w.parts[lake.TopicPartition{Topic: fp.Topic, Partition: fp.Partition}]
		if st == nil {
			return // not ours (any more)
		}
		for _, r := range fp.Records {
			if r.Offset >= st.next {
				w.metas = append(w.metas, row.Meta{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key, Probe: isProbe(r.Headers)})
				w.raws = append(w.raws, r.Value)
			}
		}
	})
	if cap(w.prepared) < len(w.metas) {
		w.prepared = make([]prepared, len(w.metas))
	}
	prep := w.prepared[:len(w.metas)]
	e.prepareAll(w.metas, w.raws, now, prep)
	var cur lake.TopicPartition
	var st *partState
	for i := range w.metas {
		meta := &w.metas[i]
		if st == nil || meta.Topic != cur.Topic || meta.Partition != cur.Partition {
			cur = lake.TopicPartition{Topic: meta.Topic, Partition: meta.Partition}
			st = w.parts[cur]
			w.floorBuf = e.floors(cur, w.floorBuf)
		}
		if meta.Offset < st.next {
			continue // already placed (a re-seek)
		}
		out, v := e.place(meta, w.raws[i], now, w.floorBuf, &prep[i])
		if out == unread {
			// The registry did not answer: commit what came before and fail the session, which retries.
			w.unreadErr = prep[i].err
			paused = true
			break
		}
		if out == evolve {
			// The table must take the record's schema first: commit what came before, then rebuild the
			// engine on the evolved table (Run) and read the record again.
			w.evolveAt = &row.Meta{Topic: meta.Topic, Partition: meta.Partition, Offset: meta.Offset}
			paused = true
			break
		}
		if out == blocked && !w.resume(meta) {
			w.pause(meta, v)
			paused = true
			break
		}
		st.next = meta.Offset + 1
		consumed++
		consumedBytes += len(w.raws[i]) + len(meta.Key)
		if e.full() {
			e.seal(consumedOffsets(w.parts), nil) // the batch ends at this record
		}
	}
	e.resetCheckers()
	clear(prep) // drop references into the arenas
	e.m.RecordsConsumed.WithLabelValues(w.p.Name).Add(float64(consumed))
	e.m.ConsumedBytes.WithLabelValues(w.p.Name).Add(float64(consumedBytes))
	if consumed > 0 && e.firstBuffered.IsZero() {
		e.firstBuffered = now
	}
	if !e.firstBuffered.IsZero() && time.Since(e.firstBuffered) >= w.p.Commit.Interval {
		e.seal(consumedOffsets(w.parts), nil)
	}
	e.reportBuffered()
	return paused
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
			w.e.log.Debug("committing group offsets", "err", err)
		}
		close(done)
	})
	<-done
}

// produceDLQ sends rejected records to the DLQ topic with the reason in headers, keyed by their source
// position so consumers can drop the copies a crash may re-send (the topic is at least once).
func (w *worker) produceDLQ(ctx context.Context, recs []dlqRecord) error {
	return produceDLQ(ctx, w.cl, w.p.OnReject.DLQTopic, recs)
}

func produceDLQ(ctx context.Context, cl *kgo.Client, topic string, recs []dlqRecord) error {
	out := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		src := fmt.Sprintf("%s/%d/%d", r.meta.Topic, r.meta.Partition, r.meta.Offset)
		out[i] = &kgo.Record{Topic: topic, Key: []byte(src), Value: r.value, Headers: []kgo.RecordHeader{
			{Key: "bigfather.reason_code", Value: []byte(r.code)},
			{Key: "bigfather.reason", Value: []byte(r.reason)},
			{Key: "bigfather.source", Value: []byte(src)},
			{Key: "bigfather.source_key", Value: r.meta.Key},
		}}
	}
	return cl.ProduceSync(ctx, out...).FirstErr()
}

// seekFromTables runs when partitions are assigned: after draining the committer it reads every table's stored
// offsets and starts each new partition at the smallest (DESIGN.md step 2). The group's committed offsets are
// never used.
func (w *worker) seekFromTables(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.e
	e.drain(consumedOffsets(w.parts))
	e.m.Rebalances.WithLabelValues(w.p.Name, "assigned").Inc()
	for _, s := range e.sinks {
		if err := s.tbl.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("reading offsets of %s: %w", s.name, err)
		}
		s.stored = lake.StoredOffsets(s.tbl, w.p.Name)
	}
	out := make(map[string]map[int32]kgo.Offset, len(assigned))
	n := 0
	var fresh []lake.TopicPartition // no table knows them; start: latest
	for topic, parts := range assigned {
		out[topic] = make(map[int32]kgo.Offset, len(parts))
		for part := range parts {
			n++
			tp := lake.TopicPartition{Topic: topic, Partition: part}
			seek, known := int64(-1), 0
			for _, s := range e.sinks {
				off, ok := s.stored[tp]
				if ok {
					known++
					if seek < 0 || off < seek {
						seek = off
					}
					s.skipBelow[tp] = off
				} else {
					delete(s.skipBelow, tp)
				}
			}
			switch {
			case known == len(e.sinks) || (known > 0 && w.p.Start == "latest"):
				out[topic][part] = kgo.NewOffset().At(seek).WithEpoch(-1)
				w.parts[tp] = &partState{next: seek}
			case w.p.Start == "latest" && !topicKnown(e.sinks, topic):
				fresh = append(fresh, tp)
			default:
				out[topic][part] = kgo.NewOffset().AtStart()
				w.parts[tp] = &partState{next: -1}
			}
		}
	}
	if len(fresh) > 0 {
		anchors, err := w.anchorLatest(ctx, fresh)
		if err != nil {
			return nil, err
		}
		for tp, off := range anchors {
			out[tp.Topic][tp.Partition] = kgo.NewOffset().At(off).WithEpoch(-1)
			w.parts[tp] = &partState{next: off}
			for _, s := range e.sinks {
				s.skipBelow[tp] = off
			}
		}
	}
	e.log.Info("partitions assigned", "count", n, "owned", len(w.parts))
	w.opts.Health.Assigned(w.p.Name)
	return out, nil
}

// topicKnown reports whether any table stores an offset for some partition of topic: then the pipeline has
// consumed it before, and a partition without an offset is one the topic gained since, read from its first
// record whatever start says.
func topicKnown(sinks []*sink, topic string) bool {
	for _, s := range sinks {
		for tp := range s.stored {
			if tp.Topic == topic {
				return true
			}
		}
	}
	return false
}

// anchorLatest resolves "latest" for partitions no table has an offset for, once: it reads their end
// offsets and stores them in every table before a record is consumed, so a process killed before its first
// commit resumes from the same position instead of resolving "latest" again (and losing what arrived in
// between). Called with mu held, the committer drained.
func (w *worker) anchorLatest(ctx context.Context, tps []lake.TopicPartition) (lake.Offsets, error) {
	topics := map[string]bool{}
	for _, tp := range tps {
		topics[tp.Topic] = true
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	ends, err := kadm.NewClient(w.cl).ListEndOffsets(ctx, names...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("reading the end offsets of %v for start: latest: %w", names, err)
	}
	anchors := lake.Offsets{}
	for _, tp := range tps {
		o, ok := ends.Lookup(tp.Topic, tp.Partition)
		if !ok {
			return nil, fmt.Errorf("reading the end offset of %s for start: latest: the broker did not answer for it", tp)
		}
		anchors[tp] = o.Offset
	}
	if err := w.e.storeOffsets(ctx, anchors); err != nil {
		return nil, fmt.Errorf("storing the start position of %d partitions (start: latest): %w", len(anchors), err)
	}
	w.e.log.Info("start: latest resolved and stored", "partitions", len(anchors))
	return anchors, nil
}

// onRevoked commits everything consumed before partitions move to another worker, then forgets them.
func (w *worker) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.e.drain(consumedOffsets(w.parts))
	w.forget(revoked)
	w.e.m.Rebalances.WithLabelValues(w.p.Name, "revoked").Inc()
	w.e.log.Info("partitions revoked after committing", "count", count(revoked), "owned", len(w.parts))
}

// onLost drops what is buffered and queued: partitions lost without a clean revoke may already belong to
// another worker. The session then restarts and re-seeks from the tables.
func (w *worker) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.e.m.BatchesDiscarded.WithLabelValues(w.p.Name, "lost").Inc()
	w.e.fail(errDropped)
	w.e.discard()
	w.forget(lost)
	w.e.m.Rebalances.WithLabelValues(w.p.Name, "lost").Inc()
	w.e.log.Warn("partitions lost; dropped the buffered batch", "count", count(lost))
}

func (w *worker) forget(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			delete(w.parts, lake.TopicPartition{Topic: topic, Partition: p})
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

// pause records the blocking record; the poll loop then commits everything before it and ends the session.
func (w *worker) pause(meta *row.Meta, v *quality.Violation) {
	m := cloneMeta(meta)
	w.blockedAt = &m
	if w.opts.Control != nil {
		w.opts.Control.hold(w.p.Name) // before health says paused, so a resume is accepted from then on
	}
	w.e.m.Paused.WithLabelValues(w.p.Name).Set(1)
	w.opts.Health.Paused(w.p.Name, fmt.Sprintf("record %s/%d@%d rejected: %s: %s", m.Topic, m.Partition, m.Offset, v.Code, v.Reason), time.Now())
	w.e.log.Warn("pipeline paused at a rejected record (on_reject: pause)", "topic", m.Topic, "partition", m.Partition,
		"offset", m.Offset, "reason_code", v.Code, "reason", v.Reason)
}

// resume reports whether the blocking record was released by an operator: with "skip" it is dropped, with "dlq"
// it goes to the rejected table. Called for a record the pause policy blocks.
func (w *worker) resume(meta *row.Meta) bool {
	b := w.blockedAt
	if b == nil || b.Topic != meta.Topic || b.Partition != meta.Partition || b.Offset != meta.Offset || w.resumeWith == "" {
		return false
	}
	w.blockedAt, w.resumeWith = nil, ""
	return true
}

// waitResume blocks until an operator resumes the pipeline or ctx ends.
func (w *worker) waitResume(ctx context.Context) error {
	if w.opts.Control == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	action, err := w.opts.Control.wait(ctx, w.p.Name)
	if err != nil {
		return err
	}
	w.e.m.Paused.WithLabelValues(w.p.Name).Set(0)
	w.opts.Health.Starting(w.p.Name)
	w.e.log.Info("pipeline resumed", "action", action)
	if action == ResumeRetry {
		w.blockedAt = nil // read it again: a fixed definition may accept it now
	} else {
		w.resumeWith = action
	}
	return nil
}

// rebuild replaces the engine after a registry record asked for its schema (evolveAt): the new engine makes
// the tables follow the subject's versions again, which now include that schema. A record that asks again
// right after a rebuild means the rebuild could not make its schema fit, which would loop: that is an error.
func (w *worker) rebuild(ctx context.Context) (*engine, error) {
	at := w.evolveAt
	w.evolveAt = nil
	if prev := w.evolvedAt; prev != nil && prev.Topic == at.Topic && prev.Partition == at.Partition && prev.Offset == at.Offset {
		return nil, fmt.Errorf("record %s/%d@%d: its schema still does not fit table %s after evolving it", at.Topic, at.Partition, at.Offset, w.p.Table.Name)
	}
	w.evolvedAt = at
	w.e.log.Info("a record's schema adds to the table; evolving it", "topic", at.Topic, "partition", at.Partition, "offset", at.Offset)
	w.e.close()
	e, err := startEngine(ctx, w.opts)
	if err != nil || e == nil {
		return nil, err // w.e stays the closed engine: closing it again does nothing
	}
	if w.p.OnReject.DLQTopic != "" {
		e.produce = w.produceDLQ
	}
	w.e = e
	return e, nil
}

// isProbe reports whether a Kafka record is a monitor probe record.
func isProbe(headers []kgo.RecordHeader) bool {
	for _, h := range headers {
		if h.Key == row.ProbeHeader {
			return true
		}
	}
	return false
}
