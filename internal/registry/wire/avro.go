package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/hamba/avro/v2"
)

// avroDecoder decodes Avro binary payloads by walking the writer's schema.
type avroDecoder struct {
	schema *avro.RecordSchema
	fields []iceberg.NestedField
}

func newAvro(s avro.Schema) (*avroDecoder, error) {
	rec, ok := derefAvro(s).(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("the schema is an Avro %s, expected a record", s.Type())
	}
	d := &avroDecoder{schema: rec}
	n := &ids{}
	for _, f := range rec.Fields() {
		t, err := avroType(f.Type(), n, f.Name(), []string{rec.FullName()})
		if err != nil {
			return nil, err
		}
		d.fields = append(d.fields, optional(n, f.Name(), t, f.Doc()))
	}
	return d, nil
}

func (d *avroDecoder) Fields() []iceberg.NestedField { return d.fields }

func derefAvro(s avro.Schema) avro.Schema {
	for {
		r, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = r.Schema()
	}
}

func logicalOf(s avro.Schema) avro.LogicalSchema {
	if l, ok := s.(avro.LogicalTypeSchema); ok {
		return l.Logical()
	}
	return nil
}

// avroType is the Iceberg type of an Avro schema; path names the field for errors, and seen holds the records
// being derived, to refuse a record that contains itself (a column's type is finite).
func avroType(s avro.Schema, n *ids, path string, seen []string) (iceberg.Type, error) {
	s = derefAvro(s)
	if s.Type() == avro.Null {
		return nil, fmt.Errorf("field %s: a null type alone cannot be a column", path)
	}
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Date:
			return iceberg.PrimitiveTypes.Date, nil
		case avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
			return iceberg.PrimitiveTypes.TimestampTz, nil
		case avro.TimeMillis, avro.TimeMicros:
			return iceberg.PrimitiveTypes.Int64, nil
		case avro.UUID:
			return iceberg.PrimitiveTypes.String, nil
		case avro.Decimal:
			d := l.(*avro.DecimalLogicalSchema)
			if d.Precision() > 38 {
				return nil, fmt.Errorf("field %s: decimal precision %d is over Iceberg's 38", path, d.Precision())
			}
			return iceberg.DecimalTypeOf(d.Precision(), d.Scale()), nil
		}
	}
	switch s := s.(type) {
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			return iceberg.PrimitiveTypes.Bool, nil
		case avro.Int:
			return iceberg.PrimitiveTypes.Int32, nil
		case avro.Long:
			return iceberg.PrimitiveTypes.Int64, nil
		case avro.Float:
			return iceberg.PrimitiveTypes.Float32, nil
		case avro.Double:
			return iceberg.PrimitiveTypes.Float64, nil
		case avro.String:
			return iceberg.PrimitiveTypes.String, nil
		case avro.Bytes:
			return iceberg.PrimitiveTypes.Binary, nil
		}
	case *avro.FixedSchema:
		return iceberg.PrimitiveTypes.Binary, nil
	case *avro.EnumSchema:
		return iceberg.PrimitiveTypes.String, nil
	case *avro.RecordSchema:
		if slices.Contains(seen, s.FullName()) {
			return nil, fmt.Errorf("field %s: record %s contains itself, which a table column cannot", path, s.FullName())
		}
		seen = append(seen[:len(seen):len(seen)], s.FullName())
		st := &iceberg.StructType{}
		for _, f := range s.Fields() {
			t, err := avroType(f.Type(), n, path+"."+f.Name(), seen)
			if err != nil {
				return nil, err
			}
			st.FieldList = append(st.FieldList, optional(n, f.Name(), t, f.Doc()))
		}
		return st, nil
	case *avro.ArraySchema:
		t, err := avroType(s.Items(), n, path+"[]", seen)
		if err != nil {
			return nil, err
		}
		return &iceberg.ListType{ElementID: n.id(), Element: t}, nil
	case *avro.MapSchema:
		t, err := avroType(s.Values(), n, path+"{}", seen)
		if err != nil {
			return nil, err
		}
		return &iceberg.MapType{KeyID: n.id(), KeyType: iceberg.PrimitiveTypes.String, ValueID: n.id(), ValueType: t}, nil
	case *avro.UnionSchema:
		if only := nonNull(s); only != nil {
			return avroType(only, n, path, seen)
		}
		if len(s.Types()) <= 1 {
			return nil, fmt.Errorf("field %s: a null type alone cannot be a column", path)
		}
		return iceberg.PrimitiveTypes.String, nil // several types: the value as JSON text
	}
	return nil, fmt.Errorf("field %s: Avro type %s cannot be a column", path, s.Type())
}

