// Package pgurl keeps Postgres passwords out of what Big Father prints: it redacts connection URIs, lists the
// secrets to scrub from driver errors, and says in words why a first connection failed. The catalog (lake) and
// the audit log (auth/audit) open Postgres the same way and share it.
package pgurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Redact returns uri with any password in it replaced by xxxxx: the password of the user info
// (postgres://user:secret@host/db) and password or sslpassword query parameters. Use it wherever a catalog URI
// is printed or logged.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return redactUnparsed(uri)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// redactUnparsed hides the password of a URI that does not parse (a password with an unescaped '/' or '#', for
// example): everything between the scheme's "://" and the last '@', after the user name, is replaced.
func redactUnparsed(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			return scheme + "://" + rest[:i] + "?xxxxx"
		}
		return uri
	}
	name, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + name + ":xxxxx" + rest[at:]
}

// Secrets lists the passwords that must not appear in messages: the one in uri (user info or query), the
// one the connection uses (from the URI, PGPASSWORD or a password file), and PGPASSWORD. Very short ones are
// left out, since scrubbing them would garble the message without hiding anything.
func Secrets(uri string, cfg *pgx.ConnConfig) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	if u, err := url.Parse(uri); err == nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
				for _, v := range vs {
					add(v)
				}
			}
		}
	} else if _, rest, ok := strings.Cut(uri, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok {
				add(p)
			}
		}
	}
	if cfg != nil {
		add(cfg.Password)
	}
	add(os.Getenv("PGPASSWORD"))
	return out
}

// ConnectCause says in words why the first connection failed.
func ConnectCause(cfg *pgx.ConnConfig, err error, timeout time.Duration) string {
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Sprintf("the Postgres server at %s refused the password of user %q (the password comes from catalog.uri or the PGPASSWORD environment variable)", addr, cfg.User)
		case "28000":
			return fmt.Sprintf("the Postgres server at %s refused user %q (no such role, or pg_hba.conf does not admit it)", addr, cfg.User)
		case "3D000":
			return fmt.Sprintf("database %q does not exist on the Postgres server at %s (create it first)", cfg.Database, addr)
		case "53300":
			return fmt.Sprintf("the Postgres server at %s has no free connection slots", addr)
		}
		return fmt.Sprintf("the Postgres server at %s refused the connection", addr)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Sprintf("no answer from the Postgres server at %s within %s", addr, timeout)
	}
	var netErr net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve the Postgres host %q", cfg.Host)
	case errors.As(err, &netErr):
		return fmt.Sprintf("cannot reach the Postgres server at %s", addr)
	}
	return fmt.Sprintf("cannot connect to the Postgres server at %s", addr)
}

// IsCode reports whether err carries a Postgres error with one of the SQLSTATE codes.
func IsCode(err error, codes ...string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	for _, c := range codes {
		if pgErr.Code == c {
			return true
		}
	}
	return false
}

// Scrub replaces every secret in msg by xxxxx.
func Scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}
