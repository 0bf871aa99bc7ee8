package quality

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/valyala/fastjson"

	"github.com/bigfather/bigfather/internal/config"
)

// This file loads log definitions, compiles them into nodes that validate.go runs, and builds the column
// set: the declared columns, then the union of the definitions' top-level properties.

// kind is how a column's values are converted.
type kind uint8

const (
	kString kind = iota
	kLong
	kInt
	kDouble
	kFloat
	kBool
	kTimestamp
	kDate
	kJSON // a string column holding an object or array property as compact JSON text
)

var kinds = map[config.ColumnType]kind{
	config.TypeString: kString, config.TypeLong: kLong, config.TypeInt: kInt, config.TypeDouble: kDouble,
	config.TypeFloat: kFloat, config.TypeBoolean: kBool, config.TypeTimestamp: kTimestamp, config.TypeDate: kDate,
}

// column is one table column with its cleansing rules.
type column struct {
	name     string
	typ      config.ColumnType
	kind     kind
	json     typeSet // kJSON: the JSON type (tObject or tArray)
	required bool
	explicit bool   // declared in table.columns
	origin   string // the definition file that first declared it, for conflict messages

	lower, upper  bool
	aliases       map[string]int // value after trim and case → index into canon
	canon         [][]byte
	nullIfInvalid bool
	future        bool // the future-timestamp rule applies
}

// definition is one compiled log definition.
type definition struct {
	name    string
	version int
	file    string // the file as named in the config, or the origin of a DefinitionSource
	named   string // what gave the definition its name, for messages
	root    *node
	props   []defProp // the top-level properties in file order
	propOf  []int     // per column: index into props, -1 when the definition does not declare it
	others  []int     // columns the definition does not declare
	fields  []string
}

// defProp is a top-level property of a definition, stored in column col.
type defProp struct {
	col      int
	node     *node
	required bool
}

// typeSet is a set of JSON Schema types.
type typeSet uint8

const (
	tNull typeSet = 1 << iota
	tBoolean
	tInteger
	tNumber
	tString
	tObject
	tArray
)

var typeNames = []struct {
	t          typeSet
	name, text string
}{
	{tString, "string", "a string"}, {tInteger, "integer", "an integer"}, {tNumber, "number", "a number"},
	{tBoolean, "boolean", "true or false"}, {tObject, "object", "an object"}, {tArray, "array", "an array"},
	{tNull, "null", "null"},
}

// name is the schema name of a single type, or the names joined with "/".
func (t typeSet) name() string {
	var parts []string
	for _, tn := range typeNames {
		if t&tn.t != 0 {
			parts = append(parts, tn.name)
		}
	}
	return strings.Join(parts, "/")
}

// format is a supported "format" value.
type format uint8

const (
	fmtNone format = iota
	fmtDateTime
	fmtDate
)

// node is one compiled schema. Zero values mean "no constraint".
type node struct {
	never bool  // the false schema
	ref   *node // $ref target; its keywords apply as well as the node's own
	types typeSet
	fmt   format

	enum     []literal
	isConst  bool
	enumText string // the enum values as JSON literals, for messages

	min, max, xmin, xmax *bound

	minLen, maxLen int // -1: none
	pat            *pattern

	props         []prop
	propIndex     map[string]int
	extraRequired []string // required names without a properties entry
	addl          *node    // additionalProperties; nil allows anything

	items              *node
	minItems, maxItems int // -1: none

	expected string // what the type keyword expects, for messages
}

type prop struct {
	name     string
	node     *node
	required bool
}

// bound is a numeric limit as written in the schema.
type bound struct {
	f     float64
	i     int64
	isInt bool
	text  string
}

// literal is an enum or const value.
type literal struct {
	kind jkind
	s    []byte
	f    float64
	text string // as JSON
}

// allowsNull reports whether a null passes the node's type keyword (through $ref too).
func (n *node) allowsNull() bool {
	for ; n != nil; n = n.ref {
		if n.never || (n.types != 0 && n.types&tNull == 0) {
			return false
		}
	}
	return true
}

