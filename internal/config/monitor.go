package config

import "time"

// Monitor holds the monitoring settings (yaml: monitor): how often pipelines, consumer groups and the
// infrastructure are sampled, the window the status rules look at, how long history is kept, and the
// freshness objective.
type Monitor struct {
	// Interval is the time between two samples: the status rules' step and the history's resolution
	// (yaml: interval; default 10s).
	Interval time.Duration
	// Window is how many samples the status rules look back over (yaml: window; default 10), so a status
	// judges Interval×Window of behaviour.
	Window int
	// History is how long samples are kept in the catalog database for the console's charts (yaml: history;
	// default 24h).
	History time.Duration
	// FreshnessSLO is how stale a table may get (seconds since its last commit) before the built-in alert
	// fires; the end-to-end latency histogram has a bucket edge there (yaml: freshness_slo; default 5m).
	FreshnessSLO time.Duration
	// Groups says whether consumer groups other than the pipelines' are monitored too (yaml: groups;
	// default true).
	Groups bool
}

var monitorKeys = []key[Monitor]{
	{name: "interval", def: "10s", decode: set(duration, func(m *Monitor) *time.Duration { return &m.Interval })},
	{name: "window", def: "10", decode: set(integer, func(m *Monitor) *int { return &m.Window })},
	{name: "history", def: "24h", decode: set(duration, func(m *Monitor) *time.Duration { return &m.History })},
	{name: "freshness_slo", def: "5m", decode: set(duration, func(m *Monitor) *time.Duration { return &m.FreshnessSLO })},
	{name: "groups", def: "true", decode: set(boolean, func(m *Monitor) *bool { return &m.Groups })},
}

// Limits of the monitor keys.
const (
	minMonitorInterval = 100 * time.Millisecond
	minMonitorWindow   = 3
)

// monitor checks the monitor block. A config built in Go that leaves it zero gets the defaults.
func (v *validator) monitor(c *Config) {
	m := &c.Monitor
	if c.lines == nil && *m == (Monitor{}) {
		*m = specDefaults(monitorKeys)
	}
	if v.broken("monitor") {
		return
	}
	if m.Interval < minMonitorInterval {
		v.fail("monitor.interval", "must be at least %s, got %s", minMonitorInterval, m.Interval)
	}
	if m.Window < minMonitorWindow {
		v.fail("monitor.window", "must be at least %d samples (a trend needs several), got %d", minMonitorWindow, m.Window)
	}
	if m.History < m.Interval*time.Duration(max(m.Window, 1)) {
		v.fail("monitor.history", "must hold at least one window (interval × window = %s), got %s", m.Interval*time.Duration(max(m.Window, 1)), m.History)
	}
	if m.FreshnessSLO <= 0 {
		v.fail("monitor.freshness_slo", "must be positive, got %s", m.FreshnessSLO)
	}
}
