package main

import (
	"strings"
	"testing"
	"time"
)

// TestNonLoopbackNeedsAuth: `stage`, `up` and `console` refuse to serve a non-loopback --http address without an
// auth block (exit 2, saying what to do) unless --insecure is given; with --insecure the process starts and warns.
func TestNonLoopbackNeedsAuth(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "bind.events", 1)
	cfg := e.writeConfig("bind.events", "bind_events", "{interval: 1s}")
	const want = "is not a loopback address and no auth is configured: configure auth users or tokens, or pass --insecure"
	for _, args := range [][]string{
		{"stage", "--config", cfg, "--http", "0.0.0.0:0"},
		{"console", "--config", cfg, "--http", ":0"},
		{"up", "--config", cfg, "--data", t.TempDir(), "--http", "0.0.0.0:0"},
	} {
		code, _, stderr := runBin(t, args...)
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("bigfather %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, stderr, want)
		}
	}
	p := e.startStage(cfg, "--http", "0.0.0.0:0", "--insecure")
	waitFor(t, 30*time.Second, "the stage process to serve HTTP", func() bool { return strings.Contains(readFile(p.log), "msg=\"http listening\"") })
	if log := readFile(p.log); !strings.Contains(log, "serving without authentication on a non-loopback address (--insecure)") {
		t.Errorf("no warning about --insecure in the log:\n%s", p.tail())
	}
	if code := p.stop(t, 30*time.Second); code != 0 {
		t.Errorf("stage exited %d after SIGTERM", code)
	}
}
