// Package quality checks records against a pipeline's columns and log definitions, cleansing them on the way.
//
// A Checker turns one raw JSON record into typed column values (row.Value), or says why it cannot with a
// Violation: a stable code, the field path and a message naming the field, the expected and the actual value.
// The steps, in order:
//
//  1. size: more than Limits.MaxRecordBytes (default 1 MiB) → oversize;
//  2. the strict scan (scan.go), in one pass, in the order problems occur in the record: RFC 8259 grammar,
//     literals and numbers (NaN, Infinity, 01, raw control characters in strings, bad escapes → not_json),
//     bytes that are not UTF-8 and lone UTF-16 surrogate escapes in strings and names (→ invalid_utf8; no
//     string Big Father writes may hold them), a name given twice in one object, compared after unescaping
//     (→ duplicate_key), and nesting deeper than Limits.MaxDepth (default 32, at most 300; the record is
//     level 1 → too_deep, naming the path of the first container past the limit);
//  3. parse (fastjson, one reused Parser), which after the scan only reads;
//  4. not an object → not_object;
//  5. with definitions: pick the definition by the Definitions.SelectBy field, after cleansing it (missing
//     or null → missing_field; no definition → unplanned_event, or under the "pass" policy step 7);
//  6. with a definition: its properties in file order — cleanse, validate against the compiled schema,
//     convert to the column type —, then the members it does not declare (additionalProperties, in record
//     order), then the declared table columns the definition leaves out (column rules); the first
//     violation wins;
//  7. without definitions (or for a passed unknown event type), per column in order: cleanse and convert by
//     the column rules, which are the former stage decoder's, messages byte for byte.
//
// The future-timestamp rule runs right after its field is converted. null_if_invalid turns any violation
// of a field that is optional (in the definition and as a column) into a null; NulledFields counts them.
//
// # Definitions
//
// Each file is compiled twice: by github.com/santhosh-tekuri/jsonschema/v6, so that a schema that is not
// valid draft 2020-12 is refused with the library's message, and here into nodes that run on fastjson values
// without allocating. Keywords outside the supported set are refused, never ignored. Property order is
// kept from the file (fastjson visits members in order), which fixes the column order.
//
// Definitions may also be given in memory (WithDefinitions), as the caller read them from the schema
// registry: the same text under the same rules, with the event type and version the caller gives. They come
// after the files. The package does not read the registry itself.
//
// Types map to columns: string → string (format date-time → timestamp, date → date), integer → long,
// number → double, boolean → boolean, object and array → string holding compact JSON text; ["T", "null"]
// is a nullable T; without "type" the type of const or enum values counts. Declared columns win when their
// type can hold the property (an integer fits int, a number float, a date-time string a string column).
//
// With a definition, the schema is the contract, as the library reads it: 2.0 is an integer; null in an
// optional property is a wrong_type unless the type allows null; a JSON number in a date-time property is
// a wrong_type unless coerce_timestamps is on. Without definitions the decoder's rules stand: null is
// absent, numbers in timestamp columns are epoch milliseconds. Either way a number that is mathematically
// an integer (1e2, 12.0) fills long and int columns, read exactly from its text; a fraction is a wrong_type
// ("expected an integer"), and only an integer beyond the column type is out_of_range.
//
// # Cleansing
//
// Only top-level fields are cleansed; nested values are stored as they came. Alias keys are normalized
// with the field's trim and case, so {IOS: ios} works under case: lower. coerce_timestamps reads an epoch
// number of magnitude below 1e10 as seconds (up to 2286-11-20) and from 1e11 as milliseconds (from
// 1973-03-03); a value between the two is refused as ambiguous (out_of_range), because one more digit would
// move it by centuries. Coerced epoch values skip the string keywords of a date-time property.
//
// # Files
//
// quality.go (API, check flow), schema.go (loading and compiling definitions, the column union),
// validate.go (running compiled schemas), convert.go (column conversion, ported from the stage decoder),
// cleanse.go, timefmt.go (allocation-free RFC 3339), pattern.go (a greedy matcher for anchored character-
// class patterns, ten times faster than regexp), depth.go, keys.go (key → column lookup).
//
// # Non-obvious
//
// Check allocates nothing for an accepted record (TestCheckAllocs; a field nulled by null_if_invalid allocates
// its discarded message). Field paths live in a reused slice of steps, not in linked stack frames (escape
// analysis would move those to the heap through the recursion), and keys find their column through a small
// open-addressing table rather than a map. Byte slices in out point into the Checker's parser and buffers (or
// into shared, read-only alias values) and stay valid until the next Check. Leap seconds (:60) are refused
// although the library's date-time format accepts them. fastjson refuses nesting past 300 levels, so the
// config refuses a max_depth above 300 and the scan reports deeper records as too_deep first. Paths in
// violations are clipped to 256 bytes, so a record nested thousands of levels deep gets a short reason.
package quality

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/valyala/fastjson"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// Violation codes. They are stable: dashboards, the rejected table and DLQ headers carry them.
const (
	CodeNotJSON            = "not_json"
	CodeNotObject          = "not_object"
	CodeOversize           = "oversize"
	CodeTooDeep            = "too_deep"
	CodeUnplannedEvent     = "unplanned_event"
	CodeMissingField       = "missing_field"
	CodeWrongType          = "wrong_type"
	CodeOutOfRange         = "out_of_range"
	CodeNotInEnum          = "not_in_enum"
	CodePattern            = "pattern_mismatch"
	CodeAdditionalProperty = "additional_property"
	CodeFutureTimestamp    = "future_timestamp"
	CodeInvalidUTF8        = "invalid_utf8"
	CodeDuplicateKey       = "duplicate_key"
)

