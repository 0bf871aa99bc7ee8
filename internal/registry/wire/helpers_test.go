package wire

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
)

// render writes a value tree with the Go type of every leaf, so that two trees render alike only when they
// hold the same values in the same types: int64(1) and float64(1) differ, as do nil and an empty list.
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case bool:
		return fmt.Sprintf("bool(%t)", v)
	case int64:
		return fmt.Sprintf("int64(%d)", v)
	case float64:
		return fmt.Sprintf("float64(%v)", v)
	case string:
		return fmt.Sprintf("string(%q)", v)
	case []byte:
		return fmt.Sprintf("bytes(%x)", v)
	case time.Time:
		return fmt.Sprintf("time(%s %s)", v.Format(time.RFC3339Nano), v.Location())
	case *big.Rat:
		return fmt.Sprintf("rat(%s)", v.RatString())
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + render(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		if v == nil {
			return "[]any(nil)"
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = render(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case Map:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e.Key) + " => " + render(e.Value)
		}
		return "Map{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("unexpected %T(%v)", v, v)
}

// describe writes fields with every id: "1 a optional int", "3 s optional struct<2 x optional long>",
// "list<2 element optional int>", "map<2 key string, 3 value optional long>".
func describe(fields []iceberg.NestedField) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		req := "optional"
		if f.Required {
			req = "required"
		}
		parts[i] = fmt.Sprintf("%d %s %s %s", f.ID, f.Name, req, describeType(f.Type))
		if f.Doc != "" {
			parts[i] += fmt.Sprintf(" (%s)", f.Doc)
		}
	}
	return strings.Join(parts, ", ")
}

func describeType(t iceberg.Type) string {
	switch t := t.(type) {
	case *iceberg.StructType:
		return "struct<" + describe(t.FieldList) + ">"
	case *iceberg.ListType:
		req := "optional"
		if t.ElementRequired {
			req = "required"
		}
		return fmt.Sprintf("list<%d element %s %s>", t.ElementID, req, describeType(t.Element))
	case *iceberg.MapType:
		req := "optional"
		if t.ValueRequired {
			req = "required"
		}
		return fmt.Sprintf("map<%d key %s, %d value %s %s>", t.KeyID, describeType(t.KeyType), t.ValueID, req, describeType(t.ValueType))
	}
	return t.String()
}

// checkIDs fails when the field ids of fields (nested ones, list elements, map keys and values included) are
// not 1 to N, each once.
func checkIDs(t *testing.T, fields []iceberg.NestedField) {
	t.Helper()
	var ids []int
	var walk func(t iceberg.Type)
	walkFields := func(fs []iceberg.NestedField) {
		for _, f := range fs {
			ids = append(ids, f.ID)
			walk(f.Type)
		}
	}
	walk = func(t iceberg.Type) {
		switch t := t.(type) {
		case *iceberg.StructType:
			walkFields(t.FieldList)
		case *iceberg.ListType:
			ids = append(ids, t.ElementID)
			walk(t.Element)
		case *iceberg.MapType:
			ids = append(ids, t.KeyID, t.ValueID)
			walk(t.KeyType)
			walk(t.ValueType)
		}
	}
	walkFields(fields)
	slices.Sort(ids)
	for i, id := range ids {
		if id != i+1 {
			t.Fatalf("field ids %v are not 1 to %d, each once", ids, len(ids))
		}
	}
}

// utc parses an RFC 3339 time for expected trees.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// rat parses a decimal for expected trees.
func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad rational " + s)
	}
	return r
}
