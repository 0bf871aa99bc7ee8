package stage

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
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

// MainTableSpec is the Iceberg table a pipeline stages into: its columns plus the Kafka metadata columns.
func MainTableSpec(p *config.Pipeline) lake.TableSpec {
	spec := lake.TableSpec{Name: p.Table.Name}
	for _, c := range p.Table.Columns {
		spec.Columns = append(spec.Columns, lake.Column{Name: c.Name, Type: string(c.Type), Required: c.Required})
	}
	spec.Columns = append(spec.Columns, metaColumns...)
	for _, pf := range p.Table.Partitions {
		spec.Partitions = append(spec.Partitions, lake.Partition{Transform: pf.Transform, Column: pf.Column, Param: pf.Param})
	}
	return spec
}

// RejectedTableSpec is the table a pipeline's rejected records land in, with the raw bytes and the reason.
func RejectedTableSpec(p *config.Pipeline) lake.TableSpec {
	cols := append([]lake.Column{}, metaColumns...)
	cols = append(cols,
		lake.Column{Name: "key", Type: "binary"},
		lake.Column{Name: "value", Type: "binary"},
		lake.Column{Name: "reason_code", Type: "string", Required: true},
		lake.Column{Name: "reason", Type: "string", Required: true},
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
	name  string
	tbl   *table.Table
	rb    *array.RecordBuilder
	rows  int
	bytes int64
	// stored holds the next offset the table stores per partition, as of the last read or commit.
	stored lake.Offsets
	// skipBelow holds, per partition, the stored offset read when the partition was assigned: records below it
	// are already in the table and are not added again.
	skipBelow lake.Offsets

	// Builders of the metadata columns, and of the rejected table's own columns (nil on the main table).
	topic, reasonCode, reason *array.StringBuilder
	partition                 *array.Int32Builder
	offset                    *array.Int64Builder
	kafkaTS, ingestedAt       *array.TimestampBuilder
	key, value                *array.BinaryBuilder
	cols                      []appender // main table: one per configured column
	extra                     []array.Builder
}

func newSink(tbl *table.Table, cols []config.Column) (*sink, error) {
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
			return nil, fmt.Errorf("table %s has no column %q; change the table or the config (schema evolution is not supported yet)", name, col)
		}
		used[idx[0]] = true
		return s.rb.Field(idx[0]), nil
	}
	for _, c := range cols {
		b, err := field(c.Name)
		if err != nil {
			return nil, err
		}
		if want, err := lake.IcebergType(string(c.Type)); err == nil {
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
	if cols == nil {
		assign = append(assign, []struct {
			name string
			dst  any
		}{{"key", &s.key}, {"value", &s.value}, {"reason_code", &s.reasonCode}, {"reason", &s.reason}}...)
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

func (s *sink) addMeta(r *kgo.Record, ingestedAt int64) {
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
	s.bytes += int64(len(r.Value) + len(r.Key))
}

// addRow appends a decoded record to the main table's buffer.
func (s *sink) addRow(r *kgo.Record, vals []value, ingestedAt int64) {
	for i, app := range s.cols {
		app(&vals[i])
	}
	s.addMeta(r, ingestedAt)
}

// addRejected appends a record that failed decoding to the rejected table's buffer.
func (s *sink) addRejected(r *kgo.Record, rej *Rejection, ingestedAt int64) {
	if r.Key == nil {
		s.key.AppendNull()
	} else {
		s.key.Append(r.Key)
	}
	if r.Value == nil {
		s.value.AppendNull()
	} else {
		s.value.Append(r.Value)
	}
	s.reasonCode.Append(rej.Code)
	s.reason.Append(rej.Reason)
	s.addMeta(r, ingestedAt)
}

// seal hands out the buffered rows as one record batch and starts an empty buffer sized like the last one.
func (s *sink) seal() (arrow.RecordBatch, int) {
	rec, rows := s.rb.NewRecordBatch(), s.rows
	s.rows, s.bytes = 0, 0
	if rows > 0 {
		s.rb.Reserve(rows)
	}
	return rec, rows
}

// discard drops the buffered rows.
func (s *sink) discard() {
	rec, _ := s.seal()
	rec.Release()
}

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

// commit writes rec's rows and commits them with the offsets consumed up to the end of the batch.
func (s *sink) commit(ctx context.Context, pipeline string, rec arrow.RecordBatch, consumed lake.Offsets) (conflicts int, err error) {
	from, next := s.progress(consumed)
	if len(next) == 0 && rec.NumRows() == 0 {
		return 0, nil
	}
	files, err := lake.WriteFiles(ctx, s.tbl, rec)
	if err != nil {
		return 0, err
	}
	res, err := lake.Commit(ctx, s.tbl, lake.Batch{
		Pipeline: pipeline,
		Files:    files,
		From:     from,
		Next:     next,
		Summary:  map[string]string{"bigfather.pipeline": pipeline},
	})
	if err != nil {
		return res.Conflicts, err
	}
	s.tbl = res.Table
	for tp, off := range next {
		s.stored[tp] = off
	}
	return res.Conflicts, nil
}
