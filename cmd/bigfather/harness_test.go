package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// binPath is the bigfather binary built once by TestMain for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bigfather-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "bigfather")
	args := []string{"build", "-o", binPath}
	if os.Getenv("BIGFATHER_TEST_RACE") != "" {
		args = append(args, "-race") // the subprocesses run under the race detector
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bigfather:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one end-to-end test's world: a broker on a real port and a directory for the catalog and warehouse.
type env struct {
	t      *testing.T
	dir    string
	broker *broker.Broker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "broker"), Partitions: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &env{t: t, dir: dir, broker: b}
}

// testColumns is the column list of the test pipelines.
const testColumns = `
      columns:
        - {name: event_id,   type: string,    required: true}
        - {name: event_time, type: timestamp, required: true}
        - {name: player_id,  type: string,    required: true}
        - {name: event_type, type: string,    required: true}
        - {name: level,      type: int}
        - {name: amount,     type: double}
        - {name: client_seq, type: long}`

// writeConfig writes a config with one pipeline "test" reading topic into staging.<table>.
func (e *env) writeConfig(topic, table, commit string) string {
	return e.writePipelineConfig(topic, table, commit, "")
}

// writePipelineConfig writes a config with one pipeline "test" reading topic into staging.<table>, with the
// test columns, the commit settings and extra pipeline YAML (dedup, routes, policies...).
func (e *env) writePipelineConfig(topic, table, commit, extra string) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
pipelines:
  - name: test
    topics: [%s]
    table:
      name: staging.%s
      partition_by: ["day(event_time)"]%s
    commit: %s
