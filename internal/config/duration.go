package config

import (
	"fmt"
	"regexp"
	"time"
)

// durationSyntax is what time.ParseDuration reads: a sign, then numbers with units.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// ParseDuration reads a duration like 10s or 1h30m, as time.ParseDuration does, with errors that say what
// was wrong: a duration beyond the longest one (about 292 years) is "too large", not a syntax error.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil {
		return d, nil
	}
	if s != "0" && durationSyntax.MatchString(s) {
		return 0, fmt.Errorf("%q is too large (the longest duration is %s)", s, time.Duration(1<<63-1))
	}
	return 0, fmt.Errorf("expected a duration like 10s, got %q", s)
}
