// Package api is the frame of Big Father's JSON API under /api/v1: one table of routes, each with the role it
// needs and what it documents, one handler signature (data or a typed error), one error body written in one
// place, role checks on every route and an audit record of every mutating call. Each console page's API family
// is a Module that contributes routes; the OpenAPI document is generated from the same table.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// Handler answers one request with data (written as JSON with status 200) or an error (an *Error is written as
// is; any other error is a 500 that does not leak its text).
type Handler func(r *Request) (any, error)

// Request is an HTTP request with the caller's identity.
type Request struct {
	*http.Request
	// Identity is the caller. A handler that establishes who the caller is (a login) sets it, so that the
	// audit record of the call names them.
	Identity auth.Identity
	// Writer lets a handler stream its own answer (CSV downloads, live tails); it then returns Streamed.
	Writer http.ResponseWriter
}

// Streamed is what a handler returns after writing its own answer through Request.Writer.
var Streamed = streamed{}

type streamed struct{}

// Param documents one parameter of a route.
type Param struct {
	Name string
	// In is "path" or "query".
	In          string
	Type        string // string, integer, boolean, number
	Required    bool
	Description string
}

// Route is one endpoint: its method, its path under Prefix (Go ServeMux pattern syntax, e.g.
// "/pipelines/{name}"), the least role that may call it, and its documentation.
type Route struct {
	Method  string
	Path    string
	Role    auth.Role
	Summary string
	Params  []Param
	// Body documents a JSON request body, when the route takes one (a short description of its fields).
	Body    string
	Handler Handler
	// Audit names the action recorded for a mutating call (default "METHOD path").
	Audit string
}

// Mutates reports whether the route changes something (and is audit-logged).
func (rt Route) Mutates() bool {
	return rt.Method != http.MethodGet && rt.Method != http.MethodHead
}

// Module is an API family: the routes one console page needs.
type Module interface {
	Routes() []Route
}

// Authenticator identifies callers and guards mutating requests (auth.Authenticator).
type Authenticator interface {
	// Identify returns the caller; a request without credentials is an identity with role None and no error.
	Identify(r *http.Request) (auth.Identity, error)
	// CheckMutation refuses a mutating request from a foreign origin or without the session's CSRF token.
	CheckMutation(r *http.Request, id auth.Identity) error
}

// Auditor records mutating calls.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) error
}

// API is the route table and its handler.
type API struct {
	routes []Route
	mux    *http.ServeMux
	auth   Authenticator
	audit  Auditor
	log    *slog.Logger
}

// New returns an API that identifies callers with a (nil: everyone is an anonymous admin) and records mutating
// calls with audit (nil: not recorded).
func New(a Authenticator, auditor Auditor, log *slog.Logger) *API {
	return &API{mux: http.NewServeMux(), auth: a, audit: auditor, log: log}
}

// Add registers every route of the modules. A route registered twice panics, as http.ServeMux does.
func (a *API) Add(mods ...Module) {
	for _, m := range mods {
		for _, rt := range m.Routes() {
			a.routes = append(a.routes, rt)
			a.mux.Handle(rt.Method+" "+Prefix+rt.Path, a.wrap(rt))
		}
	}
}

// Routes lists the registered routes, sorted by path and method.
func (a *API) Routes() []Route {
	out := slices.Clone(a.routes)
	slices.SortFunc(out, func(x, y Route) int {
		if c := strings.Compare(x.Path, y.Path); c != 0 {
			return c
		}
		return strings.Compare(x.Method, y.Method)
	})
	return out
}

// ServeHTTP serves the API; a path under Prefix that no route matches answers a JSON 404 (or 405).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		// ServeMux answers 404 and 405 in plain text: ours are JSON.
		rec := &statusRecorder{}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)})
			return
		}
		writeError(w, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no API route " + r.URL.Path})
		return
	}
	a.mux.ServeHTTP(w, r) // matches again, setting the path's wildcards (Handler does not)
}

// captureWriter remembers the status a handler that answers itself writes, for the audit log.
type captureWriter struct {
	http.ResponseWriter
	status int
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.ResponseWriter.Write(p)
}

// Flush lets a streaming handler (server-sent events) push what it wrote.
func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// statusRecorder catches the status ServeMux's own 404/405 handler writes.
type statusRecorder struct {
	status int
	header http.Header
}

