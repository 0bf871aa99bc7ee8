package stage

import (
	"context"
	"fmt"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/dedup"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/row"
)

// Kafka metadata columns every staged row carries (DESIGN.md).
var metaColumns = []lake.Column{
	{Name: "_topic", Type: "string", Required: true},
	{Name: "_partition", Type: "int", Required: true},
	{Name: "_offset", Type: "long", Required: true},
	{Name: "_kafka_timestamp", Type: "timestamp"},
	{Name: "_ingested_at", Type: "timestamp", Required: true},
}

// RejectedSuffix names a pipeline's rejected-records table: <table>_rejected.
const RejectedSuffix = "_rejected"

// RejectedTableSpec is the table a pipeline's rejected records land in, with the raw bytes and the reason.
func RejectedTableSpec(p *config.Pipeline) lake.TableSpec {
	cols := append([]lake.Column{}, metaColumns...)
	cols = append(cols,
		lake.Column{Name: "key", Type: "binary"},
		lake.Column{Name: "value", Type: "binary"},
		lake.Column{Name: "reason_code", Type: "string", Required: true},
		lake.Column{Name: "reason", Type: "string", Required: true},
		lake.Column{Name: "field", Type: "string"},
	)
	return lake.TableSpec{
		Name:       p.Table.Name + RejectedSuffix,
		Columns:    cols,
		Partitions: []lake.Partition{{Transform: "day", Column: "_kafka_timestamp"}},
	}
}

// sink buffers the rows bound for one table. The poll loop owns the builders, rows, bytes and skipBelow; the
// committer owns tbl and stored. The two meet only while the committer is drained (worker.drain), so the
// channel hand-off orders every access.
type sink struct {
	name string
	own  lake.Ownership // the pipeline's terms of ownership of the table, checked at every commit
	tbl  *table.Table
	// The buffered rows: chunks of chunkRows rows, then the builder of the next chunk.
	chunks []arrow.RecordBatch
	rb     *array.RecordBuilder
	rows   int // in the chunks and the builder
	inRB   int // in the builder
	bytes  int64
	// stored holds the next offset the table stores per partition, as of the last read or commit.
	stored lake.Offsets
	// skipBelow holds, per partition, the stored offset read when the partition was assigned: records below it
	// are already in the table and are not added again.
	skipBelow lake.Offsets

	// Builders of the metadata columns, and of the rejected table's own columns (nil on the main table).
	topic, reasonCode, reason, field *array.StringBuilder
	partition                        *array.Int32Builder
	offset                           *array.Int64Builder
	kafkaTS, ingestedAt              *array.TimestampBuilder
	key, value                       *array.BinaryBuilder
	cols                             []appender // main table: one per configured column
	extra                            []array.Builder

	// With dedup, the id hash, source position and event time of every buffered row, in row order, so the
	// committer can drop rows another writer committed first.
	keys []rowKey
	// newestEvent is the largest event time committed so far (microseconds), owned by the committer.
	newestEvent int64
}

// rowKey identifies a buffered row for dedup.
type rowKey struct {
	hash uint64
	pos  dedup.Position
	time int64 // event time, µs
}

// newSink builds the sink of a staged table with cols, or, when rejected, of a rejected-records table.
func newSink(tbl *table.Table, cols []config.Column, rejected bool) (*sink, error) {
	if rejected {
		cols = nil
	}
	name := tbl.Identifier()[0] + "." + tbl.Identifier()[1]
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("table %s: arrow schema: %w", name, err)
	}
	s := &sink{name: name, tbl: tbl, rb: array.NewRecordBuilder(memory.DefaultAllocator, sc), stored: lake.Offsets{}, skipBelow: lake.Offsets{}}
	used := make([]bool, len(sc.Fields()))
	field := func(col string) (array.Builder, error) {
		idx := sc.FieldIndices(col)
		if len(idx) == 0 {
			return nil, fmt.Errorf("table %s has no column %q, and a required column cannot be added to an existing table; make it optional or use a new table", name, col)
		}
		used[idx[0]] = true
		return s.rb.Field(idx[0]), nil
	}
	for _, c := range cols {
		b, err := field(c.Name)
		if err != nil {
			return nil, err
		}
		if want, err := lake.IcebergType(string(c.Type)); err == nil { // nested types come from the table itself
			if got := tbl.Schema().Field(idx(sc, c.Name)).Type; !got.Equals(want) {
				return nil, fmt.Errorf("table %s: column %q is %s in the table but %s in the config", name, c.Name, got, c.Type)
			}
		}
		s.cols = append(s.cols, newAppender(b, c.Type))
	}
	assign := []struct {
		name string
		dst  any
	}{
		{"_topic", &s.topic}, {"_partition", &s.partition}, {"_offset", &s.offset},
		{"_kafka_timestamp", &s.kafkaTS}, {"_ingested_at", &s.ingestedAt},
	}
	if rejected {
		assign = append(assign, []struct {
			name string
			dst  any
		}{{"key", &s.key}, {"value", &s.value}, {"reason_code", &s.reasonCode}, {"reason", &s.reason}, {"field", &s.field}}...)
	}
	for _, a := range assign {
		b, err := field(a.name)
		if err != nil {
			return nil, err
		}
		if err := setBuilder(a.dst, b); err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", name, a.name, err)
		}
	}
	for i, u := range used {
		if !u {
			if !sc.Field(i).Nullable {
				return nil, fmt.Errorf("table %s has required column %q that the config does not declare", name, sc.Field(i).Name)
			}
			s.extra = append(s.extra, s.rb.Field(i))
		}
	}
	return s, nil
}

