package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// session is what a session cookie carries, signed: BASE64(JSON) "." BASE64(HMAC-SHA256(cookie key, BASE64(JSON))).
type session struct {
	Name string `json:"n"`
	// Expires is in Unix seconds.
	Expires int64 `json:"e"`
	// Nonce is random per login; the session's CSRF token is an HMAC of it.
	Nonce []byte `json:"c"`
	// Stamp is the user's password stamp at login.
	Stamp []byte `json:"s"`
}

// maxCookie bounds the cookie value read, well above what a session needs.
const maxCookie = 2048

// b64 encodes cookies; decoding is strict, so a cookie has exactly one spelling (the unused bits of its last
// character must be zero).
var b64 = base64.RawURLEncoding.Strict()

// Errors of session cookies; each asks to log in again.
var (
	errBadSession     = errors.New("invalid session cookie; log in again")
	errExpiredSession = errors.New("session expired; log in again")
)

func (a *Authenticator) sign(payload string) []byte {
	m := hmac.New(sha256.New, a.cookieKey)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// newSession returns a signed cookie value for u, valid for the session TTL, and the session.
func (a *Authenticator) newSession(u *user) (string, session, error) {
	s := session{Name: u.name, Expires: a.now().Add(a.ttl).Unix(), Nonce: make([]byte, 16), Stamp: u.stamp}
	if _, err := rand.Read(s.Nonce); err != nil {
		return "", session{}, fmt.Errorf("making a session nonce: %w", err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return "", session{}, fmt.Errorf("encoding a session: %w", err)
	}
	payload := b64.EncodeToString(data)
	return payload + "." + b64.EncodeToString(a.sign(payload)), s, nil
}

// session checks a cookie value: signature, expiry, that its user is still configured and has the password
// the session began with. It returns the user as configured now.
func (a *Authenticator) session(value string) (*user, session, error) {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > maxCookie {
		return nil, session{}, errBadSession
	}
	mac, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, a.sign(payload)) {
		return nil, session{}, errBadSession
	}
	data, err := b64.DecodeString(payload)
	if err != nil {
		return nil, session{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(data, &s); err != nil || len(s.Nonce) == 0 {
		return nil, session{}, errBadSession
	}
	if a.now().Unix() >= s.Expires {
		return nil, session{}, errExpiredSession
	}
	u := a.users[s.Name]
	if u == nil {
		return nil, session{}, fmt.Errorf("user %q of this session is no longer configured; log in again", s.Name)
	}
	if subtle.ConstantTimeCompare(s.Stamp, u.stamp) != 1 {
		return nil, session{}, fmt.Errorf("the password of %q changed since this session began; log in again", s.Name)
	}
	return u, s, nil
}

// csrfToken derives a session's CSRF token from its nonce, so it needs no server-side state.
func (a *Authenticator) csrfToken(s session) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write(s.Nonce)
	return b64.EncodeToString(m.Sum(nil))
}

// loginRequest is the body of a login.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Login logs a user in: it answers a POST with the JSON body {"name": ..., "password": ...}. On success it
// sets the session cookie (HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS or behind a proxy that says
// X-Forwarded-Proto: https, Max-Age the session TTL) and answers 200 with the Caller, whose csrf_token the
// console sends in the X-CSRF-Token header of its mutating requests. A wrong password and an unknown name
// get the same 401 in the same time. After 5 failures within a minute from one address (an IPv6 /64), logins
// from it are refused with 429 for 5 minutes. Login refuses a foreign Origin as CheckMutation does, and
// answers 404 when authentication is off.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on a login; POST {\"name\": ..., \"password\": ...}")
		return
	}
	if !a.Enabled() {
		writeError(w, http.StatusNotFound, "not_found", "authentication is off (no auth users or tokens are configured)")
		return
	}
	if err := checkOrigin(r); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	client := clientKey(r.RemoteAddr)
	now := a.now()
	if wait, ok := a.limiter.begin(client, now); !ok {
		a.log.Warn("login refused: too many failed logins", "remote", r.RemoteAddr, "retry_after", wait.Round(time.Second))
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("too many failed logins from this address; try again in %s", wait.Round(time.Second)))
		return
	}
	var req loginRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		a.limiter.end(client, now, attemptVoid)
		writeError(w, http.StatusBadRequest, "bad_body", `body: expected JSON {"name": ..., "password": ...}`)
		return
	}
	u := a.users[req.Name]
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(a.dummy(), []byte(req.Password))
	}
	if u == nil || bcrypt.CompareHashAndPassword(u.hash, []byte(req.Password)) != nil {
		a.limiter.end(client, a.now(), attemptFailed)
		if u == nil {
			// The name is not logged: people type passwords into name fields.
			a.log.Warn("login failed: unknown name", "remote", r.RemoteAddr)
		} else {
			a.log.Warn("login failed: wrong password", "user", u.name, "remote", r.RemoteAddr)
		}
		writeError(w, http.StatusUnauthorized, "unauthenticated", "wrong name or password")
		return
	}
	a.limiter.end(client, a.now(), attemptOK)
	value, s, err := a.newSession(u)
	if err != nil {
		a.log.Error("login failed", "user", u.name, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error; the server log has the details")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: value, Path: "/", MaxAge: int(a.ttl / time.Second),
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
	a.log.Info("login", "user", u.name, "role", u.role.String(), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, Caller{Name: u.name, Role: u.role, Via: ViaSession, CSRFToken: a.csrfToken(s),
		Expires: time.Unix(s.Expires, 0).UTC()})
}

// Logout ends the session in the browser: it answers a POST by clearing the session cookie (204). Sessions
// are stateless, so a copy of the cookie stays valid until it expires; a password change ends it everywhere.
// Logout refuses a foreign Origin as CheckMutation does.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on a logout; POST")
		return
	}
	if err := checkOrigin(r); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
	w.WriteHeader(http.StatusNoContent)
}

// dummy returns a hash to compare passwords against for unknown names, as costly as the costliest
// configured hash.
func (a *Authenticator) dummy() []byte {
	a.dummyOnce.Do(func() {
		pw := make([]byte, 16)
		_, _ = rand.Read(pw)
		// It cannot fail for a valid cost and a 16-byte password; a nil hash would only fail faster.
		a.dummyHash, _ = bcrypt.GenerateFromPassword(pw, max(a.dummyCost, bcrypt.MinCost))
	})
	return a.dummyHash
}

// isHTTPS reports whether the browser reached us over HTTPS, directly or through a proxy.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// writeError writes the API's error body, {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]map[string]string{"error": {"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
