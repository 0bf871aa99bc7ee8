package webapi

import (
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

func (m session) login(r *api.Request) (any, error) {
	if m.p.Auth == nil {
		return nil, api.NotFound("login", "(authentication is off: no auth users or tokens are configured)")
	}
	m.p.Auth.Login(r.Writer, r.Request)
	return api.Streamed, nil
}

func (m session) logout(r *api.Request) (any, error) {
	if m.p.Auth == nil {
		return nil, api.NotFound("session", "(authentication is off)")
	}
	m.p.Auth.Logout(r.Writer, r.Request)
	return api.Streamed, nil
}
