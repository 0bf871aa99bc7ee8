package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
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
		return nil, &openError{uri: redactURI(uri), cause: "invalid Postgres URI", err: err, secrets: secretsOf(uri, nil)}
	}
	secrets := secretsOf(uri, cfg)
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
		return nil, &openError{uri: redactURI(uri), cause: connectCause(cfg, err), err: err, secrets: secrets}
	}
	s := &Store{db: db, pg: true}
	if err := s.createPgSchema(octx); err != nil {
		db.Close()
		return nil, &openError{uri: redactURI(uri), cause: "creating table " + Table, err: err, secrets: secrets}
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
	msg := fmt.Sprintf("opening the audit log: catalog.uri %s: %s: %v", e.uri, e.cause, e.err)
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

// Unwrap returns the driver's error.
func (e *openError) Unwrap() error { return e.err }

// connectCause says in words why the first connection failed.
func connectCause(cfg *pgx.ConnConfig, err error) string {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Sprintf("the Postgres server at %s refused the password of user %q (the password comes from the URI, PGPASSWORD or ~/.pgpass)", addr, cfg.User)
		case "28000":
			return fmt.Sprintf("the Postgres server at %s refused user %q (no such role, or pg_hba.conf does not admit it)", addr, cfg.User)
		case "3D000":
			return fmt.Sprintf("database %q does not exist on the Postgres server at %s", cfg.Database, addr)
		case "53300":
			return fmt.Sprintf("the Postgres server at %s has no free connection slots", addr)
		}
		return fmt.Sprintf("the Postgres server at %s refused the connection", addr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer from the Postgres server at %s within %s", addr, pgOpenTimeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("cannot resolve the Postgres host %q", cfg.Host)
	}
	return fmt.Sprintf("cannot reach the Postgres server at %s", addr)
}

// isPasswordParam reports whether a URI query parameter holds a password.
func isPasswordParam(key string) bool {
	k := strings.ToLower(key)
	return k == "password" || k == "sslpassword"
}

// redactURI is uri with its passwords (user info, password and sslpassword parameters) replaced by xxxxx. A uri
// that does not parse (a password with a raw '/' or '#', say) loses everything between its user name and its
// last '@', or its whole query.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		scheme, rest, ok := strings.Cut(uri, "://")
		if !ok {
			return "(an unparsable URI)"
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			user, _, _ := strings.Cut(rest[:at], ":")
			return scheme + "://" + user + ":xxxxx" + rest[at:]
		}
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			return scheme + "://" + rest[:i] + "?xxxxx"
		}
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		hidden := false
		for k := range q {
			if isPasswordParam(k) {
				q.Set(k, "xxxxx")
				hidden = true
			}
		}
		if hidden {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretsOf lists the passwords to scrub from messages, as written and escaped: those in uri, the one the
// connection uses (cfg, which may come from PGPASSWORD or a password file) and PGPASSWORD. Passwords shorter
// than 4 bytes are left out, since scrubbing them would garble a message without hiding anything.
func secretsOf(uri string, cfg *pgx.ConnConfig) []string {
	var out []string
	add := func(p string) {
		if len(p) >= 4 {
			out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	if u, err := url.Parse(uri); err == nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			if isPasswordParam(k) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	} else if _, rest, ok := strings.Cut(uri, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok {
				add(p)
			}
		}
	}
	if cfg != nil {
		add(cfg.Password)
	}
	add(os.Getenv("PGPASSWORD"))
	return out
}
