package alert

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// promFile is a Prometheus rules file.
type promFile struct {
	Groups []promGroup `yaml:"groups"`
}

type promGroup struct {
	Name  string     `yaml:"name"`
	Rules []promRule `yaml:"rules"`
}

type promRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// PrometheusRules renders rules as a Prometheus rules file (one group, "bigfather"): each rule's Expr, its For,
// its labels plus severity, and annotations summary (the rule's summary as a Prometheus template) and
// runbook_url. Receivers are Alertmanager's business there and are left out.
func PrometheusRules(rules []Rule) ([]byte, error) {
	g := promGroup{Name: "bigfather", Rules: []promRule{}}
	for i := range rules {
		r := &rules[i]
		if err := r.check(); err != nil {
			return nil, err
		}
		labels := map[string]string{}
		for k, v := range r.Labels {
			labels[k] = v
		}
		labels["severity"] = string(r.Severity)
		ann := map[string]string{"summary": r.promTemplate()}
		if r.RunbookURL != "" {
			ann["runbook_url"] = r.RunbookURL
		}
		pr := promRule{Alert: r.Name, Expr: r.Expr(), Labels: labels, Annotations: ann}
		if r.For > 0 {
			pr.For = promDuration(r.For)
		}
		g.Rules = append(g.Rules, pr)
	}
	var b bytes.Buffer
	b.WriteString("# Prometheus alerting rules of Big Father, written by `bigfather alerts rules`.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(promFile{Groups: []promGroup{g}}); err != nil {
		return nil, fmt.Errorf("encoding the rules file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the rules file: %w", err)
	}
	return b.Bytes(), nil
}

// promDuration writes d in Prometheus's duration syntax (1h30m, 90s, 250ms), rounded to milliseconds.
func promDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms <= 0 {
		return "0s"
	}
	var b bytes.Buffer
	for _, u := range []struct {
		ms   int64
		unit string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}} {
		if n := ms / u.ms; n > 0 {
			b.WriteString(strconv.FormatInt(n, 10) + u.unit)
			ms -= n * u.ms
		}
	}
	return b.String()
}
