package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bigfather/bigfather/internal/config"
)

// How a caller was identified (Identity.Via).
const (
	ViaAnonymous = "anonymous"
	ViaSession   = "session"
	ViaToken     = "token"
	ViaBasic     = "basic"
)

// CookieName is the session cookie; CSRFHeader is the header a session's mutating requests carry its CSRF
// token in.
const (
	CookieName = "bigfather_session"
	CSRFHeader = "X-CSRF-Token"
)

// Authenticator identifies the callers of the HTTP surface by bearer token, Basic credentials or session
// cookie, logs users in and out, and guards mutating requests against cross-site forgery. It keeps no
// per-session state: a session is a signed cookie, so processes that share the session secret accept each
// other's sessions. It is safe for concurrent use.
type Authenticator struct {
	users  map[string]*user
	tokens []token
	// Keys derived from the session secret, one per use.
	cookieKey, csrfKey, stampKey []byte
	ttl                          time.Duration
	log                          *slog.Logger
	now                          func() time.Time
	limiter                      *limiter

	dummyOnce sync.Once
	dummyHash []byte // compared against for unknown names, so timing does not tell which names exist
	dummyCost int

	// verified remembers Basic credentials that passed a password check.
	verified basicCache
}

type user struct {
	name string
	role Role
	hash []byte
	// stamp identifies the password hash without revealing it; a session carries its user's stamp, so a
	// password change ends the sessions begun before it.
	stamp []byte
}

type token struct {
	name   string
	role   Role
	digest [sha256.Size]byte // the token itself is never kept
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithLogger sends log records (logins, failed logins, refused login bursts) to log; the default discards
// them. No record holds a password, token or secret.
func WithLogger(log *slog.Logger) Option {
	return func(a *Authenticator) { a.log = log }
}

// New returns an Authenticator for the users and tokens of cfg. Without any, authentication is off: every
// caller is an anonymous admin (see CheckBinding for where that is allowed). An empty session secret means a
// random one, so sessions last only as long as the process.
func New(cfg config.Auth, opts ...Option) (*Authenticator, error) {
	a := &Authenticator{
		users:   make(map[string]*user, len(cfg.Users)),
		ttl:     cfg.SessionTTL,
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
		limiter: newLimiter(),
	}
	for _, o := range opts {
		o(a)
	}
	if a.ttl == 0 {
		a.ttl = config.DefaultSessionTTL
	}
	if a.ttl < config.MinSessionTTL || a.ttl > config.MaxSessionTTL {
		return nil, fmt.Errorf("auth.session_ttl: must be between 1m and 720h (30 days), got %s", a.ttl)
	}
	secret := []byte(cfg.SessionSecret)
	switch {
	case len(secret) == 0:
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("making a session secret: %w", err)
		}
	case len(secret) < config.MinSessionSecretLength:
		return nil, fmt.Errorf("auth.session_secret: must be at least %d bytes, got %d", config.MinSessionSecretLength, len(secret))
	}
	a.cookieKey = derive(secret, "bigfather session cookie v1")
	a.csrfKey = derive(secret, "bigfather csrf token v1")
	a.stampKey = derive(secret, "bigfather password stamp v1")
	a.verified.key = derive(secret, "bigfather basic credentials v1")

	names := map[string]string{}
	unique := func(path, name string) error {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("%s: must not be empty", path)
		}
		if first, dup := names[name]; dup {
			return fmt.Errorf("%s: duplicate name %q (also %s)", path, name, first)
		}
		names[name] = path
		return nil
	}
	for i, u := range cfg.Users {
		path := fmt.Sprintf("auth.users[%d]", i)
		if err := unique(path+".name", u.Name); err != nil {
			return nil, err
		}
		role, err := ParseRole(u.Role)
		if err != nil {
			return nil, fmt.Errorf("%s.role: %w", path, err)
		}
		cost, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			return nil, fmt.Errorf("%s.password_hash: not a bcrypt hash", path)
		}
		a.dummyCost = max(a.dummyCost, cost)
		a.users[u.Name] = &user{name: u.Name, role: role, hash: []byte(u.PasswordHash), stamp: a.stamp(u.PasswordHash)}
	}
	for i, t := range cfg.Tokens {
		path := fmt.Sprintf("auth.tokens[%d]", i)
		if err := unique(path+".name", t.Name); err != nil {
			return nil, err
		}
		role, err := ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("%s.role: %w", path, err)
		}
		if n := len([]rune(t.Token)); n < config.MinTokenLength {
			return nil, fmt.Errorf("%s.token: must be at least %d characters, got %d", path, config.MinTokenLength, n)
		}
		a.tokens = append(a.tokens, token{name: t.Name, role: role, digest: sha256.Sum256([]byte(t.Token))})
	}
	return a, nil
}

// derive returns the key for one use of the session secret.
func derive(secret []byte, use string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(use))
	return m.Sum(nil)
}

// stamp returns what a session records of its user's password hash.
func (a *Authenticator) stamp(hash string) []byte {
	m := hmac.New(sha256.New, a.stampKey)
	m.Write([]byte(hash))
	return m.Sum(nil)[:16]
}

