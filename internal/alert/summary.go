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

// piece is a part of a summary: literal text, or a placeholder for a label or the value.
type piece struct {
	text     string // literal text; "" for a placeholder
	name     string // the label, or "value"
	duration bool   // {value:duration}
}

// parseSummary splits a summary into literal text and placeholders: {LABEL}, {value} and {value:duration}.
// {{ and }} stand for literal { and }; any other brace is literal as it is.
func parseSummary(s string) []piece {
	var out []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case s[i] == '{':
			if loc := placeholderRe.FindStringSubmatchIndex(s[i:]); loc != nil && loc[0] == 0 {
				flush()
				out = append(out, piece{name: s[i+loc[2] : i+loc[3]], duration: loc[4] >= 0})
				i += loc[1]
				continue
			}
			lit.WriteByte('{')
			i++
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	return out
}

// render fills the rule's summary for one series: labels (the alert's labels, status included for status
// rules) and its value. A label the series lacks renders empty, as in Prometheus templates; :duration applies
// to the value only (elsewhere the placeholder stays as written).
func (r *Rule) render(labels map[string]string, value float64) string {
	var b strings.Builder
	for _, p := range parseSummary(r.summaryText()) {
		switch {
		case p.name == "":
			b.WriteString(p.text)
		case p.name == "value" && p.duration:
			b.WriteString(humanizeSeconds(value))
		case p.name == "value":
			b.WriteString(formatValue(value))
		case p.duration:
			b.WriteString("{" + p.name + ":duration}")
		default:
			b.WriteString(labels[p.name])
		}
	}
	return b.String()
}

// promTemplate turns the rule's summary into a Prometheus template: {LABEL} reads $labels, {value} $value,
// and {status} of a status rule (whose exported expression drops the status label, see Expr) queries the
// status gauge for the series' current status. Literal braces that a template would misread are escaped.
func (r *Rule) promTemplate() string {
	var parts []string // each either literal text or an action
	var literal []bool
	for _, p := range parseSummary(r.summaryText()) {
		var s string
		lit := false
		switch {
		case p.name == "":
			s, lit = p.text, true
		case p.name == "value" && p.duration:
			s = "{{ $value | humanizeDuration }}"
		case p.name == "value":
			s = "{{ $value }}"
		case p.duration:
			s, lit = "{"+p.name+":duration}", true
		case p.name == "status" && r.IsStatus():
			s = r.statusQuery()
		default:
			s = "{{ $labels." + p.name + " }}"
		}
		if lit && len(parts) > 0 && literal[len(literal)-1] {
			parts[len(parts)-1] += s
			continue
		}
		parts, literal = append(parts, s), append(literal, lit)
	}
	var b strings.Builder
	for i, s := range parts {
		if !literal[i] {
			b.WriteString(s)
			continue
		}
		s = strings.ReplaceAll(s, "{{", `{{ "{{" }}`)
		if i+1 < len(parts) && strings.HasSuffix(s, "{") {
			s = strings.TrimSuffix(s, "{") + `{{ "{" }}` // a { right before an action would open it early
		}
		b.WriteString(s)
	}
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
