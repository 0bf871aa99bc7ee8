package lake_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/testpg"
)

// The Postgres tests share one throwaway server (internal/testpg), started by the first of them and stopped
// after the last; each test gets a database of its own.
func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// postgresCatalog is a new, empty database on the shared Postgres server, as a postgres:// catalog URI with
// the password in it.
func postgresCatalog(t *testing.T, _ string) string {
	t.Helper()
	srv := testpg.Shared(t)
	return srv.URI(srv.CreateDatabase(t))
}

// The commit and ownership tests of the SQLite catalog, on Postgres: several lakes (processes) on one catalog
// database conflict, fence and claim exactly as they do on SQLite.

func TestPostgresCommitConflict(t *testing.T) {
	testCommitConflict(t, postgresCatalog)
}

func TestPostgresCommitConcurrentWriters(t *testing.T) {
	testCommitConcurrentWriters(t, postgresCatalog)
}

func TestPostgresEnsureTableConcurrently(t *testing.T) {
	testEnsureTableConcurrently(t, postgresCatalog)
}

func TestPostgresTableOwnership(t *testing.T) {
	testTableOwnership(t, postgresCatalog)
}

func TestPostgresClaimRace(t *testing.T) {
	testClaimRace(t, postgresCatalog)
}

func TestPostgresCommitChecksOwner(t *testing.T) {
	testCommitChecksOwner(t, postgresCatalog)
}

// TestPostgresCatalogLayout: a Postgres catalog is Iceberg's JDBC catalog layout (JdbcUtil.java, schema V1),
// so Spark, Trino, Flink and PyIceberg configured with that database and the catalog name "bigfather" see the
// same tables: the two tables with exactly these columns and primary keys, one row per table naming its
// current and previous metadata file, and the namespace's "exists" property.
func TestPostgresCatalogLayout(t *testing.T) {
	ctx := context.Background()
	l := newTestLakeOn(t, postgresCatalog)
	tbl := l.ensure()
	first := tbl.MetadataLocation()
	tbl = commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(1, 4), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3}}).Table

	db, err := sql.Open("pgx", l.uri)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	columns := func(table string) []string {
		rows, err := db.QueryContext(ctx, `select column_name || ' ' || data_type from information_schema.columns
			where table_schema = current_schema() and table_name = $1 order by column_name`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	primaryKey := func(table string) []string {
		rows, err := db.QueryContext(ctx, `select a.attname from pg_index i
			join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
			where i.indrelid = $1::regclass and i.indisprimary order by array_position(i.indkey, a.attnum)`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	const varchar = "character varying"
	if got, want := columns("iceberg_tables"), []string{"catalog_name " + varchar, "iceberg_type " + varchar, "metadata_location " + varchar,
		"previous_metadata_location " + varchar, "table_name " + varchar, "table_namespace " + varchar}; !slices.Equal(got, want) {
		t.Errorf("iceberg_tables columns = %q, want %q", got, want)
	}
	if got, want := primaryKey("iceberg_tables"), []string{"catalog_name", "table_namespace", "table_name"}; !slices.Equal(got, want) {
		t.Errorf("iceberg_tables primary key = %q, want %q", got, want)
	}
	if got, want := columns("iceberg_namespace_properties"), []string{"catalog_name " + varchar, "namespace " + varchar,
		"property_key " + varchar, "property_value " + varchar}; !slices.Equal(got, want) {
		t.Errorf("iceberg_namespace_properties columns = %q, want %q", got, want)
	}
	if got, want := primaryKey("iceberg_namespace_properties"), []string{"catalog_name", "namespace", "property_key"}; !slices.Equal(got, want) {
		t.Errorf("iceberg_namespace_properties primary key = %q, want %q", got, want)
	}

	var catalog, ns, name, typ, loc, prev string
	if err := db.QueryRowContext(ctx, `select catalog_name, table_namespace, table_name, iceberg_type, metadata_location,
		previous_metadata_location from iceberg_tables`).Scan(&catalog, &ns, &name, &typ, &loc, &prev); err != nil {
		t.Fatalf("the table's row: %v", err)
	}
	if catalog != "bigfather" || ns != "staging" || name != "events" || typ != "TABLE" {
		t.Errorf("row (%s, %s, %s, %s), want (bigfather, staging, events, TABLE)", catalog, ns, name, typ)
	}
	if loc != tbl.MetadataLocation() || prev != first {
		t.Errorf("metadata_location %s previous %s, want %s and %s", loc, prev, tbl.MetadataLocation(), first)
	}
	var exists string
	if err := db.QueryRowContext(ctx, `select property_value from iceberg_namespace_properties
		where catalog_name = 'bigfather' and namespace = 'staging' and property_key = 'exists'`).Scan(&exists); err != nil || exists != "true" {
		t.Errorf("namespace property exists = %q (%v), want true", exists, err)
	}
	l.checkContents(ids(1, 4))
	l.checkOffsets("p", lake.Offsets{tp(0): 3})
}

// TestPostgresPasswordFromEnvironment: with no password in the URI, the libpq variable PGPASSWORD supplies it;
// a wrong one is refused without the message showing it.
func TestPostgresPasswordFromEnvironment(t *testing.T) {
	srv := testpg.Shared(t)
	db := srv.CreateDatabase(t)
	uri := srv.URIWithoutPassword(db)
	if strings.Contains(uri, srv.Password) {
		t.Fatalf("URI %s holds the password", uri)
	}
	t.Setenv("PGPASSWORD", srv.Password)
	dir := t.TempDir()
	l := &testLake{t: t, dir: dir, uri: uri, lk: openLakeURI(t, uri, dir)}
	l.ensure()
	tbl := l.load()
	commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(1, 3), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 2}})
	l.checkContents(ids(1, 3))

	const wrong = "not-the-password-42"
	t.Setenv("PGPASSWORD", wrong)
	_, err := lake.Open(context.Background(), uri, dir+"/warehouse")
	if err == nil {
		t.Fatal("Open with a wrong PGPASSWORD succeeded")
	}
	checkConnectError(t, err, []string{wrong, srv.Password}, "catalog.uri "+uri+": ", "refused the password of user \"bigfather\"")
}