// Enabled reports whether any user or token is configured; without, every caller is an anonymous admin.
func (a *Authenticator) Enabled() bool { return len(a.users) > 0 || len(a.tokens) > 0 }

// Identify returns the caller of r. With authentication off it is the anonymous admin. An Authorization header
// wins over a session cookie: a bearer token (Bearer TOKEN), or HTTP Basic credentials (Basic
// base64(NAME:PASSWORD)) as schema-registry and other HTTP clients send them, which are either a configured
// user's name and password (checked and throttled as a login is, see Login) or, with any name, a token as the
// password. A request without credentials is an identity with role None and no error; credentials that are
// wrong (an unknown token, a wrong name or password, a session cookie that is expired, forged, or of a user no
// longer configured or whose password changed) are an error, which the caller answers with 401. A session's
// role is the one its user has in the config now. No error repeats a credential.
func (a *Authenticator) Identify(r *http.Request) (Identity, error) {
	if !a.Enabled() {
		return Identity{Name: "anonymous", Role: Admin, Via: ViaAnonymous}, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		return a.authorization(r, h)
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return Identity{Role: None}, nil
	}
	u, _, err := a.session(c.Value)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Name: u.name, Role: u.role, Via: ViaSession}, nil
}

// authorization identifies the caller of an Authorization header, Bearer or Basic.
func (a *Authenticator) authorization(r *http.Request, header string) (Identity, error) {
	scheme, rest, spaced := strings.Cut(strings.TrimSpace(header), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return a.bearer(rest)
	case strings.EqualFold(scheme, "Basic"):
		return a.basic(r, rest)
	case !spaced || len(scheme) > 12 || strings.ContainsFunc(scheme, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') }):
		// Name the scheme only when it looks like one (Digest, Negotiate): a bare token must not be echoed.
		return Identity{}, errors.New("unsupported Authorization header (expected Bearer TOKEN or Basic credentials)")
	default:
		return Identity{}, fmt.Errorf("unsupported Authorization scheme %s (expected Bearer TOKEN or Basic credentials)", scheme)
	}
}

// bearer identifies a bearer token.
func (a *Authenticator) bearer(tok string) (Identity, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return Identity{}, errors.New("empty bearer token")
	}
	t := a.token(tok)
	if t == nil {
		return Identity{}, errors.New("unknown bearer token")
	}
	return Identity{Name: t.name, Role: t.role, Via: ViaToken}, nil
}

// token returns the configured token tok, or nil, comparing SHA-256 digests in constant time.
func (a *Authenticator) token(tok string) *token {
	d := sha256.Sum256([]byte(tok))
	var found *token
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(d[:], a.tokens[i].digest[:]) == 1 && found == nil {
			found = &a.tokens[i]
		}
	}
	return found
}

// CheckMutation guards a request that may change something (any method but GET, HEAD, OPTIONS and TRACE)
// against cross-site request forgery; the caller answers an error with 403. It refuses a request whose Origin
// header names another host:port than the request's Host, or that has no Origin but says Sec-Fetch-Site:
// cross-site; this applies to every caller, so it also protects a loopback server without authentication.
// A session's request must also carry the session's CSRF token in the X-CSRF-Token header; bearer tokens and
// anonymous callers need none, since a browser cannot be made to send them to another site.
func (a *Authenticator) CheckMutation(r *http.Request, id Identity) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if err := checkOrigin(r); err != nil {
		return err
	}
	if id.Via != ViaSession {
		return nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return errors.New("no session cookie")
	}
	_, s, err := a.session(c.Value)
	if err != nil {
		return err
	}
	want := a.csrfToken(s)
	got := r.Header.Get(CSRFHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("missing or wrong %s header", CSRFHeader)
	}
	return nil
}

// Caller is who a request comes from, as the console needs it: the identity and, for a session, its CSRF
// token and expiry.
type Caller struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	Via  string `json:"via"`
	// CSRFToken goes into the X-CSRF-Token header of the session's mutating requests.
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
}

// Me returns the caller of r (as Identify does) with, for a session, its CSRF token and expiry, so the
// console can read them again after a reload.
func (a *Authenticator) Me(r *http.Request) (Caller, error) {
	id, err := a.Identify(r)
	if err != nil {
		return Caller{}, err
	}
	c := Caller{Name: id.Name, Role: id.Role, Via: id.Via}
	if id.Via == ViaSession {
		ck, err := r.Cookie(CookieName)
		if err != nil {
			return Caller{}, errors.New("no session cookie")
		}
		_, s, err := a.session(ck.Value)
		if err != nil {
			return Caller{}, err
		}
		c.CSRFToken = a.csrfToken(s)
		c.Expires = time.Unix(s.Expires, 0).UTC()
	}
	return c, nil
}

// HashCost is the bcrypt cost HashPassword uses.
const HashCost = 12

// HashPassword returns the bcrypt hash of password for a user's password_hash.
func HashPassword(password string) (string, error) {
	switch n := len(password); {
	case n == 0:
		return "", errors.New("the password is empty")
	case n > 72:
		return "", fmt.Errorf("the password is %d bytes long; bcrypt uses at most 72", n)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), HashCost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(h), nil
}

// retryAfter formats a wait for the Retry-After header: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
