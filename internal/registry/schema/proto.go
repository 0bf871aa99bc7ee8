package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// protoMainFile is the path the registered .proto text is compiled under; its references are imported by name.
const protoMainFile = "__registered__.proto"

// protoSchema is a parsed Protobuf schema: the compiled file descriptor.
//
// Its canonical form is the file descriptor without source positions and comments, with messages, enums,
// services and extensions sorted by name, fields and enum values by number and imports by path, written as JSON
// with keys sorted and no whitespace: the same declarations written in another order, spacing or comments give
// the same form.
type protoSchema struct {
	raw       string
	canonical string
	file      protoreflect.FileDescriptor
}

// Type returns Protobuf.
func (s *protoSchema) Type() Type { return Protobuf }

// Raw returns the text as registered.
func (s *protoSchema) Raw() string { return s.raw }

// Canonical returns the normalized text.
func (s *protoSchema) Canonical() string { return s.canonical }

func parseProto(text string, refs []Reference, resolve Resolver) (*protoSchema, error) {
	srcs := map[string]string{protoMainFile: text}
	if err := addProtoRefs(srcs, refs, resolve, nil); err != nil {
		return nil, err
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(srcs)}),
		// One file at a time: the registry parses on request, and the machine's cores are shared.
		MaxParallelism: 1,
	}
	files, err := c.Compile(context.Background(), protoMainFile)
	if err != nil {
		return nil, fmt.Errorf("%w: Protobuf: %v", ErrInvalid, strings.ReplaceAll(err.Error(), protoMainFile+":", "line "))
	}
	fd := files[0]
	canonical, err := canonicalProto(fd)
	if err != nil {
		return nil, fmt.Errorf("%w: Protobuf: writing the canonical form: %v", ErrInvalid, err)
	}
	return &protoSchema{raw: text, canonical: canonical, file: fd}, nil
}

// addProtoRefs fetches the referenced files, depth first, into srcs by import path. chain holds the references
// being resolved, to report cycles.
func addProtoRefs(srcs map[string]string, refs []Reference, resolve Resolver, chain []Reference) error {
	for _, ref := range refs {
		if slices.Contains(chain, ref) || len(chain) >= maxRefDepth {
			return fmt.Errorf("%w: reference %q (subject %q version %d) is part of a reference cycle", ErrInvalid, ref.Name, ref.Subject, ref.Version)
		}
		if _, ok := srcs[ref.Name]; ok {
			continue
		}
		text, sub, err := resolve(ref)
		if err != nil {
			return fmt.Errorf("resolving reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
		srcs[ref.Name] = text
		if err := addProtoRefs(srcs, sub, resolve, append(chain, ref)); err != nil {
			return err
		}
	}
	return nil
}

// canonicalProto writes fd's declarations in a canonical order.
func canonicalProto(fd protoreflect.FileDescriptor) (string, error) {
	p := protodesc.ToFileDescriptorProto(fd)
	p.SourceCodeInfo = nil
	p.Name = nil
	sortMessages(p.MessageType)
	sortEnums(p.EnumType)
	sort.Slice(p.Service, func(i, j int) bool { return p.Service[i].GetName() < p.Service[j].GetName() })
	for _, s := range p.Service {
		sort.Slice(s.Method, func(i, j int) bool { return s.Method[i].GetName() < s.Method[j].GetName() })
	}
	sortFields(p.Extension)
	// Public and weak imports are indexes into the dependency list; keep them pointing at the same paths.
	public := map[string]bool{}
	for _, i := range p.PublicDependency {
		public[p.Dependency[i]] = true
	}
	slices.Sort(p.Dependency)
	p.PublicDependency = nil
	for i, d := range p.Dependency {
		if public[d] {
			p.PublicDependency = append(p.PublicDependency, int32(i))
		}
	}
	p.WeakDependency = nil
	b, err := protojson.Marshal(p)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	return canonicalJSON(v)
}

func sortMessages(ms []*descriptorpb.DescriptorProto) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].GetName() < ms[j].GetName() })
	for _, m := range ms {
		// Fields keep their oneof index, which does not depend on the order of the fields.
		sortFields(m.Field)
		sortFields(m.Extension)
		sortMessages(m.NestedType)
		sortEnums(m.EnumType)
	}
}

func sortFields(fs []*descriptorpb.FieldDescriptorProto) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].GetNumber() < fs[j].GetNumber() })
}

func sortEnums(es []*descriptorpb.EnumDescriptorProto) {
	sort.Slice(es, func(i, j int) bool { return es[i].GetName() < es[j].GetName() })
	for _, e := range es {
		sort.SliceStable(e.Value, func(i, j int) bool { return e.Value[i].GetNumber() < e.Value[j].GetNumber() })
	}
}
