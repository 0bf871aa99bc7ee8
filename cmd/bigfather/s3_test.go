package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	icebergio "github.com/apache/iceberg-go/io"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
	"github.com/bigfather/bigfather/internal/tests3"
)

// writeS3Config writes a config with one pipeline "test" reading topic into staging.<table> of an s3://
// warehouse in bucket of srv (SQLite catalog in the env dir), with the maintenance block maintenance (a line,
// or ""); the secret comes from $BF_TEST_S3_SECRET.
func writeS3Config(e *env, srv *tests3.Server, bucket, topic, table, commit, maintenance string) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: s3://%s/lake
s3:
  endpoint: %s
  region: %s
  access_key_id: %s
  secret_access_key: ${BF_TEST_S3_SECRET}
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
%spipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.%s
      partition_by: ["day(event_time)"]%s
    commit: %s
`, e.broker.Addr(), bucket, srv.Endpoint, tests3.Region, tests3.AccessKey, filepath.Join(e.dir, "catalog.db"), maintenance, topic, table, testColumns, commit)
	path := filepath.Join(e.dir, "bigfather-s3.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// s3CaughtUp reports whether every table of the config at cfgPath stores the topic's end offsets.
func s3CaughtUp(e *env, cfgPath, topic string, tables ...string) bool {
	e.t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		e.t.Fatal(err)
	}
	lk, err := lake.Open(context.Background(), cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer lk.Close()
	ends := e.endOffsets(topic)
	for _, name := range tables {
		tbl, err := lk.LoadTable(context.Background(), name)
		if err != nil {
			return false
		}
		stored := lake.StoredOffsets(tbl, "test")
		for tp, end := range ends {
			if end > 0 && stored.Get(tp) != end {
				return false
			}
		}
	}
	return true
}

// stageWithKills produces valid events and bad malformed records to topic while `stage` on cfg is killed with
// SIGKILL kills times, then runs it once more until every table stores the topic's end offsets (read through
// the config, so any catalog and warehouse), stops it with SIGTERM requiring exit 0, and returns that process.
func (e *env) stageWithKills(cfg, topic string, valid, bad, kills int, tables ...string) *stageProc {
	t := e.t
	t.Helper()
	seed := time.Now().UnixNano()
	t.Logf("kill schedule seed %d", seed)
	produced := make(chan error, 1)
	go func() { produced <- produceCrashRecords(e, topic, valid, bad, 300*time.Millisecond) }()
	killRepeatedly(t, e, cfg, kills, rand.New(rand.NewPCG(uint64(seed), 1)))
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	last := e.startStage(cfg)
	waitFor(t, 30*time.Second, "the stage process to start", func() bool { return strings.Contains(readFile(last.log), "msg=staging") })
	waitFor(t, 120*time.Second, "every partition committed to "+strings.Join(tables, ", "), func() bool { return s3CaughtUp(e, cfg, topic, tables...) })
	if code := last.stop(t, 60*time.Second); code != 0 {
		t.Fatalf("stage exited %d after SIGTERM; log:\n%s", code, last.tail())
	}
	return last
}

// bigfatherSQL runs `bigfather sql --config cfg --format csv query` and returns its output and how long it took.
func bigfatherSQL(t *testing.T, cfg, query string) (string, time.Duration) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(binPath, "sql", "--config", cfg, "--format", "csv", query)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("bigfather sql %q: %v\n%s", query, err, out.String())
	}
	return strings.TrimSpace(out.String()), time.Since(start)
}

// TestS3StageWithKills stages into an s3:// warehouse (versitygw on loopback, SQLite catalog) while the stage
// process, maintaining the tables every 2 s, is killed with SIGKILL, finishes, and counts exactly with
// `bigfather sql`, which reads the S3 data files through its local cache (cold, then warm). After `bigfather
// maintain`, every object under the tables' locations is referenced and the counts are unchanged.
func TestS3StageWithKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	srv := tests3.Start(t)
	bucket := srv.Bucket()
	e := newEnv(t)
	t.Setenv("BF_TEST_S3_SECRET", tests3.SecretKey)
	t.Setenv("BIGFATHER_CACHE_DIR", filepath.Join(e.dir, "cache"))
	const valid, bad, kills = 40_000, 200, 4
	topic := "s3.events"
	createTopic(t, e, topic, 4)
	cfg := writeS3Config(e, srv, bucket, topic, "s3_events", "{interval: 1s, max_rows: 5000}", maintainConfig)
	main, rejected := "staging.s3_events", "staging.s3_events_rejected"
	last := e.stageWithKills(cfg, topic, valid, bad, kills, main, rejected)
	if strings.Contains(readFile(last.log), tests3.SecretKey) {
		t.Error("the stage log shows the S3 secret")
	}

	count := "select count(*), count(distinct event_id), count(distinct (_partition, _offset)) from " + main
	cold, coldTook := bigfatherSQL(t, cfg, count)
	warm, warmTook := bigfatherSQL(t, cfg, count)
	want := fmt.Sprintf("%d,%d,%d", valid, valid, valid)
	if got := lines(cold)[1]; got != want {
		t.Errorf("cold: %s holds %s (rows, distinct ids, distinct positions), want %s", main, got, want)
	}
	if lines(warm)[1] != lines(cold)[1] {
		t.Errorf("warm result %q differs from cold %q", warm, cold)
	}
	if got, _ := bigfatherSQL(t, cfg, "select count(*) from "+rejected); lines(got)[1] != fmt.Sprint(bad) {
		t.Errorf("%s holds %s rows, want %d", rejected, lines(got)[1], bad)
	}
	cached, _ := os.ReadDir(filepath.Join(e.dir, "cache"))
	t.Logf("bigfather sql count(*) over %d cached data files: cold %v, warm %v", len(cached), coldTook.Round(time.Millisecond), warmTook.Round(time.Millisecond))
	if local, err := os.ReadDir(filepath.Join(e.dir, "lake")); err == nil {
		t.Errorf("a local warehouse directory was created: %v", local)
	}

	// Maintenance ran every 2 s inside the killed processes; once more by hand, the orphans of the killed
	// batches are gone from the bucket and the counts are the same.
	if !strings.Contains(readFile(last.log), `msg="maintenance stopped" runs=`) {
		t.Errorf("the last stage process ran no scheduled maintenance; log:\n%s", last.tail())
	}
	maintainAndCheck(t, cfg, main, rejected)
	if got, _ := bigfatherSQL(t, cfg, count); lines(got)[1] != want {
		t.Errorf("after maintenance %s holds %s (rows, distinct ids, distinct positions), want %s", main, lines(got)[1], want)
	}
}

