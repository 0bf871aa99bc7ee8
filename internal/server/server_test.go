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
	const (
		starting = `"pipelines":{"game":{"state":"starting"}}`
		running  = `"pipelines":{"game":{"state":"running","last_commit":"2026-11-21T10:00:00Z"}}`
		failing  = `"pipelines":{"game":{"state":"failing","last_commit":"2026-11-21T10:00:00Z","last_error":"committing to staging.x: disk full","error_since":"2026-11-21T10:01:00Z"}}`
		back     = `"pipelines":{"game":{"state":"running","last_commit":"2026-11-21T10:02:00Z"}}`
		bad      = `pipeline game failing since 2026-11-21T10:01:00Z: committing to staging.x: disk full`
	)
	cases := []struct {
		name      string
		update    func()
		healthz   string
		readyCode int
		readyz    string
	}{
		{"starting", func() { h.Starting("game") }, `{"status":"alive",` + starting + `}`,
			200, `{"status":"ready","checks":[{"name":"pipelines","ok":true}],` + starting + `}`},
		{"running", func() { h.Committed("game", at) }, `{"status":"alive",` + running + `}`,
			200, `{"status":"ready","checks":[{"name":"pipelines","ok":true}],` + running + `}`},
		{"failing", func() { h.Failed("game", errors.New("committing to staging.x: disk full"), at.Add(time.Minute)) }, `{"status":"alive",` + failing + `}`,
			503, `{"status":"not ready","error":"pipelines: ` + bad + `","checks":[{"name":"pipelines","ok":false,"message":"` + bad + `"}],` + failing + `}`},
		{"recovered", func() { h.Committed("game", at.Add(2*time.Minute)) }, `{"status":"alive",` + back + `}`,
			200, `{"status":"ready","checks":[{"name":"pipelines","ok":true}],` + back + `}`},
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + srv.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	for _, tc := range cases {
		tc.update()
		// /healthz: alive whatever the pipelines do; /readyz: 503 naming the failing check.
		if code, body := get("/healthz"); code != 200 || body != tc.healthz {
			t.Errorf("%s /healthz: got %d %s\nwant 200 %s", tc.name, code, body, tc.healthz)
		}
		if code, body := get("/readyz"); code != tc.readyCode || body != tc.readyz {
			t.Errorf("%s /readyz: got %d %s\nwant %d %s", tc.name, code, body, tc.readyCode, tc.readyz)
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
	// Every request is counted by handler family, method and code: 4 /healthz and 3 /readyz answered 200,
	// one /readyz 503.
	for _, want := range []string{
		`bigfather_http_requests_total{code="200",handler="health",method="GET"} 7`,
		`bigfather_http_requests_total{code="503",handler="health",method="GET"} 1`,
		`bigfather_http_request_duration_seconds_count{handler="health"} 8`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
