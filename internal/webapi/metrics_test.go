package webapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/metrics"
	"github.com/bigfather/bigfather/internal/webapi"
)

// metricsConfig declares the game pack (with sessions and a funnel) over a table nothing has staged yet.
const metricsConfig = `kafka:
  brokers: ["127.0.0.1:9"]
warehouse: /tmp/warehouse
catalog:
  uri: sqlite:///tmp/catalog.db
pipelines:
  - name: events
    topics: [game.events]
    table:
      name: staging.events
      columns:
        - {name: event_id, type: string, required: true}
        - {name: event_time, type: timestamp, required: true}
        - {name: player_id, type: string, required: true}
        - {name: event_type, type: string, required: true}
        - {name: amount, type: double}
        - {name: platform, type: string}
metrics:
  - pack: game
    table: staging.events
    dimensions: [platform]
    session_event: session_start
    steps: [session_start, purchase]
    retention_days: [1, 7, 30]
`

// get answers GET path from srv: the status, the Content-Type and Content-Disposition, and the body.
func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + api.Prefix + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestMetricsAPI: GET /api/v1/metrics lists the configured metrics as the service describes them; GET
// /api/v1/metrics/{name} answers the service's result (nothing computed yet: no rows) as JSON or, with
// format=csv, as a CSV download named after the metric and range; an unknown metric is a 404 naming it, the
// service's bad parameters are 400s naming the parameter, as is an unknown format.
func TestMetricsAPI(t *testing.T) {
	cfg, err := config.Parse("bigfather.yaml", []byte(metricsConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(config.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lk, err := lake.Open(t.Context(), "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	log := slog.New(slog.DiscardHandler)
	svc, err := metrics.New(lk, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(nil, nil, log)
	a.Add((&webapi.Platform{Config: cfg, Lake: lk, GameMetrics: svc, Log: log}).Modules()...)
	srv := httptest.NewServer(a)
	defer srv.Close()

	t.Run("list", func(t *testing.T) {
		code, _, body := get(t, srv, "/metrics")
		var got struct{ Metrics []metrics.Info }
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics: %d %s (%v)", code, body, err)
		}
		if want := svc.List(); !slices.EqualFunc(got.Metrics, want, func(a, b metrics.Info) bool {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			return string(ja) == string(jb)
		}) || len(want) != 12 {
			t.Errorf("GET /metrics lists %+v\nwant the service's 12 %+v", got.Metrics, want)
		}
	})

	for _, tc := range []struct {
		name, path, body string
		status           int
		csv              string // the Content-Disposition of a CSV answer
	}{
		{"no rows yet", "/metrics/dau?from=2026-11-01&to=2026-11-30", `{"metric":"dau","from":"2026-11-01","to":"2026-11-30","complete_until":null,"rows":[],` +
			`"kind":"active_users","chart":"line","unit":"players","source":{"table":"staging.events","snapshot_id":0,"refreshed_at":"0001-01-01T00:00:00Z"},` +
			`"gaps":{"known":false,"count":0,"missing":0,"days":[]}}` + "\n", 200, ""},
		{"broken down", "/metrics/retention?from=2026-11-01&to=2026-11-30&by=platform&format=json", `{"metric":"retention","from":"2026-11-01","to":"2026-11-30","by":"platform","complete_until":null,"rows":[],` +
			`"kind":"retention","chart":"heatmap","unit":"ratio","source":{"table":"staging.events","snapshot_id":0,"refreshed_at":"0001-01-01T00:00:00Z"},` +
			`"gaps":{"known":false,"count":0,"missing":0,"days":[]}}` + "\n", 200, ""},
		{"csv", "/metrics/funnel?from=2026-11-01&to=2026-11-30&format=csv", "day,step,event,value\n", 200, `attachment; filename="funnel_2026-11-01_2026-11-30.csv"`},
		{"unknown metric", "/metrics/nope", `{"error":{"code":"not_found","message":"no metric \"nope\""}}` + "\n", 404, ""},
		{"unknown metric as csv", "/metrics/nope?format=csv", `{"error":{"code":"not_found","message":"no metric \"nope\""}}` + "\n", 404, ""},
		{"bad format", "/metrics/dau?format=xml", `{"error":{"code":"bad_parameter","message":"format: expected one of json, csv, got \"xml\"","param":"format"}}` + "\n", 400, ""},
		{"bad from", "/metrics/dau?from=2026-13-01", `{"error":{"code":"bad_parameter","message":"from: expected a day as YYYY-MM-DD, got \"2026-13-01\"","param":"from"}}` + "\n", 400, ""},
		{"to before from", "/metrics/dau?from=2026-11-02&to=2026-11-01", `{"error":{"code":"bad_parameter","message":"to: 2026-11-01 is before from 2026-11-02","param":"to"}}` + "\n", 400, ""},
		{"unknown dimension", "/metrics/dau?by=country&format=csv", `{"error":{"code":"bad_parameter","message":"by: metric dau has no dimension \"country\" (expected one of: platform)","param":"by"}}` + "\n", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := get(t, srv, tc.path)
			if code != tc.status || body != tc.body {
				t.Errorf("GET %s: %d %s\nwant %d %s", tc.path, code, body, tc.status, tc.body)
			}
			ctype, disp := "application/json", ""
			if tc.csv != "" {
				ctype, disp = "text/csv; charset=utf-8", tc.csv
			}
			if h.Get("Content-Type") != ctype || h.Get("Content-Disposition") != disp {
				t.Errorf("GET %s: Content-Type %q, Content-Disposition %q; want %q, %q", tc.path, h.Get("Content-Type"), h.Get("Content-Disposition"), ctype, disp)
			}
		})
	}
}

// TestMetricsNotConfigured: a process without a metrics service (the config declares none) answers both
// metrics routes with a 404 saying so.
func TestMetricsNotConfigured(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	a := api.New(nil, nil, log)
	a.Add((&webapi.Platform{Log: log}).Modules()...)
	srv := httptest.NewServer(a)
	defer srv.Close()
	const body = `{"error":{"code":"not_found","message":"no metrics are configured"}}` + "\n"
	for _, path := range []string{"/metrics", "/metrics/dau", "/metrics/dau?from=2026-01-01&to=2026-01-31&format=csv"} {
		code, _, got := get(t, srv, path)
		if code != http.StatusNotFound || got != body {
			t.Errorf("GET %s: %d %s\nwant 404 %s", path, code, got, body)
		}
	}
}
