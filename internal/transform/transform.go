// Package transform derives, looks up, filters and routes staged records with CEL expressions and reference files.
//
// A Program is compiled once per pipeline from its enrich, filters and routes settings (config.Enrich,
// config.Filter, config.Route). For every record the stage calls Apply, which fills the extra columns and
// says whether a filter dropped the record, and then Routes, which says which extra tables the record also
// goes to.
//
// # Columns and variables
//
// The record's columns live in one []row.Value: first the base (checked) columns, then the extra columns
// this package adds, in the order Columns returns them: derived columns in config order, then lookup
// columns in config order. Apply computes them in a different order: lookups first, then derived columns
// one by one, so a derived expression can use a looked-up value (price * quantity) and every derived
// column defined before it.
//
// Every column whose name is a CEL identifier is a CEL variable of the column's type: string; int for
// long and int; double for double and float; bool for boolean; google.protobuf.Timestamp for timestamp
// and for date (midnight UTC of the day). The variable `kafka` holds the record's Kafka metadata:
// kafka.topic (string), kafka.partition (int), kafka.offset (int), kafka.timestamp (timestamp; null for
// records read from files) and kafka.key (string; null when the record has no key). A base column named
// kafka is shadowed by the metadata.
//
// # Null values
//
// Columns are nullable: string, int, double and bool columns are declared with CEL's nullable (wrapper)
// types and timestamps are nullable in CEL already, so `amount != null ? amount * 1100.0 : 0.0` and
// `country == null` type-check, and a null column reads as CEL null. Operating on a null value (null *
// 1100.0, null >= 50) is a CEL evaluation error, never a crash. An evaluation error makes a derived
// column null, lets the record through a filter and does not match a route; each one is counted per rule
// in Errors and the first one of each rule is logged. An expression whose value is null (`amount == null
// ? amount : amount * 1100.0`) sets the derived column to null without an error.
//
// # Expressions
//
// Expressions are CEL with the standard library plus the strings and math extensions (cel-go's ext.Strings
// and ext.Math: upperAscii, split, math.round, ...). A derived expression must have its column's CEL type
// (an int does not fill a double column; write double(x)), null, or dyn, which is checked per record.
// A date column takes a timestamp and keeps its UTC day; an int column rejects results outside 32 bits
// and a float column results outside float32, as evaluation errors. Filters and routes must be bool.
//
// # Lookups
//
// A lookup file is CSV with a header row (.csv) or JSON Lines (.jsonl, .json, .ndjson), read relative to
// its BaseDir. Keys are compared as text: a record's long key 42 matches the CSV cell "42" and the JSON
// number 42. CSV cells are parsed per column type (RFC 3339 timestamps, YYYY-MM-DD dates, true/false or
// 1/0); an empty cell is null, as are JSON null and a missing JSON field. A duplicate key is an error. A
// record whose key is missing from the table gets null lookup columns and is counted in Misses; one whose
// key is null gets null columns without being counted. A file whose text is not valid UTF-8 is refused
// like one that does not parse, with an error naming the file and line, so no invalid string reaches a
// record. A goroutine polls each file every two seconds and swaps in a freshly parsed table. Since cp and
// other writers truncate a file before writing it, a version of the file (identity, modification time
// and size) is loaded only when two polls in a row find it unchanged and it is still that version after
// it has been read: a file caught empty or half written by one poll is never taken, a change shows
// within two to three polls, and a file renamed into place is also seen. A writer that stalls mid-file
// for longer than a poll can still be caught; writing a temporary file and renaming it over the lookup
// file is always safe. A file that is missing, unreadable, not valid UTF-8 or does not parse keeps the
// previous table, and the error is logged once per file version; at start the same errors fail New.
//
// # Cost
//
// Evaluation allocates no per-record maps: a Program owns one activation that resolves a variable
// straight from the row slice, converting the value to CEL the first time an expression asks for it and
// reusing the conversion for the other expressions of the same call. String columns are exposed to CEL
// without copying, which is safe because no CEL value outlives the Apply or Routes call. Two things are
// not obvious: the activation keeps one interpreter.ExecutionFrame and passes it to every Eval (cel-go
// then skips taking a frame from its pool and returning it), and ResolveName finds a variable by its
// name's string data pointer before falling back to the map, since a compiled program always asks with
// the same string. What remains per record is boxing the converted values and CEL's own results.
package transform

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// defaultPoll is how often lookup files are checked for changes.
const defaultPoll = 2 * time.Second

// Program applies one pipeline's enrichments, filters and routes to records. It is compiled once by New;
// Apply and Routes are not safe for concurrent use, so each goroutine works on its own Clone. Clones
// share the compiled expressions, the lookup tables and the error and miss counters.
type Program struct {
	s   *shared
	act *activation
	key []byte // scratch for lookup keys that are not strings
}

// shared is the part of a Program that its clones share; it is read-only after New except for the
// atomics and the lookup watcher's state.
type shared struct {
	log     *slog.Logger
	base    int             // number of base columns
	extra   []config.Column // derived, then lookup columns
	types   []config.ColumnType
	index   map[string]int // CEL variable name → index in vals, kafkaIndex for the metadata
	derived []*rule
	filters []*rule
	routes  []*route
	lookups []*lookup

	poll      time.Duration
	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
}

// rule is one compiled expression and its error counter.
type rule struct {
	name   string // "derive:<name>", "filter:<name>" or "route:<table>"
	expr   string
	prg    cel.Program
	typ    config.ColumnType // derived: the column type
	slot   int               // derived: the index in vals
	errs   atomic.Uint64
	logged atomic.Bool
}

// route is one compiled config.Route.
type route struct {
	rule       *rule // nil without a when expression
	eventTypes []string
}

