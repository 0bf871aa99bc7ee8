package transform

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// lookup is one reference table joined into records by key. The table is replaced as a whole when the
// file changes, so a record never sees half of an old and half of a new table.
type lookup struct {
	name      string // "lookup:<file>" for Misses
	file      string // as configured, for messages
	path      string // resolved against BaseDir
	keyColumn string
	columns   []config.Column
	keyIdx    int // the record's key column in vals
	keyType   config.ColumnType
	slot      int // first lookup column in vals

	table  atomic.Pointer[refTable]
	misses atomic.Uint64

	// The watcher's state, owned by the goroutine that polls (see refresh).
	tried   fileStamp // the last version loaded or refused; no version is loaded twice
	seen    fileStamp // the version found by the last poll; it loads when the next poll finds it unchanged
	missing bool      // the last poll could not stat the file, and said so
}

// refTable is a loaded reference file: key text → the lookup columns' values. It is never modified after
// loading; string values in it are shared with the records they are copied into.
type refTable struct {
	rows map[string][]row.Value
}

// fileStamp identifies a version of a file: which file it is (device and inode, through os.SameFile),
// its modification time and its size. The zero fileStamp is no file.
type fileStamp struct {
	info os.FileInfo
	mod  int64 // UnixNano
	size int64
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{info: fi, mod: fi.ModTime().UnixNano(), size: fi.Size()}
}

// same reports whether a and b are the same version of the same file.
func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return a.mod == b.mod && a.size == b.size && os.SameFile(a.info, b.info)
}

// errChanged reports that a lookup file was not the expected version from before it was read to after.
var errChanged = errors.New("the file changed while it was read")

// At start a file that changes while it is read is read again, up to startReads times startPause apart.
const (
	startReads = 5
	startPause = 100 * time.Millisecond
)

// newLookup resolves a lookup's key column among the base columns and loads its table.
func newLookup(lc config.Lookup, base []config.Column, slot int) (*lookup, error) {
	l := &lookup{
		name:      "lookup:" + lc.File,
		file:      lc.File,
		path:      lookupPath(lc),
		keyColumn: lc.KeyColumn,
		columns:   lc.Columns,
		keyIdx:    -1,
		slot:      slot,
	}
	if lc.Key == "" {
		return nil, errors.New("key is empty")
	}
	if l.keyColumn == "" {
		l.keyColumn = lc.Key
	}
	for i, c := range base {
		if c.Name == lc.Key {
			l.keyIdx, l.keyType = i, c.Type
		}
	}
	if l.keyIdx < 0 {
		return nil, fmt.Errorf("key %q is not a record column", lc.Key)
	}
	switch l.format() {
	case "csv", "jsonl":
	default:
		return nil, fmt.Errorf("unknown file format %q: want .csv, .jsonl or .json", filepath.Ext(l.path))
	}
	t, st, err := l.loadNow()
	if err != nil {
		return nil, err
	}
	l.table.Store(t)
	l.tried, l.seen = st, st
	return l, nil
}

// loadNow loads the file as it is at start, reading it again while it changes under the read.
func (l *lookup) loadNow() (*refTable, fileStamp, error) {
	for n := 1; ; n++ {
		fi, err := os.Stat(l.path)
		if err != nil {
			return nil, fileStamp{}, err
		}
		st := stampOf(fi)
		t, err := l.load(st)
		if !errors.Is(err, errChanged) {
			return t, st, err
		}
		if n == startReads {
			return nil, fileStamp{}, fmt.Errorf("%s: %w, %d times in a row", l.file, err, n)
		}
		time.Sleep(startPause)
	}
}

// format returns "csv" or "jsonl" from the file name.
func (l *lookup) format() string {
	switch strings.ToLower(filepath.Ext(l.path)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".json", ".ndjson":
		return "jsonl"
	}
	return ""
}

// lookup fills the lookup's columns of one record: the table's values for the record's key, or nulls
// when the key is null or missing.
func (t *Program) lookup(l *lookup, vals []row.Value) {
	cols := vals[l.slot : l.slot+len(l.columns)]
	k := vals[l.keyIdx]
	var hit []row.Value
	if !k.Null {
		var key []byte
		if l.keyType == config.TypeString {
			key = k.S
		} else {
			t.key = appendKey(t.key[:0], k, l.keyType)
			key = t.key
		}
		var ok bool
		if hit, ok = l.table.Load().rows[string(key)]; !ok {
			l.misses.Add(1)
		}
	}
	if hit == nil {
		for i := range cols {
			cols[i] = row.Value{Null: true}
		}
		return
	}
	copy(cols, hit)
}

