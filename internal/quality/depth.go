package quality

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// frame is one open object or array while scanning for depth.
type frame struct {
	obj       bool
	expectKey bool
	key       []byte
	index     int
}

var (
	openBrace   = []byte{'{'}
	openBracket = []byte{'['}
)

// depth returns a too_deep violation when raw nests objects and arrays deeper than the limit. The record is
// depth 1, a field holding an object depth 2, and so on. Most records have fewer brackets than the limit
// and are not scanned. It also runs on records fastjson refused, which finds nesting beyond fastjson's own
// limit of 300.
func (c *Checker) depth(raw []byte) *Violation {
	limit := c.s.maxDepth
	if bytes.Count(raw, openBrace)+bytes.Count(raw, openBracket) <= limit {
		return nil
	}
	st := c.stack[:0]
	defer func() { c.stack = st[:0] }()
	for i := 0; i < len(raw); i++ {
		switch ch := raw[i]; ch {
		case '"':
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			if n := len(st); n > 0 && st[n-1].obj && st[n-1].expectKey {
				st[n-1].key, st[n-1].expectKey = raw[i+1:min(j, len(raw))], false
			}
			i = j
		case '{', '[':
			if len(st) >= limit {
				path := framesPath(st)
				msg := fmt.Sprintf("field %q: nesting depth %d is more than the %d-level limit", path, len(st)+1, limit)
				if path == "" {
					msg = fmt.Sprintf("record nests %d levels deep, more than the %d-level limit", len(st)+1, limit)
				}
				return &Violation{CodeTooDeep, path, msg}
			}
			st = append(st, frame{obj: ch == '{', expectKey: ch == '{'})
		case '}', ']':
			if len(st) > 0 {
				st = st[:len(st)-1]
			}
		case ',':
			if n := len(st); n > 0 {
				if st[n-1].obj {
					st[n-1].expectKey = true
				} else {
					st[n-1].index++
				}
			}
		}
	}
	return nil
}

// framesPath renders the location of the open frames as "a.b[2]".
func framesPath(st []frame) string {
	var b strings.Builder
	for _, f := range st {
		if !f.obj {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(f.key)
	}
	return b.String()
}