// New compiles the enrichments, filters and routes of pipeline p over the base columns (vals[0:len(base)]
// in Apply) and loads the lookup files. Errors name the rule, e.g. `enrich.derive[1] "is_whale":
// compiling "amout > 10.0": ERROR: ...`. Close stops the lookup file watcher New starts.
func New(p *config.Pipeline, base []config.Column, log *slog.Logger) (*Program, error) {
	return newProgram(p, base, log, defaultPoll)
}

// newProgram is New with the interval at which lookup files are polled for changes.
func newProgram(p *config.Pipeline, base []config.Column, log *slog.Logger, poll time.Duration) (*Program, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &shared{log: log, base: len(base), poll: poll, index: make(map[string]int)}
	if err := s.compile(p, base); err != nil {
		return nil, err
	}
	if len(s.lookups) > 0 && poll > 0 {
		s.stop = make(chan struct{})
		s.done.Add(1)
		go s.watch()
	}
	return s.program(), nil
}

// program returns a new Program over s with its own activation.
func (s *shared) program() *Program {
	return &Program{s: s, act: newActivation(s)}
}

// Clone returns a Program sharing t's compiled expressions, lookup tables and counters, for use on
// another goroutine.
func (t *Program) Clone() *Program { return t.s.program() }

// Columns returns the extra columns Apply fills after the base columns: the derived columns in order,
// then the lookup columns in order.
func (t *Program) Columns() []config.Column {
	return append([]config.Column(nil), t.s.extra...)
}

// Apply fills the extra columns vals[len(base):len(base)+len(Columns())] of one record and runs the
// filters. It returns the index of the first filter rule that dropped the record, or -1 when the record
// is kept. vals must have room for the extra columns. The string bytes of lookup columns are shared with
// the lookup table (with their capacity clipped to their length), so they must not be written in place.
func (t *Program) Apply(vals []row.Value, meta row.Meta) (dropRule int) {
	s := t.s
	a := t.act
	a.reset(vals, meta)
	for _, l := range s.lookups {
		t.lookup(l, vals)
	}
	for _, r := range s.derived {
		vals[r.slot] = t.derive(r)
	}
	for i, r := range s.filters {
		if t.test(r) {
			return i
		}
	}
	return -1
}

// derive evaluates one derived column.
func (t *Program) derive(r *rule) row.Value {
	out, _, err := r.prg.Eval(t.act.frame)
	if err != nil {
		t.s.failed(r, err)
		return row.Value{Null: true}
	}
	v, err := fromCEL(out, r.typ)
	if err != nil {
		t.s.failed(r, err)
		return row.Value{Null: true}
	}
	return v
}

// test evaluates a boolean rule: true only when the expression is true; null and errors are false.
func (t *Program) test(r *rule) bool {
	out, _, err := r.prg.Eval(t.act.frame)
	if err != nil {
		t.s.failed(r, err)
		return false
	}
	switch out {
	case types.True:
		return true
	case types.False, types.NullValue:
		return false
	}
	t.s.failed(r, fmt.Errorf("result is %s, want bool", out.Type().TypeName()))
	return false
}

// Routes appends to dst[:0] the indexes into the pipeline's routes of the routes this record goes to and
// returns it. A route matches when eventType is one of its event types (if it lists any) and its when
// expression is true (if it has one); a route with neither matches every record. Call it after Apply,
// since when expressions may use the extra columns.
func (t *Program) Routes(vals []row.Value, meta row.Meta, eventType string, dst []int) []int {
	dst = dst[:0]
	if len(t.s.routes) == 0 {
		return dst
	}
	t.act.reset(vals, meta)
	for i, r := range t.s.routes {
		if len(r.eventTypes) > 0 && !contains(r.eventTypes, eventType) {
			continue
		}
		if r.rule != nil && !t.test(r.rule) {
			continue
		}
		dst = append(dst, i)
	}
	return dst
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FilterNames returns the filter rule names in order, so that a dropRule from Apply can be named;
// a rule without a name is called "filters[i]".
func (t *Program) FilterNames() []string {
	names := make([]string, len(t.s.filters))
	for i, r := range t.s.filters {
		names[i] = r.name[len("filter:"):]
	}
	return names
}

// Errors returns the evaluation errors so far, summed over all clones, per rule: "derive:<column>",
// "filter:<name>" and "route:<table>". Every rule is present, with 0 when it never failed.
func (t *Program) Errors() map[string]uint64 {
	m := make(map[string]uint64)
	for _, r := range t.s.derived {
		m[r.name] += r.errs.Load()
	}
	for _, r := range t.s.filters {
		m[r.name] += r.errs.Load()
	}
	for _, r := range t.s.routes {
		if r.rule != nil {
			m[r.rule.name] += r.rule.errs.Load()
		}
	}
	return m
}

// Misses returns per lookup, as "lookup:<file>", how many records had a key that the reference table does
// not hold, summed over all clones. Records whose key is null are not counted.
func (t *Program) Misses() map[string]uint64 {
	m := make(map[string]uint64)
	for _, l := range t.s.lookups {
		m[l.name] += l.misses.Load()
	}
	return m
}

// Close stops the lookup file watcher shared by t and its clones. It is idempotent; the lookup tables
// stay usable but are no longer refreshed.
func (t *Program) Close() {
	s := t.s
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			s.done.Wait()
		}
	})
}

// failed counts an evaluation error of rule r and logs the first one.
func (s *shared) failed(r *rule, err error) {
	r.errs.Add(1)
	if r.logged.CompareAndSwap(false, true) {
		s.log.Warn("CEL evaluation failed; further errors of this rule are only counted",
			"rule", r.name, "expr", r.expr, "err", err)
	}
}
