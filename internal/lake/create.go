package lake

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Column describes one table column: a name, a Big Father type name (string, long, int, double, float, boolean,
// timestamp, date, binary) and whether it is required.
type Column struct {
	Name     string
	Type     string
	Required bool
}

// Partition is one partition field: a transform (identity, year, month, day, hour, bucket, truncate) over a
// column; Param is the bucket count or truncate width.
type Partition struct {
	Transform string
	Column    string
	Param     int
}

// TableSpec is what a table must look like when it is first created, and who writes it.
type TableSpec struct {
	Name string // namespace.table
	// Fields are columns given as Iceberg fields (nested types allowed; ids are reassigned), placed before
	// Columns when the table is created: the columns a registry schema derives.
	Fields     []iceberg.NestedField
	Columns    []Column
	Partitions []Partition
	// Owner is the pipeline that writes the table; EnsureTable records it and refuses a table another
	// pipeline owns and does not share with it. Zero: no ownership is checked or recorded.
	Owner Ownership
}

// IcebergType maps a Big Father column type to its Iceberg type.
func IcebergType(name string) (iceberg.Type, error) {
	switch name {
	case "string":
		return iceberg.PrimitiveTypes.String, nil
	case "long":
		return iceberg.PrimitiveTypes.Int64, nil
	case "int":
		return iceberg.PrimitiveTypes.Int32, nil
	case "double":
		return iceberg.PrimitiveTypes.Float64, nil
	case "float":
		return iceberg.PrimitiveTypes.Float32, nil
	case "boolean":
		return iceberg.PrimitiveTypes.Bool, nil
	case "timestamp":
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case "date":
		return iceberg.PrimitiveTypes.Date, nil
	case "binary":
		return iceberg.PrimitiveTypes.Binary, nil
	}
	var p, sc int
	if n, err := fmt.Sscanf(name, "decimal(%d,%d)", &p, &sc); err == nil && n == 2 && fmt.Sprintf("decimal(%d,%d)", p, sc) == name {
		if p < 1 || p > 38 || sc < 0 || sc > p {
			return nil, fmt.Errorf("column type %q: expected a precision of 1 to 38 and a scale of 0 to the precision", name)
		}
		return iceberg.DecimalTypeOf(p, sc), nil
	}
	return nil, fmt.Errorf("unknown column type %q", name)
}

// TypeName is the Big Father type name of an Iceberg type: the names IcebergType reads for primitives and
// decimals, and Iceberg's own notation for nested types (which IcebergType does not read).
func TypeName(t iceberg.Type) string {
	switch t := t.(type) {
	case iceberg.StringType:
		return "string"
	case iceberg.Int64Type:
		return "long"
	case iceberg.Int32Type:
		return "int"
	case iceberg.Float64Type:
		return "double"
	case iceberg.Float32Type:
		return "float"
	case iceberg.BooleanType:
		return "boolean"
	case iceberg.TimestampTzType:
		return "timestamp"
	case iceberg.DateType:
		return "date"
	case iceberg.BinaryType:
		return "binary"
	case iceberg.DecimalType:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision(), t.Scale())
	}
	return t.String()
}

func (s TableSpec) schema() (*iceberg.Schema, error) {
	fields := make([]iceberg.NestedField, 0, len(s.Fields)+len(s.Columns))
	for _, f := range s.Fields {
		f.ID = 0 // reassigned below
		fields = append(fields, f)
	}
	for _, c := range s.Columns {
		typ, err := IcebergType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		fields = append(fields, iceberg.NestedField{Name: c.Name, Type: typ, Required: c.Required})
	}
	return iceberg.AssignFreshSchemaIDs(iceberg.NewSchema(0, fields...), nil)
}

func (s TableSpec) partitionSpec(sc *iceberg.Schema) (*iceberg.PartitionSpec, error) {
	fields := make([]iceberg.PartitionField, 0, len(s.Partitions))
	for i, p := range s.Partitions {
		src, ok := sc.FindFieldByName(p.Column)
		if !ok {
			return nil, fmt.Errorf("partition %s(%s): no such column", p.Transform, p.Column)
		}
		var tr iceberg.Transform
		name := p.Column + "_" + p.Transform
		switch p.Transform {
		case "identity":
			tr, name = iceberg.IdentityTransform{}, p.Column
		case "year":
			tr = iceberg.YearTransform{}
		case "month":
			tr = iceberg.MonthTransform{}
		case "day":
			tr = iceberg.DayTransform{}
		case "hour":
			tr = iceberg.HourTransform{}
		case "bucket":
			tr = iceberg.BucketTransform{NumBuckets: p.Param}
		case "truncate":
			tr = iceberg.TruncateTransform{Width: p.Param}
		default:
			return nil, fmt.Errorf("unknown partition transform %q", p.Transform)
		}
		fields = append(fields, iceberg.PartitionField{SourceIDs: []int{src.ID}, FieldID: 1000 + i, Name: name, Transform: tr})
	}
	spec := iceberg.NewPartitionSpec(fields...)
	return &spec, nil
}

