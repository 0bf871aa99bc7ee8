package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bigfather/bigfather/internal/platformdb"
)

// Table is the audit log's table in the platform database; Open creates it, with an index on its at column,
// when it is missing.
const Table = "bigfather_audit"

// Field limits, in bytes: a longer value is cut at a character boundary and ends with "…", so one call with a
// huge URL or error message cannot bloat the log.
const (
	MaxPathBytes   = 2000 // Path
	MaxDetailBytes = 2000 // Detail
	MaxFieldBytes  = 256  // every other text field: Actor, Role, Via, Method, Action, Remote, Outcome
)

// Query limits of List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Query selects entries for List and Count. The zero Query is the newest DefaultLimit entries.
type Query struct {
	// Limit is the most entries List returns: 1 to MaxLimit, 0 for DefaultLimit.
	Limit int
	// BeforeID returns only entries with a smaller ID, for the next page: pass the ID of the last entry of the
	// previous page. 0 starts from the newest entry.
	BeforeID int64
	// Actor and Action, when set, keep only the entries with exactly that actor or action.
	Actor  string
	Action string
	// Since, when set, keeps only the entries at or after it.
	Since time.Time
}

// QueryError reports a Query field out of range.
type QueryError struct {
	// Field is the Query field at fault ("Limit", "BeforeID").
	Field string
	// Message says what was expected.
	Message string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("audit log query: %s: %s", e.Field, e.Message)
}

// Store is the audit log in a SQLite or Postgres database. Several Stores, in one process or many, may write
// the same database at once. It is safe for concurrent use.
//
// The log only grows: nothing deletes old entries (a row is a few hundred bytes, and an entry is written per
// mutating API call only). Prune it with SQL on the table when it must be kept short.
type Store struct {
	db *sql.DB
	pg bool // Postgres ($n placeholders, timestamptz); else SQLite (? placeholders, at as text)

	closeOnce sync.Once
	closeErr  error
}

// Open opens the audit log in the database named by uri, the platform's catalog database (catalog.uri):
// sqlite://PATH (a file, created with its directory when missing; sqlite:///abs/path.db or
// sqlite://relative/path.db) or postgres://user[:password]@host:port/db?sslmode=... (postgresql:// too; the
// password may come from PGPASSWORD or ~/.pgpass instead). It creates the table and its index when they are
// missing. Errors show the URI with its password hidden, and never a password.
func Open(ctx context.Context, uri string) (*Store, error) {
	db, err := platformdb.Open(ctx, uri, platformdb.Schema{
		Purpose: "the audit log", SQLite: sqliteSchema, Postgres: pgSchema,
		Relations: []string{Table, Table + "_at"}, Lock: pgSchemaLock,
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db.DB, pg: db.Postgres}, nil
}

// Close closes the database connections. Closing again does nothing and returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// columns are the table's columns after id, in the order Record writes them.
const columns = "at, actor, role, via, method, path, action, remote, outcome, status, detail"

// Record appends e to the log; e.ID is ignored (the database numbers the entries). A zero e.At is now. At is
// kept in UTC to the microsecond; text fields are cut to their limits (MaxPathBytes, MaxDetailBytes,
// MaxFieldBytes) and made valid UTF-8 without NUL bytes.
func (s *Store) Record(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e = normalize(e)
	q := "INSERT INTO " + Table + " (" + columns + ") VALUES (" + s.placeholders(11) + ")"
	if _, err := s.db.ExecContext(ctx, q, s.timeArg(e.At), e.Actor, e.Role, e.Via, e.Method, e.Path, e.Action,
		e.Remote, e.Outcome, e.Status, e.Detail); err != nil {
		return fmt.Errorf("recording audit entry %q by %q: %w", e.Action, e.Actor, err)
	}
	return nil
}

// List returns the entries q selects, newest (highest ID) first, at most q.Limit of them. A q field out of range
// is a *QueryError. Entries are numbered when written, so on Postgres a page may miss an entry whose
// transaction took its ID before, but committed after, the page was read.
func (s *Store) List(ctx context.Context, q Query) ([]Entry, error) {
	limit, err := q.limit()
	if err != nil {
		return nil, err
	}
	var args []any
	where := s.where(q, &args, true)
	args = append(args, limit)
	query := "SELECT id, " + columns + " FROM " + Table + where + " ORDER BY id DESC LIMIT " + s.placeholder(len(args))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the audit log: %w", err)
	}
	defer rows.Close()
	out := make([]Entry, 0, min(limit, 64))
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the audit log: %w", err)
	}
	return out, nil
}

