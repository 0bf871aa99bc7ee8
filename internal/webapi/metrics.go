package webapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/metrics"
)

// metricsAPI is the Metrics page's API family: the configured game metrics and their rows over a range of
// days, as `bigfather metrics list` and `metrics show` print them.
type metricsAPI struct{ p *Platform }

func (m metricsAPI) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/metrics", Role: auth.Viewer,
			Summary: "The configured metrics: name, kind, source table, definition (semantics), dimensions, time zone, unit, chart and the table they are materialized in",
			Handler: m.list},
		{Method: http.MethodGet, Path: "/metrics/{name}", Role: auth.Viewer,
			Summary: "A metric's rows for days from..to (local days of its time zone), optionally broken down by a dimension, with how complete they are (complete_until, the source snapshot, the completeness report's gaps); format=csv downloads the rows as CSV",
			Params: []api.Param{
				{Name: "name", In: "path", Required: true, Description: "the metric"},
				{Name: "from", In: "query", Description: "first day, YYYY-MM-DD (default: 30 days before to)"},
				{Name: "to", In: "query", Description: "last day, YYYY-MM-DD (default: the newest day with data)"},
				{Name: "by", In: "query", Description: "a dimension of the metric to break the rows down by"},
				{Name: "format", In: "query", Description: "json (default) or csv"},
			}, Handler: m.show},
	}
}

// errNoMetrics answers when the process has no metrics service (the config declares no metrics).
var errNoMetrics = &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no metrics are configured"}

func (m metricsAPI) service() (*metrics.Service, error) {
	if m.p.GameMetrics == nil {
		return nil, errNoMetrics
	}
	return m.p.GameMetrics, nil
}

func (m metricsAPI) list(r *api.Request) (any, error) {
	svc, err := m.service()
	if err != nil {
		return nil, err
	}
	list := svc.List()
	if list == nil {
		list = []metrics.Info{}
	}
	return map[string]any{"metrics": list}, nil
}

// fileDay is what a CSV file name may carry of a day (the service answers YYYY-MM-DD).
var fileDay = regexp.MustCompile(`^[0-9-]*$`)

func (m metricsAPI) show(r *api.Request) (any, error) {
	svc, err := m.service()
	if err != nil {
		return nil, err
	}
	format, err := r.OneOf("format", "json", "json", "csv")
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	qs := r.URL.Query()
	res, err := svc.Show(r.Context(), metrics.Query{Name: name, From: qs.Get("from"), To: qs.Get("to"), By: qs.Get("by")})
	if err != nil {
		return nil, metricError(name, err)
	}
	if format == "json" {
		return res, nil
	}
	// Written whole first, so a failure is still a JSON error rather than half a file.
	var buf bytes.Buffer
	if err := res.Write(&buf, "csv"); err != nil {
		return nil, fmt.Errorf("writing metric %s as CSV: %w", name, err)
	}
	from, to := res.From, res.To
	if !fileDay.MatchString(from) || !fileDay.MatchString(to) {
		from, to = "", ""
	}
	w := r.Writer
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s_%s_%s.csv"`, name, from, to))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := w.Write(buf.Bytes()); err != nil {
		m.p.Log.Warn("writing a metric export failed", "metric", name, "err", err)
	}
	return api.Streamed, nil
}

// metricError turns the service's errors into the API's: an unknown metric is a 404 naming it, a bad query
// parameter a 400 naming the parameter; anything else is the server's fault.
func metricError(name string, err error) error {
	var pe *metrics.ParamError
	switch {
	case errors.Is(err, metrics.ErrUnknownMetric):
		return api.NotFound("metric", name)
	case errors.As(err, &pe):
		return api.BadParam(pe.Param, "%s", pe.Msg)
	}
	return fmt.Errorf("showing metric %s: %w", name, err)
}
