package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ErrRefused is wrapped by the error of every query the sandbox refuses to run: a statement other than a
// query, several statements, a table function that is not allowed, or a file outside the tables. None of the
// refused SQL has run.
var ErrRefused = errors.New("query refused")

func refusedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// readOnly ends the refusals of statements that would change something.
const readOnly = "; the SQL engine is read-only"

// check returns nil if query is one statement the sandbox allows: a SELECT, or EXPLAIN [ANALYZE] of one. It
// runs nothing: json_serialize_sql only parses, and preparing only binds.
func check(ctx context.Context, conn *sql.Conn, query string) error {
	want := duckdb.STATEMENT_TYPE_SELECT
	if target, ok := explainTarget(query); ok {
		// json_serialize_sql cannot serialize EXPLAIN: check what it explains (EXPLAIN ANALYZE runs it).
		if err := checkSelect(ctx, conn, target); err != nil {
			if errors.Is(err, ErrRefused) {
				return err
			}
			return refusedf("EXPLAIN must be followed by a query (EXPLAIN [ANALYZE] SELECT ...): %v", err)
		}
		want = duckdb.STATEMENT_TYPE_EXPLAIN
	} else if err := checkSelect(ctx, conn, query); err != nil {
		return err
	}
	// The statement as the connection itself parses and binds it must be the one checked. Binding is also
	// where DuckDB refuses most files outside the tables.
	typ, err := statementType(conn, query)
	if err != nil {
		return err
	}
	if typ != want {
		return refusedf("%s statements are not queries%s", statementTypeName(typ), readOnly)
	}
	return nil
}

// explainPrefix matches EXPLAIN [ANALYZE] followed by what it explains. Nothing else may come between (no
// comments, no options), so the rest is exactly the statement DuckDB explains.
var explainPrefix = regexp.MustCompile(`(?i)^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?`)

// explainTarget returns the statement query explains, if query is EXPLAIN [ANALYZE] of something.
func explainTarget(query string) (string, bool) {
	loc := explainPrefix.FindStringIndex(query)
	if loc == nil {
		return "", false
	}
	return query[loc[1]:], true
}

// serialized is json_serialize_sql's output.
type serialized struct {
	Error        bool              `json:"error"`
	ErrorType    string            `json:"error_type"`
	ErrorMessage string            `json:"error_message"`
	Statements   []json.RawMessage `json:"statements"`
}

// checkSelect checks that text is exactly one SELECT statement (in any of its forms, DESCRIBE, SHOW and
// SUMMARIZE included) whose table functions are all allowed. DuckDB's json_serialize_sql parses it without
// binding or running anything, and serializes only SELECT statements.
func checkSelect(ctx context.Context, conn *sql.Conn, text string) error {
	var out string
	if err := conn.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(?::VARCHAR) AS VARCHAR)", text).Scan(&out); err != nil {
		return fmt.Errorf("parsing the query: %w", err)
	}
	var s serialized
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return fmt.Errorf("parsing the query: reading json_serialize_sql output: %w", err)
	}
	switch {
	case s.Error && s.ErrorType == "not implemented": // "Only SELECT statements can be serialized to json!"
		return refuseStatement(text)
	case s.Error:
		// A syntax error. Preparing it gives DuckDB's usual message, with the position.
		if _, err := statementType(conn, text); err != nil {
			return err
		}
		return errors.New(s.ErrorMessage)
	case len(s.Statements) == 0:
		return errors.New("the query is empty")
	case len(s.Statements) > 1:
		return severalStatements(len(s.Statements))
	}
	var stmt any
	if err := json.Unmarshal(s.Statements[0], &stmt); err != nil {
		return fmt.Errorf("parsing the query: reading json_serialize_sql output: %w", err)
	}
	for _, name := range tableFunctions(stmt, nil) {
		if !allowedTableFunctions[strings.ToLower(name)] {
			return refusedf("table function %s is not allowed%s", name, readOnly)
		}
	}
	return nil
}

func severalStatements(n int) error {
	return refusedf("the query holds %d statements and none of them ran; send one statement at a time", n)
}

// tableFunctions appends the names of the table functions a serialized statement calls, at any depth
// (subqueries, CTEs, joins, function arguments, DESCRIBE and SUMMARIZE of a query).
func tableFunctions(node any, names []string) []string {
	switch n := node.(type) {
	case map[string]any:
		if n["type"] == "TABLE_FUNCTION" {
			if fn, ok := n["function"].(map[string]any); ok {
				if name, ok := fn["function_name"].(string); ok {
					names = append(names, name)
				}
			}
		}
		for _, v := range n {
			names = tableFunctions(v, names)
		}
	case []any:
		for _, v := range n {
			names = tableFunctions(v, names)
		}
	}
	return names
}

