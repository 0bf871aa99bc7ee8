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
	limit, err := r.Int("limit", audit.DefaultLimit, 1, audit.MaxLimit)
	if err != nil {
		return nil, err
	}
	before, err := r.Int("before_id", 0, 0, 1<<62)
	if err != nil {
		return nil, err
	}
	q := audit.Query{Limit: int(limit), BeforeID: before, Actor: r.URL.Query().Get("actor")}
	items, err := m.p.Audit.List(r.Context(), q)
	if err != nil {
		return nil, auditError(err)
	}
	// One entry past the page says whether there are more (the store lists at most audit.MaxLimit at once).
	more := false
	if len(items) == int(limit) {
		q.Limit, q.BeforeID = 1, items[len(items)-1].ID
		next, err := m.p.Audit.List(r.Context(), q)
		if err != nil {
			return nil, auditError(err)
		}
		more = len(next) > 0
	}
	if items == nil {
		items = []audit.Entry{}
	}
	return map[string]any{"items": items, "more": more}, nil
}

// auditQueryParams are the query parameters of the audit.Query fields a *audit.QueryError names.
var auditQueryParams = map[string]string{"Limit": "limit", "BeforeID": "before_id", "Actor": "actor"}

// auditError maps a query the store refused to a 400 naming the request's parameter.
func auditError(err error) error {
	var qe *audit.QueryError
	if errors.As(err, &qe) {
		param := auditQueryParams[qe.Field]
		if param == "" {
			param = qe.Field
		}
		return api.BadParam(param, "%s", qe.Message)
	}
	return err
}
