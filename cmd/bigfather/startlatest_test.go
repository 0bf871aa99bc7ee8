package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestStartLatestSurvivesCrash (issue 6, item 3): with start: latest, the position is resolved once, at the
// first assignment, and stored in the tables before anything is consumed. Records produced after that and
// before the first commit are staged after a SIGKILL and a restart, not skipped by resolving "latest" again;
// records produced before the first start are not staged.
func TestStartLatestSurvivesCrash(t *testing.T) {
	e := newEnv(t)
	topic := "latest.events"
	createTopic(t, e, topic, 4)
	var before []*kgo.Record
	for i := range 200 {
		before = append(before, &kgo.Record{Partition: int32(i % 4), Value: eventJSON(fmt.Sprintf("old-%d", i), i)})
	}
	produceTo(t, e, topic, before)
	// A long commit interval: the process is killed before its first commit.
	cfg := e.writePipelineConfig(topic, "latest_events", "{interval: 10m, max_rows: 1000000}", "    start: latest\n")
	p := e.startStage(cfg)
	waitFor(t, 60*time.Second, "the start position to be stored", func() bool {
		return strings.Contains(readFile(p.log), "start: latest resolved and stored")
	})
	stored := e.storedOffsets("staging.latest_events")
	for part := range int32(4) {
		if got := stored.Get(tp(topic, part)); got != 50 {
			t.Errorf("partition %d: stored start %d, want 50 (the end offset at assignment)", part, got)
		}
	}
	var after []*kgo.Record
	for i := range 1000 {
		after = append(after, &kgo.Record{Partition: int32(i % 4), Value: eventJSON(fmt.Sprintf("new-%d", i), i)})
	}
	produceTo(t, e, topic, after)
	time.Sleep(time.Second) // let it consume some; killed before any commit either way
	p.kill(t)

	// The restart (now committing every second) resumes from the stored start, whatever arrived meanwhile.
	cfg = e.writePipelineConfig(topic, "latest_events", "{interval: 1s, max_rows: 1000000}", "    start: latest\n")
	e.finish(e.startStage(cfg), topic, "staging.latest_events")
	e.assertRows("staging.latest_events", 1000)
	if got := e.queryInt("select count(*) from staging.latest_events where event_id like 'old-%'"); got != 0 {
		t.Errorf("%d records from before the first start were staged", got)
	}
}

// TestGrowingPartitions (issue 7): partitions a topic gains while staging runs are found within a metadata
// refresh and read from their first record, even under start: latest, so nothing produced to them before the
// stage noticed them is lost.
func TestGrowingPartitions(t *testing.T) {
	e := newEnv(t)
	topic := "growing.events"
	createTopic(t, e, topic, 2)
	cfg := e.writePipelineConfig(topic, "growing_events", "{interval: 1s, max_rows: 1000000}", "    start: latest\n")
	p := e.startStage(cfg)
	waitFor(t, 60*time.Second, "the start position to be stored", func() bool {
		return strings.Contains(readFile(p.log), "start: latest resolved and stored")
	})
	var recs []*kgo.Record
	for i := range 400 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: eventJSON(fmt.Sprintf("g-%d", i), i)})
	}
	produceTo(t, e, topic, recs)
	waitFor(t, 60*time.Second, "the first partitions committed", func() bool { return e.caughtUp(topic, "staging.growing_events") })

	resp, err := kadm.NewClient(e.client()).CreatePartitions(context.Background(), 2, topic)
	if err != nil || resp[topic].Err != nil {
		t.Fatalf("adding partitions: %v %v", err, resp[topic].Err)
	}
	recs = recs[:0]
	for i := 400; i < 1000; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(2 + i%2), Value: eventJSON(fmt.Sprintf("g-%d", i), i)})
	}
	produceTo(t, e, topic, recs) // before the stage can know the new partitions
	e.finish(p, topic, "staging.growing_events")
	e.assertRows("staging.growing_events", 1000)
	stored := e.storedOffsets("staging.growing_events")
	for part := range int32(4) {
		want := int64(200)
		if part >= 2 {
			want = 300
		}
		if got := stored.Get(tp(topic, part)); got != want {
			t.Errorf("partition %d: stored %d, want %d", part, got, want)
		}
	}
}