// Violation says why a record was rejected.
type Violation struct {
	// Code is one of the Code constants.
	Code string
	// Field is the path of the offending field, such as "platform", "device.os" or "tags[2]"; "" when the
	// problem is the record as a whole.
	Field string
	// Reason is a message for people, naming the field, the expected and the actual value.
	Reason string
}

// Oversize is the violation of a record of size bytes over a limit of limit bytes; callers that never hold the
// whole record (backfill reading a long line) use it to word the verdict as Check does.
func Oversize(size, limit int64) *Violation {
	return &Violation{CodeOversize, "", fmt.Sprintf("record is %d bytes, more than the %d-byte limit", size, limit)}
}

// Error returns "code: reason".
func (v *Violation) Error() string { return v.Code + ": " + v.Reason }

// DefinitionInfo describes one loaded log definition, for reports.
type DefinitionInfo struct {
	// EventType is the select_by value the definition applies to (the schema's title, or the file name; the
	// DefinitionSource's EventType).
	EventType string
	// Version is the schema's top-level "version", 1 when absent; the DefinitionSource's Version.
	Version int
	// File is the file as named in the config, or the Origin of a DefinitionSource.
	File string
	// Fields are the top-level properties in the order the file lists them.
	Fields []string
}

// Checker checks and converts records of one pipeline. It is not safe for concurrent use; give every
// goroutine its own Clone.
type Checker struct {
	s *shared

	parser fastjson.Parser
	raw    []*fastjson.Value // per column, the current record's value
	bufs   [][]byte          // per column, case-changed strings and JSON text
	numBuf []byte            // text of the number being checked
	stack  []frame           // strict scan (scan.go)
	seen   []name            // member names of the open objects (scan.go)
	topCol int               // the top-level field being validated: a column, or -1 for topKey
	topKey []byte
	path   []step // the steps below it

	def       *definition // definition of the current record, nil without
	eventType string
	hasEvent  bool
	nulled    int
	names     map[string]string // interned event types without a definition
}

// shared is the compiled, read-only part of a Checker that clones share.
type shared struct {
	cols  []column
	pub   []config.Column
	index map[string]int // column name → index
	keys  keyIndex       // the same, faster

	trim, coerceNumbers, coerceTimes bool

	maxBytes int64
	maxDepth int

	maxSkew time.Duration // the future rule, on the column marked future
	clamp   bool

	selectBy    string
	selectCol   int // column of selectBy, -1 when it is not a column
	defs        map[string]*definition
	defKeys     keyIndex // event type → index into defList
	defList     []*definition
	known       string // "a, b, c": event types with a definition, sorted
	passUnknown bool
}

