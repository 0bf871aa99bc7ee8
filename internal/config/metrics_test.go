package config

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestMetricsConfig(t *testing.T) {
	yaml := minimal + `metrics:
  - pack: game
    table: staging.game_events
    time_zone: Asia/Seoul
    currency_field: currency
    rates: testdata/rates.csv
    dimensions: [platform]
    session_event: session_start
    steps: [session_start, purchase]
  - name: ios_weekly
    kind: active_users
    table: staging.game_events
    filter: "platform = 'ios'"
    window: 168h
derived:
  - name: analytics.daily_spend
    sql: SELECT 1 AS day
    partition: day
`
	c, err := Parse("m.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	pack := c.Metrics[0]
	if pack.PlayerField != "player_id" || pack.TimeField != "event_time" || pack.EventTypeField != "event_type" ||
		pack.PurchaseEvent != "purchase" || pack.AmountField != "amount" || pack.RetentionMode != "classic" ||
		pack.Window != 24*time.Hour || !slices.Equal(pack.RetentionDays, []int{1, 7, 30}) {
		t.Errorf("pack defaults: %+v", pack)
	}
	if got, want := pack.RatesPath(), filepath.Join(".", "testdata", "rates.csv"); got != want {
		t.Errorf("RatesPath = %q, want %q (relative to the config file)", got, want)
	}
	wantNames := []string{"dau", "wau", "mau", "new_players", "retention", "revenue", "paying_users", "arpdau", "arppu", "conversion", "sessions", "funnel"}
	if got := pack.MetricNames(); !slices.Equal(got, wantNames) {
		t.Errorf("pack names = %v, want %v", got, wantNames)
	}
	if own := c.Metrics[1]; own.Window != 7*24*time.Hour || own.Filter != "platform = 'ios'" || !slices.Equal(own.MetricNames(), []string{"ios_weekly"}) {
		t.Errorf("own metric: %+v", own)
	}
	if d := c.Derived[0]; d.Refresh != time.Minute || d.Partition != "day" {
		t.Errorf("derived: %+v", d)
	}
}

func TestMetricsConfigErrors(t *testing.T) {
	m := func(body string) string { return minimal + "metrics:\n  - table: staging.game_events\n" + body }
	d := func(body string) string { return minimal + "derived:\n  - sql: SELECT 1 AS day\n" + body }
	runErrorCases(t, []errorCase{
		{"unknown pack", m("    pack: rpg\n"), `bad.yaml:10: metrics[0].pack: unknown pack "rpg" (expected game)`},
		{"pack with a name", m("    pack: game\n    name: dau\n"), `bad.yaml:10: metrics[0].pack: a pack names its own metrics; drop name and kind, or drop pack`},
		{"neither pack nor name", m("    kind: revenue\n"), `bad.yaml:9: metrics[0]: either pack or name (with kind) is required`},
		{"bad name", m("    name: Daily-Users\n    kind: active_users\n"), `bad.yaml:10: metrics[0].name: expected lowercase letters, digits and underscores, got "Daily-Users"`},
		{"unknown kind", m("    name: x\n    kind: whales\n"), `bad.yaml:11: metrics[0].kind: unknown kind "whales" (expected one of: active_users, new_users, retention, revenue, paying_users, arpdau, arppu, conversion, sessions, funnel, custom)`},
		{"bad table", minimal + "metrics:\n  - name: x\n    kind: revenue\n    table: events\n", `bad.yaml:11: metrics[0].table: expected namespace.table, got "events"`},
		{"bad zone", m("    pack: game\n    time_zone: Mars/Olympus\n"), `bad.yaml:11: metrics[0].time_zone: expected an IANA time zone such as UTC or Asia/Seoul, got "Mars/Olympus"`},
		{"partial day window", m("    name: x\n    kind: active_users\n    window: 36h\n"), `bad.yaml:12: metrics[0].window: must be a whole number of days (24h, 168h, ...), got 36h0m0s`},
		{"rates without currency", m("    pack: game\n    rates: testdata/rates.csv\n"), `bad.yaml:11: metrics[0].rates: currency_field and rates go together: amounts in several currencies need the rates to convert them`},
		{"missing rates file", m("    pack: game\n    currency_field: currency\n    rates: nowhere.csv\n"), `bad.yaml:12: metrics[0].rates: rates file "nowhere.csv" does not exist`},
		{"retention day out of range", m("    pack: game\n    retention_days: [1, 0]\n"), `bad.yaml:11: metrics[0].retention_days[1]: must be between 1 and 366, got 0`},
		{"retention mode", m("    pack: game\n    retention_mode: sticky\n"), `bad.yaml:11: metrics[0].retention_mode: expected classic or rolling, got "sticky"`},
		{"funnel of one step", m("    name: f\n    kind: funnel\n    steps: [a]\n"), `bad.yaml:12: metrics[0].steps: a funnel needs at least 2 steps, got 1`},
		{"sessions without event", m("    name: s\n    kind: sessions\n"), `bad.yaml:9: metrics[0].session_event: a sessions metric needs the event type that starts a session`},
		{"custom without sql", m("    name: c\n    kind: custom\n"), `bad.yaml:9: metrics[0].sql: a custom metric needs an aggregate expression, such as avg(level)`},
		{"duplicate metric", m("    pack: game\n  - name: dau\n    kind: active_users\n    table: staging.game_events\n"), `bad.yaml:11: metrics[1]: metric "dau" is already defined by metrics[0]`},
		{"derived name", d("    name: daily\n    partition: day\n"), `bad.yaml:10: derived[0].name: expected namespace.table (lowercase letters, digits, underscores), got "daily"`},
		{"derived into metrics", d("    name: metrics.daily\n    partition: day\n"), `bad.yaml:10: derived[0].name: namespace "metrics" holds the materialized metrics; pick another for "metrics.daily"`},
		{"derived over a pipeline's table", d("    name: staging.game_events\n    partition: day\n"), `bad.yaml:10: derived[0].name: table "staging.game_events" is written by pipeline "game-events"`},
		{"derived partition", d("    name: a.b\n    partition: \"day x\"\n"), `bad.yaml:11: derived[0].partition: expected a column name of the result, got "day x"`},
		{"derived refresh", d("    name: a.b\n    partition: day\n    refresh: 10ms\n"), `bad.yaml:12: derived[0].refresh: must be at least 1s, got 10ms`},
	})
}

func TestMetricFiles(t *testing.T) {
	c, err := Parse("testdata/m.yaml", []byte(minimal+"metrics:\n  - pack: game\n    table: staging.game_events\nmetric_files: [metrics/whale*.yaml]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range c.Metrics {
		names = append(names, m.MetricNames()...)
	}
	want := append(slices.Clone(GamePackNames), "whale_revenue", "avg_level")
	if !slices.Equal(names, want) {
		t.Errorf("metrics %v, want %v", names, want)
	}
	if m := c.Metrics[2]; m.SQL != "avg(level)" || m.BaseDir != filepath.Join("testdata", "metrics") || m.TimeZone != "UTC" {
		t.Errorf("metric from a file: %+v", m)
	}

	runErrorCases(t, []errorCase{
		// A problem in a metrics file names that file and its line.
		{"problem in a metrics file", minimal + "metric_files: [testdata/metrics/bad.yaml]\n",
			`testdata/metrics/bad.yaml:4: metrics[0].window: must be a whole number of days (24h, 168h, ...), got 12h0m0s`},
		{"no file matches", minimal + "metric_files: [nowhere/*.yaml]\n",
			`bad.yaml:8: metric_files[0]: no metrics file matches "nowhere/*.yaml"`},
		{"not a list", minimal + "metric_files: [testdata/rates.csv]\n",
			`testdata/rates.csv:1: expected one YAML list of metrics (the entries of a config's metrics key)`},
	})
}