// nonNull returns the one non-null type of a union, or nil when it has several.
func nonNull(u *avro.UnionSchema) avro.Schema {
	var only avro.Schema
	for _, t := range u.Types() {
		if t.Type() == avro.Null {
			continue
		}
		if only != nil {
			return nil
		}
		only = t
	}
	return only
}

// Decode reads the fields of the writer's record in order. A payload that ends early, or whose lengths, counts,
// union branches or enum indexes are out of range, is an error naming the field.
func (d *avroDecoder) Decode(rest []byte) (map[string]any, error) {
	rd := &avroReading{r: avro.NewReader(nil, 0).Reset(rest), size: len(rest)}
	out := make(map[string]any, len(d.schema.Fields()))
	for _, f := range d.schema.Fields() {
		v, err := rd.read(f.Type(), f.Name())
		if err != nil {
			return nil, err
		}
		out[f.Name()] = v
	}
	return out, nil
}

// avroReading is the state of one Decode: the reader over the payload and the payload's size, which bounds
// the item counts of arrays and maps.
type avroReading struct {
	r    *avro.Reader
	size int
}

// maxEmptyItems bounds the items of an array whose items take no bytes (records without fields, fixed of size
// 0): no payload size bounds their count.
const maxEmptyItems = 1 << 16

// read reads one value of schema s; path names it for errors. An error of the reader (the payload ends, a
// length is negative) is reported at the innermost value it happened in.
func (rd *avroReading) read(s avro.Schema, path string) (any, error) {
	if rd.r.Error != nil {
		return nil, avroReadError(path, rd.r.Error)
	}
	v, err := rd.value(derefAvro(s), path)
	if err != nil {
		return nil, err
	}
	if rd.r.Error != nil {
		return nil, avroReadError(path, rd.r.Error)
	}
	return v, nil
}

func avroReadError(path string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("field %s: the Avro payload ends before the value", path)
	}
	return fmt.Errorf("field %s: %v", path, err)
}

// blockCount reads the item count of the next block of an array or a map; 0 ends the value.
func (rd *avroReading) blockCount(path string, items avro.Schema) (int64, error) {
	n, _ := rd.r.ReadBlockHeader()
	if rd.r.Error != nil {
		return 0, avroReadError(path, rd.r.Error)
	}
	limit := int64(rd.size)
	if items != nil && avroEmpty(items) {
		limit = maxEmptyItems
	}
	if n < 0 || n > limit {
		return 0, fmt.Errorf("field %s: a block of %d items is longer than the %d-byte payload", path, n, rd.size)
	}
	return n, nil
}

// avroEmpty reports whether values of s can take no bytes at all.
func avroEmpty(s avro.Schema) bool {
	switch s := derefAvro(s).(type) {
	case *avro.NullSchema:
		return true
	case *avro.FixedSchema:
		return s.Size() == 0
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if !avroEmpty(f.Type()) {
				return false
			}
		}
		return true
	}
	return false
}

