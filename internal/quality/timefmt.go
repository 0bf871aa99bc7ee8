package quality

import "time"

// This file parses RFC 3339 date-times and dates without allocating.

// parseDateTime parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) into microseconds since the epoch; the
// fraction is truncated to microseconds. Strict (lenient false) accepts a subset of what
// time.Parse(time.RFC3339Nano) accepts, so callers fall back to it for the rest. Lenient follows the JSON
// Schema "date-time" format as the jsonschema library checks it: lower-case "t" and "z" too, offsets up to
// ±23:59. Leap seconds (:60) are refused in both modes, since a timestamp cannot hold them.
func parseDateTime(b []byte, lenient bool) (int64, bool) {
	if len(b) < 20 {
		return 0, false
	}
	days, ok := fastDate(b[:10])
	if !ok || !(b[10] == 'T' || lenient && b[10] == 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	h, ok1 := two(b[11:13])
	m, ok2 := two(b[14:16])
	sec, ok3 := two(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, false
	}
	rest := b[19:]
	var frac int64
	if rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			if j <= 6 {
				frac = frac*10 + int64(rest[j]-'0')
			}
			j++
		}
		if j == 1 {
			return 0, false
		}
		for k := j; k <= 6; k++ {
			frac *= 10
		}
		rest = rest[j:]
	}
	var off int64
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || lenient && rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := two(rest[1:3])
		om, ok2 := two(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return 0, false
	}
	secs := days*86400 + h*3600 + m*60 + sec - off
	return secs*1_000_000 + frac, true
}

// parseDate parses YYYY-MM-DD into days since the epoch, as time.Parse(time.DateOnly) does.
func parseDate(b []byte) (int64, bool) {
	if days, ok := fastDate(b); ok {
		return days, true
	}
	t, err := time.Parse(time.DateOnly, string(b))
	return t.Unix() / 86400, err == nil
}

// fastDate parses exactly YYYY-MM-DD with a valid day of month.
func fastDate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y1, ok1 := two(b[0:2])
	y2, ok2 := two(b[2:4])
	mo, ok3 := two(b[5:7])
	d, ok4 := two(b[8:10])
	y := y1*100 + y2
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, false
	}
	return daysFromCivil(y, mo, d), true
}

func two(b []byte) (int64, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int64(b[0]-'0')*10 + int64(b[1]-'0'), true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
