package schema

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// The Protobuf compatibility checker follows Confluent's documented rules and the Protocol Buffers language
// guide's rules for updating a message type. The reader must hold every message the writer's file declares
// (matched by name within the package); fields are matched by number. Adding, removing and renaming fields is
// compatible, as are changes between wire-compatible scalar types; changing a field's kind or named type,
// adding or removing a required field, removing a field from a oneof, or moving fields into a oneof that
// already existed or together into a new one is not.

func (s *protoSchema) compat(writer Parsed) []string {
	w, ok := writer.(*protoSchema)
	if !ok {
		return []string{fmt.Sprintf("the schema types differ (%s and %s)", s.Type(), writer.Type())}
	}
	c := &protoChecker{}
	rMsgs, wMsgs := protoMessages(s.file), protoMessages(w.file)
	for _, name := range sortedMsgNames(wMsgs) {
		rm, ok := rMsgs[name]
		if !ok {
			c.fail(name, "the writer's message %q is missing from the reader", name)
			continue
		}
		c.message(rm, wMsgs[name], name)
	}
	return c.out
}

type protoChecker struct {
	out []string
}

func (c *protoChecker) fail(path, format string, args ...any) {
	c.out = append(c.out, fmt.Sprintf("at %s: ", path)+fmt.Sprintf(format, args...))
}

// protoMessages lists fd's messages, nested ones included (map entries excluded), by name within the package.
func protoMessages(fd protoreflect.FileDescriptor) map[string]protoreflect.MessageDescriptor {
	out := map[string]protoreflect.MessageDescriptor{}
	var add func(ms protoreflect.MessageDescriptors)
	add = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			out[relName(m.FullName(), fd.Package())] = m
			add(m.Messages())
		}
	}
	add(fd.Messages())
	return out
}

// relName returns a full name without its package.
func relName(n protoreflect.FullName, pkg protoreflect.FullName) string {
	if pkg == "" {
		return string(n)
	}
	return strings.TrimPrefix(string(n), string(pkg)+".")
}

func sortedMsgNames(m map[string]protoreflect.MessageDescriptor) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// protoWireGroups numbers the groups of scalar kinds that can change into one another without breaking the
// encoding (Protocol Buffers language guide, updating a message type; Confluent's FIELD_SCALAR_KIND_CHANGED).
var protoWireGroups = map[protoreflect.Kind]int{
	protoreflect.Int32Kind: 1, protoreflect.Uint32Kind: 1, protoreflect.Int64Kind: 1, protoreflect.Uint64Kind: 1, protoreflect.BoolKind: 1,
	protoreflect.Sint32Kind: 2, protoreflect.Sint64Kind: 2,
	protoreflect.Fixed32Kind: 3, protoreflect.Sfixed32Kind: 3,
	protoreflect.Fixed64Kind: 4, protoreflect.Sfixed64Kind: 4,
	protoreflect.StringKind: 5, protoreflect.BytesKind: 5,
	protoreflect.FloatKind:  6,
	protoreflect.DoubleKind: 7,
}

// kindName names a field's type for messages.
func kindName(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return fmt.Sprintf("map<%s, %s>", kindName(f.MapKey()), kindName(f.MapValue()))
	case f.Message() != nil:
		return string(f.Message().FullName())
	case f.Enum() != nil:
		return string(f.Enum().FullName())
	}
	return f.Kind().String()
}

// realOneof returns the field's oneof unless it is none or the synthetic one of a proto3 optional field.
func realOneof(f protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return o
	}
	return nil
}

func (c *protoChecker) message(r, w protoreflect.MessageDescriptor, path string) {
	rFields, wFields := r.Fields(), w.Fields()
	for i := range wFields.Len() {
		wf := wFields.Get(i)
		fpath := fmt.Sprintf("%s.%s (%d)", path, wf.Name(), wf.Number())
		rf := rFields.ByNumber(wf.Number())
		if rf == nil {
			if wf.Cardinality() == protoreflect.Required {
				c.fail(fpath, "the writer's required field %q is missing from the reader", wf.Name())
			}
			if o := realOneof(wf); o != nil {
				c.fail(fpath, "the writer's field %q of oneof %q is missing from the reader", wf.Name(), o.Name())
			}
			continue
		}
		c.field(rf, wf, fpath)
		c.oneofMove(r, w, rf, wf, fpath)
	}
	for i := range rFields.Len() {
		rf := rFields.Get(i)
		if wFields.ByNumber(rf.Number()) == nil && rf.Cardinality() == protoreflect.Required {
			c.fail(fmt.Sprintf("%s.%s (%d)", path, rf.Name(), rf.Number()), "the reader's required field %q is missing from the writer", rf.Name())
		}
	}
}

