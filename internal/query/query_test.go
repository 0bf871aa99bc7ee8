package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// newEngine opens an Engine that is closed when the test ends.
func newEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(context.Background())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// fixtures writes parquet files with a DuckDB of its own, so the Engine under test only reads them.
type fixtures struct {
	t   *testing.T
	db  *sql.DB
	dir string
}

func newFixtures(t *testing.T) *fixtures {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// A quote and a space in the directory exercise path quoting.
	dir := filepath.Join(t.TempDir(), "it's data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &fixtures{t: t, db: db, dir: dir}
}

// parquet writes the rows of query to dir/name and returns the file's path.
func (f *fixtures) parquet(name, query string) string {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	stmt := fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", query, quoteString(path))
	if _, err := f.db.Exec(stmt); err != nil {
		f.t.Fatalf("writing %s: %v", name, err)
	}
	return path
}

func mustQuery(t *testing.T, e *Engine, q string) *Result {
	t.Helper()
	res, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query(%q): %v", q, err)
	}
	return res
}

func TestRegisterAndQuery(t *testing.T) {
	f := newFixtures(t)
	// Three files of staging.game_events; the oldest lacks score, which was added later.
	f1 := f.parquet("f1.parquet", `SELECT * FROM (VALUES ('e1', 'kill'), ('e2', 'death')) t(event_id, kind)`)
	f2 := f.parquet("f2.parquet", `SELECT * FROM (VALUES ('e3', 'kill', 10::BIGINT), ('e4', 'kill', 20::BIGINT)) t(event_id, kind, score)`)
	f3 := f.parquet("f3.parquet", `SELECT * FROM (VALUES ('e5', 'spawn', 5::BIGINT), ('e6', 'kill', NULL)) t(event_id, kind, score)`)
	// Iceberg data paths look like hive partitions; a directory value disagreeing with the file must not win.
	p1 := f.parquet("data/kind=WRONG/p1.parquet", `SELECT 'kill' AS kind, 1::BIGINT AS n`)
	p2 := f.parquet("data/kind=WRONG/p2.parquet", `SELECT 'death' AS kind, 2::BIGINT AS n`)
	// A uuid written as plain 16-byte binary, and other types round-tripping through parquet.
	typed := f.parquet("typed.parquet", `SELECT from_hex('123e4567e89b12d3a456426614174000') AS u,
		12.50::DECIMAL(10,2) AS amount, TIMESTAMPTZ '2024-05-06 07:08:09.5+02' AS tz, TIME '12:34:56' AS t, 'ab'::BLOB AS bin`)
	// int in the file, long in the schema (an Iceberg type promotion).
	promoted := f.parquet("promoted.parquet", `SELECT 7::INTEGER AS n`)
	odd := f.parquet("odd.parquet", `SELECT 1::BIGINT AS "we""ird col", 'x' AS "Mixed Case"`)

	events := []Column{{"event_id", "string"}, {"kind", "string"}, {"score", "long"}, {"region", "string"}}
	tables := []Table{
		{Namespace: "staging", Name: "game_events", Columns: events, DataFiles: []string{f1, f2, f3}},
		{Namespace: "staging", Name: "empty", Columns: []Column{
			{"event_id", "string"}, {"n", "long"}, {"i", "int"}, {"d", "double"}, {"f", "float"},
			{"b", "boolean"}, {"tz", "timestamptz"}, {"ts", "timestamp"}, {"day", "date"}, {"bin", "binary"},
			{"u", "uuid"}, {"amount", "decimal(10, 2)"}, {"t", "time"},
		}},
		{Namespace: "staging", Name: "partitioned", Columns: []Column{{"n", "long"}, {"kind", "string"}}, DataFiles: []string{p1, p2}},
		{Namespace: "staging", Name: "typed", Columns: []Column{{"u", "uuid"}, {"amount", "decimal(10,2)"}, {"tz", "timestamptz"}, {"t", "time"}, {"bin", "binary"}}, DataFiles: []string{typed}},
		{Namespace: "staging", Name: "promoted", Columns: []Column{{"n", "long"}}, DataFiles: []string{"file://" + promoted}},
		{Namespace: "odd ns", Name: "odd-table", Columns: []Column{{`we"ird col`, "long"}, {"Mixed Case", "string"}}, DataFiles: []string{odd}},
	}
	e := newEngine(t)
	for _, tbl := range tables {
		if err := e.Register(context.Background(), tbl); err != nil {
			t.Fatalf("Register(%s.%s): %v", tbl.Namespace, tbl.Name, err)
		}
	}

	tests := []struct {
		name    string
		query   string
		columns []string
		types   []string
		rows    [][]any
	}{
		{
			name:    "count over three files",
			query:   `SELECT count(*) AS n FROM staging.game_events`,
			columns: []string{"n"}, types: []string{"BIGINT"},
			rows: [][]any{{int64(6)}},
		},
		{
			name:    "group by",
			query:   `SELECT kind, count(*) AS n, sum(score) AS total FROM staging.game_events GROUP BY kind ORDER BY kind`,
			columns: []string{"kind", "n", "total"}, types: []string{"VARCHAR", "BIGINT", "HUGEINT"},
			rows: [][]any{
				{"death", int64(1), nil},
				{"kill", int64(4), big.NewInt(30)},
				{"spawn", int64(1), big.NewInt(5)},
			},
		},
		{
			name:    "column missing from older file reads as NULL",
			query:   `SELECT event_id, score FROM staging.game_events ORDER BY event_id`,
			columns: []string{"event_id", "score"}, types: []string{"VARCHAR", "BIGINT"},
			rows: [][]any{{"e1", nil}, {"e2", nil}, {"e3", int64(10)}, {"e4", int64(20)}, {"e5", int64(5)}, {"e6", nil}},
		},
		{
			name:    "view has the declared columns in order, even one no file has",
			query:   `SELECT * FROM staging.game_events WHERE event_id = 'e3'`,
			columns: []string{"event_id", "kind", "score", "region"}, types: []string{"VARCHAR", "VARCHAR", "BIGINT", "VARCHAR"},
			rows: [][]any{{"e3", "kill", int64(10), nil}},
		},
		{
			name:    "empty table counts 0",
			query:   `SELECT count(*) AS n FROM staging.empty`,
			columns: []string{"n"}, types: []string{"BIGINT"},
			rows: [][]any{{int64(0)}},
		},
		{
			name:    "empty table has the declared columns and types",
			query:   `SELECT * FROM staging.empty`,
			columns: []string{"event_id", "n", "i", "d", "f", "b", "tz", "ts", "day", "bin", "u", "amount", "t"},
			types: []string{"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "FLOAT", "BOOLEAN", "TIMESTAMPTZ", "TIMESTAMP",
				"DATE", "BLOB", "UUID", "DECIMAL(10,2)", "TIME"},
			rows: [][]any{},
		},
		{
			name:    "hive-looking paths are not partitions",
			query:   `SELECT * FROM staging.partitioned ORDER BY n`,
			columns: []string{"n", "kind"}, types: []string{"BIGINT", "VARCHAR"},
			rows: [][]any{{int64(1), "kill"}, {int64(2), "death"}},
		},
		{
			name:    "typed values",
			query:   `SELECT * FROM staging.typed`,
			columns: []string{"u", "amount", "tz", "t", "bin"}, types: []string{"UUID", "DECIMAL(10,2)", "TIMESTAMPTZ", "TIME", "BLOB"},
			rows: [][]any{{"123e4567-e89b-12d3-a456-426614174000", json.Number("12.50"), time.Date(2024, 5, 6, 5, 8, 9, 500000000, time.UTC),
				time.Date(1, 1, 1, 12, 34, 56, 0, time.UTC), []byte("ab")}},
		},
		{
			name:    "file type cast to the declared type",
			query:   `SELECT n FROM staging.promoted`,
			columns: []string{"n"}, types: []string{"BIGINT"},
			rows: [][]any{{int64(7)}},
		},
		{
			name:    "quoted identifiers",
			query:   `SELECT * FROM "odd ns"."odd-table"`,
			columns: []string{`we"ird col`, "Mixed Case"}, types: []string{"BIGINT", "VARCHAR"},
			rows: [][]any{{int64(1), "x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustQuery(t, e, tt.query)
			if !reflect.DeepEqual(res.Columns, tt.columns) {
				t.Errorf("columns = %q, want %q", res.Columns, tt.columns)
			}
			if !reflect.DeepEqual(res.Types, tt.types) {
				t.Errorf("types = %q, want %q", res.Types, tt.types)
			}
			if !reflect.DeepEqual(res.Rows, tt.rows) {
				t.Errorf("rows = %#v, want %#v", res.Rows, tt.rows)
			}
		})
	}
}

func TestPositionDeletes(t *testing.T) {
	f := newFixtures(t)
	// filename is also a real column, so the engine must not rely on DuckDB's filename virtual column.
	d1 := f.parquet("d1.parquet", `SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) t(id, filename)`)
	d2 := f.parquet("d2.parquet", `SELECT * FROM (VALUES (4, 'd'), (5, 'e'), (6, 'f')) t(id, filename)`)
	// Delete files name data files both as file:// URIs and as plain paths, and may list files outside the
	// snapshot.
	del1 := f.parquet("del1.parquet", fmt.Sprintf(`SELECT * FROM (VALUES (%s, 0::BIGINT), (%s, 2::BIGINT), (%s, 1::BIGINT)) t(file_path, pos)`,
		quoteString("file://"+d1), quoteString(d2), quoteString(filepath.Join(f.dir, "gone.parquet"))))
	del2 := f.parquet("del2.parquet", fmt.Sprintf(`SELECT %s AS file_path, 2::BIGINT AS pos`, quoteString("file:"+d1)))

	e := newEngine(t)
	tbl := Table{
		Namespace: "staging", Name: "things",
		Columns:         []Column{{"id", "int"}, {"filename", "string"}},
		DataFiles:       []string{d1, d2},
		PositionDeletes: []string{del1, del2},
	}
	if err := e.Register(context.Background(), tbl); err != nil {
		t.Fatal(err)
	}
	res := mustQuery(t, e, `SELECT id, filename FROM staging.things ORDER BY id`)
	want := [][]any{{int64(2), "b"}, {int64(4), "d"}, {int64(5), "e"}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("rows = %v, want %v", res.Rows, want)
	}
	if got := mustQuery(t, e, `SELECT count(*) FROM staging.things`).Rows[0][0]; got != int64(3) {
		t.Errorf("count = %v, want 3", got)
	}
	if !reflect.DeepEqual(res.Columns, []string{"id", "filename"}) {
		t.Errorf("columns = %q", res.Columns)
	}

	// Re-registering without deletes (a new snapshot) replaces the view.
	tbl.PositionDeletes = nil
	if err := e.Register(context.Background(), tbl); err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, e, `SELECT count(*) FROM staging.things`).Rows[0][0]; got != int64(6) {
		t.Errorf("count after re-register = %v, want 6", got)
	}
}