// tableProperties keep metadata growth bounded on long-running pipelines and keep library-level commit retries
// off: the stage worker owns conflict handling (DESIGN.md, exactly-once step 3).
var tableProperties = iceberg.Properties{
	"write.metadata.delete-after-commit.enabled": "true",
	"write.metadata.previous-versions-max":       "50",
	"commit.retry.num-retries":                   "0",
	"write.parquet.compression-codec":            "zstd",
	"write.parquet.compression-level":            "1", // zstd's fastest encoder: staging is CPU-bound
	"write.target-file-size-bytes":               "268435456",
	"format-version":                             "2",
}

// EnsureTable loads the table named in spec, creating its namespace and the table on first use. Two processes
// racing to create it both end up with the one table. With spec.Owner set, a table another pipeline owns and
// does not share is refused with an *OwnerError before anything about it changes; a new table records its
// owner, and an existing one without an owner is claimed.
func (l *Lake) EnsureTable(ctx context.Context, spec TableSpec) (*table.Table, error) {
	ident := Ident(spec.Name)
	if len(ident) != 2 {
		return nil, fmt.Errorf("table name %q: expected namespace.table", spec.Name)
	}
	t, err := l.cat.LoadTable(ctx, ident)
	if err == nil {
		if t, err = l.claim(ctx, t, spec.Name, spec.Owner); err != nil {
			return nil, err
		}
		return l.addMissingColumns(ctx, t, spec)
	}
	if !errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, fmt.Errorf("loading table %s: %w", spec.Name, err)
	}
	sc, err := spec.schema()
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", spec.Name, err)
	}
	ps, err := spec.partitionSpec(sc)
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", spec.Name, err)
	}
	ns := ident[:1]
	if err := l.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("creating namespace %s: %w", ns[0], err)
	}
	props := maps.Clone(tableProperties)
	if spec.Owner.Pipeline != "" {
		maps.Copy(props, spec.Owner.properties())
	}
	t, err = l.cat.CreateTable(ctx, ident, sc, catalog.WithPartitionSpec(ps), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		// Another process created it first: it is an existing table now.
		return l.EnsureTable(ctx, spec)
	}
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", spec.Name, err)
	}
	return t, nil
}

// addMissingColumns evolves an existing table by adding the optional columns of spec it lacks (new derived
// columns, a new definition's fields). A missing required column, or a type change, is left to the caller,
// which reports it.
func (l *Lake) addMissingColumns(ctx context.Context, t *table.Table, spec TableSpec) (*table.Table, error) {
	var missing []Column
	for _, c := range spec.Columns {
		if _, ok := t.Schema().FindFieldByName(c.Name); !ok && !c.Required {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return t, nil
	}
	txn := t.NewTransaction()
	upd := txn.UpdateSchema(true, false)
	for _, c := range missing {
		typ, err := IcebergType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("evolving table %s: column %s: %w", spec.Name, c.Name, err)
		}
		upd = upd.AddColumn([]string{c.Name}, typ, "", false, nil)
	}
	if err := upd.Commit(); err != nil {
		return nil, fmt.Errorf("evolving table %s: %w", spec.Name, err)
	}
	nt, err := txn.Commit(ctx)
	if err != nil {
		// Another process may have added them first; any other failure is one.
		if t2, lerr := l.cat.LoadTable(ctx, Ident(spec.Name)); lerr == nil && hasColumns(t2, missing) {
			return t2, nil
		}
		return nil, fmt.Errorf("evolving table %s: %w", spec.Name, err)
	}
	return nt, nil
}

func hasColumns(t *table.Table, cols []Column) bool {
	for _, c := range cols {
		if _, ok := t.Schema().FindFieldByName(c.Name); !ok {
			return false
		}
	}
	return true
}
