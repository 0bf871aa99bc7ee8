package wire

import (
	"encoding/json"
	"fmt"
	"math/big"
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
		t, err := avroType(f.Type(), n, f.Name())
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

// avroType is the Iceberg type of an Avro schema; path names the field for errors.
func avroType(s avro.Schema, n *ids, path string) (iceberg.Type, error) {
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
		st := &iceberg.StructType{}
		for _, f := range s.Fields() {
			t, err := avroType(f.Type(), n, path+"."+f.Name())
			if err != nil {
				return nil, err
			}
			st.FieldList = append(st.FieldList, optional(n, f.Name(), t, f.Doc()))
		}
		return st, nil
	case *avro.ArraySchema:
		t, err := avroType(s.Items(), n, path+"[]")
		if err != nil {
			return nil, err
		}
		return &iceberg.ListType{ElementID: n.id(), Element: t}, nil
	case *avro.MapSchema:
		t, err := avroType(s.Values(), n, path+"{}")
		if err != nil {
			return nil, err
		}
		return &iceberg.MapType{KeyID: n.id(), KeyType: iceberg.PrimitiveTypes.String, ValueID: n.id(), ValueType: t}, nil
	case *avro.UnionSchema:
		if only := nonNull(s); only != nil {
			return avroType(only, n, path)
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

// readerPool sizes: records are decoded from memory, so the reader never reads ahead.
func (d *avroDecoder) Decode(rest []byte) (map[string]any, error) {
	r := avro.NewReader(nil, 0).Reset(rest)
	out := make(map[string]any, len(d.schema.Fields()))
	for _, f := range d.schema.Fields() {
		v, err := readAvro(r, f.Type(), f.Name())
		if err != nil {
			return nil, err
		}
		out[f.Name()] = v
	}
	if r.Error != nil {
		return nil, fmt.Errorf("Avro payload: %v", r.Error)
	}
	return out, nil
}

// readAvro reads one value of schema s; path names it for errors.
func readAvro(r *avro.Reader, s avro.Schema, path string) (any, error) {
	s = derefAvro(s)
	if r.Error != nil {
		return nil, fmt.Errorf("field %s: %v", path, r.Error)
	}
	if s.Type() == avro.Null {
		return nil, nil
	}
	l := logicalOf(s)
	switch s := s.(type) {
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			return r.ReadBool(), r.Error
		case avro.Int:
			v := int64(r.ReadInt())
			if l != nil {
				switch l.Type() {
				case avro.Date:
					return time.Unix(v*86400, 0).UTC(), r.Error
				case avro.TimeMillis:
					return v * 1000, r.Error
				}
			}
			return v, r.Error
		case avro.Long:
			v := r.ReadLong()
			if l != nil {
				switch l.Type() {
				case avro.TimestampMillis, avro.LocalTimestampMillis:
					return time.UnixMilli(v).UTC(), r.Error
				case avro.TimestampMicros, avro.LocalTimestampMicros:
					return time.UnixMicro(v).UTC(), r.Error
				}
			}
			return v, r.Error
		case avro.Float:
			return float64(r.ReadFloat()), r.Error
		case avro.Double:
			return r.ReadDouble(), r.Error
		case avro.String:
			return r.ReadString(), r.Error
		case avro.Bytes:
			b := r.ReadBytes()
			if d, ok := l.(*avro.DecimalLogicalSchema); ok {
				return ratOf(b, d.Scale()), r.Error
			}
			return b, r.Error
		}
	case *avro.FixedSchema:
		b := make([]byte, s.Size())
		r.Read(b)
		if d, ok := l.(*avro.DecimalLogicalSchema); ok {
			return ratOf(b, d.Scale()), r.Error
		}
		return b, r.Error
	case *avro.EnumSchema:
		i := r.ReadInt()
		if i < 0 || int(i) >= len(s.Symbols()) {
			return nil, fmt.Errorf("field %s: enum index %d is outside the %d symbols of %s", path, i, len(s.Symbols()), s.FullName())
		}
		return s.Symbols()[i], r.Error
	case *avro.RecordSchema:
		m := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			v, err := readAvro(r, f.Type(), path+"."+f.Name())
			if err != nil {
				return nil, err
			}
			m[f.Name()] = v
		}
		return m, nil
	case *avro.ArraySchema:
		var out []any
		var err error
		r.ReadArrayCB(func(r *avro.Reader) bool {
			var v any
			if v, err = readAvro(r, s.Items(), fmt.Sprintf("%s[%d]", path, len(out))); err != nil {
				return false
			}
			out = append(out, v)
			return true
		})
		if err == nil && r.Error != nil {
			err = fmt.Errorf("field %s: %v", path, r.Error)
		}
		if out == nil {
			out = []any{}
		}
		return out, err
	case *avro.MapSchema:
		out := Map{}
		var err error
		r.ReadMapCB(func(r *avro.Reader, key string) bool {
			var v any
			if v, err = readAvro(r, s.Values(), path+"."+key); err != nil {
				return false
			}
			out = append(out, Entry{key, v})
			return true
		})
		if err == nil && r.Error != nil {
			err = fmt.Errorf("field %s: %v", path, r.Error)
		}
		return out, err
	case *avro.UnionSchema:
		i := r.ReadLong()
		types := s.Types()
		if r.Error != nil {
			return nil, fmt.Errorf("field %s: %v", path, r.Error)
		}
		if i < 0 || int(i) >= len(types) {
			return nil, fmt.Errorf("field %s: union branch %d is outside the union's %d types", path, i, len(types))
		}
		v, err := readAvro(r, types[i], path)
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

// ratScale is the number of decimals that write r exactly (r's denominator is a power of ten here).
func ratScale(r *big.Rat) int {
	d := new(big.Int).Set(r.Denom())
	n := 0
	ten := big.NewInt(10)
	for d.Cmp(big.NewInt(1)) > 0 && n < 40 {
		d.Quo(d, ten)
		n++
	}
	return n
}
