package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// How long, and for how many credentials at most, a password check of Basic credentials is remembered. Clients
// send Basic credentials with every request; without the memory each would cost a bcrypt comparison.
const (
	basicTTL  = 10 * time.Minute
	basicKeep = 1024
)

// Errors of Basic credentials. None repeats the credentials.
var (
	errEmptyBasic     = errors.New("empty Basic credentials")
	errMalformedBasic = errors.New("malformed Basic credentials (expected base64 of NAME:PASSWORD)")
	errEmptyPassword  = errors.New("no password in the Basic credentials")
	errWrongBasic     = errors.New("wrong name or password")
)

// basicCache remembers which Basic credentials passed a password check, by an HMAC of name and password (the
// password itself is never kept), and lets concurrent requests with the same credentials share one check.
type basicCache struct {
	key     []byte
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*check
}

// check is one password check of Basic credentials: in flight until done is closed, then user (or err) is set.
type check struct {
	done chan struct{}
	user *user
	err  error
	at   time.Time // when it succeeded
}

// basic identifies the Basic credentials of an Authorization header: base64(NAME:PASSWORD), where PASSWORD is
// a configured token (any NAME) or NAME's password.
func (a *Authenticator) basic(r *http.Request, creds string) (Identity, error) {
	creds = strings.TrimSpace(creds)
	if creds == "" {
		return Identity{}, errEmptyBasic
	}
	raw, err := base64.StdEncoding.DecodeString(creds)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(creds); err != nil {
			return Identity{}, errMalformedBasic
		}
	}
	name, pw, ok := strings.Cut(string(raw), ":")
	switch {
	case !ok:
		return Identity{}, errMalformedBasic
	case pw == "":
		return Identity{}, errEmptyPassword
	}
	if t := a.token(pw); t != nil {
		return Identity{Name: t.name, Role: t.role, Via: ViaToken}, nil
	}
	u, err := a.password(r, name, pw)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Name: u.name, Role: u.role, Via: ViaBasic}, nil
}

// password checks name's password as Login does (bcrypt, the same answer for an unknown name, the same
// throttling per address), unless the same credentials passed within basicTTL; then only the throttling
// applies.
func (a *Authenticator) password(r *http.Request, name, pw string) (*user, error) {
	client := clientKey(r.RemoteAddr)
	if wait, blocked := a.limiter.blockedFor(client, a.now()); blocked {
		return nil, a.throttled(r, wait)
	}
	m := hmac.New(sha256.New, a.verified.key)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var key [sha256.Size]byte
	m.Sum(key[:0])

	c := &a.verified
	c.mu.Lock()
	v := c.entries[key]
	if v != nil && v.user != nil && a.now().Sub(v.at) >= basicTTL {
		delete(c.entries, key)
		v = nil
	}
	leader := v == nil
	if leader {
		if c.entries == nil {
			c.entries = map[[sha256.Size]byte]*check{}
		}
		if len(c.entries) >= basicKeep {
			c.sweep(a.now())
		}
		v = &check{done: make(chan struct{})}
		c.entries[key] = v
	}
	c.mu.Unlock()

	if !leader {
		select {
		case <-v.done:
		case <-r.Context().Done():
			return nil, fmt.Errorf("checking the Basic credentials: %w", r.Context().Err())
		}
		if v.user == nil {
			return nil, v.err
		}
		return v.user, nil
	}
	u, err := a.checkPassword(r, client, name, pw)
	c.mu.Lock()
	v.user, v.err, v.at = u, err, a.now()
	if u == nil {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(v.done)
	return u, err
}

// checkPassword compares pw with name's password hash, counting the attempt against client's failed logins.
func (a *Authenticator) checkPassword(r *http.Request, client, name, pw string) (*user, error) {
	wait, ok := a.limiter.begin(client, a.now())
	if !ok {
		return nil, a.throttled(r, wait)
	}
	u := a.users[name]
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(a.dummy(), []byte(pw))
	}
	if u == nil || bcrypt.CompareHashAndPassword(u.hash, []byte(pw)) != nil {
		a.limiter.end(client, a.now(), attemptFailed)
		if u == nil {
			// The name is not logged: people type passwords into name fields.
			a.log.Warn("basic authentication failed: unknown name", "remote", r.RemoteAddr)
		} else {
			a.log.Warn("basic authentication failed: wrong password", "user", u.name, "remote", r.RemoteAddr)
		}
		return nil, errWrongBasic
	}
	a.limiter.end(client, a.now(), attemptOK)
	a.log.Info("basic authentication", "user", u.name, "role", u.role.String(), "remote", r.RemoteAddr)
	return u, nil
}

// throttled logs and returns the refusal of an address with too many failed logins.
func (a *Authenticator) throttled(r *http.Request, wait time.Duration) error {
	a.log.Warn("basic authentication refused: too many failed logins", "remote", r.RemoteAddr, "retry_after", wait.Round(time.Second))
	return fmt.Errorf("too many failed logins from this address; try again in %s", wait.Round(time.Second))
}

// sweep forgets expired checks and, when that is not enough, every finished one. The caller holds mu.
func (c *basicCache) sweep(now time.Time) {
	for k, v := range c.entries {
		if v.user != nil && now.Sub(v.at) >= basicTTL {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < basicKeep {
		return
	}
	for k, v := range c.entries {
		if v.user != nil {
			delete(c.entries, k)
		}
	}
}
