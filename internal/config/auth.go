package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// Auth says who may use the HTTP surface (yaml: auth): users who log in with a password (sessions by cookie)
// and bearer tokens for scripts, each with a role. Without any user or token, authentication is off and the
// server may only listen on a loopback address (see internal/auth.CheckBinding).
//
// Password hashes, tokens and the session secret never appear in errors, logs or String.
type Auth struct {
	// Users log in with a name and password (yaml: users).
	Users []AuthUser
	// Tokens are bearer tokens (yaml: tokens).
	Tokens []AuthToken
	// SessionSecret is the HMAC key that signs session cookies and derives their CSRF tokens, at least
	// MinSessionSecretLength bytes; processes that share it accept each other's sessions. Empty means a random
	// key per process, so sessions end when the process does (yaml: session_secret).
	SessionSecret string
	// SessionTTL is how long a session lasts after login, between MinSessionTTL and MaxSessionTTL
	// (yaml: session_ttl; default 12h).
	SessionTTL time.Duration
}

// AuthUser is a user who logs in with a password.
type AuthUser struct {
	// Name is what the user logs in as; unique among users and tokens (yaml: name).
	Name string
	// PasswordHash is the bcrypt hash of the password, "$2a$..." or "$2b$..." (yaml: password_hash).
	PasswordHash string
	// Role is viewer, operator or admin (yaml: role).
	Role string
}

// AuthToken is a bearer token, sent as "Authorization: Bearer TOKEN".
type AuthToken struct {
	// Name identifies the token in the audit log; unique among users and tokens (yaml: name).
	Name string
	// Token is the secret itself, at least MinTokenLength characters; usually "${VAR}" (yaml: token).
	Token string
	// Role is viewer, operator or admin (yaml: role).
	Role string
}

// Limits and defaults of the auth keys.
const (
	// MinTokenLength is the shortest bearer token accepted, in characters.
	MinTokenLength = 32
	// MinSessionSecretLength is the shortest session secret accepted, in bytes.
	MinSessionSecretLength = 32
	// MinSessionTTL and MaxSessionTTL bound session_ttl.
	MinSessionTTL = time.Minute
	MaxSessionTTL = 30 * 24 * time.Hour
	// DefaultSessionTTL is session_ttl when absent.
	DefaultSessionTTL = 12 * time.Hour

	bcryptHashLength = 60
)

// authRoles lists the role names a user or token may have, least first.
var authRoles = []string{"viewer", "operator", "admin"}

var authKeys = []key[Auth]{
	{name: "users", decode: set(list(mapping(authUserKeys)), func(a *Auth) *[]AuthUser { return &a.Users })},
	{name: "tokens", decode: set(list(mapping(authTokenKeys)), func(a *Auth) *[]AuthToken { return &a.Tokens })},
	{name: "session_secret", decode: set(str, func(a *Auth) *string { return &a.SessionSecret })},
	{name: "session_ttl", def: "12h", decode: set(duration, func(a *Auth) *time.Duration { return &a.SessionTTL })},
}

var authUserKeys = []key[AuthUser]{
	{name: "name", required: true, decode: set(str, func(u *AuthUser) *string { return &u.Name })},
	{name: "password_hash", required: true, decode: set(str, func(u *AuthUser) *string { return &u.PasswordHash })},
	{name: "role", required: true, decode: set(str, func(u *AuthUser) *string { return &u.Role })},
}

var authTokenKeys = []key[AuthToken]{
	{name: "name", required: true, decode: set(str, func(t *AuthToken) *string { return &t.Name })},
	{name: "token", required: true, decode: set(str, func(t *AuthToken) *string { return &t.Token })},
	{name: "role", required: true, decode: set(str, func(t *AuthToken) *string { return &t.Role })},
}

// Enabled reports whether any user or token is configured, which turns authentication on.
func (a Auth) Enabled() bool { return len(a.Users) > 0 || len(a.Tokens) > 0 }

// String describes the settings with password hashes, tokens and the session secret redacted.
func (a Auth) String() string {
	var b strings.Builder
	b.WriteString("{users: [")
	for i, u := range a.Users {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{name: %q, password_hash: %q, role: %q}", u.Name, redacted(u.PasswordHash), u.Role)
	}
	b.WriteString("], tokens: [")
	for i, t := range a.Tokens {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{name: %q, token: %q, role: %q}", t.Name, redacted(t.Token), t.Role)
	}
	fmt.Fprintf(&b, "], session_secret: %q, session_ttl: %s}", redacted(a.SessionSecret), a.SessionTTL)
	return b.String()
}

// GoString is String, so %#v does not print the secrets either.
func (a Auth) GoString() string { return a.String() }

// String describes the user with the password hash redacted.
func (u AuthUser) String() string {
	return fmt.Sprintf("{name: %q, password_hash: %q, role: %q}", u.Name, redacted(u.PasswordHash), u.Role)
}

