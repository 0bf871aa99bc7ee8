package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The JSON Schema compatibility checker follows Confluent's documented rules: the reader's schema must accept
// every document the writer's schema accepts. An open content model (additionalProperties absent or true) lets
// the writer's documents carry any other property, so a reader adding a constrained property rejects some of
// them; a closed one (additionalProperties false) does not. Widening (a type added, integer read as number, a
// bound relaxed or removed, an enum extended, a oneOf/anyOf branch added) is compatible; narrowing is not.

func (s *jsonSchema) compat(writer Parsed) []string {
	w, ok := writer.(*jsonSchema)
	if !ok {
		return []string{fmt.Sprintf("the schema types differ (%s and %s)", s.Type(), writer.Type())}
	}
	c := &jsonChecker{reader: s, writer: w, seen: map[string]bool{}, sameRefs: reflect.DeepEqual(s.refs, w.refs)}
	c.check(jnode{v: s.doc, root: s.doc}, jnode{v: w.doc, root: w.doc}, "#")
	return c.out
}

// jnode is a JSON schema node with the document its local references resolve in.
type jnode struct {
	v    any
	root any
	ref  string // the reference the node was reached through, for recursion detection
}

type jsonChecker struct {
	reader, writer *jsonSchema
	seen           map[string]bool // reader|writer reference pairs being compared, for recursive schemas
	sameRefs       bool            // the reader's and writer's referenced schemas are the same
	out            []string
}

func (c *jsonChecker) fail(path, format string, args ...any) {
	c.out = append(c.out, fmt.Sprintf("at %s: ", path)+fmt.Sprintf(format, args...))
}

// passes reports, without recording anything, whether reader accepts every document writer accepts.
func (c *jsonChecker) passes(r, w jnode) bool {
	sub := &jsonChecker{reader: c.reader, writer: c.writer, seen: c.seen, sameRefs: c.sameRefs}
	sub.check(r, w, "#")
	return len(sub.out) == 0
}

// deref follows n's $ref, if any, within its document or to a referenced schema; ok is false when the
// reference does not resolve.
func (c *jsonChecker) deref(n jnode, refs map[string]any) (jnode, bool) {
	for range maxRefDepth {
		m, isMap := n.v.(map[string]any)
		if !isMap {
			return n, true
		}
		ref, isStr := m["$ref"].(string)
		if !isStr {
			return n, true
		}
		base, frag, _ := strings.Cut(ref, "#")
		root := n.root
		if base != "" {
			doc, found := lookupRef(refs, base)
			if !found {
				return n, false
			}
			root = doc
		}
		v, found := pointer(root, frag)
		if !found {
			return n, false
		}
		n = jnode{v: v, root: root, ref: ref}
	}
	return n, false
}

// pointer resolves a JSON pointer fragment in doc.
func pointer(doc any, frag string) (any, bool) {
	if frag == "" {
		return doc, true
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// asMap returns a schema node as an object; true is the empty object and false is nil.
func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return map[string]any{}, true
		}
		return nil, false
	case map[string]any:
		return t, true
	}
	return map[string]any{}, true
}

