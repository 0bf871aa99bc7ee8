package auth_test

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
)

// basicHeader is the Authorization header of HTTP Basic credentials.
func basicHeader(name, pw string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(name+":"+pw))}
}

// TestBasic: HTTP Basic credentials name a user and their password, or carry a token as the password; wrong and
// malformed ones get exact errors that repeat nothing of them.
func TestBasic(t *testing.T) {
	f := newFixture(t, testAuth())
	alice, _ := f.login(t, "alice", alicePW)
	b64 := base64.StdEncoding.EncodeToString
	wrong := testBody("error", "wrong name or password")
	malformed := testBody("error", "malformed Basic credentials (expected base64 of NAME:PASSWORD)")
	okAlice := testBody("name", "alice", "role", "admin", "via", "basic")
	okCI := testBody("name", "ci", "role", "viewer", "via", "token")
	for _, tc := range []struct {
		name   string
		header map[string]string
		cookie string
		status int
		body   string
	}{
		{"a user's password", basicHeader("alice", alicePW), "", 200, okAlice},
		{"another user's", basicHeader("bob", bobPW), "", 200, testBody("name", "bob", "role", "operator", "via", "basic")},
		{"lower-case scheme, unpadded base64", map[string]string{"Authorization": "basic   " +
			base64.RawStdEncoding.EncodeToString([]byte("alice:"+alicePW))}, "", 200, okAlice},
		{"a token as the password, its own name", basicHeader("ci", ciToken), "", 200, okCI},
		{"a token as the password, any name", basicHeader("registry-client", ciToken), "", 200, okCI},
		{"a token as the password, a user's name", basicHeader("alice", deployToken), "", 200,
			testBody("name", "deploy", "role", "operator", "via", "token")},
		{"a token as the password, no name", basicHeader("", ciToken), "", 200, okCI},
		{"a password with colons", basicHeader("bob", bobPW+":x"), "", 401, wrong},
		{"wrong password", basicHeader("alice", wrongPW), "", 401, wrong},
		{"another user's password", basicHeader("alice", bobPW), "", 401, wrong},
		{"unknown name", basicHeader("mallory", alicePW), "", 401, wrong},
		{"a wrong token", basicHeader("ci", wrongToken), "", 401, wrong},
		{"a token's name as the password", basicHeader("alice", "ci"), "", 401, wrong},
		{"no password", basicHeader("alice", ""), "", 401, testBody("error", "no password in the Basic credentials")},
		{"no colon", map[string]string{"Authorization": "Basic " + b64([]byte("alice"+alicePW))}, "", 401, malformed},
		{"not base64", map[string]string{"Authorization": "Basic " + alicePW}, "", 401, malformed},
		{"the plain credentials", map[string]string{"Authorization": "Basic alice:" + alicePW}, "", 401, malformed},
		{"empty", map[string]string{"Authorization": "Basic "}, "", 401, testBody("error", "empty Basic credentials")},
		{"scheme only", map[string]string{"Authorization": "Basic"}, "", 401, testBody("error", "empty Basic credentials")},
		{"Basic wins over the cookie", basicHeader("ci", ciToken), alice.Value, 200, okCI},
		{"wrong Basic credentials with a good cookie", basicHeader("alice", wrongPW), alice.Value, 401, wrong},
	} {
		// Each failure leaves the login throttle's one-minute window before the next (see TestBasicRateLimit).
		f.clock.Advance(time.Minute)
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, req{method: "GET", path: "/do", header: tc.header, cookie: tc.cookie})
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
	logs := f.logs.String()
	for _, want := range []string{
		`msg="basic authentication failed: wrong password" user=alice remote=127.0.0.1:`,
		`msg="basic authentication failed: unknown name" remote=127.0.0.1:`,
		`msg="basic authentication" user=alice role=admin remote=127.0.0.1:`,
		`msg="basic authentication" user=bob role=operator remote=127.0.0.1:`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "mallory") {
		t.Errorf("an unknown name is logged (it may be a password):\n%s", logs)
	}
}

// TestBasicMutation: Basic credentials need no CSRF token (a browser does not send them on its own), but a
// foreign Origin is refused as for every caller.
func TestBasicMutation(t *testing.T) {
	f := newFixture(t, testAuth())
	h := basicHeader("bob", bobPW)
	if res := f.do(t, req{method: "POST", path: "/do", header: h}); res.status != 200 ||
		res.body != testBody("name", "bob", "role", "operator", "via", "basic") {
		t.Errorf("POST with Basic credentials: %d %s", res.status, res.body)
	}
	h["Origin"] = evil
	if res := f.do(t, req{method: "POST", path: "/do", header: h}); res.status != 403 ||
		res.body != testBody("error", "cross-origin request from https://evil.example refused") {
		t.Errorf("POST with Basic credentials from a foreign origin: %d %s", res.status, res.body)
	}
}

