package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Metric declares metrics over a staged table (yaml: metrics[]): either the built-in game pack (Pack "game"),
// which expands into the metrics DESIGN.md's "Metrics" section names, or one metric of its own (Name and
// Kind). The field keys say which columns of Table mean what.
type Metric struct {
	// Pack is "game" for the built-in pack; empty for a metric of its own (yaml: pack).
	Pack string
	// Name names a metric of its own: lowercase letters, digits and underscores (yaml: name).
	Name string
	// Kind is what a metric of its own computes (yaml: kind; see MetricKinds).
	Kind string
	// Description is shown beside the metric (yaml: description).
	Description string
	// Table is the staged table, namespace.name (yaml: table).
	Table string
	// PlayerField, TimeField and EventTypeField are the columns holding a row's player, event time and event
	// type (yaml: player_field, time_field, event_type_field).
	PlayerField    string
	TimeField      string
	EventTypeField string
	// PurchaseEvent is the event type of a purchase; AmountField the column holding its amount (yaml:
	// purchase_event, amount_field).
	PurchaseEvent string
	AmountField   string
	// CurrencyField names the column holding a purchase's currency; with it, Rates converts every amount into
	// one currency (yaml: currency_field).
	CurrencyField string
	// Rates is a CSV file of currency,rate rows: an amount in that currency times the rate is the amount in
	// the reporting currency (yaml: rates). Relative to the config file's directory.
	Rates string
	// TimeZone is the IANA zone whose calendar days the metrics count (yaml: time_zone; default UTC).
	TimeZone string
	// Filter is a SQL condition over the table's columns; only rows where it holds count (yaml: filter).
	Filter string
	// Dimensions are the columns a breakdown may name (`--by`) (yaml: dimensions).
	Dimensions []string
	// Window is an active-users metric's rolling window and a funnel's conversion window, whole days
	// (yaml: window; default 1d).
	Window time.Duration
	// RetentionDays are the N of retention's rows (yaml: retention_days; default [1, 7, 30]).
	RetentionDays []int
	// RetentionMode is "classic" (active on day N) or "rolling" (active on day N or later) (yaml:
	// retention_mode; default classic).
	RetentionMode string
	// SessionEvent is the event type starting a session; the pack adds a "sessions" metric with it
	// (yaml: session_event).
	SessionEvent string
	// Steps are a funnel's event types in order; the pack adds a "funnel" metric with them (yaml: steps).
	Steps []string
	// SQL is a custom metric's aggregate expression over one day's rows, such as "avg(level)" (yaml: sql).
	SQL string
	// BaseDir is the directory Rates is relative to; not a YAML key.
	BaseDir string
}

// MetricKinds are the values of a metric's kind.
var MetricKinds = []string{"active_users", "new_users", "retention", "revenue", "paying_users", "arpdau", "arppu",
	"conversion", "sessions", "funnel", "custom"}

// DerivedTable declares a table computed by SQL from other tables and kept up to date incrementally, one
// partition at a time (yaml: derived[]).
type DerivedTable struct {
	// Name is the table, namespace.name (yaml: name).
	Name string
	// SQL is one SELECT over staged, metric or other derived tables (yaml: sql).
	SQL string
	// Partition is the result column that partitions the table: a partition is recomputed whole whenever
	// rows its value depends on arrive (yaml: partition).
	Partition string
	// Refresh is the time between two refreshes in a running process (yaml: refresh; default 1m).
	Refresh time.Duration
}

var metricKeys = []key[Metric]{
	{name: "pack", decode: set(str, func(m *Metric) *string { return &m.Pack })},
	{name: "name", decode: set(str, func(m *Metric) *string { return &m.Name })},
	{name: "kind", decode: set(str, func(m *Metric) *string { return &m.Kind })},
	{name: "description", decode: set(str, func(m *Metric) *string { return &m.Description })},
	{name: "table", required: true, decode: set(str, func(m *Metric) *string { return &m.Table })},
	{name: "player_field", def: "player_id", decode: set(str, func(m *Metric) *string { return &m.PlayerField })},
	{name: "time_field", def: "event_time", decode: set(str, func(m *Metric) *string { return &m.TimeField })},
	{name: "event_type_field", def: "event_type", decode: set(str, func(m *Metric) *string { return &m.EventTypeField })},
	{name: "purchase_event", def: "purchase", decode: set(str, func(m *Metric) *string { return &m.PurchaseEvent })},
	{name: "amount_field", def: "amount", decode: set(str, func(m *Metric) *string { return &m.AmountField })},
	{name: "currency_field", decode: set(str, func(m *Metric) *string { return &m.CurrencyField })},
	{name: "rates", decode: set(str, func(m *Metric) *string { return &m.Rates })},
	{name: "time_zone", def: "UTC", decode: set(str, func(m *Metric) *string { return &m.TimeZone })},
	{name: "filter", decode: set(str, func(m *Metric) *string { return &m.Filter })},
	{name: "dimensions", decode: set(list(str), func(m *Metric) *[]string { return &m.Dimensions })},
	{name: "window", def: "24h", decode: set(duration, func(m *Metric) *time.Duration { return &m.Window })},
	// retention_days defaults to [1, 7, 30] (see metrics).
	{name: "retention_days", decode: set(list(integer), func(m *Metric) *[]int { return &m.RetentionDays })},
	{name: "retention_mode", def: "classic", decode: set(str, func(m *Metric) *string { return &m.RetentionMode })},
	{name: "session_event", decode: set(str, func(m *Metric) *string { return &m.SessionEvent })},
	{name: "steps", decode: set(list(str), func(m *Metric) *[]string { return &m.Steps })},
	{name: "sql", decode: set(str, func(m *Metric) *string { return &m.SQL })},
}