%s`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), topic, table, testColumns, commit, extra)
	path := filepath.Join(e.dir, "bigfather.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// stageProc is a `bigfather stage` subprocess.
type stageProc struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

// startStage runs `bigfather stage --config cfg args...`, logging to a file in the env dir.
func (e *env) startStage(cfg string, args ...string) *stageProc {
	e.t.Helper()
	return e.startStageIn("", cfg, args...)
}

// startStageIn is startStage with dir as the process's working directory ("" for the test's).
func (e *env) startStageIn(dir, cfg string, args ...string) *stageProc {
	e.t.Helper()
	return e.startProcess(dir, append([]string{"stage", "--config", cfg, "--http", "off"}, args...)...)
}

// startProcess runs `bigfather args...` in dir ("" for the test's), logging to a file in the env dir; the
// test's cleanup kills it if it still runs.
func (e *env) startProcess(dir string, args ...string) *stageProc {
	e.t.Helper()
	logf, err := os.CreateTemp(e.dir, args[0]+"-*.log")
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(binPath, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "BIGFATHER_LOG_LEVEL=info")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	p := &stageProc{cmd: cmd, log: logf.Name(), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// kill stops the process with SIGKILL and waits for it.
func (p *stageProc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and returns the exit code.
func (p *stageProc) stop(t *testing.T, timeout time.Duration) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("stage did not stop within %v after SIGTERM; log:\n%s", timeout, p.tail())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *stageProc) tail() string {
	data, _ := os.ReadFile(p.log)
	s := string(data)
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

// stageLogTails returns the end of every stage process's log in the env, each under its file name.
func (e *env) stageLogTails() string {
	logs, _ := filepath.Glob(filepath.Join(e.dir, "stage-*.log"))
	var b strings.Builder
	for _, l := range logs {
		fmt.Fprintf(&b, "== %s\n%s\n", filepath.Base(l), (&stageProc{log: l}).tail())
	}
	return b.String()
}

// client returns a franz-go client of the env's broker that may create topics.
func (e *env) client(opts ...kgo.Opt) *kgo.Client {
	e.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.broker.Addr()), kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(5 * time.Millisecond)}, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cl.Close)
	return cl
}

// endOffsets returns the high watermark of every partition of topic.
func (e *env) endOffsets(topic string) lake.Offsets {
	e.t.Helper()
	adm := kadm.NewClient(e.client())
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		e.t.Fatal(err)
	}
	out := lake.Offsets{}
	ends.Each(func(o kadm.ListedOffset) {
		out[lake.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
	})
	return out
}

// openLake opens the env's catalog and warehouse.
func (e *env) openLake() *lake.Lake {
	e.t.Helper()
	lk, err := lake.Open(context.Background(), "sqlite://"+filepath.Join(e.dir, "catalog.db"), filepath.Join(e.dir, "warehouse"))
	if err != nil {
		e.t.Fatal(err)
	}
	return lk
}

// storedOffsets reads the offsets pipeline "test" stored in a table; nil when the table does not exist yet.
func (e *env) storedOffsets(table string) lake.Offsets {
	e.t.Helper()
	lk := e.openLake()
	defer lk.Close()
	t, err := lk.LoadTable(context.Background(), table)
	if err != nil {
		return nil
	}
	return lake.StoredOffsets(t, "test")
}

// caughtUp reports whether every table stores the topic's end offsets.
func (e *env) caughtUp(topic string, tables ...string) bool {
	ends := e.endOffsets(topic)
	for _, tbl := range tables {
		stored := e.storedOffsets(tbl)
		for tp, end := range ends {
			if end > 0 && stored.Get(tp) != end {
				return false
			}
		}
	}
	return true
}

// query runs SQL over the env's tables, exactly as `bigfather sql` does.
func (e *env) query(sql string) [][]any {
	e.t.Helper()
	ctx := context.Background()
	lk := e.openLake()
	defer lk.Close()
	eng, err := query.Open(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.RegisterLake(ctx, lk); err != nil {
		e.t.Fatal(err)
	}
	res, err := eng.Query(ctx, sql)
	if err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

// queryInt runs a query returning one integer.
func (e *env) queryInt(sql string) int64 {
	e.t.Helper()
	rows := e.query(sql)
	if len(rows) != 1 || len(rows[0]) != 1 {
		e.t.Fatalf("%s: expected one value, got %v", sql, rows)
	}
	switch v := rows[0][0].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	}
	e.t.Fatalf("%s: expected an integer, got %T %v", sql, rows[0][0], rows[0][0])
	return 0
}

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// eventJSON is a valid test event.
func eventJSON(id string, seq int) []byte {
	ts := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	return []byte(fmt.Sprintf(`{"event_id":%q,"event_time":%q,"player_id":"p%05d","event_type":"level_up","level":%d,"client_seq":%d}`,
		id, ts.Format(time.RFC3339Nano), seq%5000, seq%100+1, seq))
}

// malformed returns the i-th of a rotating set of bad records with the reason code each must produce.
func malformed(i int) (value []byte, reasonCode string) {
	switch i % 5 {
	case 0:
		return []byte(`{"event_id": "broken`), "not_json"
	case 1:
		return []byte(`[1,2,3]`), "not_object"
	case 2:
		return []byte(fmt.Sprintf(`{"event_id":"bad-%d","player_id":"p1","event_type":"x"}`, i)), "missing_field"
	case 3:
		return []byte(fmt.Sprintf(`{"event_id":"bad-%d","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"x","level":"ten"}`, i)), "wrong_type"
	default:
		return []byte(fmt.Sprintf(`{"event_id":"bad-%d","event_time":"2026-11-20T00:00:00Z","player_id":"p1","event_type":"x","level":3000000000}`, i)), "out_of_range"
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// loopbackAddr returns a loopback address whose port was free a moment ago.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// finish waits until the tables store the topic's end offsets, then stops p with SIGTERM and requires exit 0.
func (e *env) finish(p *stageProc, topic string, tables ...string) {
	e.t.Helper()
	// Its signal handler is installed before it logs anything: a SIGTERM before that would kill it.
	waitFor(e.t, 30*time.Second, "the stage process to start", func() bool { return strings.Contains(readFile(p.log), "msg=staging") })
	waitFor(e.t, 120*time.Second, "every partition committed to "+strings.Join(tables, ", "), func() bool {
		return e.caughtUp(topic, tables...)
	})
	if code := p.stop(e.t, 60*time.Second); code != 0 {
		e.t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, p.tail())
	}
}

// assertRows checks that table holds exactly want rows with want distinct event ids.
func (e *env) assertRows(table string, want int64) {
	e.t.Helper()
	if got := e.queryInt("select count(*) from " + table); got != want {
		e.t.Errorf("%s holds %d rows, want exactly %d", table, got, want)
	}
	if got := e.queryInt("select count(distinct event_id) from " + table); got != want {
		e.t.Errorf("%s holds %d distinct event_id, want %d", table, got, want)
	}
}

func tp(topic string, partition int32) lake.TopicPartition {
	return lake.TopicPartition{Topic: topic, Partition: partition}
}
