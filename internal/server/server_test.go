package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/monitor"
)

func TestHealthz(t *testing.T) {
	m, h := monitor.NewMetrics(), monitor.NewHealth()
	srv, err := New("127.0.0.1:0", Options{Metrics: m, Health: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		update   func()
		wantCode int
		wantBody string
	}{
		{"starting", func() { h.Starting("game") }, 200, `{"status":"ok","pipelines":{"game":{"state":"starting"}}}`},
		{"running", func() { h.Committed("game", at) }, 200, `{"status":"ok","pipelines":{"game":{"state":"running","last_commit":"2026-11-21T10:00:00Z"}}}`},
		{"failing", func() { h.Failed("game", errors.New("committing to staging.x: disk full"), at.Add(time.Minute)) }, 503,
			`{"status":"unhealthy","error":"pipeline game failing since 2026-11-21T10:01:00Z: committing to staging.x: disk full","pipelines":{"game":{"state":"failing","last_commit":"2026-11-21T10:00:00Z","last_error":"committing to staging.x: disk full","error_since":"2026-11-21T10:01:00Z"}}}`},
		{"recovered", func() { h.Committed("game", at.Add(2*time.Minute)) }, 200, `{"status":"ok","pipelines":{"game":{"state":"running","last_commit":"2026-11-21T10:02:00Z"}}}`},
	}
	for _, tc := range cases {
		tc.update()
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get("http://" + srv.Addr() + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode || strings.TrimSpace(string(body)) != tc.wantBody {
				t.Errorf("%s %s: got %d %s\nwant %d %s", tc.name, path, resp.StatusCode, body, tc.wantCode, tc.wantBody)
			}
		}
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("/metrics: %d, go_goroutines missing", resp.StatusCode)
	}
}
