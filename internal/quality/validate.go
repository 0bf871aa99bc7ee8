package quality

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// This file runs compiled schema nodes on values. Nothing here allocates unless a violation is reported.

// jkind is the kind of a JSON value after cleansing.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jObject
	jArray
	jTime // a number or numeric string coerced into a timestamp (i holds microseconds)
)

// scalar is one value being checked: a JSON value, possibly cleansed. Objects and arrays keep their
// fastjson value.
type scalar struct {
	s  []byte // string contents, or the text of a number
	f  float64
	i  int64 // the number when isInt; microseconds for jTime
	ts int64 // a string's date-time or date, parsed by the format check: microseconds or days
	v  *fastjson.Value

	kind   jkind
	b      bool
	isInt  bool // a number written as an integer that fits int64
	numOK  bool // f is finite
	tsDone bool // ts and tsOK are set
	tsOK   bool
	// ambiguous: an epoch number that coerce_timestamps cannot read as seconds or milliseconds for sure
	ambiguous bool
}

// scalarOf describes v in sc. Number text goes to c.numBuf, valid until the next call. (Filling sc in place
// saves copying the struct around, which shows in profiles.)
func (c *Checker) scalarOf(v *fastjson.Value, sc *scalar) {
	switch v.Type() {
	case fastjson.TypeString:
		*sc = scalar{kind: jString, s: v.GetStringBytes()}
	case fastjson.TypeNumber:
		c.numBuf = v.MarshalTo(c.numBuf[:0])
		*sc = scalar{kind: jNumber, s: c.numBuf}
		sc.f, sc.i, sc.isInt, sc.numOK = parseNumber(sc.s)
	case fastjson.TypeTrue:
		*sc = scalar{kind: jBool, b: true}
	case fastjson.TypeFalse:
		*sc = scalar{kind: jBool}
	case fastjson.TypeObject:
		*sc = scalar{kind: jObject, v: v}
	case fastjson.TypeArray:
		*sc = scalar{kind: jArray, v: v}
	default:
		*sc = scalar{kind: jNull}
	}
}

// integral reports whether a number is mathematically an integer, as JSON Schema's "integer" means.
func (sc *scalar) integral() bool {
	return sc.isInt || (sc.numOK && sc.f == math.Trunc(sc.f))
}

// step is one step below the top-level field of the path being checked. The steps live in Checker.path,
// pushed and popped around nested checks; linking steps through pointers on the stack would make escape
// analysis move them to the heap, since the checks recurse.
type step struct {
	key   string
	keyB  []byte
	index int // >= 0 for array elements
}

// pathString renders the current path as "a.b[2].c": the top-level field, then the steps, clipped to
// maxPathBytes like the scan's paths.
func (c *Checker) pathString() string {
	var b strings.Builder
	if c.topCol >= 0 {
		b.WriteString(c.s.cols[c.topCol].name)
	} else {
		b.Write(c.topKey)
	}
	for _, st := range c.path {
		if st.index >= 0 {
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.key)
		b.Write(st.keyB)
	}
	return clipPath(b.String())
}

// push adds a step to the path; pop removes it.
func (c *Checker) push(st step) { c.path = append(c.path, st) }
func (c *Checker) pop()         { c.path = c.path[:len(c.path)-1] }

func (c *Checker) defName() string {
	if c.def == nil {
		return "record"
	}
	return c.def.name
}

