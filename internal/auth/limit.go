package auth

import (
	"net"
	"sync"
	"time"
)

// Login throttling: after loginFailures failures within loginWindow, an address is refused for loginBlock.
const (
	loginFailures = 5
	loginWindow   = time.Minute
	loginBlock    = 5 * time.Minute
	// sweepAbove is the number of tracked addresses above which stale ones are swept on each failure.
	sweepAbove = 1024
)

// limiter counts failed logins per client address, in memory.
type limiter struct {
	mu      sync.Mutex
	clients map[string]*attempts
}

// attempts is one address's recent login history.
type attempts struct {
	failures []time.Time // within the window, oldest first
	// pending counts logins checking a password now, so a burst of parallel guesses cannot pass the limit.
	pending int
	blocked time.Time // refused until then
}

// outcome is how a login attempt ended.
type outcome int

const (
	attemptOK     outcome = iota // right password: the address's failures are forgiven
	attemptFailed                // wrong name or password
	attemptVoid                  // no password was checked (a malformed body)
)

func newLimiter() *limiter { return &limiter{clients: map[string]*attempts{}} }

// begin reserves a login attempt for client at now; when the client may not try, it returns how long to wait.
// Every reserved attempt must end.
func (l *limiter) begin(client string, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[client]
	if c == nil {
		c = &attempts{}
		l.clients[client] = c
	}
	c.prune(now)
	if now.Before(c.blocked) {
		return c.blocked.Sub(now), false
	}
	if len(c.failures)+c.pending >= loginFailures {
		// Attempts in flight may still succeed; until they end, or the oldest failure leaves the window, wait.
		wait = time.Second
		if len(c.failures) > 0 {
			wait = max(wait, c.failures[0].Add(loginWindow).Sub(now))
		}
		return wait, false
	}
	c.pending++
	return 0, true
}

// blockedFor reports whether client is refused at now and for how long; unlike begin it reserves nothing.
func (l *limiter) blockedFor(client string, now time.Time) (wait time.Duration, blocked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[client]
	if c == nil || !now.Before(c.blocked) {
		return 0, false
	}
	return c.blocked.Sub(now), true
}

// end records how an attempt begun for client ended.
func (l *limiter) end(client string, now time.Time, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[client]
	if c == nil { // cannot happen: begin created it, and only idle entries are deleted
		return
	}
	c.pending--
	switch o {
	case attemptOK:
		c.failures = nil
	case attemptFailed:
		c.prune(now)
		c.failures = append(c.failures, now)
		if len(c.failures) >= loginFailures {
			c.blocked = now.Add(loginBlock)
			c.failures = nil
		}
		if len(l.clients) > sweepAbove {
			l.sweep(now)
		}
	}
	if c.idle(now) {
		delete(l.clients, client)
	}
}

// sweep forgets the addresses with nothing to remember.
func (l *limiter) sweep(now time.Time) {
	for k, c := range l.clients {
		c.prune(now)
		if c.idle(now) {
			delete(l.clients, k)
		}
	}
}

// prune drops the failures that left the window.
func (c *attempts) prune(now time.Time) {
	i := 0
	for i < len(c.failures) && now.Sub(c.failures[i]) >= loginWindow {
		i++
	}
	c.failures = c.failures[i:]
}

func (c *attempts) idle(now time.Time) bool {
	return len(c.failures) == 0 && c.pending == 0 && !now.Before(c.blocked)
}

// clientKey is the address logins are counted by: the remote IP, or its /64 for IPv6, where one host
// commonly holds a whole /64.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
