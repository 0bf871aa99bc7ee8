package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestUpDemo runs the README's first command: `bigfather up --demo` starts the embedded broker, the pipeline,
// the HTTP port and the demo producer, and `bigfather sql` in another process shows the staged rows.
func TestUpDemo(t *testing.T) {
	dir := t.TempDir()
	httpAddr := loopbackAddr(t)
	logPath := filepath.Join(dir, "up.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	up := exec.Command(binPath, "up", "--demo", "--data", filepath.Join(dir, "data"), "--http", httpAddr, "--broker-listen", "127.0.0.1:0")
	up.Stdout, up.Stderr = logf, logf
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = up.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = up.Process.Kill()
			<-done
		}
	})

	sql := func(args ...string) (string, error) {
		out, err := exec.Command(binPath, append([]string{"sql", "--data", filepath.Join(dir, "data")}, args...)...).CombinedOutput()
		return string(out), err
	}
	var out string
	waitFor(t, 60*time.Second, "demo rows in staging.game_events", func() bool {
		out, err = sql("select event_type, count(*) as n from staging.game_events group by 1 order by 1")
		return err == nil && strings.Contains(out, "(5 rows)")
	})
	for _, typ := range []string{"item_acquire", "level_up", "purchase", "session_end", "session_start"} {
		if !strings.Contains(out, typ) {
			t.Errorf("sql output lacks %s:\n%s", typ, out)
		}
	}

	// The main table commits first and the batch's other tables after it, so its rows can be visible before
	// the batch, and with it last_commit, is done: the health endpoints must say so within a few seconds.
	for _, ep := range []struct{ path, prefix string }{
		{"/healthz", `{"status":"alive","pipelines":{"game-events":{"state":"running","last_commit":"`},
		{"/readyz", `{"status":"ready","checks":[{"name":"kafka","ok":true},{"name":"catalog","ok":true},{"name":"warehouse","ok":true},{"name":"pipelines","ok":true}],"pipelines":{"game-events":{"state":"running","last_commit":"`},
	} {
		var code int
		var body string
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
			code, body = httpGet("http://" + httpAddr + ep.path)
			if code == http.StatusOK && strings.HasPrefix(body, ep.prefix) || time.Now().After(deadline) {
				break
			}
		}
		if code != http.StatusOK || !strings.HasPrefix(body, ep.prefix) {
			t.Errorf("%s after 30s: %d %s", ep.path, code, body)
		}
	}
	code, body := httpGet("http://" + httpAddr + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, metric := range []string{
		`bigfather_records_consumed_total{pipeline="game-events"}`,
		`bigfather_rows_committed_total{pipeline="game-events",table="staging.game_events"}`,
		`bigfather_commits_total{pipeline="game-events",result="ok",table="staging.game_events"}`,
		`bigfather_commit_duration_seconds_bucket{pipeline="game-events",table="staging.game_events",le="0.005"}`,
		`bigfather_consumer_lag_records{partition="0",pipeline="game-events",topic="game.events"}`,
	} {
		if !strings.Contains(body, metric) {
			t.Errorf("/metrics lacks %s", metric)
		}
	}

	if err := up.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("up did not stop within 30s of SIGTERM")
	}
	if c := up.ProcessState.ExitCode(); c != 0 {
		data, _ := os.ReadFile(logPath)
		t.Fatalf("up exited %d after SIGTERM; log:\n%s", c, data)
	}

	out, err = sql("--format", "json", "select count(*) as n, count(distinct event_id) as ids from staging.game_events")
	if err != nil {
		t.Fatalf("sql: %v\n%s", err, out)
	}
	var rows []struct{ N, IDs int64 }
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("sql json output %q: %v", out, err)
	}
	if rows[0].N == 0 || rows[0].N != rows[0].IDs {
		t.Errorf("after stop: %d rows with %d distinct event ids, want equal and positive", rows[0].N, rows[0].IDs)
	}
}
