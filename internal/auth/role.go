// Package auth identifies the callers of the HTTP surface and what they may do: configured users (bcrypt
// password hashes, sessions by cookie or HTTP Basic credentials) and bearer tokens (also accepted as the
// password of Basic credentials), each with a role.
package auth

import (
	"fmt"
	"strings"
)

// Role is what a caller may do; each role may do everything the ones below it may.
type Role int

const (
	// None may do nothing but log in.
	None Role = iota
	// Viewer reads everything.
	Viewer
	// Operator also pauses and resumes pipelines, runs maintenance and replays.
	Operator
	// Admin may do everything, including reading the audit log.
	Admin
)

var roleNames = []string{"none", "viewer", "operator", "admin"}

func (r Role) String() string {
	if r < None || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole reads a role name: viewer, operator or admin.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames[1:] {
		if strings.EqualFold(s, n) {
			return Role(i + 1), nil
		}
	}
	return None, fmt.Errorf("unknown role %q (expected one of: viewer, operator, admin)", s)
}

// Identity is who made a request.
type Identity struct {
	// Name is the user or token name; "anonymous" when authentication is off.
	Name string `json:"name"`
	Role Role   `json:"-"`
	// Via says how the caller was identified: "anonymous" (authentication off), "session" (cookie), "token"
	// (a bearer token, or a token as the password of Basic credentials) or "basic" (a user's name and password
	// as Basic credentials).
	Via string `json:"via"`
}

// MarshalText writes a role by name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role by name, as MarshalText writes it: none, viewer, operator or admin.
func (r *Role) UnmarshalText(text []byte) error {
	if strings.EqualFold(string(text), roleNames[None]) {
		*r = None
		return nil
	}
	v, err := ParseRole(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
