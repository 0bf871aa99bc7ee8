package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/crypto/bcrypt"

	"github.com/bigfather/bigfather/internal/demo"
)

// TestAPIRoutes walks every route of api/openapi.json against `bigfather up --demo` with users and bearer
// tokens configured: per route a success, bad input (400 naming the parameter), an unknown object (404), no
// credentials (401) and a role too low (403); for mutating routes also a session without its CSRF token and a
// foreign Origin (403). A route of the file without a case here fails the test, so a new route needs one. At
// the end the audit log must hold exactly the mutating calls made, in order.
func TestAPIRoutes(t *testing.T) {
	routes := openAPIRoutes(t)
	cases := apiRouteCases()
	for _, rt := range routes {
		if _, ok := cases[rt.key()]; !ok {
			t.Errorf("api/openapi.json lists %s but TestAPIRoutes has no case for it: add one to apiRouteCases", rt.key())
		}
	}
	for key := range cases {
		if !slices.ContainsFunc(routes, func(rt apiRoute) bool { return rt.key() == key }) {
			t.Errorf("apiRouteCases has a case for %s, which api/openapi.json does not list", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	s := startAPIPlatform(t)
	s.routes = routes
	// One session per role, through the login route (audited like every mutating call).
	for _, role := range []string{"viewer", "operator", "admin"} {
		s.sessions[role] = s.login(t, s.users[role])
	}

	for _, rt := range routes {
		t.Run(rt.key(), func(t *testing.T) {
			c := cases[rt.key()]
			s.checkAccess(t, rt, c)
			c.run(t, s, rt)
		})
	}
	t.Run("unknown route", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			status       int
			code         string
		}{
			{http.MethodGet, "/no-such-route", http.StatusNotFound, "not_found"},
			{http.MethodGet, "/pipelines/game-events/no-such-page", http.StatusNotFound, "not_found"},
			{http.MethodDelete, "/pipelines", http.StatusMethodNotAllowed, "method_not_allowed"},
			{http.MethodGet, "/pipelines/game-events/pause", http.StatusMethodNotAllowed, "method_not_allowed"},
		} {
			s.expectError(t, apiRoute{Method: c.method}, apiRequest{path: c.path, as: s.tokens["admin"]}, c.status, c.code, "")
		}
	})
	t.Run("login throttling", func(t *testing.T) { s.checkLoginThrottle(t) })
	t.Run("audit log", func(t *testing.T) { s.checkAuditLog(t) })
}

// apiRouteCase is what TestAPIRoutes does with one route beyond the access checks every route gets.
type apiRouteCase struct {
	// path (under /api/v1, with a query when one is needed) and body make a request the route answers with
	// success for a caller allowed to; the access checks use them.
	path, body string
	// run makes the route's success, bad-input and unknown-object requests.
	run func(t *testing.T, s *apiSuite, rt apiRoute)
}

// apiRouteCases are the cases by route ("METHOD /api/v1/path" as api/openapi.json writes it).
func apiRouteCases() map[string]apiRouteCase {
	return map[string]apiRouteCase{
		"GET /api/v1/audit": {path: "/audit", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []auditEntry `json:"items"`
				More  bool         `json:"more"`
			}
			s.expect(t, rt, apiRequest{path: "/audit?limit=2", as: s.tokens["admin"]}, http.StatusOK).decode(t, &page)
			if len(page.Items) != 2 || !page.More || page.Items[0].ID <= page.Items[1].ID {
				t.Fatalf("first page of 2: %+v, want 2 entries newest first and more", page)
			}
			second := page.Items[1]
			s.expect(t, rt, apiRequest{path: fmt.Sprintf("/audit?limit=1&before_id=%d", page.Items[0].ID), as: s.tokens["admin"]}, http.StatusOK).decode(t, &page)
			if len(page.Items) != 1 || page.Items[0] != second {
				t.Errorf("the page before entry %d: %+v, want %+v", second.ID+1, page.Items, second)
			}
			s.expect(t, rt, apiRequest{path: "/audit?actor=operator&limit=500", as: s.tokens["admin"]}, http.StatusOK).decode(t, &page)
			if len(page.Items) == 0 || page.More {
				t.Errorf("entries of operator: %d, more %v; want the operator's login", len(page.Items), page.More)
			}
			for _, e := range page.Items {
				if e.Actor != "operator" {
					t.Errorf("actor=operator lists an entry of %q", e.Actor)
				}
			}
			s.expect(t, rt, apiRequest{path: "/audit?limit=500", as: s.tokens["admin"]}, http.StatusOK)
			s.expectError(t, rt, apiRequest{path: "/audit?limit=0", as: s.tokens["admin"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/audit?limit=501", as: s.tokens["admin"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/audit?before_id=-1", as: s.tokens["admin"]}, http.StatusBadRequest, "bad_parameter", "before_id")
			s.expectError(t, rt, apiRequest{path: "/audit?before_id=x", as: s.tokens["admin"]}, http.StatusBadRequest, "bad_parameter", "before_id")
		}},

		"GET /api/v1/monitor": {path: "/monitor", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var r struct {
				Checks []struct {
					Name string `json:"name"`
					OK   bool   `json:"ok"`
				} `json:"checks"`
				Pipelines []struct {
					Name       string `json:"name"`
					Status     string `json:"status"`
					Processes  int    `json:"processes"`
					Partitions []struct {
						Topic     string `json:"topic"`
						Committed int64  `json:"committed"`
						End       int64  `json:"end"`
					} `json:"partitions"`
					Tables []struct {
						Name string `json:"name"`
					} `json:"tables"`
				} `json:"pipelines"`
				Kafka struct {
					Brokers []struct {
						Reachable bool `json:"reachable"`
					} `json:"brokers"`
				} `json:"kafka"`
			}
			// The monitor samples every 10 s (monitor.interval): wait for a sample taken after the first commits.
			waitFor(t, 30*time.Second, "a monitor sample with the pipeline's partitions", func() bool {
				s.expect(t, rt, apiRequest{path: "/monitor", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &r)
				return len(r.Pipelines) == 1 && len(r.Pipelines[0].Partitions) > 0 && len(r.Checks) == 4 && r.Checks[3].OK
			})
			var checks []string
			for _, c := range r.Checks {
				checks = append(checks, fmt.Sprintf("%s=%v", c.Name, c.OK))
			}
			if got := strings.Join(checks, " "); got != "kafka=true catalog=true warehouse=true pipelines=true" {
				t.Errorf("checks %s", got)
			}
			if len(r.Pipelines) != 1 || r.Pipelines[0].Name != "game-events" || r.Pipelines[0].Processes != 1 || len(r.Pipelines[0].Partitions) == 0 {
				t.Fatalf("pipelines %+v, want game-events run by one process, with its partitions", r.Pipelines)
			}
			for _, p := range r.Pipelines[0].Partitions {
				if p.Topic != "game.events" || p.Committed < 0 || p.End < p.Committed {
					t.Errorf("partition %+v", p)
				}
			}
			if len(r.Kafka.Brokers) != 1 || !r.Kafka.Brokers[0].Reachable {
				t.Errorf("brokers %+v, want the embedded broker, reachable", r.Kafka.Brokers)
			}
		}},
		"GET /api/v1/alerts": {path: "/alerts", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct {
					Rule  string `json:"rule"`
					State string `json:"state"`
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/alerts", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if page.Items == nil {
				t.Error("items is not a list")
			}
			for _, a := range page.Items {
				if a.State != "pending" && a.State != "firing" {
					t.Errorf("alert %+v: state is neither pending nor firing", a)
				}
			}
		}},
		"GET /api/v1/alerts/rules": {path: "/alerts/rules", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct {
					Name, Condition, Severity, Runbook string
					RunbookURL                         string `json:"runbook_url"`
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/alerts/rules", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if len(page.Items) != 13 {
				t.Fatalf("%d rules, want the 13 built-in ones", len(page.Items))
			}
			if r := page.Items[0]; r.Name != "BigFatherPipelineError" || r.Severity != "critical" || r.Runbook != "err" ||
				r.Condition != `max without (status) (bigfather_pipeline_status{status="ERR"}) == 1` || !strings.HasSuffix(r.RunbookURL, "/ui/runbooks/err") {
				t.Errorf("first rule %+v", r)
			}
		}},
		"GET /api/v1/schemas/usage": {path: "/schemas/usage", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			// The platform's one pipeline is JSON: no subject feeds a table (TestSchemaUsage covers registry
			// pipelines and the subject filter).
			for _, path := range []string{"/schemas/usage", "/schemas/usage?subject=game.events-value"} {
				body := s.expect(t, rt, apiRequest{path: path, as: s.tokens["viewer"]}, http.StatusOK)
				var page struct {
					Items []any `json:"items"`
				}
				body.decode(t, &page)
				if page.Items == nil || len(page.Items) != 0 {
					t.Errorf("%s: items %v, want an empty list", path, page.Items)
				}
			}
		}},
		"GET /api/v1/metrics": {path: "/metrics", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Metrics []struct {
					Name, Kind, Table, Chart, Unit string
					MaterializedAs                 string `json:"materialized_as"`
				} `json:"metrics"`
			}
			s.expect(t, rt, apiRequest{path: "/metrics", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if len(page.Metrics) != 1 {
				t.Fatalf("metrics %+v, want the config's one", page.Metrics)
			}
			if m := page.Metrics[0]; m.Name != "daily_players" || m.Kind != "active_users" || m.Table != "staging.game_events" ||
				m.Chart != "line" || m.Unit != "players" || m.MaterializedAs != "metrics.daily_players" {
				t.Errorf("metric %+v", m)
			}
		}},
		"GET /api/v1/metrics/{name}": {path: "/metrics/daily_players?from=2000-01-01&to=2099-12-31", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var res struct {
				Metric, From, To string
				Rows             []struct {
					Day   string
					Value *float64
				}
			}
			s.expect(t, rt, apiRequest{path: "/metrics/daily_players?from=2000-01-01&to=2099-12-31", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &res)
			if res.Metric != "daily_players" || res.From != "2000-01-01" || res.To != "2099-12-31" || res.Rows == nil {
				t.Errorf("result %+v", res)
			}
			for _, r := range res.Rows {
				if r.Value == nil || *r.Value < 1 {
					t.Errorf("row %+v: a day with data has at least one active player", r)
				}
			}
			s.expectError(t, rt, apiRequest{path: "/metrics/weekly_whales", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/metrics/daily_players?from=yesterday", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "from")
			s.expectError(t, rt, apiRequest{path: "/metrics/daily_players?by=platform", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "by")
		}},
		"GET /api/v1/runbooks": {path: "/runbooks", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct{ ID, Title string } `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/runbooks", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if len(page.Items) != 13 || page.Items[0].ID != "err" || page.Items[0].Title == "" {
				t.Errorf("runbooks %+v, want 13 starting with err", page.Items)
			}
		}},
		"GET /api/v1/runbooks/{id}": {path: "/runbooks/stall", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var rb struct {
				ID, Status string
				Actions    []string
				Rules      []string
			}
			s.expect(t, rt, apiRequest{path: "/runbooks/stall", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &rb)
			if rb.ID != "stall" || rb.Status != "STALL" || len(rb.Actions) == 0 || strings.Join(rb.Rules, ",") != "BigFatherPipelineStalled" {
				t.Errorf("runbook %+v", rb)
			}
			s.expectError(t, rt, apiRequest{path: "/runbooks/no-such-runbook", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},
		"GET /api/v1/groups": {path: "/groups", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct {
					Name   string   `json:"name"`
					Topics []string `json:"topics"`
				} `json:"items"`
				Total, Offset, Limit int
			}
			s.expect(t, rt, apiRequest{path: "/groups?search=GAME-events&limit=10", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Name != "bigfather-game-events" ||
				!slices.Equal(page.Items[0].Topics, []string{"game.events"}) || page.Limit != 10 {
				t.Errorf("groups matching GAME-events: %+v, want bigfather-game-events on game.events", page)
			}
			s.expect(t, rt, apiRequest{path: "/groups?search=no-such-group", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if page.Total != 0 || len(page.Items) != 0 {
				t.Errorf("groups matching no-such-group: %+v", page)
			}
			s.expectError(t, rt, apiRequest{path: "/groups?limit=0", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/groups?offset=-1", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "offset")
		}},

		"POST /api/v1/login": {path: "/login", body: `{"name": "viewer", "password": "viewer-password"}`, run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			sess := s.login(t, s.users["viewer"])
			if sess.cookie == "" || sess.csrf == "" {
				t.Errorf("login gave cookie %q and CSRF token %q", sess.cookie, sess.csrf)
			}
			s.secrets = append(s.secrets, "not-the-password")
			wrong := apiRequest{path: "/login", body: `{"name": "viewer", "password": "not-the-password"}`, as: nobody}
			s.expectError(t, rt, wrong, http.StatusUnauthorized, "unauthenticated", "")
			unknown := apiRequest{path: "/login", body: `{"name": "nobody-by-that-name", "password": "viewer-password"}`, as: nobody}
			s.expectError(t, rt, unknown, http.StatusUnauthorized, "unauthenticated", "")
			for _, body := range []string{`{"name": "viewer"`, `{"name": "viewer", "password": "x", "role": "admin"}`, `[]`, ``} {
				s.expectError(t, rt, apiRequest{path: "/login", body: body, as: nobody}, http.StatusBadRequest, "bad_body", "body")
			}
			// A right login forgives the failures before it (the throttle counts failures in a row).
			s.login(t, s.users["operator"])
		}},

		"POST /api/v1/logout": {path: "/logout", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			sess := s.login(t, s.users["viewer"])
			resp := s.expect(t, rt, apiRequest{path: "/logout", as: sess}, http.StatusNoContent)
			if c := sessionCookie(resp.header); c == nil || c.Value != "" || c.MaxAge >= 0 {
				t.Errorf("logout Set-Cookie %q, want the session cookie cleared", resp.header.Values("Set-Cookie"))
			}
			// Without a session there is nothing to end, and nothing to refuse.
			s.expect(t, rt, apiRequest{path: "/logout", as: nobody}, http.StatusNoContent)
		}},

		"GET /api/v1/me": {path: "/me", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var me map[string]any
			s.expect(t, rt, apiRequest{path: "/me", as: s.tokens["operator"]}, http.StatusOK).decode(t, &me)
			if want := map[string]any{"name": "ci-operator", "role": "operator", "via": "token"}; !jsonEqual(me, want) {
				t.Errorf("/me with the operator token: %v, want %v", me, want)
			}
			sess := s.sessions["admin"]
			s.expect(t, rt, apiRequest{path: "/me", as: sess}, http.StatusOK).decode(t, &me)
			if me["name"] != "admin" || me["role"] != "admin" || me["via"] != "session" || me["csrf_token"] != sess.csrf || me["expires"] == nil {
				t.Errorf("/me with the admin session: %v, want admin, admin, session, its CSRF token and expiry", me)
			}
			s.expectError(t, rt, apiRequest{path: "/me", as: nobody}, http.StatusUnauthorized, "unauthenticated", "")
			s.expectError(t, rt, apiRequest{path: "/me", as: badToken}, http.StatusUnauthorized, "unauthenticated", "")
			forged := apiCaller{name: "", role: "none", cookie: "eyJuIjoiYWRtaW4ifQ.AAAA"}
			s.expectError(t, rt, apiRequest{path: "/me", as: forged}, http.StatusUnauthorized, "unauthenticated", "")
		}},

		"GET /api/v1/overview": {path: "/overview", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var flow struct {
				Nodes []struct{ ID, Kind, Name, Status, Role string } `json:"nodes"`
				Edges []struct{ From, To, Kind string }               `json:"edges"`
			}
			s.expect(t, rt, apiRequest{path: "/overview", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &flow)
			var ids, edges []string
			for _, n := range flow.Nodes {
				ids = append(ids, n.ID+" "+n.Role)
			}
			for _, e := range flow.Edges {
				edges = append(edges, e.From+" -> "+e.To+" "+e.Kind)
			}
			wantIDs := []string{"pipeline:game-events ", "topic:game.events ", "table:staging.game_events main", "table:staging.purchases route", "table:staging.game_events_rejected rejected"}
			wantEdges := []string{"topic:game.events -> pipeline:game-events input", "pipeline:game-events -> table:staging.game_events main",
				"pipeline:game-events -> table:staging.purchases route", "pipeline:game-events -> table:staging.game_events_rejected rejected"}
			if !slices.Equal(ids, wantIDs) || !slices.Equal(edges, wantEdges) {
				t.Errorf("overview nodes %q edges %q\nwant nodes %q edges %q", ids, edges, wantIDs, wantEdges)
			}
		}},

		"GET /api/v1/pipelines": {path: "/pipelines", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var list struct {
				Items []struct {
					Name, Table, State string
					Topics             []string
					LastCommit         string `json:"last_commit"`
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/pipelines", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &list)
			if len(list.Items) != 1 || list.Items[0].Name != "game-events" || list.Items[0].Table != "staging.game_events" ||
				list.Items[0].State != "running" || list.Items[0].LastCommit == "" || !slices.Equal(list.Items[0].Topics, []string{"game.events"}) {
				t.Errorf("pipelines: %+v", list.Items)
			}
		}},

		"GET /api/v1/pipelines/{name}": {path: "/pipelines/game-events", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var d struct {
				Name, Group  string
				Tables       []string
				Completeness bool
				Partitions   []struct {
					Topic      string
					Partition  int32
					NextOffset int64 `json:"next_offset"`
				}
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &d)
			if d.Name != "game-events" || d.Group != "bigfather-game-events" || !d.Completeness ||
				!slices.Equal(d.Tables, []string{"staging.game_events", "staging.purchases", "staging.game_events_rejected"}) || len(d.Partitions) != demoPartitions {
				t.Errorf("pipeline detail: %+v", d)
			}
			for i, p := range d.Partitions {
				if p.Topic != "game.events" || p.Partition != int32(i) {
					t.Errorf("partition %d: %+v", i, p)
				}
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},

		"GET /api/v1/pipelines/{name}/commits": {path: "/pipelines/game-events/commits", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var list struct {
				Items []struct {
					Table     string
					At        time.Time
					Operation string
					Writer    string
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/commits?limit=3", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &list)
			if len(list.Items) != 3 {
				t.Fatalf("3 commits asked, got %d", len(list.Items))
			}
			for i, c := range list.Items {
				if c.Writer != "game-events" || c.Operation != "append" || (i > 0 && c.At.After(list.Items[i-1].At)) {
					t.Errorf("commit %d: %+v (want appends by game-events, newest first)", i, c)
				}
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/commits?limit=0", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/commits?limit=201", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/commits", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},

		"GET /api/v1/pipelines/{name}/completeness": {path: "/pipelines/game-events/completeness", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var rep struct {
				Table         string
				ProducerField string `json:"producer_field"`
				SeqField      string `json:"seq_field"`
				Rows          int64
				Producers     int64
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/completeness", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &rep)
			if rep.Table != "staging.game_events" || rep.ProducerField != "player_id" || rep.SeqField != "client_seq" || rep.Rows == 0 || rep.Producers == 0 {
				t.Errorf("completeness report: %+v", rep)
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/completeness", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},

		"GET /api/v1/pipelines/{name}/history": {path: "/pipelines/game-events/history", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var h struct {
				Points []struct {
					At            time.Time `json:"at"`
					RecordsPerSec *float64  `json:"records_per_sec"`
					Lag           *int64    `json:"lag"`
				} `json:"points"`
			}
			// The monitor samples every 10 s, from the start.
			var resp apiResponse
			waitFor(t, 15*time.Second, "a point in the pipeline's history", func() bool {
				resp = s.expect(t, rt, apiRequest{path: "/pipelines/game-events/history", as: s.tokens["viewer"]}, http.StatusOK)
				resp.decode(t, &h)
				return len(h.Points) > 0
			})
			if p := h.Points[len(h.Points)-1]; p.At.IsZero() || p.RecordsPerSec == nil || p.Lag == nil {
				t.Errorf("history: %s, want points with at, records_per_sec and lag", resp.body)
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/history", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			// hours keeps the recent points: the whole test ran within the last hour.
			var recent struct {
				Points []struct{} `json:"points"`
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/history?hours=1", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &recent)
			if len(recent.Points) < len(h.Points) {
				t.Errorf("hours=1: %d points, want at least the %d of the whole history", len(recent.Points), len(h.Points))
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/history?hours=-1", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "hours")
		}},

		"POST /api/v1/pipelines/{name}/pause": {path: "/pipelines/game-events/pause", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			resume := s.route(t, "POST /api/v1/pipelines/{name}/resume")
			op := s.tokens["operator"]
			s.expectJSON(t, rt, apiRequest{path: "/pipelines/game-events/pause", as: op}, http.StatusOK, map[string]any{"status": "paused"})
			if got := s.pausedBy(t); got != "operator" {
				t.Errorf("after a pause the pipeline says paused_by %q, want operator", got)
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/pause", as: op}, http.StatusConflict, "conflict", "")
			s.expectJSON(t, resume, apiRequest{path: "/pipelines/game-events/resume", as: op}, http.StatusOK, map[string]any{"status": "resumed"})
			if got := s.pausedBy(t); got != "" {
				t.Errorf("after a resume the pipeline says paused_by %q, want nothing", got)
			}
			// From the console: a session with its CSRF token.
			sess := s.sessions["operator"]
			s.expectJSON(t, rt, apiRequest{path: "/pipelines/game-events/pause", as: sess}, http.StatusOK, map[string]any{"status": "paused"})
			s.expectJSON(t, resume, apiRequest{path: "/pipelines/game-events/resume", as: sess}, http.StatusOK, map[string]any{"status": "resumed"})
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/pause", as: op}, http.StatusNotFound, "not_found", "")
		}},

		"GET /api/v1/pipelines/{name}/rejected": {path: "/pipelines/game-events/rejected", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct {
					Topic         string
					ReasonCode    string `json:"reason_code"`
					Reason        string
					Value         string
					ValueEncoding string `json:"value_encoding"`
				} `json:"items"`
				Total, Limit int
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/rejected?limit=2", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if page.Total < 1 || len(page.Items) != min(2, page.Total) || page.Limit != 2 {
				t.Fatalf("rejected page: %+v", page)
			}
			code := page.Items[0].ReasonCode
			if page.Items[0].Topic != "game.events" || code == "" || page.Items[0].Reason == "" || page.Items[0].ValueEncoding == "" {
				t.Errorf("rejected record: %+v", page.Items[0])
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/rejected?reason=" + code, as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			for _, r := range page.Items {
				if r.ReasonCode != code {
					t.Errorf("reason=%s lists a record of %s", code, r.ReasonCode)
				}
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/rejected?reason=Not-A-Code", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "reason")
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/rejected?offset=-1", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "offset")
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/rejected?limit=501", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/rejected", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},

		"GET /api/v1/pipelines/{name}/rejected/reasons": {path: "/pipelines/game-events/rejected/reasons", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var list struct {
				Items []struct {
					ReasonCode string `json:"reason_code"`
					Records    int64
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/pipelines/game-events/rejected/reasons", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &list)
			if len(list.Items) == 0 || list.Items[0].ReasonCode == "" || list.Items[0].Records < 1 {
				t.Errorf("rejected reasons: %+v", list.Items)
			}
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/rejected/reasons", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
		}},

		"POST /api/v1/pipelines/{name}/resume": {path: "/pipelines/game-events/resume", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			pause := s.route(t, "POST /api/v1/pipelines/{name}/pause")
			op := s.tokens["operator"]
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/resume", as: op}, http.StatusConflict, "conflict", "")
			s.expectJSON(t, pause, apiRequest{path: "/pipelines/game-events/pause", as: s.tokens["admin"]}, http.StatusOK, map[string]any{"status": "paused"})
			s.expectError(t, rt, apiRequest{path: "/pipelines/game-events/resume?action=later", as: op}, http.StatusBadRequest, "bad_parameter", "action")
			s.expectJSON(t, rt, apiRequest{path: "/pipelines/game-events/resume?action=retry", as: op}, http.StatusOK, map[string]any{"status": "resumed"})
			s.expectError(t, rt, apiRequest{path: "/pipelines/no-such-pipeline/resume", as: op}, http.StatusNotFound, "not_found", "")
		}},

		"POST /api/v1/sql": {path: "/sql", body: `{"query": "select 1 as one"}`, run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var res struct {
				Columns   []string
				Rows      [][]any
				Truncated bool
			}
			s.expect(t, rt, apiRequest{path: "/sql", body: `{"query": "select count(*) as n from staging.game_events"}`, as: s.tokens["viewer"]}, http.StatusOK).decode(t, &res)
			if !slices.Equal(res.Columns, []string{"n"}) || len(res.Rows) != 1 || len(res.Rows[0]) != 1 || !(jsonNumber(res.Rows[0][0]) >= 1) {
				t.Errorf("count(*): %+v", res)
			}
			// The row limit: two of five rows, marked truncated. From the console, with a session.
			q := `{"query": "select event_id from staging.game_events limit 5", "max_rows": 2}`
			s.expect(t, rt, apiRequest{path: "/sql", body: q, as: s.sessions["viewer"]}, http.StatusOK).decode(t, &res)
			if len(res.Rows) != 2 || !res.Truncated {
				t.Errorf("max_rows 2 of 5: %d rows, truncated %v", len(res.Rows), res.Truncated)
			}
			for _, bad := range []struct{ body, code, param string }{
				{`{"query": "create table staging.x (a int)"}`, "bad_parameter", "query"},
				{`{"query": "select * from read_csv('/etc/passwd')"}`, "bad_parameter", "query"},
				{`{"query": "select * from staging.no_such_table"}`, "bad_parameter", "query"},
				{`{"query": "  "}`, "bad_parameter", "query"},
				{`{"query": "select 1", "max_rows": 100001}`, "bad_parameter", "max_rows"},
				{`{"query": "select 1", "max_rows": -1}`, "bad_parameter", "max_rows"},
				{`{"query": "select 1", "timeout_seconds": 301}`, "bad_parameter", "timeout_seconds"},
				{`{"query": "select 1", "rows": 5}`, "bad_body", "body"},
				{`{"query": `, "bad_body", "body"},
			} {
				s.expectError(t, rt, apiRequest{path: "/sql", body: bad.body, as: s.tokens["viewer"]}, http.StatusBadRequest, bad.code, bad.param)
			}
		}},

		"GET /api/v1/sql/history": {path: "/sql/history", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			run := s.route(t, "POST /api/v1/sql")
			admin := s.tokens["admin"]
			s.expect(t, run, apiRequest{path: "/sql", body: `{"query": "select 41 + 1 as answer"}`, as: admin}, http.StatusOK)
			s.expect(t, run, apiRequest{path: "/sql", body: `{"query": "select nope"}`, as: admin}, http.StatusBadRequest)
			var h struct {
				Items []struct {
					Query string
					Rows  *int
					Error string
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/sql/history", as: admin}, http.StatusOK).decode(t, &h)
			if len(h.Items) != 2 || h.Items[0].Query != "select nope" || h.Items[0].Error == "" ||
				h.Items[1].Query != "select 41 + 1 as answer" || h.Items[1].Rows == nil || *h.Items[1].Rows != 1 {
				t.Errorf("the admin token's history: %+v, want its two queries, newest first", h.Items)
			}
			// Each caller sees only their own.
			s.expect(t, rt, apiRequest{path: "/sql/history", as: s.sessions["admin"]}, http.StatusOK).decode(t, &h)
			if len(h.Items) != 0 {
				t.Errorf("the admin session's history: %+v, want none", h.Items)
			}
		}},

		"GET /api/v1/tables": {path: "/tables", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var list struct {
				Items []struct {
					Name      string
					Rows      int64
					Snapshots int
				} `json:"items"`
			}
			s.expect(t, rt, apiRequest{path: "/tables", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &list)
			var names []string
			for _, tb := range list.Items {
				names = append(names, tb.Name)
				if tb.Snapshots < 1 {
					t.Errorf("table %s: %+v", tb.Name, tb)
				}
			}
			if want := []string{"staging.game_events", "staging.game_events_rejected", "staging.purchases"}; !slices.Equal(names, want) {
				t.Errorf("tables %q, want %q", names, want)
			}
		}},

		"GET /api/v1/tables/{name}": {path: "/tables/staging.game_events", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var d struct {
				Name          string
				Schema        []apiField
				PartitionSpec []struct{ Name, Transform, Source string } `json:"partition_spec"`
				History       []struct {
					SnapshotID json.RawMessage  `json:"snapshot_id"`
					Offsets    map[string]int64 `json:"offsets"`
				}
			}
			s.expect(t, rt, apiRequest{path: "/tables/staging.game_events", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &d)
			i := slices.IndexFunc(d.Schema, func(f apiField) bool { return f.Name == "event_id" })
			if d.Name != "staging.game_events" || i < 0 || d.Schema[i].Type != "string" || !d.Schema[i].Required || d.Schema[i].ID < 1 ||
				len(d.PartitionSpec) != 1 || d.PartitionSpec[0].Transform != "day" || d.PartitionSpec[0].Source != "event_time" || len(d.History) == 0 {
				t.Errorf("table detail: %+v", d)
			}
			for _, h := range d.History {
				if len(h.SnapshotID) == 0 || len(h.Offsets) != demoPartitions || h.Offsets["game.events/0"] < 0 {
					t.Errorf("snapshot %s stored offsets %v, want one per partition of game.events", h.SnapshotID, h.Offsets)
				}
			}
			s.expectError(t, rt, apiRequest{path: "/tables/staging.no_such_table", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/tables/no_namespace", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "name")
		}},

		"GET /api/v1/tables/{name}/preview": {path: "/tables/staging.game_events/preview", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var p struct {
				Columns []string
				Rows    [][]any
			}
			s.expect(t, rt, apiRequest{path: "/tables/staging.game_events/preview?limit=3", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &p)
			if len(p.Rows) != 3 || !slices.Contains(p.Columns, "event_id") || len(p.Rows[0]) != len(p.Columns) {
				t.Errorf("preview of 3: %d rows, columns %q", len(p.Rows), p.Columns)
			}
			s.expectError(t, rt, apiRequest{path: "/tables/staging.game_events/preview?limit=0", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/tables/staging.no_such_table/preview", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/tables/no_namespace/preview", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "name")
		}},

		"GET /api/v1/topics": {path: "/topics", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var page struct {
				Items []struct {
					Name       string
					Partitions int
					Messages   int64
					Groups     []string
				} `json:"items"`
				Total int
			}
			s.expect(t, rt, apiRequest{path: "/topics?search=GAME.ev", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &page)
			if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Name != "game.events" || page.Items[0].Partitions != demoPartitions ||
				page.Items[0].Messages < 1 || !slices.Equal(page.Items[0].Groups, []string{"bigfather-game-events"}) {
				t.Errorf("topics matching GAME.ev: %+v", page)
			}
			s.expectError(t, rt, apiRequest{path: "/topics?limit=501", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "limit")
			s.expectError(t, rt, apiRequest{path: "/topics?offset=x", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "offset")
		}},

		"GET /api/v1/topics/{name}": {path: "/topics/game.events", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var d struct {
				Name       string
				Partitions []json.RawMessage
			}
			s.expect(t, rt, apiRequest{path: "/topics/game.events", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &d)
			if d.Name != "game.events" || len(d.Partitions) != demoPartitions {
				t.Errorf("topic detail: %s with %d partitions", d.Name, len(d.Partitions))
			}
			s.expectError(t, rt, apiRequest{path: "/topics/no.such.topic", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/topics/bad%21name", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "name")
		}},

		"GET /api/v1/topics/{name}/messages": {path: "/topics/game.events/messages", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			var res struct {
				Messages []struct {
					Partition     int32
					Offset        int64
					Value         string
					ValueEncoding string `json:"value_encoding"`
				}
			}
			s.expect(t, rt, apiRequest{path: "/topics/game.events/messages?partition=0&from=oldest&limit=5", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &res)
			if len(res.Messages) != 5 {
				t.Fatalf("5 oldest messages of partition 0: got %d", len(res.Messages))
			}
			for i, m := range res.Messages {
				if m.Partition != 0 || m.Offset != int64(i) {
					t.Errorf("message %d: partition %d offset %d, want partition 0 offset %d", i, m.Partition, m.Offset, i)
				}
			}
			filter := url.QueryEscape(`value.event_type == "purchase"`)
			s.expect(t, rt, apiRequest{path: "/topics/game.events/messages?from=oldest&limit=3&filter=" + filter, as: s.tokens["viewer"]}, http.StatusOK).decode(t, &res)
			if len(res.Messages) != 3 {
				t.Errorf("3 purchases asked, got %d", len(res.Messages))
			}
			for _, m := range res.Messages {
				var v struct {
					EventType string `json:"event_type"`
				}
				if m.ValueEncoding != "json" || json.Unmarshal([]byte(m.Value), &v) != nil || v.EventType != "purchase" {
					t.Errorf("the filter let through %s %q", m.ValueEncoding, m.Value)
				}
			}
			csv := s.expect(t, rt, apiRequest{path: "/topics/game.events/messages?partition=0&from=oldest&limit=2&format=csv", as: s.tokens["viewer"]}, http.StatusOK)
			if ct := csv.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.HasPrefix(csv.header.Get("Content-Disposition"), `attachment; filename="game.events-`) ||
				len(lines(string(csv.body))) < 3 {
				t.Errorf("CSV export: %s %q\n%s", ct, csv.header.Get("Content-Disposition"), csv.body)
			}
			var exported []json.RawMessage
			s.expect(t, rt, apiRequest{path: "/topics/game.events/messages?partition=0&from=oldest&limit=2&format=json", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &exported)
			if len(exported) != 2 {
				t.Errorf("JSON export of 2: %d records", len(exported))
			}
			for _, bad := range []struct{ query, param string }{
				{"from=yesterday", "from"},
				{"format=xml", "format"},
				{"partition=-2", "partition"},
				{"partition=99", "partition"},
				{"limit=0", "limit"},
				{"max_scan=0", "max_scan"},
				{"from=offset&offset=-1", "offset"},
				{"from=timestamp", "timestamp"},
				{"from=timestamp&timestamp=noon", "timestamp"},
				{"filter=" + url.QueryEscape("value.event_type =="), "filter"},
				{"filter=" + url.QueryEscape("1 + 1"), "filter"},
			} {
				s.expectError(t, rt, apiRequest{path: "/topics/game.events/messages?" + bad.query, as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", bad.param)
			}
			s.expectError(t, rt, apiRequest{path: "/topics/no.such.topic/messages", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/topics/bad%21name/messages", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "name")
		}},

		"GET /api/v1/topics/{name}/tail": {path: "/topics/game.events/tail", run: func(t *testing.T, s *apiSuite, rt apiRoute) {
			// The demo producer writes all the time: the first event comes at once.
			var msg struct {
				Partition int32
				Offset    int64
				Value     string
			}
			s.tailFirst(t, "/topics/game.events/tail", s.tokens["viewer"], &msg)
			var v struct {
				EventType string `json:"event_type"`
			}
			if json.Unmarshal([]byte(msg.Value), &v) != nil || v.EventType == "" {
				t.Errorf("first tailed record: %+v", msg)
			}
			filter := url.QueryEscape(`partition == 3`)
			s.tailFirst(t, "/topics/game.events/tail?filter="+filter, s.sessions["viewer"], &msg)
			if msg.Partition != 3 {
				t.Errorf("tail with filter partition == 3 sent a record of partition %d", msg.Partition)
			}
			// A quiet topic's tail opens at once, and shows a record produced after it opened.
			s.createTopic(t, "api.quiet", 2)
			opened := time.Now()
			events, closeTail := s.tailOpen(t, "/topics/api.quiet/tail", s.tokens["viewer"])
			defer closeTail()
			t.Logf("the tail of a quiet topic opened in %v", time.Since(opened).Round(time.Millisecond))
			s.produce(t, &kgo.Record{Topic: "api.quiet", Partition: 1, Key: []byte("k-1"), Value: []byte(`{"hello":"tail"}`),
				Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("api-test")}}})
			var got struct {
				Partition     int32
				Offset        int64
				Key           string
				Value         string
				ValueEncoding string `json:"value_encoding"`
				Headers       []struct{ Key, Value string }
			}
			nextEvent(t, events, &got)
			if got.Partition != 1 || got.Offset != 0 || got.Key != "k-1" || got.Value != `{"hello":"tail"}` || got.ValueEncoding != "json" ||
				len(got.Headers) != 1 || got.Headers[0].Key != "source" || got.Headers[0].Value != "api-test" {
				t.Errorf("tailed record: %+v", got)
			}
			s.expectError(t, rt, apiRequest{path: "/topics/game.events/tail?partition=-2", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "partition")
			s.expectError(t, rt, apiRequest{path: "/topics/game.events/tail?partition=99", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "partition")
			s.expectError(t, rt, apiRequest{path: "/topics/game.events/tail?filter=" + url.QueryEscape("value."), as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "filter")
			s.expectError(t, rt, apiRequest{path: "/topics/no.such.topic/tail", as: s.tokens["viewer"]}, http.StatusNotFound, "not_found", "")
			s.expectError(t, rt, apiRequest{path: "/topics/bad%21name/tail", as: s.tokens["viewer"]}, http.StatusBadRequest, "bad_parameter", "name")
		}},
	}
}

// apiField is a column of a table's schema.
type apiField struct {
	ID         int
	Name, Type string
	Required   bool
}

// demoPartitions is the partition count of the embedded broker's topics under `up`.
const demoPartitions = 8

// apiRoute is one operation of api/openapi.json.
type apiRoute struct {
	Method, Path string
	// Role is the least role that may call it: none, viewer, operator or admin.
	Role string
}

func (rt apiRoute) key() string { return rt.Method + " " + rt.Path }

func (rt apiRoute) mutates() bool { return rt.Method != http.MethodGet && rt.Method != http.MethodHead }

// openAPIRoutes reads the routes of api/openapi.json, sorted by path and method.
func openAPIRoutes(t *testing.T) []apiRoute {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-role"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("api/openapi.json: %v", err)
	}
	var out []apiRoute
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Role == "" {
				t.Fatalf("api/openapi.json: %s %s has no x-role", method, path)
			}
			out = append(out, apiRoute{Method: strings.ToUpper(method), Path: path, Role: op.Role})
		}
	}
	slices.SortFunc(out, func(a, b apiRoute) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	if len(out) == 0 {
		t.Fatal("api/openapi.json lists no routes")
	}
	return out
}

// auditActions are the audit actions of the routes that name their own; the others are "METHOD path".
var auditActions = map[string]string{
	"POST /api/v1/login":  "login",
	"POST /api/v1/logout": "logout",
	"POST /api/v1/sql":    "sql query",
}

// apiRoles are the roles from least to most.
var apiRoles = []string{"none", "viewer", "operator", "admin"}

// apiCaller is who makes a request: a bearer token, a session (cookie and CSRF token) or nobody.
type apiCaller struct {
	// name, role and via are what the audit log records of the caller.
	name, role, via string
	token           string
	cookie, csrf    string
}

var (
	nobody   = apiCaller{role: "none"}
	badToken = apiCaller{role: "none", token: "not-a-configured-token-but-long-enough-anyway"}
)

// apiUser is a configured user.
type apiUser struct{ name, password, role string }

// apiRequest is one request of a route.
type apiRequest struct {
	// path is under /api/v1, with the query.
	path, body string
	as         apiCaller
	// noCSRF leaves out a session's X-CSRF-Token on a mutating request.
	noCSRF bool
	header map[string]string
}

// apiResponse is an answer.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// auditEntry is an entry of GET /api/v1/audit; auditWant is what an entry must say.
type auditEntry struct {
	ID int64 `json:"id"`
	auditWant
	Remote string `json:"remote"`
	Detail string `json:"detail"`
}

type auditWant struct {
	Actor   string `json:"actor"`
	Role    string `json:"role"`
	Via     string `json:"via"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
	Status  int    `json:"status"`
}

// apiSuite is a running platform and what the test did to it.
type apiSuite struct {
	base     string // http://host:port
	brokers  string // the embedded broker's host:port
	hc       *http.Client
	users    map[string]apiUser   // by role
	tokens   map[string]apiCaller // by role
	sessions map[string]apiCaller // by role
	routes   []apiRoute
	// audit is every mutating call made, in order, as the audit log must record it.
	audit []auditWant
	// secrets are the passwords (right and wrong), tokens, session cookies and CSRF tokens used, which no log
	// or audit entry may show.
	secrets []string
}

// startAPIPlatform runs `bigfather up --demo` with a config whose auth block has a user and a token per role
// (tokens through ${VAR}), and waits until the first commit stored rejected records too.
func startAPIPlatform(t *testing.T) *apiSuite {
	t.Helper()
	dir := t.TempDir()
	if _, err := demo.WriteDefinitions(filepath.Join(dir, "definitions")); err != nil {
		t.Fatal(err)
	}
	s := &apiSuite{hc: &http.Client{Timeout: 30 * time.Second}, users: map[string]apiUser{}, tokens: map[string]apiCaller{}, sessions: map[string]apiCaller{}}
	var users, tokens strings.Builder
	env := os.Environ()
	for _, role := range apiRoles[1:] {
		u := apiUser{name: role, password: role + "-password", role: role}
		// The lowest cost bcrypt allows, for speed; the config accepts any valid cost.
		hash, err := bcrypt.GenerateFromPassword([]byte(u.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		s.users[role] = u
		s.secrets = append(s.secrets, u.password)
		fmt.Fprintf(&users, "    - {name: %s, password_hash: %q, role: %s}\n", u.name, hash, role)
		variable := "BF_API_TEST_" + strings.ToUpper(role) + "_TOKEN"
		tok := apiCaller{name: "ci-" + role, role: role, via: "token", token: fmt.Sprintf("%s-token-%032d", role, time.Now().UnixNano())}
		s.tokens[role] = tok
		s.secrets = append(s.secrets, tok.token)
		fmt.Fprintf(&tokens, "    - {name: %s, token: \"${%s}\", role: %s}\n", tok.name, variable, role)
		env = append(env, variable+"="+tok.token)
	}
	defs := filepath.Join(dir, "definitions")
	cfg := fmt.Sprintf(`warehouse: %s
catalog:
  uri: sqlite://%s
auth:
  users:
%s  tokens:
%spipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      partition_by: ["day(event_time)"]
      columns:
        - {name: event_id,   type: string,    required: true}
        - {name: event_time, type: timestamp, required: true}
        - {name: player_id,  type: string,    required: true}
        - {name: event_type, type: string,    required: true}
    commit: {interval: 1s}
    definitions:
      select_by: event_type
      unknown: reject
      files: [%s, %s, %s, %s, %s]
    routes:
      - {table: staging.purchases, event_types: [purchase]}
    completeness: {producer_field: player_id, seq_field: client_seq}
metrics:
  - {name: daily_players, kind: active_users, table: staging.game_events}
`, filepath.Join(dir, "warehouse"), filepath.Join(dir, "catalog.db"), users.String(), tokens.String(),
		filepath.Join(defs, "item_acquire.json"), filepath.Join(defs, "level_up.json"), filepath.Join(defs, "purchase.json"),
		filepath.Join(defs, "session_end.json"), filepath.Join(defs, "session_start.json"))
	cfgPath := filepath.Join(dir, "bigfather.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	addr := loopbackAddr(t)
	s.base, s.brokers = "http://"+addr, loopbackAddr(t)
	logPath := filepath.Join(dir, "up.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	up := exec.Command(binPath, "up", "--demo", "--config", cfgPath, "--data", filepath.Join(dir, "data"), "--http", addr,
		"--broker-listen", s.brokers, "--demo-rate", "300", "--demo-malformed-rate", "0.05",
		// No history burst: every commit of the live demo covers all partitions (the tables case checks it).
		"--demo-history", "0")
	up.Stdout, up.Stderr, up.Env = logf, logf, env
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = up.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = up.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			if code := up.ProcessState.ExitCode(); code != 0 {
				t.Errorf("up exited %d after SIGTERM, want 0", code)
			}
		case <-time.After(30 * time.Second):
			_ = up.Process.Kill()
			<-done
			t.Errorf("up did not stop within 30s of SIGTERM")
		}
		log := readFile(logPath)
		if strings.Contains(log, "DATA RACE") {
			t.Errorf("up found a data race:\n%s", log)
		}
		for _, secret := range s.secrets {
			if strings.Contains(log, secret) {
				t.Errorf("the up log shows a secret (a password, token, session cookie or CSRF token)")
			}
		}
		if t.Failed() {
			t.Logf("up log:\n%s", (&stageProc{log: logPath}).tail())
		}
	})
	// The tests need rejected records and at least 3 purchases (routed to their own table) committed.
	waitFor(t, 60*time.Second, "the first commits with rejected records and purchases", func() bool {
		select {
		case <-done:
			t.Fatalf("up exited: %s", (&stageProc{log: logPath}).tail())
		default:
		}
		code, body := httpGet(s.base + "/healthz")
		if code != http.StatusOK || !strings.Contains(body, `"last_commit"`) {
			return false
		}
		var page struct{ Total int }
		resp := s.do(t, apiRoute{Method: http.MethodGet}, apiRequest{path: "/pipelines/game-events/rejected?limit=1", as: s.tokens["viewer"]})
		if resp.status != http.StatusOK || json.Unmarshal(resp.body, &page) != nil || page.Total == 0 {
			return false
		}
		var tables struct {
			Items []struct {
				Name string
				Rows int64
			}
		}
		resp = s.do(t, apiRoute{Method: http.MethodGet}, apiRequest{path: "/tables", as: s.tokens["viewer"]})
		return resp.status == http.StatusOK && json.Unmarshal(resp.body, &tables) == nil &&
			slices.ContainsFunc(tables.Items, func(tb struct {
				Name string
				Rows int64
			}) bool {
				return tb.Name == "staging.purchases" && tb.Rows >= 3
			})
	})
	return s
}

// do sends req to the route rt and, for a mutating route, notes the audit entry the call must leave. An rt
// without a Path stands for a request that matches no route.
func (s *apiSuite) do(t *testing.T, rt apiRoute, req apiRequest) apiResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, rt.Method, s.base+"/api/v1"+req.path, body)
	if err != nil {
		t.Fatal(err)
	}
	s.authorize(hr, rt, req)
	resp, err := s.hc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", rt.Method, req.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", rt.Method, req.path, err)
	}
	if rt.Path != "" && rt.mutates() { // a request that matches no route (Path "") is no call to audit
		action := auditActions[rt.key()]
		if action == "" {
			action = rt.key()
		}
		outcome := "ok"
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
			outcome = "denied"
		case resp.StatusCode >= 400:
			outcome = "error"
		}
		s.audit = append(s.audit, auditWant{Actor: req.as.name, Role: req.as.role, Via: req.as.via, Method: rt.Method,
			Path: "/api/v1" + req.path, Action: action, Outcome: outcome, Status: resp.StatusCode})
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

// authorize sets a request's credentials and headers.
func (s *apiSuite) authorize(hr *http.Request, rt apiRoute, req apiRequest) {
	if req.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.as.token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.as.token)
	}
	if req.as.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: "bigfather_session", Value: req.as.cookie})
		if rt.mutates() && !req.noCSRF && req.as.csrf != "" {
			hr.Header.Set("X-CSRF-Token", req.as.csrf)
		}
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
}

// expect sends req and requires the status.
func (s *apiSuite) expect(t *testing.T, rt apiRoute, req apiRequest, status int) apiResponse {
	t.Helper()
	resp := s.do(t, rt, req)
	if resp.status != status {
		t.Fatalf("%s %s as %q: status %d, want %d; body: %s", rt.Method, req.path, req.as.name, resp.status, status, resp.body)
	}
	return resp
}

// expectJSON sends req and requires the status and a JSON body equal to want.
func (s *apiSuite) expectJSON(t *testing.T, rt apiRoute, req apiRequest, status int, want any) {
	t.Helper()
	var got any
	s.expect(t, rt, req, status).decode(t, &got)
	if !jsonEqual(got, want) {
		t.Errorf("%s %s: %v, want %v", rt.Method, req.path, got, want)
	}
}

// expectError sends req and requires the status and an error body with the code and param ("" for none) and
// a message.
func (s *apiSuite) expectError(t *testing.T, rt apiRoute, req apiRequest, status int, code, param string) {
	t.Helper()
	resp := s.expect(t, rt, req, status)
	var e struct {
		Error *struct {
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Param   *string `json:"param"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.body, &e); err != nil || e.Error == nil {
		t.Errorf("%s %s: error body %s, want {\"error\": {...}}", rt.Method, req.path, resp.body)
		return
	}
	gotParam := ""
	if e.Error.Param != nil {
		gotParam = *e.Error.Param
		if gotParam == "" {
			t.Errorf("%s %s: error body %s has an empty param", rt.Method, req.path, resp.body)
		}
	}
	if e.Error.Code != code || gotParam != param || e.Error.Message == "" {
		t.Errorf("%s %s: error %s, want code %q param %q and a message", rt.Method, req.path, resp.body, code, param)
	}
	if param != "" && !strings.HasPrefix(e.Error.Message, param+": ") {
		t.Errorf("%s %s: message %q does not begin with the parameter %q", rt.Method, req.path, e.Error.Message, param)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: error Content-Type %q", rt.Method, req.path, ct)
	}
}

// route returns the route of key.
func (s *apiSuite) route(t *testing.T, key string) apiRoute {
	t.Helper()
	for _, rt := range s.routes {
		if rt.key() == key {
			return rt
		}
	}
	t.Fatalf("no route %s", key)
	return apiRoute{}
}

// checkAccess runs the checks every route gets: no credentials (401) and a wrong token (401) unless anyone
// may call it; the role below its own (403); for a mutating route, a session without its CSRF token and a
// foreign Origin or a cross-site fetch (403).
func (s *apiSuite) checkAccess(t *testing.T, rt apiRoute, c apiRouteCase) {
	t.Helper()
	level := slices.Index(apiRoles, rt.Role)
	if level < 0 {
		t.Fatalf("%s: unknown role %q", rt.key(), rt.Role)
	}
	req := func(as apiCaller) apiRequest { return apiRequest{path: c.path, body: c.body, as: as} }
	if level > 0 {
		s.expectError(t, rt, req(nobody), http.StatusUnauthorized, "unauthenticated", "")
		s.expectError(t, rt, req(badToken), http.StatusUnauthorized, "unauthenticated", "")
	}
	if level > 1 {
		below := apiRoles[level-1]
		s.expectError(t, rt, req(s.tokens[below]), http.StatusForbidden, "forbidden", "")
		s.expectError(t, rt, req(s.sessions[below]), http.StatusForbidden, "forbidden", "")
	}
	if !rt.mutates() {
		return
	}
	allowed := apiRoles[max(level, 1)]
	noCSRF := req(s.sessions[allowed])
	noCSRF.noCSRF = true
	s.expectError(t, rt, noCSRF, http.StatusForbidden, "forbidden", "")
	wrongCSRF := req(s.sessions[allowed])
	other := "admin"
	if allowed == "admin" {
		other = "viewer"
	}
	wrongCSRF.as.csrf = s.sessions[other].csrf // another session's token
	s.expectError(t, rt, wrongCSRF, http.StatusForbidden, "forbidden", "")
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Origin": "http://" + strings.Replace(strings.TrimPrefix(s.base, "http://"), "127.0.0.1", "localhost", 1)},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		for _, as := range []apiCaller{s.tokens[allowed], s.sessions[allowed]} {
			r := req(as)
			r.header = h
			s.expectError(t, rt, r, http.StatusForbidden, "forbidden", "")
		}
	}
	// The same origin passes.
	if rt.key() == "POST /api/v1/sql" {
		r := req(s.sessions[allowed])
		r.header = map[string]string{"Origin": s.base, "Sec-Fetch-Site": "same-origin"}
		s.expect(t, rt, r, http.StatusOK)
	}
}

// login logs u in through the login route and returns the session.
func (s *apiSuite) login(t *testing.T, u apiUser) apiCaller {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": u.name, "password": u.password})
	rt := apiRoute{Method: http.MethodPost, Path: "/api/v1/login", Role: "none"}
	resp := s.expect(t, rt, apiRequest{path: "/login", body: string(body), as: nobody}, http.StatusOK)
	// A login's audit entry names who logged in.
	s.audit[len(s.audit)-1].Actor, s.audit[len(s.audit)-1].Role, s.audit[len(s.audit)-1].Via = u.name, u.role, "session"
	var caller struct {
		Name, Role, Via string
		CSRF            string `json:"csrf_token"`
	}
	resp.decode(t, &caller)
	c := sessionCookie(resp.header)
	if caller.Name != u.name || caller.Role != u.role || caller.Via != "session" || caller.CSRF == "" || c == nil || c.Value == "" ||
		!c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("login of %s: %s; Set-Cookie %q", u.name, resp.body, resp.header.Values("Set-Cookie"))
	}
	s.secrets = append(s.secrets, c.Value, caller.CSRF)
	return apiCaller{name: u.name, role: u.role, via: "session", cookie: c.Value, csrf: caller.CSRF}
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(h http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "bigfather_session" {
			return c
		}
	}
	return nil
}

// createTopic creates a topic on the embedded broker.
func (s *apiSuite) createTopic(t *testing.T, name string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", name, err)
	}
}

// produce writes records to the embedded broker.
func (s *apiSuite) produce(t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// pausedBy reads who paused the pipeline game-events ("" when it runs).
func (s *apiSuite) pausedBy(t *testing.T) string {
	t.Helper()
	var d struct {
		PausedBy string `json:"paused_by"`
	}
	s.expect(t, s.route(t, "GET /api/v1/pipelines/{name}"), apiRequest{path: "/pipelines/game-events", as: s.tokens["viewer"]}, http.StatusOK).decode(t, &d)
	return d.PausedBy
}

// tailFirst opens a live tail, decodes its first event into v and closes it.
func (s *apiSuite) tailFirst(t *testing.T, path string, as apiCaller, v any) {
	t.Helper()
	events, closeTail := s.tailOpen(t, path, as)
	defer closeTail()
	nextEvent(t, events, v)
}

// tailOpen opens a live tail and requires that it answers as a stream of server-sent events.
func (s *apiSuite) tailOpen(t *testing.T, path string, as apiCaller) (events *bufio.Scanner, closeTail func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.authorize(hr, apiRoute{Method: http.MethodGet}, apiRequest{as: as})
	resp, err := s.hc.Do(hr)
	if err != nil {
		cancel()
		t.Fatalf("tail %s: %v", path, err)
	}
	closeTail = func() { cancel(); resp.Body.Close() }
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		closeTail()
		t.Fatalf("tail %s: %d %s: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return bufio.NewScanner(resp.Body), closeTail
}

// nextEvent reads the next event of a tail (skipping comment lines) and decodes its data into v.
func nextEvent(t *testing.T, events *bufio.Scanner, v any) {
	t.Helper()
	id := ""
	for events.Scan() {
		line := events.Text()
		if rest, ok := strings.CutPrefix(line, "id: "); ok {
			id = rest
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if id == "" {
				t.Errorf("tail: an event without an id: %s", data)
			}
			if err := json.Unmarshal([]byte(data), v); err != nil {
				t.Fatalf("tail: event data %q: %v", data, err)
			}
			return
		}
	}
	t.Fatalf("tail: the stream ended without an event: %v", events.Err())
}

// checkLoginThrottle: five failed logins within a minute from one address block the sixth attempt, even with
// the right password, with 429 and Retry-After.
func (s *apiSuite) checkLoginThrottle(t *testing.T) {
	rt := s.route(t, "POST /api/v1/login")
	s.login(t, s.users["viewer"]) // forgives earlier failures
	s.secrets = append(s.secrets, "guess-the-password")
	wrong := apiRequest{path: "/login", body: `{"name": "viewer", "password": "guess-the-password"}`, as: nobody}
	for range 5 {
		s.expectError(t, rt, wrong, http.StatusUnauthorized, "unauthenticated", "")
	}
	right := apiRequest{path: "/login", body: `{"name": "viewer", "password": "viewer-password"}`, as: nobody}
	resp := s.do(t, rt, right)
	if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") == "" || sessionCookie(resp.header) != nil {
		t.Errorf("the 6th login within a minute: %d, Retry-After %q, Set-Cookie %q: %s", resp.status, resp.header.Get("Retry-After"),
			resp.header.Values("Set-Cookie"), resp.body)
	}
}

// checkAuditLog reads the whole audit log as an admin and requires exactly the mutating calls made, in order.
func (s *apiSuite) checkAuditLog(t *testing.T) {
	rt := s.route(t, "GET /api/v1/audit")
	var all []auditEntry
	before := int64(0)
	for {
		var page struct {
			Items []auditEntry `json:"items"`
			More  bool         `json:"more"`
		}
		path := "/audit?limit=100"
		if before > 0 {
			path += fmt.Sprintf("&before_id=%d", before)
		}
		s.expect(t, rt, apiRequest{path: path, as: s.tokens["admin"]}, http.StatusOK).decode(t, &page)
		all = append(all, page.Items...)
		if !page.More {
			break
		}
		before = page.Items[len(page.Items)-1].ID
	}
	slices.Reverse(all)
	for _, e := range all {
		js, _ := json.Marshal(e)
		for _, secret := range s.secrets {
			if strings.Contains(string(js), secret) {
				t.Errorf("audit entry %d shows a secret (a password, token, session cookie or CSRF token)", e.ID)
			}
		}
	}
	for i := 0; i < max(len(all), len(s.audit)); i++ {
		switch {
		case i >= len(all):
			t.Errorf("audit entry %d missing: want %+v", i, s.audit[i])
		case i >= len(s.audit):
			t.Errorf("audit entry %d unexpected: %+v", i, all[i])
		case all[i].auditWant != s.audit[i]:
			t.Errorf("audit entry %d:\n got %+v\nwant %+v", i, all[i].auditWant, s.audit[i])
		case !strings.HasPrefix(all[i].Remote, "127.0.0.1:"):
			t.Errorf("audit entry %d: remote %q", i, all[i].Remote)
		case (all[i].Outcome == "ok") != (all[i].Detail == ""):
			t.Errorf("audit entry %d: outcome %s with detail %q (want a detail exactly when it failed)", i, all[i].Outcome, all[i].Detail)
		}
	}
	t.Logf("%d mutating calls, %d audit entries", len(s.audit), len(all))
}

// jsonNumber returns a decoded JSON number, or NaN for anything else.
func jsonNumber(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return math.NaN()
}

// jsonEqual compares a decoded JSON value with want after a JSON round trip of want.
func jsonEqual(got, want any) bool {
	a, _ := json.Marshal(got)
	var w any
	b, _ := json.Marshal(want)
	_ = json.Unmarshal(b, &w)
	c, _ := json.Marshal(w)
	return string(a) == string(c)
}
