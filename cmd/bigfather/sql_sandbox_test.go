package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// stageSQLTables stages 20 valid events and 5 malformed records into staging.sqlbox and
// staging.sqlbox_rejected, and returns the env and its config.
func stageSQLTables(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t)
	const topic = "sqlbox.events"
	createTopic(t, e, topic, 2)
	cfg := e.writeConfig(topic, "sqlbox", "{interval: 1s, max_rows: 1000}")
	var recs []*kgo.Record
	for i := range 20 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: eventJSON(fmt.Sprintf("e-%02d", i), i)})
	}
	for i := range 5 {
		v, _ := malformed(i)
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: v})
	}
	produceTo(t, e, topic, recs)
	e.finish(e.startStage(cfg), topic, "staging.sqlbox", "staging.sqlbox_rejected")
	return e, cfg
}

// dataFiles returns the data files of table's current snapshot.
func (e *env) dataFiles(table string) []string {
	e.t.Helper()
	lk := e.openLake()
	defer lk.Close()
	snap, err := lk.Snapshot(context.Background(), table)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(snap.DataFiles) == 0 {
		e.t.Fatalf("%s has no data files", table)
	}
	return snap.DataFiles
}

// TestSQLSandbox is the regression test for `bigfather sql` being an unsandboxed DuckDB: queries over the
// tables run; reading or writing other files, ATTACH, INSTALL, LOAD, DDL, SET and several statements in one
// call are refused with exit code 2 and a message saying why, and nothing they asked for happens.
func TestSQLSandbox(t *testing.T) {
	e, cfg := stageSQLTables(t)
	ownFile := e.dataFiles("staging.sqlbox")[0]
	out := filepath.Join(e.dir, "stolen.csv")
	db := filepath.Join(e.dir, "other.db")
	refused := func(reason string) string { return "bigfather: running query: query refused: " + reason + "\n" }
	const readOnly = "; the SQL engine is read-only"

	tests := []struct {
		name   string
		query  string
		code   int
		stdout string // with --format csv
		stderr string
	}{
		{name: "count", query: `select count(*) as n from staging.sqlbox`, stdout: "n\n20\n"},
		{name: "aggregate", query: `select count(distinct event_id) as ids, min(client_seq) as lo, max(client_seq) as hi from staging.sqlbox`,
			stdout: "ids,lo,hi\n20,0,19\n"},
		{name: "join", query: `select r.reason_code, count(*) as n from staging.sqlbox m join staging.sqlbox_rejected r using (_partition)
			group by 1 order by 1`,
			stdout: "reason_code,n\nmissing_field,10\nnot_json,10\nnot_object,10\nout_of_range,10\nwrong_type,10\n"},
		{name: "a table's own file", query: fmt.Sprintf(`select count(*) > 0 as ok from read_parquet('%s')`, ownFile), stdout: "ok\ntrue\n"},
		{name: "read_text", query: `select * from read_text('/etc/passwd')`, code: 2,
			stderr: refused("reading files outside the tables is not allowed: /etc/passwd")},
		{name: "read_csv", query: `select * from read_csv('/etc/passwd')`, code: 2,
			stderr: refused("reading files outside the tables is not allowed: /etc/passwd")},
		{name: "glob", query: `select * from glob('/root/*')`, code: 2,
			stderr: refused("reading files outside the tables is not allowed: /root/*")},
		{name: "the catalog", query: fmt.Sprintf(`select * from read_blob('%s')`, filepath.Join(e.dir, "catalog.db")), code: 2,
			stderr: refused("reading files outside the tables is not allowed: " + filepath.Join(e.dir, "catalog.db"))},
		{name: "COPY TO", query: fmt.Sprintf(`copy (select * from staging.sqlbox) to '%s'`, out), code: 2,
			stderr: refused("COPY reads and writes files" + readOnly)},
		{name: "ATTACH", query: fmt.Sprintf(`attach '%s' as other`, db), code: 2, stderr: refused("ATTACH opens other databases" + readOnly)},
		{name: "INSTALL", query: `install httpfs`, code: 2, stderr: refused("INSTALL adds extensions" + readOnly)},
		{name: "LOAD", query: `load httpfs`, code: 2, stderr: refused("LOAD adds extensions" + readOnly)},
		{name: "CREATE TABLE", query: `create table copied as select * from staging.sqlbox`, code: 2, stderr: refused("CREATE changes the catalog" + readOnly)},
		{name: "DROP VIEW", query: `drop view staging.sqlbox`, code: 2, stderr: refused("DROP changes the catalog" + readOnly)},
		{name: "SET", query: `set enable_external_access = true`, code: 2, stderr: refused("SET changes settings" + readOnly)},
		{name: "several statements", query: fmt.Sprintf(`copy (select 1) to '%s'; select count(*) from staging.sqlbox`, out), code: 2,
			stderr: refused("the query holds 2 statements and none of them ran; send one statement at a time")},
		{name: "a syntax error is not a refusal", query: `selec 1`, code: 1,
			stderr: "bigfather: running query: Parser Error: syntax error at or near \"selec\"\n\nLINE 1: selec 1\n        ^\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBin(t, "sql", "--config", cfg, "--format", "csv", tt.query)
			if code != tt.code || stdout != tt.stdout || stderr != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	for _, p := range []string{out, db} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after the refused statements (%v)", p, err)
		}
	}
}

// TestSQLMissingDataFile is the regression test for one missing data file failing every `bigfather sql`: only
// queries that read the broken table fail (exit 1), naming the table and the file.
func TestSQLMissingDataFile(t *testing.T) {
	e, cfg := stageSQLTables(t)
	gone := e.dataFiles("staging.sqlbox")[0]
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	brokenErr := "bigfather: running query: table staging.sqlbox cannot be read: data file " + gone + " is missing\n"
	tests := []struct {
		query  string
		code   int
		stdout string
		stderr string
	}{
		{query: `select 1 as one`, stdout: "one\n1\n"},
		{query: `select count(*) as n from staging.sqlbox_rejected`, stdout: "n\n5\n"},
		{query: `select view_name from duckdb_views() where schema_name = 'staging' order by 1`, stdout: "view_name\nsqlbox\nsqlbox_rejected\n"},
		{query: `select count(*) from staging.sqlbox`, code: 1, stderr: brokenErr},
		{query: `select event_id from staging.sqlbox where level > 1000`, code: 1, stderr: brokenErr},
		{query: `select count(*) from staging.sqlbox_rejected r join staging.sqlbox m using (_partition)`, code: 1, stderr: brokenErr},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, stdout, stderr := runBin(t, "sql", "--config", cfg, "--format", "csv", tt.query)
			if code != tt.code || stdout != tt.stdout || !strings.HasPrefix(stderr, tt.stderr) || (tt.stderr == "") != (stderr == "") {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}
