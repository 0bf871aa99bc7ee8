package webapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/query"
)

// sqlAPI is the SQL page's API family: read-only queries with a row and time limit, and each user's history.
type sqlAPI struct{ p *Platform }

// Limits of one query.
const (
	defaultMaxRows = 10_000
	maxMaxRows     = 100_000
	defaultTimeout = 30 * time.Second
	maxTimeout     = 300 * time.Second
)

func (m sqlAPI) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Path: "/sql", Role: auth.Viewer, Summary: "Run one read-only SELECT over every table (the sandboxed DuckDB engine)",
			Body:  `{"query": "select ...", "max_rows": 1 to 100000 (default 10000), "timeout_seconds": 1 to 300 (default 30)}`,
			Audit: "sql query", Handler: m.run},
		{Method: http.MethodGet, Path: "/sql/history", Role: auth.Viewer, Summary: "The caller's last 50 queries, newest first", Handler: m.history},
	}
}

type sqlRequest struct {
	Query          string `json:"query"`
	MaxRows        int    `json:"max_rows"`
	TimeoutSeconds int    `json:"timeout_seconds"`
}

type sqlResult struct {
	Columns   []string `json:"columns"`
	Types     []string `json:"types"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	TookMS    int64    `json:"took_ms"`
}

func (m sqlAPI) run(r *api.Request) (any, error) {
	var req sqlRequest
	if err := api.DecodeBody(r, &req); err != nil {
		return nil, err
	}
	q := strings.TrimSpace(req.Query)
	if q == "" {
		return nil, api.BadParam("query", "expected one SELECT statement, got nothing")
	}
	if req.MaxRows == 0 {
		req.MaxRows = defaultMaxRows
	}
	if req.MaxRows < 1 || req.MaxRows > maxMaxRows {
		return nil, api.BadParam("max_rows", "expected 1 to %d, got %d", maxMaxRows, req.MaxRows)
	}
	timeout := defaultTimeout
	if req.TimeoutSeconds != 0 {
		timeout = time.Duration(req.TimeoutSeconds) * time.Second
	}
	if timeout < time.Second || timeout > maxTimeout {
		return nil, api.BadParam("timeout_seconds", "expected 1 to %d, got %d", int(maxTimeout/time.Second), req.TimeoutSeconds)
	}
	start := time.Now()
	res, err := m.query(r.Context(), q, req.MaxRows, timeout)
	entry := historyEntry{At: start.UTC(), Query: q, TookMS: time.Since(start).Milliseconds()}
	if err != nil {
		entry.Error = err.Error()
		m.p.sqlHistory.add(r.Identity.Name, entry)
		return nil, err
	}
	n := len(res.Rows)
	entry.Rows = &n
	m.p.sqlHistory.add(r.Identity.Name, entry)
	res.TookMS = entry.TookMS
	return res, nil
}

// query runs q with at most maxRows rows (one more is read to tell that there were more) and a deadline.
func (m sqlAPI) query(ctx context.Context, q string, maxRows int, timeout time.Duration) (*sqlResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	eng, err := m.p.engine(ctx)
	if err != nil {
		return nil, api.Unavailable("opening the query engine: %v", err)
	}
	defer eng.Close()
	res, err := eng.QueryLimit(ctx, q, maxRows+1)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (err != nil && ctx.Err() != nil):
		return nil, api.BadParam("timeout_seconds", "the query ran longer than %s and was stopped", timeout)
	case errors.Is(err, query.ErrRefused):
		return nil, api.BadParam("query", "%s", strings.TrimPrefix(err.Error(), "running query: "))
	case err != nil:
		return nil, api.BadParam("query", "%s", strings.TrimPrefix(err.Error(), "running query: "))
	}
	out := &sqlResult{Columns: res.Columns, Types: res.Types, Rows: res.JSONRows()}
	if len(out.Rows) > maxRows {
		out.Rows, out.Truncated = out.Rows[:maxRows], true
	}
	if out.Columns == nil {
		out.Columns, out.Types = []string{}, []string{}
	}
	return out, nil
}

func (m sqlAPI) history(r *api.Request) (any, error) {
	items := m.p.sqlHistory.list(r.Identity.Name)
	if items == nil {
		items = []historyEntry{}
	}
	return map[string]any{"items": items}, nil
}
