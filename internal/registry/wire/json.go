package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// jsonDecoder validates JSON payloads against the schema, then converts them along the derived shape.
type jsonDecoder struct {
	compiled *jsonschema.Schema
	root     *shape
	fields   []iceberg.NestedField
}

// shapeKind is how a JSON value becomes a tree value.
type shapeKind uint8

const (
	shapeText      shapeKind = iota // any JSON value, kept as its JSON text
	shapeString                     // a string
	shapeTimestamp                  // an RFC 3339 date-time string
	shapeDate                       // a full-date string
	shapeLong                       // an integer
	shapeDouble                     // a number
	shapeBool                       // a boolean
	shapeStruct                     // an object with properties
	shapeMap                        // an object with additionalProperties only
	shapeList                       // an array with items
)

type shape struct {
	kind   shapeKind
	names  []string          // struct: property names, sorted
	fields map[string]*shape // struct
	elem   *shape            // list, map values
}

// maxJSONDepth bounds $ref chains and nesting when deriving a shape.
const maxJSONDepth = 32

func newJSON(p schema.Parsed) (*jsonDecoder, error) {
	doc, refs, compiled := schema.JSONOf(p)
	b := &jsonShaper{root: doc, refs: refs, n: &ids{}}
	root, t, err := b.shape(doc, "", 0)
	if err != nil {
		return nil, err
	}
	st, ok := t.(*iceberg.StructType)
	if !ok || root.kind != shapeStruct {
		return nil, fmt.Errorf("the JSON schema does not describe an object with properties; a table needs named fields")
	}
	return &jsonDecoder{compiled: compiled, root: root, fields: st.FieldList}, nil
}

func (d *jsonDecoder) Fields() []iceberg.NestedField { return d.fields }

// Decode validates the JSON payload against the schema and converts it.
func (d *jsonDecoder) Decode(rest []byte) (map[string]any, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(rest))
	if err != nil {
		return nil, fmt.Errorf("the JSON payload does not parse: %v", err)
	}
	if err := d.compiled.Validate(inst); err != nil {
		return nil, fmt.Errorf("the JSON payload does not match its schema: %s", validationMessage(err))
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the JSON payload is not an object")
	}
	v, err := d.root.convert(obj, "")
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// validationMessage is the library's verdict on one line, without the schema URL: every failing keyword,
// sorted by instance location.
func validationMessage(err error) string {
	if ve, ok := err.(*jsonschema.ValidationError); ok {
		// LocalizedString needs a printer: nil panics.
		p := message.NewPrinter(language.English)
		var leaves []string
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			if len(e.Causes) == 0 {
				at := "/" + strings.Join(e.InstanceLocation, "/")
				leaves = append(leaves, fmt.Sprintf("at %s: %s", at, e.ErrorKind.LocalizedString(p)))
				return
			}
			for _, c := range e.Causes {
				walk(c)
			}
		}
		walk(ve)
		// The library visits properties in map order: sort, so the same record always reads the same.
		slices.Sort(leaves)
		return strings.Join(leaves, "; ")
	}
	return err.Error()
}