func idx(sc *arrow.Schema, name string) int { return sc.FieldIndices(name)[0] }

func setBuilder(dst any, b array.Builder) error {
	ok := false
	switch d := dst.(type) {
	case **array.StringBuilder:
		*d, ok = b.(*array.StringBuilder)
	case **array.Int32Builder:
		*d, ok = b.(*array.Int32Builder)
	case **array.Int64Builder:
		*d, ok = b.(*array.Int64Builder)
	case **array.TimestampBuilder:
		*d, ok = b.(*array.TimestampBuilder)
	case **array.BinaryBuilder:
		*d, ok = b.(*array.BinaryBuilder)
	}
	if !ok {
		return fmt.Errorf("unexpected arrow builder %T", b)
	}
	return nil
}

func (s *sink) addMeta(r *row.Meta, size int, ingestedAt int64) {
	s.topic.Append(r.Topic)
	s.partition.Append(r.Partition)
	s.offset.Append(r.Offset)
	if r.Timestamp.IsZero() {
		s.kafkaTS.AppendNull()
	} else {
		s.kafkaTS.Append(arrow.Timestamp(r.Timestamp.UnixMicro()))
	}
	s.ingestedAt.Append(arrow.Timestamp(ingestedAt))
	for _, b := range s.extra {
		b.AppendNull()
	}
	s.rows++
	s.inRB++
	s.bytes += int64(size)
	if s.inRB == chunkRows {
		s.cut(true)
	}
}

// chunkRows is how many rows a sink buffers per Arrow record batch. A batch grows chunk by chunk, so its memory
// follows its rows and no buffer is ever copied to grow past a batch's worth of rows.
const chunkRows = 32 << 10

// cut ends the builder's chunk. With next, it sizes the builder for a chunk like this one (an eighth more room
// for strings), so the next chunk fills without growing a buffer.
func (s *sink) cut(next bool) {
	if s.inRB == 0 {
		return
	}
	var data []int
	if next {
		for _, b := range s.rb.Fields() {
			if v, ok := b.(interface{ DataLen() int }); ok {
				data = append(data, v.DataLen())
			}
		}
	}
	s.chunks = append(s.chunks, s.rb.NewRecordBatch())
	s.inRB = 0
	if !next {
		return
	}
	s.rb.Reserve(chunkRows)
	i := 0
	for _, b := range s.rb.Fields() {
		if v, ok := b.(interface{ ReserveData(int) }); ok {
			v.ReserveData(data[i] + data[i]/8)
			i++
		}
	}
}

// addRow appends a checked record to a table's buffer; key is its dedup identity (ignored without dedup).
func (s *sink) addRow(meta *row.Meta, size int, vals []row.Value, ingestedAt int64, key *rowKey) {
	for i, app := range s.cols {
		app(&vals[i])
	}
	s.addMeta(meta, size, ingestedAt)
	if key != nil {
		s.keys = append(s.keys, *key)
	}
}

