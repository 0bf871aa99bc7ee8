package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/config"
)

// Credentials of the test configs. No answer or log line may contain any of them (see newFixture).
const (
	alicePW     = "correct horse battery"
	bobPW       = "tr0ub4dor&3-staple"
	newAlicePW  = "alice's second password"
	wrongPW     = "guess-guess-guess"
	ciToken     = "ci-token-0123456789abcdef0123456789abcdef"
	deployToken = "deploy-token-0123456789abcdef0123456789ab"
	wrongToken  = "wrong-token-0123456789abcdef0123456789abc"
	secret      = "session-secret-0123456789abcdef0123"
	evil        = "https://evil.example"
)

// hashes are cost-4 bcrypt hashes of the test passwords (cost 4 keeps the tests fast).
var hashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, pw := range []string{alicePW, bobPW, newAlicePW} {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		out[pw] = string(h)
	}
	return out
})

// secrets are the strings no answer or log may contain.
func secrets() []string {
	s := []string{alicePW, bobPW, newAlicePW, wrongPW, ciToken, deployToken, wrongToken, secret}
	for _, h := range hashes() {
		s = append(s, h)
	}
	return s
}

// testAuth is alice (admin) and bob (operator) with passwords, tokens ci (viewer) and deploy (operator), a
// shared session secret and one-hour sessions.
func testAuth() config.Auth {
	return config.Auth{
		Users: []config.AuthUser{
			{Name: "alice", PasswordHash: hashes()[alicePW], Role: "admin"},
			{Name: "bob", PasswordHash: hashes()[bobPW], Role: "operator"},
		},
		Tokens: []config.AuthToken{
			{Name: "ci", Token: ciToken, Role: "viewer"},
			{Name: "deploy", Token: deployToken, Role: "Operator"},
		},
		SessionSecret: secret,
		SessionTTL:    time.Hour,
	}
}

// clock is a time tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log destination safe for the server's goroutines.
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

// fixture is an Authenticator behind a real HTTP server on 127.0.0.1, with a tiny mux:
// /login, /logout, GET /me, and /do, which identifies the caller, guards mutations and answers the identity.
type fixture struct {
	a     *auth.Authenticator
	srv   *httptest.Server
	clock *clock
	logs  *syncBuffer
	mu    sync.Mutex
	seen  []string // every answer's headers and body
}

func newFixture(t *testing.T, cfg config.Auth) *fixture {
	t.Helper()
	return newFixtureAt(t, cfg, &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
}

// newFixtureAt is newFixture with a clock shared with other fixtures (other processes of one deployment).
func newFixtureAt(t *testing.T, cfg config.Auth, clk *clock) *fixture {
	t.Helper()
	f := &fixture{clock: clk, logs: &syncBuffer{}}
	a, err := auth.New(cfg, auth.WithLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	auth.SetClock(a, clk.Now)
	f.a = a
	mux := http.NewServeMux()
	mux.HandleFunc("/login", a.Login)
	mux.HandleFunc("/logout", a.Logout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, err := a.Me(r)
		if err != nil {
			answer(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		}
		answer(w, http.StatusOK, c)
	})
	mux.HandleFunc("/do", func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Identify(r)
		switch {
		case err != nil:
			answer(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		case id.Role == auth.None:
			answer(w, http.StatusUnauthorized, map[string]string{"error": "log in"})
			return
		}
		if err := a.CheckMutation(r, id); err != nil {
			answer(w, http.StatusForbidden, map[string]string{"error": err.Error()})
			return
		}
		answer(w, http.StatusOK, map[string]string{"name": id.Name, "role": id.Role.String(), "via": id.Via})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.Close()
		f.checkNoSecrets(t)
	})
	return f
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkNoSecrets fails the test if any answer or log line holds a password, token, hash or the secret.
func (f *fixture) checkNoSecrets(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	all := append(f.seen, f.logs.String())
	for _, text := range all {
		for _, s := range secrets() {
			if strings.Contains(text, s) {
				t.Errorf("an answer or log shows the secret %q:\n%s", s, text)
			}
		}
	}
}

// req is one request to the fixture's server.
type req struct {
	method, path, body string
	header             map[string]string
	cookie             string // the session cookie's value
}

// resp is an answer: status, body and the response.
type resp struct {
	status int
	body   string
	*http.Response
}

func (f *fixture) do(t *testing.T, rq req) resp {
	t.Helper()
	return f.doWith(t, f.srv.Client(), f.srv.URL, rq)
}

func (f *fixture) doWith(t *testing.T, client *http.Client, base string, rq req) resp {
	t.Helper()
	r, err := http.NewRequest(rq.method, base+rq.path, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	if rq.cookie != "" {
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: rq.cookie})
	}
	res, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var head bytes.Buffer
	_ = res.Header.Write(&head)
	f.mu.Lock()
	f.seen = append(f.seen, head.String()+string(body))
	f.mu.Unlock()
	return resp{status: res.StatusCode, body: string(body), Response: res}
}

func loginBody(name, pw string) string {
	b, _ := json.Marshal(map[string]string{"name": name, "password": pw})
	return string(b)
}

// login logs name in and returns the session cookie and the answer.
func (f *fixture) login(t *testing.T, name, pw string) (*http.Cookie, auth.Caller) {
	t.Helper()
	res := f.do(t, req{method: "POST", path: "/login", body: loginBody(name, pw)})
	if res.status != http.StatusOK {
		t.Fatalf("login %s: %d %s", name, res.status, res.body)
	}
	var c auth.Caller
	if err := json.Unmarshal([]byte(res.body), &c); err != nil {
		t.Fatal(err)
	}
	return sessionCookie(t, res.Response), c
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", auth.CookieName, res.Header.Values("Set-Cookie"))
	return nil
}

// errorBody is the JSON error body of a failed login or logout.
func errorBody(code, msg string) string {
	b, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": msg}})
	return string(b) + "\n"
}

// testBody is what the test mux answers.
func testBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b) + "\n"
}

