package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/testpg"
)

// pgPasswordVar is the environment variable the Postgres test configs take the catalog password from.
const pgPasswordVar = "BF_TEST_PGPASSWORD"

// writePostgresConfig writes a config with one pipeline "test" reading topic into staging.<table>, whose
// catalog is database db on srv at port, with the password written as ${BF_TEST_PGPASSWORD}.
func (e *env) writePostgresConfig(srv *testpg.Server, port int, db, topic, table, commit string) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: postgres://%s:${%s}@127.0.0.1:%d/%s?sslmode=disable
http: 127.0.0.1:0
pipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.%s
      partition_by: ["day(event_time)"]%s
    commit: %s
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), srv.User, pgPasswordVar, port, db, topic, table, testColumns, commit)
	path := filepath.Join(e.dir, "bigfather-pg.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// pgStoredOffsets reads the offsets pipeline "test" stored in table of the catalog uri; nil when the table
// does not exist yet.
func (e *env) pgStoredOffsets(uri, table string) lake.Offsets {
	e.t.Helper()
	lk, err := lake.Open(context.Background(), uri, filepath.Join(e.dir, "warehouse"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer lk.Close()
	t, err := lk.LoadTable(context.Background(), table)
	if err != nil {
		return nil
	}
	return lake.StoredOffsets(t, "test")
}

// pgCaughtUp reports whether every table of the catalog uri stores the topic's end offsets.
func (e *env) pgCaughtUp(uri, topic string, tables ...string) bool {
	ends := e.endOffsets(topic)
	for _, tbl := range tables {
		stored := e.pgStoredOffsets(uri, tbl)
		for tp, end := range ends {
			if end > 0 && stored.Get(tp) != end {
				return false
			}
		}
	}
	return true
}

// sqlInt runs `bigfather sql --config cfg --format csv query` and returns the one integer it prints.
func sqlInt(t *testing.T, cfg, query string) int64 {
	t.Helper()
	out := runCLI(t, "sql", "--config", cfg, "--format", "csv", query)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 || len(recs[1]) != 1 {
		t.Fatalf("bigfather sql %q printed %q, want a header and one value", query, out)
	}
	n, err := strconv.ParseInt(recs[1][0], 10, 64)
	if err != nil {
		t.Fatalf("bigfather sql %q printed %q, want an integer", query, out)
	}
	return n
}

// TestPostgresCatalog stages into tables whose catalog is a real Postgres server (a throwaway cluster on a
// loopback port), the password coming from ${BF_TEST_PGPASSWORD} in the config: killed with SIGKILL midway and
// restarted, the tables hold every record exactly once, read back with `bigfather sql`. A wrong password or an
// unreachable server fails at start with exit 1 and a message naming catalog.uri, and no message or log line
// shows the password.
func TestPostgresCatalog(t *testing.T) {
	srv := testpg.Start(t)

	t.Run("stage with a kill", func(t *testing.T) {
		const valid, bad = 20_000, 100
		e := newEnv(t)
		db := srv.CreateDatabase(t)
		uri := srv.URI(db)
		topic := "pg.events"
		createTopic(t, e, topic, 8)
		t.Setenv(pgPasswordVar, srv.Password)
		cfg := e.writePostgresConfig(srv, srv.Port, db, topic, "pg_events", "{interval: 1s, max_rows: 2000}")
		if data, _ := os.ReadFile(cfg); strings.Contains(string(data), srv.Password) {
			t.Fatal("the config holds the password; it must come from the environment")
		}

		produced := make(chan error, 1)
		go func() { produced <- produceCrashRecords(e, topic, valid, bad, time.Second) }()
		main, rejected := "staging.pg_events", "staging.pg_events_rejected"

		first := e.startStage(cfg)
		waitFor(t, 60*time.Second, "a first commit to the Postgres catalog", func() bool {
			for _, off := range e.pgStoredOffsets(uri, main) {
				if off > 0 {
					return true
				}
			}
			return false
		})
		select {
		case err := <-produced:
			t.Logf("the producer finished before the kill (%v)", err)
		default:
		}
		first.kill(t)
		if err := <-produced; err != nil {
			t.Fatal(err)
		}

		last := e.startStage(cfg)
		waitFor(t, 30*time.Second, "the stage process to start", func() bool { return strings.Contains(readFile(last.log), "msg=staging") })
		waitFor(t, 120*time.Second, "every partition committed", func() bool { return e.pgCaughtUp(uri, topic, main, rejected) })
		if code := last.stop(t, 60*time.Second); code != 0 {
			t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, last.tail())
		}

		if got := sqlInt(t, cfg, "select count(*) from "+main); got != valid {
			t.Errorf("%s holds %d rows, want exactly %d", main, got, valid)
		}
		if got := sqlInt(t, cfg, "select count(distinct event_id) from "+main); got != valid {
			t.Errorf("%s holds %d distinct event ids, want %d", main, got, valid)
		}
		if got := sqlInt(t, cfg, "select count(distinct (_partition, _offset)) from "+main); got != valid {
			t.Errorf("%s holds %d distinct (partition, offset), want %d", main, got, valid)
		}
		if got := sqlInt(t, cfg, "select count(*) from "+rejected); got != bad {
			t.Errorf("%s holds %d rows, want exactly %d", rejected, got, bad)
		}
		for _, p := range []*stageProc{first, last} {
			log := readFile(p.log)
			if strings.Contains(log, srv.Password) {
				t.Errorf("stage log shows the password:\n%s", log)
			}
			if want := `catalog="postgres://bigfather:xxxxx@127.0.0.1:`; !strings.Contains(log, want) {
				t.Errorf("stage log does not name the catalog as %s...:\n%s", want, p.tail())
			}
		}
	})

	t.Run("connection failures", func(t *testing.T) {
		e := newEnv(t)
		db := srv.CreateDatabase(t)
		closed, err := testpg.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		const wrong = "Wr0ng-pa55word"
		for _, tc := range []struct {
			name     string
			password string
			port     int
			want     string
		}{
			{"wrong password", wrong, srv.Port,
				`refused the password of user "bigfather" (the password comes from catalog.uri or the PGPASSWORD environment variable)`},
			{"unreachable server", srv.Password, closed, fmt.Sprintf("cannot reach the Postgres server at 127.0.0.1:%d", closed)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Setenv(pgPasswordVar, tc.password)
				cfg := e.writePostgresConfig(srv, tc.port, db, "pg.events", "pg_events", "{interval: 1s}")
				for _, args := range [][]string{
					{"stage", "--config", cfg, "--http", "off"},
					{"sql", "--config", cfg, "select 1"},
				} {
					code, stdout, stderr := runBin(t, args...)
					if code != 1 {
						t.Errorf("bigfather %s: exit %d, want 1 (a runtime failure); stderr:\n%s", args[0], code, stderr)
					}
					prefix := fmt.Sprintf("bigfather: opening catalog: catalog.uri postgres://bigfather:xxxxx@127.0.0.1:%d/%s?sslmode=disable: ", tc.port, db)
					if !strings.Contains(stderr, prefix) || !strings.Contains(stderr, tc.want) {
						t.Errorf("bigfather %s: stderr\n%s\nwant it to contain %q and %q", args[0], stderr, prefix, tc.want)
					}
					for _, secret := range []string{wrong, srv.Password} {
						if strings.Contains(stdout+stderr, secret) {
							t.Errorf("bigfather %s shows the password %q:\n%s%s", args[0], secret, stdout, stderr)
						}
					}
				}
			})
		}
	})
}
