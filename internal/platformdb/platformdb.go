// Package platformdb opens the platform database, the catalog's SQLite file or Postgres database, for the
// tables Big Father keeps beside the catalog's own (the audit log, the monitor's history): one opener, so every
// such table gets the same connection settings, first-open race handling and secret-free errors.
package platformdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/bigfather/bigfather/internal/pgurl"
)

// Schema is what a user of the database creates when it is missing.
type Schema struct {
	// Purpose names the user in errors, e.g. "the audit log".
	Purpose string
	// SQLite and Postgres are the statements that create the tables and indexes, idempotent (IF NOT EXISTS).
	SQLite, Postgres []string
	// Relations are the tables and indexes the Postgres statements create: when all exist, nothing is run (a
	// role without the CREATE privilege can still use tables made for it).
	Relations []string
	// Lock is the transaction-level advisory lock Postgres processes take before creating: CREATE TABLE IF NOT
	// EXISTS is not atomic there, and two processes starting together would otherwise collide.
	Lock int64
}

// DB is an open platform database.
type DB struct {
	*sql.DB
	// Postgres says the database is Postgres ($n placeholders); else it is SQLite (? placeholders).
	Postgres bool
}

// Connection settings.
const (
	sqliteMaxConns   = 4
	pgMaxOpenConns   = 4
	pgMaxIdleConns   = 2
	pgConnectTimeout = 10 * time.Second // per connection attempt, unless the URI sets connect_timeout
	pgOpenTimeout    = 30 * time.Second // for the first connection and creating the tables
)

// Supported says whether uri names a database Open takes: sqlite://, postgres:// or postgresql://.
func Supported(uri string) bool {
	return strings.HasPrefix(uri, "sqlite://") || strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://")
}

// Open opens the database named by uri, sqlite://PATH (a file, created with its directory when missing) or
// postgres://user[:password]@host:port/db (postgresql:// too; the password may come from PGPASSWORD or
// ~/.pgpass), and creates the schema when it is missing. Errors name s.Purpose and show the URI with its
// password hidden, and never a password.
func Open(ctx context.Context, uri string, s Schema) (*DB, error) {
	switch {
	case strings.HasPrefix(uri, "sqlite://"):
		return openSQLite(ctx, uri, s)
	case strings.HasPrefix(uri, "postgres://"), strings.HasPrefix(uri, "postgresql://"):
		return openPostgres(ctx, uri, s)
	case uri == "":
		return nil, fmt.Errorf("opening %s: the database URI is empty (%s needs a SQLite database, sqlite://PATH, or a Postgres one, postgres://user@host:port/db)", s.Purpose, s.Purpose)
	}
	return nil, fmt.Errorf("opening %s: unsupported database URI %q: %s needs a SQLite database (sqlite://PATH) or a Postgres one (postgres://user@host:port/db)", s.Purpose, pgurl.Redact(uri), s.Purpose)
}

// openSQLite opens the SQLite file of a sqlite://PATH uri as the catalog opens it: the file is created once
// here and every connection opens it read-write without creating it, in WAL mode with a busy timeout, so
// several processes can write it at once.
func openSQLite(ctx context.Context, uri string, s Schema) (*DB, error) {
	rel := strings.TrimPrefix(uri, "sqlite://")
	if rel == "" {
		return nil, fmt.Errorf("opening %s: database URI %q has no path (expected sqlite://PATH)", s.Purpose, uri)
	}
	path, err := filepath.Abs(rel)
	if err != nil {
		return nil, fmt.Errorf("opening %s in %s: %w", s.Purpose, uri, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("opening %s in %s: %w", s.Purpose, uri, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s in %s: %w", s.Purpose, uri, err)
	}
	f.Close()
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String() +
		"?mode=rw&_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s in %s: %w", s.Purpose, uri, err)
	}
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	for _, stmt := range s.SQLite {
		if err := RetryBusy(ctx, pgOpenTimeout, func() error { _, err := db.ExecContext(ctx, stmt); return err }); err != nil {
			db.Close()
			return nil, fmt.Errorf("opening %s in %s: creating its tables: %w", s.Purpose, uri, err)
		}
	}
	return &DB{DB: db}, nil
}

// Rebind turns the ? placeholders of a query into $1, $2, ... on Postgres; SQLite takes them as they are.
func (db *DB) Rebind(query string) string {
	if !db.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// IsBusy says err is SQLite's "database is locked" (SQLITE_BUSY). SQLite answers it at once, without waiting out
// the busy timeout, to a schema change or a read transaction upgrading to a write while another process writes.
func IsBusy(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// RetryBusy calls f again while it fails with IsBusy, backing off from 10 ms to 1 s, for up to timeout; it
// returns f's last error (or ctx's, when ctx ends first).
func RetryBusy(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := f()
		if !IsBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// openPostgres opens the Postgres database of uri, creating the schema when it is missing.
func openPostgres(ctx context.Context, uri string, s Schema) (*DB, error) {
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, &openError{purpose: s.Purpose, uri: pgurl.Redact(uri), cause: "invalid Postgres URI", err: err, secrets: pgurl.Secrets(uri, nil)}
	}
	secrets := pgurl.Secrets(uri, cfg)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	// A pooled connection is checked before each use, so one that a server restart broke is replaced
	// instead of failing the statement sent on it.
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return true }))
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)

	octx, cancel := context.WithTimeout(ctx, pgOpenTimeout)
	defer cancel()
	if err := db.PingContext(octx); err != nil {
		db.Close()
		return nil, &openError{purpose: s.Purpose, uri: pgurl.Redact(uri), cause: pgurl.ConnectCause(cfg, err, pgOpenTimeout), err: err, secrets: secrets}
	}
	if err := createPgSchema(octx, db, s); err != nil {
		db.Close()
		return nil, &openError{purpose: s.Purpose, uri: pgurl.Redact(uri), cause: "creating its tables", err: err, secrets: secrets}
	}
	return &DB{DB: db, Postgres: true}, nil
}

// createPgSchema creates the schema unless every relation exists, one process at a time.
func createPgSchema(ctx context.Context, db *sql.DB, s Schema) error {
	missing := len(s.Relations) == 0
	for _, rel := range s.Relations {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, rel).Scan(&exists); err != nil {
			return err
		}
		missing = missing || !exists
	}
	if !missing {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.Lock); err != nil {
		return err
	}
	for _, stmt := range s.Postgres {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// openError reports a Postgres database that cannot be opened: the URI with its password hidden, what went
// wrong in words, and the driver's error with any password scrubbed from it.
type openError struct {
	purpose string
	uri     string // redacted
	cause   string
	err     error
	secrets []string
}

func (e *openError) Error() string {
	return pgurl.Scrub(fmt.Sprintf("opening %s: catalog.uri %s: %s: %v", e.purpose, e.uri, e.cause, e.err), e.secrets)
}

// Unwrap returns the driver's error.
func (e *openError) Unwrap() error { return e.err }
