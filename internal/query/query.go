// Package query runs SQL over the current snapshots of Big Father's Iceberg tables with embedded DuckDB.
//
// The lake package hands over each table's current snapshot as a [Table]: its schema and the local paths of
// its parquet data files and positional delete files. [Engine.Register] turns that into a DuckDB view
// namespace.name over read_parquet, so users query tables by their Iceberg names. DuckDB runs in memory, with
// two threads, a 1 GB memory limit, time zone UTC, no extension downloads and its configuration locked, so SQL
// sent to [Engine.Query] cannot change those settings.
//
// Non-obvious points:
//   - Each view selects exactly the declared columns, in order, cast to the declared type. A declared column
//     that no data file has (it was added after they were written) is projected as a typed NULL; files that
//     lack a column other files have read it as NULL through union_by_name.
//   - hive_partitioning is always off: Iceberg data paths often look like key=value directories, and DuckDB
//     would otherwise add or override columns from the path.
//   - Positional deletes are an anti-join on (data file path, row number) against the delete files'
//     (file_path, pos); both sides drop a file: or file:// prefix so URIs and plain paths match.
//   - Paths are passed to read_parquet one by one, never as a directory glob, so a view reads exactly the
//     snapshot's files.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Column is one column of a table's current Iceberg schema.
type Column struct {
	// Name is the column name as it appears in the schema and in the parquet files.
	Name string
	// Type is an Iceberg primitive type: "string", "long", "int", "double", "float", "boolean",
	// "timestamptz", "timestamp", "date", "binary", "uuid", "decimal(P,S)", "time" (also "fixed[L]",
	// "timestamp_ns" and "timestamptz_ns"). Other types are passed through from the files uncast.
	Type string
}

// Table is the current snapshot of one Iceberg table, as the lake package sees it.
type Table struct {
	// Namespace and Name identify the table; it is queried as namespace.name, e.g. staging.game_events.
	Namespace, Name string
	// Columns is the current schema, in order.
	Columns []Column
	// DataFiles are the local absolute paths of the snapshot's parquet data files; it may be empty.
	DataFiles []string
	// PositionDeletes are the local paths of the snapshot's positional delete files (parquet with columns
	// file_path and pos, as in the Iceberg spec); it may be empty.
	PositionDeletes []string
}

// Engine is an in-memory DuckDB database holding one view per registered table. It is safe for concurrent
// use.
type Engine struct {
	db     *sql.DB
	tmpDir string

	registerMu sync.Mutex // serializes catalog changes so concurrent Registers do not conflict

	closeOnce sync.Once
	closeErr  error
}

// Settings fixed at Open. Memory beyond memoryLimit spills to a private temporary directory.
const (
	threads     = 2
	memoryLimit = "1GB"
)

// Open starts an in-memory DuckDB database with limited threads and memory, the UTC time zone, and extension
// auto-install and auto-load turned off.
func Open(ctx context.Context) (*Engine, error) {
	tmpDir, err := os.MkdirTemp("", "bigfather-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("opening query engine: creating spill directory: %w", err)
	}
	opts := url.Values{}
	opts.Set("threads", fmt.Sprint(threads))
	opts.Set("memory_limit", memoryLimit)
	opts.Set("temp_directory", tmpDir)
	opts.Set("autoinstall_known_extensions", "false")
	opts.Set("autoload_known_extensions", "false")
	connector, err := duckdb.NewConnector("?"+opts.Encode(), nil)
	if err != nil {
		_ = os.RemoveAll(tmpDir)
		return nil, fmt.Errorf("opening query engine: %w", err)
	}
	e := &Engine{db: sql.OpenDB(connector), tmpDir: tmpDir}

	// TimeZone and the parquet options are not accepted at database creation (they belong to extensions
	// loaded afterwards), so set them globally, then lock the configuration so user SQL cannot change them.
	// Connections opened later inherit the global values.
	for _, stmt := range []string{
		"SET GLOBAL TimeZone = 'UTC'",
		"SET GLOBAL parquet_metadata_cache = true", // data files are immutable; don't re-read footers per query
		"SET GLOBAL lock_configuration = true",
	} {
		if _, err := e.db.ExecContext(ctx, stmt); err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("opening query engine: %s: %w", stmt, err)
		}
	}
	return e, nil
}

// Close closes the database and removes its spill directory. It is safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.closeErr = e.db.Close()
		if err := os.RemoveAll(e.tmpDir); err != nil && e.closeErr == nil {
			e.closeErr = err
		}
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("closing query engine: %w", e.closeErr)
		}
	})
	return e.closeErr
}

// Register creates schema t.Namespace if needed and creates or replaces the view t.Namespace.t.Name over the
// table's current snapshot. Queries already running keep the view they started with.
func (e *Engine) Register(ctx context.Context, t Table) error {
	if err := e.register(ctx, t); err != nil {
		return fmt.Errorf("registering table %s.%s: %w", t.Namespace, t.Name, err)
	}
	return nil
}

func (e *Engine) register(ctx context.Context, t Table) error {
	if t.Namespace == "" || t.Name == "" {
		return errors.New("namespace and name must not be empty")
	}
	if len(t.Columns) == 0 {
		return errors.New("table has no columns")
	}
	for i, c := range t.Columns {
		if c.Name == "" {
			return fmt.Errorf("column %d has an empty name", i)
		}
	}
	dataFiles := localPaths(t.DataFiles)
	var fileCols map[string]string
	if len(dataFiles) > 0 {
		var err error
		if fileCols, err = e.describeFiles(ctx, dataFiles); err != nil {
			return err
		}
	}
	view := viewSQL(t.Columns, dataFiles, localPaths(t.PositionDeletes), fileCols)

	e.registerMu.Lock()
	defer e.registerMu.Unlock()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(t.Namespace)); err != nil {
		return fmt.Errorf("creating schema: %w", err)
	}
	stmt := "CREATE OR REPLACE VIEW " + quoteIdent(t.Namespace) + "." + quoteIdent(t.Name) + " AS " + view
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("creating view: %w", err)
	}
	return tx.Commit()
}

// describeFiles returns the columns of the union (by name) of the data files, keyed by lower-cased name (DuckDB
// binds identifiers case-insensitively), with their DuckDB types. Only footers are read.
func (e *Engine) describeFiles(ctx context.Context, files []string) (map[string]string, error) {
	rows, err := e.db.QueryContext(ctx, "DESCRIBE SELECT * FROM "+readParquet(files, ""))
	if err != nil {
		return nil, fmt.Errorf("reading data file schemas: %w", err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var name, typ string
		var null, key, dflt, extra sql.NullString
		if err := rows.Scan(&name, &typ, &null, &key, &dflt, &extra); err != nil {
			return nil, fmt.Errorf("reading data file schemas: %w", err)
		}
		cols[strings.ToLower(name)] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading data file schemas: %w", err)
	}
	return cols, nil
}

// Query runs sql and returns its whole result with values converted to plain Go values (see [Result]). If sql
// holds several statements, the result is the last one's.
func (e *Engine) Query(ctx context.Context, sql string) (*Result, error) {
	res, err := e.query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("running query: %w", err)
	}
	return res, nil
}

func (e *Engine) query(ctx context.Context, sql string) (*Result, error) {
	rows, err := e.db.QueryContext(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	colTypes, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols, Types: make([]string, len(cols)), Rows: [][]any{}}
	for i, ct := range colTypes {
		res.Types[i] = ct.DatabaseTypeName()
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(cols))
		for i, v := range raw {
			row[i] = convert(v, res.Types[i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}
