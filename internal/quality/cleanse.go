package quality

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// This file applies the cleansing rules of config.Cleanse to a top-level field, before it is validated.
// Nested values are not cleansed: they are stored as JSON text as they came.

// load describes the value v of column i after cleansing: strings are trimmed, case-changed and mapped
// through aliases; numeric strings become numbers for numeric columns (coerce_numbers); epoch numbers and
// numeric strings become timestamps for timestamp columns (coerce_timestamps).
func (c *Checker) load(i int, col *column, v *fastjson.Value, sc *scalar) {
	s := c.s
	c.scalarOf(v, sc)
	switch sc.kind {
	case jString:
		if s.trim && len(sc.s) > 0 && (sc.s[0] <= ' ' || sc.s[len(sc.s)-1] <= ' ' || sc.s[0] >= 0x80 || sc.s[len(sc.s)-1] >= 0x80) {
			sc.s = bytes.TrimSpace(sc.s)
		}
		if col.lower || col.upper {
			c.bufs[i] = changeCase(c.bufs[i][:0], sc.s, col.upper, col.lower)
			sc.s = c.bufs[i]
		}
		if col.aliases != nil {
			if j, ok := col.aliases[string(sc.s)]; ok {
				sc.s = col.canon[j]
			}
		}
		switch col.kind {
		case kLong, kInt, kDouble, kFloat:
			if s.coerceNumbers && isJSONNumber(sc.s) {
				text := sc.s
				*sc = scalar{kind: jNumber, s: text}
				sc.f, sc.i, sc.isInt, sc.numOK = parseNumber(text)
			}
		case kTimestamp:
			if s.coerceTimes && isJSONNumber(sc.s) {
				num := scalar{kind: jNumber, s: sc.s}
				num.f, num.i, num.isInt, num.numOK = parseNumber(sc.s)
				if us, ok, ambiguous := epochMicros(&num); ok {
					*sc = scalar{kind: jTime, s: sc.s, i: us}
				} else if ambiguous {
					*sc = num
					sc.ambiguous = true
				}
			}
		}
	case jNumber:
		if col.kind == kTimestamp && s.coerceTimes {
			if us, ok, ambiguous := epochMicros(sc); ok {
				sc.kind, sc.i = jTime, us
			} else {
				sc.ambiguous = ambiguous
			}
		}
	}
}

// changeCase appends src to dst in upper or lower case (neither: unchanged).
func changeCase(dst, src []byte, upper, lower bool) []byte {
	if !upper && !lower {
		return append(dst, src...)
	}
	for i := 0; i < len(src); {
		ch := src[i]
		if ch < utf8.RuneSelf {
			switch {
			case upper && 'a' <= ch && ch <= 'z':
				ch -= 'a' - 'A'
			case lower && 'A' <= ch && ch <= 'Z':
				ch += 'a' - 'A'
			}
			dst = append(dst, ch)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, ch)
			i++
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
		} else {
			r = unicode.ToLower(r)
		}
		dst = utf8.AppendRune(dst, r)
		i += size
	}
	return dst
}