// jsonTypes returns the schema's types, nil meaning any.
func jsonTypes(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// check records what stops reader accepting every document writer accepts; path is the JSON pointer of the
// reader's node.
func (c *jsonChecker) check(r, w jnode, path string) {
	var ok bool
	if r, ok = c.deref(r, c.reader.refs); !ok {
		c.fail(path, "the reader's reference %v does not resolve", r.v.(map[string]any)["$ref"])
		return
	}
	if w, ok = c.deref(w, c.writer.refs); !ok {
		c.fail(path, "the writer's reference %v does not resolve", w.v.(map[string]any)["$ref"])
		return
	}
	if r.ref != "" || w.ref != "" {
		key := r.ref + "\x00" + w.ref
		if c.seen[key] {
			return
		}
		c.seen[key] = true
		defer delete(c.seen, key)
	}
	rm, rOK := asMap(r.v)
	wm, wOK := asMap(w.v)
	if !wOK {
		return // the writer accepts nothing
	}
	if !rOK {
		c.fail(path, "the reader's schema is false and accepts nothing")
		return
	}
	// Equal nodes are compatible unless references inside them lead to schemas that differ.
	if reflect.DeepEqual(stripAnnotations(rm), stripAnnotations(wm)) &&
		(!hasRef(rm) || (c.sameRefs && reflect.DeepEqual(r.root, w.root))) {
		return
	}
	if c.combined(r, w, rm, wm, path) {
		return
	}
	c.types(rm, wm, path)
	c.enum(rm, wm, path)
	c.bounds(rm, wm, path)
	// Keywords for one kind of value constrain nothing the writer writes when the writer's types exclude it.
	if writerMay(wm, "string") {
		c.strings(rm, wm, path)
	}
	if writerMay(wm, "object") {
		c.object(r, w, rm, wm, path)
	}
	if writerMay(wm, "array") {
		c.array(r, w, rm, wm, path)
	}
	if rn, has := rm["not"]; has {
		wn, whas := wm["not"]
		if !whas {
			c.fail(path, "the reader adds \"not\"")
		} else if !c.passes(jnode{v: wn, root: w.root}, jnode{v: rn, root: r.root}) {
			// not A accepts all of not B only when B accepts all of A.
			c.fail(path, "the reader's \"not\" excludes documents the writer's \"not\" allows")
		}
	}
}

// stripAnnotations returns m without the keywords that do not constrain documents.
func stripAnnotations(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case "title", "description", "$comment", "examples", "$schema", "$id", "id", "default", "readOnly", "writeOnly", "deprecated":
			continue
		}
		out[k] = v
	}
	return out
}

// combined handles oneOf, anyOf and allOf; it reports true when the combination decided the outcome.
func (c *jsonChecker) combined(r, w jnode, rm, wm map[string]any, path string) bool {
	rKey, rBranches := sumBranches(rm)
	wKey, wBranches := sumBranches(wm)
	node := func(v any, n jnode) jnode { return jnode{v: v, root: n.root} }
	rest := func(m map[string]any, key string) map[string]any {
		cp := make(map[string]any, len(m))
		for k, v := range stripAnnotations(m) {
			if k != key {
				cp[k] = v
			}
		}
		return cp
	}
	switch {
	case wKey != "":
		// Every writer branch must be accepted (by the reader's sum, when it has one).
		if rKey == "oneOf" && wKey == "anyOf" {
			c.fail(path, "the reader changes anyOf to oneOf")
			return true
		}
		for i, wb := range wBranches {
			wn := node(wb, w)
			if wRest := rest(wm, wKey); len(wRest) > 0 {
				wn = node(map[string]any{"allOf": []any{wb, wRest}}, w)
			}
			if rKey != "" {
				found := false
				for _, rb := range rBranches {
					if c.passes(node(rb, r), wn) {
						found = true
						break
					}
				}
				if !found {
					c.fail(path, "the writer's %s branch %d is accepted by no branch of the reader's %s", wKey, i, rKey)
				}
				continue
			}
			sub := &jsonChecker{reader: c.reader, writer: c.writer, seen: c.seen, sameRefs: c.sameRefs}
			sub.check(r, wn, path)
			if len(sub.out) > 0 {
				c.fail(path, "the writer's %s branch %d is not accepted by the reader: %s", wKey, i, sub.out[0])
			}
		}
		return true
	case rKey != "":
		// A writer schema becoming one branch of a reader sum is a widening.
		c.checkRest(r, w, rest(rm, rKey), path)
		for _, rb := range rBranches {
			if c.passes(node(rb, r), w) {
				return true
			}
		}
		c.fail(path, "the writer's schema is accepted by no branch of the reader's %s", rKey)
		return true
	}
	if ra, ok := rm["allOf"].([]any); ok {
		c.checkRest(r, w, rest(rm, "allOf"), path)
		wa, _ := wm["allOf"].([]any)
		for i, rb := range ra {
			if slices.ContainsFunc(wa, func(wb any) bool { return reflect.DeepEqual(wb, rb) }) {
				continue
			}
			sub := &jsonChecker{reader: c.reader, writer: c.writer, seen: c.seen, sameRefs: c.sameRefs}
			sub.check(node(rb, r), w, path+"/allOf/"+fmt.Sprint(i))
			c.out = append(c.out, sub.out...)
		}
		return true
	}
	if wa, ok := wm["allOf"].([]any); ok {
		for _, wb := range wa {
			if c.passes(r, node(wb, w)) {
				return true
			}
		}
		// Read the writer's allOf as one schema when its members do not constrain the same keywords.
		if merged, ok := mergeAll(append(slices.Clone(wa), rest(wm, "allOf"))); ok {
			c.check(r, node(merged, w), path)
			return true
		}
		c.fail(path, "no schema of the writer's allOf is accepted by the reader")
		return true
	}
	return false
}

