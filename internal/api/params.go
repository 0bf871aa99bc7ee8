package api

import (
	"strconv"
	"strings"
	"time"
)

// Int reads the integer query parameter name in [lo, hi], or def when it is absent.
func (r *Request) Int(name string, def, lo, hi int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, BadParam(name, "expected an integer from %d to %d, got %q", lo, hi, s)
	}
	return v, nil
}

// OneOf reads the query parameter name, which must be one of choices (def when absent).
func (r *Request) OneOf(name, def string, choices ...string) (string, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	for _, c := range choices {
		if s == c {
			return s, nil
		}
	}
	return "", BadParam(name, "expected one of %s, got %q", strings.Join(choices, ", "), s)
}

// Time reads the query parameter name as RFC 3339 or Unix milliseconds (zero when absent).
func (r *Request) Time(name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, BadParam(name, "expected an RFC 3339 time or Unix milliseconds, got %q", s)
	}
	return t, nil
}

// Page is one page of a list: its items, the total the list holds, and where the page starts.
type Page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// Paging reads the offset and limit query parameters (limit 1 to 500, default 50).
func (r *Request) Paging() (offset, limit int, err error) {
	o, err := r.Int("offset", 0, 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	l, err := r.Int("limit", 50, 1, 500)
	if err != nil {
		return 0, 0, err
	}
	return int(o), int(l), nil
}

// Paginate cuts items to the page [offset, offset+limit).
func Paginate[T any](items []T, offset, limit int) Page[T] {
	p := Page[T]{Total: len(items), Offset: offset, Limit: limit, Items: []T{}}
	if offset < len(items) {
		p.Items = items[offset:min(offset+limit, len(items))]
	}
	return p
}

// PagingParams documents offset and limit.
var PagingParams = []Param{
	{Name: "offset", In: "query", Type: "integer", Description: "index of the first item (default 0)"},
	{Name: "limit", In: "query", Type: "integer", Description: "items per page, 1 to 500 (default 50)"},
}
