package wire

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protoDecoder decodes Protobuf payloads of the messages of one file. The table follows the file's first
// message, the one the message indexes [0] name.
type protoDecoder struct {
	file   protoreflect.FileDescriptor
	main   protoreflect.MessageDescriptor
	fields []iceberg.NestedField
}

func newProto(fd protoreflect.FileDescriptor) (*protoDecoder, error) {
	if fd.Messages().Len() == 0 {
		return nil, fmt.Errorf("the Protobuf schema declares no message")
	}
	d := &protoDecoder{file: fd, main: fd.Messages().Get(0)}
	n := &ids{}
	fs := d.main.Fields()
	for i := 0; i < fs.Len(); i++ {
		f := fs.Get(i)
		t, err := protoFieldType(f, n, string(f.Name()), []protoreflect.FullName{d.main.FullName()})
		if err != nil {
			return nil, err
		}
		d.fields = append(d.fields, optional(n, string(f.Name()), t, ""))
	}
	return d, nil
}

func (d *protoDecoder) Fields() []iceberg.NestedField { return d.fields }

// Decode reads the message indexes, then the message they name, which must be the file's first.
//
// Some clients (the npm package @kafkajs/confluent-schema-registry) write no message indexes: the payload
// follows the schema id. Such a record is read as the first message when its indexes do not parse or name no
// message, unless its first byte is below 0x08. A Protobuf payload starts with a field tag, 0x08 or more
// (field numbers start at 1), while Confluent's indexes start with their count: 0x00 for [0], 0x02 to 0x06 for
// 1 to 3 indexes; so a first byte below 0x08 is indexes, and their error is the record's. An empty record is
// the first message with every field at its default, as an empty Protobuf payload is.
func (d *protoDecoder) Decode(rest []byte) (map[string]any, error) {
	var md protoreflect.MessageDescriptor
	indexes, payload, err := SplitIndexes(rest)
	if err == nil {
		md, err = d.message(indexes)
	}
	if err != nil {
		if len(rest) > 0 && rest[0] < 0x08 {
			return nil, err
		}
		indexes, payload, md = nil, rest, d.main
	}
	if md != d.main {
		return nil, fmt.Errorf("the message indexes %v name message %s; the table follows %s, the schema's first message", indexes, md.FullName(), d.main.FullName())
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, fmt.Errorf("Protobuf payload of %s: %v", md.FullName(), err)
	}
	return protoMessage(m), nil
}

// message finds the message the indexes name: the first in the file, then nested ones.
func (d *protoDecoder) message(indexes []int) (protoreflect.MessageDescriptor, error) {
	ms := d.file.Messages()
	var md protoreflect.MessageDescriptor
	for depth, i := range indexes {
		if i >= ms.Len() {
			return nil, fmt.Errorf("message index %d at depth %d is outside the %d messages there", i, depth, ms.Len())
		}
		md = ms.Get(i)
		ms = md.Messages()
	}
	return md, nil
}

const (
	timestampName protoreflect.FullName = "google.protobuf.Timestamp"
)

var wrappers = []protoreflect.FullName{
	"google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
	"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
	"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
}

func isWrapper(md protoreflect.MessageDescriptor) bool {
	return slices.Contains(wrappers, md.FullName())
}

// protoFieldType is the Iceberg type of a field; seen holds the messages being derived, to refuse recursion.
func protoFieldType(f protoreflect.FieldDescriptor, n *ids, path string, seen []protoreflect.FullName) (iceberg.Type, error) {
	if f.IsMap() {
		k, err := protoKindType(f.MapKey(), n, path+".key", seen)
		if err != nil {
			return nil, err
		}
		v, err := protoKindType(f.MapValue(), n, path+".value", seen)
		if err != nil {
			return nil, err
		}
		return &iceberg.MapType{KeyID: n.id(), KeyType: k, ValueID: n.id(), ValueType: v}, nil
	}
	t, err := protoKindType(f, n, path, seen)
	if err != nil {
		return nil, err
	}
	if f.IsList() {
		return &iceberg.ListType{ElementID: n.id(), Element: t}, nil
	}
	return t, nil
}