// TestS3BadCredentials: wrong credentials, a missing bucket or an unreachable endpoint stop `stage` and `sql`
// at start with exit code 1 and an error naming the config key, never the secret.
func TestS3BadCredentials(t *testing.T) {
	srv := tests3.Start(t)
	bucket := srv.Bucket()
	e := newEnv(t)
	const wrong = "wrong-secret-never-print-0123456789"
	t.Setenv("BF_TEST_S3_SECRET", wrong)
	cfg := writeS3Config(e, srv, bucket, "s3.events", "s3_events", "{interval: 1s}", "")
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
		if !strings.Contains(msg, "the S3 store refused the credentials (check s3.access_key_id / s3.secret_access_key)") {
			t.Errorf("bigfather %s: the error does not name the keys to fix:\n%s", args[0], msg)
		}
		if strings.Contains(msg, wrong) || strings.Contains(msg, tests3.SecretKey) {
			t.Errorf("bigfather %s prints the secret:\n%s", args[0], msg)
		}
	}
}

// unreferenced lists, through the table's own storage (local disk or S3), the files under the location of the
// table name (config at cfgPath) that its metadata does not reference, and how many files it found there.
func unreferenced(t *testing.T, cfgPath, name string) (int, []string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse, lakeOptions(cfg)...)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	tbl, err := lk.LoadTable(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	live, err := maintain.LiveFiles(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lio, ok := fsys.(icebergio.ListableIO)
	if !ok {
		t.Fatalf("%s: the storage (%T) cannot list files", name, fsys)
	}
	scheme, _, _ := strings.Cut(tbl.Location(), "://")
	n := 0
	var out []string
	err = lio.WalkDir(tbl.Location(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		if !strings.Contains(p, "://") {
			p = scheme + "://" + strings.TrimPrefix(p, "/")
		}
		if !live[p] {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", tbl.Location(), err)
	}
	return n, out
}

// maintainAndCheck waits out the orphan age of maintainConfig, runs `bigfather maintain` on cfg, and requires
// every file under each table's location to be referenced by its metadata.
func maintainAndCheck(t *testing.T, cfg string, tables ...string) {
	t.Helper()
	time.Sleep(6 * time.Second)
	var out bytes.Buffer
	cmd := exec.Command(binPath, "maintain", "--config", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("bigfather maintain: %v\n%s", err, out.String())
	}
	t.Logf("bigfather maintain:\n%s", out.String())
	for _, name := range tables {
		n, orphans := unreferenced(t, cfg, name)
		if len(orphans) > 0 {
			t.Errorf("%s: %d of the %d files under its location are not referenced by its metadata: %v", name, len(orphans), n, orphans)
		} else {
			t.Logf("%s: %d files under its location, all referenced", name, n)
		}
	}
}

// maintainConfig is the maintenance block of the crash tests: every 2 s, orphans deleted after 5 s.
const maintainConfig = "maintenance: {interval: 2s, target_file_size: 8MiB, snapshot_retention: 1s, min_snapshots: 2, orphan_age: 5s}\n"