// allowedTableFunctions are the table functions queries may call: file readers (DuckDB itself confines them to
// the tables' files), generators, and listings of the catalog and settings. The others can change the engine
// from inside a SELECT (enable_logging, enable_profiling, the PEG parser switches, checkpoint, truncating the
// logs), run SQL given as a string that the checks never see (query, query_table, json_execute_serialized_sql)
// or dereference raw pointers (arrow_scan). An allow-list, so that functions added by a DuckDB upgrade are
// refused until someone looks at them.
var allowedTableFunctions = setOf(
	// Readers, confined to the tables' files.
	"read_parquet", "parquet_scan", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
	"parquet_kv_metadata", "parquet_full_metadata", "parquet_bloom_probe",
	"read_csv", "read_csv_auto", "sniff_csv", "read_json", "read_json_auto", "read_json_objects",
	"read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob",
	"glob",
	// Generators.
	"range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
	// The catalog, types and settings.
	"duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies", "duckdb_extensions",
	"duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_memory", "duckdb_optimizers",
	"duckdb_schemas", "duckdb_sequences", "duckdb_settings", "duckdb_tables", "duckdb_temporary_files",
	"duckdb_types", "duckdb_variables", "duckdb_views",
	"pragma_table_info", "table_info", "pragma_show", "pragma_version", "pragma_platform", "pragma_database_size",
	"pragma_collations", "pragma_user_agent", "pg_timezone_names", "icu_calendar_names", "test_all_types",
	"histogram", "histogram_values",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// statementType prepares query (parsing and binding it, running nothing) and returns its statement type.
// Preparing refuses several statements before binding any of them.
func statementType(conn *sql.Conn, query string) (duckdb.StmtType, error) {
	var typ duckdb.StmtType
	err := conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", driverConn)
		}
		// Prepare without a context: PrepareContext would run every statement before the last.
		st, err := c.Prepare(query)
		if err != nil {
			if strings.Contains(err.Error(), "multi-statement") {
				return severalStatements(countStatements(query))
			}
			return err
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("unexpected driver statement %T", st)
		}
		typ, err = ds.StatementType()
		return err
	})
	return typ, err
}

func statementTypeName(t duckdb.StmtType) string {
	if name, ok := statementTypeNames[t]; ok {
		return name
	}
	return fmt.Sprintf("type %d", t)
}

var statementTypeNames = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_SELECT: "SELECT", duckdb.STATEMENT_TYPE_INSERT: "INSERT",
	duckdb.STATEMENT_TYPE_UPDATE: "UPDATE", duckdb.STATEMENT_TYPE_EXPLAIN: "EXPLAIN",
	duckdb.STATEMENT_TYPE_DELETE: "DELETE", duckdb.STATEMENT_TYPE_PREPARE: "PREPARE",
	duckdb.STATEMENT_TYPE_CREATE: "CREATE", duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE",
	duckdb.STATEMENT_TYPE_ALTER: "ALTER", duckdb.STATEMENT_TYPE_TRANSACTION: "transaction",
	duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_ANALYZE: "ANALYZE",
	duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET", duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION",
	duckdb.STATEMENT_TYPE_DROP: "DROP", duckdb.STATEMENT_TYPE_EXPORT: "EXPORT",
	duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA", duckdb.STATEMENT_TYPE_VACUUM: "VACUUM",
	duckdb.STATEMENT_TYPE_CALL: "CALL", duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_LOAD: "INSTALL or LOAD",
	duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH",
}

