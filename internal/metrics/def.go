// Package metrics computes game metrics over staged tables with DuckDB, materializes them incrementally into
// Iceberg tables in namespace "metrics", and serves them. The semantics are DESIGN.md's "Metrics" contract: a
// day is the calendar day of the time field in the metric's zone; "active on d" means at least one row on d;
// days with no data have no row.
package metrics

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/config"
)

// Kinds of metric (config.MetricKinds).
const (
	KindActive      = "active_users"
	KindNew         = "new_users"
	KindRetention   = "retention"
	KindRevenue     = "revenue"
	KindPaying      = "paying_users"
	KindARPDAU      = "arpdau"
	KindARPPU       = "arppu"
	KindConversion  = "conversion"
	KindSessions    = "sessions"
	KindFunnel      = "funnel"
	KindCustom      = "custom"
	defaultTimeZone = "UTC"
)

// Def is one metric, resolved from the config: a game pack expands into one Def per metric it names.
type Def struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Table       string `json:"table"`
	Pack        string `json:"pack,omitempty"`

	PlayerField    string `json:"player_field"`
	TimeField      string `json:"time_field"`
	EventTypeField string `json:"event_type_field"`
	PurchaseEvent  string `json:"purchase_event"`
	AmountField    string `json:"amount_field"`
	CurrencyField  string `json:"currency_field,omitempty"`
	// Rates convert an amount in a currency into the reporting currency (Currency); RatesFile is where they
	// were read.
	Rates     []Rate `json:"rates,omitempty"`
	RatesFile string `json:"-"`
	TimeZone  string `json:"time_zone"`
	Filter    string `json:"filter,omitempty"`
	// Dimensions are the columns a breakdown may name.
	Dimensions    []string `json:"dimensions"`
	WindowDays    int      `json:"window_days"`
	RetentionDays []int    `json:"retention_days,omitempty"`
	RetentionMode string   `json:"retention_mode,omitempty"`
	SessionEvent  string   `json:"session_event,omitempty"`
	Steps         []string `json:"steps,omitempty"`
	SQL           string   `json:"sql,omitempty"`
}

// Rate is one row of a rates file: an amount in Currency times Rate (a decimal string) is in the reporting
// currency.
type Rate struct {
	Currency string `json:"currency"`
	Rate     string `json:"rate"`
}

// ReportingCurrency is the unit of converted revenue: the currency whose rate is 1 in the rates file, or
// "converted" when none is.
func (d *Def) ReportingCurrency() string {
	if len(d.Rates) == 0 {
		return ""
	}
	for _, r := range d.Rates {
		if r.Rate == "1" || r.Rate == "1.0" {
			return r.Currency
		}
	}
	return "converted"
}

// packMetrics are the game pack's metrics and the kind each one is.
var packMetrics = []struct {
	name, kind string
	window     int
}{
	{"dau", KindActive, 1}, {"wau", KindActive, 7}, {"mau", KindActive, 30}, {"new_players", KindNew, 0},
	{"retention", KindRetention, 0}, {"revenue", KindRevenue, 0}, {"paying_users", KindPaying, 0},
	{"arpdau", KindARPDAU, 0}, {"arppu", KindARPPU, 0}, {"conversion", KindConversion, 0},
	{"sessions", KindSessions, 0}, {"funnel", KindFunnel, 0},
}