func (s *statusRecorder) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}
func (s *statusRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

func (a *API) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		id := auth.Identity{Name: "anonymous", Role: auth.Admin, Via: "anonymous"}
		var err error
		if a.auth != nil {
			id, err = a.auth.Identify(hr)
		}
		status := 0
		// result records a mutating call; it runs before the answer is written, so a caller that has its answer
		// finds the call in the audit log.
		result := func(e error) {
			if rt.Mutates() && a.audit != nil {
				a.record(hr, rt, id, status, e)
			}
		}
		if err != nil && rt.Role == auth.None {
			// A stale cookie must not keep anyone from logging in or asking who they are.
			id, err = auth.Identity{Role: auth.None}, nil
		}
		switch {
		case err != nil:
			status = http.StatusUnauthorized
			e := &Error{Status: status, Code: "unauthenticated", Message: err.Error()}
			result(e)
			writeError(w, e)
			return
		case id.Role == auth.None && rt.Role > auth.None:
			status = http.StatusUnauthorized
			e := &Error{Status: status, Code: "unauthenticated", Message: "log in or send a bearer token"}
			result(e)
			writeError(w, e)
			return
		case id.Role < rt.Role:
			status = http.StatusForbidden
			e := &Error{Status: status, Code: "forbidden", Message: fmt.Sprintf("%s needs the %s role; %s has %s", rt.Method+" "+Prefix+rt.Path, rt.Role, id.Name, id.Role)}
			result(e)
			writeError(w, e)
			return
		}
		if rt.Mutates() && a.auth != nil {
			if err := a.auth.CheckMutation(hr, id); err != nil {
				status = http.StatusForbidden
				e := &Error{Status: status, Code: "forbidden", Message: err.Error()}
				result(e)
				writeError(w, e)
				return
			}
		}
		cw := &captureWriter{ResponseWriter: w}
		req := &Request{Request: hr, Identity: id, Writer: cw}
		data, herr := rt.Handler(req)
		id = req.Identity
		if herr != nil {
			var e *Error
			if !errors.As(herr, &e) {
				a.log.Error("api handler failed", "route", rt.Method+" "+rt.Path, "err", herr)
				e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has the details"}
			}
			status = e.Status
			result(herr)
			writeError(w, e)
			return
		}
		status = http.StatusOK
		if data != Streamed {
			result(nil)
			writeJSON(w, http.StatusOK, data)
			return
		}
		// The handler answered itself: audit what it answered.
		if cw.status != 0 {
			status = cw.status
		}
		if status >= 400 {
			result(&Error{Status: status, Message: http.StatusText(status)})
			return
		}
		result(nil)
	})
}

func (a *API) record(r *http.Request, rt Route, id auth.Identity, status int, err error) {
	action := rt.Audit
	if action == "" {
		action = rt.Method + " " + Prefix + rt.Path
	}
	e := audit.Entry{At: time.Now().UTC(), Actor: id.Name, Role: id.Role.String(), Via: id.Via, Method: r.Method,
		Path: r.URL.RequestURI(), Action: action, Remote: r.RemoteAddr, Status: status, Outcome: "ok"}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		e.Outcome = "denied"
	case err != nil:
		e.Outcome = "error"
	}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			e.Detail = ae.Message
		} else {
			e.Detail = "internal error"
		}
	}
	if aerr := a.audit.Record(r.Context(), e); aerr != nil {
		a.log.Error("writing the audit log failed", "action", action, "actor", id.Name, "err", aerr)
	}
}

// Error is an API error: its HTTP status and the body {"error": {"code", "message", "param"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Param names the request parameter at fault, if one is.
	Param string `json:"param,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// BadParam is a 400 naming the parameter at fault.
func BadParam(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_parameter", Param: param, Message: param + ": " + fmt.Sprintf(format, args...)}
}

// NotFound is a 404 naming what was not found.
func NotFound(what, name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no %s %q", what, name)}
}

// Conflict is a 409: the request is valid but the object's state refuses it.
func Conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

// Unavailable is a 503: a dependency (Kafka, the catalog) does not answer.
func Unavailable(format string, args ...any) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error *Error `json:"error"`
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, errorBody{e}) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// DecodeBody reads a JSON body into v, refusing unknown fields and more than 1 MiB.
func DecodeBody(r *Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_body", Param: "body", Message: "body: " + err.Error()}
	}
	return nil
}
