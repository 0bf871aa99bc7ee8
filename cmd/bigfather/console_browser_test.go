package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/testbrowser"
)

// ScreenshotsEnv names the folder TestConsoleBrowser writes its screenshots to (relative to the repository's
// root); unset, they go to a temporary folder removed after the test.
const screenshotsEnv = "BIGFATHER_SCREENSHOTS"

// browserShots are the screenshots the console script takes, one per page and state, in its order.
var browserShots = []string{
	"overview", "topics", "topic-browser", "topic-browser-header", "pipelines", "pipeline", "rejected",
	"pipeline-paused", "tables", "table", "sql", "audit", "overview-ko", "overview-dark",
}

// headerPartition is the partition of game.events the test writes its records with a header to; the browser
// reads that partition, so the demo's traffic in the others does not push them past its scan limit.
const headerPartition = 3

// consoleSeen is what testdata/browser/console.mjs reports seeing on the pages (numbers as the page shows them,
// with thousands separators); JSON fields match case-insensitively.
type consoleSeen struct {
	OverviewPipelineNode string
	OverviewEdges        int
	OverviewStatus       string
	Nav                  []string
	TopicRow             []string
	OverviewTopicNode    string
	OverviewTableNode    string
	GroupRows            [][]string
	TopicPartitions      int
	Purchases            int
	PurchaseCount        string
	CSVFile              string
	HeaderRows           []struct{ Partition, Offset, Headers, Value string }
	PipelineRows         [][]string
	Charts               int
	PipelinePartitions   [][]string
	Commits              []struct{ Table, Snapshot string }
	Completeness         []string
	Rejected             struct {
		Reason, URL string
		Rows        []struct{ Partition, Offset, Reason, Value string }
	}
	PausedState, ResumedState string
	TableRows                 []struct{ Name, Rows, Files, Snapshots string }
	Schema                    []struct{ ID, Name, Type, Required string }
	Snapshots                 []struct{ Snapshot, Operation, Offsets string }
	TableStatRows             string
	Preview                   struct {
		Columns []string
		Rows    int
	}
	SQLColumns                                    []string
	SQLRows                                       [][]string
	SQLChart                                      int
	Audit                                         []browserAudit
	NavKorean                                     []string
	HTMLLang                                      string
	NavEnglish                                    []string
	Theme                                         string
	DarkBackground, ThemeToggled, LightBackground string
	Shots                                         []string
	Took                                          map[string]int
}

// browserAudit is a row of the audit page.
type browserAudit struct{ Actor, Action, Path, Outcome string }

// browserSnapshot is a snapshot as /api/v1 reports it (commits, table history).
type browserSnapshot struct {
	Table      string
	SnapshotID int64 `json:"snapshot_id"`
	Operation  string
}