func TestLogin(t *testing.T) {
	f := newFixture(t, testAuth())
	wrong := errorBody("unauthenticated", "wrong name or password")
	for _, tc := range []struct {
		name       string
		rq         req
		wantStatus int
		wantBody   string // "" checks the success answer instead
		wantUser   string
		wantRole   auth.Role
	}{
		{"alice", req{method: "POST", path: "/login", body: loginBody("alice", alicePW)}, 200, "", "alice", auth.Admin},
		{"bob from the same origin", req{method: "POST", path: "/login", body: loginBody("bob", bobPW),
			header: map[string]string{"Origin": f.srv.URL}}, 200, "", "bob", auth.Operator},
		{"wrong password", req{method: "POST", path: "/login", body: loginBody("alice", wrongPW)}, 401, wrong, "", 0},
		{"another user's password", req{method: "POST", path: "/login", body: loginBody("alice", bobPW)}, 401, wrong, "", 0},
		{"unknown name", req{method: "POST", path: "/login", body: loginBody("mallory", wrongPW)}, 401, wrong, "", 0},
		{"password typed as the name", req{method: "POST", path: "/login", body: loginBody(alicePW, "")}, 401, wrong, "", 0},
		{"a token is no password", req{method: "POST", path: "/login", body: loginBody("ci", ciToken)}, 401, wrong, "", 0},
		{"empty body", req{method: "POST", path: "/login"}, 400,
			errorBody("bad_body", `body: expected JSON {"name": ..., "password": ...}`), "", 0},
		{"unknown field", req{method: "POST", path: "/login", body: `{"name": "alice", "pass": "x"}`}, 400,
			errorBody("bad_body", `body: expected JSON {"name": ..., "password": ...}`), "", 0},
		{"GET", req{method: "GET", path: "/login"}, 405,
			errorBody("method_not_allowed", `GET is not allowed on a login; POST {"name": ..., "password": ...}`), "", 0},
		{"from a foreign origin", req{method: "POST", path: "/login", body: loginBody("alice", alicePW),
			header: map[string]string{"Origin": evil}}, 403, errorBody("forbidden", "cross-origin request from https://evil.example refused"), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(time.Minute) // one failure a minute stays below the login limit
			res := f.do(t, tc.rq)
			if res.status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", res.status, tc.wantStatus, res.body)
			}
			if tc.wantBody != "" {
				if res.body != tc.wantBody {
					t.Errorf("body\n got %s\nwant %s", res.body, tc.wantBody)
				}
				if len(res.Cookies()) != 0 {
					t.Errorf("a failed login set cookies: %v", res.Header.Values("Set-Cookie"))
				}
				return
			}
			var c auth.Caller
			if err := json.Unmarshal([]byte(res.body), &c); err != nil {
				t.Fatal(err)
			}
			if c.Name != tc.wantUser || c.Role != tc.wantRole || c.Via != "session" || len(c.CSRFToken) < 40 ||
				!c.Expires.Equal(f.clock.Now().Add(time.Hour)) {
				t.Errorf("answer %+v, want %s, %s, session, a CSRF token, expiring in an hour", c, tc.wantUser, tc.wantRole)
			}
			if !strings.Contains(res.body, `"role":"`+tc.wantRole.String()+`"`) {
				t.Errorf("the role must be answered by name: %s", res.body)
			}
			// The cookie identifies the user.
			got := f.do(t, req{method: "GET", path: "/do", cookie: sessionCookie(t, res.Response).Value})
			if wantBody := testBody("name", tc.wantUser, "role", tc.wantRole.String(), "via", "session"); got.body != wantBody {
				t.Errorf("with the cookie: %d %s, want %s", got.status, got.body, wantBody)
			}
		})
	}
	logs := f.logs.String()
	for _, line := range []string{
		`msg="login failed: wrong password" user=alice`,
		`msg="login failed: unknown name" remote=127.0.0.1:`,
		`msg=login user=alice role=admin`,
	} {
		if !strings.Contains(logs, line) {
			t.Errorf("log lacks %q:\n%s", line, logs)
		}
	}
	if strings.Contains(logs, "mallory") {
		t.Errorf("the log names an unknown login name:\n%s", logs)
	}
}

