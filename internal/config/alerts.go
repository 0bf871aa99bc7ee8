package config

// Alerts holds the alerting settings (yaml: alerts): rules evaluated in process and the receivers notified.
// (Filled in by the alerts work: rules, receivers, validation.)
type Alerts struct {
	// Builtin says whether the built-in rules run alongside the configured ones (yaml: builtin; default true).
	Builtin bool
}

var alertsKeys = []key[Alerts]{
	{name: "builtin", def: "true", decode: set(boolean, func(a *Alerts) *bool { return &a.Builtin })},
}

// alerts checks the alerts block.
func (v *validator) alerts(c *Config) {
	if c.lines == nil && c.Alerts == (Alerts{}) {
		c.Alerts = specDefaults(alertsKeys)
	}
}
