// Package audit is the audit log: one record per mutating call on the HTTP surface (who, what, when, from where,
// with what outcome), kept in the platform's database (the catalog's SQLite file or Postgres database).
//
// Open opens the log in that database (table bigfather_audit, created when missing); Store.Record appends an
// Entry and Store.List pages through them, newest first. There is no retention: the log grows by one small row
// per mutating API call.
package audit

import "time"

// Entry is one audited call.
type Entry struct {
	// ID orders the entries; set by the store.
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is the user or token name ("anonymous" when authentication is off); Role and Via as auth.Identity.
	Actor string `json:"actor"`
	Role  string `json:"role"`
	Via   string `json:"via"`
	// Method and Path are the HTTP request's; Action names what it does, e.g. "POST /api/v1/pipelines/{name}/pause".
	Method string `json:"method"`
	Path   string `json:"path"`
	Action string `json:"action"`
	// Remote is the caller's address.
	Remote string `json:"remote"`
	// Outcome is ok, denied (401/403) or error; Status the HTTP status answered; Detail the error message.
	Outcome string `json:"outcome"`
	Status  int    `json:"status"`
	Detail  string `json:"detail,omitempty"`
}
