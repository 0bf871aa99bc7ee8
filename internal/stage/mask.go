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

// filter returns rec without the dropped rows.
func (m *bitmask) filter(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	b := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer b.Release()
	for _, d := range m.dropped {
		b.Append(!d)
	}
	keep := b.NewBooleanArray()
	defer keep.Release()
	out, err := compute.FilterRecordBatch(ctx, rec, keep, compute.DefaultFilterOptions())
	if err != nil {
		return nil, fmt.Errorf("dropping duplicate rows: %w", err)
	}
	return out, nil
}
