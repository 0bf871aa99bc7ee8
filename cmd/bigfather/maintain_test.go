package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
)

// TestMaintenanceUnderLoad (acceptance 2): two stage processes with dedup commit every 200 ms (many small
// files) while 100,000 events are staged and maintenance runs every 2 s inside them (compaction to 8 MiB files,
// snapshots kept for 1 s but at least 2, orphans deleted after 5 s), and one of them is killed with SIGKILL
// three times. The
// tables end exact (rows, distinct ids, distinct positions; duplicates dropped); after `bigfather maintain`
// the main table holds one data file per partition and 2 snapshots, every file under each table's location
// is referenced by its metadata (the orphans of killed batches and compactions gone), and queries give the
// same answers before and after.
func TestMaintenanceUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	const unique, dups, bad, kills = 100_000, 5_000, 500, 3
	e := newEnv(t)
	topic := "maint.events"
	createTopic(t, e, topic, 8)
	cfg := e.writePipelineConfig(topic, "maint_events", "{interval: 200ms, max_rows: 5000}",
		"    dedup: {field: event_id, window: 24h}\n"+
			"maintenance: {interval: 2s, target_file_size: 8MiB, snapshot_retention: 1s, min_snapshots: 2, orphan_age: 5s}\n")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)

	produced := make(chan error, 1)
	go func() { produced <- produceWithDuplicates(e, topic, unique, dups, bad, rng.Uint64()) }()
	stable := e.startStage(cfg, "--instance-id", "stable", "--session-timeout", "6s")
	killRepeatedly(t, e, cfg, kills, rng, "--session-timeout", "6s")
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	last := e.startStage(cfg, "--session-timeout", "6s")
	main, rejected := "staging.maint_events", "staging.maint_events_rejected"
	// Let maintenance run a few times on the finished tables while both processes are up.
	waitFor(t, 120*time.Second, "every partition committed", func() bool { return e.caughtUp(topic, main, rejected) })
	time.Sleep(5 * time.Second)
	for _, p := range []*stageProc{last, stable} {
		if code := p.stop(t, 60*time.Second); code != 0 {
			t.Fatalf("stage exited %d after SIGTERM; log:\n%s", code, p.tail())
		}
	}
	// Each process maintained on schedule; the one that ran throughout changed something (the late one
	// may find its work already done by the other).
	for _, p := range []*stageProc{last, stable} {
		log := readFile(p.log)
		if !regexp.MustCompile(`msg="maintenance stopped" runs=[1-9]`).MatchString(log) {
			t.Errorf("no scheduled maintenance run summed up by %s; log:\n%s", p.log, p.tail())
		}
		if !strings.Contains(log, `msg="memory limit" limit=352MiB from=memory_limit`) {
			t.Errorf("%s does not log the memory limit memory_limit: auto gives one pipeline (352MiB)", p.log)
		}
		if strings.Contains(log, "maintenance failed") {
			t.Errorf("a scheduled maintenance run failed; log:\n%s", p.tail())
		}
	}
	if !strings.Contains(readFile(stable.log), "msg=maintained") {
		t.Errorf("the process that ran throughout logged no maintenance run that changed something; log:\n%s", stable.tail())
	}
	logs, _ := filepath.Glob(filepath.Join(e.dir, "stage-*.log"))
	var runs, yields, conflicts int
	for _, l := range logs {
		text := readFile(l)
		runs += strings.Count(text, "msg=maintained")
		yields += strings.Count(text, "yielded=true")
		conflicts += strings.Count(text, "conflict")
	}
	t.Logf("%d maintenance runs changed something, %d yielded to staging; %d log lines mention a conflict", runs, yields, conflicts)
	check := func(when string) []any {
		e.assertRows(main, unique)
		if got := e.queryInt("select count(distinct (_partition, _offset)) from " + main); got != unique {
			t.Errorf("%s: main table holds %d distinct (partition, offset), want %d", when, got, unique)
		}
		if got := e.queryInt("select count(*) from " + rejected); got != bad {
			t.Errorf("%s: rejected table holds %d rows, want %d", when, got, bad)
		}
		return e.query("select count(*), sum(client_seq), min(event_id), max(event_id), count(distinct player_id) from " + main)[0]
	}
	before := check("after staging")

	// Orphans younger than orphan_age stay: wait it out, then maintain once more by hand.
	time.Sleep(6 * time.Second)
	var out, errb bytes.Buffer
	cmd := exec.Command(binPath, "maintain", "--config", cfg)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("bigfather maintain: %v\n%s%s", err, out.String(), errb.String())
	}
	t.Logf("bigfather maintain:\n%s", out.String())
	for _, name := range []string{main, rejected} {
		if !strings.Contains(out.String(), name+": compacted ") {
			t.Errorf("maintain output does not report %s:\n%s", name, out.String())
		}
	}
	after := check("after bigfather maintain")
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("query before maintenance %v, after %v", before, after)
	}

	lk := e.openLake()
	defer lk.Close()
	ctx := context.Background()
	for _, name := range []string{main, rejected} {
		tbl, err := lk.LoadTable(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := maintain.Stats(ctx, tbl, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d data files, %d snapshots", name, st.DataFiles, st.Snapshots)
		// Every event falls on one day: one partition, so one file (all of it is under the 8 MiB target);
		// the rejected table may span two days of _ingested_at.
		if st.DataFiles > 2 || (name == main && st.DataFiles != 1) {
			t.Errorf("%s holds %d data files after compaction, want one per partition", name, st.DataFiles)
		}
		if st.Snapshots > 2 {
			t.Errorf("%s keeps %d snapshots, want at most min_snapshots (2): all are older than the retention", name, st.Snapshots)
		}
		live, err := maintain.LiveFiles(ctx, tbl)
		if err != nil {
			t.Fatal(err)
		}
		local := map[string]bool{}
		for p := range live {
			local[lake.LocalPath(p)] = true
		}
		n := 0
		filepath.WalkDir(lake.LocalPath(tbl.Location()), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
				if !local[p] {
					t.Errorf("%s: %s is not referenced by the table's metadata", name, p)
				}
			}
			return nil
		})
		t.Logf("%s: %d files under its location, all referenced", name, n)
	}
}

// produceWithDuplicates produces unique events round-robin, dups of them a second time (half right away,
// half at the end), and bad malformed records spread among them.
func produceWithDuplicates(e *env, topic string, unique, dups, bad int, seed uint64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addr()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 3))
	perm := rng.Perm(unique)
	soon, late := map[int]bool{}, perm[dups/2:dups]
	for _, i := range perm[:dups/2] {
		soon[i] = true
	}
	send := func(v []byte) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr()
	}
	every, nbad := unique/bad, 0
	var batch []*kgo.Record
	flush := func() error {
		err := cl.ProduceSync(ctx, batch...).FirstErr()
		batch = batch[:0]
		return err
	}
	for i := 0; i < unique; i++ {
		batch = append(batch, &kgo.Record{Topic: topic, Value: gameEvent(i)})
		if soon[i] {
			batch = append(batch, &kgo.Record{Topic: topic, Value: gameEvent(i)})
		}
		if (i+1)%every == 0 {
			v, _ := malformed(nbad)
			batch = append(batch, &kgo.Record{Topic: topic, Value: v})
			nbad++
		}
		if (i+1)%2000 == 0 {
			if err := flush(); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, i := range late {
		if err := send(gameEvent(i)); err != nil {
			return err
		}
	}
	return nil
}
