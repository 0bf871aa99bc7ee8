package stage

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bitmask marks the rows of a batch that dedup dropped.
type bitmask struct {
	dropped []bool
	n       int
}

func newBitmask(rows int) *bitmask { return &bitmask{dropped: make([]bool, rows)} }

func (m *bitmask) drop(i int) {
	if !m.dropped[i] {
		m.dropped[i] = true
		m.n++
	}
}

// equal compares two masks; nil keeps every row.
func (m *bitmask) equal(o *bitmask) bool {
	if m == nil || o == nil {
		return (m == nil || m.n == 0) && (o == nil || o.n == 0)
	}
	if m.n != o.n {
		return false
	}
	for i := range m.dropped {
		if m.dropped[i] != o.dropped[i] {
			return false
		}
	}
	return true
}

// filter returns the chunks of a batch without the dropped rows (the mask numbers the rows across chunks).
func (m *bitmask) filter(ctx context.Context, recs []arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	out := make([]arrow.RecordBatch, 0, len(recs))
	off := 0
	for _, rec := range recs {
		n := int(rec.NumRows())
		b := array.NewBooleanBuilder(memory.DefaultAllocator)
		b.Reserve(n)
		for _, d := range m.dropped[off : off+n] {
			b.UnsafeAppend(!d)
		}
		off += n
		keep := b.NewBooleanArray()
		b.Release()
		kept, err := compute.FilterRecordBatch(ctx, rec, keep, compute.DefaultFilterOptions())
		keep.Release()
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			return nil, fmt.Errorf("dropping duplicate rows: %w", err)
		}
		out = append(out, kept)
	}
	return out, nil
}