// value reads one value of s, a dereferenced schema.
func (rd *avroReading) value(s avro.Schema, path string) (any, error) {
	r := rd.r
	if s.Type() == avro.Null {
		return nil, nil
	}
	l := logicalOf(s)
	switch s := s.(type) {
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			return r.ReadBool(), nil
		case avro.Int:
			v := int64(r.ReadInt())
			if l != nil {
				switch l.Type() {
				case avro.Date:
					return time.Unix(v*86400, 0).UTC(), nil
				case avro.TimeMillis:
					return v * 1000, nil
				}
			}
			return v, nil
		case avro.Long:
			v := r.ReadLong()
			if l != nil {
				switch l.Type() {
				case avro.TimestampMillis, avro.LocalTimestampMillis:
					return time.UnixMilli(v).UTC(), nil
				case avro.TimestampMicros, avro.LocalTimestampMicros:
					return time.UnixMicro(v).UTC(), nil
				}
			}
			return v, nil
		case avro.Float:
			return float64(r.ReadFloat()), nil
		case avro.Double:
			return r.ReadDouble(), nil
		case avro.String:
			return r.ReadString(), nil
		case avro.Bytes:
			b := r.ReadBytes()
			if d, ok := l.(*avro.DecimalLogicalSchema); ok {
				return ratOf(b, d.Scale()), nil
			}
			// The reader hands out short values from one shared slab: clip, so that appending to one
			// cannot overwrite the next.
			return slices.Clip(b), nil
		}
	case *avro.FixedSchema:
		b := make([]byte, s.Size())
		r.Read(b)
		if d, ok := l.(*avro.DecimalLogicalSchema); ok {
			return ratOf(b, d.Scale()), nil
		}
		return b, nil
	case *avro.EnumSchema:
		i := r.ReadInt()
		if r.Error != nil {
			return nil, avroReadError(path, r.Error)
		}
		if i < 0 || int(i) >= len(s.Symbols()) {
			return nil, fmt.Errorf("field %s: enum index %d is outside the %d symbols of %s", path, i, len(s.Symbols()), s.FullName())
		}
		return s.Symbols()[i], nil
	case *avro.RecordSchema:
		m := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			v, err := rd.read(f.Type(), path+"."+f.Name())
			if err != nil {
				return nil, err
			}
			m[f.Name()] = v
		}
		return m, nil
	case *avro.ArraySchema:
		out := []any{}
		for {
			n, err := rd.blockCount(path, s.Items())
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return out, nil
			}
			if len(out)+int(n) > maxEmptyItems && avroEmpty(s.Items()) {
				return nil, fmt.Errorf("field %s: over %d items that take no bytes", path, maxEmptyItems)
			}
			for range n {
				v, err := rd.read(s.Items(), fmt.Sprintf("%s[%d]", path, len(out)))
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
	case *avro.MapSchema:
		out := Map{}
		for {
			n, err := rd.blockCount(path, nil)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return out, nil
			}
			for range n {
				key := r.ReadString()
				if r.Error != nil {
					return nil, avroReadError(path, r.Error)
				}
				v, err := rd.read(s.Values(), path+"."+key)
				if err != nil {
					return nil, err
				}
				out = append(out, Entry{key, v})
			}
		}
	case *avro.UnionSchema:
		i := r.ReadLong()
		types := s.Types()
		if r.Error != nil {
			return nil, avroReadError(path, r.Error)
		}
		if i < 0 || i >= int64(len(types)) {
			return nil, fmt.Errorf("field %s: union branch %d is outside the union's %d types", path, i, len(types))
		}
		v, err := rd.read(types[i], path)
		if err != nil || nonNull(s) != nil || v == nil {
			return v, err
		}
		text, err := json.Marshal(jsonable(v))
		if err != nil {
			return nil, fmt.Errorf("field %s: writing the union value as JSON: %v", path, err)
		}
		return string(text), nil
	}
	return nil, fmt.Errorf("field %s: Avro type %s cannot be decoded", path, s.Type())
}

// ratOf reads a two's-complement big-endian unscaled decimal.
func ratOf(b []byte, scale int) *big.Rat {
	num := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		num.Sub(num, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return new(big.Rat).SetFrac(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
}

// jsonable turns a value tree into what encoding/json writes as the value's JSON form.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = jsonable(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case Map:
		m := make(map[string]any, len(v))
		for _, e := range v {
			m[fmt.Sprint(e.Key)] = jsonable(e.Value)
		}
		return m
	case *big.Rat:
		return json.Number(v.FloatString(ratScale(v)))
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}

// ratScale is the number of decimals that write r exactly: the least n for which r's denominator divides 10^n
// (r comes from an unscaled value over 10^scale, so its denominator's only prime factors are 2 and 5). The
// count of divisions by ten is not it: 1/4 needs two decimals, not one.
func ratScale(r *big.Rat) int {
	p := big.NewInt(1)
	ten := big.NewInt(10)
	rem := new(big.Int)
	for n := 0; n < 80; n++ {
		if rem.Rem(p, r.Denom()).Sign() == 0 {
			return n
		}
		p.Mul(p, ten)
	}
	return 80
}
