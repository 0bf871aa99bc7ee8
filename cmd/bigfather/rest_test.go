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
// secret from $BF_TEST_S3_SECRET).
func writeRESTConfig(e *env, srv *testrest.Server, topic, table, commit string) string {
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
pipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.%s
      partition_by: ["day(event_time)"]%s
    commit: %s
`, e.broker.Addr(), srv.Warehouse, srv.S3Endpoint, testrest.Region, testrest.AccessKey, srv.CatalogURI, testrest.AccessKey,
		topic, table, testColumns, commit)
	path := filepath.Join(e.dir, "bigfather-rest.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// TestRESTStageWithKills (issue 7, acceptance 3) stages into SeaweedFS's Iceberg REST catalog and S3 while
// the stage process is killed with SIGKILL, finishes, and counts exactly with `bigfather sql`.
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
	cfg := writeRESTConfig(e, srv, topic, "rest_events", "{interval: 1s, max_rows: 5000}")
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
}

// TestRESTBadCredentials: refused OAuth2 client credentials stop `stage` and `sql` at start with exit code 1
// and an error naming catalog.credential, never the secret.
func TestRESTBadCredentials(t *testing.T) {
	srv := testrest.Start(t)
	e := newEnv(t)
	const wrong = "wrong-secret-never-print-0123456789"
	t.Setenv("BF_TEST_S3_SECRET", testrest.SecretKey)
	t.Setenv("BF_TEST_REST_SECRET", wrong)
	cfg := writeRESTConfig(e, srv, "rest.events", "rest_events", "{interval: 1s}")
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
