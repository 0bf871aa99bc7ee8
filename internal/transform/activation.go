package transform

import (
	"fmt"
	"reflect"
	"unsafe"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// maxNameSlots bounds activation.names so that names built at run time cannot grow it.
const maxNameSlots = 32

// kafkaVar is the CEL variable holding the record's Kafka metadata; kafkaIndex marks it in shared.index.
const (
	kafkaVar   = "kafka"
	kafkaIndex = -1
)

// activation resolves CEL variables from the current record's row slice. It converts a column to a CEL
// value the first time an expression asks for it during an Apply or Routes call and hands the same
// value to later expressions of that call; gen[i] == cur marks cache[i] as current.
type activation struct {
	index map[string]int
	types []config.ColumnType
	vals  []row.Value
	meta  row.Meta
	cache []ref.Val
	gen   []uint64
	cur   uint64
	kafka kafkaVal
	names []nameSlot // names seen, by string data pointer; see ResolveName

	// frame wraps the activation for cel.Program.Eval, which takes a prepared *interpreter.ExecutionFrame
	// as is instead of taking one from its pool and returning it after each evaluation. The frame holds no
	// per-evaluation state at the top level (no context, cost tracker or map variables), so one frame
	// serves every evaluation; comprehensions push and pop child frames of their own.
	frame *interpreter.ExecutionFrame

	topic    string  // the topic topicVal was made for
	topicVal ref.Val // types.String(topic), kept across records since the topic rarely changes
}

func newActivation(s *shared) *activation {
	n := s.base + len(s.extra)
	a := &activation{index: s.index, types: s.types, cache: make([]ref.Val, n), gen: make([]uint64, n)}
	a.kafka.a = a
	f, err := interpreter.NewExecutionFrame(a)
	if err != nil {
		panic(err) // only for inputs that are neither an Activation nor a map
	}
	a.frame = f
	return a
}

// nameSlot maps a variable name, identified by its string data, to its index.
type nameSlot struct {
	p *byte
	n int
	i int
}

// reset points a at a new record and invalidates the converted values of the previous one.
func (a *activation) reset(vals []row.Value, meta row.Meta) {
	a.vals = vals
	a.meta = meta
	a.cur++
}

// ResolveName implements interpreter.Activation.
//
// A compiled program asks for a variable with the same string every time, so the name's data pointer
// finds the index in a short list before the map is consulted.
func (a *activation) ResolveName(name string) (any, bool) {
	i, ok := -2, false
	p := unsafe.StringData(name)
	for _, ns := range a.names {
		if ns.p == p && ns.n == len(name) {
			i, ok = ns.i, true
			break
		}
	}
	if !ok {
		if i, ok = a.index[name]; !ok {
			return nil, false
		}
		if len(a.names) < maxNameSlots {
			a.names = append(a.names, nameSlot{p: p, n: len(name), i: i})
		}
	}
	if i == kafkaIndex {
		return &a.kafka, true
	}
	if a.gen[i] == a.cur {
		return a.cache[i], true
	}
	v := toCEL(a.vals[i], a.types[i])
	a.cache[i], a.gen[i] = v, a.cur
	return v, true
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// topicValue returns the topic as a CEL string, converting it only when it changed.
func (a *activation) topicValue() ref.Val {
	if a.topicVal == nil || a.meta.Topic != a.topic {
		a.topic, a.topicVal = a.meta.Topic, types.String(a.meta.Topic)
	}
	return a.topicVal
}

// kafkaTypeName is the CEL type of the kafka variable.
const kafkaTypeName = "bigfather.Kafka"

var (
	kafkaType = types.NewObjectType(kafkaTypeName, traits.FieldTesterType, traits.IndexerType)

	// kafkaFields are the fields of the kafka variable: their CEL types, and how each is read and
	// tested for presence.
	kafkaFields = map[string]kafkaField{
		"topic": {types.StringType,
			func(k *kafkaVal) ref.Val { return k.a.topicValue() },
			func(*kafkaVal) bool { return true }},
		"partition": {types.IntType,
			func(k *kafkaVal) ref.Val { return types.Int(k.a.meta.Partition) },
			func(*kafkaVal) bool { return true }},
		"offset": {types.IntType,
			func(k *kafkaVal) ref.Val { return types.Int(k.a.meta.Offset) },
			func(*kafkaVal) bool { return true }},
		"timestamp": {types.TimestampType,
			func(k *kafkaVal) ref.Val {
				if k.a.meta.Timestamp.IsZero() {
					return types.NullValue
				}
				return types.Timestamp{Time: k.a.meta.Timestamp}
			},
			func(k *kafkaVal) bool { return !k.a.meta.Timestamp.IsZero() }},
		"key": {types.NewNullableType(types.StringType),
			func(k *kafkaVal) ref.Val {
				if k.a.meta.Key == nil {
					return types.NullValue
				}
				return types.String(bytesString(k.a.meta.Key))
			},
			func(k *kafkaVal) bool { return k.a.meta.Key != nil }},
	}
	kafkaFieldNames = []string{"topic", "partition", "offset", "timestamp", "key"}
)

// kafkaField describes one field of the kafka variable.
type kafkaField struct {
	typ   *types.Type
	get   func(*kafkaVal) ref.Val
	isSet func(*kafkaVal) bool
}

// kafkaVal is the value of the kafka variable: a view of the activation's current row.Meta whose fields
// are converted when read.
type kafkaVal struct{ a *activation }

// ConvertToNative implements ref.Val; the metadata has no native form.
func (k *kafkaVal) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("kafka metadata cannot be converted to %v", typeDesc)
}

// ConvertToType implements ref.Val.
func (k *kafkaVal) ConvertToType(typeVal ref.Type) ref.Val {
	if typeVal == types.TypeType {
		return kafkaType
	}
	return types.NewErr("type conversion error from '%s' to '%s'", kafkaTypeName, typeVal.TypeName())
}

// Equal implements ref.Val.
func (k *kafkaVal) Equal(other ref.Val) ref.Val { return types.Bool(other == ref.Val(k)) }

// Type implements ref.Val.
func (k *kafkaVal) Type() ref.Type { return kafkaType }

// Value implements ref.Val.
func (k *kafkaVal) Value() any { return k }

// Get implements traits.Indexer for dynamic access such as dyn(kafka).topic.
func (k *kafkaVal) Get(index ref.Val) ref.Val {
	if name, ok := index.(types.String); ok {
		if f, ok := kafkaFields[string(name)]; ok {
			return f.get(k)
		}
	}
	return types.NewErr("no such key: %v", index)
}

// IsSet implements traits.FieldTester for has(kafka.key).
func (k *kafkaVal) IsSet(field ref.Val) ref.Val {
	if name, ok := field.(types.String); ok {
		if f, ok := kafkaFields[string(name)]; ok {
			return types.Bool(f.isSet(k))
		}
	}
	return types.NewErr("no such field: %v", field)
}

// provider is the default type registry plus the kafka variable's type.
type provider struct {
	*types.Registry
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if name == kafkaTypeName {
		return types.NewTypeTypeWithParam(kafkaType), true
	}
	return p.Registry.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if name == kafkaTypeName {
		return append([]string(nil), kafkaFieldNames...), true
	}
	return p.Registry.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider. The getters let the interpreter read a field straight
// from the kafkaVal.
func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if name != kafkaTypeName {
		return p.Registry.FindStructFieldType(name, field)
	}
	f, ok := kafkaFields[field]
	if !ok {
		return nil, false
	}
	return &types.FieldType{
		Type: f.typ,
		IsSet: func(target any) bool {
			k, ok := target.(*kafkaVal)
			return ok && f.isSet(k)
		},
		GetFrom: func(target any) (any, error) {
			k, ok := target.(*kafkaVal)
			if !ok {
				return nil, fmt.Errorf("kafka.%s: unexpected value %T", field, target)
			}
			return f.get(k), nil
		},
	}, true
}

// bytesString returns b as a string without copying. The string is only valid while b is unchanged,
// which holds for the duration of an Apply or Routes call.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
