// Package query runs SQL over the current snapshots of Big Father's Iceberg tables with embedded DuckDB.
//
// The lake package hands over each table's current snapshot as a [Table]: its schema and the local paths of
// its parquet data files and positional delete files. [Engine.Register] records it, and before the next query
// the engine builds a DuckDB view namespace.name over read_parquet, so users query tables by their Iceberg
// names. DuckDB runs in memory, with two threads, a 1 GB memory limit, time zone UTC and no extension
// downloads.
//
// The engine is a sandbox, because the SQL it runs comes from people (the sql command, and the console over
// HTTP): it can read the registered tables and nothing else, and it changes nothing.
//   - Only queries run: one SELECT (or WITH, VALUES, FROM, TABLE, DESCRIBE, SHOW, SUMMARIZE) statement per
//     call, or EXPLAIN [ANALYZE] of one. Everything else is refused with an error wrapping [ErrRefused] that
//     says why (COPY, EXPORT, ATTACH, INSTALL, LOAD, CREATE, INSERT, SET, PRAGMA, CALL...). Input holding
//     several statements is refused whole: none of them runs. DuckDB classifies the statement itself: the
//     query must parse as exactly one SELECT in json_serialize_sql (which parses without running anything),
//     and its prepared statement must be of type SELECT (EXPLAIN for EXPLAIN). PIVOT and PRAGMA are refused
//     because json_serialize_sql cannot show what they contain.
//   - Table functions are allowed by name (allowedTableFunctions): readers, generators and catalog listings.
//     Others can change the engine from inside a SELECT (enable_logging makes every later query fail,
//     query() runs SQL from a string, arrow_scan reads raw memory pointers), so they are refused.
//   - Files: once the views exist the engine sets allowed_paths to the registered tables' own data and delete
//     files (and those given to [AllowFiles]), turns enable_external_access off and locks the configuration.
//     DuckDB then refuses any other file (read_text('/etc/passwd'), glob, a path in FROM, ATTACH of a file,
//     INSTALL), and no statement can change a setting, even one that slipped past the checks above. Such
//     refusals read "reading files outside the tables is not allowed: PATH". DuckDB adds its own spill
//     directory to the allowed directories; nothing else is there.
//   - allowed_paths cannot change once external access is off, so registering a table after the first
//     query builds a new database with every view and swaps it in; queries already running finish on the
//     database they started on (so for a while two databases, each with its own memory limit, may exist).
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
//   - A table whose files are missing or unreadable still gets a view, with its declared columns, that raises
//     "table NAME cannot be read: data file PATH is missing" whenever a query reads it; queries that do not
//     touch it run normally. A file that disappears after the view was built fails the query with DuckDB's
//     error, prefixed with the table's name.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	// Unreadable, when not empty, says why the snapshot cannot be read at all (its metadata could not be
	// loaded, for example). The table's view then raises it whenever a query reads the table; Columns may be
	// empty.
	Unreadable string
}

// Engine is an in-memory DuckDB database holding one view per registered table, sandboxed as the package
// documentation describes. It is safe for concurrent use.
type Engine struct {
	tmpDir  string
	allowed []string // files queries may read besides the tables' own (AllowFiles)

	mu      sync.Mutex // guards the fields below; held while a database is built
	tables  map[string]*registered
	dirty   bool      // tables changed since cur was built
	cur     *instance // the database new queries run on
	retired []*instance
	built   int // databases opened so far, naming their spill directories
	closed  bool

	closeOnce sync.Once
	closeErr  error
}

// registered is a table as Register recorded it.
type registered struct {
	t Table // with local paths
	// fileCols caches the columns of the union of the data files (see describeFiles), so rebuilding the
	// database does not read the footers again; nil until they have been read.
	fileCols map[string]string
}

// instance is one DuckDB database. Register after the first query builds a new one (see Engine.build).
type instance struct {
	db       *sql.DB
	spillDir string
	sealed   bool                 // views built, files confined, configuration locked
	files    map[string]tableFile // the readable files of the tables, to name the table in errors
	users    int                  // queries running on it
	retired  bool                 // replaced: closed when the last query on it ends
	closed   bool
	// unreadable holds the messages the views of unreadable tables raise, to return them without DuckDB's
	// "Invalid Input Error" prefix.
	unreadable []string
}

// tableFile is a data or delete file of a table.
type tableFile struct {
	table string // namespace.name
	kind  string // "data" or "delete"
}

