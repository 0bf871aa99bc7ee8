package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// checkOrigin refuses a request a browser sent on behalf of another site: one whose Origin header names
// another host or port than the request's Host (a missing port is its scheme's default), or, without an
// Origin, one that says Sec-Fetch-Site: cross-site. Behind a reverse proxy, the proxy must pass the Host
// header through.
func checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
			return errors.New("cross-site request refused (Sec-Fetch-Site: cross-site)")
		}
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("cross-origin request from %s refused", printable(origin))
	}
	oHost, oPort := u.Hostname(), u.Port()
	if oPort == "" {
		oPort = defaultPort(u.Scheme)
	}
	rHost, rPort, err := net.SplitHostPort(r.Host)
	if err != nil { // no port
		rHost, rPort = strings.TrimSuffix(strings.TrimPrefix(r.Host, "["), "]"), ""
	}
	if rPort == "" {
		rPort = defaultPort("http")
		if isHTTPS(r) {
			rPort = defaultPort("https")
		}
	}
	if !strings.EqualFold(oHost, rHost) || oPort != rPort {
		return fmt.Errorf("cross-origin request from %s refused", printable(origin))
	}
	return nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// printable returns s for a message: as is when it is short printable ASCII, quoted and cut short otherwise,
// since it comes from the request.
func printable(s string) string {
	const limit = 100
	if len(s) <= limit && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' }) {
		return s
	}
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strconv.Quote(s)
}

// CheckBinding refuses to serve on addr (the http key, host:port) when its host is not a loopback address
// (127.0.0.0/8, ::1 or localhost; an empty host or 0.0.0.0 listens on every interface) while authentication
// is off, unless insecure (--insecure) says the operator wants that.
func CheckBinding(addr string, enabled, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("http %q: expected host:port", addr)
	}
	if enabled || insecure || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("http %s is not a loopback address and no auth is configured: configure auth users or tokens, or pass --insecure", addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	host, _, _ = strings.Cut(host, "%") // an IPv6 zone
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
