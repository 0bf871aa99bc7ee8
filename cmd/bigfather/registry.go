package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
	"github.com/bigfather/bigfather/internal/registry"
)

// guardRegistry puts the console's authentication, roles and audit log in front of the registry API: reading
// (and looking up, and testing compatibility) needs a viewer, changing anything an operator; a foreign Origin
// may change nothing; every mutating call is audited. Errors keep the registry's body shape,
// {"error_code": N, "message": "..."}, with Confluent's 40101 and 40301.
func guardRegistry(next http.Handler, authn *auth.Authenticator, auditor api.Auditor, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mutating := registry.IsMutating(r)
		id := auth.Identity{Name: "anonymous", Role: auth.Admin, Via: auth.ViaAnonymous}
		var err error
		if authn != nil {
			id, err = authn.Identify(r)
		}
		status, msg := 0, ""
		need := auth.Viewer
		if mutating {
			need = auth.Operator
		}
		switch {
		case err != nil:
			status, msg = http.StatusUnauthorized, "Unauthorized: "+err.Error()
		case id.Role == auth.None:
			status, msg = http.StatusUnauthorized, "Unauthorized: give a bearer token or log in"
		case id.Role < need:
			status, msg = http.StatusForbidden, "Forbidden: this needs the "+need.String()+" role; "+id.Name+" is a "+id.Role.String()
		}
		if status == 0 && mutating && authn != nil {
			if err := authn.CheckMutation(r, id); err != nil {
				status, msg = http.StatusForbidden, "Forbidden: "+err.Error()
			}
		}
		if status != 0 {
			writeRegistryError(w, status, msg)
			if mutating {
				recordRegistry(r, id, status, auditor, log)
			}
			return
		}
		if !mutating {
			next.ServeHTTP(w, r)
			return
		}
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		recordRegistry(r, id, rec.code, auditor, log)
	})
}

func writeRegistryError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", registry.ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}{status*100 + 1, msg})
}

// recordRegistry writes a mutating registry call to the audit log.
func recordRegistry(r *http.Request, id auth.Identity, status int, auditor api.Auditor, log *slog.Logger) {
	e := audit.Entry{At: time.Now().UTC(), Actor: id.Name, Role: id.Role.String(), Via: id.Via, Method: r.Method,
		Path: r.URL.RequestURI(), Action: r.Method + " " + r.URL.Path, Remote: r.RemoteAddr, Status: status, Outcome: "ok"}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Outcome = "denied"
	case status >= 400:
		e.Outcome = "error"
	}
	if err := auditor.Record(r.Context(), e); err != nil {
		log.Error("writing the audit log failed", "action", e.Action, "actor", id.Name, "err", err)
	}
}

// codeRecorder remembers the status code written.
type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}