// Defs resolves the config's metrics, reading rates files. Its errors name the config key.
func Defs(cfg []config.Metric) ([]*Def, error) {
	var out []*Def
	for i, m := range cfg {
		base := Def{
			Description: m.Description, Table: m.Table, Pack: m.Pack,
			PlayerField: m.PlayerField, TimeField: m.TimeField, EventTypeField: m.EventTypeField,
			PurchaseEvent: m.PurchaseEvent, AmountField: m.AmountField, CurrencyField: m.CurrencyField,
			TimeZone: m.TimeZone, Filter: m.Filter, Dimensions: append([]string{}, m.Dimensions...),
			WindowDays: int(m.Window / (24 * time.Hour)), RetentionDays: m.RetentionDays, RetentionMode: m.RetentionMode,
			SessionEvent: m.SessionEvent, Steps: m.Steps, SQL: m.SQL,
		}
		if base.TimeZone == "" {
			base.TimeZone = defaultTimeZone
		}
		if base.WindowDays < 1 {
			base.WindowDays = 1
		}
		if len(base.RetentionDays) == 0 {
			base.RetentionDays = []int{1, 7, 30}
		}
		if base.RetentionMode == "" {
			base.RetentionMode = "classic"
		}
		if m.Rates != "" {
			rates, err := readRates(m.RatesPath())
			if err != nil {
				return nil, fmt.Errorf("metrics[%d].rates: %w", i, err)
			}
			base.Rates, base.RatesFile = rates, m.Rates
		}
		if m.Pack == "" {
			d := base
			d.Name, d.Kind = m.Name, m.Kind
			out = append(out, &d)
			continue
		}
		names := m.MetricNames()
		for _, pm := range packMetrics {
			if !slices.Contains(names, pm.name) {
				continue
			}
			d := base
			d.Name, d.Kind = pm.name, pm.kind
			if pm.kind == KindActive {
				d.WindowDays = pm.window
			}
			out = append(out, &d)
		}
	}
	return out, nil
}

var decimalRe = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?$`)

// readRates reads a currency,rate CSV file (a header row first).
func readRates(path string) ([]Rate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading rates: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	var out []Rate
	seen := map[string]int{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rates file %s: %w", path, err)
		}
		if line == 1 {
			if !strings.EqualFold(strings.TrimSpace(rec[0]), "currency") || !strings.EqualFold(strings.TrimSpace(rec[1]), "rate") {
				return nil, fmt.Errorf("rates file %s: line 1: expected the header currency,rate, got %s,%s", path, rec[0], rec[1])
			}
			continue
		}
		cur, rate := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if cur == "" {
			return nil, fmt.Errorf("rates file %s: line %d: empty currency", path, line)
		}
		if !decimalRe.MatchString(rate) {
			return nil, fmt.Errorf("rates file %s: line %d: rate %q for %s: expected a non-negative decimal with at most 9 decimals", path, line, rate, cur)
		}
		if prev, dup := seen[cur]; dup {
			return nil, fmt.Errorf("rates file %s: line %d: currency %s again (first on line %d)", path, line, cur, prev)
		}
		seen[cur] = line
		out = append(out, Rate{Currency: cur, Rate: rate})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rates file %s: no rates", path)
	}
	return out, nil
}

// Fingerprint identifies what d computes: a materialized metric whose fingerprint differs is recomputed
// whole.
func (d *Def) Fingerprint() string {
	js, _ := json.Marshal(d)
	sum := sha256.Sum256(append(js, []byte(sqlVersion)...))
	return hex.EncodeToString(sum[:12])
}

// Chart is the chart that suits d.
func (d *Def) Chart() string {
	switch d.Kind {
	case KindRetention:
		return ChartHeatmap
	case KindFunnel:
		return ChartBars
	}
	return ChartLine
}

// Unit is what d's values count.
func (d *Def) Unit() string {
	switch d.Kind {
	case KindRevenue, KindARPDAU, KindARPPU:
		if c := d.ReportingCurrency(); c != "" {
			return c
		}
		return "amount"
	case KindRetention, KindConversion:
		return "ratio"
	case KindSessions:
		return "sessions"
	case KindCustom:
		return "value"
	}
	return "players"
}

// Info describes d.
func (d *Def) Info() Info {
	return Info{
		Name: d.Name, Kind: d.Kind, Table: d.Table, Description: d.describeShort(), Semantics: d.Semantics(),
		Dimensions: append([]string{}, d.Dimensions...), TimeZone: d.TimeZone, Unit: d.Unit(), Chart: d.Chart(),
		Steps: stepsOf(d), RetentionDays: retentionDaysOf(d), MaterializedAs: MaterializedTable(d.Name),
	}
}

func stepsOf(d *Def) []string {
	if d.Kind != KindFunnel {
		return nil
	}
	return d.Steps
}

func retentionDaysOf(d *Def) []int {
	if d.Kind != KindRetention {
		return nil
	}
	return d.RetentionDays
}

// MaterializedTable is the Iceberg table holding metric name's rows.
func MaterializedTable(name string) string { return "metrics." + name }