// resolveType returns the non-null types a node accepts, following $ref and, without a type keyword,
// inferring it from const or enum; its format; and whether null is allowed.
func (n *node) resolveType() (t typeSet, f format, nullable bool) {
	seen := 0
	for cur := n; cur != nil && seen < 64; cur, seen = cur.ref, seen+1 {
		if f == fmtNone {
			f = cur.fmt
		}
		if t == 0 && cur.types != 0 {
			t, nullable = cur.types&^tNull, cur.types&tNull != 0
		}
		if t == 0 && len(cur.enum) > 0 {
			for _, l := range cur.enum {
				switch l.kind {
				case jNull:
					nullable = true
				case jBool:
					t |= tBoolean
				case jString:
					t |= tString
				case jNumber:
					if l.f == math.Trunc(l.f) {
						t |= tInteger
					} else {
						t |= tNumber
					}
				}
			}
			if t == tInteger|tNumber {
				t = tNumber
			}
		}
	}
	return t, f, nullable
}

// compile builds the shared checks of pipeline p, with the in-memory definitions of o.
func compile(p *config.Pipeline, o options) (*shared, error) {
	s := &shared{index: map[string]int{}, selectCol: -1}
	s.maxBytes = p.Limits.MaxRecordBytes
	if s.maxBytes <= 0 {
		s.maxBytes = 1 << 20
	}
	s.maxDepth = p.Limits.MaxDepth
	if s.maxDepth <= 0 {
		s.maxDepth = 32
	}
	for _, c := range p.Table.Columns {
		k, ok := kinds[c.Type]
		if !ok {
			return nil, fmt.Errorf("column %q: type %q is not supported for JSON", c.Name, c.Type)
		}
		if _, dup := s.index[c.Name]; dup {
			return nil, fmt.Errorf("column %q is declared twice", c.Name)
		}
		s.index[c.Name] = len(s.cols)
		s.cols = append(s.cols, column{name: c.Name, typ: c.Type, kind: k, required: c.Required, explicit: true})
	}
	if p.Definitions.Enabled() || len(o.sources) > 0 {
		if err := s.loadDefinitions(p.Definitions, o.sources); err != nil {
			return nil, err
		}
	}
	for _, c := range s.cols {
		s.pub = append(s.pub, config.Column{Name: c.name, Type: c.typ, Required: c.required})
	}
	s.keys = newKeyIndex(s.index)
	if err := s.cleanseRules(p.Cleanse); err != nil {
		return nil, err
	}
	return s, nil
}

// cleanseRules compiles the per-field rules and the future rule.
func (s *shared) cleanseRules(cl config.Cleanse) error {
	s.trim, s.coerceNumbers, s.coerceTimes = cl.Trim, cl.CoerceNumbers, cl.CoerceTimestamps
	for _, f := range cl.Fields {
		i, ok := s.index[f.Field]
		if !ok {
			return fmt.Errorf("cleanse: field %q is not a column (columns: %s)", f.Field, s.columnNames())
		}
		col := &s.cols[i]
		switch f.Case {
		case "":
		case "lower":
			col.lower = true
		case "upper":
			col.upper = true
		default:
			return fmt.Errorf("cleanse: field %q: unknown case %q (expected lower or upper)", f.Field, f.Case)
		}
		if len(f.Aliases) > 0 {
			col.aliases = map[string]int{}
			keys := make([]string, 0, len(f.Aliases))
			for k := range f.Aliases {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				// Keys meet values after trimming and case, so they are normalized the same way.
				norm := k
				if s.trim {
					norm = strings.TrimSpace(norm)
				}
				norm = string(changeCase(nil, []byte(norm), col.upper, col.lower))
				if _, dup := col.aliases[norm]; dup {
					return fmt.Errorf("cleanse: field %q: aliases %q and another key are the same after trimming and case", f.Field, k)
				}
				col.aliases[norm] = len(col.canon)
				col.canon = append(col.canon, []byte(f.Aliases[k]))
			}
		}
		col.nullIfInvalid = f.NullIfInvalid
	}
	fr := cl.Future
	switch {
	case fr.MaxSkew < 0:
		return fmt.Errorf("cleanse: future: max_skew must not be negative, got %s", fr.MaxSkew)
	case fr.MaxSkew == 0:
		return nil
	}
	field := fr.Field
	if field == "" {
		field = "event_time"
	}
	i, ok := s.index[field]
	if !ok || s.cols[i].kind != kTimestamp {
		return fmt.Errorf("cleanse: future: field %q is not a timestamp column", field)
	}
	switch fr.Action {
	case "", "reject":
	case "clamp":
		s.clamp = true
	default:
		return fmt.Errorf("cleanse: future: unknown action %q (expected reject or clamp)", fr.Action)
	}
	s.maxSkew = fr.MaxSkew
	s.cols[i].future = true
	return nil
}