// addRejected appends a record that failed its checks to the rejected table's buffer.
func (s *sink) addRejected(meta *row.Meta, value []byte, code, reason, field string, ingestedAt int64) {
	if meta.Key == nil {
		s.key.AppendNull()
	} else {
		s.key.Append(meta.Key)
	}
	if value == nil {
		s.value.AppendNull()
	} else {
		s.value.Append(value)
	}
	s.reasonCode.Append(code)
	s.reason.Append(reason)
	if field == "" {
		s.field.AppendNull()
	} else {
		s.field.Append(field)
	}
	s.addMeta(meta, len(value)+len(meta.Key), ingestedAt)
}

// sealed is one table's part of a batch.
type sealed struct {
	recs []arrow.RecordBatch // the rows, in chunks
	rows int64
	keys []rowKey // with dedup: one per row
}

func (b sealed) release() {
	for _, r := range b.recs {
		r.Release()
	}
}

// newest returns the largest value of a timestamp column (microseconds), false when the column is "" or has
// no value.
func (b sealed) newest(column string) (int64, bool) {
	var best int64
	found := false
	b.eachTimestamp(column, func(v int64) {
		if !found || v > best {
			best, found = v, true
		}
	})
	return best, found
}

// eachTimestamp calls f with every non-null value of a timestamp column, in microseconds.
func (b sealed) eachTimestamp(column string, f func(int64)) {
	if column == "" {
		return
	}
	for _, r := range b.recs {
		idx := r.Schema().FieldIndices(column)
		if len(idx) == 0 {
			return
		}
		col, ok := r.Column(idx[0]).(*array.Timestamp)
		if !ok {
			return
		}
		for i, v := range col.Values() {
			if col.IsValid(i) {
				f(int64(v))
			}
		}
	}
}

// seal hands out the buffered rows; the sink starts empty.
func (s *sink) seal() sealed {
	s.cut(false)
	out := sealed{recs: s.chunks, rows: int64(s.rows), keys: s.keys}
	if len(out.recs) == 0 {
		out.recs = []arrow.RecordBatch{s.rb.NewRecordBatch()} // empty, with the schema
	}
	s.chunks, s.rows, s.bytes, s.keys = nil, 0, 0, nil
	return out
}

// discard drops the buffered rows.
func (s *sink) discard() { s.seal().release() }

// progress returns, for the partitions whose consumed position passed what the table stores, the offsets the
// table stores now (from) and the ones to store (next).
func (s *sink) progress(consumed lake.Offsets) (from, next lake.Offsets) {
	from, next = lake.Offsets{}, lake.Offsets{}
	for tp, n := range consumed {
		stored := s.stored.Get(tp)
		if n > stored {
			from[tp], next[tp] = stored, n
		}
	}
	return from, next
}

// commitOptions carry what a commit needs beyond the rows.
type commitOptions struct {
	pipeline string
	writer   string
	// before runs at every attempt with the table as it is now (dedup folds in other writers' ids there).
	before func(ctx context.Context, t *table.Table) error
	// keep, with dedup, decides per row at every attempt whether it stays; rows it drops are not written.
	keep func(k rowKey) bool
	// after runs once the commit succeeded, with the rows' keys and the mask of dropped rows (nil: none).
	after func(t *table.Table, keys []rowKey, dropped *bitmask)
	// newestEvent is the batch's largest event time in microseconds (0: none), recorded in the snapshot's
	// summary so that any process can tell how recent a table's events are.
	newestEvent int64
}

// commit writes b's rows and commits them with the offsets consumed up to the end of the batch. It returns
// the rows committed and the rows dedup dropped.
// committed is what one sink commit did.
type committed struct {
	rows, dropped int64
	conflicts     int
	// fileSizes are the sizes of the data files the commit added, in bytes.
	fileSizes []int64
	// done says whether a commit happened (rows or offsets); false when there was nothing to commit.
	done bool
}

