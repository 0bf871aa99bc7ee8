package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bigfather/bigfather/internal/pgurl"
)

// pgSchema creates the table in a Postgres database.
var pgSchema = []string{
	`CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id      bigserial   PRIMARY KEY,
	at      timestamptz NOT NULL,
	actor   text        NOT NULL,
	role    text        NOT NULL,
	via     text        NOT NULL,
	method  text        NOT NULL,
	path    text        NOT NULL,
	action  text        NOT NULL,
	remote  text        NOT NULL,
	outcome text        NOT NULL,
	status  integer     NOT NULL,
	detail  text        NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS ` + Table + `_at ON ` + Table + ` (at)`,
}

// pgSchemaLock is the transaction-level advisory lock that processes creating the table take first: CREATE
// TABLE IF NOT EXISTS is not atomic in Postgres, and without the lock the second of two processes starting
// together fails on a unique index of the system catalogs.
const pgSchemaLock int64 = 0x62_66_61_75_64_69_74 // "bfaudit"

// Postgres connections of one Store: the log is written once per mutating API call, so a few serve it.
const (
	pgMaxOpenConns   = 4
	pgMaxIdleConns   = 2
	pgConnectTimeout = 10 * time.Second // per connection attempt, unless the URI sets connect_timeout
	pgOpenTimeout    = 30 * time.Second // for the first connection and creating the table
)

// openPostgres opens the audit log in the Postgres database of uri, creating the table when it is missing.
func openPostgres(ctx context.Context, uri string) (*Store, error) {
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, &openError{uri: pgurl.Redact(uri), cause: "invalid Postgres URI", err: err, secrets: pgurl.Secrets(uri, nil)}
	}
	secrets := pgurl.Secrets(uri, cfg)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	// A pooled connection is checked before each use, so one that a server restart broke is replaced
	// instead of failing the entry written on it.
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return true }))
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)

	octx, cancel := context.WithTimeout(ctx, pgOpenTimeout)
	defer cancel()
	if err := db.PingContext(octx); err != nil {
		db.Close()
		return nil, &openError{uri: pgurl.Redact(uri), cause: pgurl.ConnectCause(cfg, err, pgOpenTimeout), err: err, secrets: secrets}
	}
	s := &Store{db: db, pg: true}
	if err := s.createPgSchema(octx); err != nil {
		db.Close()
		return nil, &openError{uri: pgurl.Redact(uri), cause: "creating table " + Table, err: err, secrets: secrets}
	}
	return s, nil
}

// createPgSchema creates the table and its index unless both exist, one process at a time.
func (s *Store) createPgSchema(ctx context.Context) error {
	var exists bool
	// A role without the CREATE privilege can still use a table made for it: look before creating.
	if err := s.db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL`,
		Table, Table+"_at").Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, pgSchemaLock); err != nil {
		return err
	}
	for _, stmt := range pgSchema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// openError reports a Postgres audit log that cannot be opened: the URI with its password hidden, what went
// wrong in words, and the driver's error with any password scrubbed from it.
type openError struct {
	uri     string // redacted
	cause   string
	err     error
	secrets []string
}

func (e *openError) Error() string {
	return pgurl.Scrub(fmt.Sprintf("opening the audit log: catalog.uri %s: %s: %v", e.uri, e.cause, e.err), e.secrets)
}

// Unwrap returns the driver's error.
func (e *openError) Unwrap() error { return e.err }