// validate checks sc against n.
func (c *Checker) validate(n *node, sc *scalar) *Violation {
	if n.never {
		path := c.pathString()
		return &Violation{CodeAdditionalProperty, path, fmt.Sprintf("field %q: not allowed by the %s definition", path, c.defName())}
	}
	if n.ref != nil {
		if v := c.validate(n.ref, sc); v != nil {
			return v
		}
	}
	if n.types != 0 && !accepts(n.types, sc) {
		return c.wrongTypeAt(n.expected, sc)
	}
	if sc.kind == jTime {
		return nil // coerced from epoch numbers: the string keywords do not apply
	}
	if sc.kind == jString && n.fmt != fmtNone {
		switch n.fmt {
		case fmtDateTime:
			sc.ts, sc.tsOK = parseDateTime(sc.s, true)
		case fmtDate:
			sc.ts, sc.tsOK = parseDate(sc.s)
		}
		sc.tsDone = true
		if !sc.tsOK {
			return c.wrongTypeAt(expectedText(tString, n.fmt), sc)
		}
	}
	if n.enum != nil && !n.inEnum(sc) {
		path := c.pathString()
		if n.isConst {
			return &Violation{CodeNotInEnum, path, fmt.Sprintf("field %q: %s is not the allowed value %s", path, literalOf(sc), n.enum[0].text)}
		}
		return &Violation{CodeNotInEnum, path, fmt.Sprintf("field %q: %s is not one of %s", path, literalOf(sc), n.enumText)}
	}
	switch sc.kind {
	case jNumber:
		return c.number(n, sc)
	case jString:
		return c.str(n, sc)
	case jObject:
		if n.props != nil || n.addl != nil || n.extraRequired != nil {
			return c.object(n, sc.v.GetObject())
		}
	case jArray:
		return c.array(n, sc.v.GetArray())
	}
	return nil
}

func accepts(t typeSet, sc *scalar) bool {
	switch sc.kind {
	case jNull:
		return t&tNull != 0
	case jBool:
		return t&tBoolean != 0
	case jString, jTime:
		return t&tString != 0
	case jObject:
		return t&tObject != 0
	case jArray:
		return t&tArray != 0
	}
	return t&tNumber != 0 || (t&tInteger != 0 && sc.integral())
}

func (n *node) inEnum(sc *scalar) bool {
	for i := range n.enum {
		l := &n.enum[i]
		switch {
		case l.kind != sc.kind:
		case l.kind == jString && bytes.Equal(l.s, sc.s):
			return true
		case l.kind == jNumber && sc.numOK && l.f == sc.f:
			return true
		case l.kind == jBool && sc.b == (l.f == 1):
			return true
		case l.kind == jNull:
			return true
		}
	}
	return false
}

// cmp compares a number with a bound: -1, 0 or 1.
func cmp(sc *scalar, b *bound) int {
	if sc.isInt && b.isInt {
		switch {
		case sc.i < b.i:
			return -1
		case sc.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case sc.f < b.f:
		return -1
	case sc.f > b.f:
		return 1
	}
	return 0
}

func (c *Checker) number(n *node, sc *scalar) *Violation {
	var msg string
	switch {
	case n.min != nil && cmp(sc, n.min) < 0:
		msg = "is less than the minimum " + n.min.text
	case n.max != nil && cmp(sc, n.max) > 0:
		msg = "is more than the maximum " + n.max.text
	case n.xmin != nil && cmp(sc, n.xmin) <= 0:
		msg = "is not more than the exclusive minimum " + n.xmin.text
	case n.xmax != nil && cmp(sc, n.xmax) >= 0:
		msg = "is not less than the exclusive maximum " + n.xmax.text
	default:
		return nil
	}
	path := c.pathString()
	return &Violation{CodeOutOfRange, path, fmt.Sprintf("field %q: %s %s", path, clip(string(sc.s)), msg)}
}

func (c *Checker) str(n *node, sc *scalar) *Violation {
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCount(sc.s)
		if n.minLen >= 0 && l < n.minLen {
			path := c.pathString()
			return &Violation{CodeOutOfRange, path, fmt.Sprintf("field %q: %s has %s, fewer than the minimum length %d", path, quote(sc.s), plural(l, "character"), n.minLen)}
		}
		if n.maxLen >= 0 && l > n.maxLen {
			path := c.pathString()
			return &Violation{CodeOutOfRange, path, fmt.Sprintf("field %q: %s has %s, more than the maximum length %d", path, quote(sc.s), plural(l, "character"), n.maxLen)}
		}
	}
	if n.pat != nil && !n.pat.match(sc.s) {
		path := c.pathString()
		return &Violation{CodePattern, path, fmt.Sprintf("field %q: %s does not match pattern %s", path, quote(sc.s), n.pat.src)}
	}
	return nil
}