// mergeAll merges object schemas that share no keyword into one; ok is false otherwise.
func mergeAll(members []any) (map[string]any, bool) {
	out := map[string]any{}
	for _, m := range members {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil, false
		}
		for k, v := range stripAnnotations(mm) {
			if _, dup := out[k]; dup {
				return nil, false
			}
			out[k] = v
		}
	}
	return out, true
}

// hasRef reports whether the schema node v contains a $ref.
func hasRef(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["$ref"]; ok {
			return true
		}
		for _, e := range t {
			if hasRef(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasRef(e) {
				return true
			}
		}
	}
	return false
}

// checkRest checks the reader's keywords beside a combination, if any, against the whole writer.
func (c *jsonChecker) checkRest(r, w jnode, rest map[string]any, path string) {
	if len(rest) > 0 {
		c.check(jnode{v: rest, root: r.root}, w, path)
	}
}

// sumBranches returns the schema's oneOf or anyOf keyword and branches.
func sumBranches(m map[string]any) (string, []any) {
	for _, k := range []string{"oneOf", "anyOf"} {
		if b, ok := m[k].([]any); ok {
			return k, b
		}
	}
	return "", nil
}

func (c *jsonChecker) types(rm, wm map[string]any, path string) {
	rt, wt := jsonTypes(rm), jsonTypes(wm)
	if rt == nil {
		return
	}
	if wt == nil {
		c.fail(path, "the reader restricts the type to %s where the writer allows any type", quoteAll(rt))
		return
	}
	for _, t := range wt {
		if slices.Contains(rt, t) || (t == "integer" && slices.Contains(rt, "number")) {
			continue
		}
		if t == "number" && slices.Contains(rt, "integer") {
			c.fail(path, "the reader narrows the type from \"number\" to \"integer\"")
			continue
		}
		c.fail(path, "the writer's type %q is not accepted by the reader's type %s", t, quoteAll(rt))
	}
}

