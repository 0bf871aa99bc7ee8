package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Test credentials: a bcrypt hash (cost 4) of "correct horse", a 40-character token and a 36-byte secret.
const (
	testHash   = "$2a$04$7uDJOWLXeHheRLriQQE3gutmfb/DAfBT4NlOHn1RHGoDdStUFNLJG"
	testToken  = "tok-0123456789abcdef0123456789abcdef0123"
	testSecret = "sec-0123456789abcdef0123456789abcdef"
)

// TestAuthBlock: the auth block decodes users, tokens (from the environment), the secret and the TTL; an
// absent block is zero (authentication off), and a present one without session_ttl gets 12h.
func TestAuthBlock(t *testing.T) {
	t.Setenv("BF_TEST_TOKEN", testToken)
	t.Setenv("BF_TEST_SECRET", testSecret)
	for _, tc := range []struct {
		name, yaml string
		want       Auth
		enabled    bool
	}{
		{"absent", "", Auth{}, false},
		{"full", `auth:
  users:
    - {name: alice, password_hash: "` + testHash + `", role: admin}
    - {name: bob, password_hash: '` + testHash + `', role: Operator}
  tokens:
    - {name: ci, token: "${BF_TEST_TOKEN}", role: viewer}
  session_secret: "${BF_TEST_SECRET}"
  session_ttl: 1h
`, Auth{
			Users:         []AuthUser{{Name: "alice", PasswordHash: testHash, Role: "admin"}, {Name: "bob", PasswordHash: testHash, Role: "Operator"}},
			Tokens:        []AuthToken{{Name: "ci", Token: testToken, Role: "viewer"}},
			SessionSecret: testSecret,
			SessionTTL:    time.Hour,
		}, true},
		{"tokens only, default TTL", "auth:\n  tokens: [{name: ci, token: " + testToken + ", role: viewer}]\n",
			Auth{Tokens: []AuthToken{{Name: "ci", Token: testToken, Role: "viewer"}}, SessionTTL: 12 * time.Hour}, true},
		{"empty block", "auth: {}\n", Auth{SessionTTL: 12 * time.Hour}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("auth.yaml", []byte(tc.yaml+minimal))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Auth, tc.want) {
				t.Errorf("auth = %#v\nwant %#v", c.Auth, tc.want)
			}
			if got := c.Auth.Enabled(); got != tc.enabled {
				t.Errorf("Enabled() = %t, want %t", got, tc.enabled)
			}
		})
	}
	if got := Default(t.TempDir()).Auth; !reflect.DeepEqual(got, Auth{}) {
		t.Errorf("Default(dir).Auth = %v, want none", got)
	}
}

// TestAuthGoDefaults: a config built in Go that sets users but no TTL gets the default on Validate.
func TestAuthGoDefaults(t *testing.T) {
	c, err := Parse("go.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	c.lines, c.Path = nil, ""
	c.Auth = Auth{Users: []AuthUser{{Name: "alice", PasswordHash: testHash, Role: "admin"}}}
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err != nil {
		t.Fatal(err)
	}
	if c.Auth.SessionTTL != DefaultSessionTTL {
		t.Errorf("SessionTTL = %s, want %s", c.Auth.SessionTTL, DefaultSessionTTL)
	}
	c.Auth.Tokens = []AuthToken{{Name: "ci", Token: "short", Role: "viewer"}}
	want := "auth.tokens[0].token: must be at least 32 characters, got 5 (`openssl rand -hex 32` makes one)"
	if err := c.Validate(ValidateOptions{EmbeddedBroker: true}); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}

// TestAuthString: printing the block, a user or a token never shows a secret.
func TestAuthString(t *testing.T) {
	c, err := Parse("auth.yaml", []byte(`auth:
  users: [{name: alice, password_hash: "`+testHash+`", role: admin}]
  tokens: [{name: ci, token: `+testToken+`, role: viewer}]
  session_secret: `+testSecret+`
`+minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := `{users: [{name: "alice", password_hash: "<redacted>", role: "admin"}], tokens: [{name: "ci", token: "<redacted>", role: "viewer"}], session_secret: "<redacted>", session_ttl: 12h0m0s}`
	if got := c.Auth.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c.Auth, &c.Auth, c.Auth.Users, c.Auth.Tokens, c.Auth.Users[0], c.Auth.Tokens[0]} {
			out := fmt.Sprintf(format, v)
			for _, secret := range []string{testHash, testToken, testSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T shows a secret: %s", format, v, out)
				}
			}
		}
	}
}

