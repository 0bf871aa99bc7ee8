package auth

import "time"

// SetClock makes a read the time from now, so tests can move it.
func SetClock(a *Authenticator, now func() time.Time) { a.now = now }