func (c *jsonChecker) enum(rm, wm map[string]any, path string) {
	if rc, has := rm["const"]; has {
		if wc, whas := wm["const"]; !whas || !reflect.DeepEqual(rc, wc) {
			if !whas {
				if we, ok := wm["enum"].([]any); ok && len(we) == 1 && reflect.DeepEqual(we[0], rc) {
					return
				}
			}
			c.fail(path, "the reader adds or changes \"const\" to %s", jsonText(rc))
		}
		return
	}
	re, has := rm["enum"].([]any)
	if !has {
		return
	}
	var wvals []any
	if we, ok := wm["enum"].([]any); ok {
		wvals = we
	} else if wc, ok := wm["const"]; ok {
		wvals = []any{wc}
	} else {
		c.fail(path, "the reader adds \"enum\" %s", jsonText(re))
		return
	}
	for _, v := range wvals {
		if !slices.ContainsFunc(re, func(x any) bool { return reflect.DeepEqual(x, v) }) {
			c.fail(path, "the writer's enum value %s is missing from the reader's enum", jsonText(v))
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonBounds lists the bound keywords: true for an upper bound, false for a lower one.
var jsonBounds = []struct {
	key   string
	upper bool
	kind  string // the type of value the keyword constrains
}{
	{"maxLength", true, "string"}, {"minLength", false, "string"},
	{"maximum", true, "number"}, {"minimum", false, "number"},
	{"exclusiveMaximum", true, "number"}, {"exclusiveMinimum", false, "number"},
	{"maxItems", true, "array"}, {"minItems", false, "array"},
	{"maxProperties", true, "object"}, {"minProperties", false, "object"},
}

// writerMay reports whether the writer's schema allows values of the type kind ("number" includes "integer").
func writerMay(wm map[string]any, kind string) bool {
	wt := jsonTypes(wm)
	if wt == nil || slices.Contains(wt, kind) {
		return true
	}
	return kind == "number" && slices.Contains(wt, "integer")
}

func number(v any) (*big.Rat, bool) {
	switch t := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(t.String())
	case float64:
		return new(big.Rat).SetFloat64(t), true
	}
	return nil, false
}

func (c *jsonChecker) bounds(rm, wm map[string]any, path string) {
	for _, b := range jsonBounds {
		rv, has := number(rm[b.key])
		if !has || !writerMay(wm, b.kind) {
			continue
		}
		wv, whas := number(wm[b.key])
		if !whas {
			c.fail(path, "the reader adds %s %s", b.key, rv.RatString())
			continue
		}
		if b.upper && rv.Cmp(wv) < 0 {
			c.fail(path, "the reader decreases %s from %s to %s", b.key, wv.RatString(), rv.RatString())
		}
		if !b.upper && rv.Cmp(wv) > 0 {
			c.fail(path, "the reader increases %s from %s to %s", b.key, wv.RatString(), rv.RatString())
		}
	}
	if rv, has := number(rm["multipleOf"]); has && writerMay(wm, "number") {
		wv, whas := number(wm["multipleOf"])
		switch {
		case !whas:
			c.fail(path, "the reader adds multipleOf %s", rv.RatString())
		case !new(big.Rat).Quo(wv, rv).IsInt():
			c.fail(path, "the reader changes multipleOf from %s to %s, which does not divide it", wv.RatString(), rv.RatString())
		}
	}
	if ru, _ := rm["uniqueItems"].(bool); ru && writerMay(wm, "array") {
		if wu, _ := wm["uniqueItems"].(bool); !wu {
			c.fail(path, "the reader adds uniqueItems")
		}
	}
}

func (c *jsonChecker) strings(rm, wm map[string]any, path string) {
	for _, k := range []string{"pattern", "format", "contentEncoding", "contentMediaType"} {
		rv, has := rm[k]
		if !has {
			continue
		}
		wv, whas := wm[k]
		if !whas {
			c.fail(path, "the reader adds %s %s", k, jsonText(rv))
		} else if !reflect.DeepEqual(rv, wv) {
			c.fail(path, "the reader changes %s from %s to %s", k, jsonText(wv), jsonText(rv))
		}
	}
}

// props returns the schema's properties.
func props(m map[string]any) map[string]any {
	p, _ := m["properties"].(map[string]any)
	return p
}

func required(m map[string]any) []string {
	var out []string
	if r, ok := m["required"].([]any); ok {
		for _, e := range r {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// additional returns the schema a property not declared in m must satisfy, per patternProperties and
// additionalProperties (absent means true: an open content model).
func additional(m map[string]any, name string) any {
	if pp, ok := m["patternProperties"].(map[string]any); ok {
		for pat, s := range pp {
			if re, err := compileECMA(pat); err == nil && re.MatchString(name) {
				return s
			}
		}
	}
	if ap, ok := m["additionalProperties"]; ok {
		return ap
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *jsonChecker) object(r, w jnode, rm, wm map[string]any, path string) {
	rp, wp := props(rm), props(wm)
	wReq := required(wm)
	for _, name := range required(rm) {
		if slices.Contains(wReq, name) {
			continue
		}
		if pm, ok := rp[name].(map[string]any); ok {
			if _, hasDefault := pm["default"]; hasDefault {
				continue
			}
		}
		c.fail(path+"/required", "the reader requires property %q, which the writer does not require", name)
	}
	for _, name := range sortedKeys(rp) {
		ppath := path + "/properties/" + name
		if ws, ok := wp[name]; ok {
			c.check(jnode{v: rp[name], root: r.root}, jnode{v: ws, root: w.root}, ppath)
			continue
		}
		wa := additional(wm, name)
		if b, isBool := wa.(bool); isBool && !b {
			continue // the writer's closed content model never writes it
		}
		if !c.passes(jnode{v: rp[name], root: r.root}, jnode{v: wa, root: w.root}) {
			if b, isBool := wa.(bool); isBool && b {
				c.fail(ppath, "the reader adds property %q, which the writer's open content model allows with any value", name)
			} else {
				c.fail(ppath, "the reader adds property %q, which the writer's additional or pattern properties allow with values the reader does not accept", name)
			}
		}
	}
	for _, name := range sortedKeys(wp) {
		if _, ok := rp[name]; ok {
			continue
		}
		ra := additional(rm, name)
		if b, isBool := ra.(bool); isBool && !b {
			c.fail(path+"/properties/"+name, "the reader removes property %q from its closed content model", name)
			continue
		}
		if !c.passes(jnode{v: ra, root: r.root}, jnode{v: wp[name], root: w.root}) {
			c.fail(path+"/properties/"+name, "the reader removes property %q, and its additional or pattern properties do not accept the writer's values", name)
		}
	}
	rap, rHas := rm["additionalProperties"]
	wap, wHas := wm["additionalProperties"]
	if rHas && !reflect.DeepEqual(rap, wap) {
		if !wHas {
			wap = true
		}
		if b, isBool := rap.(bool); isBool && !b {
			if wb, wIsBool := wap.(bool); !wIsBool || wb {
				c.fail(path+"/additionalProperties", "the reader closes the content model (additionalProperties false) that the writer leaves open")
			}
			return
		}
		if !c.passes(jnode{v: rap, root: r.root}, jnode{v: wap, root: w.root}) {
			c.fail(path+"/additionalProperties", "the reader narrows additionalProperties")
		}
	}
	for _, k := range []string{"dependencies", "dependentRequired", "dependentSchemas", "propertyNames"} {
		if rv, has := rm[k]; has && !reflect.DeepEqual(rv, wm[k]) {
			c.fail(path, "the reader adds or changes %s", k)
		}
	}
}

// tuple returns the schema's positional item schemas and the schema for the items after them.
func tuple(m map[string]any) ([]any, any, bool) {
	if pi, ok := m["prefixItems"].([]any); ok {
		rest, has := m["items"]
		if !has {
			rest = true
		}
		return pi, rest, true
	}
	if it, ok := m["items"].([]any); ok {
		rest, has := m["additionalItems"]
		if !has {
			rest = true
		}
		return it, rest, true
	}
	return nil, nil, false
}

func (c *jsonChecker) array(r, w jnode, rm, wm map[string]any, path string) {
	rt, rRest, rIsTuple := tuple(rm)
	wt, wRest, wIsTuple := tuple(wm)
	if !rIsTuple && !wIsTuple {
		ri, rHas := rm["items"]
		if !rHas {
			return
		}
		wi, wHas := wm["items"]
		if !wHas {
			wi = true
		}
		c.check(jnode{v: ri, root: r.root}, jnode{v: wi, root: w.root}, path+"/items")
		return
	}
	if !rIsTuple {
		ri, rHas := rm["items"]
		if !rHas {
			return
		}
		for _, ws := range wt {
			c.check(jnode{v: ri, root: r.root}, jnode{v: ws, root: w.root}, path+"/items")
		}
		c.check(jnode{v: ri, root: r.root}, jnode{v: wRest, root: w.root}, path+"/items")
		return
	}
	if !wIsTuple {
		wRest = true
		if wi, ok := wm["items"]; ok {
			wRest = wi
		}
	}
	n := max(len(rt), len(wt))
	for i := range n {
		rs, ws := rRest, wRest
		if i < len(rt) {
			rs = rt[i]
		}
		if i < len(wt) {
			ws = wt[i]
		}
		if b, isBool := ws.(bool); isBool && !b {
			continue
		}
		ipath := fmt.Sprintf("%s/items/%d", path, i)
		if i >= len(rt) {
			if b, isBool := rs.(bool); isBool && !b {
				c.fail(ipath, "the reader removes item %d from its closed tuple", i)
				continue
			}
		}
		if i >= len(wt) {
			if !c.passes(jnode{v: rs, root: r.root}, jnode{v: ws, root: w.root}) {
				c.fail(ipath, "the reader adds item %d, which the writer's open tuple allows with values the reader does not accept", i)
			}
			continue
		}
		c.check(jnode{v: rs, root: r.root}, jnode{v: ws, root: w.root}, ipath)
	}
	if !reflect.DeepEqual(rRest, wRest) && !c.passes(jnode{v: rRest, root: r.root}, jnode{v: wRest, root: w.root}) {
		if b, isBool := rRest.(bool); isBool && !b {
			c.fail(path, "the reader closes the tuple (no additional items) that the writer leaves open")
		} else {
			c.fail(path, "the reader narrows the items after the tuple")
		}
	}
}

// compileECMA compiles a patternProperties pattern with Go's regexp, which accepts the common subset of ECMA 262.
func compileECMA(pat string) (*regexp.Regexp, error) { return regexp.Compile(pat) }
