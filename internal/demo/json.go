package demo

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e as one JSON object to dst and returns the extended
// buffer. It allocates nothing beyond growing dst. Field names are the
// snake_case forms of Event's fields; item_id, currency and amount are left
// out when empty or zero (and amount when not finite). event_time is RFC 3339
// in UTC with milliseconds, such as "2024-05-01T12:00:00.250Z". Strings are
// escaped as encoding/json would, with invalid UTF-8 replaced by U+FFFD.
func (g *Generator) AppendJSON(dst []byte, e Event) []byte {
	dst = append(dst, `{"event_id":`...)
	dst = appendString(dst, e.EventID)
	dst = append(dst, `,"event_time":"`...)
	dst = appendTime(dst, e.EventTime)
	dst = append(dst, `","player_id":`...)
	dst = appendString(dst, e.PlayerID)
	dst = append(dst, `,"event_type":`...)
	dst = appendString(dst, e.EventType)
	dst = append(dst, `,"level":`...)
	dst = strconv.AppendInt(dst, int64(e.Level), 10)
	if e.ItemID != "" {
		dst = append(dst, `,"item_id":`...)
		dst = appendString(dst, e.ItemID)
	}
	if e.Amount != 0 && !math.IsNaN(e.Amount) && !math.IsInf(e.Amount, 0) {
		dst = append(dst, `,"amount":`...)
		dst = strconv.AppendFloat(dst, e.Amount, 'f', -1, 64)
	}
	if e.Currency != "" {
		dst = append(dst, `,"currency":`...)
		dst = appendString(dst, e.Currency)
	}
	dst = append(dst, `,"platform":`...)
	dst = appendString(dst, e.Platform)
	dst = append(dst, `,"country":`...)
	dst = appendString(dst, e.Country)
	dst = append(dst, `,"client_seq":`...)
	dst = strconv.AppendInt(dst, e.ClientSeq, 10)
	return append(dst, '}')
}

// appendTime appends t in UTC as 2006-01-02T15:04:05.000Z.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		// Not representable in RFC 3339; keep the JSON valid anyway.
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	dst = append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

// appendString appends s as a quoted JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
