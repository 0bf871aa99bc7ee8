package quality

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the strict scan every record goes through before fastjson parses it. fastjson is lenient
// where a validation tool must not be: it takes NaN and Infinity, raw control characters inside strings,
// invalid UTF-8, lone surrogate escapes (kept as the literal text \ud800) and duplicate names (the last
// wins). The scan follows RFC 8259 exactly and adds Big Father's rules, in one pass, allocation-free for
// ordinary records:
//
//   - grammar, literals and numbers as RFC 8259 writes them → not_json;
//   - raw control characters (0x00–0x1F) and unknown escapes inside strings → not_json;
//   - bytes that are not UTF-8, and \u escapes of a lone UTF-16 surrogate, in a string or a name →
//     invalid_utf8 (no string Big Father writes may hold them);
//   - a name given twice in one object, compared after unescaping → duplicate_key;
//   - nesting deeper than the limit → too_deep.
//
// Problems are reported in the order they occur in the record, with the byte offset (from 0) and the path of
// the field they are in.

// frame is one open object or array while scanning.
type frame struct {
	obj   bool
	key   []byte // the member being read, as written between its quotes
	index int    // the element being read
	names int    // where this object's names start in Checker.seen
	set   map[string]struct{}
}

// name is one member name of an open object, unescaped when it was written with escapes.
type name struct {
	b  []byte
	at int
}

// namesLinear is how many names an object keeps in a list before duplicate checks switch to a set.
const namesLinear = 32

// maxPathBytes bounds the field paths in violations: a path may repeat long names hundreds of levels deep.
const maxPathBytes = 256