// Settings fixed at Open. Memory beyond memoryLimit spills to a private temporary directory.
const (
	threads     = 2
	memoryLimit = "1GB"
)

// Option configures Open.
type Option func(*Engine)

// AllowFiles lets queries read the given local files besides the registered tables' own: for a program that
// reads a file its user named (backfill reading a Parquet file, for example). Never pass paths taken from
// the SQL being run.
func AllowFiles(paths ...string) Option {
	return func(e *Engine) { e.allowed = append(e.allowed, localPaths(paths)...) }
}

// Open starts an in-memory DuckDB database with limited threads and memory, the UTC time zone, and extension
// auto-install and auto-load turned off.
func Open(ctx context.Context, opts ...Option) (*Engine, error) {
	tmpDir, err := os.MkdirTemp("", "bigfather-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("opening query engine: creating spill directory: %w", err)
	}
	e := &Engine{tmpDir: tmpDir, tables: map[string]*registered{}}
	for _, o := range opts {
		o(e)
	}
	if e.cur, err = e.newInstance(ctx); err != nil {
		_ = os.RemoveAll(tmpDir)
		return nil, fmt.Errorf("opening query engine: %w", err)
	}
	return e, nil
}

// newInstance opens an empty database with the engine's settings, not yet sealed. Callers hold e.mu (or own e
// alone, in Open).
func (e *Engine) newInstance(ctx context.Context) (*instance, error) {
	e.built++
	spillDir := filepath.Join(e.tmpDir, strconv.Itoa(e.built))
	opts := url.Values{}
	opts.Set("threads", fmt.Sprint(threads))
	opts.Set("memory_limit", memoryLimit)
	opts.Set("temp_directory", spillDir)
	opts.Set("autoinstall_known_extensions", "false")
	opts.Set("autoload_known_extensions", "false")
	connector, err := duckdb.NewConnector("?"+opts.Encode(), nil)
	if err != nil {
		return nil, err
	}
	inst := &instance{db: sql.OpenDB(connector), spillDir: spillDir}
	// TimeZone and the parquet options are not accepted at database creation (they belong to extensions
	// loaded afterwards), so set them globally; connections opened later inherit them. seal locks them.
	for _, stmt := range []string{
		"SET GLOBAL TimeZone = 'UTC'",
		"SET GLOBAL parquet_metadata_cache = true", // data files are immutable; don't re-read footers per query
	} {
		if _, err := inst.db.ExecContext(ctx, stmt); err != nil {
			_ = inst.close()
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return inst, nil
}

// close closes inst's database and removes its spill directory. Callers mark inst closed under Engine.mu
// first, so it is closed once.
func (inst *instance) close() error {
	err := inst.db.Close()
	if rmErr := os.RemoveAll(inst.spillDir); err == nil {
		err = rmErr
	}
	return err
}

// Close closes the database and removes its spill directory. It is safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		var insts []*instance
		for _, inst := range append([]*instance{e.cur}, e.retired...) {
			if !inst.closed {
				inst.closed = true
				insts = append(insts, inst)
			}
		}
		e.retired = nil
		e.mu.Unlock()
		for _, inst := range insts {
			if err := inst.close(); err != nil && e.closeErr == nil {
				e.closeErr = err
			}
		}
		if err := os.RemoveAll(e.tmpDir); err != nil && e.closeErr == nil {
			e.closeErr = err
		}
		if e.closeErr != nil {
			e.closeErr = fmt.Errorf("closing query engine: %w", e.closeErr)
		}
	})
	return e.closeErr
}

// Register makes t queryable as the view t.Namespace.t.Name over the table's current snapshot, replacing an
// earlier registration of the same table; the view is built before the next query. Queries already running
// keep the view they started with. Register reads no files: a table whose files are missing or unreadable is
// registered all the same, and only queries that read it fail, naming the table and the file.
func (e *Engine) Register(ctx context.Context, t Table) error {
	if err := e.register(t); err != nil {
		return fmt.Errorf("registering table %s.%s: %w", t.Namespace, t.Name, err)
	}
	return nil
}