func TestQueryValues(t *testing.T) {
	e := newEngine(t)
	res := mustQuery(t, e, `SELECT
		'123e4567-e89b-12d3-a456-426614174000'::UUID AS u,
		12.50::DECIMAL(10,2) AS dec,
		-0.05::DECIMAL(4,2) AS neg,
		TIMESTAMPTZ '2024-05-06 07:08:09.123456+02' AS tz,
		DATE '2024-05-06' AS day,
		0.1::FLOAT AS f,
		'hi'::BLOB AS bin,
		42::TINYINT AS tiny,
		INTERVAL '1 year 2 months 3 days 04:05:06.5' AS iv,
		[1, 2] AS list,
		current_setting('TimeZone') AS zone`)
	want := []any{
		"123e4567-e89b-12d3-a456-426614174000",
		json.Number("12.50"),
		json.Number("-0.05"),
		time.Date(2024, 5, 6, 5, 8, 9, 123456000, time.UTC),
		time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
		0.1,
		[]byte("hi"),
		int64(42),
		"1 year 2 months 3 days 04:05:06.5",
		[]any{int64(1), int64(2)},
		"UTC",
	}
	if !reflect.DeepEqual(res.Rows[0], want) {
		t.Errorf("row = %#v\nwant  %#v", res.Rows[0], want)
	}
}