func (s *shared) columnNames() string {
	names := make([]string, len(s.cols))
	for i, c := range s.cols {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

var (
	columnNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reservedColumns = []string{"_topic", "_partition", "_offset", "_kafka_timestamp", "_ingested_at"}
)

// loadDefinitions loads, checks and compiles the definition files, then the in-memory sources, and adds their
// properties as columns.
func (s *shared) loadDefinitions(d config.Definitions, sources []DefinitionSource) error {
	s.selectBy = d.SelectBy
	if s.selectBy == "" {
		s.selectBy = "event_type"
	}
	switch d.Unknown {
	case "", "reject":
	case "pass":
		s.passUnknown = true
	default:
		return fmt.Errorf("definitions: unknown policy %q (expected reject or pass)", d.Unknown)
	}
	s.defs = map[string]*definition{}
	for _, file := range d.Files {
		full := file
		if !filepath.IsAbs(full) {
			full = filepath.Join(d.BaseDir, file)
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return fmt.Errorf("definition %q: %w", file, err)
		}
		if _, err := compileOracle(full, data, false); err != nil {
			return fmt.Errorf("definition %q: %v", file, err)
		}
		def, err := compileDefinition(file, data)
		if err != nil {
			return fmt.Errorf("definition %q: %v", file, err)
		}
		if err := s.addDefinition(def); err != nil {
			return err
		}
	}
	if d.Registry.Enabled() && len(sources) == 0 {
		return fmt.Errorf("definitions.registry: no definitions were loaded for subject prefix %q (the caller reads them from the schema registry and passes them with WithDefinitions)", d.Registry.SubjectPrefix)
	}
	for _, src := range sources {
		def, err := compileSource(src)
		if err != nil {
			return err
		}
		if err := s.addDefinition(def); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(s.defList))
	for _, def := range s.defList {
		names = append(names, def.name)
	}
	sort.Strings(names)
	s.known = strings.Join(names, ", ")
	byName := map[string]int{}
	for i, def := range s.defList {
		byName[def.name] = i
	}
	s.defKeys = newKeyIndex(byName)
	if i, ok := s.index[s.selectBy]; ok {
		s.selectCol = i
	}
	for _, def := range s.defList {
		def.propOf = make([]int, len(s.cols))
		for i := range def.propOf {
			def.propOf[i] = -1
		}
		for pi, p := range def.props {
			def.propOf[p.col] = pi
		}
		for i, pi := range def.propOf {
			if pi < 0 {
				def.others = append(def.others, i)
			}
		}
	}
	return nil
}

// compileSource checks and compiles a definition given in memory: its event type and version are the
// source's, whatever its title and version keyword say.
func compileSource(src DefinitionSource) (*definition, error) {
	label := src.Origin
	if label == "" {
		label = "event type " + src.EventType
	}
	switch {
	case src.EventType == "":
		return nil, fmt.Errorf("definition %q: no event type", label)
	case src.Version < 1:
		return nil, fmt.Errorf("definition %q: version must be a positive integer, got %d", label, src.Version)
	}
	loc := "https://bigfather.invalid/definitions/" + url.PathEscape(src.EventType) + ".json"
	if _, err := compileOracleAt(loc, src.Schema, false); err != nil {
		return nil, fmt.Errorf("definition %q: %v", label, err)
	}
	def, err := compileDefinition(label, src.Schema)
	if err != nil {
		return nil, fmt.Errorf("definition %q: %v", label, err)
	}
	def.name, def.version, def.named = src.EventType, src.Version, "the event type it was given for"
	return def, nil
}

// addDefinition checks a compiled definition against those already loaded and adds it with its columns.
func (s *shared) addDefinition(def *definition) error {
	if prev, dup := s.defs[def.name]; dup {
		return fmt.Errorf("definition %q: event type %q is also defined by %q", def.file, def.name, prev.file)
	}
	if err := s.checkSelect(def); err != nil {
		return fmt.Errorf("definition %q: %v", def.file, err)
	}
	if err := s.addColumns(def); err != nil {
		return err
	}
	s.defs[def.name] = def
	s.defList = append(s.defList, def)
	return nil
}

// checkSelect checks that a definition can select its own records.
func (s *shared) checkSelect(def *definition) error {
	i, ok := def.root.propIndex[s.selectBy]
	if !ok {
		if def.root.addl != nil && def.root.addl.never {
			return fmt.Errorf("additionalProperties is false but the select_by field %q is not among the properties", s.selectBy)
		}
		return nil
	}
	n := def.root.props[i].node
	for cur := n; cur != nil; cur = cur.ref {
		if cur.isConst && cur.enum[0].kind == jString && string(cur.enum[0].s) != def.name {
			return fmt.Errorf("property %q is const %s but the definition is for event type %q (%s)", s.selectBy, cur.enum[0].text, def.name, def.named)
		}
	}
	return nil
}

// addColumns adds the definition's properties to the column set, checking types against the declared
// columns and earlier definitions.
func (s *shared) addColumns(def *definition) error {
	for pi := range def.props {
		p := &def.props[pi]
		name := def.fields[pi]
		if !columnNameRe.MatchString(name) || slices.Contains(reservedColumns, strings.ToLower(name)) {
			return fmt.Errorf("definition %q: property %q cannot be a column (names are letters, digits and _, not starting with a digit, and not one of %s)",
				def.file, name, strings.Join(reservedColumns, ", "))
		}
		t, f, _ := p.node.resolveType()
		if t == tInteger|tNumber {
			t = tNumber
		}
		var typ config.ColumnType
		var k kind
		switch t {
		case tString:
			typ, k = config.TypeString, kString
			switch f {
			case fmtDateTime:
				typ, k = config.TypeTimestamp, kTimestamp
			case fmtDate:
				typ, k = config.TypeDate, kDate
			}
		case tInteger:
			typ, k = config.TypeLong, kLong
		case tNumber:
			typ, k = config.TypeDouble, kDouble
		case tBoolean:
			typ, k = config.TypeBoolean, kBool
		case tObject, tArray:
			typ, k = config.TypeString, kJSON
		case 0:
			return fmt.Errorf("definition %q: property %q: no type (give it a \"type\")", def.file, name)
		default:
			return fmt.Errorf("definition %q: property %q: several types (%s); a column needs one type, optionally with null", def.file, name, t.name())
		}
		i, ok := s.index[name]
		if !ok {
			i = len(s.cols)
			s.index[name] = i
			s.cols = append(s.cols, column{name: name, typ: typ, kind: k, origin: def.file})
			if k == kJSON {
				s.cols[i].json = t
			}
			p.col = i
			continue
		}
		p.col = i
		col := &s.cols[i]
		if col.explicit {
			if !fits(col.kind, t, f) {
				return fmt.Errorf("definition %q: property %q is %s, which does not fit its declared column type %s",
					def.file, name, describeType(t, f), col.typ)
			}
			continue
		}
		if col.kind != k || col.json != (t&(tObject|tArray)) {
			prev := describeType(col.json, fmtNone)
			if col.kind != kJSON {
				prev = string(col.typ)
			}
			cur := describeType(t, fmtNone)
			if k != kJSON {
				cur = string(typ)
			}
			return fmt.Errorf("definitions: property %q has conflicting types: %s in %q, %s in %q", name, prev, col.origin, cur, def.file)
		}
	}
	return nil
}

// fits reports whether a property of JSON type t and format f can be stored in a declared column of kind k.
func fits(k kind, t typeSet, f format) bool {
	switch k {
	case kString:
		return t == tString
	case kLong, kInt:
		return t == tInteger
	case kDouble, kFloat:
		return t == tInteger || t == tNumber
	case kBool:
		return t == tBoolean
	case kTimestamp:
		return t == tString && f == fmtDateTime
	case kDate:
		return t == tString && f == fmtDate
	}
	return false
}

func describeType(t typeSet, f format) string {
	switch {
	case t == tString && f == fmtDateTime:
		return "a date-time string"
	case t == tString && f == fmtDate:
		return "a date string"
	case t == tObject:
		return "an object"
	case t == tArray:
		return "an array"
	case t == tInteger:
		return "an integer"
	case t == tNumber:
		return "a number"
	case t == tBoolean:
		return "a boolean"
	case t == tString:
		return "a string"
	}
	return t.name()
}

// compileOracle compiles a definition file with the jsonschema library (draft 2020-12 unless the file says
// otherwise), which rejects schemas that are not valid against the meta-schema. assertFormat turns the
// format keyword into an assertion, as Check treats it.
func compileOracle(path string, data []byte, assertFormat bool) (*jsonschema.Schema, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return compileOracleAt((&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), data, assertFormat)
}

// compileOracleAt is compileOracle for a schema at the URL loc.
func compileOracleAt(loc string, data []byte, assertFormat bool) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if assertFormat {
		c.AssertFormat()
	}
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// supportedKeywords lists, for messages, the keywords definitions may use.
const supportedKeywords = "type, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, " +
	"pattern, format (date-time, date), properties, required, additionalProperties, items, minItems, maxItems, " +
	"$ref (#/$defs/...), $defs, and the annotations title, description, $comment, default, examples, deprecated, " +
	"readOnly, writeOnly; at the top level also $schema, $id and version"

// schemaCompiler compiles one definition file into nodes.
type schemaCompiler struct {
	defsObj     *fastjson.Object
	defs        map[string]*node
	unsupported []string
	problems    []string
}

// compileDefinition compiles the schema text of a definition file (named file in messages).
func compileDefinition(file string, data []byte) (*definition, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("the top level must be a JSON object with \"type\": \"object\" and \"properties\"")
	}
	top := v.GetObject()
	sc := &schemaCompiler{defs: map[string]*node{}}
	if dv := top.Get("$defs"); dv != nil && dv.Type() == fastjson.TypeObject {
		sc.defsObj = dv.GetObject()
	}
	def := &definition{file: file, version: 1, named: "its title"}
	def.name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if t := top.Get("title"); t != nil && t.Type() == fastjson.TypeString && len(t.GetStringBytes()) > 0 {
		def.name = string(t.GetStringBytes())
	}
	if sv := top.Get("$schema"); sv != nil {
		u := strings.TrimSuffix(string(sv.GetStringBytes()), "#")
		if u != "https://json-schema.org/draft/2020-12/schema" {
			return nil, fmt.Errorf("$schema is %s; definitions are draft 2020-12 (https://json-schema.org/draft/2020-12/schema)", sv)
		}
	}
	if vv := top.Get("version"); vv != nil {
		n, err := vv.Int()
		if err != nil || n < 1 {
			return nil, fmt.Errorf("version must be a positive integer, got %s", vv)
		}
		def.version = n
	}
	root := sc.node(v, "")
	if sc.defsObj != nil {
		sc.defsObj.Visit(func(key []byte, _ *fastjson.Value) { sc.refTo(string(key), "/$defs") })
	}
	if len(sc.unsupported) > 0 {
		return nil, fmt.Errorf("unsupported keywords: %s (supported: %s)", strings.Join(sc.unsupported, ", "), supportedKeywords)
	}
	if len(sc.problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(sc.problems, "; "))
	}
	if root.ref != nil || root.types&tObject == 0 || root.props == nil {
		return nil, fmt.Errorf("the top level must have \"type\": \"object\" and \"properties\"")
	}
	def.root = root
	for _, p := range root.props {
		def.props = append(def.props, defProp{node: p.node, required: p.required})
		def.fields = append(def.fields, p.name)
	}
	return def, nil
}

