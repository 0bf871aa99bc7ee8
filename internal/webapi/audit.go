package webapi

import (
	"errors"
	"net/http"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/auth/audit"
)

// auditLog is the Audit page's API family: admins read every mutating call.
type auditLog struct{ p *Platform }

func (m auditLog) Routes() []api.Route {
	return []api.Route{{Method: http.MethodGet, Path: "/audit", Role: auth.Admin, Summary: "The audit log, newest first: who changed what, when, from where, with what outcome",
		Params: []api.Param{
			{Name: "limit", In: "query", Type: "integer", Description: "entries, 1 to 500 (default 50)"},
			{Name: "before_id", In: "query", Type: "integer", Description: "only entries older than this id (the last id of the previous page)"},
			{Name: "actor", In: "query", Description: "only this user or token"},
		}, Handler: m.list}}
}

func (m auditLog) list(r *api.Request) (any, error) {
	if m.p.Audit == nil {
		return nil, api.Unavailable("the audit log needs a SQLite or Postgres catalog; with a REST catalog it goes to the process log")
	}
	limit, err := r.Int("limit", 50, 1, 500)
	if err != nil {
		return nil, err
	}
	before, err := r.Int("before_id", 0, 0, 1<<62)
	if err != nil {
		return nil, err
	}
	items, err := m.p.Audit.List(r.Context(), audit.Query{Limit: int(limit) + 1, BeforeID: before, Actor: r.URL.Query().Get("actor")})
	if err != nil {
		var qe *audit.QueryError
		if errors.As(err, &qe) {
			return nil, api.BadParam(qe.Field, "%s", qe.Message)
		}
		return nil, err
	}
	more := len(items) > int(limit)
	if more {
		items = items[:limit]
	}
	return map[string]any{"items": items, "more": more}, nil
}
