package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/bigfather/bigfather/internal/completeness"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/dedup"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/row"
	"github.com/bigfather/bigfather/internal/transform"
)

// outcome is what became of one record.
type outcome int

const (
	staged outcome = iota
	rejected
	filtered
	duplicate
	blocked // rejected under the pause policy: nothing was buffered
	probed  // a monitor probe record: only its offset counts
	evolve  // a registry record whose schema the table does not hold yet: nothing was buffered
	unread  // a registry record whose schema could not be read (prepared.err): nothing was buffered
)

// engine is a pipeline's record path, shared by the Kafka worker and backfill: check, transform, dedup, route,
// buffer, and a committer goroutine that writes and commits sealed batches in order. The poll side (add,
// seal) runs on one goroutine at a time; the committer never touches poll-side state.
type engine struct {
	p      *config.Pipeline
	log    *slog.Logger
	m      *monitor.Metrics
	health *monitor.Health
	lk     *lake.Lake

	check *quality.Checker // nil for registry formats
	prog  *transform.Program
	// book decodes registry-framed records; followed holds the subject's schemas the tables follow. Both
	// nil for json.
	book      *schemaBook
	followed  *followed
	regFields []iceberg.NestedField // the main table's fields for the subject's columns, in column order
	cols      []config.Column       // checked columns, then derived and lookup columns
	nBase     int
	// checkers check and transform the records of one poll in parallel (see prepareAll); checkers[0] uses
	// e.check and e.prog.
	checkers []*checker

	main   *sink
	routes []*sink // parallel to p.Routes
	rejs   *sink   // nil under the skip and pause policies
	sinks  []*sink // main, routes..., rejected

	// Dedup, when configured. index and seen belong to the committer once sessions run; pending to the
	// poll side.
	index          *dedup.Index
	sources        dedup.Sources
	idCol, timeCol int
	seen           int64
	pending        map[uint64]pendingID
	// The source number of the last placed record's partition (records come in runs per partition).
	srcTopic     string
	srcPart      int32
	srcID        uint16
	srcSet       bool
	sealedSeq    int64        // poll side: sequence number of the last sealed batch
	committedSeq atomic.Int64 // committer: last batch fully committed
	writer       string

	track            *completeness.Tracker
	prodCol, seqCol  int
	lastTrackerStats completeness.Stats

	// dlqTopic and produce send rejected records to the DLQ topic (at least once) before the rejected table
	// commits them (exactly once).
	dlqTopic string
	produce  func(ctx context.Context, recs []dlqRecord) error
	dlq      []dlqRecord

	firstBuffered time.Time
	queue         chan *batch
	committerDone chan struct{}
	failMu        sync.Mutex
	failure       error
}

type pendingID struct {
	pos dedup.Position
	seq int64 // batch that holds it
}

// dlqRecord is a rejected record on its way to the DLQ topic.
type dlqRecord struct {
	meta         row.Meta
	value        []byte
	code, reason string
}

// batch is a sealed buffer on its way to the committer.
type batch struct {
	seq      int64
	parts    []sealed     // one per sink, in e.sinks order
	consumed lake.Offsets // next offset per partition after the batch
	dlq      []dlqRecord
	done     chan struct{} // closed once committed or dropped; nil when nobody waits
}