// node compiles the schema v found at JSON pointer ptr.
func (sc *schemaCompiler) node(v *fastjson.Value, ptr string) *node {
	n := &node{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
	switch v.Type() {
	case fastjson.TypeTrue:
		return n
	case fastjson.TypeFalse:
		n.never = true
		return n
	case fastjson.TypeObject:
	default:
		sc.problem(ptr, "a schema must be an object or a boolean")
		return n
	}
	var required []string
	v.GetObject().Visit(func(k []byte, kv *fastjson.Value) {
		key := string(k)
		kp := ptr + "/" + escapePointer(key)
		switch key {
		case "type":
			n.types = sc.types(kv, kp)
		case "enum":
			for i, ev := range kv.GetArray() {
				n.enum = append(n.enum, sc.literal(ev, kp+"/"+strconv.Itoa(i)))
			}
			if len(n.enum) == 0 {
				sc.problem(kp, "enum must be a non-empty array")
			}
		case "const":
			n.enum, n.isConst = []literal{sc.literal(kv, kp)}, true
		case "minimum":
			n.min = sc.bound(kv, kp)
		case "maximum":
			n.max = sc.bound(kv, kp)
		case "exclusiveMinimum":
			n.xmin = sc.bound(kv, kp)
		case "exclusiveMaximum":
			n.xmax = sc.bound(kv, kp)
		case "minLength":
			n.minLen = sc.count(kv, kp)
		case "maxLength":
			n.maxLen = sc.count(kv, kp)
		case "minItems":
			n.minItems = sc.count(kv, kp)
		case "maxItems":
			n.maxItems = sc.count(kv, kp)
		case "pattern":
			p, err := compilePattern(string(kv.GetStringBytes()))
			if err != nil {
				sc.problem(kp, err.Error())
			}
			n.pat = p
		case "format":
			switch f := string(kv.GetStringBytes()); f {
			case "date-time":
				n.fmt = fmtDateTime
			case "date":
				n.fmt = fmtDate
			default:
				sc.unsupported = append(sc.unsupported, fmt.Sprintf("%s %q", kp, f))
			}
		case "properties":
			n.propIndex = map[string]int{}
			n.props = []prop{}
			kv.GetObject().Visit(func(pk []byte, pv *fastjson.Value) {
				name := string(pk)
				n.propIndex[name] = len(n.props)
				n.props = append(n.props, prop{name: name, node: sc.node(pv, kp+"/"+escapePointer(name))})
			})
		case "required":
			for _, rv := range kv.GetArray() {
				required = append(required, string(rv.GetStringBytes()))
			}
		case "additionalProperties":
			if a := sc.node(kv, kp); a.never || !a.isEmpty() {
				n.addl = a
			}
		case "items":
			if it := sc.node(kv, kp); it.never || !it.isEmpty() {
				n.items = it
			}
		case "$ref":
			ref := string(kv.GetStringBytes())
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			if !ok || strings.Contains(name, "/") {
				sc.unsupported = append(sc.unsupported, fmt.Sprintf("%s %q (only \"#/$defs/NAME\" in the same file)", kp, ref))
				return
			}
			n.ref = sc.refTo(unescapePointer(name), kp)
		case "$defs", "$schema", "$id", "version":
			if ptr != "" {
				sc.unsupported = append(sc.unsupported, kp)
			}
		case "title", "description", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly":
		default:
			sc.unsupported = append(sc.unsupported, kp)
		}
	})
	for _, r := range required {
		if i, ok := n.propIndex[r]; ok {
			n.props[i].required = true
		} else if !slices.Contains(n.extraRequired, r) {
			n.extraRequired = append(n.extraRequired, r)
		}
	}
	n.expected = expectedText(n.types, n.fmt)
	if len(n.enum) > 0 {
		texts := make([]string, len(n.enum))
		for i, l := range n.enum {
			texts[i] = l.text
		}
		n.enumText = strings.Join(texts, ", ")
	}
	return n
}

// isEmpty reports whether n constrains nothing (the true schema or {}).
func (n *node) isEmpty() bool {
	return !n.never && n.ref == nil && n.types == 0 && n.fmt == fmtNone && n.enum == nil && n.min == nil && n.max == nil &&
		n.xmin == nil && n.xmax == nil && n.minLen < 0 && n.maxLen < 0 && n.pat == nil && n.props == nil &&
		n.extraRequired == nil && n.addl == nil && n.items == nil && n.minItems < 0 && n.maxItems < 0
}

// expectedText says what a type keyword expects, as wrong_type messages put it.
func expectedText(t typeSet, f format) string {
	var parts []string
	for _, tn := range typeNames {
		if t&tn.t == 0 || (tn.t == tInteger && t&tNumber != 0) {
			continue
		}
		text := tn.text
		if tn.t == tString {
			switch f {
			case fmtDateTime:
				text = "an RFC 3339 date-time string"
			case fmtDate:
				text = "a YYYY-MM-DD date string"
			}
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, " or ")
}

// refTo returns the node of $defs entry name, compiling it on first use; recursion is fine.
func (sc *schemaCompiler) refTo(name, ptr string) *node {
	if n, ok := sc.defs[name]; ok {
		return n
	}
	var v *fastjson.Value
	if sc.defsObj != nil {
		v = sc.defsObj.Get(name)
	}
	n := &node{}
	sc.defs[name] = n
	if v == nil {
		sc.problem(ptr, fmt.Sprintf("$ref to %q: no such entry in $defs", name))
		return n
	}
	*n = *sc.node(v, "/$defs/"+escapePointer(name))
	return n
}

func (sc *schemaCompiler) problem(ptr, msg string) {
	if ptr == "" {
		ptr = "(top level)"
	}
	sc.problems = append(sc.problems, ptr+": "+msg)
}

func (sc *schemaCompiler) types(v *fastjson.Value, ptr string) typeSet {
	one := func(tv *fastjson.Value) typeSet {
		name := string(tv.GetStringBytes())
		for _, tn := range typeNames {
			if tn.name == name {
				return tn.t
			}
		}
		sc.problem(ptr, fmt.Sprintf("unknown type %s", tv))
		return 0
	}
	if v.Type() == fastjson.TypeArray {
		var t typeSet
		for _, tv := range v.GetArray() {
			t |= one(tv)
		}
		return t
	}
	return one(v)
}

func (sc *schemaCompiler) literal(v *fastjson.Value, ptr string) literal {
	l := literal{text: v.String()}
	switch v.Type() {
	case fastjson.TypeString:
		l.kind, l.s = jString, []byte(string(v.GetStringBytes()))
		l.text = strconv.Quote(string(l.s))
	case fastjson.TypeNumber:
		l.kind, l.f = jNumber, v.GetFloat64()
	case fastjson.TypeTrue, fastjson.TypeFalse:
		l.kind = jBool
		if v.Type() == fastjson.TypeTrue {
			l.f = 1
		}
	case fastjson.TypeNull:
		l.kind = jNull
	default:
		sc.unsupported = append(sc.unsupported, ptr+" (object and array values)")
	}
	return l
}

func (sc *schemaCompiler) bound(v *fastjson.Value, ptr string) *bound {
	if v.Type() != fastjson.TypeNumber {
		sc.problem(ptr, "must be a number")
		return nil
	}
	b := &bound{text: v.String()}
	f, i, isInt, ok := parseNumber(v.MarshalTo(nil))
	if !ok {
		sc.problem(ptr, "number out of range")
		return nil
	}
	b.f, b.i, b.isInt = f, i, isInt
	return b
}

func (sc *schemaCompiler) count(v *fastjson.Value, ptr string) int {
	n, err := v.Int()
	if err != nil || n < 0 {
		sc.problem(ptr, "must be a non-negative integer")
		return -1
	}
	return n
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
