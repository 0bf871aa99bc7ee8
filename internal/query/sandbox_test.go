package query

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// sandboxTables registers staging.events and staging.players over parquet files and returns the engine, the
// fixtures and the path of the events data file.
func sandboxTables(t *testing.T) (*Engine, *fixtures, string) {
	t.Helper()
	f := newFixtures(t)
	events := f.parquet("events.parquet", `SELECT * FROM (VALUES ('e1', 'p1', 10::BIGINT), ('e2', 'p2', 20::BIGINT), ('e3', 'p1', 5::BIGINT)) t(event_id, player, score)`)
	players := f.parquet("players.parquet", `SELECT * FROM (VALUES ('p1', 'alice'), ('p2', 'bob')) t(player, name)`)
	e := newEngine(t)
	for _, tbl := range []Table{
		{Namespace: "staging", Name: "events", Columns: []Column{{"event_id", "string"}, {"player", "string"}, {"score", "long"}}, DataFiles: []string{events}},
		{Namespace: "staging", Name: "players", Columns: []Column{{"player", "string"}, {"name", "string"}}, DataFiles: []string{players}},
	} {
		if err := e.Register(context.Background(), tbl); err != nil {
			t.Fatal(err)
		}
	}
	return e, f, events
}

// TestSandboxRefuses is the regression test for user SQL reading and writing any file, attaching databases,
// installing extensions and running DDL: every such statement is refused with an error saying why, and
// nothing it asked for happens.
func TestSandboxRefuses(t *testing.T) {
	e, f, eventsFile := sandboxTables(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.csv")
	other := f.parquet("other.parquet", `SELECT 42 AS answer`) // beside the tables' files, but no table's
	if err := os.WriteFile(secret, []byte("user,password\nroot,hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventsBefore, err := os.ReadFile(eventsFile)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outside, "out.csv")
	db := filepath.Join(outside, "x.db")
	files := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }

	tests := []struct {
		name  string
		query string
		want  string // the whole error after "running query: "
	}{
		{"read_text", `SELECT * FROM read_text('/etc/passwd')`, `query refused: reading files outside the tables is not allowed: /etc/passwd`},
		{"read_csv", `SELECT * FROM read_csv('/etc/passwd')`, `query refused: reading files outside the tables is not allowed: /etc/passwd`},
		{"read_blob", files(`SELECT * FROM read_blob(%s)`, quoteString(secret)), `query refused: reading files outside the tables is not allowed: ` + secret},
		{"path in FROM", files(`SELECT * FROM %s`, quoteString(secret)), `query refused: reading files outside the tables is not allowed: ` + secret},
		{"glob", `SELECT * FROM glob('/root/*')`, `query refused: reading files outside the tables is not allowed: /root/*`},
		{"parquet beside the tables", files(`SELECT * FROM read_parquet(%s)`, quoteString(other)), `query refused: reading files outside the tables is not allowed: ` + other},
		{"glob over the tables' directory", files(`SELECT count(*) FROM read_parquet(%s)`, quoteString(f.dir+"/*.parquet")),
			`query refused: reading files outside the tables is not allowed: ` + f.dir + "/*.parquet"},
		{"COPY TO", files(`COPY (SELECT * FROM staging.events) TO %s`, quoteString(out)), `query refused: COPY reads and writes files; the SQL engine is read-only`},
		{"COPY over a table's own file", files(`COPY (SELECT 1 AS x) TO %s (FORMAT parquet, USE_TMP_FILE false)`, quoteString(eventsFile)),
			`query refused: COPY reads and writes files; the SQL engine is read-only`},
		{"COPY FROM", `COPY staging.events FROM '/etc/passwd'`, `query refused: COPY reads and writes files; the SQL engine is read-only`},
		{"COPY after a comment", "/* hi */ -- there\n COPY (SELECT 1) TO " + quoteString(out), `query refused: COPY reads and writes files; the SQL engine is read-only`},
		{"EXPORT", files(`EXPORT DATABASE %s`, quoteString(outside)), `query refused: EXPORT DATABASE writes files; the SQL engine is read-only`},
		{"ATTACH a file", files(`ATTACH %s AS x`, quoteString(db)), `query refused: ATTACH opens other databases; the SQL engine is read-only`},
		{"ATTACH memory", `ATTACH ':memory:' AS m`, `query refused: ATTACH opens other databases; the SQL engine is read-only`},
		{"DETACH", `DETACH memory`, `query refused: DETACH changes the attached databases; the SQL engine is read-only`},
		{"USE", `USE memory`, `query refused: USE changes the current database; the SQL engine is read-only`},
		{"INSTALL", `INSTALL httpfs`, `query refused: INSTALL adds extensions; the SQL engine is read-only`},
		{"FORCE INSTALL", `FORCE INSTALL httpfs`, `query refused: FORCE INSTALL adds extensions; the SQL engine is read-only`},
		{"LOAD", `LOAD parquet`, `query refused: LOAD adds extensions; the SQL engine is read-only`},
		{"CREATE TABLE", `CREATE TABLE t AS SELECT 1 AS a`, `query refused: CREATE changes the catalog; the SQL engine is read-only`},
		{"CREATE TEMP TABLE", `create temp table t (a int)`, `query refused: CREATE changes the catalog; the SQL engine is read-only`},
		{"CREATE MACRO", `CREATE MACRO m(x) AS x + 1`, `query refused: CREATE changes the catalog; the SQL engine is read-only`},
		{"CREATE SECRET", `CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')`, `query refused: CREATE changes the catalog; the SQL engine is read-only`},
		{"DROP VIEW", `DROP VIEW staging.events`, `query refused: DROP changes the catalog; the SQL engine is read-only`},
		{"ALTER VIEW", `ALTER VIEW staging.events RENAME TO gone`, `query refused: ALTER changes the catalog; the SQL engine is read-only`},
		{"INSERT", `INSERT INTO staging.events VALUES ('e9', 'p9', 1)`, `query refused: INSERT changes tables; the SQL engine is read-only`},
		{"UPDATE", `UPDATE staging.events SET score = 0`, `query refused: UPDATE changes tables; the SQL engine is read-only`},
		{"DELETE", `DELETE FROM staging.events`, `query refused: DELETE changes tables; the SQL engine is read-only`},
		{"SET", `SET threads = 64`, `query refused: SET changes settings; the SQL engine is read-only`},
		{"SET GLOBAL external access", `SET GLOBAL enable_external_access = true`, `query refused: SET changes settings; the SQL engine is read-only`},
		{"RESET", `RESET memory_limit`, `query refused: RESET changes settings; the SQL engine is read-only`},
		{"SET VARIABLE", `SET VARIABLE x = 1`, `query refused: SET changes settings; the SQL engine is read-only`},
		{"PRAGMA", `PRAGMA enable_profiling`, `query refused: PRAGMA can change settings; the SQL engine is read-only (DESCRIBE and SHOW describe tables)`},
		{"CALL", `CALL enable_logging()`, `query refused: CALL runs procedures that can change the engine; the SQL engine is read-only`},
		{"BEGIN", `BEGIN TRANSACTION`, `query refused: BEGIN controls transactions; the SQL engine is read-only`},
		{"CHECKPOINT", `CHECKPOINT`, `query refused: CHECKPOINT writes storage; the SQL engine is read-only`},
		{"PREPARE", `PREPARE p AS SELECT 1`, `query refused: PREPARE manages prepared statements; the SQL engine is read-only`},
		{"PIVOT", `PIVOT staging.events ON player USING sum(score)`, `query refused: PIVOT and UNPIVOT are not supported; aggregate with GROUP BY and FILTER (WHERE ...) instead`},
		// Table functions that change the engine from inside a SELECT, or run SQL the checks never see.
		{"enable_logging", `SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp')`, `query refused: table function enable_logging is not allowed; the SQL engine is read-only`},
		{"quoted, in a subquery", `SELECT (SELECT count(*) FROM "ENABLE_PROFILING"())`, `query refused: table function enable_profiling is not allowed; the SQL engine is read-only`},
		{"query()", `SELECT * FROM query('SELECT * FROM enable_logging()')`, `query refused: table function query is not allowed; the SQL engine is read-only`},
		{"checkpoint()", `SELECT * FROM staging.events, checkpoint()`, `query refused: table function checkpoint is not allowed; the SQL engine is read-only`},
		{"SUMMARIZE of a refused function", `SUMMARIZE (SELECT * FROM truncate_duckdb_logs())`, `query refused: table function truncate_duckdb_logs is not allowed; the SQL engine is read-only`},
		// Several statements: none runs, whatever they are.
		{"two SELECTs", `SELECT 1; SELECT 2`, `query refused: the query holds 2 statements and none of them ran; send one statement at a time`},
		{"a write, then a SELECT", files(`COPY (SELECT 1) TO %s; SELECT 2`, quoteString(out)), `query refused: the query holds 2 statements and none of them ran; send one statement at a time`},
		{"DDL, then a SELECT of it", `CREATE TABLE x AS SELECT 1 AS a; SELECT * FROM x;`, `query refused: the query holds 2 statements and none of them ran; send one statement at a time`},
		{"three, with a semicolon in a string", `SELECT ';'; SELECT 2; SELECT 3`, `query refused: the query holds 3 statements and none of them ran; send one statement at a time`},
		// EXPLAIN ANALYZE runs what it explains.
		{"EXPLAIN ANALYZE COPY", files(`EXPLAIN ANALYZE COPY (SELECT 1) TO %s`, quoteString(out)), `query refused: COPY reads and writes files; the SQL engine is read-only`},
		{"EXPLAIN CREATE", `explain create table t as select 1`, `query refused: CREATE changes the catalog; the SQL engine is read-only`},
		{"EXPLAIN ANALYZE of a refused function", `EXPLAIN ANALYZE SELECT * FROM enable_logging()`, `query refused: table function enable_logging is not allowed; the SQL engine is read-only`},
		{"EXPLAIN without a space", `EXPLAIN/* x */SELECT 1`, `query refused: EXPLAIN is allowed only as EXPLAIN [ANALYZE] followed by a query`},
		{"EXPLAIN options", `EXPLAIN (FORMAT json) SELECT 1`, `query refused: EXPLAIN must be followed by a query (EXPLAIN [ANALYZE] SELECT ...): Parser Error: syntax error at or near "FORMAT"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Query(context.Background(), tt.query)
			if err == nil {
				t.Fatalf("ran; want %q", tt.want)
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("err = %v, want it to wrap ErrRefused", err)
			}
			got, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "running query: "), "\n")
			if !strings.HasPrefix(err.Error(), "running query: ") || got != tt.want {
				t.Errorf("err = %q\nwant   %q", err, "running query: "+tt.want)
			}
		})
	}

	// Nothing the refused statements asked for happened.
	for _, p := range []string{out, db} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after the refused statements (%v)", p, err)
		}
	}
	if after, err := os.ReadFile(eventsFile); err != nil || string(after) != string(eventsBefore) {
		t.Errorf("the table's data file changed (%v)", err)
	}
	if entries, err := os.ReadDir(outside); err != nil || len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only secret.csv (%v)", outside, len(entries), err)
	}
	for _, q := range []string{`SELECT * FROM x`, `SELECT * FROM t`} {
		if _, err := e.Query(context.Background(), q); err == nil || !strings.Contains(err.Error(), "Catalog Error") {
			t.Errorf("%s: err = %v, want a catalog error (nothing was created)", q, err)
		}
	}
	res := mustQuery(t, e, `SELECT count(*), sum(score) FROM staging.events`)
	if want := [][]any{{int64(3), big.NewInt(35)}}; !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("staging.events after the refused statements: %v, want %v", res.Rows, want)
	}
	res = mustQuery(t, e, `SELECT current_setting('threads'), current_setting('memory_limit'), current_setting('enable_external_access'), current_setting('lock_configuration')`)
	if want := [][]any{{int64(2), "953.6 MiB", false, true}}; !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("settings after the refused statements: %#v, want %#v", res.Rows, want)
	}
}

// TestSandboxAllows runs the queries the sandbox is for: SELECTs in all their forms over the tables, their own
// files, and the catalog.
func TestSandboxAllows(t *testing.T) {
	e, _, eventsFile := sandboxTables(t)
	tests := []struct {
		name  string
		query string
		rows  [][]any
	}{
		{"join and aggregate", `SELECT p.name, count(*) AS n, sum(e.score) AS total FROM staging.events e JOIN staging.players p USING (player) GROUP BY ALL ORDER BY 1`,
			[][]any{{"alice", int64(2), big.NewInt(15)}, {"bob", int64(1), big.NewInt(20)}}},
		{"CTE and window", `WITH r AS (SELECT event_id, rank() OVER (ORDER BY score DESC) AS k FROM staging.events) SELECT event_id FROM r WHERE k = 1`,
			[][]any{{"e2"}}},
		{"FROM first, trailing semicolon", `FROM staging.players SELECT name ORDER BY name;`, [][]any{{"alice"}, {"bob"}}},
		{"leading comment", "-- players\nSELECT count(*) FROM staging.players", [][]any{{int64(2)}}},
		{"VALUES", `VALUES (1, 'a')`, [][]any{{int64(1), "a"}}},
		{"TABLE", `TABLE staging.players ORDER BY player`, [][]any{{"p1", "alice"}, {"p2", "bob"}}},
		{"a table's own file", fmt.Sprintf(`SELECT count(*) FROM read_parquet(%s)`, quoteString(eventsFile)), [][]any{{int64(3)}}},
		{"generators", `SELECT sum(i) FROM range(4) t(i), unnest([1]) u(x)`, [][]any{{big.NewInt(6)}}},
		{"DESCRIBE", `SELECT column_name, column_type FROM (DESCRIBE staging.players)`, [][]any{{"player", "VARCHAR"}, {"name", "VARCHAR"}}},
		{"SHOW TABLES", `SELECT name FROM (SHOW ALL TABLES) ORDER BY name`, [][]any{{"events"}, {"players"}}},
		{"catalog functions", `SELECT count(*) FROM duckdb_views() WHERE schema_name = 'staging'`, [][]any{{int64(2)}}},
		{"a SELECT that mentions COPY", `SELECT 'COPY x TO y; ATTACH' AS "INSERT"`, [][]any{{"COPY x TO y; ATTACH"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustQuery(t, e, tt.query)
			if !reflect.DeepEqual(res.Rows, tt.rows) {
				t.Errorf("rows = %#v, want %#v", res.Rows, tt.rows)
			}
		})
	}
	for _, q := range []string{
		`SUMMARIZE staging.events`,
		`EXPLAIN SELECT * FROM staging.events`,
		`explain analyze SELECT count(*) FROM staging.events JOIN staging.players USING (player)`,
		`DESCRIBE SELECT 1 AS x`,
	} {
		if res := mustQuery(t, e, q); len(res.Rows) == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
}

// TestSandboxDuckDB checks the DuckDB half of the sandbox on its own, bypassing the statement checks: the
// sealed database itself refuses files outside the tables and any change of configuration.
func TestSandboxDuckDB(t *testing.T) {
	e, _, _ := sandboxTables(t)
	mustQuery(t, e, `SELECT 1`) // builds and seals the database
	out := filepath.Join(t.TempDir(), "out.csv")
	tests := []struct {
		stmt    string
		errType duckdb.ErrorType
		want    string
	}{
		{`SELECT * FROM read_text('/etc/passwd')`, duckdb.ErrorTypePermission, `Cannot access file "/etc/passwd" - file system operations are disabled by configuration`},
		{`SELECT * FROM glob('/root/*')`, duckdb.ErrorTypePermission, `Cannot access file "/root/*" - file system operations are disabled by configuration`},
		{`COPY (SELECT 1) TO ` + quoteString(out), duckdb.ErrorTypePermission, `Cannot access file "` + out + `" - file system operations are disabled by configuration`},
		{`ATTACH ` + quoteString(out+".db") + ` AS x`, duckdb.ErrorTypePermission, `Cannot access file "` + out + `.db" - file system operations are disabled by configuration`},
		{`LOAD httpfs`, duckdb.ErrorTypePermission, `Loading external extensions is disabled through configuration`},
		{`SET threads = 64`, duckdb.ErrorTypeInvalidInput, `Cannot change configuration option "threads" - the configuration has been locked`},
		{`SET GLOBAL enable_external_access = true`, duckdb.ErrorTypeInvalidInput, `Cannot change configuration option "enable_external_access" - the configuration has been locked`},
		{`SET GLOBAL allowed_directories = ['/']`, duckdb.ErrorTypeInvalidInput, `Cannot change configuration option "allowed_directories" - the configuration has been locked`},
		{`SET GLOBAL lock_configuration = false`, duckdb.ErrorTypeInvalidInput, `Cannot change configuration option "lock_configuration" - the configuration has been locked`},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			_, err := e.cur.db.ExecContext(context.Background(), tt.stmt)
			var de *duckdb.Error
			if !errors.As(err, &de) || de.Type != tt.errType || !strings.Contains(de.Msg, tt.want) {
				t.Errorf("err = %v, want a %v error containing %q", err, tt.errType, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written (%v)", out, err)
	}
}

// TestRegisterAfterQuery registers a table after the database was sealed: a new database is built with every
// view and the new table's files readable, and it is sealed like the first.
func TestRegisterAfterQuery(t *testing.T) {
	e, f, _ := sandboxTables(t)
	if got := mustQuery(t, e, `SELECT count(*) FROM staging.events`).Rows[0][0]; got != int64(3) {
		t.Fatalf("count = %v", got)
	}
	first := e.cur
	later := f.parquet("later.parquet", `SELECT 'p3' AS player, 'carol' AS name`)
	if err := e.Register(context.Background(), Table{Namespace: "staging", Name: "players", Columns: []Column{{"player", "string"}, {"name", "string"}},
		DataFiles: []string{later}}); err != nil {
		t.Fatal(err)
	}
	res := mustQuery(t, e, `SELECT e.event_id, p.name FROM staging.events e LEFT JOIN staging.players p USING (player) ORDER BY 1`)
	if want := [][]any{{"e1", nil}, {"e2", nil}, {"e3", nil}}; !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("join after re-registering players: %v, want %v", res.Rows, want)
	}
	if got := mustQuery(t, e, `SELECT name FROM read_parquet(`+quoteString(later)+`)`).Rows; !reflect.DeepEqual(got, [][]any{{"carol"}}) {
		t.Errorf("the new file read directly: %v", got)
	}
	if e.cur == first || !first.closed {
		t.Errorf("re-registering did not replace and close the sealed database")
	}
	if _, err := e.Query(context.Background(), `SELECT * FROM read_text('/etc/passwd')`); !errors.Is(err, ErrRefused) {
		t.Errorf("the new database reads /etc/passwd: %v", err)
	}
	if _, err := e.cur.db.ExecContext(context.Background(), `SET threads = 8`); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("the new database's configuration is not locked: %v", err)
	}
}

// TestAllowFiles lets a program read a file it was given, and nothing else.
func TestAllowFiles(t *testing.T) {
	f := newFixtures(t)
	given := f.parquet("given.parquet", `SELECT 7 AS n`)
	beside := f.parquet("beside.parquet", `SELECT 8 AS n`)
	e, err := Open(context.Background(), AllowFiles("file://"+given))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := mustQuery(t, e, `SELECT n FROM read_parquet(`+quoteString(given)+`)`).Rows; !reflect.DeepEqual(got, [][]any{{int64(7)}}) {
		t.Errorf("rows = %v", got)
	}
	_, err = e.Query(context.Background(), `SELECT n FROM read_parquet(`+quoteString(beside)+`)`)
	if want := "running query: query refused: reading files outside the tables is not allowed: " + beside; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestUnreadableTable is the regression test for one missing data file failing every query: only queries
// that read the broken table fail, naming the table and the file.
func TestUnreadableTable(t *testing.T) {
	f := newFixtures(t)
	good := f.parquet("good.parquet", `SELECT * FROM (VALUES (1::BIGINT, 'a'), (2::BIGINT, 'b')) t(id, s)`)
	kept := f.parquet("kept.parquet", `SELECT 3::BIGINT AS id, 'c' AS s`)
	data := f.parquet("data.parquet", `SELECT 4::BIGINT AS id, 'd' AS s`)
	later := f.parquet("later.parquet", `SELECT 5::BIGINT AS id, 'e' AS s`)
	missing := filepath.Join(f.dir, "gone.parquet")
	missingDel := filepath.Join(f.dir, "gone-deletes.parquet")
	notParquet := filepath.Join(f.dir, "text.parquet")
	if err := os.WriteFile(notParquet, []byte("not parquet at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	cols := []Column{{"id", "long"}, {"s", "string"}}
	e := newEngine(t)
	for _, tbl := range []Table{
		{Namespace: "staging", Name: "good", Columns: cols, DataFiles: []string{good}},
		{Namespace: "staging", Name: "broken", Columns: cols, DataFiles: []string{kept, missing}},
		{Namespace: "staging", Name: "no_deletes", Columns: cols, DataFiles: []string{data}, PositionDeletes: []string{"file://" + missingDel}},
		{Namespace: "staging", Name: "corrupt", Columns: cols, DataFiles: []string{notParquet}},
		{Namespace: "staging", Name: "no_metadata", Unreadable: "loading metadata: open /w/metadata/v3.json: no such file or directory"},
		{Namespace: "staging", Name: "vanishing", Columns: cols, DataFiles: []string{later}},
	} {
		if err := e.Register(context.Background(), tbl); err != nil {
			t.Fatalf("Register(%s): %v", tbl.Name, err)
		}
	}
	brokenErr := "running query: table staging.broken cannot be read: data file " + missing + " is missing"
	tests := []struct {
		query string
		rows  [][]any // nil: the query fails
		err   string  // the error's first line
	}{
		{query: `SELECT 1`, rows: [][]any{{int64(1)}}},
		{query: `SELECT count(*) FROM staging.good`, rows: [][]any{{int64(2)}}},
		{query: `SELECT count(*) FROM staging.vanishing`, rows: [][]any{{int64(1)}}},
		{query: `SELECT * FROM staging.broken LIMIT 0`, rows: [][]any{}},
		{query: `SELECT column_name FROM (DESCRIBE staging.broken)`, rows: [][]any{{"id"}, {"s"}}},
		{query: `SELECT count(*) FROM staging.broken`, err: brokenErr},
		{query: `SELECT s FROM staging.broken WHERE id = 3`, err: brokenErr},
		{query: `SELECT g.id FROM staging.good g JOIN staging.broken b USING (id)`, err: brokenErr},
		{query: `SELECT * FROM staging.no_deletes`, err: "running query: table staging.no_deletes cannot be read: delete file " + missingDel + " is missing"},
		{query: `SELECT count(*) FROM staging.corrupt`, err: "running query: table staging.corrupt cannot be read: reading data file schemas: Invalid Input Error: No magic bytes found at end of file '" + notParquet + "'"},
		{query: `SELECT * FROM staging.no_metadata`, err: "running query: table staging.no_metadata cannot be read: loading metadata: open /w/metadata/v3.json: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, err := e.Query(context.Background(), tt.query)
			if tt.rows != nil {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Rows, tt.rows) {
					t.Errorf("rows = %#v, want %#v", res.Rows, tt.rows)
				}
				return
			}
			if err == nil {
				t.Fatalf("ran; want %q", tt.err)
			}
			if got, _, _ := strings.Cut(err.Error(), "\n"); got != tt.err {
				t.Errorf("err = %q\nwant   %q", got, tt.err)
			}
		})
	}

	// A file that disappears after the view was built fails the query that reads it, naming the table.
	if err := os.Remove(later); err != nil {
		t.Fatal(err)
	}
	_, err := e.Query(context.Background(), `SELECT * FROM staging.vanishing`)
	if want := "running query: table staging.vanishing cannot be read: data file " + later + " is missing"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if got := mustQuery(t, e, `SELECT count(*) FROM staging.good`).Rows[0][0]; got != int64(2) {
		t.Errorf("staging.good count = %v after another table's file vanished", got)
	}
}

// TestRegisterWhileQuerying re-registers a table while other goroutines query: every query sees one
// complete database, and the replaced databases are closed once their queries end.
func TestRegisterWhileQuerying(t *testing.T) {
	e, f, _ := sandboxTables(t)
	files := []string{
		f.parquet("v1.parquet", `SELECT 'p1' AS player, 'alice' AS name`),
		f.parquet("v2.parquet", `SELECT * FROM (VALUES ('p1', 'alice'), ('p2', 'bob')) t(player, name)`),
	}
	ctx := context.Background()
	errs := make(chan error, 4)
	stop := make(chan struct{})
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				res, err := e.Query(ctx, `SELECT count(*) FROM staging.events JOIN staging.players USING (player)`)
				if err != nil {
					errs <- err
					return
				}
				if n := res.Rows[0][0]; n != int64(2) && n != int64(3) {
					errs <- fmt.Errorf("join count %v, want 2 or 3", n)
					return
				}
			}
		}()
	}
	for i := range 10 {
		if err := e.Register(ctx, Table{Namespace: "staging", Name: "players", Columns: []Column{{"player", "string"}, {"name", "string"}},
			DataFiles: []string{files[i%2]}}); err != nil {
			t.Fatal(err)
		}
		mustQuery(t, e, `SELECT 1`)
	}
	close(stop)
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.retired) != 0 {
		t.Errorf("%d replaced databases still open with no query running", len(e.retired))
	}
}