var derivedTableKeys = []key[DerivedTable]{
	{name: "name", required: true, decode: set(str, func(d *DerivedTable) *string { return &d.Name })},
	{name: "sql", required: true, decode: set(str, func(d *DerivedTable) *string { return &d.SQL })},
	{name: "partition", required: true, decode: set(str, func(d *DerivedTable) *string { return &d.Partition })},
	{name: "refresh", def: "1m", decode: set(duration, func(d *DerivedTable) *time.Duration { return &d.Refresh })},
}

var metricIdentRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// GamePackNames are the metrics the game pack defines, in DESIGN.md's order; "sessions" and "funnel" join
// them when session_event and steps are set.
var GamePackNames = []string{"dau", "wau", "mau", "new_players", "retention", "revenue", "paying_users", "arpdau", "arppu", "conversion"}

// MetricNames returns the names of the metrics m declares.
func (m Metric) MetricNames() []string {
	if m.Pack == "" {
		return []string{m.Name}
	}
	names := slices.Clone(GamePackNames)
	if m.SessionEvent != "" {
		names = append(names, "sessions")
	}
	if len(m.Steps) > 0 {
		names = append(names, "funnel")
	}
	return names
}

// RatesPath is Rates resolved against the config file's directory.
func (m Metric) RatesPath() string {
	if m.Rates == "" || filepath.IsAbs(m.Rates) {
		return m.Rates
	}
	return filepath.Join(m.BaseDir, m.Rates)
}

// metrics checks the metrics and derived blocks.
func (v *validator) metrics(c *Config) {
	names := map[string]string{}
	for i := range c.Metrics {
		m := &c.Metrics[i]
		path := fmt.Sprintf("metrics[%d]", i)
		if c.lines == nil {
			fillMetricDefaults(m)
		} else if m.RetentionDays == nil && !v.present(path+".retention_days") {
			m.RetentionDays = []int{1, 7, 30}
		}
		if v.broken(path) {
			continue
		}
		v.metric(m, path)
		for _, n := range m.MetricNames() {
			if n == "" {
				continue
			}
			if prev, dup := names[n]; dup {
				v.fail(path, "metric %q is already defined by %s", n, prev)
			} else {
				names[n] = path
			}
		}
	}
	tables := map[string]int{}
	for i := range c.Derived {
		d := &c.Derived[i]
		path := fmt.Sprintf("derived[%d]", i)
		if c.lines == nil && d.Refresh == 0 {
			d.Refresh = time.Minute
		}
		if v.broken(path) {
			continue
		}
		if !tableNameRe.MatchString(d.Name) {
			v.fail(path+".name", "expected namespace.table (lowercase letters, digits, underscores), got %q", d.Name)
		} else if j, dup := tables[d.Name]; dup {
			v.fail(path+".name", "duplicate derived table %q (also derived[%d])", d.Name, j)
		} else {
			tables[d.Name] = i
		}
		if strings.HasPrefix(d.Name, "metrics.") {
			v.fail(path+".name", "namespace \"metrics\" holds the materialized metrics; pick another for %q", d.Name)
		}
		for _, p := range c.Pipelines {
			if p.Table.Name == d.Name || p.Table.Name+"_rejected" == d.Name || slices.ContainsFunc(p.Routes, func(r Route) bool { return r.Table == d.Name }) {
				v.fail(path+".name", "table %q is written by pipeline %q", d.Name, p.Name)
			}
		}
		if strings.TrimSpace(d.SQL) == "" {
			v.fail(path+".sql", "must be a SELECT")
		}
		if !columnNameRe.MatchString(d.Partition) {
			v.fail(path+".partition", "expected a column name of the result, got %q", d.Partition)
		}
		if d.Refresh < time.Second {
			v.fail(path+".refresh", "must be at least 1s, got %s", d.Refresh)
		}
	}
}

