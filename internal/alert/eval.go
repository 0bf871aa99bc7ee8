package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/bigfather/bigfather/internal/config"
)

// series is one labelled value a rule matched.
type series struct {
	// labels identify the series: all its labels for a metric rule, By's for a grouped one, all but status
	// for a status rule.
	labels map[string]string
	// status is the series' current status (status rules only).
	status string
	value  float64
}

// index maps families by name.
func index(fams []*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// scopeLabels are the labels of a scope's status gauge besides status.
func scopeLabels(scope string) []string { return config.AlertScopeLabels[scope] }

// matches returns the series of families that meet the rule's condition, in the order the families list
// them (one per identity: the first wins).
func (r *Rule) matches(families map[string]*dto.MetricFamily) []series {
	if r.IsStatus() {
		return r.statusMatches(families[r.family()])
	}
	samples := readSamples(families, r.Metric)
	var out []series
	if len(r.By) == 0 {
		for _, s := range samples {
			if r.matchLabels(s.labels) && ops[r.Op](s.value, r.Value) {
				out = append(out, s)
			}
		}
		return out
	}
	// Grouped: reduce each group to its maximum (> >=) or minimum (< <=), then compare. NaN samples are
	// ignored by both, as in PromQL.
	groups := map[string]*series{}
	var order []string
	useMin := r.Op == "<" || r.Op == "<="
	for _, s := range samples {
		if !r.matchLabels(s.labels) || math.IsNaN(s.value) {
			continue
		}
		g := map[string]string{}
		for _, l := range r.By {
			if v := s.labels[l]; v != "" {
				g[l] = v
			}
		}
		k := identity("", g)
		cur, ok := groups[k]
		if !ok {
			groups[k] = &series{labels: g, value: s.value}
			order = append(order, k)
			continue
		}
		if (useMin && s.value < cur.value) || (!useMin && s.value > cur.value) {
			cur.value = s.value
		}
	}
	for _, k := range order {
		if g := groups[k]; ops[r.Op](g.value, r.Value) {
			out = append(out, *g)
		}
	}
	return out
}

// statusMatches returns the series of a status gauge whose current status (value 1) is one of the rule's.
func (r *Rule) statusMatches(f *dto.MetricFamily) []series {
	if f == nil {
		return nil
	}
	var out []series
	seen := map[string]bool{}
	for _, m := range f.GetMetric() {
		labels := labelMap(m)
		st := labels["status"]
		if value(f.GetType(), m) != 1 || !slices.Contains(r.Statuses, st) {
			continue
		}
		delete(labels, "status")
		if !r.matchLabels(labels) {
			continue
		}
		k := identity("", labels)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, series{labels: labels, status: st, value: 1})
	}
	return out
}

// matchLabels reports whether labels meet the rule's matchers; a missing label is "", as in PromQL.
func (r *Rule) matchLabels(labels map[string]string) bool {
	for k, v := range r.Match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// readSamples returns the samples of the metric name: a gauge, counter or untyped family of that name, or
// NAME_count and NAME_sum of a histogram or summary.
func readSamples(families map[string]*dto.MetricFamily, name string) []series {
	var out []series
	if f := families[name]; f != nil {
		switch f.GetType() {
		case dto.MetricType_GAUGE, dto.MetricType_COUNTER, dto.MetricType_UNTYPED:
			for _, m := range f.GetMetric() {
				out = append(out, series{labels: labelMap(m), value: value(f.GetType(), m)})
			}
		}
		return out
	}
	for _, suffix := range []string{"_count", "_sum"} {
		base, ok := strings.CutSuffix(name, suffix)
		f := families[base]
		if !ok || f == nil {
			continue
		}
		for _, m := range f.GetMetric() {
			var v float64
			switch {
			case f.GetType() == dto.MetricType_HISTOGRAM && suffix == "_count":
				v = float64(m.GetHistogram().GetSampleCount())
			case f.GetType() == dto.MetricType_HISTOGRAM:
				v = m.GetHistogram().GetSampleSum()
			case f.GetType() == dto.MetricType_SUMMARY && suffix == "_count":
				v = float64(m.GetSummary().GetSampleCount())
			case f.GetType() == dto.MetricType_SUMMARY:
				v = m.GetSummary().GetSampleSum()
			default:
				continue
			}
			out = append(out, series{labels: labelMap(m), value: v})
		}
	}
	return out
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

func labelMap(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		if l.GetValue() != "" {
			out[l.GetName()] = l.GetValue()
		}
	}
	return out
}

// maxKeyLength is the longest alert key: PagerDuty's dedup_key takes 255 characters (Opsgenie's alias 512).
const maxKeyLength = 255

// identity is an alert's key: the rule's name and the series' labels, sorted, as in
// BigFatherPipelineStalled{pipeline="game-events"}. A key longer than maxKeyLength is shortened to the rule's
// name and a hash of the whole.
func identity(rule string, labels map[string]string) string {
	var b strings.Builder
	b.WriteString(rule)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + `="` + labels[k] + `"`)
	}
	b.WriteByte('}')
	key := b.String()
	if len(key) <= maxKeyLength {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	name := rule
	if len(name) > maxKeyLength-66 {
		name = name[:maxKeyLength-66]
	}
	return name + "{" + hex.EncodeToString(sum[:]) + "}"
}