// newEngine opens the pipeline's tables and compiles its checks and transforms.
func newEngine(ctx context.Context, opts Options) (*engine, error) {
	p := opts.Pipeline
	e := &engine{p: p, log: opts.Logger.With("pipeline", p.Name), m: opts.Metrics, health: opts.Health, lk: opts.Lake,
		writer: uuid.NewString(), pending: map[uint64]pendingID{}, dlqTopic: p.OnReject.DLQTopic}
	var err error
	var base []config.Column
	if p.Registry() {
		if base, err = e.followSubject(ctx, opts); err != nil {
			return nil, err
		}
	} else {
		if e.check, err = quality.New(p, quality.WithDefinitions(opts.Definitions...)); err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		base = e.check.Columns()
	}
	if e.prog, err = transform.New(p, base, e.log); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	e.nBase = len(base)
	e.cols = append(append([]config.Column{}, base...), e.prog.Columns()...)
	// One checker per core: checks and transforms are the per-record work that parallelizes.
	e.checkers = []*checker{newChecker(e.check, e.prog, e.cols, e.nBase)}
	for i := 1; i < min(runtime.GOMAXPROCS(0), 4); i++ {
		check := e.check
		if check != nil {
			check = check.Clone()
		}
		e.checkers = append(e.checkers, newChecker(check, e.prog.Clone(), e.cols, e.nBase))
	}
	for _, c := range e.checkers {
		c.book = e.book
	}
	colIndex := func(name string) int {
		for i, c := range e.cols {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	if p.Dedup.Enabled() {
		e.index = dedup.New(p.Dedup.Window)
		if e.idCol, e.timeCol = colIndex(p.Dedup.Field), colIndex(p.Dedup.TimeField); e.idCol < 0 || e.timeCol < 0 {
			return nil, fmt.Errorf("pipeline %s: dedup: field %q or time field %q is not a column", p.Name, p.Dedup.Field, p.Dedup.TimeField)
		}
		if e.cols[e.idCol].Type != config.TypeString || e.cols[e.timeCol].Type != config.TypeTimestamp {
			return nil, fmt.Errorf("pipeline %s: dedup: field %q must be a string and time field %q a timestamp", p.Name, p.Dedup.Field, p.Dedup.TimeField)
		}
	}
	if p.Completeness.Enabled() {
		e.track = completeness.NewTracker(1_000_000)
		if e.prodCol, e.seqCol = colIndex(p.Completeness.ProducerField), colIndex(p.Completeness.SeqField); e.prodCol < 0 || e.seqCol < 0 {
			return nil, fmt.Errorf("pipeline %s: completeness: field %q or %q is not a column", p.Name, p.Completeness.ProducerField, p.Completeness.SeqField)
		}
	}

	mainSpec := tableSpec(p.Table.Name, e.cols, p.Table.Partitions)
	if e.main, err = e.openSink(ctx, mainSpec, false); err != nil {
		return nil, err
	}
	e.sinks = append(e.sinks, e.main)
	for _, r := range p.Routes {
		s, err := e.openSink(ctx, tableSpec(r.Table, e.cols, p.Table.Partitions), false)
		if err != nil {
			return nil, err
		}
		e.routes = append(e.routes, s)
		e.sinks = append(e.sinks, s)
	}
	if policy(p) == config.PolicyDLQ {
		if e.rejs, err = e.openSink(ctx, RejectedTableSpec(p), true); err != nil {
			return nil, err
		}
		e.sinks = append(e.sinks, e.rejs)
	}
	if e.index != nil {
		if err := e.incorporate(ctx, e.main.tbl); err != nil {
			return nil, err
		}
		e.log.Info("dedup index loaded", "ids", e.index.Len(), "window", p.Dedup.Window)
	}
	return e, nil
}

func policy(p *config.Pipeline) string {
	if p.OnReject.Policy == "" {
		return config.PolicyDLQ
	}
	return p.OnReject.Policy
}

func (e *engine) openSink(ctx context.Context, spec lake.TableSpec, rejectedTable bool) (*sink, error) {
	// Every table the pipeline writes is its own (main, rejected, routes), unless it shares them.
	spec.Owner = lake.Ownership{Pipeline: e.p.Name, Shared: e.p.Table.Shared, Route: !rejectedTable && spec.Name != e.p.Table.Name}
	if e.book != nil && !rejectedTable {
		spec = e.registrySpec(spec)
	}
	t, err := e.lk.EnsureTable(ctx, spec)
	if err != nil {
		return nil, err
	}
	if e.book != nil && !rejectedTable && spec.Name != e.p.Table.Name {
		// A route table follows the subject as the main table does.
		if t, _, err = e.lk.Follow(ctx, t, e.followed.schemas); err != nil {
			return nil, err
		}
	}
	s, err := newSink(t, e.cols, rejectedTable)
	if err != nil {
		return nil, err
	}
	s.own = spec.Owner
	return s, nil
}

// tableSpec is a staged table: the pipeline's columns plus the Kafka metadata columns.
func tableSpec(name string, cols []config.Column, parts []config.PartitionField) lake.TableSpec {
	spec := lake.TableSpec{Name: name}
	for _, c := range cols {
		spec.Columns = append(spec.Columns, lake.Column{Name: c.Name, Type: string(c.Type), Required: c.Required})
	}
	spec.Columns = append(spec.Columns, metaColumns...)
	for _, pf := range parts {
		spec.Partitions = append(spec.Partitions, lake.Partition{Transform: pf.Transform, Column: pf.Column, Param: pf.Param})
	}
	return spec
}

// close releases the transform program's background work.
func (e *engine) close() {
	if e.prog != nil {
		e.prog.Close()
		e.prog = nil
	}
}

// floors returns, per sink, the offset below which a partition's records are already in that table.
func (e *engine) floors(tp lake.TopicPartition, dst []int64) []int64 {
	dst = dst[:0]
	for _, s := range e.sinks {
		dst = append(dst, s.skipBelow.Get(tp))
	}
	return dst
}

// checker checks and transforms records on its own goroutine: it owns a Checker and a Program clone and
// copies every accepted record's values into its arena, so they outlive the next Check.
type checker struct {
	check   *quality.Checker // nil for registry formats, which book decodes
	book    *schemaBook
	prog    *transform.Program
	vals    []row.Value
	arena   []byte
	valBuf  []row.Value
	routes  []int // the poll's route indexes, one run per record
	scratch []int
	nBase   int
	texts   []int // string columns the transform fills (derived, looked up)
	names   []string
}

// prepared is a record after checks and transforms: what place needs to buffer it.
type prepared struct {
	v         *quality.Violation // rejected
	rule      int                // filter rule that dropped it, or -1
	vals      []row.Value        // accepted: one per column, strings in the checker's arena
	eventType string
	routes    []int
	probe     bool  // a probe record: nothing was checked
	evolve    bool  // the table must take the record's schema first: nothing was checked
	hold      bool  // v pauses the pipeline whatever the rejection policy (schema_change: pause)
	err       error // the record could not be read (the schema registry did not answer): nothing was checked
}

func newChecker(c *quality.Checker, prog *transform.Program, cols []config.Column, nBase int) *checker {
	ch := &checker{check: c, prog: prog, vals: make([]row.Value, len(cols)), nBase: nBase}
	for i, col := range cols {
		ch.names = append(ch.names, col.Name)
		if i >= nBase && col.Type == config.TypeString {
			ch.texts = append(ch.texts, i)
		}
	}
	return ch
}

// reset forgets the arena's contents (after the poll's records were placed).
func (c *checker) reset() {
	c.arena, c.valBuf, c.routes = c.arena[:0], c.valBuf[:0], c.routes[:0]
}

// prepare checks and transforms one record. Accepted values are copied into the arena.
func (c *checker) prepare(meta *row.Meta, raw []byte, now time.Time, withRoutes bool, out *prepared) {
	*out = prepared{rule: -1}
	if meta.Probe {
		out.probe = true
		return
	}
	if c.book != nil {
		evolve, v, err := c.book.decode(context.Background(), raw, now, c.vals[:c.nBase])
		if err != nil {
			out.err = err
			return
		}
		if evolve {
			out.evolve = true
			return
		}
		if v != nil {
			out.v, out.hold = v, v.Code == CodeSchemaChange && c.book.pauseOnChange
			return
		}
	} else if v := c.check.Check(raw, now, c.vals[:c.nBase]); v != nil {
		vc := *v
		out.v = &vc
		return
	}
	if rule := c.prog.Apply(c.vals, *meta); rule >= 0 {
		out.rule = rule
		return
	}
	// The checker let only valid UTF-8 through; an expression can still make other text (from kafka.key).
	for _, i := range c.texts {
		if s := c.vals[i].S; !utf8.Valid(s) {
			out.v = invalidText(c.names[i], s)
			return
		}
	}
	start := len(c.valBuf)
	for _, v := range c.vals {
		if len(v.S) > 0 {
			at := len(c.arena)
			c.arena = append(c.arena, v.S...)
			v.S = c.arena[at:len(c.arena):len(c.arena)]
		}
		c.valBuf = append(c.valBuf, v)
	}
	out.vals = c.valBuf[start:len(c.valBuf):len(c.valBuf)]
	if c.check != nil {
		if et, ok := c.check.EventType(); ok {
			out.eventType = et
		}
	}
	if withRoutes {
		c.scratch = c.prog.Routes(c.vals, *meta, out.eventType, c.scratch)
		at := len(c.routes)
		c.routes = append(c.routes, c.scratch...)
		out.routes = c.routes[at:len(c.routes):len(c.routes)]
	}
}

// invalidText is the violation for a derived string column whose value is not UTF-8.
func invalidText(col string, s []byte) *quality.Violation {
	at := 0
	for at < len(s) {
		r, size := utf8.DecodeRune(s[at:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		at += size
	}
	return &quality.Violation{Code: quality.CodeInvalidUTF8, Field: col,
		Reason: fmt.Sprintf("derived column %q: the value is not valid UTF-8 at byte offset %d (byte 0x%02x)", col, at, s[at])}
}

// add runs one record through the path and buffers it for every table it belongs to. floors come from
// e.floors for the record's partition. On blocked (pause policy) v says why and nothing was buffered.
func (e *engine) add(meta *row.Meta, raw []byte, now time.Time, floors []int64) (outcome, *quality.Violation) {
	c := e.checkers[0]
	var pr prepared
	c.prepare(meta, raw, now, len(e.routes) > 0, &pr)
	out, v := e.place(meta, raw, now, floors, &pr)
	c.reset()
	return out, v
}

// prepareAll checks and transforms a poll's records, split between the checkers, each on its own goroutine.
func (e *engine) prepareAll(metas []row.Meta, raws [][]byte, now time.Time, out []prepared) {
	n, k := len(metas), len(e.checkers)
	if n < 256 || k == 1 {
		for i := range metas {
			e.checkers[0].prepare(&metas[i], raws[i], now, len(e.routes) > 0, &out[i])
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		lo, hi := n*w/k, n*(w+1)/k
		c := e.checkers[w]
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				c.prepare(&metas[i], raws[i], now, len(e.routes) > 0, &out[i])
			}
		})
	}
	wg.Wait()
}

// resetCheckers forgets the arenas once a poll's records are placed.
func (e *engine) resetCheckers() {
	for _, c := range e.checkers {
		c.reset()
	}
}

// place buffers a prepared record for every table it belongs to, in record order: rejection policy, dedup,
// routes, completeness.
func (e *engine) place(meta *row.Meta, raw []byte, now time.Time, floors []int64, pr *prepared) (outcome, *quality.Violation) {
	nowMicros := now.UnixMicro()
	if pr.probe {
		e.m.ProbeRecords.WithLabelValues(e.p.Name).Inc()
		return probed, nil
	}
	if pr.evolve {
		return evolve, nil
	}
	if pr.err != nil {
		return unread, nil
	}
	if v := pr.v; v != nil {
		if pr.hold {
			return blocked, v
		}
		switch policy(e.p) {
		case config.PolicyPause:
			return blocked, v
		case config.PolicySkip:
		default:
			if meta.Offset >= floors[len(floors)-1] {
				// Reasons and paths quote the record; text columns must stay UTF-8 whatever it held.
				field, reason := strings.ToValidUTF8(v.Field, "\uFFFD"), strings.ToValidUTF8(v.Reason, "\uFFFD")
				e.rejs.addRejected(meta, raw, v.Code, reason, field, nowMicros)
				if e.dlqTopic != "" {
					e.dlq = append(e.dlq, dlqRecord{meta: cloneMeta(meta), value: append([]byte(nil), raw...), code: v.Code, reason: reason})
				}
			}
		}
		e.m.RowsRejected.WithLabelValues(e.p.Name, v.Code).Inc()
		return rejected, v
	}
	if pr.rule >= 0 {
		e.m.RowsFiltered.WithLabelValues(e.p.Name, e.p.Filters[pr.rule].Name).Inc()
		return filtered, nil
	}
	vals := pr.vals
	var key *rowKey
	if e.index != nil {
		if meta.Topic != e.srcTopic || meta.Partition != e.srcPart || !e.srcSet {
			e.srcTopic, e.srcPart, e.srcID, e.srcSet = meta.Topic, meta.Partition, e.sources.ID(meta.Topic, meta.Partition), true
		}
		k := rowKey{hash: dedup.Hash(vals[e.idCol].S), pos: dedup.Pos(e.srcID, meta.Offset), time: vals[e.timeCol].I}
		if vals[e.timeCol].Null {
			k.time = nowMicros
		}
		if e.index.IsDuplicate(k.hash, k.pos) {
			e.m.Duplicates.WithLabelValues(e.p.Name).Inc()
			return duplicate, nil
		}
		if pe, ok := e.pending[k.hash]; ok && pe.pos != k.pos && pe.seq > e.committedSeq.Load() {
			e.m.Duplicates.WithLabelValues(e.p.Name).Inc()
			return duplicate, nil
		}
		e.pending[k.hash] = pendingID{pos: k.pos, seq: e.sealedSeq + 1}
		key = &k
	}
	if meta.Offset >= floors[0] {
		e.main.addRow(meta, len(raw), vals, nowMicros, key)
	}
	for _, ri := range pr.routes {
		if meta.Offset >= floors[1+ri] {
			e.routes[ri].addRow(meta, len(raw), vals, nowMicros, key)
		}
	}
	if e.track != nil && !vals[e.prodCol].Null && !vals[e.seqCol].Null {
		e.track.Observe(vals[e.prodCol].S, vals[e.seqCol].I)
	}
	return staged, nil
}

func cloneMeta(m *row.Meta) row.Meta {
	c := *m
	c.Key = append([]byte(nil), m.Key...)
	return c
}

// full reports whether the buffers reached a row or byte bound.
func (e *engine) full() bool {
	rows, bytes := 0, int64(0)
	for _, s := range e.sinks {
		rows += s.rows
		bytes += s.bytes
	}
	return rows >= e.p.Commit.MaxRows || bytes >= e.p.Commit.MaxBytes
}

// reportBuffered sets the buffered rows and bytes gauges.
func (e *engine) reportBuffered() {
	rows, bytes := 0, int64(0)
	for _, s := range e.sinks {
		rows += s.rows
		bytes += s.bytes
	}
	e.m.BufferedRows.WithLabelValues(e.p.Name).Set(float64(rows))
	e.m.BufferedBytes.WithLabelValues(e.p.Name).Set(float64(bytes))
}

// startCommitter starts a committer for a session.
func (e *engine) startCommitter(groupCommit func(ctx context.Context, consumed lake.Offsets)) {
	e.failMu.Lock()
	e.failure = nil
	e.failMu.Unlock()
	// Unbuffered: seal waits until the committer takes the batch, so a pipeline holds at most two batches (one
	// being written and committed, one filling).
	e.queue = make(chan *batch)
	e.committerDone = make(chan struct{})
	// /healthz fails while the catalog is not the file the process opened, also when nothing is committing.
	e.health.Watch("catalog", e.lk.CheckCatalog)
	go e.commitLoop(e.queue, e.committerDone, groupCommit)
}

// stopCommitter waits for the committer to finish what is queued and stops it; the session's pending ids go.
func (e *engine) stopCommitter() {
	if e.queue == nil {
		return
	}
	close(e.queue)
	<-e.committerDone
	e.queue = nil
	clear(e.pending)
}

// seal hands the buffered rows and the consumed offsets to the committer; it blocks while the committer is
// busy with the previous batch, which bounds memory to two batches.
func (e *engine) seal(consumed lake.Offsets, done chan struct{}) {
	if e.queue == nil {
		if done != nil {
			close(done)
		}
		return
	}
	e.sealedSeq++
	b := &batch{seq: e.sealedSeq, consumed: consumed, dlq: e.dlq, done: done}
	e.dlq = nil
	for _, s := range e.sinks {
		b.parts = append(b.parts, s.seal())
	}
	e.firstBuffered = time.Time{}
	e.m.BufferedRows.WithLabelValues(e.p.Name).Set(0)
	e.m.BufferedBytes.WithLabelValues(e.p.Name).Set(0)
	e.queue <- b
	if len(e.pending) > 1<<16 { // forget ids whose batches are committed: the index has them now
		c := e.committedSeq.Load()
		for h, pe := range e.pending {
			if pe.seq <= c {
				delete(e.pending, h)
			}
		}
	}
}

// drain seals what is buffered and waits until everything before is committed.
func (e *engine) drain(consumed lake.Offsets) {
	done := make(chan struct{})
	e.seal(consumed, done)
	<-done
}

// discard drops everything buffered.
func (e *engine) discard() {
	for _, s := range e.sinks {
		s.discard()
	}
	e.dlq = nil
	e.firstBuffered = time.Time{}
}

func (e *engine) fail(err error) {
	e.failMu.Lock()
	defer e.failMu.Unlock()
	if e.failure == nil {
		e.failure = err
	}
}

func (e *engine) failed() error {
	e.failMu.Lock()
	defer e.failMu.Unlock()
	return e.failure
}

// commitLoop commits sealed batches in order. After a failure it drops the rest of the session's batches.
func (e *engine) commitLoop(queue <-chan *batch, done chan<- struct{}, groupCommit func(context.Context, lake.Offsets)) {
	defer close(done)
	ctx := context.Background() // commits run to completion even when stopping: the final flush needs them
	for b := range queue {
		if e.failed() == nil {
			if err := e.commitBatch(ctx, b); err != nil {
				e.fail(err)
			} else {
				e.committedSeq.Store(b.seq)
				if groupCommit != nil {
					groupCommit(ctx, b.consumed)
				}
			}
		}
		for _, part := range b.parts {
			part.release()
		}
		if b.done != nil {
			close(b.done)
		}
	}
}

// storeOffsets commits offsets to every table without rows, as the start of partitions no table knows yet.
// The caller holds the poll side with the committer drained, so the sinks' buffers are empty.
func (e *engine) storeOffsets(ctx context.Context, offsets lake.Offsets) error {
	for _, s := range e.sinks {
		empty := s.seal()
		_, err := s.commit(ctx, e.commitOptions(s), empty, offsets)
		empty.release()
		if err != nil {
			return err
		}
	}
	return nil
}

// commitBatch commits a batch to every table in turn: main, routes, rejected. A catalog that is no longer the
// file the process opened fails every batch, empty ones too (a drain must not report the pipeline running).
func (e *engine) commitBatch(ctx context.Context, b *batch) error {
	if err := e.lk.CheckCatalog(); err != nil {
		e.m.Commits.WithLabelValues(e.p.Name, e.main.name, "error").Inc()
		return err
	}
	committed := false
	for i, s := range e.sinks {
		if s == e.rejs && len(b.dlq) > 0 {
			if err := e.produce(ctx, b.dlq); err != nil {
				return fmt.Errorf("producing %d rejected records to %s: %w", len(b.dlq), e.dlqTopic, err)
			}
		}
		start := time.Now()
		opts := e.commitOptions(s)
		newest, _ := b.parts[i].newest(e.eventTimeColumn(s))
		opts.newestEvent = newest
		c, err := s.commit(ctx, opts, b.parts[i], b.consumed)
		e.m.Commits.WithLabelValues(e.p.Name, s.name, "conflict").Add(float64(c.conflicts))
		var fenced *lake.FencedError
		switch {
		case errors.As(err, &fenced):
			e.m.Commits.WithLabelValues(e.p.Name, s.name, "fenced").Inc()
			e.m.BatchesDiscarded.WithLabelValues(e.p.Name, "fenced").Inc()
			return err
		case err != nil:
			e.m.Commits.WithLabelValues(e.p.Name, s.name, "error").Inc()
			return err
		}
		if c.done { // a table with nothing to commit (no rows, no offsets of its own) made no commit
			committed = true
			e.m.Commits.WithLabelValues(e.p.Name, s.name, "ok").Inc()
			e.m.CommitDuration.WithLabelValues(e.p.Name, s.name).Observe(time.Since(start).Seconds())
			e.m.RowsCommitted.WithLabelValues(e.p.Name, s.name).Add(float64(c.rows))
		}
		e.observeCommit(s, b.parts[i], c, newest, time.Now())
		if s == e.main && c.dropped > 0 {
			e.m.Duplicates.WithLabelValues(e.p.Name).Add(float64(c.dropped))
		}
		if c.rows > 0 {
			e.log.Debug("committed", "table", s.name, "rows", c.rows, "dropped", c.dropped, "conflicts", c.conflicts, "took", time.Since(start))
		}
	}
	if committed {
		// An empty batch (a drain with nothing buffered) proves nothing: a failing pipeline stays failing.
		e.health.Committed(e.p.Name, time.Now())
	}
	e.publishCompleteness()
	return nil
}

// observeCommit records a successful table commit in the metrics: its files, the table's last commit and
// newest event time, and, for the main table, each row's end-to-end latency (Kafka timestamp to now).
func (e *engine) observeCommit(s *sink, part sealed, c committed, newest int64, now time.Time) {
	if !c.done {
		return
	}
	e.m.LastCommit.WithLabelValues(s.name).Set(float64(now.UnixMilli()) / 1e3)
	if len(c.fileSizes) > 0 {
		e.m.CommitFiles.WithLabelValues(e.p.Name, s.name).Observe(float64(len(c.fileSizes)))
		sizes := e.m.FileSize.WithLabelValues(e.p.Name, s.name)
		var total int64
		for _, n := range c.fileSizes {
			sizes.Observe(float64(n))
			total += n
		}
		e.m.CommittedBytes.WithLabelValues(e.p.Name, s.name).Add(float64(total))
	}
	if part.rows == 0 {
		return
	}
	if newest > s.newestEvent {
		s.newestEvent = newest
		e.m.NewestEvent.WithLabelValues(s.name).Set(float64(newest) / 1e6)
	}
	if s != e.main {
		return
	}
	counts := e.m.EndToEnd.NewCounts()
	part.eachTimestamp("_kafka_timestamp", func(micros int64) {
		counts.Observe(max(float64(now.UnixMicro()-micros)/1e6, 0))
	})
	e.m.EndToEnd.Add(e.p.Name, counts)
}

// eventTimeColumn is the column holding a table's event time: the dedup time field, else the column the
// future-timestamp rule checks (event_time by default), when the table declares it as a timestamp; "" if none.
func (e *engine) eventTimeColumn(s *sink) string {
	name := e.p.Dedup.TimeField
	if name == "" {
		name = e.p.Cleanse.Future.Field
	}
	if s == e.rejs {
		return ""
	}
	for _, c := range e.cols[:e.nBase] {
		if c.Name == name && c.Type == config.TypeTimestamp {
			return name
		}
	}
	return ""
}

// commitOptions wires dedup into a table's commit: the main table folds in other writers' ids before every
// attempt and decides; the other tables follow the main table's decisions.
func (e *engine) commitOptions(s *sink) commitOptions {
	o := commitOptions{pipeline: e.p.Name, writer: e.writer}
	if e.index == nil || s == e.rejs {
		return o
	}
	o.keep = func(k rowKey) bool { return !e.index.IsDuplicate(k.hash, k.pos) }
	if s != e.main {
		return o
	}
	o.before = e.incorporate
	o.after = func(t *table.Table, keys []rowKey, dropped *bitmask) {
		e.index.AddAll(len(keys), func(i int) (uint64, dedup.Position, int64, bool) {
			k := keys[i]
			return k.hash, k.pos, k.time, dropped == nil || !dropped.dropped[i]
		})
		if snap := t.CurrentSnapshot(); snap != nil {
			e.seen = snap.SnapshotID
		}
		e.index.Evict()
		e.m.DedupIDs.WithLabelValues(e.p.Name).Set(float64(e.index.Len()))
	}
	return o
}

// incorporate adds to the index the ids of rows other writers committed to the main table since e.seen.
func (e *engine) incorporate(ctx context.Context, t *table.Table) error {
	snap := t.CurrentSnapshot()
	if snap == nil || snap.SnapshotID == e.seen {
		return nil
	}
	var files []string
	var err error
	if e.seen != 0 {
		files, err = lake.AddedSince(ctx, t, e.seen, e.writer)
	}
	if e.seen == 0 || errors.Is(err, lake.ErrHistoryGone) {
		// A full load reads only the files that may hold ids within the window.
		e.index.Reset()
		files, err = lake.RecentFiles(ctx, t, e.p.Dedup.TimeField, e.index.Window())
	}
	if err != nil {
		return fmt.Errorf("reading ids committed to %s: %w", e.main.name, err)
	}
	cols := []string{e.p.Dedup.Field, e.p.Dedup.TimeField, "_topic", "_partition", "_offset"}
	err = lake.ReadTableColumns(ctx, t, files, cols, func(rec arrow.RecordBatch) error {
		ids, ok1 := rec.Column(0).(*array.String)
		times, ok2 := rec.Column(1).(*array.Timestamp)
		topics, ok3 := rec.Column(2).(*array.String)
		parts, ok4 := rec.Column(3).(*array.Int32)
		offs, ok5 := rec.Column(4).(*array.Int64)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			return fmt.Errorf("unexpected column types %v", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if ids.IsNull(i) {
				continue
			}
			pos := dedup.Pos(e.sources.ID(topics.Value(i), parts.Value(i)), offs.Value(i))
			e.index.Add(dedup.Hash([]byte(ids.Value(i))), pos, time.UnixMicro(int64(times.Value(i))))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading ids committed to %s: %w", e.main.name, err)
	}
	e.seen = snap.SnapshotID
	e.index.Evict()
	return nil
}

// publishCompleteness mirrors the live sequence tracker into metrics.
func (e *engine) publishCompleteness() {
	if e.track == nil {
		return
	}
	st := e.track.Stats()
	prev := e.lastTrackerStats
	e.m.SequenceGaps.WithLabelValues(e.p.Name).Add(float64(st.Gaps - prev.Gaps))
	e.m.OutOfOrder.WithLabelValues(e.p.Name).Add(float64(st.OutOfOrder - prev.OutOfOrder))
	e.m.MissingRecords.WithLabelValues(e.p.Name).Set(float64(st.Missing))
	e.lastTrackerStats = st
}

// consumedOffsets copies the next offsets of the partitions that have a position.
func consumedOffsets(parts map[lake.TopicPartition]*partState) lake.Offsets {
	out := make(lake.Offsets, len(parts))
	for tp, st := range parts {
		if st.next >= 0 {
			out[tp] = st.next
		}
	}
	return out
}

func partLabel(p int32) string { return strconv.Itoa(int(p)) }
