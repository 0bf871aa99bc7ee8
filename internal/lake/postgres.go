package lake

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bigfather/bigfather/internal/pgurl"
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

// RedactURI returns uri with any password in it replaced by xxxxx (pgurl.Redact). Use it wherever a catalog
// URI is printed or logged.
func RedactURI(uri string) string { return pgurl.Redact(uri) }

// openPostgres opens the SQL catalog in the Postgres database named by uri: it connects (failing with a
// *CatalogConnectError naming catalog.uri when the server is unreachable or refuses the user, password or
// database) and creates the Iceberg JDBC catalog tables when they are missing. props are the catalog's
// properties (the warehouse, the file IO's settings).
func openPostgres(ctx context.Context, uri string, props iceberg.Properties) (*sqlcat.Catalog, *sql.DB, error) {
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, nil, &CatalogConnectError{URI: RedactURI(uri), Cause: "invalid Postgres URI", err: err, secrets: pgurl.Secrets(uri, nil)}
	}
	secrets := pgurl.Secrets(uri, cfg)
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
		return nil, nil, &CatalogConnectError{URI: RedactURI(uri), Cause: pgurl.ConnectCause(cfg, err, pgOpenTimeout), err: err, secrets: secrets}
	}
	var c *sqlcat.Catalog
	for attempt := 0; ; attempt++ {
		c, err = sqlcat.NewCatalog(catalogName, db, sqlcat.Postgres, props)
		// Processes that start together on a new database race to create the catalog tables; CREATE TABLE IF
		// NOT EXISTS is not atomic in Postgres, so the losers fail on a unique index of the system catalogs
		// (the table's name or its row type: 23505, 42P07, 42710) and see the tables on the next try.
		if err == nil || !pgurl.IsCode(err, "23505", "42P07", "42710") || attempt == 5 {
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
	return pgurl.Scrub(fmt.Sprintf("opening catalog: catalog.uri %s: %s: %v", e.URI, e.Cause, e.err), e.secrets)
}

// Unwrap returns the driver's error.
func (e *CatalogConnectError) Unwrap() error { return e.err }