// TestConsoleBrowser is the console's acceptance test (issue 8): headless Chromium against `bigfather up
// --demo` checks that every page renders the platform's real data, that the message browser finds records by a
// CEL filter and by a header, that a rejected record is reached from the pipeline page, that pause and resume
// work there, that the SQL page runs a query and draws a chart, and that the language switch and the dark theme
// change the page; what the pages show is checked against the API, Kafka and the tables. It writes a screenshot
// of every page to $BIGFATHER_SCREENSHOTS:
//
//	BIGFATHER_SCREENSHOTS=docs/screenshots go test ./cmd/bigfather -run TestConsoleBrowser
func TestConsoleBrowser(t *testing.T) {
	testbrowser.Require(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	httpAddr, brokerAddr := loopbackAddr(t), loopbackAddr(t)
	base := "http://" + httpAddr
	up := startDemo(t, dir, httpAddr, brokerAddr)

	// Every page has something to show once the first commit wrote all three tables.
	waitFor(t, 60*time.Second, "the first commit to every demo table", func() bool {
		var list struct {
			Items []struct {
				Name string
				Rows int64
			}
		}
		if getJSON(base+"/api/v1/tables", &list) != nil || len(list.Items) != 3 {
			return false
		}
		for _, tb := range list.Items {
			if tb.Rows == 0 {
				return false
			}
		}
		return true
	})
	if up.exited() {
		t.Fatal("up exited before the browser started")
	}

	// The demo sets no headers: three records with one, for the browser to find.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerAddr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var headerRecs []*kgo.Record
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := 1; i <= 3; i++ {
		headerRecs = append(headerRecs, &kgo.Record{Topic: "game.events", Partition: headerPartition, Key: []byte("browser-test"),
			Value: []byte(fmt.Sprintf(`{"event_id":"00000000-0000-4000-8000-00000000000%d","event_time":%q,"player_id":"browser-test","event_type":"session_start","platform":"pc","country":"KR","client_seq":%d}`,
				i, now, i)),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("browser-test")}}})
	}
	if err := cl.ProduceSync(t.Context(), headerRecs...).FirstErr(); err != nil {
		t.Fatalf("producing the header records: %v", err)
	}

	start := time.Now()
	out := testbrowser.RunTimeout(t, "testdata/browser/console.mjs", map[string]string{
		"BASE_URL":         base,
		"SHOT_DIR":         shots,
		"HEADER_PARTITION": strconv.Itoa(headerPartition),
	}, 2*time.Minute)
	t.Logf("browser script ran %s", time.Since(start).Round(time.Millisecond))
	var seen consoleSeen
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &seen); err != nil {
		t.Fatalf("the script's report is not one JSON line: %v\n%s", err, out)
	}
	t.Logf("steps took (ms): %v", seen.Took)

	t.Run("overview", func(t *testing.T) {
		if seen.OverviewEdges != 4 || seen.OverviewStatus != "running" ||
			!strings.HasPrefix(seen.OverviewPipelineNode, "pipeline · game-events") || !strings.Contains(seen.OverviewPipelineNode, "rec/s") {
			t.Errorf("overview: %d edges, status %q, pipeline node %q; want 4 edges, running, the pipeline's rate",
				seen.OverviewEdges, seen.OverviewStatus, seen.OverviewPipelineNode)
		}
		if !strings.HasPrefix(seen.OverviewTopicNode, "topic · game.events") || !strings.Contains(seen.OverviewTopicNode, "rec/s") ||
			!strings.Contains(seen.OverviewTopicNode, "Lag") {
			t.Errorf("overview: topic node %q, want the topic's rate and lag", seen.OverviewTopicNode)
		}
		if !strings.HasPrefix(seen.OverviewTableNode, "table · staging.game_events") || !strings.Contains(seen.OverviewTableNode, "rows") ||
			!strings.Contains(seen.OverviewTableNode, "ago") {
			t.Errorf("overview: table node %q, want its rows and freshness", seen.OverviewTableNode)
		}
		if want := []string{"Overview", "Topics", "Pipelines", "Monitor", "Tables", "Schemas", "SQL", "Metrics", "Audit log"}; !slices.Equal(seen.Nav, want) {
			t.Errorf("navigation %q, want %q", seen.Nav, want)
		}
	})

	t.Run("topics", func(t *testing.T) {
		// Topic, partitions, messages, records/s, groups, lag.
		if len(seen.TopicRow) != 7 || seen.TopicRow[0] != "game.events" || seen.TopicRow[1] != "8" || num(t, seen.TopicRow[2]) < 1000 ||
			!strings.HasSuffix(seen.TopicRow[3], "iB") || seen.TopicRow[5] != "bigfather-game-events" {
			t.Errorf("topic row %q, want game.events with 8 partitions, its messages, its size and group bigfather-game-events", seen.TopicRow)
		}
		if len(seen.GroupRows) != 1 || !slices.Equal(seen.GroupRows[0][:4], []string{"bigfather-game-events", "Stable", "1", "game.events"}) {
			t.Errorf("consumer groups %q, want bigfather-game-events, Stable, one member, on game.events", seen.GroupRows)
		}
		if seen.TopicPartitions != 8 {
			t.Errorf("the topic page lists %d partitions, want 8", seen.TopicPartitions)
		}
		if want := fmt.Sprintf("%d records shown", seen.Purchases); seen.Purchases == 0 || !strings.HasPrefix(seen.PurchaseCount, want) {
			t.Errorf("purchase filter: %d records, count line %q", seen.Purchases, seen.PurchaseCount)
		}
		if seen.CSVFile != "game.events.csv" {
			t.Errorf("CSV export file %q, want game.events.csv", seen.CSVFile)
		}
		// Exactly the three records with the header, with their offsets and values.
		if len(seen.HeaderRows) != len(headerRecs) {
			t.Fatalf("header filter found %d records, want the %d with the header: %+v", len(seen.HeaderRows), len(headerRecs), seen.HeaderRows)
		}
		for i, r := range seen.HeaderRows {
			want := headerRecs[i]
			if num(t, r.Partition) != int64(want.Partition) || num(t, r.Offset) != want.Offset || r.Headers != "source=browser-test" || r.Value != string(want.Value) {
				t.Errorf("header record %d: page shows %+v, want partition %d offset %d value %s", i, r, want.Partition, want.Offset, want.Value)
			}
		}
	})

	t.Run("pipelines", func(t *testing.T) {
		if len(seen.PipelineRows) != 1 || seen.PipelineRows[0][0] != "game-events" || seen.PipelineRows[0][3] != "running" {
			t.Errorf("pipelines list %q, want game-events running", seen.PipelineRows)
		}
		if seen.Charts != 4 {
			t.Errorf("%d charts on the pipeline page, want 4 (records/s and rows/s, lag, lag and freshness seconds, commit duration)", seen.Charts)
		}
		if len(seen.PipelinePartitions) != 8 {
			t.Fatalf("%d partition rows, want 8: %q", len(seen.PipelinePartitions), seen.PipelinePartitions)
		}
		for i, r := range seen.PipelinePartitions {
			// Topic, partition, next offset, end offset, lag, owner.
			if r[0] != "game.events" || r[1] != strconv.Itoa(i) || num(t, r[3])-num(t, r[2]) != num(t, r[4]) || !strings.HasPrefix(r[5], "bigfather-stage@") {
				t.Errorf("partition row %d: %q", i, r)
			}
		}
		if len(seen.Commits) == 0 || len(seen.Completeness) != 5 || num(t, seen.Completeness[1]) == 0 {
			t.Errorf("%d commits, completeness %q; want commits and a completeness report over the rows", len(seen.Commits), seen.Completeness)
		}
		var commits struct{ Items []browserSnapshot }
		if err := getJSON(base+"/api/v1/pipelines/game-events/commits?limit=100", &commits); err != nil {
			t.Fatal(err)
		}
		for _, c := range seen.Commits {
			if !slices.ContainsFunc(commits.Items, func(x browserSnapshot) bool {
				return x.Table == c.Table && strconv.FormatInt(x.SnapshotID, 10) == c.Snapshot
			}) {
				t.Errorf("the page shows commit %s of %s, which the API does not list (digits lost?)", c.Snapshot, c.Table)
			}
		}
		if seen.PausedState != "paused" || seen.ResumedState != "running" {
			t.Errorf("after pause the API said %q, after resume %q; want paused, running", seen.PausedState, seen.ResumedState)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		rj := seen.Rejected
		if rj.Reason == "" || len(rj.Rows) == 0 || !strings.HasSuffix(rj.URL, "/ui/pipelines/game-events/rejected?reason="+rj.Reason) {
			t.Fatalf("rejected drill-down: %+v", rj)
		}
		for _, r := range rj.Rows {
			if r.Reason != rj.Reason {
				t.Errorf("rejected records of %s list one of reason %s: %+v", rj.Reason, r.Reason, r)
			}
		}
		// The raw value shown is the Kafka record's, byte for byte.
		r := rj.Rows[0]
		rec := readRecord(t, brokerAddr, "game.events", int32(num(t, r.Partition)), num(t, r.Offset))
		if string(rec.Value) != r.Value {
			t.Errorf("rejected record %s:%s shows %q; Kafka holds %q", r.Partition, r.Offset, r.Value, rec.Value)
		}
	})

	t.Run("tables", func(t *testing.T) {
		// The game metrics' tables (metrics.*) appear as the refresher creates them; the staged ones are there.
		var names []string
		for _, tb := range seen.TableRows {
			if m, ok := strings.CutPrefix(tb.Name, "metrics."); ok {
				if !slices.Contains(config.GamePackNames, m) && m != "sessions" && m != "funnel" {
					t.Errorf("table %s is not one of the game pack's metric tables", tb.Name)
				}
				continue
			}
			names = append(names, tb.Name)
			if num(t, tb.Rows) == 0 || num(t, tb.Files) == 0 || num(t, tb.Snapshots) == 0 {
				t.Errorf("table row %+v, want rows, files and snapshots", tb)
			}
		}
		if want := []string{"staging.game_events", "staging.game_events_rejected", "staging.purchases"}; !slices.Equal(names, want) {
			t.Errorf("tables %q, want %q", names, want)
		}
		var detail struct {
			Schema []struct {
				ID       int
				Name     string
				Type     string
				Required bool
			}
			History []browserSnapshot
		}
		if err := getJSON(base+"/api/v1/tables/staging.game_events", &detail); err != nil {
			t.Fatal(err)
		}
		if len(seen.Schema) != len(detail.Schema) {
			t.Fatalf("the page shows %d schema fields, the table has %d", len(seen.Schema), len(detail.Schema))
		}
		for i, f := range detail.Schema {
			req := map[bool]string{true: "yes", false: "no"}[f.Required]
			if got := seen.Schema[i]; got.ID != strconv.Itoa(f.ID) || got.Name != f.Name || got.Type != f.Type || got.Required != req {
				t.Errorf("schema row %d: %+v, want field id %d %s %s required %s", i, got, f.ID, f.Name, f.Type, req)
			}
		}
		if seen.Schema[0].Name != "event_id" || seen.Schema[0].ID != "1" {
			t.Errorf("first schema row %+v, want event_id with field id 1", seen.Schema[0])
		}
		if len(seen.Snapshots) == 0 {
			t.Error("no snapshot history on the table page")
		}
		for _, s := range seen.Snapshots {
			if !slices.ContainsFunc(detail.History, func(h browserSnapshot) bool {
				return strconv.FormatInt(h.SnapshotID, 10) == s.Snapshot && h.Operation == s.Operation
			}) || !strings.Contains(s.Offsets, "game.events/") {
				t.Errorf("snapshot row %+v is not in the table's history or carries no offsets", s)
			}
		}
		if num(t, seen.TableStatRows) == 0 || seen.Preview.Rows != 20 || len(seen.Preview.Columns) != len(detail.Schema) || seen.Preview.Columns[0] != "event_id" {
			t.Errorf("table stats rows %q, preview %+v; want rows and a 20-row preview of every column", seen.TableStatRows, seen.Preview)
		}
	})

	t.Run("sql", func(t *testing.T) {
		if !slices.Equal(seen.SQLColumns, []string{"event_type", "n"}) || len(seen.SQLRows) != 5 || seen.SQLChart != 1 {
			t.Fatalf("sql: columns %q, rows %q, %d chart(s)", seen.SQLColumns, seen.SQLRows, seen.SQLChart)
		}
		// The counts grow while the demo plays: the page's are at most today's.
		var res struct{ Rows [][]any }
		if err := postJSON(base+"/api/v1/sql", `{"query":"select event_type, count(*) as n from staging.game_events group by 1 order by 1"}`, &res); err != nil {
			t.Fatal(err)
		}
		for i, r := range seen.SQLRows {
			now, _ := res.Rows[i][1].(float64)
			if res.Rows[i][0] != r[0] || num(t, r[1]) == 0 || float64(num(t, r[1])) > now {
				t.Errorf("sql row %d: page %q, the API now %v", i, r, res.Rows[i])
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		for _, want := range []string{"/api/v1/pipelines/game-events/pause", "/api/v1/pipelines/game-events/resume?action=retry", "/api/v1/sql"} {
			if !slices.ContainsFunc(seen.Audit, func(a browserAudit) bool {
				return a.Path == want && a.Outcome == "ok 200" && strings.HasPrefix(a.Actor, "anonymous")
			}) {
				t.Errorf("the audit page lacks an ok entry for %s: %+v", want, seen.Audit)
			}
		}
	})

	t.Run("language and theme", func(t *testing.T) {
		if want := []string{"개요", "토픽", "파이프라인", "모니터링", "테이블", "스키마", "SQL", "지표", "감사 로그"}; !slices.Equal(seen.NavKorean, want) || seen.HTMLLang != "ko" {
			t.Errorf("Korean navigation %q (lang %q), want %q (ko)", seen.NavKorean, seen.HTMLLang, want)
		}
		if want := []string{"Overview", "Topics", "Pipelines", "Monitor", "Tables", "Schemas", "SQL", "Metrics", "Audit log"}; !slices.Equal(seen.NavEnglish, want) {
			t.Errorf("navigation back in English %q, want %q", seen.NavEnglish, want)
		}
		if seen.Theme != "dark" || seen.DarkBackground != "rgb(17, 20, 24)" || seen.ThemeToggled != "light" || seen.LightBackground != "rgb(246, 247, 249)" {
			t.Errorf("theme %q background %q, toggled %q background %q; want dark rgb(17, 20, 24), light rgb(246, 247, 249)",
				seen.Theme, seen.DarkBackground, seen.ThemeToggled, seen.LightBackground)
		}
	})

	t.Run("screenshots", func(t *testing.T) { checkScreenshots(t, shots, browserShots, seen.Shots) })

	up.stop(t)
}

// demoProc is a running `bigfather up --demo`.
type demoProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when it exited
}

// startDemo starts `bigfather up --demo` in dir with its console on httpAddr and its broker on brokerAddr, at a
// rate two shared cores keep up with while a browser runs, with more malformed records than by default so
// that every rejection reason turns up early. It is killed when the test ends, unless stop stopped it.
func startDemo(t *testing.T, dir, httpAddr, brokerAddr string) *demoProc {
	t.Helper()
	p := &demoProc{log: filepath.Join(dir, "up.log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binPath, "up", "--demo", "--data", filepath.Join(dir, "data"), "--http", httpAddr, "--broker-listen", brokerAddr,
		"--demo-rate", "500", "--demo-malformed-rate", "0.02")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("up log (end):\n%s", lastBytes(readFile(p.log), 6000))
		}
	})
	return p
}