// DefinitionSource is a log definition given as text rather than as a file, such as the latest version of a
// schema registry subject. Its event type and version are given here: the schema's title and "version"
// keyword do not change them.
type DefinitionSource struct {
	// EventType is the select_by value the definition applies to; required.
	EventType string
	// Version is the definition's version, at least 1.
	Version int
	// Origin says where the text came from, e.g. "registry subject game.definitions.purchase, version 3": it
	// names the definition in errors and is DefinitionInfo.File. Empty means "event type EVENT_TYPE".
	Origin string
	// Schema is the JSON Schema text (draft 2020-12), held to the same rules as a definition file.
	Schema []byte
}

// Option configures New.
type Option func(*options)

type options struct {
	sources []DefinitionSource
}

// WithDefinitions adds log definitions given in memory, after the pipeline's definition files and in the
// order given. An event type defined twice, by two sources or by a source and a file, is an error. A pipeline
// whose definitions.registry is set needs at least one: New does not read the registry itself.
func WithDefinitions(sources ...DefinitionSource) Option {
	return func(o *options) { o.sources = append(o.sources, sources...) }
}

// New compiles the checks of pipeline p: its table columns, log definitions (files relative to
// p.Definitions.BaseDir, then those given with WithDefinitions), limits and cleansing rules. Errors name the
// file (or the source's origin) and the problem.
func New(p *config.Pipeline, opts ...Option) (*Checker, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := compile(p, o)
	if err != nil {
		return nil, err
	}
	return newChecker(s), nil
}

func newChecker(s *shared) *Checker {
	return &Checker{s: s, raw: make([]*fastjson.Value, len(s.cols)), bufs: make([][]byte, len(s.cols))}
}

// Clone returns a Checker with the same compiled checks and its own buffers, for another goroutine. The
// NulledFields count of the clone starts at zero.
func (c *Checker) Clone() *Checker { return newChecker(c.s) }

// Columns returns the table columns Check fills, in order: the pipeline's declared columns first (their
// types win), then the properties of the definitions not declared, in file order and then in the order
// each file lists them. Object and array properties are string columns holding compact JSON text.
// Columns from definitions are never Required, so that definitions may be added later.
func (c *Checker) Columns() []config.Column { return slices.Clone(c.s.pub) }

// Definitions describes the loaded log definitions in file order; nil without definitions.
func (c *Checker) Definitions() []DefinitionInfo {
	var out []DefinitionInfo
	for _, d := range c.s.defList {
		out = append(out, DefinitionInfo{EventType: d.name, Version: d.version, File: d.file, Fields: slices.Clone(d.fields)})
	}
	return out
}

// EventType returns the select_by value of the last checked record, after cleansing. ok is false without
// definitions and when the record had no string there (or was rejected before selection).
func (c *Checker) EventType() (string, bool) { return c.eventType, c.hasEvent }

// NulledFields returns how many field values this Checker has turned into nulls under null_if_invalid, in
// accepted records, since it was created. Callers wanting a rate take differences.
func (c *Checker) NulledFields() int { return c.nulled }

// Check checks one record and, when it passes, fills out with its column values; nil means the record
// passed. out must have len(Columns()) elements (Check panics otherwise). now is the staging time the
// future-timestamp rule measures against.
func (c *Checker) Check(raw []byte, now time.Time, out []row.Value) *Violation {
	s := c.s
	c.eventType, c.hasEvent, c.def = "", false, nil
	if len(out) != len(s.cols) {
		panic(fmt.Sprintf("quality: Check given %d values for %d columns", len(out), len(s.cols)))
	}
	if int64(len(raw)) > s.maxBytes {
		return Oversize(int64(len(raw)), s.maxBytes)
	}
	if viol := c.scan(raw); viol != nil {
		return viol
	}
	v, err := c.parser.ParseBytes(raw)
	if err != nil { // the scan found nothing wrong, so this is a limit of fastjson's own
		return &Violation{CodeNotJSON, "", "record could not be parsed: " + clip(err.Error())}
	}
	if v.Type() != fastjson.TypeObject {
		return &Violation{CodeNotObject, "", "record is a JSON " + v.Type().String() + ", expected an object"}
	}
	obj, _ := v.Object()
	if s.defs == nil {
		return c.checkColumns(obj, now, out)
	}
	d, viol := c.selectDef(obj)
	if viol != nil {
		return viol
	}
	if d == nil {
		return c.checkColumns(obj, now, out)
	}
	return c.checkDef(obj, d, now, out)
}

