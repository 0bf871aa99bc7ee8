package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/testbrowser"
)

// metricsShots are the screenshots the metrics script takes, in its order.
var metricsShots = []string{"metrics-dau", "metrics-retention", "metrics-export"}

// metricLine is the Metrics page's line chart as testdata/browser/metrics.mjs reads it.
type metricLine struct {
	Canvas, Series, Days int
	Labels               []string
	Dashed               []bool
	// Points are each series' drawn points: [day index, value].
	Points                              [][][2]float64
	Rows, RowsText, Complete, Gaps, Top string
	Pressed, URL                        string
}

// metricsSeen is what testdata/browser/metrics.mjs reports; the answers are the API's bodies the page drew.
type metricsSeen struct {
	Nav                        []string
	NavCurrent                 string
	Options                    []string
	DauAnswer, RetentionAnswer string
	PrevAnswer, ByAnswer       string
	Dau, Compare, By           metricLine
	Definition                 []string
	Retention                  struct {
		Columns, Cohorts []string
		Filled           []struct {
			Cohort     string
			N          int
			Text       string
			Background string
		}
		Empty int
		Rows  string
	}
	Funnel                            []struct{ Step, Event string }
	ExportHref, ExportFile, ExportCSV string
	TookMS                            int64
	Shots                             []string
}

// metricAnswer is GET /api/v1/metrics/{name} (the JSON of metrics.Result).
type metricAnswer struct {
	Metric, From, To string
	CompleteUntil    *string `json:"complete_until"`
	Rows             []metricRow
	Source           struct {
		Table      string
		SnapshotID int64 `json:"snapshot_id"`
	}
	Gaps struct {
		Known bool
		Count int64
		Days  []string
	}
}

type metricRow struct {
	Day        string
	Country    string
	CohortDay  string `json:"cohort_day"`
	DayN       int    `json:"day_n"`
	CohortSize int64  `json:"cohort_size"`
	Retained   int64
	Value      *float64
}

// retentionCell is one expected retention row.
type retentionCell struct {
	cohort         string
	n              int
	size, retained int64
}

