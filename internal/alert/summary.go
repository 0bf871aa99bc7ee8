package alert

import (
	"fmt"
	"regexp"
	"strings"
)

// placeholderRe finds {LABEL}, {value} and {value:duration} in a summary.
var placeholderRe = regexp.MustCompile(`\{([a-zA-Z_][a-zA-Z0-9_]*)(:duration)?\}`)

// summaryText returns the rule's summary template: Summary, or one generated from the condition.
func (r *Rule) summaryText() string {
	if r.Summary != "" {
		return r.Summary
	}
	if r.IsStatus() {
		switch r.Scope {
		case ScopePartition:
			return "partition {topic}/{partition} of pipeline {pipeline} is {status}"
		case ScopeGroup:
			return "consumer group {group} is {status}"
		}
		return "pipeline {pipeline} is {status}"
	}
	s := r.Metric + " is {value}, " + opWords[r.Op] + " " + formatValue(r.Value)
	if len(r.By) > 0 {
		var parts []string
		for _, l := range r.By {
			parts = append(parts, l+" {"+l+"}")
		}
		s = r.Metric + " of " + strings.Join(parts, ", ") + " is {value}, " + opWords[r.Op] + " " + formatValue(r.Value)
	}
	return s
}

// render fills the rule's summary for one series: labels (the alert's labels, status included for status
// rules) and its value. A label the series lacks renders empty, as in Prometheus templates.
func (r *Rule) render(labels map[string]string, value float64) string {
	return placeholderRe.ReplaceAllStringFunc(r.summaryText(), func(m string) string {
		sub := placeholderRe.FindStringSubmatch(m)
		name, dur := sub[1], sub[2] != ""
		if name == "value" {
			if dur {
				return humanizeSeconds(value)
			}
			return formatValue(value)
		}
		if dur {
			return m // only the value is a duration; the text stays as written
		}
		return labels[name]
	})
}

// promTemplate turns the rule's summary into a Prometheus template: {LABEL} reads $labels, {value} $value,
// and {status} of a status rule (whose exported expression drops the status label, see Expr) queries the
// status gauge for the series' current status. Literal "{{" is escaped.
func (r *Rule) promTemplate() string {
	text := r.summaryText()
	var b strings.Builder
	last := 0
	for _, loc := range placeholderRe.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(escapeTemplate(text[last:loc[0]]))
		last = loc[1]
		name, dur := text[loc[2]:loc[3]], loc[4] >= 0
		switch {
		case name == "value" && dur:
			b.WriteString("{{ $value | humanizeDuration }}")
		case name == "value":
			b.WriteString("{{ $value }}")
		case dur:
			b.WriteString(escapeTemplate(text[loc[0]:loc[1]]))
		case name == "status" && r.IsStatus():
			b.WriteString(r.statusQuery())
		default:
			b.WriteString("{{ $labels." + name + " }}")
		}
	}
	b.WriteString(escapeTemplate(text[last:]))
	return b.String()
}

// statusQuery is a template that reads the current status of the alert's series from the status gauge.
func (r *Rule) statusQuery() string {
	labels := scopeLabels(r.Scope)
	var matchers, args []string
	for _, l := range labels {
		matchers = append(matchers, l+"=%q")
		args = append(args, "$labels."+l)
	}
	return fmt.Sprintf(`{{ with printf "%s{%s} == 1" %s | query }}{{ . | first | label "status" }}{{ end }}`,
		r.family(), strings.Join(matchers, ","), strings.Join(args, " "))
}

// escapeTemplate makes literal text safe in a Go template.
func escapeTemplate(s string) string {
	return strings.ReplaceAll(s, "{{", `{{ "{{" }}`)
}
