package derived

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
)

// syncBuffer is a bytes.Buffer safe for the runner's logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunnerRefreshesEachTableAndSurvivesErrors(t *testing.T) {
	w := newWorld(t)
	w.firstDays()
	var logs syncBuffer
	good := spend
	good.Refresh = 10 * time.Millisecond
	bad := config.DerivedTable{Name: "analytics.broken", SQL: `SELECT nope AS day FROM staging.src`, Partition: "day", Refresh: 10 * time.Millisecond}
	r := &Runner{Lake: w.lk, Tables: []config.DerivedTable{bad, good},
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	waitFor(t, "the first refresh", func() bool { return strings.Contains(logs.String(), "derived table refreshed") })

	w.appendEvents(ev{"2024-05-03 10:00", "p1", 4})
	want := append(slices.Clone(firstSpend[:4]), "2024-05-03|p1|4|1", "2024-05-03|p2|6|2")
	waitFor(t, "the late event", func() bool { return slices.Equal(w.query(readSpend, "analytics.daily_spend"), want) })
	waitFor(t, "the broken table to fail again", func() bool {
		return strings.Count(logs.String(), "derived table refresh failed") >= 2
	})
	waitFor(t, "a refresh with nothing new", func() bool {
		return strings.Contains(logs.String(), `msg="derived table is up to date" table=analytics.daily_spend`)
	})
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	out := logs.String()
	for _, want := range []string{
		`level=ERROR msg="derived table refresh failed" table=analytics.broken err="derived table analytics.broken: sql: running query: Binder Error: Referenced column \"nope\" not found in FROM clause!`,
		`level=INFO msg="derived table refreshed" table=analytics.daily_spend full=false reason="" partitions=[2024-05-03] rows=2`,
		`level=DEBUG msg="derived table is up to date" table=analytics.daily_spend`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s\nlog:\n%s", want, out)
		}
	}
}

func TestRunnerWithoutTablesReturns(t *testing.T) {
	(&Runner{}).Run(context.Background())
}