func TestCookieAttributes(t *testing.T) {
	f := newFixture(t, testAuth())
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(f.a.Login))
	defer tlsSrv.Close()
	for _, tc := range []struct {
		name       string
		client     *http.Client
		base       string
		header     map[string]string
		wantSecure bool
	}{
		{"plain HTTP", f.srv.Client(), f.srv.URL, nil, false},
		{"behind an HTTPS proxy", f.srv.Client(), f.srv.URL, map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"HTTPS", tlsSrv.Client(), tlsSrv.URL, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.doWith(t, tc.client, tc.base, req{method: "POST", path: "/login", body: loginBody("alice", alicePW), header: tc.header})
			if res.status != 200 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if tc.name == "HTTPS" && res.TLS == nil {
				t.Fatal("not over TLS")
			}
			c := sessionCookie(t, res.Response)
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != 3600 || c.Secure != tc.wantSecure {
				t.Errorf("cookie %s: want HttpOnly, SameSite=Strict, Path=/, Max-Age=3600, Secure=%t", res.Header.Get("Set-Cookie"), tc.wantSecure)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
			}
		})
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestIdentify(t *testing.T) {
	f := newFixture(t, testAuth())
	alice, _ := f.login(t, "alice", alicePW)
	payload, sig, _ := strings.Cut(alice.Value, ".")
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	asBob := base64.RawURLEncoding.EncodeToString(bytes.Replace(data, []byte(`"n":"alice"`), []byte(`"n":"bob"`), 1)) + "." + sig
	// The first character carries six whole bits of the MAC (the last one carries only four, so changing it
	// may leave the decoded bytes alone).
	flipped := "A"
	if sig[0] == 'A' {
		flipped = "B"
	}
	// And a last character that differs only in the bits the encoding leaves unused must not pass either.
	last := strings.IndexByte(b64Alphabet, sig[len(sig)-1])
	padded := alice.Value[:len(alice.Value)-1] + string(b64Alphabet[last^1])
	other := newFixture(t, func() config.Auth { c := testAuth(); c.SessionSecret = strings.Repeat("x", 32); return c }())
	otherCookie, _ := other.login(t, "alice", alicePW)

	okAlice := testBody("name", "alice", "role", "admin", "via", "session")
	okCI := testBody("name", "ci", "role", "viewer", "via", "token")
	invalid := testBody("error", "invalid session cookie; log in again")
	for _, tc := range []struct {
		name   string
		header map[string]string
		cookie string
		status int
		body   string
	}{
		{"no credentials", nil, "", 401, testBody("error", "log in")},
		{"bearer token", map[string]string{"Authorization": "Bearer " + ciToken}, "", 200, okCI},
		{"bearer, lower case", map[string]string{"Authorization": "bearer  " + deployToken}, "", 200,
			testBody("name", "deploy", "role", "operator", "via", "token")},
		{"wrong bearer token", map[string]string{"Authorization": "Bearer " + wrongToken}, "", 401, testBody("error", "unknown bearer token")},
		{"token prefix", map[string]string{"Authorization": "Bearer " + ciToken[:35]}, "", 401, testBody("error", "unknown bearer token")},
		{"empty bearer token", map[string]string{"Authorization": "Bearer "}, "", 401, testBody("error", "empty bearer token")},
		{"basic auth (see TestBasic)", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+alicePW))}, "", 200,
			testBody("name", "alice", "role", "admin", "via", "basic")},
		{"digest auth", map[string]string{"Authorization": `Digest username="alice"`}, "", 401,
			testBody("error", "unsupported Authorization scheme Digest (expected Bearer TOKEN or Basic credentials)")},
		{"a password as the header", map[string]string{"Authorization": wrongPW}, "", 401,
			testBody("error", "unsupported Authorization header (expected Bearer TOKEN or Basic credentials)")},
		{"a bare token as the header", map[string]string{"Authorization": ciToken}, "", 401,
			testBody("error", "unsupported Authorization header (expected Bearer TOKEN or Basic credentials)")},
		{"session", nil, alice.Value, 200, okAlice},
		{"a bearer token wins over the cookie", map[string]string{"Authorization": "Bearer " + ciToken}, alice.Value, 200, okCI},
		{"payload changed to bob", nil, asBob, 401, invalid},
		{"signature changed", nil, payload + "." + flipped + sig[1:], 401, invalid},
		{"signature with other unused bits", nil, padded, 401, invalid},
		{"no signature", nil, payload, 401, invalid},
		{"garbage", nil, "hello.world", 401, invalid},
		{"cookie of a server with another secret", nil, otherCookie.Value, 401, invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, req{method: "GET", path: "/do", header: tc.header, cookie: tc.cookie})
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
}