// fillMetricDefaults gives a metric built in Go the defaults a YAML file gets from the key specs.
func fillMetricDefaults(m *Metric) {
	// The key specs' defaults (specDefaults cannot decode them: table is required).
	def := Metric{PlayerField: "player_id", TimeField: "event_time", EventTypeField: "event_type", PurchaseEvent: "purchase",
		AmountField: "amount", TimeZone: "UTC", RetentionMode: "classic", Window: 24 * time.Hour, RetentionDays: []int{1, 7, 30}}
	for _, f := range []struct{ dst, def *string }{
		{&m.PlayerField, &def.PlayerField}, {&m.TimeField, &def.TimeField}, {&m.EventTypeField, &def.EventTypeField},
		{&m.PurchaseEvent, &def.PurchaseEvent}, {&m.AmountField, &def.AmountField}, {&m.TimeZone, &def.TimeZone},
		{&m.RetentionMode, &def.RetentionMode},
	} {
		if *f.dst == "" {
			*f.dst = *f.def
		}
	}
	if m.Window == 0 {
		m.Window = def.Window
	}
	if m.RetentionDays == nil {
		m.RetentionDays = def.RetentionDays
	}
}

func (v *validator) metric(m *Metric, path string) {
	switch {
	case m.Pack != "" && m.Pack != "game":
		v.fail(path+".pack", "unknown pack %q (expected game)", m.Pack)
	case m.Pack != "" && (m.Name != "" || m.Kind != ""):
		v.fail(path+".pack", "a pack names its own metrics; drop name and kind, or drop pack")
	case m.Pack == "" && m.Name == "":
		v.fail(path, "either pack or name (with kind) is required")
	case m.Pack == "" && !metricIdentRe.MatchString(m.Name):
		v.fail(path+".name", "expected lowercase letters, digits and underscores, got %q", m.Name)
	case m.Pack == "" && !slices.Contains(MetricKinds, m.Kind):
		v.fail(path+".kind", "unknown kind %q (expected one of: %s)", m.Kind, strings.Join(MetricKinds, ", "))
	}
	if !tableNameRe.MatchString(m.Table) {
		v.fail(path+".table", "expected namespace.table, got %q", m.Table)
	}
	for _, f := range []struct{ key, val string }{{"player_field", m.PlayerField}, {"time_field", m.TimeField},
		{"event_type_field", m.EventTypeField}, {"amount_field", m.AmountField}} {
		if !columnNameRe.MatchString(f.val) {
			v.fail(path+"."+f.key, "expected a column name, got %q", f.val)
		}
	}
	for j, d := range m.Dimensions {
		if !columnNameRe.MatchString(d) {
			v.fail(fmt.Sprintf("%s.dimensions[%d]", path, j), "expected a column name, got %q", d)
		}
	}
	if m.CurrencyField != "" && !columnNameRe.MatchString(m.CurrencyField) {
		v.fail(path+".currency_field", "expected a column name, got %q", m.CurrencyField)
	}
	if (m.CurrencyField == "") != (m.Rates == "") {
		v.fail(path+".rates", "currency_field and rates go together: amounts in several currencies need the rates to convert them")
	} else if m.Rates != "" {
		v.file(path+".rates", "rates", m.BaseDir, m.Rates)
	}
	if _, err := time.LoadLocation(m.TimeZone); err != nil || m.TimeZone == "" || m.TimeZone == "Local" {
		v.fail(path+".time_zone", "expected an IANA time zone such as UTC or Asia/Seoul, got %q", m.TimeZone)
	}
	if m.Window < 24*time.Hour || m.Window%(24*time.Hour) != 0 {
		v.fail(path+".window", "must be a whole number of days (24h, 168h, ...), got %s", m.Window)
	}
	if len(m.RetentionDays) == 0 {
		v.fail(path+".retention_days", "must list at least one day")
	}
	for j, n := range m.RetentionDays {
		if n < 1 || n > 366 {
			v.fail(fmt.Sprintf("%s.retention_days[%d]", path, j), "must be between 1 and 366, got %d", n)
		}
	}
	if m.RetentionMode != "classic" && m.RetentionMode != "rolling" {
		v.fail(path+".retention_mode", "expected classic or rolling, got %q", m.RetentionMode)
	}
	switch m.Kind {
	case "sessions":
		if m.SessionEvent == "" {
			v.fail(path+".session_event", "a sessions metric needs the event type that starts a session")
		}
	case "funnel":
		if len(m.Steps) < 2 {
			v.fail(path+".steps", "a funnel needs at least 2 steps, got %d", len(m.Steps))
		}
	case "custom":
		if strings.TrimSpace(m.SQL) == "" {
			v.fail(path+".sql", "a custom metric needs an aggregate expression, such as avg(level)")
		}
	}
	if m.Pack != "" && len(m.Steps) == 1 {
		v.fail(path+".steps", "a funnel needs at least 2 steps, got 1")
	}
}
