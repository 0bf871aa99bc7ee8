package monitor_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// dashboardFile is the Grafana dashboard over the metrics of the golden file.
const dashboardFile = "../../deploy/grafana/bigfather.json"

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// query is one PromQL expression of the dashboard and where it is.
type query struct {
	where, expr string
}

func readDashboard(t *testing.T) (dashboard, []query) {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var queries []query
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			queries = append(queries, query{"variable " + v.Name, v.Definition})
		}
	}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				queries = append(queries, query{fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID), tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return d, queries
}

// goldenFamilies reads the golden file as name → type and label names.
func goldenFamilies(t *testing.T) map[string]goldenFamily {
	t.Helper()
	out := map[string]goldenFamily{}
	for _, l := range readGolden(t) {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("%s: malformed line %q", goldenFile, l)
		}
		g := goldenFamily{typ: f[1]}
		if len(f) > 2 {
			g.labels = strings.Split(f[2], ",")
		}
		out[f[0]] = g
	}
	return out
}

type goldenFamily struct {
	typ    string
	labels []string
}

// scrapeLabels are the labels Prometheus adds to every scraped series.
var scrapeLabels = []string{"instance", "job"}

var (
	metricRe   = regexp.MustCompile(`bigfather_[a-z0-9_]+`)
	selectorRe = regexp.MustCompile(`(bigfather_[a-z0-9_]+)\{([^}]*)\}`)
	matcherRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	groupingRe = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	labelArgRe = regexp.MustCompile(`label_values\((bigfather_[a-z0-9_]+)(?:\{[^}]*\})?\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)`)
)

// family resolves a name an expression uses to its golden family: the name itself, or a histogram's
// NAME_bucket, NAME_sum or NAME_count.
func family(golden map[string]goldenFamily, name string) (string, goldenFamily, bool) {
	if g, ok := golden[name]; ok {
		return name, g, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if g, ok := golden[base]; ok && (g.typ == "histogram" || g.typ == "summary") {
				if suffix == "_bucket" && g.typ == "histogram" {
					g.labels = append(slices.Clone(g.labels), "le")
				}
				return base, g, true
			}
		}
	}
	return "", goldenFamily{}, false
}