// TestSessionLifetime: a session ends when it expires, when its user leaves the config or changes password;
// the role comes from the config, and processes sharing the secret share sessions and CSRF tokens.
func TestSessionLifetime(t *testing.T) {
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newFixtureAt(t, testAuth(), clk)
	alice, caller := f.login(t, "alice", alicePW)
	bob, _ := f.login(t, "bob", bobPW)

	noAlice := testAuth()
	noAlice.Users = noAlice.Users[1:]
	newPassword := testAuth()
	newPassword.Users[0].PasswordHash = hashes()[newAlicePW]
	demoted := testAuth()
	demoted.Users[0].Role = "viewer"
	for _, tc := range []struct {
		name   string
		cfg    config.Auth
		cookie *http.Cookie
		status int
		body   string
	}{
		{"same config, another process", testAuth(), alice, 200, testBody("name", "alice", "role", "admin", "via", "session")},
		{"alice removed", noAlice, alice, 401, testBody("error", `user "alice" of this session is no longer configured; log in again`)},
		{"bob stays when alice is removed", noAlice, bob, 200, testBody("name", "bob", "role", "operator", "via", "session")},
		{"alice's password changed", newPassword, alice, 401, testBody("error", `the password of "alice" changed since this session began; log in again`)},
		{"alice made a viewer", demoted, alice, 200, testBody("name", "alice", "role", "viewer", "via", "session")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFixtureAt(t, tc.cfg, clk)
			res := p.do(t, req{method: "GET", path: "/do", cookie: tc.cookie.Value})
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
	t.Run("the CSRF token works on another process", func(t *testing.T) {
		p := newFixtureAt(t, testAuth(), clk)
		res := p.do(t, req{method: "POST", path: "/do", cookie: alice.Value, header: map[string]string{auth.CSRFHeader: caller.CSRFToken}})
		if res.status != 200 {
			t.Errorf("got %d %s", res.status, res.body)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		clk.Advance(time.Hour - time.Second)
		if res := f.do(t, req{method: "GET", path: "/do", cookie: alice.Value}); res.status != 200 {
			t.Errorf("a second before expiry: %d %s", res.status, res.body)
		}
		clk.Advance(time.Second)
		res := f.do(t, req{method: "GET", path: "/do", cookie: alice.Value})
		if want := testBody("error", "session expired; log in again"); res.status != 401 || res.body != want {
			t.Errorf("at expiry: %d %s, want 401 %s", res.status, res.body, want)
		}
	})
}

func TestCheckMutation(t *testing.T) {
	f := newFixture(t, testAuth())
	alice, caller := f.login(t, "alice", alicePW)
	alice2, caller2 := f.login(t, "alice", alicePW)
	if caller.CSRFToken == caller2.CSRFToken {
		t.Fatal("two sessions share a CSRF token")
	}
	ok := testBody("name", "alice", "role", "admin", "via", "session")
	okCI := testBody("name", "ci", "role", "viewer", "via", "token")
	csrf := testBody("error", "missing or wrong X-CSRF-Token header")
	foreign := testBody("error", "cross-origin request from https://evil.example refused")
	bearer := "Bearer " + ciToken
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		cookie *http.Cookie
		status int
		body   string
	}{
		{"session without a CSRF token", "POST", nil, alice, 403, csrf},
		{"session with a wrong CSRF token", "POST", map[string]string{auth.CSRFHeader: "nope"}, alice, 403, csrf},
		{"session with another session's CSRF token", "POST", map[string]string{auth.CSRFHeader: caller2.CSRFToken}, alice, 403, csrf},
		{"session with its CSRF token", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken}, alice, 200, ok},
		{"the other session with its token", "DELETE", map[string]string{auth.CSRFHeader: caller2.CSRFToken}, alice2, 200, ok},
		{"DELETE without a CSRF token", "DELETE", nil, alice, 403, csrf},
		{"same origin", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Origin": f.srv.URL}, alice, 200, ok},
		{"foreign origin", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Origin": evil}, alice, 403, foreign},
		{"same host, another port", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Origin": "http://127.0.0.1:1"}, alice, 403,
			testBody("error", "cross-origin request from http://127.0.0.1:1 refused")},
		{"same host and port over https", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Origin": strings.Replace(f.srv.URL, "http:", "https:", 1)}, alice, 200, ok},
		{"origin null", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Origin": "null"}, alice, 403,
			testBody("error", "cross-origin request from null refused")},
		{"odd origin is quoted", "POST", map[string]string{"Origin": `https://a b"c`}, alice, 403,
			testBody("error", `cross-origin request from "https://a b\"c" refused`)},
		{"Sec-Fetch-Site: cross-site", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Sec-Fetch-Site": "cross-site"}, alice, 403,
			testBody("error", "cross-site request refused (Sec-Fetch-Site: cross-site)")},
		{"Sec-Fetch-Site: same-origin", "POST", map[string]string{auth.CSRFHeader: caller.CSRFToken, "Sec-Fetch-Site": "same-origin"}, alice, 200, ok},
		{"reads are not guarded", "GET", map[string]string{"Origin": evil, "Sec-Fetch-Site": "cross-site"}, alice, 200, ok},
		{"bearer needs no CSRF token", "POST", map[string]string{"Authorization": bearer}, nil, 200, okCI},
		{"bearer from a foreign origin", "POST", map[string]string{"Authorization": bearer, "Origin": evil}, nil, 403, foreign},
		{"bearer with cross-site fetch metadata", "PUT", map[string]string{"Authorization": bearer, "Sec-Fetch-Site": "cross-site"}, nil, 403,
			testBody("error", "cross-site request refused (Sec-Fetch-Site: cross-site)")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rq := req{method: tc.method, path: "/do", header: tc.header}
			if tc.cookie != nil {
				rq.cookie = tc.cookie.Value
			}
			res := f.do(t, rq)
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
}

// TestAuthOff: without users or tokens everyone is the anonymous admin, but a cross-site POST is still
// refused (the loopback console's pause/resume buttons).
func TestAuthOff(t *testing.T) {
	f := newFixture(t, config.Auth{})
	if f.a.Enabled() {
		t.Fatal("Enabled() with no users or tokens")
	}
	anon := testBody("name", "anonymous", "role", "admin", "via", "anonymous")
	for _, tc := range []struct {
		name   string
		rq     req
		status int
		body   string
	}{
		{"read", req{method: "GET", path: "/do"}, 200, anon},
		{"a token is ignored", req{method: "GET", path: "/do", header: map[string]string{"Authorization": "Bearer " + wrongToken}}, 200, anon},
		{"POST without an origin", req{method: "POST", path: "/do"}, 200, anon},
		{"POST from the console", req{method: "POST", path: "/do", header: map[string]string{"Origin": f.srv.URL}}, 200, anon},
		{"cross-site POST", req{method: "POST", path: "/do", header: map[string]string{"Origin": evil}}, 403,
			testBody("error", "cross-origin request from https://evil.example refused")},
		{"cross-site POST without an origin", req{method: "POST", path: "/do", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403,
			testBody("error", "cross-site request refused (Sec-Fetch-Site: cross-site)")},
		{"login", req{method: "POST", path: "/login", body: loginBody("alice", alicePW)}, 404,
			errorBody("not_found", "authentication is off (no auth users or tokens are configured)")},
		{"me", req{method: "GET", path: "/me"}, 200, `{"name":"anonymous","role":"admin","via":"anonymous"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.rq)
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
}

func TestMe(t *testing.T) {
	f := newFixture(t, testAuth())
	alice, caller := f.login(t, "alice", alicePW)
	for _, tc := range []struct {
		name   string
		rq     req
		status int
		body   string
	}{
		{"session", req{method: "GET", path: "/me", cookie: alice.Value}, 200,
			`{"name":"alice","role":"admin","via":"session","csrf_token":"` + caller.CSRFToken + `","expires":"2026-03-01T13:00:00Z"}` + "\n"},
		{"token", req{method: "GET", path: "/me", header: map[string]string{"Authorization": "Bearer " + deployToken}}, 200,
			`{"name":"deploy","role":"operator","via":"token"}` + "\n"},
		{"nobody", req{method: "GET", path: "/me"}, 200, `{"name":"","role":"none","via":""}` + "\n"},
		{"bad cookie", req{method: "GET", path: "/me", cookie: "x.y"}, 401, testBody("error", "invalid session cookie; log in again")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.rq)
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, testAuth())
	alice, _ := f.login(t, "alice", alicePW)
	res := f.do(t, req{method: "POST", path: "/logout", cookie: alice.Value, header: map[string]string{"Origin": f.srv.URL}})
	if res.status != http.StatusNoContent || res.body != "" {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	c := sessionCookie(t, res.Response)
	if c.Value != "" || c.MaxAge >= 0 || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("logout cookie %s: want an empty value, Max-Age=0, HttpOnly, SameSite=Strict, Path=/", res.Header.Get("Set-Cookie"))
	}
	for _, tc := range []struct {
		name   string
		rq     req
		status int
		body   string
	}{
		{"GET", req{method: "GET", path: "/logout"}, 405, errorBody("method_not_allowed", "GET is not allowed on a logout; POST")},
		{"from a foreign origin", req{method: "POST", path: "/logout", header: map[string]string{"Origin": evil}}, 403,
			errorBody("forbidden", "cross-origin request from https://evil.example refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.rq)
			if res.status != tc.status || res.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tc.status, tc.body)
			}
		})
	}
}

// TestLoginRateLimit: 5 failures within a minute from one address refuse its logins, even right ones, for
// 5 minutes; older failures are forgotten, a success forgives, and a malformed body does not count.
func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, testAuth())
	wrong := errorBody("unauthenticated", "wrong name or password")
	type step struct {
		advance    time.Duration
		name, pw   string
		status     int
		body       string // "" for a successful login
		retryAfter string
	}
	fail := func(advance time.Duration) step {
		return step{advance: advance, name: "alice", pw: wrongPW, status: 401, body: wrong}
	}
	good := step{name: "alice", pw: alicePW, status: 200}
	blocked := func(advance time.Duration, wait string, retry string) step {
		return step{advance: advance, name: "alice", pw: alicePW, status: 429, retryAfter: retry,
			body: errorBody("too_many_requests", "too many failed logins from this address; try again in "+wait)}
	}
	steps := []step{
		fail(0), fail(0), fail(0), fail(0),
		good, // forgives the four
		fail(0), fail(0), fail(0), fail(0),
		fail(61 * time.Second), // the first four left the window
		{name: "bob", pw: "", status: 400, body: errorBody("bad_body", `body: expected JSON {"name": ..., "password": ...}`)},
		fail(0), fail(0), fail(0),
		{name: "nobody", pw: wrongPW, status: 401, body: wrong}, // the fifth failure within a minute
		blocked(0, "5m0s", "300"),
		{advance: time.Minute, name: "bob", pw: bobPW, status: 429, retryAfter: "240",
			body: errorBody("too_many_requests", "too many failed logins from this address; try again in 4m0s")},
		blocked(4*time.Minute-time.Second, "1s", "1"),
		{advance: time.Second, name: "alice", pw: alicePW, status: 200},
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		body := loginBody(s.name, s.pw)
		if s.status == 400 {
			body = "{"
		}
		res := f.do(t, req{method: "POST", path: "/login", body: body})
		if res.status != s.status || (s.body != "" && res.body != s.body) {
			t.Fatalf("step %d (%s): got %d %s\nwant %d %s", i, s.name, res.status, res.body, s.status, s.body)
		}
		if got := res.Header.Get("Retry-After"); got != s.retryAfter {
			t.Errorf("step %d: Retry-After %q, want %q", i, got, s.retryAfter)
		}
	}
	if !strings.Contains(f.logs.String(), `msg="login refused: too many failed logins" remote=127.0.0.1:`) {
		t.Errorf("the refusal is not logged:\n%s", f.logs.String())
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Auth)
		want string
	}{
		{"bad role", func(a *config.Auth) { a.Users[1].Role = "root" },
			`auth.users[1].role: unknown role "root" (expected one of: viewer, operator, admin)`},
		{"plain password", func(a *config.Auth) { a.Users[0].PasswordHash = alicePW }, `auth.users[0].password_hash: not a bcrypt hash`},
		{"short token", func(a *config.Auth) { a.Tokens[0].Token = wrongPW }, `auth.tokens[0].token: must be at least 32 characters, got 17`},
		{"duplicate name", func(a *config.Auth) { a.Tokens[1].Name = "bob" }, `auth.tokens[1].name: duplicate name "bob" (also auth.users[1].name)`},
		{"empty name", func(a *config.Auth) { a.Users[0].Name = "" }, `auth.users[0].name: must not be empty`},
		{"short secret", func(a *config.Auth) { a.SessionSecret = "short" }, `auth.session_secret: must be at least 32 bytes, got 5`},
		{"long TTL", func(a *config.Auth) { a.SessionTTL = 31 * 24 * time.Hour }, `auth.session_ttl: must be between 1m and 720h (30 days), got 744h0m0s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testAuth()
			tc.edit(&cfg)
			_, err := auth.New(cfg)
			if err == nil || err.Error() != tc.want {
				t.Errorf("New: %v, want %s", err, tc.want)
			}
		})
	}
	// Defaults: a random secret and 12-hour sessions.
	cfg := testAuth()
	cfg.SessionSecret, cfg.SessionTTL = "", 0
	f := newFixture(t, cfg)
	alice, c := f.login(t, "alice", alicePW)
	if alice.MaxAge != 12*3600 || !c.Expires.Equal(f.clock.Now().Add(12*time.Hour)) {
		t.Errorf("default TTL: Max-Age %d, expires %s", alice.MaxAge, c.Expires)
	}
	other := newFixtureAt(t, cfg, f.clock)
	if res := other.do(t, req{method: "GET", path: "/do", cookie: alice.Value}); res.status != 401 {
		t.Errorf("two processes with random secrets share a session: %d %s", res.status, res.body)
	}
}

func TestHashPassword(t *testing.T) {
	h, err := auth.HashPassword(alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != auth.HashCost {
		t.Errorf("cost %d (%v), want %d", cost, err, auth.HashCost)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(alicePW)); err != nil {
		t.Errorf("the hash does not match its password: %v", err)
	}
	// The hash is a valid password_hash for a user.
	if _, err := auth.New(config.Auth{Users: []config.AuthUser{{Name: "alice", PasswordHash: h, Role: "admin"}}}); err != nil {
		t.Errorf("New with the hash: %v", err)
	}
	for pw, want := range map[string]string{
		"":                      "the password is empty",
		strings.Repeat("p", 73): "the password is 73 bytes long; bcrypt uses at most 72",
	} {
		if _, err := auth.HashPassword(pw); err == nil || err.Error() != want {
			t.Errorf("HashPassword(%d bytes): %v, want %s", len(pw), err, want)
		}
	}
}
