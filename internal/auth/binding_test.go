package auth_test

import (
	"testing"

	"github.com/bigfather/bigfather/internal/auth"
)

func TestCheckBinding(t *testing.T) {
	refused := func(addr string) string {
		return "http " + addr + " is not a loopback address and no auth is configured: configure auth users or tokens, or pass --insecure"
	}
	for _, tc := range []struct {
		addr              string
		enabled, insecure bool
		want              string // "" for allowed
	}{
		{"127.0.0.1:8080", false, false, ""},
		{"127.1.2.3:8080", false, false, ""},
		{"[::1]:80", false, false, ""},
		{"[::1%lo]:80", false, false, ""},
		{"localhost:1", false, false, ""},
		{"LocalHost:1", false, false, ""},
		{":8080", false, false, refused(":8080")},
		{"0.0.0.0:8080", false, false, refused("0.0.0.0:8080")},
		{"[::]:8080", false, false, refused("[::]:8080")},
		{"10.0.0.1:80", false, false, refused("10.0.0.1:80")},
		{"bigfather.internal:80", false, false, refused("bigfather.internal:80")},
		{"localhost.evil.example:80", false, false, refused("localhost.evil.example:80")},
		{":8080", true, false, ""},
		{"0.0.0.0:8080", true, false, ""},
		{"10.0.0.1:80", true, false, ""},
		{":8080", false, true, ""},
		{"0.0.0.0:8080", false, true, ""},
		{"10.0.0.1:80", false, true, ""},
		{"127.0.0.1:8080", true, true, ""},
		{"8080", false, false, `http "8080": expected host:port`},
	} {
		err := auth.CheckBinding(tc.addr, tc.enabled, tc.insecure)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckBinding(%q, enabled=%t, insecure=%t) = %q, want %q", tc.addr, tc.enabled, tc.insecure, got, tc.want)
		}
	}
}