// TestGrafanaDashboard: deploy/grafana/bigfather.json parses; every panel has a unique id and a title and
// every non-row panel queries the ${datasource} variable; and every bigfather_ metric its queries name is in
// the golden file, with only the labels the golden file gives it (plus instance and job, and le for a
// histogram's buckets) in its matchers and in the expression's by/without clauses. A metric or label renamed
// without the dashboard fails here.
func TestGrafanaDashboard(t *testing.T) {
	d, queries := readDashboard(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard title %q, uid %q, schemaVersion %d: want a title, a uid and schemaVersion >= 36", d.Title, d.UID, d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}") {
			t.Errorf("variable %s does not query ${datasource}", v.Name)
		}
	}
	if vars["datasource"] != "datasource" || vars["pipeline"] != "query" {
		t.Errorf("variables %v: want a datasource variable named datasource and a query variable named pipeline", vars)
	}

	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Title == "" {
				t.Errorf("panel %d (%s) has no title", p.ID, p.Type)
			}
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.Type != "row" {
				if len(p.Targets) == 0 {
					t.Errorf("panel %d %q has no query", p.ID, p.Title)
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
					t.Errorf("panel %d %q does not use the ${datasource} variable", p.ID, p.Title)
				}
				for _, tg := range p.Targets {
					if strings.TrimSpace(tg.Expr) == "" {
						t.Errorf("panel %d %q target %s has no expr", p.ID, p.Title, tg.RefID)
					}
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(ids) < 20 {
		t.Errorf("%d panels, want at least 20", len(ids))
	}

	golden := goldenFamilies(t)
	used := map[string]bool{}
	for _, q := range queries {
		var allowed []string // labels of the metrics the expression reads
		for _, name := range metricRe.FindAllString(q.expr, -1) {
			base, g, ok := family(golden, name)
			if !ok {
				t.Errorf("%s reads %s, which is not in %s", q.where, name, goldenFile)
				continue
			}
			used[base] = true
			allowed = append(allowed, g.labels...)
		}
		for _, m := range selectorRe.FindAllStringSubmatch(q.expr, -1) {
			_, g, ok := family(golden, m[1])
			if !ok {
				continue
			}
			for _, l := range matcherRe.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(g.labels, l[1]) && !slices.Contains(scrapeLabels, l[1]) {
					t.Errorf("%s matches label %s of %s, which has only %v", q.where, l[1], m[1], g.labels)
				}
			}
		}
		for _, m := range groupingRe.FindAllStringSubmatch(q.expr, -1) {
			for _, l := range strings.Split(m[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !slices.Contains(allowed, l) && !slices.Contains(scrapeLabels, l) {
					t.Errorf("%s groups by label %s, which none of its metrics has", q.where, l)
				}
			}
		}
		for _, m := range labelArgRe.FindAllStringSubmatch(q.expr, -1) {
			if _, g, ok := family(golden, m[1]); ok && !slices.Contains(g.labels, m[2]) && !slices.Contains(scrapeLabels, m[2]) {
				t.Errorf("%s lists values of label %s of %s, which has only %v", q.where, m[2], m[1], g.labels)
			}
		}
	}
	if len(used) < 30 {
		t.Errorf("the dashboard reads %d bigfather_ metrics, want at least 30", len(used))
	}
}

// TestGrafanaQueriesParse: every panel query of the dashboard, with its variables replaced, is valid
// PromQL: promtool check rules parses each as a recording rule.
func TestGrafanaQueriesParse(t *testing.T) {
	promtool := promtoolPath(t)
	_, queries := readDashboard(t)
	vars := strings.NewReplacer("$__rate_interval", "1m", "$pipeline", ".*", "$table", ".*", "$instance", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, q := range queries {
		if strings.HasPrefix(q.where, "variable ") {
			continue // label_values(...) is Grafana's, not PromQL
		}
		expr, err := json.Marshal(vars.Replace(q.expr)) // a JSON string is a YAML string
		if err != nil {
			t.Fatal(err)
		}
		n++
		fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", n, expr)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules on the dashboard's %d queries: %v\n%s", n, err, out)
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", n); !strings.Contains(string(out), want) {
		t.Errorf("promtool check rules printed\n%s\nwant %q", out, want)
	}
}

// TestGrafanaQueriesReturnData: over the series of a populated registry (upMetrics, scraped every 15s for
// 2.5 minutes by a job "bigfather"), every panel query of the dashboard returns at least one series.
// promtool test rules evaluates each query as absent(QUERY), an alert that must not fire.
func TestGrafanaQueriesReturnData(t *testing.T) {
	promtool := promtoolPath(t)
	_, queries := readDashboard(t)
	reg, _ := upMetrics(t)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$pipeline", ".*", "$table", ".*", "$instance", ".*")
	dir := t.TempDir()

	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	var tests strings.Builder
	tests.WriteString("rule_files: [rules.yaml]\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n")
	for _, s := range inputSeries(t, families) {
		fmt.Fprintf(&tests, "      - series: %s\n        values: %s\n", yamlString(t, s[0]), yamlString(t, s[1]))
	}
	tests.WriteString("    alert_rule_test:\n")
	n := 0
	for _, q := range queries {
		if strings.HasPrefix(q.where, "variable ") {
			continue
		}
		n++
		fmt.Fprintf(&rules, "      - alert: Query%d\n        expr: %s\n        annotations: {where: %s}\n",
			n, yamlString(t, "absent("+vars.Replace(q.expr)+")"), yamlString(t, q.where))
		fmt.Fprintf(&tests, "      - {eval_time: 2m, alertname: Query%d, exp_alerts: []}\n", n)
	}
	for name, text := range map[string]string{"rules.yaml": rules.String(), "tests.yaml": tests.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", "tests.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("a dashboard query returns no series over the populated metrics (the failing alert's annotation says which): %v\n%s", err, out)
	}
}

// inputSeries turns gathered families into promtool input series, [series, values]: counters and histograms
// grow from 0 to their value over 10 steps, gauges hold theirs. Summaries (the Go runtime's) are left out.
func inputSeries(t *testing.T, families []*dto.MetricFamily) [][2]string {
	t.Helper()
	var out [][2]string
	add := func(name string, labels []*dto.LabelPair, extra string, v float64, grows bool) {
		parts := []string{`job="bigfather"`, `instance="bigfather-1:8080"`}
		for _, l := range labels {
			parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		if extra != "" {
			parts = append(parts, extra)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("%s: value %v cannot be an input series", name, v)
		}
		f := strconv.FormatFloat(v, 'f', -1, 64)
		values := f + "+0x10"
		if grows {
			values = "0+" + strconv.FormatFloat(v/10, 'f', -1, 64) + "x10"
		}
		out = append(out, [2]string{name + "{" + strings.Join(parts, ",") + "}", values})
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add(f.GetName(), m.GetLabel(), "", m.GetCounter().GetValue(), true)
			case dto.MetricType_GAUGE:
				add(f.GetName(), m.GetLabel(), "", m.GetGauge().GetValue(), false)
			case dto.MetricType_UNTYPED:
				add(f.GetName(), m.GetLabel(), "", m.GetUntyped().GetValue(), false)
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					le := fmt.Sprintf("le=%q", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
					add(f.GetName()+"_bucket", m.GetLabel(), le, float64(b.GetCumulativeCount()), true)
				}
				add(f.GetName()+"_bucket", m.GetLabel(), `le="+Inf"`, float64(h.GetSampleCount()), true)
				add(f.GetName()+"_sum", m.GetLabel(), "", h.GetSampleSum(), true)
				add(f.GetName()+"_count", m.GetLabel(), "", float64(h.GetSampleCount()), true)
			}
		}
	}
	return out
}

// yamlString quotes s for YAML: a JSON string is a YAML double-quoted string.
func yamlString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