// TestMetricsBrowser is the Metrics page's acceptance test (issue 11): `bigfather up --demo` stages the demo's
// events and the test adds nine players from a country the demo never uses (NZ) in two cohorts, ten and eight
// days ago, some back on day 1 and day 7, and one player 35 days ago, so that the NZ breakdown has known values
// whatever the demo produces. Once the refresher has materialized them and the days before today no longer
// change, headless Chromium opens the Metrics page, and the test checks what it draws against the exact API
// answers it drew from: dau over the last 30 days is one uPlot line of exactly the API's rows on their days;
// comparing adds one dashed series of the previous 30 days' rows; a breakdown by country draws the eight largest
// countries; retention's heat map fills exactly the API's cells with its percentages; the funnel draws its
// three steps; Export CSV downloads exactly the API's CSV, whose values are the JSON API's row by row. The API's
// errors are checked over HTTP too. Screenshots go to $BIGFATHER_SCREENSHOTS:
//
//	BIGFATHER_SCREENSHOTS=docs/screenshots go test ./cmd/bigfather -run TestMetricsBrowser
func TestMetricsBrowser(t *testing.T) {
	testbrowser.Require(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	httpAddr, brokerAddr := loopbackAddr(t), loopbackAddr(t)
	base := "http://" + httpAddr
	up := startDemo(t, dir, httpAddr, brokerAddr)

	var list struct {
		Metrics []struct {
			Name          string
			TimeZone      string `json:"time_zone"`
			Semantics     []string
			RetentionDays []int `json:"retention_days"`
		}
	}
	waitFor(t, 90*time.Second, "GET /api/v1/metrics/dau to return rows", func() bool {
		var a metricAnswer
		return getJSON(base+"/api/v1/metrics/dau", &a) == nil && len(a.Rows) > 0
	})
	if err := getJSON(base+"/api/v1/metrics", &list); err != nil {
		t.Fatal(err)
	}
	zone := "UTC"
	semantics := map[string][]string{}
	var retentionDays []int
	for _, m := range list.Metrics {
		semantics[m.Name] = m.Semantics
		switch m.Name {
		case "dau":
			zone = cmp.Or(m.TimeZone, zone)
		case "retention":
			retentionDays = m.RetentionDays
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	day := func(ago int) string {
		return time.Date(now.Year(), now.Month(), now.Day()-ago, 0, 0, 0, 0, loc).Format(time.DateOnly)
	}
	from, to := day(29), day(0)
	prevFrom, prevTo := day(59), day(30)
	exportFrom, exportTo := day(29), day(1)

	// The NZ players: the days each was active, days ago.
	history := map[string][]int{
		"p990001": {10, 9, 3}, "p990002": {10, 9, 3}, "p990003": {10, 9}, "p990004": {10}, "p990005": {10},
		"p990006": {8, 7, 1}, "p990007": {8, 1}, "p990008": {8, 1}, "p990009": {8},
		"p990010": {35},
	}
	seedHistory(t, brokerAddr, loc, now, history)
	wantDau := map[string]float64{day(10): 5, day(9): 3, day(8): 4, day(7): 1, day(3): 2, day(1): 3}
	wantRetention := []retentionCell{{day(10), 1, 5, 3}, {day(10), 7, 5, 2}, {day(8), 1, 4, 1}, {day(8), 7, 4, 3}}

	// Ready: the NZ rows are there, and a refresh of a newer source snapshot left the days before today (the
	// export) as they were (the demo's history is staged by then; its live events only add to today).
	var settled bool
	var lastSnapshot int64
	var lastRows, why string
	defer func() {
		if !settled {
			t.Logf("last seen while waiting: %s", why)
		}
	}()
	waitFor(t, 4*time.Minute, "the NZ players' metrics, and the days before today to stop changing", func() bool {
		var dau, ret, past metricAnswer
		if err := cmp.Or(getJSON(base+"/api/v1/metrics/dau?by=country&from="+from+"&to="+to, &dau),
			getJSON(base+"/api/v1/metrics/retention?by=country&from="+from+"&to="+to, &ret),
			getJSON(base+"/api/v1/metrics/dau?from="+exportFrom+"&to="+exportTo, &past)); err != nil {
			why = err.Error()
			return false
		}
		if err := cmp.Or(checkDau(keyRows(dau.Rows, "NZ"), wantDau), checkRetention(keyRows(ret.Rows, "NZ"), wantRetention)); err != nil {
			why = "NZ: " + err.Error()
			return false
		}
		rows, _ := json.Marshal(past.Rows)
		switch {
		case string(rows) != lastRows:
			lastRows, lastSnapshot = string(rows), past.Source.SnapshotID
			why = fmt.Sprintf("the days before today changed (source snapshot %d)", lastSnapshot)
		case past.Source.SnapshotID != lastSnapshot:
			settled = true
		}
		return settled
	})
	if up.exited() {
		t.Fatal("up exited before the browser started")
	}

	start := time.Now()
	out := testbrowser.RunTimeout(t, "testdata/browser/metrics.mjs", map[string]string{
		"BASE_URL": base, "SHOT_DIR": shots, "FROM": from, "TO": to, "PREV_FROM": prevFrom, "PREV_TO": prevTo,
		"EXPORT_FROM": exportFrom, "EXPORT_TO": exportTo,
	}, 2*time.Minute)
	t.Logf("browser script ran %s", time.Since(start).Round(time.Millisecond))
	var seen metricsSeen
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &seen); err != nil {
		t.Fatalf("the script's report is not one JSON line: %v\n%s", err, out)
	}
	answer := func(name, text string) metricAnswer {
		t.Helper()
		var a metricAnswer
		if err := json.Unmarshal([]byte(text), &a); err != nil {
			t.Fatalf("the page's %s answer: %v\n%s", name, err, text)
		}
		return a
	}

	t.Run("navigation and picker", func(t *testing.T) {
		if want := []string{"Overview", "Topics", "Pipelines", "Monitor", "Tables", "Schemas", "SQL", "Metrics", "Audit log"}; !slices.Equal(seen.Nav, want) || seen.NavCurrent != "metrics" {
			t.Errorf("navigation %q (current %q), want %q (current metrics)", seen.Nav, seen.NavCurrent, want)
		}
		want := []string{"Funnels/funnel", "Players/dau", "Players/mau", "Players/new_players", "Players/sessions", "Players/wau",
			"Retention/retention", "Revenue/arpdau", "Revenue/arppu", "Revenue/conversion", "Revenue/paying_users", "Revenue/revenue"}
		if got := slices.Sorted(slices.Values(seen.Options)); !slices.Equal(got, want) {
			t.Errorf("metric picker (group/metric) %q, want %q", got, want)
		}
	})

	t.Run("dau line", func(t *testing.T) {
		a := answer("dau", seen.DauAnswer)
		n := len(a.Rows)
		if a.Metric != "dau" || a.From != from || a.To != to || n == 0 {
			t.Fatalf("the page drew dau %s..%s with %d rows; want %s..%s with rows", a.From, a.To, n, from, to)
		}
		d := seen.Dau
		if d.Canvas != 1 || d.Series != 1 || !slices.Equal(d.Labels, []string{"dau"}) || d.Days != 30 {
			t.Errorf("dau chart: %d canvas, %d series %q over %d days; want one canvas, one series dau, 30 days", d.Canvas, d.Series, d.Labels, d.Days)
		}
		if d.Rows != strconv.Itoa(n) || d.RowsText != fmt.Sprintf("%s to %s · %d rows", from, to, n) {
			t.Errorf("dau rows shown %q (%q), want %d, the API's", d.Rows, d.RowsText, n)
		}
		if want := linePoints(t, from, 0, a.Rows); len(d.Points) != 1 || !slices.Equal(d.Points[0], want) {
			t.Errorf("dau points drawn %v, want the API's rows on their days %v", d.Points, want)
		}
		if want := fmt.Sprintf("source snapshot %d", a.Source.SnapshotID); !strings.HasPrefix(d.Complete, "Complete until ") || !strings.Contains(d.Complete, want) {
			t.Errorf("completeness line %q, want Complete until …, %s", d.Complete, want)
		}
		switch {
		case !a.Gaps.Known:
			if !strings.HasPrefix(d.Gaps, "Completeness not tracked") {
				t.Errorf("gaps line %q, want Completeness not tracked", d.Gaps)
			}
		case a.Gaps.Count > 0:
			if want := fmt.Sprintf("Incomplete: %d known gaps", a.Gaps.Count); !strings.HasPrefix(d.Gaps, want) || !strings.HasSuffix(d.Gaps, strings.Join(a.Gaps.Days, ", ")) {
				t.Errorf("gaps line %q, want %s … %s", d.Gaps, want, strings.Join(a.Gaps.Days, ", "))
			}
		default:
			if d.Gaps != "" {
				t.Errorf("gaps line %q without gaps", d.Gaps)
			}
		}
		if d.Pressed != "30" || d.URL != "?metric=dau&from="+from+"&to="+to {
			t.Errorf("preset pressed %q, URL %q; want 30 and ?metric=dau&from=%s&to=%s", d.Pressed, d.URL, from, to)
		}
		if !slices.Equal(seen.Definition, semantics["dau"]) || len(seen.Definition) == 0 {
			t.Errorf("definition %q, want the semantics %q", seen.Definition, semantics["dau"])
		}
	})

	t.Run("compare", func(t *testing.T) {
		prev := answer("previous dau", seen.PrevAnswer)
		c := seen.Compare
		if c.Series != 2 || !slices.Equal(c.Labels, []string{"dau", "dau (previous period)"}) || !slices.Equal(c.Dashed, []bool{false, true}) {
			t.Errorf("compared: %d series %q, dashed %v; want dau and a dashed dau (previous period)", c.Series, c.Labels, c.Dashed)
		}
		// Each of the previous period's rows (the NZ player 35 days ago among them) sits on the day 30 days later.
		want := linePoints(t, prevFrom, 0, prev.Rows)
		if prev.From != prevFrom || prev.To != prevTo || !slices.ContainsFunc(prev.Rows, func(r metricRow) bool { return r.Day == day(35) }) ||
			len(c.Points) != 2 || !slices.Equal(c.Points[1], want) {
			t.Errorf("previous period %s..%s drawn as %v, want its rows %v (%s among them)", prev.From, prev.To, c.Points, want, day(35))
		}
	})

	t.Run("breakdown", func(t *testing.T) {
		a := answer("dau by country", seen.ByAnswer)
		totals := map[string]float64{}
		for _, r := range a.Rows {
			totals[r.Country] += *r.Value
		}
		keys := slices.SortedFunc(maps.Keys(totals), func(x, y string) int {
			return cmp.Or(cmp.Compare(totals[y], totals[x]), strings.Compare(x, y))
		})
		top := keys[:min(8, len(keys))]
		b := seen.By
		if b.Series != len(top) || !slices.Equal(b.Labels, top) {
			t.Errorf("by country: %d series %q, want the %d largest countries %q", b.Series, b.Labels, len(top), top)
		}
		for i, k := range top {
			if want := linePoints(t, from, 0, keyRows(a.Rows, k)); i < len(b.Points) && !slices.Equal(b.Points[i], want) {
				t.Errorf("by country: %s drawn as %v, want %v", k, b.Points[i], want)
			}
		}
		if want := fmt.Sprintf("Showing the top %d of %d country values by total.", len(top), len(keys)); len(keys) > 8 && b.Top != want {
			t.Errorf("by country: note %q, want %q", b.Top, want)
		}
	})

	t.Run("retention heat map", func(t *testing.T) {
		a := answer("retention", seen.RetentionAnswer)
		r := seen.Retention
		if len(r.Filled) != len(a.Rows) || r.Rows != strconv.Itoa(len(a.Rows)) || len(a.Rows) < len(wantRetention) {
			t.Fatalf("heat map: %d filled cells (%s rows), the API %d rows", len(r.Filled), r.Rows, len(a.Rows))
		}
		var cohorts []string
		for i, row := range a.Rows {
			f := r.Filled[i]
			if want := pct(*row.Value); f.Cohort != row.CohortDay || f.N != row.DayN || f.Text != want {
				t.Errorf("cell %d: %s D%d %q, want %s D%d %q", i, f.Cohort, f.N, f.Text, row.CohortDay, row.DayN, want)
			}
			if f.Background == "" || f.Background == "rgba(0, 0, 0, 0)" {
				t.Errorf("cell %d is not coloured (background %q)", i, f.Background)
			}
			if !slices.Contains(cohorts, row.CohortDay) {
				cohorts = append(cohorts, row.CohortDay)
			}
		}
		columns := []string{"Cohort day", "Cohort size"}
		for _, n := range retentionDays {
			columns = append(columns, fmt.Sprintf("D%d", n))
		}
		if !slices.Equal(r.Columns, columns) || len(retentionDays) != 3 {
			t.Errorf("heat map columns %q, want %q", r.Columns, columns)
		}
		if empty := len(cohorts)*len(retentionDays) - len(a.Rows); !slices.Equal(r.Cohorts, cohorts) || r.Empty != empty {
			t.Errorf("heat map cohorts %q with %d empty cells, want %q and %d (not observable yet)", r.Cohorts, r.Empty, cohorts, empty)
		}
	})

	t.Run("funnel", func(t *testing.T) {
		want := []struct{ Step, Event string }{{"1", "session_start"}, {"2", "item_acquire"}, {"3", "purchase"}}
		if !slices.Equal(seen.Funnel, want) {
			t.Errorf("funnel bars %v, want %v", seen.Funnel, want)
		}
	})

	t.Run("export CSV", func(t *testing.T) {
		href := "/api/v1/metrics/dau?from=" + exportFrom + "&to=" + exportTo + "&format=csv"
		file := "dau_" + exportFrom + "_" + exportTo + ".csv"
		if seen.ExportHref != href || seen.ExportFile != file {
			t.Errorf("Export CSV links %q as %q, want %q as %q", seen.ExportHref, seen.ExportFile, href, file)
		}
		resp, err := http.Get(base + href)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="`+file+`"` {
			t.Errorf("GET %s: %d, %q, %q", href, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		if string(body) != seen.ExportCSV {
			t.Errorf("downloaded CSV\n%s\ndiffers from the API's\n%s", seen.ExportCSV, body)
		}
		records, err := csv.NewReader(strings.NewReader(seen.ExportCSV)).ReadAll()
		if err != nil {
			t.Fatalf("downloaded CSV: %v", err)
		}
		var a metricAnswer
		if err := getJSON(base+"/api/v1/metrics/dau?from="+exportFrom+"&to="+exportTo, &a); err != nil {
			t.Fatal(err)
		}
		if len(records) == 0 || !slices.Equal(records[0], []string{"day", "value"}) || len(records)-1 != len(a.Rows) || len(a.Rows) < len(wantDau) {
			t.Fatalf("downloaded CSV %q: want the header day,value and the JSON API's %d rows", records, len(a.Rows))
		}
		for i, row := range a.Rows {
			rec := records[i+1]
			if v, err := strconv.ParseFloat(rec[1], 64); err != nil || rec[0] != row.Day || v != *row.Value {
				t.Errorf("CSV row %d %q, JSON row %s %v", i+1, rec, row.Day, *row.Value)
			}
		}
	})

	t.Run("NZ breakdown", func(t *testing.T) {
		var dau, ret, prev metricAnswer
		for _, g := range []struct {
			url string
			v   *metricAnswer
		}{{"/api/v1/metrics/dau?by=country&from=" + from + "&to=" + to, &dau}, {"/api/v1/metrics/retention?by=country&from=" + from + "&to=" + to, &ret},
			{"/api/v1/metrics/dau?by=country&from=" + prevFrom + "&to=" + prevTo, &prev}} {
			if err := getJSON(base+g.url, g.v); err != nil {
				t.Fatal(err)
			}
		}
		if err := checkDau(keyRows(dau.Rows, "NZ"), wantDau); err != nil {
			t.Errorf("dau of NZ: %v", err)
		}
		if err := checkRetention(keyRows(ret.Rows, "NZ"), wantRetention); err != nil {
			t.Errorf("retention of NZ: %v", err)
		}
		if err := checkDau(keyRows(prev.Rows, "NZ"), map[string]float64{day(35): 1}); err != nil {
			t.Errorf("dau of NZ in the previous period: %v", err)
		}
	})

	t.Run("API errors", func(t *testing.T) {
		for _, tc := range []struct {
			query                string
			status               int
			code, param, message string
		}{
			{"/metrics/nope", 404, "not_found", "", `no metric "nope"`},
			{"/metrics/dau?format=xml", 400, "bad_parameter", "format", `format: expected one of json, csv, got "xml"`},
			{"/metrics/dau?from=2026-13-01", 400, "bad_parameter", "from", `from: expected a day as YYYY-MM-DD, got "2026-13-01"`},
			{"/metrics/dau?to=yesterday", 400, "bad_parameter", "to", `to: expected a day as YYYY-MM-DD, got "yesterday"`},
			{"/metrics/dau?by=level", 400, "bad_parameter", "by", `by: metric dau has no dimension "level" (expected one of: platform, country)`},
		} {
			resp, err := http.Get(base + "/api/v1" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error struct{ Code, Param, Message string }
			}
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil || resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Param != tc.param || e.Error.Message != tc.message {
				t.Errorf("GET %s: %d %+v (%v); want %d %s param %q message %q", tc.query, resp.StatusCode, e.Error, err, tc.status, tc.code, tc.param, tc.message)
			}
		}
	})

	t.Run("screenshots", func(t *testing.T) { checkScreenshots(t, shots, metricsShots, seen.Shots) })
}

// seedHistory produces a session_start of a player from NZ at noon of each day each player was active (days
// ago from now, in loc), numbered 1, 2, … per player as the completeness report expects.
func seedHistory(t *testing.T, broker string, loc *time.Location, now time.Time, history map[string][]int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	id := 0
	for _, player := range slices.Sorted(maps.Keys(history)) {
		days := slices.Clone(history[player])
		slices.Sort(days)
		slices.Reverse(days) // oldest (most days ago) first
		for i, ago := range days {
			id++
			at := time.Date(now.Year(), now.Month(), now.Day()-ago, 12, 0, 0, 0, loc)
			recs = append(recs, &kgo.Record{Topic: "game.events", Key: []byte(player), Value: []byte(fmt.Sprintf(
				`{"event_id":"6d657472-6963-4000-8000-%012d","event_time":%q,"player_id":%q,"event_type":"session_start","level":1,"platform":"pc","country":"NZ","client_seq":%d}`,
				id, at.UTC().Format(time.RFC3339Nano), player, i+1))})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatalf("producing the players' history: %v", err)
	}
}

// checkDau reports how rows differ from want: exactly its days, each with its value.
func checkDau(rows []metricRow, want map[string]float64) error {
	if len(rows) != len(want) {
		return fmt.Errorf("%d rows, want %d: %v", len(rows), len(want), want)
	}
	for _, r := range rows {
		if w, ok := want[r.Day]; !ok || r.Value == nil || *r.Value != w {
			return fmt.Errorf("day %s: %v, want %v (a day of %v)", r.Day, r.Value, w, want)
		}
	}
	return nil
}

// keyRows are the rows of one breakdown key (country).
func keyRows(rows []metricRow, key string) []metricRow {
	return slices.DeleteFunc(slices.Clone(rows), func(r metricRow) bool { return r.Country != key })
}

// linePoints are rows as the line chart draws them: [day index from from, value], shift days later.
func linePoints(t *testing.T, from string, shift int, rows []metricRow) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, r := range rows {
		if r.Value != nil {
			out = append(out, [2]float64{float64(dayIndex(t, from, r.Day) + shift), *r.Value})
		}
	}
	return out
}

// checkRetention reports how a retention answer differs from want, in order.
func checkRetention(rows []metricRow, want []retentionCell) error {
	if len(rows) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		w := want[i]
		if r.CohortDay != w.cohort || r.DayN != w.n || r.CohortSize != w.size || r.Retained != w.retained || r.Value == nil ||
			*r.Value != float64(w.retained)/float64(w.size) {
			return fmt.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
	return nil
}

// dayIndex is how many days day is after from.
func dayIndex(t *testing.T, from, day string) int {
	t.Helper()
	a, err := time.Parse(time.DateOnly, from)
	if err != nil {
		t.Fatal(err)
	}
	b, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	return int(b.Sub(a).Hours() / 24)
}

// pct is the heat map's text of a ratio: a percentage with one decimal, halves rounded up (as the page does).
func pct(v float64) string { return fmt.Sprintf("%.1f%%", math.Round(v*1000)/10) }
