package webapi

import (
	"net/http"
	"slices"

	"github.com/bigfather/bigfather/internal/alert"
	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/runbook"
)

// alertsAPI is the alert and runbook side of the Monitor page.
type alertsAPI struct{ p *Platform }

func (m alertsAPI) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/alerts", Role: auth.Viewer,
			Summary: "Pending and firing alerts, most severe first, with their labels, value, summary and runbook link", Handler: m.active},
		{Method: http.MethodGet, Path: "/alerts/rules", Role: auth.Viewer,
			Summary: "The alert rules this process evaluates (built-in and configured): condition, for, severity, runbook", Handler: m.rules},
		{Method: http.MethodGet, Path: "/runbooks", Role: auth.Viewer,
			Summary: "Every runbook: what a status or built-in alert means, how to confirm it, what to do", Handler: m.runbooks},
		{Method: http.MethodGet, Path: "/runbooks/{id}", Role: auth.Viewer, Summary: "One runbook",
			Params: []api.Param{{Name: "id", In: "path", Description: "the runbook's id, e.g. stall"}}, Handler: m.runbook},
	}
}

func (m alertsAPI) active(*api.Request) (any, error) {
	if m.p.Alerts == nil {
		return map[string]any{"items": []alert.Alert{}}, nil
	}
	items := m.p.Alerts.Active()
	if items == nil {
		items = []alert.Alert{}
	}
	return map[string]any{"items": items}, nil
}

// ruleInfo is an alert rule as the console lists it.
type ruleInfo struct {
	Name       string            `json:"name"`
	Condition  string            `json:"condition"`
	ForSeconds float64           `json:"for_seconds"`
	Severity   string            `json:"severity"`
	Labels     map[string]string `json:"labels,omitempty"`
	Runbook    string            `json:"runbook,omitempty"`
	RunbookURL string            `json:"runbook_url,omitempty"`
}

func (m alertsAPI) rules(*api.Request) (any, error) {
	items := []ruleInfo{}
	if m.p.Alerts != nil {
		for _, r := range m.p.Alerts.Rules() {
			items = append(items, ruleInfo{Name: r.Name, Condition: r.Expr(), ForSeconds: r.For.Seconds(), Severity: string(r.Severity),
				Labels: r.Labels, Runbook: r.Runbook, RunbookURL: r.RunbookURL})
		}
	}
	return map[string]any{"items": items}, nil
}

func (m alertsAPI) runbooks(*api.Request) (any, error) {
	return map[string]any{"items": runbook.All()}, nil
}

func (m alertsAPI) runbook(r *api.Request) (any, error) {
	id := r.PathValue("id")
	rb, ok := runbook.Get(id)
	if !ok {
		return nil, api.NotFound("runbook", id)
	}
	// The rules that link here, so the page can say which alerts lead to it.
	var rules []string
	if m.p.Alerts != nil {
		for _, rule := range m.p.Alerts.Rules() {
			if rule.Runbook == id && !slices.Contains(rules, rule.Name) {
				rules = append(rules, rule.Name)
			}
		}
	}
	return struct {
		runbook.Runbook
		Rules []string `json:"rules"`
	}{rb, append([]string{}, rules...)}, nil
}
