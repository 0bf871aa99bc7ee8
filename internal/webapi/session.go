package webapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
)

// session is the console's login family: who the caller is, logging in and out.
type session struct{ p *Platform }

func (m session) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/me", Role: auth.None, Summary: "The caller: name, role, how identified, and for a session its CSRF token", Handler: m.me},
		{Method: http.MethodPost, Path: "/login", Role: auth.None, Summary: "Log in with a configured user's name and password; sets the session cookie",
			Body: `{"name": "...", "password": "..."}`, Audit: "login", Handler: m.login},
		{Method: http.MethodPost, Path: "/logout", Role: auth.None, Summary: "End the session (clears the cookie)", Audit: "logout", Handler: m.logout},
	}
}

func (m session) me(r *api.Request) (any, error) {
	if m.p.Auth == nil {
		return auth.Caller{Name: r.Identity.Name, Role: r.Identity.Role, Via: r.Identity.Via}, nil
	}
	c, err := m.p.Auth.Me(r.Request)
	if err != nil {
		return nil, &api.Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: err.Error()}
	}
	if c.Role == auth.None {
		return nil, &api.Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "log in or send a bearer token"}
	}
	return c, nil
}

// maxLoginBody bounds the login body read, as auth.Login does.
const maxLoginBody = 64 << 10

func (m session) login(r *api.Request) (any, error) {
	if m.p.Auth == nil {
		return nil, api.NotFound("login", "(authentication is off: no auth users or tokens are configured)")
	}
	// The body is checked here so that a malformed one is a 400 naming the parameter, like every other;
	// auth.Login reads it again.
	data, err := io.ReadAll(io.LimitReader(r.Body, maxLoginBody))
	if err != nil {
		return nil, &api.Error{Status: http.StatusBadRequest, Code: "bad_body", Param: "body", Message: "body: " + err.Error()}
	}
	var creds struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&creds); err != nil {
		return nil, &api.Error{Status: http.StatusBadRequest, Code: "bad_body", Param: "body", Message: `body: expected JSON {"name": ..., "password": ...}`}
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	answer := &loginAnswer{ResponseWriter: r.Writer}
	m.p.Auth.Login(answer, r.Request)
	// The audit log names who logged in (only then: a failed login's name may be a mistyped password).
	var c auth.Caller
	if answer.status == http.StatusOK && json.Unmarshal(answer.body.Bytes(), &c) == nil {
		r.Identity = auth.Identity{Name: c.Name, Role: c.Role, Via: c.Via}
	}
	return api.Streamed, nil
}

// loginAnswer passes a login's answer through, keeping its status and body.
type loginAnswer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *loginAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *loginAnswer) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	a.body.Write(p)
	return a.ResponseWriter.Write(p)
}

func (m session) logout(r *api.Request) (any, error) {
	if m.p.Auth == nil {
		return nil, api.NotFound("session", "(authentication is off)")
	}
	m.p.Auth.Logout(r.Writer, r.Request)
	return api.Streamed, nil
}
