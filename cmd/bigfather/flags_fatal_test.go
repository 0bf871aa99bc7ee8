package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestStageFlagErrors (issue 6, item 9): bad --session-timeout values are usage errors (exit 2) naming the
// allowed range, and a duration too large to represent says so, before anything connects.
func TestStageFlagErrors(t *testing.T) {
	cases := []struct{ value, want string }{
		{"-1s", `bigfather: stage: invalid value "-1s" for flag -session-timeout: -1s is outside the allowed range 6s to 30m0s`},
		{"1ms", `bigfather: stage: invalid value "1ms" for flag -session-timeout: 1ms is outside the allowed range 6s to 30m0s`},
		{"1000h", `bigfather: stage: invalid value "1000h" for flag -session-timeout: 1000h0m0s is outside the allowed range 6s to 30m0s`},
		{"100000000h", `bigfather: stage: invalid value "100000000h" for flag -session-timeout: "100000000h" is too large (the longest duration is 2562047h47m16.854775807s)`},
		{"soon", `bigfather: stage: invalid value "soon" for flag -session-timeout: expected a duration like 10s, got "soon"`},
	}
	for _, tc := range cases {
		code, _, stderr := runBin(t, "stage", "--config", "nonexistent.yaml", "--session-timeout", tc.value)
		if code != 2 {
			t.Errorf("--session-timeout %s: exit %d, want 2", tc.value, code)
		}
		ls := lines(stderr) // the flag package prints the usage first
		if got := strings.TrimSpace(ls[len(ls)-1]); got != tc.want {
			t.Errorf("--session-timeout %s:\n got %s\nwant %s", tc.value, got, tc.want)
		}
	}
}

// TestDuplicateInstanceID (issue 6, item 8): a second process started with the same --instance-id fences the
// first; the fenced one stops with exit 1 and a message naming the id instead of fencing the other back
// forever, and the survivor stages everything.
func TestDuplicateInstanceID(t *testing.T) {
	e := newEnv(t)
	topic := "dup.instance"
	createTopic(t, e, topic, 2)
	cfg := e.writeConfig(topic, "dup_instance", "{interval: 1s, max_rows: 100000}")
	first := e.startStage(cfg, "--instance-id", "twin", "--session-timeout", "6s")
	waitFor(t, 60*time.Second, "the first process to own partitions", func() bool {
		return strings.Contains(readFile(first.log), "partitions assigned")
	})
	second := e.startStage(cfg, "--instance-id", "twin", "--session-timeout", "6s")
	var fenced, survivor *stageProc
	select {
	case <-first.done:
		fenced, survivor = first, second
	case <-second.done:
		fenced, survivor = second, first
	case <-time.After(60 * time.Second):
		t.Fatalf("neither process stopped within 60s; first:\n%s\nsecond:\n%s", first.tail(), second.tail())
	}
	if code := fenced.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("fenced process exited %d, want 1", code)
	}
	want := `another process joined consumer group bigfather-test with the same --instance-id "twin-test" (FENCED_INSTANCE_ID): every process needs its own instance id; stopping this one`
	if !strings.Contains(fenced.tail(), want) {
		t.Errorf("fenced process log lacks %q:\n%s", want, fenced.tail())
	}
	var recs []*kgo.Record
	for i := range 500 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: eventJSON(fmt.Sprintf("d-%d", i), i)})
	}
	produceTo(t, e, topic, recs)
	e.finish(survivor, topic, "staging.dup_instance")
	e.assertRows("staging.dup_instance", 500)
}