func TestWrite(t *testing.T) {
	e := newEngine(t)
	two := mustQuery(t, e, `SELECT * FROM (VALUES
		(1, 'alice', 12.50::DECIMAL(5,2), TIMESTAMPTZ '2024-05-06 07:08:09.123+02', 'hi'::BLOB),
		(2, NULL, NULL, NULL, NULL),
		(10, 'b, "q"', -3.00::DECIMAL(5,2), TIMESTAMPTZ '2024-05-06 00:00:00+00', ''::BLOB)
	) t(id, name, amount, ts, raw) ORDER BY id`)
	one := mustQuery(t, e, `SELECT 'a<b' AS s, DATE '2024-01-02' AS day, 'nan'::DOUBLE AS x`)
	none := mustQuery(t, e, `SELECT 1 AS n WHERE false`)

	tests := []struct {
		name   string
		res    *Result
		format string
		want   string
	}{
		{"table", two, "table", "" +
			"id | name   | amount | ts                       | raw\n" +
			"---+--------+--------+--------------------------+-----\n" +
			" 1 | alice  |  12.50 | 2024-05-06T05:08:09.123Z | aGk=\n" +
			" 2 | NULL   |   NULL | NULL                     | NULL\n" +
			"10 | b, \"q\" |  -3.00 | 2024-05-06T00:00:00Z     |\n" +
			"(3 rows)\n"},
		{"table one row", one, "table", "" +
			"s   | day        |   x\n" +
			"----+------------+----\n" +
			"a<b | 2024-01-02 | NaN\n" +
			"(1 row)\n"},
		{"table no rows", none, "table", "n\n-\n(0 rows)\n"},
		{"csv", two, "csv", "" +
			"id,name,amount,ts,raw\n" +
			"1,alice,12.50,2024-05-06T05:08:09.123Z,aGk=\n" +
			"2,,,,\n" +
			"10,\"b, \"\"q\"\"\",-3.00,2024-05-06T00:00:00Z,\n"},
		{"csv no rows", none, "csv", "n\n"},
		{"json", two, "json", "" +
			"[\n" +
			`  {"id":1,"name":"alice","amount":12.50,"ts":"2024-05-06T05:08:09.123Z","raw":"aGk="},` + "\n" +
			`  {"id":2,"name":null,"amount":null,"ts":null,"raw":null},` + "\n" +
			`  {"id":10,"name":"b, \"q\"","amount":-3.00,"ts":"2024-05-06T00:00:00Z","raw":""}` + "\n" +
			"]\n"},
		{"json one row", one, "json", "[\n" + `  {"s":"a<b","day":"2024-01-02","x":"NaN"}` + "\n]\n"},
		{"json no rows", none, "json", "[]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := tt.res.Write(&b, tt.format); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}

	// The JSON output parses, with the declared key order.
	var b strings.Builder
	if err := two.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var parsed []map[string]any
	if err := json.Unmarshal([]byte(b.String()), &parsed); err != nil || len(parsed) != 3 {
		t.Errorf("json output does not parse into 3 objects: %v", err)
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	res := &Result{Columns: []string{"a"}, Types: []string{"INTEGER"}, Rows: [][]any{{int64(1)}}}
	var b strings.Builder
	err := res.Write(&b, "xml")
	want := `unknown output format "xml" (expected table, csv or json)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q for an unknown format", b.String())
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEngine(t)
	if err := e.Register(context.Background(), Table{Namespace: "staging", Name: "events", Columns: []Column{{"id", "long"}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		query     string
		errType   duckdb.ErrorType
		mentioned string
	}{
		{"unknown table", `SELECT * FROM staging.game_eventz`, duckdb.ErrorTypeCatalog, "game_eventz"},
		{"unknown schema", `SELECT * FROM nowhere.game_events`, duckdb.ErrorTypeCatalog, "nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Query(context.Background(), tt.query)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "running query: ") || !strings.Contains(err.Error(), tt.mentioned) {
				t.Errorf("err = %q, want it to start with %q and mention %q", err, "running query: ", tt.mentioned)
			}
			var de *duckdb.Error
			if !errors.As(err, &de) || de.Type != tt.errType {
				t.Errorf("err = %#v, want a *duckdb.Error of type %v", err, tt.errType)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name string
		tbl  Table
		want string
	}{
		{"no columns", Table{Namespace: "staging", Name: "t"}, "registering table staging.t: table has no columns"},
		{"no name", Table{Namespace: "staging", Columns: []Column{{"a", "long"}}}, "registering table staging.: namespace and name must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Register(context.Background(), tt.tbl)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	e, err := Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := e.tmpDir
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("spill directory %s still exists: %v", dir, err)
	}
	if _, err := e.Query(context.Background(), "SELECT 1"); err == nil {
		t.Error("Query after Close succeeded")
	}
}