// selectDef finds the definition of the record by its select_by field. A nil definition without a violation
// means the event type is unknown and passes under the "pass" policy.
func (c *Checker) selectDef(obj *fastjson.Object) (*definition, *Violation) {
	s := c.s
	v := obj.Get(s.selectBy)
	if v == nil || v.Type() == fastjson.TypeNull {
		state := "missing"
		if v != nil {
			state = "null"
		}
		return nil, &Violation{CodeMissingField, s.selectBy, fmt.Sprintf("required field %q is %s (expected string)", s.selectBy, state)}
	}
	var sc scalar
	if s.selectCol >= 0 {
		c.load(s.selectCol, &s.cols[s.selectCol], v, &sc)
	} else {
		c.scalarOf(v, &sc)
		if s.trim && sc.kind == jString {
			sc.s = bytes.TrimSpace(sc.s)
		}
	}
	if sc.kind != jString {
		return nil, &Violation{CodeWrongType, s.selectBy, fmt.Sprintf("field %q: expected a string, got %s", s.selectBy, describe(&sc))}
	}
	var d *definition
	if j := s.defKeys.lookup(sc.s); j >= 0 {
		d = s.defList[j]
	}
	if d != nil {
		c.eventType, c.hasEvent = d.name, true
		return d, nil
	}
	c.eventType, c.hasEvent = c.intern(sc.s), true
	if s.passUnknown {
		return nil, nil
	}
	return nil, &Violation{CodeUnplannedEvent, s.selectBy,
		fmt.Sprintf("event type %s has no definition (known: %s)", quote(sc.s), s.known)}
}

// intern returns b as a string, allocating only for the first few hundred distinct values.
func (c *Checker) intern(b []byte) string {
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if c.names == nil {
		c.names = map[string]string{}
	}
	if len(c.names) < 256 {
		c.names[s] = s
	}
	return s
}

// checkColumns converts the record by the table-column rules alone: without definitions, and for event
// types that pass without one.
func (c *Checker) checkColumns(obj *fastjson.Object, now time.Time, out []row.Value) *Violation {
	s := c.s
	clear(c.raw)
	obj.Visit(func(key []byte, v *fastjson.Value) { // a key given twice: the last one wins
		if i := s.keys.lookup(key); i >= 0 {
			c.raw[i] = v
		}
	})
	nulled := 0
	for i := range s.cols {
		col := &s.cols[i]
		if viol := c.fieldOrNull(i, col, c.raw[i], nil, col.required, now, &out[i], &nulled); viol != nil {
			return viol
		}
	}
	c.nulled += nulled
	return nil
}

// checkDef checks the record against definition d.
func (c *Checker) checkDef(obj *fastjson.Object, d *definition, now time.Time, out []row.Value) *Violation {
	s := c.s
	clear(c.raw)
	c.def = d
	addl := d.root.addl
	var extra []byte // the first member that is not a property
	obj.Visit(func(key []byte, v *fastjson.Value) {
		i := s.keys.lookup(key)
		isCol := i >= 0
		if isCol && d.propOf[i] >= 0 {
			c.raw[i] = v
			return
		}
		if extra == nil {
			extra = key
		}
		if isCol && (addl == nil || !addl.never) {
			c.raw[i] = v
		}
	})
	nulled := 0
	for pi := range d.props {
		p := &d.props[pi]
		col := &s.cols[p.col]
		required := p.required || col.required
		if viol := c.fieldOrNull(p.col, col, c.raw[p.col], p.node, required, now, &out[p.col], &nulled); viol != nil {
			return viol
		}
	}
	for _, name := range d.root.extraRequired {
		if obj.Get(name) == nil {
			return &Violation{CodeMissingField, name, fmt.Sprintf("required field %q is missing (expected any value)", name)}
		}
	}
	if extra != nil && addl != nil {
		if addl.never {
			path := clipPath(string(extra))
			return &Violation{CodeAdditionalProperty, path,
				fmt.Sprintf("field %q: additional property not allowed by the %s definition", path, d.name)}
		}
		for at := 0; ; at++ {
			key, v, i := nextExtra(obj, d.root.propIndex, at)
			if i < 0 {
				break
			}
			var sc scalar
			c.scalarOf(v, &sc)
			c.topCol, c.topKey, c.path = -1, key, c.path[:0]
			if viol := c.validate(addl, &sc); viol != nil {
				return viol
			}
			at = i
		}
	}
	for _, i := range d.others {
		col := &s.cols[i]
		if c.raw[i] == nil && !col.required {
			out[i] = row.Value{Null: true}
			continue
		}
		if viol := c.fieldOrNull(i, col, c.raw[i], nil, col.required, now, &out[i], &nulled); viol != nil {
			return viol
		}
	}
	c.nulled += nulled
	return nil
}