// TestAuthErrors: each bad auth value names file, line and key, and no message shows a hash, token or secret.
func TestAuthErrors(t *testing.T) {
	t.Setenv("BF_SHORT_TOKEN", "hunter2hunter2")
	user := func(fields string) string { return "auth:\n  users:\n    - {" + fields + "}\n" + minimal }
	token := func(fields string) string { return "auth:\n  tokens:\n    - {" + fields + "}\n" + minimal }
	okUser := `name: alice, password_hash: "` + testHash + `", role: admin`
	cases := []errorCase{
		{"unknown key", "auth:\n  user: []\n" + minimal,
			`bad.yaml:2: auth.user: unknown key (expected one of: users, tokens, session_secret, session_ttl)`},
		{"unknown user key", user(okUser + ", password: x"),
			`bad.yaml:3: auth.users[0].password: unknown key (expected one of: name, password_hash, role)`},
		{"unknown role", user(`name: alice, password_hash: "` + testHash + `", role: root`),
			`bad.yaml:3: auth.users[0].role: unknown role "root" (expected one of: viewer, operator, admin)`},
		{"missing role", user(`name: alice, password_hash: "` + testHash + `"`),
			`bad.yaml:3: auth.users[0].role: missing required key`},
		{"missing hash", user(`name: alice, role: admin`),
			`bad.yaml:3: auth.users[0].password_hash: missing required key`},
		{"empty name", user(`name: "", password_hash: "` + testHash + `", role: admin`),
			`bad.yaml:3: auth.users[0].name: must not be empty`},
		{"blank name", token(`name: "  ", token: ` + testToken + `, role: admin`),
			`bad.yaml:3: auth.tokens[0].name: must not be empty`},
		{"control character in name", user(`name: "al\tice", password_hash: "` + testHash + `", role: admin`),
			`bad.yaml:3: auth.users[0].name: must not contain control characters, got "al\tice"`},
		{"plain password as hash", user(`name: alice, password_hash: correct-horse-battery, role: admin`),
			`bad.yaml:3: auth.users[0].password_hash: not a bcrypt hash (expected 60 characters: $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then salt and hash)`},
		{"hash with a trailing character", user(`name: alice, password_hash: "` + testHash + `x", role: admin`),
			`bad.yaml:3: auth.users[0].password_hash: not a bcrypt hash (expected 60 characters: $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then salt and hash)`},
		{"hash of cost 99", user(`name: alice, password_hash: "` + strings.Replace(testHash, "$04$", "$99$", 1) + `", role: admin`),
			`bad.yaml:3: auth.users[0].password_hash: not a bcrypt hash (expected 60 characters: $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then salt and hash)`},
		{"duplicate user", "auth:\n  users:\n    - {" + okUser + "}\n    - {" + okUser + "}\n" + minimal,
			`bad.yaml:4: auth.users[1].name: duplicate name "alice" (also auth.users[0].name; names are unique across users and tokens)`},
		{"token named like a user", "auth:\n  users:\n    - {" + okUser + "}\n  tokens:\n    - {name: alice, token: " + testToken + ", role: viewer}\n" + minimal,
			`bad.yaml:5: auth.tokens[0].name: duplicate name "alice" (also auth.users[0].name; names are unique across users and tokens)`},
		{"short token", token(`name: ci, token: "${BF_SHORT_TOKEN}", role: viewer`),
			"bad.yaml:3: auth.tokens[0].token: must be at least 32 characters, got 14 (`openssl rand -hex 32` makes one)"},
		{"token with a space", token(`name: ci, token: "` + testToken[:20] + " " + testToken[20:] + `", role: viewer`),
			`bad.yaml:3: auth.tokens[0].token: must not contain spaces or control characters`},
		{"same token twice", "auth:\n  tokens:\n    - {name: a, token: " + testToken + ", role: viewer}\n    - {name: b, token: " + testToken + ", role: admin}\n" + minimal,
			`bad.yaml:4: auth.tokens[1].token: same token as auth.tokens[0] (each token identifies one name)`},
		{"token pasted as the role", token(`name: ci, token: ` + testToken + `, role: ` + testToken),
			`bad.yaml:3: auth.tokens[0].role: unknown role "<redacted>" (expected one of: viewer, operator, admin)`},
		{"unset token variable", token(`name: ci, token: "${BF_NO_SUCH_TOKEN}", role: viewer`),
			`bad.yaml:3: auth.tokens[0].token: environment variable BF_NO_SUCH_TOKEN is not set (referenced as ${BF_NO_SUCH_TOKEN})`},
		{"short session secret", "auth:\n  session_secret: \"${BF_SHORT_TOKEN}\"\n" + minimal,
			"bad.yaml:2: auth.session_secret: must be at least 32 bytes, got 14 (`openssl rand -hex 32` makes one)"},
		{"session ttl too short", "auth:\n  session_ttl: 10s\n" + minimal,
			`bad.yaml:2: auth.session_ttl: must be between 1m and 720h (30 days), got 10s`},
		{"session ttl zero", "auth:\n  session_ttl: 0s\n" + minimal,
			`bad.yaml:2: auth.session_ttl: must be between 1m and 720h (30 days), got 0s`},
		{"session ttl too long", "auth:\n  session_ttl: 721h\n" + minimal,
			`bad.yaml:2: auth.session_ttl: must be between 1m and 720h (30 days), got 721h0m0s`},
		{"session ttl not a duration", "auth:\n  session_ttl: forever\n" + minimal,
			`bad.yaml:2: auth.session_ttl: expected a duration like 10s, got "forever"`},
		{"users not a list", "auth:\n  users: {name: alice}\n" + minimal,
			`bad.yaml:2: auth.users: expected a list, got a mapping`},
	}
	runErrorCases(t, cases)
	for _, tc := range cases {
		_, err := Parse("bad.yaml", []byte(tc.yaml))
		for _, secret := range []string{testHash, testToken, testSecret, "hunter2hunter2", "correct-horse-battery"} {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows a secret: %v", tc.name, err)
			}
		}
	}
}
