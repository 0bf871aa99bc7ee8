// Package lake owns Big Father's Iceberg side: opening catalogs, creating tables from column specs, writing
// Parquet data files, and committing them together with the Kafka offsets they cover (the exactly-once protocol
// of DESIGN.md).
package lake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/bigfather/bigfather/internal/platformdb"
)

// Lake is an open Iceberg catalog plus the warehouse location new tables are created under.
type Lake struct {
	cat       catalog.Catalog
	closer    func() error
	warehouse string       // URI: file:///abs/path or s3://bucket/prefix
	file      *catalogFile // the SQLite catalog file opened; nil for other catalogs
	// sqlCatalog is set for the SQL catalogs (SQLite, Postgres): they check commit requirements in process,
	// custom ones (ownerRequirement) included; a REST server knows only Iceberg's own.
	sqlCatalog bool
	s3         S3         // how an s3:// warehouse is reached (s3.go)
	rest       REST       // how a REST catalog is reached (rest.go)
	cache      *fileCache // where remote data files are read from (cache.go); nil until first needed
	cacheOnce  sync.Once
	cacheErr   error
}

// Open connects to the catalog named by catalogURI (sqlite://PATH, postgres://USER[:PASSWORD]@HOST:PORT/DB, or
// an Iceberg REST catalog http(s) URL) and uses warehouse (a local path or s3://bucket/prefix) for new tables.
// A Postgres catalog is Iceberg's JDBC catalog layout in that database, created when missing; the password
// comes from the URI or the libpq environment (PGPASSWORD, ~/.pgpass), and no error shows it. An s3://
// warehouse is checked first (WithS3 says how to reach it): a bad endpoint, missing bucket or refused
// credentials fail here, naming the config key to fix.
func Open(ctx context.Context, catalogURI, warehouse string, opts ...Option) (*Lake, error) {
	wh, err := warehouseURI(warehouse)
	if err != nil {
		return nil, err
	}
	l := &Lake{warehouse: wh}
	for _, o := range opts {
		o(l)
	}
	if l.remote() {
		if err := l.checkS3(ctx); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.HasPrefix(catalogURI, "sqlite://"):
		path, err := filepath.Abs(strings.TrimPrefix(catalogURI, "sqlite://"))
		if err != nil {
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		// The file is created here, once, and every connection opens it with mode=rw: a connection the pool
		// opens after the file was deleted fails instead of creating an empty catalog in its place.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		f.Close()
		// WAL and a busy timeout let several stage processes share one catalog file.
		dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String() +
			"?mode=rw&_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		db, err := sql.Open(sqliteshim.ShimName, dsn)
		if err != nil {
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		c, err := newSQLiteCatalog(ctx, db, l.catalogProps())
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		// The identity of the file the connections opened, which every catalog write checks (guard.go).
		dev, ino, err := statFile(path)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("opening catalog %s: %w", catalogURI, err)
		}
		l.file = &catalogFile{uri: "sqlite://" + path, path: path, dev: dev, ino: ino}
		l.cat, l.closer, l.sqlCatalog = &guardedCatalog{Catalog: c, check: l.file.check}, db.Close, true
	case strings.HasPrefix(catalogURI, "http://"), strings.HasPrefix(catalogURI, "https://"):
		c, err := l.openREST(ctx, catalogURI) // rest.go: warehouse, prefix, token or OAuth2 credential
		if err != nil {
			return nil, err
		}
		l.cat, l.closer = c, c.Close
	case strings.HasPrefix(catalogURI, "postgres://"), strings.HasPrefix(catalogURI, "postgresql://"):
		c, db, err := openPostgres(ctx, catalogURI, l.catalogProps())
		if err != nil {
			return nil, err
		}
		l.cat, l.closer, l.sqlCatalog = c, db.Close, true
	default:
		return nil, fmt.Errorf("opening catalog: unsupported catalog uri %q (expected sqlite://PATH, postgres://... or an http(s):// REST catalog)", RedactURI(catalogURI))
	}
	return l, nil
}

// Close releases the catalog connection.
func (l *Lake) Close() error {
	if l.closer == nil {
		return nil
	}
	err := l.closer()
	l.closer = nil
	return err
}

// Catalog returns the underlying Iceberg catalog.
func (l *Lake) Catalog() catalog.Catalog { return l.cat }

func warehouseURI(warehouse string) (string, error) {
	if warehouse == "" {
		return "", errors.New("opening lake: warehouse is empty")
	}
	if scheme, _, ok := strings.Cut(warehouse, "://"); ok {
		if scheme == "s3" {
			if bucket, _ := s3Warehouse(warehouse); bucket == "" {
				return "", fmt.Errorf("opening lake: warehouse %s: expected s3://bucket/prefix", warehouse)
			}
			return strings.TrimRight(warehouse, "/"), nil
		}
		if scheme != "file" {
			return "", fmt.Errorf("opening lake: warehouse %s: %s:// warehouses are not supported (use a local path or s3://bucket/prefix)", warehouse, scheme)
		}
		return strings.TrimRight(warehouse, "/"), nil
	}
	abs, err := filepath.Abs(warehouse)
	if err != nil {
		return "", fmt.Errorf("resolving warehouse %q: %w", warehouse, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("creating warehouse %q: %w", abs, err)
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// LocalPath turns a file:// URI (or a plain path) into a local path; other schemes are returned unchanged.
func LocalPath(uri string) string {
	if strings.HasPrefix(uri, "file://") {
		if u, err := url.Parse(uri); err == nil {
			return u.Path
		}
		return strings.TrimPrefix(uri, "file://")
	}
	return uri
}

// Ident splits "namespace.table" into an Iceberg identifier.
func Ident(name string) table.Identifier { return table.Identifier(strings.Split(name, ".")) }

// LoadTable loads a table by "namespace.table".
func (l *Lake) LoadTable(ctx context.Context, name string) (*table.Table, error) {
	t, err := l.cat.LoadTable(ctx, Ident(name))
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", name, err)
	}
	return t, nil
}

// Tables lists every table in every namespace as "namespace.table".
func (l *Lake) Tables(ctx context.Context) ([]string, error) {
	nss, err := l.cat.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	var out []string
	for _, ns := range nss {
		for id, err := range l.cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("listing tables in %s: %w", strings.Join(ns, "."), err)
			}
			out = append(out, strings.Join(id, "."))
		}
	}
	return out, nil
}

// sqliteOpenTimeout bounds how long opening a SQLite catalog waits for other processes creating its tables.
const sqliteOpenTimeout = 30 * time.Second

// newSQLiteCatalog opens the SQL catalog on a SQLite database, retrying while another process holds the file
// locked: creating the catalog's tables upgrades a read transaction to a write, which SQLite answers with
// SQLITE_BUSY at once, without waiting out the busy timeout, when another process writes at that moment (two
// processes starting together on a new catalog).
func newSQLiteCatalog(ctx context.Context, db *sql.DB, props iceberg.Properties) (*sqlcat.Catalog, error) {
	var c *sqlcat.Catalog
	err := platformdb.RetryBusy(ctx, sqliteOpenTimeout, func() (err error) {
		c, err = sqlcat.NewCatalog("bigfather", db, sqlcat.SQLite, props)
		return err
	})
	return c, err
}