// exited reports whether the process has exited.
func (p *demoProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and requires a clean exit within 30 s.
func (p *demoProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("up did not stop within 30s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("up exited %d after SIGTERM", code)
	}
}

// lastBytes is the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// screenshotDir returns $BIGFATHER_SCREENSHOTS, relative to the repository's root, created; unset, a temporary
// directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatalf("%s=%s: the repository root %s has no go.mod: %v", screenshotsEnv, dir, root, err)
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s: %v", screenshotsEnv, err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// getJSON decodes the JSON answer of GET url into v; any status but 200 is an error.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// postJSON posts body to url and decodes the JSON answer into v; any status but 200 is an error.
func postJSON(url, body string, v any) error {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// readRecord reads the record at offset of topic's partition.
func readRecord(t *testing.T, broker, topic string, partition int32, offset int64) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		fetches := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s/%d at offset %d: %v", topic, partition, offset, err)
		}
		for _, r := range fetches.Records() {
			if r.Offset == offset {
				return r
			}
			t.Fatalf("reading %s/%d at offset %d: got offset %d", topic, partition, offset, r.Offset)
		}
	}
}

// num parses a number as the console shows it ("12,345").
func num(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		t.Errorf("%q is not a number: %v", s, err)
	}
	return n
}

// checkScreenshots checks that a browser script took the named screenshots, in order, into dir, each a PNG of
// the whole page 1280 pixels wide.
func checkScreenshots(t *testing.T, dir string, names, got []string) {
	t.Helper()
	var want []string
	for _, name := range names {
		want = append(want, filepath.Join(dir, name+".png"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("screenshots %q, want %q", got, want)
	}
	for _, f := range want {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s is not a PNG: %v", f, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() < 800 {
			t.Errorf("%s is %dx%d, want the whole page 1280 wide", f, b.Dx(), b.Dy())
		}
	}
}