func (c *Checker) object(n *node, o *fastjson.Object) *Violation {
	for i := range n.props {
		pr := &n.props[i]
		v := o.Get(pr.name)
		if v == nil && !pr.required {
			continue
		}
		c.push(step{key: pr.name, index: -1})
		if v == nil {
			t, _, _ := pr.node.resolveType()
			return missing(c.pathString(), "missing", orAny(t))
		}
		if pr.required && v.Type() == fastjson.TypeNull && !pr.node.allowsNull() {
			t, _, _ := pr.node.resolveType()
			return missing(c.pathString(), "null", orAny(t))
		}
		var sc scalar
		c.scalarOf(v, &sc)
		if viol := c.validate(pr.node, &sc); viol != nil {
			return viol
		}
		c.pop()
	}
	for _, name := range n.extraRequired {
		if o.Get(name) == nil {
			c.push(step{key: name, index: -1})
			return missing(c.pathString(), "missing", "any value")
		}
	}
	if n.addl == nil {
		return nil
	}
	for at := 0; ; at++ {
		key, v, i := nextExtra(o, n.propIndex, at)
		if i < 0 {
			return nil
		}
		c.push(step{keyB: key, index: -1})
		if n.addl.never {
			path := c.pathString()
			return &Violation{CodeAdditionalProperty, path, fmt.Sprintf("field %q: additional property not allowed by the %s definition", path, c.defName())}
		}
		var sc scalar
		c.scalarOf(v, &sc)
		if viol := c.validate(n.addl, &sc); viol != nil {
			return viol
		}
		c.pop()
		at = i
	}
}

// nextExtra finds the first member of o, at index from or later, that props does not name; i is -1 when
// there is none. (Checking inside a Visit callback would recurse from a closure.)
func nextExtra(o *fastjson.Object, props map[string]int, from int) (key []byte, v *fastjson.Value, i int) {
	i, n := -1, 0
	o.Visit(func(k []byte, val *fastjson.Value) {
		if i < 0 && n >= from {
			if _, ok := props[string(k)]; !ok {
				key, v, i = k, val, n
			}
		}
		n++
	})
	return key, v, i
}

func orAny(t typeSet) string {
	if t == 0 {
		return "any value"
	}
	return t.name()
}

func (c *Checker) array(n *node, a []*fastjson.Value) *Violation {
	if n.minItems >= 0 && len(a) < n.minItems {
		path := c.pathString()
		return &Violation{CodeOutOfRange, path, fmt.Sprintf("field %q: array has %s, fewer than the minimum %d", path, plural(len(a), "item"), n.minItems)}
	}
	if n.maxItems >= 0 && len(a) > n.maxItems {
		path := c.pathString()
		return &Violation{CodeOutOfRange, path, fmt.Sprintf("field %q: array has %s, more than the maximum %d", path, plural(len(a), "item"), n.maxItems)}
	}
	if n.items == nil {
		return nil
	}
	for i, v := range a {
		c.push(step{index: i})
		var sc scalar
		c.scalarOf(v, &sc)
		if viol := c.validate(n.items, &sc); viol != nil {
			return viol
		}
		c.pop()
	}
	return nil
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (c *Checker) wrongTypeAt(expected string, sc *scalar) *Violation {
	path := c.pathString()
	return &Violation{CodeWrongType, path, fmt.Sprintf("field %q: expected %s, got %s", path, expected, describe(sc))}
}

// describe renders a value for a wrong_type message: its kind and a clipped literal.
func describe(sc *scalar) string {
	switch sc.kind {
	case jString:
		return "string " + quote(sc.s)
	case jNumber:
		return "number " + clip(string(sc.s))
	case jBool:
		return "boolean " + strconv.FormatBool(sc.b)
	case jObject:
		return "an object"
	case jArray:
		return "an array"
	case jTime:
		return "timestamp " + clip(string(sc.s))
	}
	return "null"
}

// literalOf renders a value as a clipped JSON literal.
func literalOf(sc *scalar) string {
	switch sc.kind {
	case jString:
		return quote(sc.s)
	case jNumber, jTime:
		return clip(string(sc.s))
	case jBool:
		return strconv.FormatBool(sc.b)
	case jObject:
		return "an object"
	case jArray:
		return "an array"
	}
	return "null"
}

func quote(b []byte) string { return strconv.Quote(clip(string(b))) }

// clip shortens long values in messages to 64 bytes and "…".
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