func (e *Engine) register(t Table) error {
	if t.Namespace == "" || t.Name == "" {
		return errors.New("namespace and name must not be empty")
	}
	if len(t.Columns) == 0 && t.Unreadable == "" {
		return errors.New("table has no columns")
	}
	for i, c := range t.Columns {
		if c.Name == "" {
			return fmt.Errorf("column %d has an empty name", i)
		}
	}
	t.Columns = slices.Clone(t.Columns)
	t.DataFiles = localPaths(t.DataFiles)
	t.PositionDeletes = localPaths(t.PositionDeletes)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	e.tables[quoteIdent(t.Namespace)+"."+quoteIdent(t.Name)] = &registered{t: t}
	e.dirty = true
	return nil
}

var errClosed = errors.New("query engine is closed")

// acquire returns the database to run a query on, building it first if tables changed or it is not sealed
// yet. The caller must release it.
func (e *Engine) acquire(ctx context.Context) (*instance, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	if e.dirty || !e.cur.sealed {
		if err := e.build(ctx); err != nil {
			return nil, err
		}
	}
	e.cur.users++
	return e.cur, nil
}

// release ends a query on inst, closing inst if it was replaced and this was its last query.
func (e *Engine) release(inst *instance) {
	e.mu.Lock()
	inst.users--
	done := inst.retired && inst.users == 0 && !inst.closed
	if done {
		inst.closed = true
		e.retired = slices.DeleteFunc(e.retired, func(r *instance) bool { return r == inst })
	}
	e.mu.Unlock()
	if done {
		_ = inst.close()
	}
}

// build creates every registered table's view and seals the database: the tables' files become the only
// readable ones, external access is turned off and the configuration locked. A sealed database cannot allow
// new files, so a new one is built and swapped in when the current one is sealed. e.mu is held.
func (e *Engine) build(ctx context.Context) error {
	inst := e.cur
	if inst.sealed {
		var err error
		if inst, err = e.newInstance(ctx); err != nil {
			return fmt.Errorf("building query engine: %w", err)
		}
	}
	fail := func(err error) error {
		if inst != e.cur {
			_ = inst.close()
		}
		return fmt.Errorf("building query engine: %w", err)
	}
	inst.files = map[string]tableFile{}
	inst.unreadable = nil
	keys := make([]string, 0, len(e.tables))
	for k := range e.tables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := e.createView(ctx, inst, e.tables[k]); err != nil {
			return fail(err)
		}
	}
	if err := seal(ctx, inst.db, append(slices.Sorted(maps.Keys(inst.files)), e.allowed...)); err != nil {
		return fail(err)
	}
	inst.sealed = true
	if inst != e.cur {
		old := e.cur
		e.cur = inst
		old.retired = true
		if old.users == 0 {
			old.closed = true
			_ = old.close()
		} else {
			e.retired = append(e.retired, old)
		}
	}
	e.dirty = false
	return nil
}

// createView creates r's view in inst and records its files as readable. A table whose files cannot be read
// gets a view that raises the reason instead; only a failure to create even that is returned.
func (e *Engine) createView(ctx context.Context, inst *instance, r *registered) error {
	t := r.t
	name := t.Namespace + "." + t.Name
	ident := quoteIdent(t.Namespace) + "." + quoteIdent(t.Name)
	if _, err := inst.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(t.Namespace)); err != nil {
		return fmt.Errorf("table %s: creating schema: %w", name, err)
	}
	reason := t.Unreadable
	if reason == "" {
		reason = missingFiles(t)
	}
	if reason == "" && len(t.DataFiles) > 0 && r.fileCols == nil {
		cols, err := describeFiles(ctx, inst.db, t.DataFiles)
		if err != nil {
			reason = err.Error()
		} else {
			r.fileCols = cols
		}
	}
	if reason == "" {
		view := viewSQL(t.Columns, t.DataFiles, t.PositionDeletes, r.fileCols)
		_, err := inst.db.ExecContext(ctx, "CREATE OR REPLACE VIEW "+ident+" AS "+view)
		if err == nil {
			for _, f := range t.DataFiles {
				inst.files[f] = tableFile{name, "data"}
			}
			for _, f := range t.PositionDeletes {
				inst.files[f] = tableFile{name, "delete"}
			}
			return nil
		}
		reason = "creating its view: " + err.Error()
	}
	msg := "table " + name + " cannot be read: " + reason
	inst.unreadable = append(inst.unreadable, msg)
	if _, err := inst.db.ExecContext(ctx, "CREATE OR REPLACE VIEW "+ident+" AS "+unreadableViewSQL(t.Columns, msg)); err != nil {
		return fmt.Errorf("table %s: creating its view: %w", name, err)
	}
	return nil
}

