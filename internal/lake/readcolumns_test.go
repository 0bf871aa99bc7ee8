package lake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/bigfather/bigfather/internal/lake"
)

// TestReadColumnsNested: columns named after nested ones (a struct, a list, a map: several Parquet leaves
// each) are read by name, in the order asked, whatever the file's order.
func TestReadColumnsNested(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "geo", Type: arrow.StructOf(arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64}, arrow.Field{Name: "lon", Type: arrow.PrimitiveTypes.Float64}), Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := range 3 {
		geo := b.Field(0).(*array.StructBuilder)
		geo.Append(true)
		geo.FieldBuilder(0).(*array.Float64Builder).Append(1)
		geo.FieldBuilder(1).(*array.Float64Builder).Append(2)
		tags := b.Field(1).(*array.ListBuilder)
		tags.Append(true)
		tags.ValueBuilder().(*array.StringBuilder).Append("x")
		attrs := b.Field(2).(*array.MapBuilder)
		attrs.Append(true)
		attrs.KeyBuilder().(*array.StringBuilder).Append("k")
		attrs.ItemBuilder().(*array.Int64Builder).Append(int64(i))
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("id-%d", i))
		b.Field(4).(*array.Int64Builder).Append(int64(10 * i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "f.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = lake.ReadColumns(context.Background(), []string{path}, []string{"n", "id"}, func(r arrow.RecordBatch) error {
		ns, ids := r.Column(0).(*array.Int64), r.Column(1).(*array.String)
		for i := range int(r.NumRows()) {
			got = append(got, fmt.Sprintf("%s=%d", ids.Value(i), ns.Value(i)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[id-0=0 id-1=10 id-2=20]" {
		t.Errorf("read %v", got)
	}
	if err := lake.ReadColumns(context.Background(), []string{path}, []string{"nope"}, func(arrow.RecordBatch) error { return nil }); err == nil ||
		err.Error() != fmt.Sprintf("reading %s: no column \"nope\"", path) {
		t.Errorf("missing column: %v", err)
	}
}
