package lake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// catalogName is the Iceberg catalog name Big Father's SQL catalogs use: the catalog_name column of every row
// in iceberg_tables and iceberg_namespace_properties. Other engines reading a Postgres catalog must be
// configured with the same name (for example a Spark catalog named bigfather, or Trino's
// iceberg.jdbc-catalog.catalog-name=bigfather).
const catalogName = "bigfather"

// Postgres connection limits of one process: a stage process commits each table in turn, so a few
// connections serve it, and a fleet of processes must fit in the server's max_connections (100 by default).
const (
	pgMaxOpenConns   = 8
	pgMaxIdleConns   = 4
	pgConnectTimeout = 10 * time.Second // per connection attempt, unless the URI sets connect_timeout
	pgOpenTimeout    = 30 * time.Second // for the first connection and creating the catalog tables
)

// RedactURI returns uri with any password in it replaced by xxxxx: the password of the user info
// (postgres://user:secret@host/db) and password or sslpassword query parameters. Use it wherever a catalog URI
// is printed or logged.
func RedactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return redactUnparsed(uri)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// redactUnparsed hides the password of a URI that does not parse (a password with an unescaped '/' or '#', for
// example): everything between the scheme's "://" and the last '@', after the user name, is replaced.
func redactUnparsed(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			return scheme + "://" + rest[:i] + "?xxxxx"
		}
		return uri
	}
	name, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + name + ":xxxxx" + rest[at:]
}

// openPostgres opens the SQL catalog in the Postgres database named by uri: it connects (failing with a
// *CatalogConnectError naming catalog.uri when the server is unreachable or refuses the user, password or
// database) and creates the Iceberg JDBC catalog tables when they are missing. props are the catalog's
// properties (the warehouse, the file IO's settings).
func openPostgres(ctx context.Context, uri string, props iceberg.Properties) (*sqlcat.Catalog, *sql.DB, error) {
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, nil, &CatalogConnectError{URI: RedactURI(uri), Cause: "invalid Postgres URI", err: err, secrets: secretsOf(uri, nil)}
	}
	secrets := secretsOf(uri, cfg)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	// A pooled connection is pinged before every use: one a server restart or failover broke is replaced
	// before a query goes out on it, so a query never fails for a connection that was dead before it began.
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return true }))
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)

	octx, cancel := context.WithTimeout(ctx, pgOpenTimeout)
	defer cancel()
	if err := db.PingContext(octx); err != nil {
		db.Close()
		return nil, nil, &CatalogConnectError{URI: RedactURI(uri), Cause: connectCause(cfg, err), err: err, secrets: secrets}
	}
	var c *sqlcat.Catalog
	for attempt := 0; ; attempt++ {
		c, err = sqlcat.NewCatalog(catalogName, db, sqlcat.Postgres, props)
		// Processes that start together on a new database race to create the catalog tables; CREATE TABLE IF
		// NOT EXISTS is not atomic in Postgres, so the losers fail on a unique index of the system catalogs
		// (the table's name or its row type: 23505, 42P07, 42710) and see the tables on the next try.
		if err == nil || !isPgCode(err, "23505", "42P07", "42710") || attempt == 5 {
			break
		}
		select {
		case <-octx.Done():
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	if err != nil {
		db.Close()
		return nil, nil, &CatalogConnectError{URI: RedactURI(uri), Cause: "creating the Iceberg catalog tables (iceberg_tables, iceberg_namespace_properties)", err: err, secrets: secrets}
	}
	return c, db, nil
}

// CatalogConnectError reports a catalog that cannot be opened: the config key, the URI with its password
// hidden, what went wrong in words, and the driver's error with any password scrubbed from it.
type CatalogConnectError struct {
	URI     string // redacted
	Cause   string
	err     error
	secrets []string
}

func (e *CatalogConnectError) Error() string {
	msg := fmt.Sprintf("opening catalog: catalog.uri %s: %s: %v", e.URI, e.Cause, e.err)
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

// Unwrap returns the driver's error.
func (e *CatalogConnectError) Unwrap() error { return e.err }

// secretsOf lists the passwords that must not appear in messages: the one in uri (user info or query), the
// one the connection uses (from the URI, PGPASSWORD or a password file), and PGPASSWORD. Very short ones are
// left out, since scrubbing them would garble the message without hiding anything.
func secretsOf(uri string, cfg *pgx.ConnConfig) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	if u, err := url.Parse(uri); err == nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
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

// connectCause says in words why the first connection failed.
func connectCause(cfg *pgx.ConnConfig, err error) string {
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Sprintf("the Postgres server at %s refused the password of user %q (the password comes from catalog.uri or the PGPASSWORD environment variable)", addr, cfg.User)
		case "28000":
			return fmt.Sprintf("the Postgres server at %s refused user %q (no such role, or pg_hba.conf does not admit it)", addr, cfg.User)
		case "3D000":
			return fmt.Sprintf("database %q does not exist on the Postgres server at %s (create it first)", cfg.Database, addr)
		case "53300":
			return fmt.Sprintf("the Postgres server at %s has no free connection slots", addr)
		}
		return fmt.Sprintf("the Postgres server at %s refused the connection", addr)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Sprintf("no answer from the Postgres server at %s within %s", addr, pgOpenTimeout)
	}
	var netErr net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve the Postgres host %q", cfg.Host)
	case errors.As(err, &netErr):
		return fmt.Sprintf("cannot reach the Postgres server at %s", addr)
	}
	return fmt.Sprintf("cannot connect to the Postgres server at %s", addr)
}

// isPgCode reports whether err carries a Postgres error with one of the SQLSTATE codes.
func isPgCode(err error, codes ...string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	for _, c := range codes {
		if pgErr.Code == c {
			return true
		}
	}
	return false
}