// appendKey appends the text form of a non-string key value, the form the reference file holds.
func appendKey(b []byte, v row.Value, t config.ColumnType) []byte {
	switch t {
	case config.TypeLong, config.TypeInt:
		return strconv.AppendInt(b, v.I, 10)
	case config.TypeDouble, config.TypeFloat:
		return strconv.AppendFloat(b, v.F, 'g', -1, 64)
	case config.TypeBoolean:
		return strconv.AppendBool(b, v.I != 0)
	case config.TypeTimestamp:
		return time.UnixMicro(v.I).UTC().AppendFormat(b, time.RFC3339Nano)
	case config.TypeDate:
		return time.Unix(v.I*secondsPerDay, 0).UTC().AppendFormat(b, time.DateOnly)
	}
	return append(b, v.S...)
}

// pollLookups is one poll of every lookup file; the watcher runs it on each tick.
func (s *shared) pollLookups() {
	for _, l := range s.lookups {
		s.refresh(l)
	}
}

// refresh is one poll of l's file. Writers such as cp and os.WriteFile truncate the file and then write
// it, so a poll can find it empty or half written. A version of the file (identity, modification time
// and size) therefore replaces the table only when two polls in a row find it unchanged and it is still
// that version after it has been read; a version that is seen once, or changes under the read, is looked
// at again. A file that cannot be read or parsed keeps the old table; the error is logged once per file
// version.
func (s *shared) refresh(l *lookup) {
	fi, err := os.Stat(l.path)
	if err != nil {
		if !l.missing {
			s.log.Error("lookup file unreadable; keeping the previous table", "file", l.path, "err", err)
			l.missing = true
		}
		l.seen = fileStamp{}
		return
	}
	l.missing = false
	st := stampOf(fi)
	stable := st.same(l.seen)
	l.seen = st
	if st.same(l.tried) || !stable {
		return
	}
	t, err := l.load(st)
	if errors.Is(err, errChanged) {
		l.seen = fileStamp{}
		return
	}
	l.tried = st
	if err != nil {
		s.log.Error("reloading lookup file failed; keeping the previous table", "file", l.path, "err", err)
		return
	}
	l.table.Store(t)
	s.log.Info("reloaded lookup file", "file", l.path, "rows", len(t.rows))
}

// watch polls the lookup files every s.poll until Close.
func (s *shared) watch() {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	s.watchTicks(tick.C)
}

// watchTicks polls the lookup files on every tick until Close.
func (s *shared) watchTicks(tick <-chan time.Time) {
	defer s.done.Done()
	for {
		select {
		case <-s.stop:
			return
		case <-tick:
			s.pollLookups()
		}
	}
}

// read returns the contents of version st of the lookup's file, or errChanged when the file at the path
// is not that version before, during or after the read.
func (l *lookup) read(st fileStamp) ([]byte, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.same(stampOf(before)) {
		return nil, errChanged
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil {
		return nil, err
	}
	now, err := os.Stat(l.path)
	if err != nil || !st.same(stampOf(after)) || !st.same(stampOf(now)) || int64(len(data)) != st.size {
		return nil, errChanged
	}
	return data, nil
}

// checkUTF8 returns an error naming the line of the first byte of data that is not valid UTF-8: a
// lookup's strings are copied into records as they are, and no string Big Father writes may be invalid.
func (l *lookup) checkUTF8(data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			start := bytes.LastIndexByte(data[:i], '\n') + 1
			line := 1 + bytes.Count(data[:start], []byte{'\n'})
			return fmt.Errorf("%s:%d: byte %d of the line (%#02x) is not valid UTF-8",
				l.file, line, i-start+1, data[i])
		}
		i += n
	}
	return nil
}

// load reads version st of the lookup's file and parses it.
func (l *lookup) load(st fileStamp) (*refTable, error) {
	data, err := l.read(st)
	if err != nil {
		return nil, err
	}
	if err := l.checkUTF8(data); err != nil {
		return nil, err
	}
	t := &refTable{rows: make(map[string][]row.Value)}
	lines := make(map[string]int) // key → line, for duplicate errors
	add := func(line int, key string, vals []row.Value) error {
		if prev, dup := lines[key]; dup {
			return fmt.Errorf("%s:%d: key %q already on line %d", l.file, line, key, prev)
		}
		lines[key] = line
		t.rows[key] = vals
		return nil
	}
	if l.format() == "csv" {
		err = l.parseCSV(data, add)
	} else {
		err = l.parseJSONL(data, add)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// parseCSV parses a CSV file with a header row naming the columns. Empty cells are null.
func (l *lookup) parseCSV(data []byte, add func(int, string, []row.Value) error) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: no header row", l.file)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", l.file, err)
	}
	at := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		at[strings.TrimSpace(h)] = i
	}
	keyAt, ok := at[l.keyColumn]
	if !ok {
		return fmt.Errorf("%s: no key column %q in the header", l.file, l.keyColumn)
	}
	colAt := make([]int, len(l.columns))
	for i, c := range l.columns {
		if colAt[i], ok = at[c.Name]; !ok {
			return fmt.Errorf("%s: no column %q in the header", l.file, c.Name)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", l.file, err)
		}
		line, _ := r.FieldPos(0)
		vals := make([]row.Value, len(l.columns))
		for i, c := range l.columns {
			if vals[i], err = parseText(rec[colAt[i]], c.Type); err != nil {
				return fmt.Errorf("%s:%d: column %q: %w", l.file, line, c.Name, err)
			}
		}
		if err := add(line, rec[keyAt], vals); err != nil {
			return err
		}
	}
}