// TestBasicRateLimit: wrong Basic passwords count as failed logins of the address, and a blocked address is
// refused Basic credentials (even right ones, even ones that passed before) and logins alike; tokens as the
// password are not passwords and pass.
func TestBasicRateLimit(t *testing.T) {
	f := newFixture(t, testAuth())
	wrong := testBody("error", "wrong name or password")
	if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("bob", bobPW)}); res.status != 200 {
		t.Fatalf("bob before the failures: %d %s", res.status, res.body)
	}
	for i := range 4 {
		if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("alice", wrongPW)}); res.status != 401 || res.body != wrong {
			t.Fatalf("failure %d: %d %s", i+1, res.status, res.body)
		}
	}
	// A failed console login is the fifth failure within a minute.
	if res := f.do(t, req{method: "POST", path: "/login", body: loginBody("alice", wrongPW)}); res.status != 401 {
		t.Fatalf("failed login: %d %s", res.status, res.body)
	}
	f.clock.Advance(time.Minute)
	blocked := testBody("error", "too many failed logins from this address; try again in 4m0s")
	for _, who := range []struct{ name, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader(who.name, who.pw)}); res.status != 401 || res.body != blocked {
			t.Errorf("%s while the address is blocked: %d %s\nwant 401 %s", who.name, res.status, res.body, blocked)
		}
	}
	if res := f.do(t, req{method: "POST", path: "/login", body: loginBody("alice", alicePW)}); res.status != 429 {
		t.Errorf("a login while the address is blocked: %d %s", res.status, res.body)
	}
	if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("ci", ciToken)}); res.status != 200 {
		t.Errorf("a token as the password while the address is blocked: %d %s", res.status, res.body)
	}
	f.clock.Advance(4 * time.Minute)
	if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("alice", alicePW)}); res.status != 200 {
		t.Errorf("alice after the block: %d %s", res.status, res.body)
	}
	if !strings.Contains(f.logs.String(), `msg="basic authentication refused: too many failed logins" remote=127.0.0.1:`) {
		t.Errorf("the refusal is not logged:\n%s", f.logs.String())
	}
}

// TestBasicRemembered: clients send Basic credentials with every request; a password passes bcrypt once per
// 10 minutes, and concurrent first requests share one check (so they do not count as a burst of logins).
func TestBasicRemembered(t *testing.T) {
	f := newFixture(t, testAuth())
	checks := func() int { return strings.Count(f.logs.String(), `msg="basic authentication" user=bob `) }
	var wg sync.WaitGroup
	const parallel = 12
	errs := make(chan string, parallel)
	for range parallel {
		wg.Go(func() {
			res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("bob", bobPW)})
			if res.status != 200 {
				errs <- fmt.Sprintf("%d %s", res.status, res.body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent first request: %s", e)
	}
	if n := checks(); n != 1 {
		t.Errorf("%d concurrent requests checked the password %d times, want 1", parallel, n)
	}
	f.clock.Advance(10*time.Minute - time.Second)
	f.do(t, req{method: "GET", path: "/do", header: basicHeader("bob", bobPW)})
	if n := checks(); n != 1 {
		t.Errorf("within 10 minutes: %d password checks, want 1", n)
	}
	f.clock.Advance(time.Second)
	if res := f.do(t, req{method: "GET", path: "/do", header: basicHeader("bob", bobPW)}); res.status != 200 {
		t.Errorf("after 10 minutes: %d %s", res.status, res.body)
	}
	if n := checks(); n != 2 {
		t.Errorf("after 10 minutes: %d password checks, want 2", n)
	}
	// A wrong password is never remembered: each one is checked and counted.
	for range 2 {
		f.do(t, req{method: "GET", path: "/do", header: basicHeader("bob", wrongPW)})
	}
	if n := strings.Count(f.logs.String(), `msg="basic authentication failed: wrong password" user=bob `); n != 2 {
		t.Errorf("two wrong passwords: %d failures logged, want 2", n)
	}
}

// auditModule is one mutating API route that answers ok.
type auditModule struct{}

func (auditModule) Routes() []api.Route {
	return []api.Route{{Method: "POST", Path: "/things", Role: auth.Operator, Summary: "Change a thing.",
		Handler: func(*api.Request) (any, error) { return map[string]bool{"ok": true}, nil }}}
}

// TestBasicAudit: the API's audit log names the user (or token) of Basic credentials and how they came.
func TestBasicAudit(t *testing.T) {
	a, err := auth.New(testAuth())
	if err != nil {
		t.Fatal(err)
	}
	store, err := audit.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	frame := api.New(a, store, slog.New(slog.DiscardHandler))
	frame.Add(auditModule{})
	srv := httptest.NewServer(frame)
	t.Cleanup(srv.Close)
	for _, h := range []map[string]string{
		basicHeader("bob", bobPW),
		basicHeader("registry-client", deployToken),
		basicHeader("bob", wrongPW),
		basicHeader("ci", ciToken),
	} {
		r, err := http.NewRequest("POST", srv.URL+api.Prefix+"/things", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", h["Authorization"])
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	entries, err := store.List(t.Context(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		got = append(got, fmt.Sprintf("%s %s %s %s %d %s", e.Actor, e.Role, e.Via, e.Outcome, e.Status, e.Detail))
	}
	want := []string{
		"bob operator basic ok 200 ",
		"deploy operator token ok 200 ",
		" none  denied 401 wrong name or password", // no one: the credentials were wrong
		"ci viewer token denied 403 POST /api/v1/things needs the operator role; ci has viewer",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
