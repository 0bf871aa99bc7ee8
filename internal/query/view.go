package query

import (
	"fmt"
	"regexp"
	"strings"
)

// viewSQL returns the SELECT behind a table's view. fileCols maps the lower-cased names of the columns found
// in the data files to their DuckDB types; it is ignored when there are no data files.
func viewSQL(cols []Column, dataFiles, deleteFiles []string, fileCols map[string]string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if len(dataFiles) == 0 {
		// No files: a typed, empty relation with the declared columns.
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(nullOf(c.Type) + " AS " + quoteIdent(c.Name))
		}
		b.WriteString(" WHERE false")
		return b.String()
	}

	qualifier, fileNameCol := "", ""
	if len(deleteFiles) > 0 {
		qualifier = "d."
		fileNameCol = unusedName("_bigfather_file", cols, fileCols)
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		srcType, ok := fileCols[strings.ToLower(c.Name)]
		if !ok {
			b.WriteString(nullOf(c.Type))
		} else {
			b.WriteString(castTo(qualifier+quoteIdent(c.Name), srcType, c.Type))
		}
		b.WriteString(" AS " + quoteIdent(c.Name))
	}
	b.WriteString(" FROM ")
	if len(deleteFiles) == 0 {
		b.WriteString(readParquet(dataFiles, ""))
		return b.String()
	}
	// Iceberg positional deletes: drop data rows whose (file, 0-based row number) a delete file lists.
	b.WriteString(readParquet(dataFiles, fileNameCol))
	b.WriteString(" AS d ANTI JOIN (SELECT ")
	b.WriteString(stripFileScheme("file_path"))
	b.WriteString(" AS file_path, pos FROM ")
	b.WriteString(readParquet(deleteFiles, ""))
	b.WriteString(") AS del ON d.")
	b.WriteString(quoteIdent(fileNameCol))
	b.WriteString(" = del.file_path AND d.file_row_number = del.pos")
	return b.String()
}

// unreadableViewSQL returns the SELECT behind the view of a table that cannot be read: the declared columns
// (one VARCHAR column "unreadable" when none are known) of a relation whose every read raises msg. Both the
// columns and the filter come from error(), so the optimizer can neither fold a filter on a column to false
// (as it would on typed NULLs) nor drop the error when no column is read (count(*)).
func unreadableViewSQL(cols []Column, msg string) string {
	if len(cols) == 0 {
		cols = []Column{{Name: "unreadable", Type: "string"}}
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		target, ok := duckType(c.Type)
		if !ok {
			target = "VARCHAR"
		}
		b.WriteString("CAST(_bigfather_error AS " + target + ") AS " + quoteIdent(c.Name))
	}
	b.WriteString(" FROM (SELECT error(" + quoteString(msg) + ") AS _bigfather_error) WHERE _bigfather_error IS NULL")
	return b.String()
}

// readParquet returns a read_parquet call over exactly files. With fileNameCol set, it also adds the file's
// path as column fileNameCol and the 0-based row number within the file as column file_row_number.
func readParquet(files []string, fileNameCol string) string {
	var b strings.Builder
	b.WriteString("read_parquet([")
	for i, f := range files {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(f))
	}
	b.WriteString("], union_by_name = true, hive_partitioning = false")
	if fileNameCol != "" {
		b.WriteString(", filename = " + quoteString(fileNameCol) + ", file_row_number = true")
	}
	b.WriteString(")")
	return b.String()
}

// unusedName returns base, with underscores appended if needed, so that it names neither a declared column
// nor a column of the data files.
func unusedName(base string, cols []Column, fileCols map[string]string) string {
	taken := func(n string) bool {
		if _, ok := fileCols[strings.ToLower(n)]; ok {
			return true
		}
		for _, c := range cols {
			if strings.EqualFold(c.Name, n) {
				return true
			}
		}
		return false
	}
	for taken(base) {
		base += "_"
	}
	return base
}

// stripFileScheme returns a SQL expression for the path in column col without a file:// or file: prefix, the
// same normalization localPaths applies in Go.
func stripFileScheme(col string) string {
	return fmt.Sprintf("CASE WHEN starts_with(%[1]s, 'file://') THEN substr(%[1]s, 8) "+
		"WHEN starts_with(%[1]s, 'file:') THEN substr(%[1]s, 6) ELSE %[1]s END", col)
}

// localPaths returns paths without a file:// or file: prefix.
func localPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		switch {
		case strings.HasPrefix(p, "file://"):
			p = strings.TrimPrefix(p, "file://")
		case strings.HasPrefix(p, "file:"):
			p = strings.TrimPrefix(p, "file:")
		}
		out[i] = p
	}
	return out
}

// castTo returns expr (of DuckDB type srcType) as the DuckDB type of icebergType; unknown Iceberg types are
// left as they are.
func castTo(expr, srcType, icebergType string) string {
	target, ok := duckType(icebergType)
	if !ok {
		return expr
	}
	if target == "UUID" && srcType == "BLOB" {
		// A uuid written as plain FIXED_LEN_BYTE_ARRAY(16): DuckDB cannot cast BLOB to UUID directly.
		return "CAST(hex(" + expr + ") AS UUID)"
	}
	return "CAST(" + expr + " AS " + target + ")"
}

// nullOf returns a NULL of the DuckDB type of icebergType.
func nullOf(icebergType string) string {
	target, ok := duckType(icebergType)
	if !ok {
		return "NULL"
	}
	return "CAST(NULL AS " + target + ")"
}

var (
	decimalType = regexp.MustCompile(`^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)
	fixedType   = regexp.MustCompile(`^fixed\[\s*\d+\s*\]$`)
)

// duckType returns the DuckDB type for an Iceberg primitive type string, and false for types it does not know.
func duckType(icebergType string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(icebergType))
	switch t {
	case "string":
		return "VARCHAR", true
	case "long":
		return "BIGINT", true
	case "int":
		return "INTEGER", true
	case "double":
		return "DOUBLE", true
	case "float":
		return "FLOAT", true
	case "boolean":
		return "BOOLEAN", true
	case "timestamptz", "timestamptz_ns": // DuckDB has no nanosecond TIMESTAMPTZ
		return "TIMESTAMPTZ", true
	case "timestamp":
		return "TIMESTAMP", true
	case "timestamp_ns":
		return "TIMESTAMP_NS", true
	case "date":
		return "DATE", true
	case "time":
		return "TIME", true
	case "binary":
		return "BLOB", true
	case "uuid":
		return "UUID", true
	}
	if m := decimalType.FindStringSubmatch(t); m != nil {
		return "DECIMAL(" + m[1] + "," + m[2] + ")", true
	}
	if fixedType.MatchString(t) {
		return "BLOB", true
	}
	return "", false
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes a SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