// convert turns a decoded JSON value into a tree value; path names it for errors.
func (s *shape) convert(v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	at := func() string {
		if path == "" {
			return "the record"
		}
		return "field " + path
	}
	switch s.kind {
	case shapeText:
		text, err := json.Marshal(v)
		return string(text), err
	case shapeString:
		if str, ok := v.(string); ok {
			return str, nil
		}
	case shapeTimestamp:
		if str, ok := v.(string); ok {
			t, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an RFC 3339 date-time", at(), str)
			}
			return t.UTC(), nil
		}
	case shapeDate:
		if str, ok := v.(string); ok {
			t, err := time.Parse(time.DateOnly, str)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", at(), str)
			}
			return t, nil
		}
	case shapeLong:
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
			if f, err := n.Float64(); err == nil && f == float64(int64(f)) && f >= -9.2e18 && f <= 9.2e18 {
				return int64(f), nil
			}
			return nil, fmt.Errorf("%s: %s is not an integer that fits 64 bits", at(), n)
		}
	case shapeDouble:
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return nil, fmt.Errorf("%s: %s is out of a double's range", at(), n)
			}
			return f, nil
		}
	case shapeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case shapeStruct:
		if obj, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(s.names))
			for _, name := range s.names {
				x, err := s.fields[name].convert(obj[name], join(path, name))
				if err != nil {
					return nil, err
				}
				out[name] = x
			}
			return out, nil
		}
	case shapeMap:
		if obj, ok := v.(map[string]any); ok {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			out := make(Map, 0, len(keys))
			for _, k := range keys {
				x, err := s.elem.convert(obj[k], join(path, k))
				if err != nil {
					return nil, err
				}
				out = append(out, Entry{k, x})
			}
			return out, nil
		}
	case shapeList:
		if arr, ok := v.([]any); ok {
			out := make([]any, len(arr))
			for i, e := range arr {
				x, err := s.elem.convert(e, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				out[i] = x
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("%s: a JSON %s does not fit the schema's type", at(), jsonKind(v))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// jsonShaper derives shapes and Iceberg types from a JSON schema document.
type jsonShaper struct {
	root any
	refs map[string]any
	n    *ids
}

func (b *jsonShaper) shape(node any, path string, depth int) (*shape, iceberg.Type, error) {
	if depth > maxJSONDepth {
		return nil, nil, fmt.Errorf("field %s: the schema nests or refers deeper than %d levels, which a table column cannot", path, maxJSONDepth)
	}
	m, ok := node.(map[string]any)
	if !ok {
		return &shape{kind: shapeText}, iceberg.PrimitiveTypes.String, nil
	}
	if ref, ok := m["$ref"].(string); ok {
		target, err := b.resolve(ref)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %v", path, err)
		}
		return b.shape(target, path, depth+1)
	}
	typ := ""
	switch t := m["type"].(type) {
	case string:
		typ = t
	case []any:
		var other []string
		for _, x := range t {
			if s, _ := x.(string); s != "null" {
				other = append(other, s)
			}
		}
		if len(other) == 1 {
			typ = other[0]
		}
	}
	switch typ {
	case "string":
		switch m["format"] {
		case "date-time":
			return &shape{kind: shapeTimestamp}, iceberg.PrimitiveTypes.TimestampTz, nil
		case "date":
			return &shape{kind: shapeDate}, iceberg.PrimitiveTypes.Date, nil
		}
		return &shape{kind: shapeString}, iceberg.PrimitiveTypes.String, nil
	case "integer":
		return &shape{kind: shapeLong}, iceberg.PrimitiveTypes.Int64, nil
	case "number":
		return &shape{kind: shapeDouble}, iceberg.PrimitiveTypes.Float64, nil
	case "boolean":
		return &shape{kind: shapeBool}, iceberg.PrimitiveTypes.Bool, nil
	case "object":
		if props, ok := m["properties"].(map[string]any); ok && len(props) > 0 {
			s := &shape{kind: shapeStruct, fields: map[string]*shape{}}
			for name := range props {
				s.names = append(s.names, name)
			}
			slices.Sort(s.names)
			st := &iceberg.StructType{}
			for _, name := range s.names {
				fs, ft, err := b.shape(props[name], join(path, name), depth+1)
				if err != nil {
					return nil, nil, err
				}
				s.fields[name] = fs
				st.FieldList = append(st.FieldList, optional(b.n, name, ft, docOf(props[name])))
			}
			return s, st, nil
		}
		if ap, ok := m["additionalProperties"].(map[string]any); ok {
			es, et, err := b.shape(ap, path+"{}", depth+1)
			if err != nil {
				return nil, nil, err
			}
			return &shape{kind: shapeMap, elem: es}, &iceberg.MapType{KeyID: b.n.id(), KeyType: iceberg.PrimitiveTypes.String, ValueID: b.n.id(), ValueType: et}, nil
		}
	case "array":
		if items, ok := m["items"].(map[string]any); ok {
			es, et, err := b.shape(items, path+"[]", depth+1)
			if err != nil {
				return nil, nil, err
			}
			return &shape{kind: shapeList, elem: es}, &iceberg.ListType{ElementID: b.n.id(), Element: et}, nil
		}
	}
	return &shape{kind: shapeText}, iceberg.PrimitiveTypes.String, nil
}

func docOf(node any) string {
	if m, ok := node.(map[string]any); ok {
		if d, ok := m["description"].(string); ok {
			return d
		}
	}
	return ""
}

// resolve follows a $ref: a JSON pointer into the schema itself ("#/..."), or a reference by name with an
// optional pointer after "#".
func (b *jsonShaper) resolve(ref string) (any, error) {
	doc, pointer := b.root, ref
	if i := strings.IndexByte(ref, '#'); i != 0 {
		name := ref
		if i > 0 {
			name, pointer = ref[:i], ref[i:]
		} else {
			pointer = ""
		}
		d, ok := b.refs[name]
		if !ok {
			for n, x := range b.refs {
				if strings.HasSuffix(name, "/"+strings.TrimPrefix(n, "./")) {
					d, ok = x, true
					break
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("$ref %q names neither a part of the schema nor one of its references", ref)
		}
		doc = d
	}
	pointer = strings.TrimPrefix(pointer, "#")
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if doc, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no member %q", ref, tok)
		}
	}
	return doc, nil
}