func (c *protoChecker) field(rf, wf protoreflect.FieldDescriptor, path string) {
	if rf.IsMap() != wf.IsMap() {
		c.fail(path, "the field's type changed from %s to %s", kindName(wf), kindName(rf))
		return
	}
	if rf.IsMap() {
		c.field(rf.MapKey(), wf.MapKey(), path+" key")
		c.field(rf.MapValue(), wf.MapValue(), path+" value")
		return
	}
	rNamed, wNamed := rf.Message() != nil || rf.Enum() != nil, wf.Message() != nil || wf.Enum() != nil
	rEnum, wEnum := rf.Enum() != nil, wf.Enum() != nil
	switch {
	case rf.Message() != nil && wf.Message() != nil:
		if relName(rf.Message().FullName(), rf.ParentFile().Package()) != relName(wf.Message().FullName(), wf.ParentFile().Package()) {
			c.fail(path, "the field's message type changed from %s to %s", wf.Message().FullName(), rf.Message().FullName())
		}
	case rEnum && wEnum:
		if relName(rf.Enum().FullName(), rf.ParentFile().Package()) != relName(wf.Enum().FullName(), wf.ParentFile().Package()) {
			c.fail(path, "the field's enum type changed from %s to %s", wf.Enum().FullName(), rf.Enum().FullName())
		}
	case rNamed || wNamed:
		c.fail(path, "the field's type changed from %s to %s", kindName(wf), kindName(rf))
	case rf.Kind() != wf.Kind() && protoWireGroups[rf.Kind()] != protoWireGroups[wf.Kind()]:
		c.fail(path, "the field's type changed from %s to %s, which is not wire-compatible", wf.Kind(), rf.Kind())
	}
	if (rf.Cardinality() == protoreflect.Repeated) != (wf.Cardinality() == protoreflect.Repeated) {
		switch rf.Kind() {
		case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		default:
			c.fail(path, "the field's label changed between repeated and singular for the numeric type %s", kindName(rf))
		}
	}
	if (rf.Cardinality() == protoreflect.Required) != (wf.Cardinality() == protoreflect.Required) {
		c.fail(path, "the field changed between required and not required")
	}
}

// oneofMove checks a field that the reader holds in a oneof the writer did not put it in.
func (c *protoChecker) oneofMove(r, w protoreflect.MessageDescriptor, rf, wf protoreflect.FieldDescriptor, path string) {
	ro, wo := realOneof(rf), realOneof(wf)
	if ro == nil || (wo != nil && wo.Name() == ro.Name()) {
		return
	}
	if w.Oneofs().ByName(ro.Name()) != nil && !w.Oneofs().ByName(ro.Name()).IsSynthetic() {
		c.fail(path, "the field %q moved into the writer's existing oneof %q", rf.Name(), ro.Name())
		return
	}
	// A new oneof may take one field the writer had; more would let the writer set several of them at once.
	moved := 0
	fields := ro.Fields()
	for i := range fields.Len() {
		if w.Fields().ByNumber(fields.Get(i).Number()) != nil {
			moved++
		}
	}
	if moved > 1 && firstMoved(w, ro) == rf.Number() {
		c.fail(path, "%d of the writer's fields moved into the new oneof %q", moved, ro.Name())
	}
}

// firstMoved returns the number of the first field of o the writer also has, so a move is reported once.
func firstMoved(w protoreflect.MessageDescriptor, o protoreflect.OneofDescriptor) protoreflect.FieldNumber {
	fields := o.Fields()
	for i := range fields.Len() {
		if w.Fields().ByNumber(fields.Get(i).Number()) != nil {
			return fields.Get(i).Number()
		}
	}
	return 0
}