// GoString is String, so %#v does not print the hash either.
func (u AuthUser) GoString() string { return u.String() }

// String describes the token with its secret redacted.
func (t AuthToken) String() string {
	return fmt.Sprintf("{name: %q, token: %q, role: %q}", t.Name, redacted(t.Token), t.Role)
}

// GoString is String, so %#v does not print the token either.
func (t AuthToken) GoString() string { return t.String() }

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// auth checks the auth block: names, roles, hashes, tokens, the session secret and TTL. Every secret in it is
// added to the values errors never show, and no message quotes one. An absent block stays zero (its
// session_ttl default applies only inside the block); a config built in Go that sets the block but leaves
// SessionTTL zero gets the default.
func (v *validator) auth(c *Config) {
	a := &c.Auth
	if !v.present("auth") && len(a.Users) == 0 && len(a.Tokens) == 0 && a.SessionSecret == "" && a.SessionTTL == 0 {
		return
	}
	if c.lines == nil && a.SessionTTL == 0 {
		a.SessionTTL = DefaultSessionTTL
	}
	// A value whose ${VAR} did not expand still holds the reference, which its error shows.
	for i, u := range a.Users {
		v.secret(fmt.Sprintf("auth.users[%d].password_hash", i), u.PasswordHash)
	}
	for i, t := range a.Tokens {
		v.secret(fmt.Sprintf("auth.tokens[%d].token", i), t.Token)
	}
	v.secret("auth.session_secret", a.SessionSecret)

	names := map[string]string{} // name -> key path of its first use
	checkName := func(path, name string) {
		switch {
		case strings.TrimSpace(name) == "":
			v.fail(path, "must not be empty")
		case strings.IndexFunc(name, unicode.IsControl) >= 0:
			v.fail(path, "must not contain control characters, got %q", name)
		default:
			if first, dup := names[name]; dup {
				v.fail(path, "duplicate name %q (also %s; names are unique across users and tokens)", name, first)
			} else {
				names[name] = path
			}
		}
	}
	checkRole := func(path, role string) {
		if !v.broken(path) && !validRole(role) {
			v.fail(path, "unknown role %q (expected one of: %s)", role, strings.Join(authRoles, ", "))
		}
	}
	for i, u := range a.Users {
		path := fmt.Sprintf("auth.users[%d]", i)
		if !v.broken(path + ".name") {
			checkName(path+".name", u.Name)
		}
		if !v.broken(path + ".password_hash") {
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || len(u.PasswordHash) != bcryptHashLength {
				v.fail(path+".password_hash", "not a bcrypt hash (expected 60 characters: $2a$, $2b$ or $2y$, a two-digit cost from %02d to %d, then salt and hash)",
					bcrypt.MinCost, bcrypt.MaxCost)
			}
		}
		checkRole(path+".role", u.Role)
	}
	digests := map[string]int{}
	for i, t := range a.Tokens {
		path := fmt.Sprintf("auth.tokens[%d]", i)
		if !v.broken(path + ".name") {
			checkName(path+".name", t.Name)
		}
		if !v.broken(path + ".token") {
			switch n := len([]rune(t.Token)); {
			case n < MinTokenLength:
				v.fail(path+".token", "must be at least %d characters, got %d (`openssl rand -hex 32` makes one)", MinTokenLength, n)
			case strings.IndexFunc(t.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
				v.fail(path+".token", "must not contain spaces or control characters")
			default:
				if j, dup := digests[t.Token]; dup {
					v.fail(path+".token", "same token as auth.tokens[%d] (each token identifies one name)", j)
				} else {
					digests[t.Token] = i
				}
			}
		}
		checkRole(path+".role", t.Role)
	}
	if a.SessionSecret != "" && len(a.SessionSecret) < MinSessionSecretLength {
		v.fail("auth.session_secret", "must be at least %d bytes, got %d (`openssl rand -hex 32` makes one)", MinSessionSecretLength, len(a.SessionSecret))
	}
	if !v.broken("auth.session_ttl") && (a.SessionTTL < MinSessionTTL || a.SessionTTL > MaxSessionTTL) {
		v.fail("auth.session_ttl", "must be between 1m and 720h (30 days), got %s", a.SessionTTL)
	}
}

// secret adds s, the value at path, to the values errors never show, unless path failed to decode; shorter
// ones would garble messages more than they hide.
func (v *validator) secret(path, s string) {
	if len(s) >= 4 && !v.broken(path) {
		v.c.secrets = append(v.c.secrets, expansion{value: s, ref: "<redacted>"})
	}
}

func validRole(s string) bool {
	for _, r := range authRoles {
		if strings.EqualFold(s, r) {
			return true
		}
	}
	return false
}