// protoKindType is the Iceberg type of one value of f (an element of a repeated field).
func protoKindType(f protoreflect.FieldDescriptor, n *ids, path string, seen []protoreflect.FullName) (iceberg.Type, error) {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return iceberg.PrimitiveTypes.Bool, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return iceberg.PrimitiveTypes.Int32, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return iceberg.PrimitiveTypes.Int64, nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return iceberg.DecimalTypeOf(20, 0), nil
	case protoreflect.FloatKind:
		return iceberg.PrimitiveTypes.Float32, nil
	case protoreflect.DoubleKind:
		return iceberg.PrimitiveTypes.Float64, nil
	case protoreflect.StringKind, protoreflect.EnumKind:
		return iceberg.PrimitiveTypes.String, nil
	case protoreflect.BytesKind:
		return iceberg.PrimitiveTypes.Binary, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := f.Message()
		switch {
		case md.FullName() == timestampName:
			return iceberg.PrimitiveTypes.TimestampTz, nil
		case isWrapper(md):
			return protoKindType(md.Fields().ByName("value"), n, path, seen)
		case slices.Contains(seen, md.FullName()):
			return nil, fmt.Errorf("field %s: message %s contains itself, which a table column cannot", path, md.FullName())
		}
		st := &iceberg.StructType{}
		fs := md.Fields()
		for i := 0; i < fs.Len(); i++ {
			c := fs.Get(i)
			t, err := protoFieldType(c, n, path+"."+string(c.Name()), append(seen, md.FullName()))
			if err != nil {
				return nil, err
			}
			st.FieldList = append(st.FieldList, optional(n, string(c.Name()), t, ""))
		}
		return st, nil
	}
	return nil, fmt.Errorf("field %s: Protobuf kind %s cannot be a column", path, f.Kind())
}

// protoMessage turns a message into a record. Fields without presence read their default, as proto3 does.
func protoMessage(m protoreflect.Message) map[string]any {
	fs := m.Descriptor().Fields()
	out := make(map[string]any, fs.Len())
	for i := 0; i < fs.Len(); i++ {
		f := fs.Get(i)
		name := string(f.Name())
		switch {
		case f.IsMap():
			mp := m.Get(f).Map()
			entries := make(Map, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				entries = append(entries, Entry{protoScalar(f.MapKey(), k.Value()), protoValue(f.MapValue(), v)})
				return true
			})
			// Map iteration order is random; keys sort for stable rows, numbers as numbers.
			slices.SortFunc(entries, func(a, b Entry) int { return compareKeys(a.Key, b.Key) })
			out[name] = entries
		case f.IsList():
			l := m.Get(f).List()
			vals := make([]any, l.Len())
			for j := range vals {
				vals[j] = protoValue(f, l.Get(j))
			}
			out[name] = vals
		case f.Message() != nil:
			if !m.Has(f) {
				out[name] = nil
				continue
			}
			out[name] = protoValue(f, m.Get(f))
		case f.HasPresence() && !m.Has(f):
			out[name] = nil
		default:
			out[name] = protoScalar(f, m.Get(f))
		}
	}
	return out
}

// protoValue is one value of f: a message, or a scalar.
func protoValue(f protoreflect.FieldDescriptor, v protoreflect.Value) any {
	md := f.Message()
	if md == nil {
		return protoScalar(f, v)
	}
	msg := v.Message()
	switch {
	case md.FullName() == timestampName:
		sec := msg.Get(md.Fields().ByName("seconds")).Int()
		nanos := msg.Get(md.Fields().ByName("nanos")).Int()
		return time.Unix(sec, nanos).UTC()
	case isWrapper(md):
		vf := md.Fields().ByName("value")
		return protoScalar(vf, msg.Get(vf))
	}
	return protoMessage(msg)
}

// protoScalar is a scalar value of f in the tree's types.
func protoScalar(f protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return int64(v.Uint())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return new(big.Rat).SetInt(new(big.Int).SetUint64(v.Uint()))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return v.Bytes()
	case protoreflect.EnumKind:
		if ev := f.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return fmt.Sprint(int32(v.Enum()))
	}
	return nil
}

// compareKeys orders two Protobuf map keys of one kind: integers (int64, or *big.Rat for 64-bit unsigned
// ones) by value, false before true, strings by their bytes.
func compareKeys(a, b any) int {
	switch a := a.(type) {
	case int64:
		if b, ok := b.(int64); ok {
			return cmp.Compare(a, b)
		}
	case *big.Rat:
		if b, ok := b.(*big.Rat); ok {
			return a.Cmp(b)
		}
	case bool:
		if b, ok := b.(bool); ok && a != b {
			if a {
				return 1
			}
			return -1
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