// parseJSONL parses JSON Lines: one object per line, blank lines ignored. Missing fields and JSON null
// are null.
func (l *lookup) parseJSONL(data []byte, add func(int, string, []row.Value) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var obj map[string]any
		d := json.NewDecoder(bytes.NewReader(text))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil {
			return fmt.Errorf("%s:%d: %w", l.file, line, err)
		}
		if d.More() {
			return fmt.Errorf("%s:%d: more than one JSON value on the line", l.file, line)
		}
		if obj == nil {
			return fmt.Errorf("%s:%d: not a JSON object", l.file, line)
		}
		key, err := jsonText(obj[l.keyColumn])
		if err != nil || obj[l.keyColumn] == nil {
			return fmt.Errorf("%s:%d: key %q: missing, null or not a scalar", l.file, line, l.keyColumn)
		}
		vals := make([]row.Value, len(l.columns))
		for i, c := range l.columns {
			if vals[i], err = parseJSON(obj[c.Name], c.Type); err != nil {
				return fmt.Errorf("%s:%d: column %q: %w", l.file, line, c.Name, err)
			}
		}
		if err := add(line, key, vals); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", l.file, err)
	}
	return nil
}

// jsonText returns the text of a JSON scalar: a string as is, a number as written, true or false.
func jsonText(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("%T is not a scalar", v)
}

// parseJSON converts a decoded JSON value to a value of column type t. Strings are parsed as text for
// every type, so "4.99" fills a double and "2026-01-02" a date.
func parseJSON(v any, t config.ColumnType) (row.Value, error) {
	switch v := v.(type) {
	case nil:
		return row.Value{Null: true}, nil
	case string:
		if t == config.TypeString {
			return row.Value{S: clipped(string(v))}, nil
		}
		return parseText(v, t)
	case json.Number:
		switch t {
		case config.TypeString, config.TypeLong, config.TypeInt, config.TypeDouble, config.TypeFloat:
			if t == config.TypeString {
				return row.Value{S: clipped(string(v))}, nil
			}
			return parseText(string(v), t)
		}
	case bool:
		switch t {
		case config.TypeBoolean:
			if v {
				return row.Value{I: 1}, nil
			}
			return row.Value{}, nil
		case config.TypeString:
			return row.Value{S: clipped(strconv.FormatBool(v))}, nil
		}
	}
	return row.Value{}, fmt.Errorf("JSON %s does not fit a %s column", jsonKind(v), t)
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// parseText parses the text form of a value of column type t: integers, decimal or exponent numbers,
// true/false (or 1/0), RFC 3339 timestamps and YYYY-MM-DD dates. Empty text is null.
func parseText(s string, t config.ColumnType) (row.Value, error) {
	if s == "" {
		return row.Value{Null: true}, nil
	}
	switch t {
	case config.TypeString:
		return row.Value{S: clipped(s)}, nil
	case config.TypeLong, config.TypeInt:
		bits := 64
		if t == config.TypeInt {
			bits = 32
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a valid %s", s, t)
		}
		return row.Value{I: n}, nil
	case config.TypeDouble, config.TypeFloat:
		bits := 64
		if t == config.TypeFloat {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return row.Value{}, fmt.Errorf("%q is not a valid %s", s, t)
		}
		return row.Value{F: f}, nil
	case config.TypeBoolean:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a boolean", s)
		}
		if b {
			return row.Value{I: 1}, nil
		}
		return row.Value{}, nil
	case config.TypeTimestamp:
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
		}
		return row.Value{I: ts.UnixMicro()}, nil
	case config.TypeDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
		}
		return row.Value{I: floorDiv(d.Unix(), secondsPerDay)}, nil
	}
	return row.Value{}, fmt.Errorf("unknown column type %q", t)
}

// clipped returns s as bytes whose capacity is their length, so that appending to a value copied out of
// a table can never write into the table.
func clipped(s string) []byte {
	b := []byte(s)
	return b[:len(b):len(b)]
}
