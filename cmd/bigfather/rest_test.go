package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/testrest"
)

// writeRESTConfig writes a config with one pipeline "test" reading topic into staging.<table> through srv's
// Iceberg REST catalog (OAuth2 client credentials, the secret from $BF_TEST_REST_SECRET) and S3 warehouse (the
// secret from $BF_TEST_S3_SECRET), with the maintenance block maintenance (a line, or "").
func writeRESTConfig(e *env, srv *testrest.Server, topic, table, commit, maintenance string) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
s3:
  endpoint: %s
  region: %s
  access_key_id: %s
  secret_access_key: ${BF_TEST_S3_SECRET}
catalog:
  uri: %s
  credential: %s:${BF_TEST_REST_SECRET}
  scope: catalog
http: 127.0.0.1:0
%spipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.%s
      partition_by: ["day(event_time)"]%s
    commit: %s
`, e.broker.Addr(), srv.Warehouse, srv.S3Endpoint, testrest.Region, testrest.AccessKey, srv.CatalogURI, testrest.AccessKey,
		maintenance, topic, table, testColumns, commit)
	path := filepath.Join(e.dir, "bigfather-rest.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// TestRESTStageWithKills (issue 7, acceptance 3) stages into SeaweedFS's Iceberg REST catalog and S3 while
// the stage process, maintaining the tables every 2 s, is killed with SIGKILL, finishes, and counts exactly
// with `bigfather sql`; after `bigfather maintain` every file under the tables' locations is referenced.
func TestRESTStageWithKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	srv := testrest.Start(t)
	e := newEnv(t)
	t.Setenv("BF_TEST_S3_SECRET", testrest.SecretKey)
	t.Setenv("BF_TEST_REST_SECRET", testrest.SecretKey)
	t.Setenv("BIGFATHER_CACHE_DIR", filepath.Join(e.dir, "cache"))
	const valid, bad, kills = 40_000, 200, 4
	topic := "rest.events"
	createTopic(t, e, topic, 4)
	cfg := writeRESTConfig(e, srv, topic, "rest_events", "{interval: 1s, max_rows: 5000}", maintainConfig)
	main, rejected := "staging.rest_events", "staging.rest_events_rejected"
	last := e.stageWithKills(cfg, topic, valid, bad, kills, main, rejected)
	if strings.Contains(readFile(last.log), testrest.SecretKey) {
		t.Error("the stage log shows the secret")
	}

	count := "select count(*), count(distinct event_id), count(distinct (_partition, _offset)) from " + main
	got, took := bigfatherSQL(t, cfg, count)
	if want := fmt.Sprintf("%d,%d,%d", valid, valid, valid); lines(got)[1] != want {
		t.Errorf("%s holds %s (rows, distinct ids, distinct positions), want %s", main, lines(got)[1], want)
	}
	if got, _ := bigfatherSQL(t, cfg, "select count(*) from "+rejected); lines(got)[1] != fmt.Sprint(bad) {
		t.Errorf("%s holds %s rows, want %d", rejected, lines(got)[1], bad)
	}
	t.Logf("bigfather sql count(*) through the REST catalog: %v", took.Round(time.Millisecond))

	// Maintenance ran every 2 s inside the killed processes; once more by hand, the orphans of the killed
	// batches are gone and the counts are the same.
	if !strings.Contains(readFile(last.log), `msg="maintenance stopped" runs=`) {
		t.Errorf("the last stage process ran no scheduled maintenance; log:\n%s", last.tail())
	}
	maintainAndCheck(t, cfg, main, rejected)
	if got, _ := bigfatherSQL(t, cfg, count); lines(got)[1] != fmt.Sprintf("%d,%d,%d", valid, valid, valid) {
		t.Errorf("after maintenance %s holds %s (rows, distinct ids, distinct positions), want %d", main, lines(got)[1], valid)
	}
}

// TestRESTBadCredentials: refused OAuth2 client credentials stop `stage` and `sql` at start with exit code 1
// and an error naming catalog.credential, never the secret.
func TestRESTBadCredentials(t *testing.T) {
	srv := testrest.Start(t)
	e := newEnv(t)
	const wrong = "wrong-secret-never-print-0123456789"
	t.Setenv("BF_TEST_S3_SECRET", testrest.SecretKey)
	t.Setenv("BF_TEST_REST_SECRET", wrong)
	cfg := writeRESTConfig(e, srv, "rest.events", "rest_events", "{interval: 1s}", "")
	for _, args := range [][]string{
		{"stage", "--config", cfg, "--http", "off"},
		{"sql", "--config", cfg, "select 1"},
	} {
		var out bytes.Buffer
		cmd := exec.Command(binPath, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("bigfather %s: %v, want exit code 1; output:\n%s", args[0], err, out.String())
		}
		msg := out.String()
		t.Logf("bigfather %s: %s", args[0], strings.TrimSpace(msg))
		if !strings.Contains(msg, "check catalog.credential") {
			t.Errorf("bigfather %s: the error does not name the key to fix:\n%s", args[0], msg)
		}
		if strings.Contains(msg, wrong) || strings.Contains(msg, testrest.SecretKey) {
			t.Errorf("bigfather %s prints the secret:\n%s", args[0], msg)
		}
	}
}
