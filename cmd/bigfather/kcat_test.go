package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/bigfather/bigfather/internal/lake"
)

// TestKcatInterop produces with kcat (librdkafka, snappy, keyed, auto-created topic), stages the topic and
// checks that the tables hold every record exactly once and that kcat reads the topic, its metadata and the
// stage's committed group offsets back.
func TestKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed: apt-get install -y kcat")
	}
	start := time.Now()
	e := newEnv(t)
	const topic, valid, bad = "kcat.events", 1000, 7

	// One record per line, key|value; malformed records spread through the file.
	var input []string
	wantCodes := map[string]int64{}
	for i, j := 0, 0; i < valid; i++ {
		input = append(input, fmt.Sprintf("evt-%04d|%s", i, eventJSON(fmt.Sprintf("kcat-%04d", i), i)))
		if i%140 == 70 { // i = 70, 210, ..., 910: seven malformed records
			v, code := malformed(j)
			input = append(input, fmt.Sprintf("bad-%d|%s", j, v))
			wantCodes[code]++
			j++
		}
	}
	if got := len(input); got != valid+bad {
		t.Fatalf("built %d input lines, want %d", got, valid+bad)
	}
	for _, l := range input {
		if strings.Count(l, "|") != 1 {
			t.Fatalf("input line %q has more than one key delimiter", l)
		}
	}
	file := filepath.Join(e.dir, "kcat-input.txt")
	if err := os.WriteFile(file, []byte(strings.Join(input, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The topic does not exist yet: librdkafka producers ask for auto creation, so the broker creates it with
	// its default of 8 partitions.
	runKcat(t, kcat, "-P", "-b", e.broker.Addr(), "-t", topic, "-K", "|", "-z", "snappy", "-l", file)
	ends := e.endOffsets(topic)
	if len(ends) != 8 || sumOffsets(ends) != valid+bad {
		t.Fatalf("after kcat produce: end offsets %v (sum %d), want 8 partitions summing to %d", ends, sumOffsets(ends), valid+bad)
	}
	for tp, end := range ends {
		if end == 0 {
			t.Errorf("partition %d got no records from kcat's partitioner", tp.Partition)
		}
	}

	cfg := e.writeConfig(topic, "kcat_events", "{interval: 1s, max_rows: 100000}")
	p := e.startStage(cfg)
	e.finish(p, topic, "staging.kcat_events", "staging.kcat_events_rejected")
	e.assertRows("staging.kcat_events", valid)
	if n := e.queryInt(`SELECT count(*) FROM staging.kcat_events WHERE event_id NOT LIKE 'kcat-%' OR _topic <> 'kcat.events'`); n != 0 {
		t.Errorf("%d main rows with a foreign event_id or topic", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM staging.kcat_events_rejected`); n != bad {
		t.Errorf("rejected table has %d rows, want %d", n, bad)
	}
	gotCodes := map[string]int64{}
	for _, row := range e.query(`SELECT reason_code, count(*) FROM staging.kcat_events_rejected GROUP BY reason_code`) {
		gotCodes[row[0].(string)] = row[1].(int64)
	}
	if fmt.Sprint(gotCodes) != fmt.Sprint(wantCodes) {
		t.Errorf("rejected reason codes %v, want %v", gotCodes, wantCodes)
	}
	// The raw key and value survive byte for byte, through snappy and kcat's key delimiter.
	var gotRejected []string
	for _, row := range e.query(`SELECT key, value FROM staging.kcat_events_rejected`) {
		gotRejected = append(gotRejected, fmt.Sprintf("%s|%s", row[0], row[1]))
	}
	var wantRejected []string
	for _, l := range input {
		if strings.HasPrefix(l, "bad-") {
			wantRejected = append(wantRejected, l)
		}
	}
	slices.Sort(gotRejected)
	slices.Sort(wantRejected)
	if !slices.Equal(gotRejected, wantRejected) {
		t.Errorf("rejected key|value rows:\n%q\nwant\n%q", gotRejected, wantRejected)
	}

	// The tables and the consumer group both sit at the topic's end offsets.
	for _, tbl := range []string{"staging.kcat_events", "staging.kcat_events_rejected"} {
		if stored := e.storedOffsets(tbl); fmt.Sprint(stored) != fmt.Sprint(ends) {
			t.Errorf("%s stores offsets %v, want the end offsets %v", tbl, stored, ends)
		}
	}
	adm := kadm.NewClient(e.client())
	fetched, err := adm.FetchOffsets(context.Background(), "bigfather-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := fetched.Error(); err != nil {
		t.Fatalf("fetching group offsets: %v", err)
	}
	var committed int64
	for tp, end := range ends {
		o, ok := fetched.Lookup(tp.Topic, tp.Partition)
		switch {
		case !ok:
			t.Errorf("group bigfather-test committed nothing for partition %d (end %d)", tp.Partition, end)
		case o.At != end:
			t.Errorf("group bigfather-test committed %d for partition %d, want the end offset %d", o.At, tp.Partition, end)
		}
		committed += o.At
	}
	if committed != valid+bad {
		t.Errorf("group offsets sum to %d, want %d", committed, valid+bad)
	}

	// kcat reads every record back, key and value intact.
	out := runKcat(t, kcat, "-C", "-b", e.broker.Addr(), "-t", topic, "-e", "-q", "-f", `%k|%s\n`)
	got := lines(out)
	want := slices.Clone(input)
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != valid+bad || !slices.Equal(got, want) {
		t.Errorf("kcat read back %d records, want the %d produced (equal: %v)", len(got), valid+bad, slices.Equal(got, want))
	}

	// kcat's metadata lists the topic with 8 partitions, each with a leader.
	var md struct {
		Topics []struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition int32 `json:"partition"`
				Leader    int32 `json:"leader"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	raw := runKcat(t, kcat, "-L", "-J", "-b", e.broker.Addr())
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		t.Fatalf("parsing kcat -L -J output: %v\n%s", err, raw)
	}
	found := false
	for _, tm := range md.Topics {
		if tm.Topic != topic {
			continue
		}
		found = true
		var parts []int32
		for _, pm := range tm.Partitions {
			parts = append(parts, pm.Partition)
			if pm.Leader < 0 {
				t.Errorf("kcat -L: partition %d has no leader", pm.Partition)
			}
		}
		slices.Sort(parts)
		if !slices.Equal(parts, []int32{0, 1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("kcat -L lists partitions %v of %s, want 0..7", parts, topic)
		}
	}
	if !found {
		t.Errorf("kcat -L does not list topic %s:\n%s", topic, raw)
	}

	// kcat 1.7 has no command that prints a group's offsets, but a kcat group consumer resumes from them:
	// joining bigfather-test (without committing) finds nothing left to read, whereas a group without offsets
	// starts from the beginning and reads everything.
	groupRead := func(group string) int {
		out := runKcat(t, kcat, "-b", e.broker.Addr(), "-G", group, "-X", "auto.offset.reset=earliest",
			"-X", "enable.auto.commit=false", "-e", "-q", topic)
		if strings.TrimSpace(out) == "" {
			return 0
		}
		return len(lines(out))
	}
	if n := groupRead("kcat-control"); n != valid+bad {
		t.Errorf("kcat in a fresh group read %d records, want all %d", n, valid+bad)
	}
	if n := groupRead("bigfather-test"); n != 0 {
		t.Errorf("kcat in group bigfather-test read %d records past the committed offsets, want 0", n)
	}
	t.Logf("kcat interop took %v", time.Since(start).Round(time.Millisecond))
}

// runKcat runs kcat with args and returns its standard output; it fails the test on error or after 30s.
func runKcat(t *testing.T, kcat string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// sumOffsets adds up offsets over all partitions.
func sumOffsets(o lake.Offsets) int64 {
	var n int64
	for _, v := range o {
		n += v
	}
	return n
}