// Count returns how many entries match q's filters (Actor, Action, Since); Limit and BeforeID, which page
// through them, do not change the count.
func (s *Store) Count(ctx context.Context, q Query) (int64, error) {
	var args []any
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+Table+s.where(q, &args, false), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the audit log: %w", err)
	}
	return n, nil
}

// limit is the LIMIT of q, checking its range and BeforeID's.
func (q Query) limit() (int, error) {
	if q.BeforeID < 0 {
		return 0, &QueryError{Field: "BeforeID", Message: fmt.Sprintf("%d is negative (expected an entry ID, or 0 for the newest)", q.BeforeID)}
	}
	switch {
	case q.Limit == 0:
		return DefaultLimit, nil
	case q.Limit < 1 || q.Limit > MaxLimit:
		return 0, &QueryError{Field: "Limit", Message: fmt.Sprintf("%d is out of range (expected 1 to %d)", q.Limit, MaxLimit)}
	}
	return q.Limit, nil
}

// where is the WHERE clause of q's filters (and its cursor when paging), appending their values to args.
func (s *Store) where(q Query, args *[]any, paging bool) string {
	var conds []string
	add := func(cond string, v any) {
		*args = append(*args, v)
		conds = append(conds, cond+" "+s.placeholder(len(*args)))
	}
	if paging && q.BeforeID > 0 {
		add("id <", q.BeforeID)
	}
	if q.Actor != "" {
		add("actor =", q.Actor)
	}
	if q.Action != "" {
		add("action =", q.Action)
	}
	if !q.Since.IsZero() {
		add("at >=", s.timeArg(q.Since.UTC().Truncate(time.Microsecond)))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// placeholder is the n-th (from 1) parameter marker of the dialect.
func (s *Store) placeholder(n int) string {
	if s.pg {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// placeholders is the markers of n parameters, comma-separated.
func (s *Store) placeholders(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = s.placeholder(i + 1)
	}
	return strings.Join(ps, ", ")
}

// sqliteTime is how SQLite keeps at: text, UTC, fixed width, so that text order is time order.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// timeArg is t as a parameter of the dialect (t is UTC).
func (s *Store) timeArg(t time.Time) any {
	if s.pg {
		return t
	}
	return t.Format(sqliteTime)
}

// scan reads one row of "id, " + columns.
func (s *Store) scan(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at any
	if s.pg {
		at = &e.At
	} else {
		at = new(string)
	}
	if err := rows.Scan(&e.ID, at, &e.Actor, &e.Role, &e.Via, &e.Method, &e.Path, &e.Action, &e.Remote,
		&e.Outcome, &e.Status, &e.Detail); err != nil {
		return Entry{}, err
	}
	if !s.pg {
		t, err := time.Parse(sqliteTime, *at.(*string))
		if err != nil {
			return Entry{}, fmt.Errorf("entry %d: at %q: %w", e.ID, *at.(*string), err)
		}
		e.At = t
	}
	e.At = e.At.UTC()
	return e, nil
}

// normalize is e as stored: At in UTC to the microsecond, text fields clean and within their limits.
func normalize(e Entry) Entry {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	for _, f := range []*string{&e.Actor, &e.Role, &e.Via, &e.Method, &e.Action, &e.Remote, &e.Outcome} {
		*f = clip(*f, MaxFieldBytes)
	}
	e.Path = clip(e.Path, MaxPathBytes)
	e.Detail = clip(e.Detail, MaxDetailBytes)
	return e
}

// ellipsis ends a value that was cut.
const ellipsis = "…"

// clip makes s valid UTF-8 without NUL bytes (Postgres text takes neither) and at most max bytes long, cutting
// it at a character boundary and ending it with an ellipsis when it is longer.
func clip(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