// fieldOrNull is field, except that an invalid value of an optional column opted into null_if_invalid becomes
// null (counted in nulled) instead of rejecting the record.
func (c *Checker) fieldOrNull(i int, col *column, v *fastjson.Value, n *node, required bool, now time.Time, out *row.Value, nulled *int) *Violation {
	viol := c.field(i, col, v, n, required, now, out)
	if viol != nil && col.nullIfInvalid && !required {
		*out = row.Value{Null: true}
		*nulled++
		return nil
	}
	return viol
}

// field cleanses, validates (against n, unless nil) and converts the value v of column i into out, then
// applies the future-timestamp rule. required rejects a missing or null value.
func (c *Checker) field(i int, col *column, v *fastjson.Value, n *node, required bool, now time.Time, out *row.Value) *Violation {
	*out = row.Value{}
	if v == nil || v.Type() == fastjson.TypeNull {
		switch {
		case v == nil && !required:
			out.Null = true
			return nil
		case v == nil:
			return missing(col.name, "missing", c.expectedName(col, n))
		case n == nil && !required:
			out.Null = true
			return nil
		case n == nil || (required && (col.required || !n.allowsNull())):
			return missing(col.name, "null", c.expectedName(col, n))
		}
		sc := scalar{kind: jNull}
		c.topCol, c.path = i, c.path[:0]
		if viol := c.validate(n, &sc); viol != nil {
			return viol
		}
		out.Null = true
		return nil
	}
	var sc scalar
	c.load(i, col, v, &sc)
	if sc.ambiguous {
		return ambiguousEpoch(col, &sc)
	}
	if n != nil {
		c.topCol = i
		if len(c.path) > 0 {
			c.path = c.path[:0]
		}
		if viol := c.validate(n, &sc); viol != nil {
			return viol
		}
	}
	if viol := c.convert(i, col, &sc, out, n != nil); viol != nil {
		return viol
	}
	if col.future {
		return c.future(col, now, out)
	}
	return nil
}

// future applies the future-timestamp rule to the converted value out of col.
func (c *Checker) future(col *column, now time.Time, out *row.Value) *Violation {
	nowMicros := now.UnixMicro()
	if out.Null || out.I-nowMicros <= c.s.maxSkew.Microseconds() {
		return nil
	}
	if c.s.clamp {
		out.I = nowMicros
		return nil
	}
	return &Violation{CodeFutureTimestamp, col.name, fmt.Sprintf("field %q: %s is %s ahead of now, more than the %s allowed",
		col.name, time.UnixMicro(out.I).UTC().Format(time.RFC3339Nano), micros(out.I-nowMicros), c.s.maxSkew)}
}

// micros formats a positive span of microseconds as a time.Duration does, also beyond its 292 years.
func micros(us int64) string {
	if us < math.MaxInt64/1000 {
		return (time.Duration(us) * time.Microsecond).String()
	}
	secs := us / 1e6
	return fmt.Sprintf("%dh%dm%ds", secs/3600, secs/60%60, secs%60)
}

func missing(path, state, expected string) *Violation {
	return &Violation{CodeMissingField, path, fmt.Sprintf("required field %q is %s (expected %s)", path, state, expected)}
}

// expectedName names what column col expects in missing_field messages: its column type, or for JSON
// columns the schema's type.
func (c *Checker) expectedName(col *column, n *node) string {
	if col.kind == kJSON {
		if n != nil {
			if t, _, _ := n.resolveType(); t != 0 {
				return t.name()
			}
		}
		return col.json.name()
	}
	return string(col.typ)
}