// plain marks the bytes a string may hold without a closer look: printable ASCII but the quote and the
// backslash.
var plain = func() (t [256]bool) {
	for b := 0x20; b < 0x80; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// scanner walks one record; it borrows the Checker's reusable stacks.
type scanner struct {
	c       *Checker
	raw     []byte
	escaped bool // the last string read held an escape
}

// scan checks raw by the rules above; nil means it is one JSON value, safe to parse.
func (c *Checker) scan(raw []byte) *Violation {
	s := scanner{c: c, raw: raw}
	v := s.run()
	for i := range c.stack {
		c.stack[i] = frame{}
	}
	c.stack, c.seen = c.stack[:0], c.seen[:0]
	return v
}

func (s *scanner) run() *Violation {
	raw, c := s.raw, s.c
	i := skipSpace(raw, 0)
	if i == len(raw) {
		return &Violation{CodeNotJSON, "", "record is empty, expected a JSON object"}
	}
	for {
		// A value starts at i.
		if i == len(raw) {
			return s.end(i)
		}
		switch ch := raw[i]; {
		case ch == '{' || ch == '[':
			if len(c.stack) >= c.s.maxDepth {
				return s.tooDeep()
			}
			c.stack = append(c.stack, frame{obj: ch == '{', names: len(c.seen)})
			i = skipSpace(raw, i+1)
			if i < len(raw) && raw[i] == closer(ch) {
				c.stack = c.stack[:len(c.stack)-1]
				i++
				break
			}
			if ch == '{' {
				var v *Violation
				if i, v = s.member(i); v != nil {
					return v
				}
			}
			continue
		case ch == '"':
			end, v := s.str(i, false)
			if v != nil {
				return v
			}
			i = end
		case ch == '-' || ch >= '0' && ch <= '9':
			end, v := s.number(i)
			if v != nil {
				return v
			}
			i = end
		case ch == 't' || ch == 'f' || ch == 'n':
			end, v := s.literal(i)
			if v != nil {
				return v
			}
			i = end
		default:
			return s.unexpected(i, "a value")
		}
		// A value ended before i: close containers and find the next value.
		for {
			i = skipSpace(raw, i)
			n := len(c.stack)
			if n == 0 {
				if i < len(raw) {
					return s.at(fmt.Sprintf("unexpected %s at byte offset %d, after the end of the JSON value", show(raw, i), i))
				}
				return nil
			}
			if i == len(raw) {
				return s.end(i)
			}
			top := &c.stack[n-1]
			switch ch := raw[i]; {
			case ch == ',':
				i = skipSpace(raw, i+1)
				if top.obj {
					var v *Violation
					if i, v = s.member(i); v != nil {
						return v
					}
				} else {
					top.index++
				}
			case top.obj && ch == '}' || !top.obj && ch == ']':
				c.seen = c.seen[:top.names]
				*top = frame{}
				c.stack = c.stack[:n-1]
				i++
				continue
			case top.obj:
				return s.unexpected(i, "',' or '}'")
			default:
				return s.unexpected(i, "',' or ']'")
			}
			break
		}
	}
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// member reads `"name" :` at i, checks the name is new in its object, and returns where the value starts.
func (s *scanner) member(i int) (int, *Violation) {
	raw, c := s.raw, s.c
	if i == len(raw) {
		return i, s.end(i)
	}
	c.stack[len(c.stack)-1].key = nil // the path of a problem in the name is the object's
	if raw[i] != '"' {
		return i, s.unexpected(i, "a quoted field name")
	}
	end, v := s.str(i, true)
	if v != nil {
		return i, v
	}
	top := &c.stack[len(c.stack)-1]
	top.key = raw[i+1 : end-1]
	if v := s.remember(top, i); v != nil {
		return i, v
	}
	j := skipSpace(raw, end)
	if j == len(raw) {
		return j, s.end(j)
	}
	if raw[j] != ':' {
		return j, s.unexpected(j, "':'")
	}
	return skipSpace(raw, j+1), nil
}

// remember adds the current name of object top, which starts at byte at, to its names; a name it already has
// is a duplicate_key.
func (s *scanner) remember(top *frame, at int) *Violation {
	c := s.c
	key := top.key
	if s.escaped {
		key = unescape(key)
	}
	var first = -1
	if top.set != nil {
		if _, dup := top.set[string(key)]; dup {
			first = 0
		} else {
			top.set[string(key)] = struct{}{}
		}
	} else {
		for _, n := range c.seen[top.names:] {
			if bytes.Equal(n.b, key) {
				first = n.at
				break
			}
		}
		c.seen = append(c.seen, name{b: key, at: at})
		if len(c.seen)-top.names > namesLinear {
			top.set = make(map[string]struct{}, 2*namesLinear)
			for _, n := range c.seen[top.names:] {
				top.set[string(n.b)] = struct{}{}
			}
		}
	}
	if first < 0 {
		return nil
	}
	path := s.path()
	where := fmt.Sprintf("at byte offset %d", at)
	if first > 0 {
		where = fmt.Sprintf("at byte offsets %d and %d", first, at)
	}
	return &Violation{CodeDuplicateKey, path, fmt.Sprintf("field %q is given twice in one object (%s); each field may appear once", path, where)}
}

// str checks the string starting at the quote at i and returns the offset after its closing quote.
func (s *scanner) str(i int, isName bool) (int, *Violation) {
	raw := s.raw
	s.escaped = false
	j := i + 1
	for j < len(raw) {
		// Eight plain bytes at a time: most strings are short ASCII runs (ids, times, names).
		for j+8 <= len(raw) && !special(binary.LittleEndian.Uint64(raw[j:])) {
			j += 8
		}
		if j == len(raw) {
			break
		}
		b := raw[j]
		if plain[b] {
			j++
			continue
		}
		switch {
		case b == '"':
			return j + 1, nil
		case b == '\\':
			s.escaped = true
			n, v := s.escape(j, i, isName)
			if v != nil {
				return j, v
			}
			j += n
		case b < 0x20:
			return j, s.inString(i, isName, CodeNotJSON, fmt.Sprintf("raw control character 0x%02x at byte offset %d (JSON requires it escaped, e.g. as \\u%04x)", b, j, b))
		default:
			r, size := utf8.DecodeRune(raw[j:])
			if r == utf8.RuneError && size == 1 {
				return j, s.inString(i, isName, CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte offset %d (byte 0x%02x)", j, b))
			}
			j += size
		}
	}
	what := "string"
	if isName {
		what = "field name"
	}
	return j, s.at(fmt.Sprintf("unexpected end of the record in the %s that starts at byte offset %d", what, i))
}

// escape checks the escape sequence at j (a backslash) in the string starting at start and returns its length.
func (s *scanner) escape(j, start int, isName bool) (int, *Violation) {
	raw := s.raw
	if j+1 >= len(raw) {
		return 0, s.at(fmt.Sprintf("unexpected end of the record in an escape sequence at byte offset %d", j))
	}
	switch raw[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, s.inString(start, isName, CodeNotJSON, fmt.Sprintf("invalid escape %s at byte offset %d", showEscape(raw[j:j+2]), j))
	}
	r, ok := hex4(raw, j+2)
	if !ok {
		return 0, s.inString(start, isName, CodeNotJSON, fmt.Sprintf("invalid escape %s at byte offset %d (\\u needs four hex digits)", showEscape(raw[j:min(j+6, len(raw))]), j))
	}
	if r < 0xd800 || r > 0xdfff {
		return 6, nil
	}
	if r <= 0xdbff && j+7 < len(raw) && raw[j+6] == '\\' && raw[j+7] == 'u' {
		if lo, ok := hex4(raw, j+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 12, nil
		}
	}
	return 0, s.inString(start, isName, CodeInvalidUTF8, fmt.Sprintf("the escape %s at byte offset %d is a lone UTF-16 surrogate, which is not a character", raw[j:j+6], j))
}

// special reports whether any of the eight bytes in w needs a closer look in a string: a control character,
// the quote, the backslash, or a byte of a multi-byte sequence.
func special(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := w^('"'*ones), w^('\\'*ones)
	return (w|((w-0x20*ones)&^w)|((q-ones)&^q)|((bs-ones)&^bs))&highs != 0
}

func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, b := range raw[at : at+4] {
		var d byte
		switch {
		case b >= '0' && b <= '9':
			d = b - '0'
		case b >= 'a' && b <= 'f':
			d = b - 'a' + 10
		case b >= 'A' && b <= 'F':
			d = b - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// inString reports a problem inside the string (or, with isName, the field name) starting at start.
func (s *scanner) inString(start int, isName bool, code, what string) *Violation {
	path := s.path()
	if isName {
		// The name is not part of the path yet; name it as far as it can be read.
		end := start + 1
		for end < len(s.raw) && s.raw[end] != '"' {
			if s.raw[end] == '\\' {
				end++
			}
			end++
		}
		key := strings.ToValidUTF8(string(s.raw[start+1:min(end, len(s.raw))]), "\uFFFD")
		key = strings.Map(func(r rune) rune {
			if r < 0x20 {
				return '\uFFFD'
			}
			return r
		}, key)
		if path != "" {
			key = path + "." + key
		}
		key = clipPath(key)
		msg := fmt.Sprintf("field name %q: %s", key, what)
		if code == CodeNotJSON {
			msg = "record is not valid JSON: " + msg
		}
		return &Violation{code, key, msg}
	}
	msg := what
	if path != "" {
		msg = fmt.Sprintf("field %q: %s", path, what)
	}
	if code == CodeNotJSON {
		msg = "record is not valid JSON: " + msg
	}
	return &Violation{code, path, msg}
}

// number checks the number starting at i (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) and
// returns the offset after it.
func (s *scanner) number(i int) (int, *Violation) {
	raw := s.raw
	j := i
	if raw[j] == '-' {
		j++
		if j < len(raw) && isLetter(raw[j]) {
			return j, s.notNumber(i)
		}
	}
	digits := func() int {
		k := j
		for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
			j++
		}
		return j - k
	}
	switch {
	case j < len(raw) && raw[j] == '0':
		j++
	case digits() == 0:
		return j, s.badNumber(i)
	}
	if j < len(raw) && raw[j] == '.' {
		j++
		if digits() == 0 {
			return j, s.badNumber(i)
		}
	}
	if j < len(raw) && (raw[j] == 'e' || raw[j] == 'E') {
		j++
		if j < len(raw) && (raw[j] == '+' || raw[j] == '-') {
			j++
		}
		if digits() == 0 {
			return j, s.badNumber(i)
		}
	}
	if j < len(raw) && (raw[j] >= '0' && raw[j] <= '9' || isLetter(raw[j]) || raw[j] == '.') {
		return j, s.badNumber(i) // 01, 1.2.3, 1x
	}
	return j, nil
}

func (s *scanner) badNumber(i int) *Violation {
	end := i + 1
	for end < len(s.raw) && end-i < 32 && (isLetter(s.raw[end]) || s.raw[end] >= '0' && s.raw[end] <= '9' || strings.IndexByte(".+-", s.raw[end]) >= 0) {
		end++
	}
	return s.at(fmt.Sprintf("invalid number %q at byte offset %d", s.raw[i:end], i))
}

// notNumber reports NaN, Infinity and their spellings, which JSON does not have.
func (s *scanner) notNumber(i int) *Violation {
	end := i
	if s.raw[end] == '-' {
		end++
	}
	for end < len(s.raw) && end-i < 32 && isLetter(s.raw[end]) {
		end++
	}
	return s.at(fmt.Sprintf("%s at byte offset %d is not a JSON value (JSON has no NaN or Infinity)", s.raw[i:end], i))
}

// literal checks true, false or null at i.
func (s *scanner) literal(i int) (int, *Violation) {
	raw := s.raw
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(raw[i:], []byte(lit)) && (i+len(lit) == len(raw) || !isLetter(raw[i+len(lit)])) {
			return i + len(lit), nil
		}
	}
	return i, s.unexpected(i, "a value")
}

// unexpected reports the byte at i where want was expected.
func (s *scanner) unexpected(i int, want string) *Violation {
	if isLetter(s.raw[i]) {
		end := i
		for end < len(s.raw) && end-i < 32 && isLetter(s.raw[end]) {
			end++
		}
		switch strings.ToLower(string(s.raw[i:end])) {
		case "nan", "inf", "infinity":
			if want == "a value" {
				return s.notNumber(i)
			}
		}
	}
	if s.raw[i] >= 0x80 {
		if r, size := utf8.DecodeRune(s.raw[i:]); r == utf8.RuneError && size == 1 {
			return &Violation{CodeInvalidUTF8, s.path(), s.fieldMsg(fmt.Sprintf("invalid UTF-8 at byte offset %d (byte 0x%02x), outside any string", i, s.raw[i]))}
		}
	}
	return s.at(fmt.Sprintf("unexpected %s at byte offset %d, expected %s", show(s.raw, i), i, want))
}

// end reports that the record stops inside an open object or array.
func (s *scanner) end(i int) *Violation {
	what := "a value"
	if n := len(s.c.stack); n > 0 {
		what = "an array"
		if s.c.stack[n-1].obj {
			what = "an object"
		}
	}
	return s.at(fmt.Sprintf("unexpected end of the record at byte offset %d, inside %s", i, what))
}

// at is a not_json violation at the current path.
func (s *scanner) at(what string) *Violation {
	return &Violation{CodeNotJSON, s.path(), "record is not valid JSON: " + s.fieldMsg(what)}
}

func (s *scanner) fieldMsg(what string) string {
	if p := s.path(); p != "" {
		return fmt.Sprintf("field %q: %s", p, what)
	}
	return what
}

// tooDeep reports an object or array opened past the depth limit.
func (s *scanner) tooDeep() *Violation {
	st, limit := s.c.stack, s.c.s.maxDepth
	path := s.path()
	if path == "" {
		return &Violation{CodeTooDeep, "", fmt.Sprintf("record nests %d levels deep, more than the %d-level limit", len(st)+1, limit)}
	}
	return &Violation{CodeTooDeep, path, fmt.Sprintf("field %q: nesting depth %d is more than the %d-level limit", path, len(st)+1, limit)}
}

// path renders the location of the open frames as "a.b[2]", clipped to maxPathBytes.
func (s *scanner) path() string {
	st := s.c.stack
	if len(st) == 0 {
		return ""
	}
	var b strings.Builder
	for k, f := range st {
		if b.Len() > maxPathBytes {
			break
		}
		if !f.obj {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if f.key == nil && k == len(st)-1 {
			break // no member read yet
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(f.key)
	}
	return clipPath(b.String())
}

// clipPath shortens a path to maxPathBytes, on a character boundary, marking the cut with "…".
func clipPath(p string) string {
	if len(p) <= maxPathBytes {
		return p
	}
	cut := maxPathBytes
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// show names the byte at i for messages: 'x' for printable ASCII, else its hex value.
func show(raw []byte, i int) string {
	b := raw[i]
	if b > 0x20 && b < 0x7f {
		return fmt.Sprintf("'%c'", b)
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

func showEscape(e []byte) string {
	var b strings.Builder
	for _, ch := range e {
		if ch > 0x20 && ch < 0x7f {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "\\x%02x", ch)
		}
	}
	return b.String()
}

// unescape decodes the escapes of a name that the scan has checked.
func unescape(key []byte) []byte {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '\\' {
			out = append(out, key[i])
			continue
		}
		i++
		switch key[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(key, i+1)
			i += 4
			if r >= 0xd800 && r <= 0xdbff {
				lo, _ := hex4(key, i+3)
				r = (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000
				i += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, key[i])
		}
	}
	return out
}