func (s *sink) commit(ctx context.Context, o commitOptions, b sealed, consumed lake.Offsets) (out committed, err error) {
	from, next := s.progress(consumed)
	if len(next) == 0 && b.rows == 0 {
		return out, nil
	}
	var rows, dropped int64
	var files []iceberg.DataFile
	var written *bitmask // the rows the current files hold; nil: all
	prepare := func(ctx context.Context, t *table.Table) ([]iceberg.DataFile, error) {
		if o.before != nil {
			if err := o.before(ctx, t); err != nil {
				return nil, err
			}
		}
		mask := keepMask(b, o.keep)
		if files != nil && mask.equal(written) {
			return files, nil
		}
		recs, kept := b.recs, b.rows
		if mask != nil {
			if recs, err = mask.filter(ctx, b.recs); err != nil {
				return nil, err
			}
			defer sealed{recs: recs}.release()
			kept = b.rows - int64(mask.n)
		}
		if files, err = lake.WriteFiles(ctx, t, recs...); err != nil {
			return nil, err
		}
		written, rows, dropped = mask, kept, b.rows-kept
		return files, nil
	}
	res, err := lake.Commit(ctx, s.tbl, lake.Batch{
		Pipeline: o.pipeline,
		Shared:   s.own.Shared,
		Route:    s.own.Route,
		From:     from,
		Next:     next,
		Summary:  summary(o),
		Prepare:  prepare,
	})
	if err != nil {
		return committed{conflicts: res.Conflicts}, err
	}
	s.tbl = res.Table
	for tp, off := range next {
		s.stored[tp] = off
	}
	if o.after != nil {
		o.after(res.Table, b.keys, written)
	}
	out = committed{rows: rows, dropped: dropped, conflicts: res.Conflicts, done: true}
	for _, f := range files {
		out.fileSizes = append(out.fileSizes, f.FileSizeBytes())
	}
	return out, nil
}

// summary is the snapshot summary of a staging commit.
func summary(o commitOptions) iceberg.Properties {
	props := iceberg.Properties{lake.PipelineProperty: o.pipeline, lake.WriterProperty: o.writer}
	if o.newestEvent != 0 {
		props[lake.NewestEventProperty] = strconv.FormatInt(o.newestEvent, 10)
	}
	return props
}

// keepMask asks keep about every row of b; nil means keep all (also when there is no dedup).
func keepMask(b sealed, keep func(rowKey) bool) *bitmask {
	if keep == nil || len(b.keys) == 0 {
		return nil
	}
	var m *bitmask
	for i, k := range b.keys {
		if !keep(k) {
			if m == nil {
				m = newBitmask(len(b.keys))
			}
			m.drop(i)
		}
	}
	return m
}

// appender writes decoded values into the arrow builders of one record batch.
type appender func(v *row.Value)

func newAppender(b array.Builder, typ config.ColumnType) appender {
	switch bb := b.(type) {
	case *array.StringBuilder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.BinaryBuilder.Append(v.S)
			}
		}
	case *array.Int64Builder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(v.I)
			}
		}
	case *array.Int32Builder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(int32(v.I))
			}
		}
	case *array.Float64Builder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(v.F)
			}
		}
	case *array.Float32Builder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(float32(v.F))
			}
		}
	case *array.BooleanBuilder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(v.I != 0)
			}
		}
	case *array.TimestampBuilder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(arrow.Timestamp(v.I))
			}
		}
	case *array.Date32Builder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(arrow.Date32(v.I))
			}
		}
	case *array.BinaryBuilder:
		return func(v *row.Value) {
			if v.Null {
				bb.AppendNull()
			} else {
				bb.Append(v.S)
			}
		}
	case *array.Decimal128Builder, *array.StructBuilder, *array.ListBuilder, *array.MapBuilder:
		return func(v *row.Value) {
			if v.Null {
				b.AppendNull()
			} else {
				appendNested(b, v.N)
			}
		}
	}
	panic(fmt.Sprintf("stage: no appender for column type %s (builder %T)", typ, b))
}

// appendNested appends a row.Nested tree, checked against the column's type when it was coerced.
func appendNested(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.StructBuilder:
		fields := v.([]any)
		bb.Append(true)
		for i, f := range fields {
			appendNested(bb.FieldBuilder(i), f)
		}
	case *array.MapBuilder: // before ListBuilder: a map builder is a list of entries
		kv := v.([]any)
		bb.Append(true)
		for i := 0; i < len(kv); i += 2 {
			appendNested(bb.KeyBuilder(), kv[i])
			appendNested(bb.ItemBuilder(), kv[i+1])
		}
	case *array.ListBuilder:
		bb.Append(true)
		for _, e := range v.([]any) {
			appendNested(bb.ValueBuilder(), e)
		}
	case *array.Decimal128Builder:
		bb.Append(decimal128.FromBigInt(v.(*big.Int)))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder:
		bb.Append(v.([]byte))
	case *array.Int32Builder:
		bb.Append(int32(v.(int64)))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Float32Builder:
		bb.Append(float32(v.(float64)))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(int64)))
	case *array.Date32Builder:
		bb.Append(arrow.Date32(v.(int64)))
	default:
		panic(fmt.Sprintf("stage: no nested appender for builder %T", b))
	}
}