// refuseStatement returns the refusal of text, which json_serialize_sql found holds a statement other than a
// SELECT. DuckDB gives no statement type without binding, and binding refused statements is best avoided, so
// the reason comes from text's leading keywords. It only words the refusal: the decision is DuckDB's.
func refuseStatement(text string) error {
	words := leadingWords(text)
	if n := countStatements(text); n > 1 {
		return severalStatements(n)
	}
	if containsWord(text, "PIVOT") || containsWord(text, "UNPIVOT") {
		return refusedf("PIVOT and UNPIVOT are not supported; aggregate with GROUP BY and FILTER (WHERE ...) instead")
	}
	first, second := "", ""
	if len(words) > 0 {
		first = words[0]
	}
	if len(words) > 1 {
		second = words[1]
	}
	switch first {
	case "COPY":
		return refusedf("COPY reads and writes files%s", readOnly)
	case "EXPORT":
		return refusedf("EXPORT DATABASE writes files%s", readOnly)
	case "IMPORT":
		return refusedf("IMPORT DATABASE reads files and creates tables%s", readOnly)
	case "ATTACH":
		return refusedf("ATTACH opens other databases%s", readOnly)
	case "DETACH":
		return refusedf("DETACH changes the attached databases%s", readOnly)
	case "USE":
		return refusedf("USE changes the current database%s", readOnly)
	case "INSTALL", "LOAD":
		return refusedf("%s adds extensions%s", first, readOnly)
	case "FORCE":
		if second == "CHECKPOINT" {
			return refusedf("FORCE CHECKPOINT writes storage%s", readOnly)
		}
		return refusedf("FORCE INSTALL adds extensions%s", readOnly)
	case "UPDATE":
		if second == "EXTENSIONS" {
			return refusedf("UPDATE EXTENSIONS installs extensions%s", readOnly)
		}
		return refusedf("UPDATE changes tables%s", readOnly)
	case "INSERT", "DELETE", "TRUNCATE", "MERGE", "UPSERT":
		return refusedf("%s changes tables%s", first, readOnly)
	case "CREATE", "DROP", "ALTER", "COMMENT":
		return refusedf("%s changes the catalog%s", first, readOnly)
	case "SET", "RESET":
		return refusedf("%s changes settings%s", first, readOnly)
	case "PRAGMA":
		return refusedf("PRAGMA can change settings%s (DESCRIBE and SHOW describe tables)", readOnly)
	case "CALL":
		return refusedf("CALL runs procedures that can change the engine%s", readOnly)
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
		return refusedf("%s controls transactions%s", first, readOnly)
	case "CHECKPOINT", "VACUUM", "ANALYZE":
		return refusedf("%s writes storage%s", first, readOnly)
	case "PREPARE", "EXECUTE", "DEALLOCATE":
		return refusedf("%s manages prepared statements%s", first, readOnly)
	case "EXPLAIN":
		return refusedf("EXPLAIN is allowed only as EXPLAIN [ANALYZE] followed by a query")
	}
	return refusedf("only queries are allowed (SELECT, WITH, VALUES, FROM, TABLE, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)%s", readOnly)
}

// scanSQL calls word for each bare word of query outside string literals, quoted identifiers and comments,
// and semicolon at each statement separator. It words refusals only, so a rough lexer is enough.
func scanSQL(query string, word func(string), semicolon func()) {
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case strings.HasPrefix(query[i:], "--"):
			j := strings.IndexAny(query[i:], "\r\n")
			if j < 0 {
				return
			}
			i += j
		case strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return
			}
			i += j + 4
		case c == ';':
			semicolon()
			i++
		case isWordByte(c):
			j := i
			for j < len(query) && (isWordByte(query[j]) || query[j] >= '0' && query[j] <= '9') {
				j++
			}
			word(strings.ToUpper(query[i:j]))
			i = j
		default:
			i++
		}
	}
}

func isWordByte(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// leadingWords returns the first two words of query's first statement, upper-cased.
func leadingWords(query string) []string {
	var words []string
	done := false
	scanSQL(query, func(w string) {
		if !done && len(words) < 2 {
			words = append(words, w)
		}
	}, func() {
		if len(words) > 0 {
			done = true
		}
	})
	return words
}

// countStatements counts the statements of query that hold at least one word.
func countStatements(query string) int {
	n, inStatement := 0, false
	scanSQL(query, func(string) {
		if !inStatement {
			n++
			inStatement = true
		}
	}, func() { inStatement = false })
	return n
}

func containsWord(query, w string) bool {
	found := false
	scanSQL(query, func(x string) { found = found || x == w }, func() {})
	return found
}

// deniedFile finds the path in DuckDB's refusal to open a file outside allowed_paths.
var deniedFile = regexp.MustCompile(`Cannot access (?:file|directory) "([^"]*)" - file system operations are disabled by configuration`)

// fileRefusal returns the sandbox refusal for DuckDB's refusal to open a file or load an extension, or nil
// if err is another error.
func fileRefusal(err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) || de.Type != duckdb.ErrorTypePermission {
		return nil
	}
	if m := deniedFile.FindStringSubmatch(de.Msg); m != nil {
		return refusedf("reading files outside the tables is not allowed: %s", m[1])
	}
	msg, _, _ := strings.Cut(de.Msg, "\n")
	return refusedf("%s", msg)
}
