package audit

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/uptrace/bun/driver/sqliteshim"
)

// sqliteSchema creates the table in a SQLite database: at is text in the sqliteTime layout.
var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      TEXT    NOT NULL,
	actor   TEXT    NOT NULL,
	role    TEXT    NOT NULL,
	via     TEXT    NOT NULL,
	method  TEXT    NOT NULL,
	path    TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	remote  TEXT    NOT NULL,
	outcome TEXT    NOT NULL,
	status  INTEGER NOT NULL,
	detail  TEXT    NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS ` + Table + `_at ON ` + Table + ` (at)`,
}

// sqliteMaxConns bounds one Store's connections to the file: writes take the file's one write lock in turn
// anyway.
const sqliteMaxConns = 4

// openSQLite opens the audit log in the SQLite file of a sqlite://PATH uri, as the catalog opens it: the file
// is created once here and every connection opens it read-write without creating it, in WAL mode with a busy
// timeout, so several processes can write it at once.
func openSQLite(ctx context.Context, uri string) (*Store, error) {
	rel := strings.TrimPrefix(uri, "sqlite://")
	if rel == "" {
		return nil, fmt.Errorf("opening the audit log: database URI %q has no path (expected sqlite://PATH)", uri)
	}
	path, err := filepath.Abs(rel)
	if err != nil {
		return nil, fmt.Errorf("opening the audit log in %s: %w", uri, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("opening the audit log in %s: %w", uri, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the audit log in %s: %w", uri, err)
	}
	f.Close()
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String() +
		"?mode=rw&_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the audit log in %s: %w", uri, err)
	}
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	for _, stmt := range sqliteSchema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("opening the audit log in %s: creating table %s: %w", uri, Table, err)
		}
	}
	return &Store{db: db}, nil
}