// missingFiles says which of t's files do not exist or cannot be looked up, or returns "".
func missingFiles(t Table) string {
	var problems []string
	check := func(kind string, paths []string) {
		for _, p := range paths {
			_, err := os.Stat(p)
			switch {
			case err == nil:
			case errors.Is(err, os.ErrNotExist):
				problems = append(problems, kind+" file "+p+" is missing")
			default:
				problems = append(problems, kind+" file "+p+": "+err.Error())
			}
		}
	}
	check("data", t.DataFiles)
	check("delete", t.PositionDeletes)
	switch len(problems) {
	case 0:
		return ""
	case 1:
		return problems[0]
	}
	return fmt.Sprintf("%s (and %d more missing or unreadable files)", problems[0], len(problems)-1)
}

// seal confines inst to the given files, then turns external access off and locks the configuration. The
// order matters: allowed_paths cannot change once external access is off, and nothing can once the
// configuration is locked.
func seal(ctx context.Context, db *sql.DB, files []string) error {
	var stmts []string
	if len(files) > 0 {
		quoted := make([]string, len(files))
		for i, f := range files {
			quoted[i] = quoteString(f)
		}
		stmts = append(stmts, "SET GLOBAL allowed_paths = ["+strings.Join(quoted, ", ")+"]")
	}
	stmts = append(stmts,
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL lock_configuration = true",
	)
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sealing the database: %w", err)
		}
	}
	return nil
}

// describeFiles returns the columns of the union (by name) of the data files, keyed by lower-cased name (DuckDB
// binds identifiers case-insensitively), with their DuckDB types. Only footers are read.
func describeFiles(ctx context.Context, db *sql.DB, files []string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "DESCRIBE SELECT * FROM "+readParquet(files, ""))
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

// Query runs one query (see the package documentation for what is allowed) and returns its whole result with
// values converted to plain Go values (see [Result]). A statement the sandbox does not allow, several
// statements, or a query reading files outside the tables fail with an error wrapping [ErrRefused].
func (e *Engine) Query(ctx context.Context, sql string) (*Result, error) {
	return e.QueryLimit(ctx, sql, 0)
}

// QueryLimit is Query reading at most maxRows rows of the result (all when maxRows <= 0); the rest is never
// fetched. A context that ends interrupts the query.
func (e *Engine) QueryLimit(ctx context.Context, sql string, maxRows int) (*Result, error) {
	res, err := e.query(ctx, sql, maxRows)
	if err != nil {
		return nil, fmt.Errorf("running query: %w", err)
	}
	return res, nil
}

func (e *Engine) query(ctx context.Context, query string, maxRows int) (*Result, error) {
	inst, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer e.release(inst)
	conn, err := inst.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := check(ctx, conn, query); err != nil {
		return nil, inst.explain(err)
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, inst.explain(err)
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
	for (maxRows <= 0 || len(res.Rows) < maxRows) && rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, inst.explain(err)
		}
		row := make([]any, len(cols))
		for i, v := range raw {
			row[i] = convert(v, res.Types[i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, inst.explain(err)
	}
	return res, nil
}

// explain names the table whose file an error mentions (a data file deleted after the view was built, for
// example), and turns DuckDB's refusal to open a file into a sandbox refusal.
func (inst *instance) explain(err error) error {
	if err == nil || errors.Is(err, ErrRefused) {
		return err
	}
	msg := err.Error()
	for _, m := range inst.unreadable {
		if strings.Contains(msg, m) {
			return errors.New(m)
		}
	}
	var mentioned []string
	for _, f := range slices.Sorted(maps.Keys(inst.files)) {
		if strings.Contains(msg, f) {
			mentioned = append(mentioned, f)
		}
	}
	// DuckDB reports a missing file in several ways (as a failed glob of PATH/**/*.parquet, even as a
	// forbidden path): say what happened.
	for _, f := range mentioned {
		if _, serr := os.Stat(f); errors.Is(serr, os.ErrNotExist) {
			tf := inst.files[f]
			return fmt.Errorf("table %s cannot be read: %s file %s is missing", tf.table, tf.kind, f)
		}
	}
	if r := fileRefusal(err); r != nil {
		return r
	}
	if len(mentioned) > 0 {
		return fmt.Errorf("table %s: %w", inst.files[mentioned[0]].table, err)
	}
	return err
}