// TestPostgresOpenErrors: a catalog that cannot be reached or refuses the login fails Open with a message that
// names the config key, the URI with its password hidden and the cause, and never the password.
func TestPostgresOpenErrors(t *testing.T) {
	srv := testpg.Shared(t)
	db := srv.CreateDatabase(t)
	port, err := testpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	withPassword := func(uri, password string) string {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), password)
		return u.String()
	}
	const wrong = "Wr0ng-pa55word"
	for _, tc := range []struct {
		name, uri, want string
	}{
		{"wrong password", withPassword(srv.URI(db), wrong),
			fmt.Sprintf(`the Postgres server at 127.0.0.1:%d refused the password of user "bigfather" (the password comes from catalog.uri or the PGPASSWORD environment variable)`, srv.Port)},
		{"unreachable", strings.Replace(srv.URI(db), fmt.Sprintf(":%d/", srv.Port), fmt.Sprintf(":%d/", port), 1),
			fmt.Sprintf("cannot reach the Postgres server at 127.0.0.1:%d", port)},
		{"missing database", strings.Replace(srv.URI(db), "/"+db+"?", "/nosuchdb?", 1),
			fmt.Sprintf(`database "nosuchdb" does not exist on the Postgres server at 127.0.0.1:%d`, srv.Port)},
		{"unknown user", strings.Replace(srv.URI(db), "bigfather:", "nobody:", 1),
			fmt.Sprintf(`the Postgres server at 127.0.0.1:%d refused the password of user "nobody"`, srv.Port)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", "")
			_, err := lake.Open(context.Background(), tc.uri, t.TempDir())
			if err == nil {
				t.Fatalf("Open(%s) succeeded", lake.RedactURI(tc.uri))
			}
			checkConnectError(t, err, []string{wrong, srv.Password}, "opening catalog: catalog.uri "+lake.RedactURI(tc.uri)+": ", tc.want)
		})
	}
}

// checkConnectError asserts err is a *lake.CatalogConnectError whose message holds every part of want and
// none of the secrets.
func checkConnectError(t *testing.T, err error, secrets []string, want ...string) {
	t.Helper()
	var ce *lake.CatalogConnectError
	if !errors.As(err, &ce) {
		t.Errorf("error %T %v, want a *lake.CatalogConnectError", err, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q\ndoes not contain %q", msg, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error %q shows the password %q", msg, s)
		}
	}
	if !strings.Contains(msg, "catalog.uri") {
		t.Errorf("error %q does not name catalog.uri", msg)
	}
}

// TestPostgresOpenConcurrently: processes starting at once on a new database all open the catalog (the first
// ones create its tables; CREATE TABLE IF NOT EXISTS races in Postgres) and see one table.
func TestPostgresOpenConcurrently(t *testing.T) {
	for round := range 3 {
		uri := postgresCatalog(t, "")
		dir := t.TempDir()
		const n = 4
		lakes := make([]*lake.Lake, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				lakes[i], errs[i] = lake.Open(context.Background(), uri, dir+"/warehouse")
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Open %d: %v", round, i, err)
			}
			t.Cleanup(func() { lakes[i].Close() })
		}
		if _, err := lakes[0].EnsureTable(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		for _, lk := range lakes {
			checkOneTable(t, lk)
		}
	}
}

// TestPostgresServerRestart: a lake whose Postgres server restarted (its pooled connections broken) commits
// again without being reopened.
func TestPostgresServerRestart(t *testing.T) {
	srv := testpg.Start(t) // its own server: restarting the shared one would break the other tests
	uri := srv.URI(srv.CreateDatabase(t))
	dir := t.TempDir()
	l := &testLake{t: t, dir: dir, uri: uri, lk: openLakeURI(t, uri, dir)}
	l.ensure()
	tbl := l.load()
	tbl = commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(1, 3), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 2}}).Table
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(3, 5), onDay0),
		From: lake.Offsets{tp(0): 2}, Next: lake.Offsets{tp(0): 4}})
	l.checkContents(ids(1, 5))
	l.checkOffsets("p", lake.Offsets{tp(0): 4})
}

// TestRedactURI: every way a password can sit in a catalog URI is hidden; URIs without one are unchanged.
func TestRedactURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://bigfather:s3cr3t@db.internal:5432/lake?sslmode=require", "postgres://bigfather:xxxxx@db.internal:5432/lake?sslmode=require"},
		{"postgresql://bigfather@db:5432/lake", "postgresql://bigfather@db:5432/lake"},
		{"postgres://db/lake?user=bf&password=s3cr3t", "postgres://db/lake?password=xxxxx&user=bf"},
		{"postgres://bf:p%40ss%2Fw0rd@db/lake", "postgres://bf:xxxxx@db/lake"},
		{"postgres://bf:pa/ss#w0rd@db/lake", "postgres://bf:xxxxx@db/lake"}, // unescaped: does not parse as a URL
		{"sqlite:///var/lib/bigfather/catalog.db", "sqlite:///var/lib/bigfather/catalog.db"},
		{"https://user:token@catalog.example.com/v1", "https://user:xxxxx@catalog.example.com/v1"},
	} {
		if got := lake.RedactURI(tc.in); got != tc.want {
			t.Errorf("RedactURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
