package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
)

// writeOwnerConfig writes config NAME.yaml with one pipeline NAME reading topic into staging.owned_events,
// with the test columns plus a column NAME_only, and table.shared as given.
func (e *env) writeOwnerConfig(name, topic string, shared bool) string {
	e.t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%q]
warehouse: %s
catalog:
  uri: sqlite://%s
http: 127.0.0.1:0
pipelines:
  - name: %s
    topics: [%s]
    table:
      name: staging.owned_events
      shared: %v
      partition_by: ["day(event_time)"]%s
        - {name: %s_only, type: string}
    commit: {interval: 300ms, max_rows: 100000}
`, e.broker.Addr(), filepath.Join(e.dir, "warehouse"), filepath.Join(e.dir, "catalog.db"), name, topic, shared, testColumns, name)
	path := filepath.Join(e.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// ownedTable loads staging.owned_events (or its rejected table).
func (e *env) ownedTable(name string) (owner, shared string, columns []string, offsets map[string]lake.Offsets) {
	e.t.Helper()
	lk := e.openLake()
	defer lk.Close()
	tbl, err := lk.LoadTable(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range tbl.Schema().Fields() {
		columns = append(columns, f.Name)
	}
	offsets = map[string]lake.Offsets{"alpha": lake.StoredOffsets(tbl, "alpha"), "beta": lake.StoredOffsets(tbl, "beta")}
	return tbl.Properties()[lake.OwnerProperty], tbl.Properties()[lake.SharedProperty], columns, offsets
}

// TestTableOwnedByOnePipeline (issue 6 item 13): a second config whose pipeline writes another pipeline's
// table is refused at start (exit 1, naming the table, the owner and itself) before it changes the table;
// with table.shared: true in both configs both write it.
func TestTableOwnedByOnePipeline(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "owned.a", 1)
	createTopic(t, e, "owned.b", 1)
	produce := func(topic, prefix string, n int) {
		var recs []*kgo.Record
		for i := range n {
			recs = append(recs, &kgo.Record{Value: eventJSON(fmt.Sprintf("%s-%d", prefix, i), i)})
		}
		produceTo(t, e, topic, recs)
	}
	committed := func(table, pipeline, topic string, want int64) func() bool {
		return func() bool {
			lk := e.openLake()
			defer lk.Close()
			tbl, err := lk.LoadTable(context.Background(), table)
			return err == nil && lake.StoredOffsets(tbl, pipeline).Get(tp(topic, 0)) == want
		}
	}
	const main, rejected = "staging.owned_events", "staging.owned_events_rejected"

	alpha := e.startStage(e.writeOwnerConfig("alpha", "owned.a", false))
	produce("owned.a", "a", 10)
	waitFor(t, 60*time.Second, "alpha to commit", committed(main, "alpha", "owned.a", 10))
	for _, name := range []string{main, rejected} {
		if owner, shared, _, _ := e.ownedTable(name); owner != "alpha" || shared != "" {
			t.Errorf("%s: owner %q shared %q, want alpha and none", name, owner, shared)
		}
	}

	// beta, in another config, names the same table: refused at start, before anything changes.
	code, stdout, stderr := runBin(t, "stage", "--config", e.writeOwnerConfig("beta", "owned.b", false), "--http", "off")
	const want = "bigfather: pipeline beta: table staging.owned_events belongs to pipeline alpha; pipeline beta may not write it: set table.shared: true in both pipelines' configs to share it\n"
	if code != 1 || stdout != "" || !strings.HasSuffix(stderr, want) {
		t.Fatalf("beta: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and last line %s", code, stdout, stderr, want)
	}
	// Sharing on beta's side alone is not enough.
	code, _, stderr = runBin(t, "stage", "--config", e.writeOwnerConfig("beta", "owned.b", true), "--http", "off")
	const wantShared = "bigfather: pipeline beta: table staging.owned_events belongs to pipeline alpha; pipeline beta may not write it: pipeline alpha does not share it (set table.shared: true in its config too)\n"
	if code != 1 || !strings.HasSuffix(stderr, wantShared) {
		t.Fatalf("beta (shared): exit %d, stderr:\n%s\nwant exit 1 and last line %s", code, stderr, wantShared)
	}
	if owner, _, cols, offs := e.ownedTable(main); owner != "alpha" || strings.Contains(strings.Join(cols, ","), "beta_only") || len(offs["beta"]) != 0 {
		t.Errorf("after beta was refused: owner %q, columns %v, beta's offsets %v", owner, cols, offs["beta"])
	}
	if code := alpha.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("alpha exited %d, want 0; log:\n%s", code, alpha.tail())
	}

	// Both configs share the table: both write it, and the schemas merge on purpose.
	alpha = e.startStage(e.writeOwnerConfig("alpha", "owned.a", true))
	waitFor(t, 60*time.Second, "alpha to share its tables", func() bool {
		_, shared, _, _ := e.ownedTable(rejected)
		return shared == "true"
	})
	beta := e.startStage(e.writeOwnerConfig("beta", "owned.b", true))
	produce("owned.b", "b", 7)
	waitFor(t, 60*time.Second, "beta to commit", committed(main, "beta", "owned.b", 7))
	for _, p := range []*stageProc{alpha, beta} {
		if code := p.stop(t, 30*time.Second); code != 0 {
			t.Fatalf("exit %d, want 0; log:\n%s", code, p.tail())
		}
	}
	if owner, shared, cols, _ := e.ownedTable(main); owner != "alpha" || shared != "true" || !strings.Contains(strings.Join(cols, ","), "beta_only") {
		t.Errorf("shared table: owner %q shared %q columns %v", owner, shared, cols)
	}
	if n := e.queryInt("select count(*) from " + main); n != 17 {
		t.Errorf("%s holds %d rows, want 10 from alpha and 7 from beta", main, n)
	}
}
