package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// policyRecords is 100 valid events on partition 0 with a malformed one at offset 50 (and, for dlq/skip, four
// more malformed ones at the end).
func policyRecords(extraBad bool) (recs []*kgo.Record) {
	for i := 0; i < 100; i++ {
		if i == 50 {
			v, _ := malformed(3) // wrong_type: level "ten"
			recs = append(recs, &kgo.Record{Partition: 0, Value: v})
		}
		recs = append(recs, &kgo.Record{Partition: 0, Value: gameEvent(i)})
	}
	if extraBad {
		for i := 0; i < 4; i++ {
			v, _ := malformed(i)
			recs = append(recs, &kgo.Record{Partition: 0, Value: v})
		}
	}
	return recs
}

func TestRejectionPolicies(t *testing.T) {
	t.Run("dlq", func(t *testing.T) {
		e := newEnv(t)
		createTopic(t, e, "pol.events", 1)
		cfg := e.writeQualityConfig("pol.events", "pol_events", "    on_reject: {policy: dlq, dlq_topic: pol.dlq}\n")
		produceTo(t, e, "pol.events", policyRecords(true))
		e.finish(e.startStage(cfg), "pol.events", "staging.pol_events", "staging.pol_events_rejected")
		e.assertRows("staging.pol_events", 100)
		if got := e.queryInt("select count(*) from staging.pol_events_rejected"); got != 5 {
			t.Errorf("rejected table holds %d rows, want 5", got)
		}
		rows := e.query("select reason_code, field, reason from staging.pol_events_rejected where _offset = 50")
		if len(rows) != 1 || fmt.Sprint(rows[0]) != `[wrong_type level field "level": expected an integer (int), got string "ten"]` {
			t.Errorf("rejected row at offset 50: %v", rows)
		}
		// The DLQ topic holds the same five records with the reason in headers.
		cl := e.client(kgo.ConsumeTopics("pol.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		var got []*kgo.Record
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for len(got) < 5 && ctx.Err() == nil {
			got = append(got, cl.PollFetches(ctx).Records()...)
		}
		if len(got) != 5 {
			t.Fatalf("DLQ topic has %d records, want 5", len(got))
		}
		// The DLQ topic has several partitions: find the record of offset 50 by its key.
		var r *kgo.Record
		for _, g := range got {
			if string(g.Key) == "pol.events/0/50" {
				r = g
			}
		}
		if r == nil {
			t.Fatalf("no DLQ record keyed pol.events/0/50 among %d", len(got))
		}
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if h["bigfather.reason_code"] != "wrong_type" || h["bigfather.source"] != "pol.events/0/50" ||
			h["bigfather.reason"] != `field "level": expected an integer (int), got string "ten"` {
			t.Errorf("DLQ record of offset 50: headers %v", h)
		}
	})

	t.Run("skip", func(t *testing.T) {
		e := newEnv(t)
		createTopic(t, e, "skip.events", 1)
		cfg := e.writeQualityConfig("skip.events", "skip_events", "    on_reject: {policy: skip}\n")
		produceTo(t, e, "skip.events", policyRecords(true))
		addr := loopbackAddr(t)
		p := e.startStage(cfg, "--http", addr)
		e.finish(p, "skip.events", "staging.skip_events")
		e.assertRows("staging.skip_events", 100)
		lk := e.openLake()
		defer lk.Close()
		if _, err := lk.LoadTable(context.Background(), "staging.skip_events_rejected"); err == nil {
			t.Error("the skip policy created a rejected table")
		}
		if !strings.Contains(readFile(p.log), "stopped after the final commit") {
			t.Errorf("log:\n%s", p.tail())
		}
	})

	t.Run("pause", func(t *testing.T) {
		e := newEnv(t)
		createTopic(t, e, "pause.events", 1)
		cfg := e.writeQualityConfig("pause.events", "pause_events", "    on_reject: {policy: pause}\n")
		produceTo(t, e, "pause.events", policyRecords(false))
		addr := loopbackAddr(t)
		p := e.startStage(cfg, "--http", addr)
		paused := func() bool {
			code, body := httpGet("http://" + addr + "/readyz")
			return code == http.StatusOK && strings.Contains(body, `"state":"paused"`) &&
				strings.Contains(body, `record pause.events/0@50 rejected: wrong_type: field \"level\": expected an integer (int), got string \"ten\"`)
		}
		defer func() {
			if t.Failed() {
				_, body := httpGet("http://" + addr + "/readyz")
				t.Logf("readyz: %s\nlog:\n%s", body, p.tail())
			}
		}()
		waitFor(t, 30*time.Second, "the pipeline to pause at offset 50", paused)
		// Everything before the blocking record is committed; nothing after it.
		waitFor(t, 10*time.Second, "the rows before the blocking record", func() bool {
			return e.storedOffsets("staging.pause_events").Get(tp("pause.events", 0)) == 50
		})
		e.assertRows("staging.pause_events", 50)

		post := func(action string) (int, string) {
			resp, err := http.Post("http://"+addr+"/api/v1/pipelines/test/resume?action="+action, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 512)
			n, _ := resp.Body.Read(buf)
			return resp.StatusCode, string(buf[:n])
		}
		if code, body := post("explode"); code != http.StatusBadRequest ||
			!strings.Contains(body, `{"error":{"code":"bad_parameter","message":"action: expected one of retry, skip, got \"explode\"","param":"action"}}`) {
			t.Errorf("bad action: %d %s", code, body)
		}
		// Retry reads the record again: still invalid, so it pauses again at the same place.
		if code, body := post("retry"); code != http.StatusOK {
			t.Fatalf("resume retry: %d %s", code, body)
		}
		waitFor(t, 30*time.Second, "the pipeline to pause again at offset 50", func() bool {
			return strings.Count(readFile(p.log), "pipeline paused at a rejected record") == 2 && paused()
		})
		// Skip drops the blocking record and goes on.
		if code, body := post("skip"); code != http.StatusOK {
			t.Fatalf("resume skip: %d %s", code, body)
		}
		e.finish(p, "pause.events", "staging.pause_events")
		e.assertRows("staging.pause_events", 100)
	})
}
