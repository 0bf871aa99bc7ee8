// Package testbrowser runs headless-browser scripts for tests: node runs an ES module script that drives
// Debian's chromium through npm playwright-core, against servers the test started on 127.0.0.1. Scripts import
// the helpers of lib.mjs (main, launch, newPage, expectText, expectNoErrors, shot, emit, fail) from the
// absolute path the harness passes in BIGFATHER_BROWSER_LIB; lib.mjs loads playwright-core from the
// node_modules directory in BIGFATHER_NODE_MODULES, so nothing is installed into or written to the repository.
//
// When chromium, node or playwright-core is missing the helpers fail the test with a message saying how to
// install them (.ci/run does); BIGFATHER_SKIP_BROWSER=1 skips the browser tests instead, on purpose.
package testbrowser

import (
	"bytes"
	"context"
	_ "embed" // lib.mjs
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SkipEnv names the environment variable that, set to 1, makes Run and Require skip the test instead of
// running (or failing) it.
const SkipEnv = "BIGFATHER_SKIP_BROWSER"

// PlaywrightVersion is the playwright-core version .ci/run installs and the scripts are written against.
const PlaywrightVersion = "1.65.1"

// DefaultTimeout bounds one Run: the script, its browser and the page loads together.
const DefaultTimeout = 3 * time.Minute

// DefaultChromium is the browser executable used unless BIGFATHER_CHROMIUM names another (Debian's chromium).
const DefaultChromium = "/usr/bin/chromium"

// Install is how to install what the browser tests need (Debian).
const Install = "apt-get install -y chromium && npm install --prefix $HOME/.cache/bigfather-tools/node " +
	"--no-audit --no-fund playwright-core@" + PlaywrightVersion

//go:embed lib.mjs
var lib []byte

// NodeModules returns the node_modules directory holding playwright-core: $BIGFATHER_NODE_MODULES when set,
// else $HOME/.cache/bigfather-tools/node/node_modules (where .ci/run installs it).
func NodeModules() string {
	if d := os.Getenv("BIGFATHER_NODE_MODULES"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "bigfather-tools", "node", "node_modules")
	}
	return filepath.Join(home, ".cache", "bigfather-tools", "node", "node_modules")
}

// Chromium returns the browser executable: $BIGFATHER_CHROMIUM when set, else DefaultChromium.
func Chromium() string {
	if p := os.Getenv("BIGFATHER_CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// Available reports whether the browser tests can run here: node on the PATH, an executable Chromium() and
// playwright-core in NodeModules(). The error names everything missing and how to install it.
func Available() error {
	skip := "or set " + SkipEnv + "=1 to skip the browser tests"
	var errs []error
	if _, err := exec.LookPath("node"); err != nil {
		errs = append(errs, fmt.Errorf("testbrowser: node is not on the PATH (%v): install Node.js 20 or newer, %s", err, skip))
	}
	if st, err := os.Stat(Chromium()); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("testbrowser: chromium is not installed at %s: install it with "+
			"`apt-get install -y chromium` (Debian; .ci/run does), set BIGFATHER_CHROMIUM to another Chromium "+
			"executable, %s", Chromium(), skip))
	}
	pkg := filepath.Join(NodeModules(), "playwright-core", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		errs = append(errs, fmt.Errorf("testbrowser: playwright-core is not installed in %s (no %s): install it "+
			"with `npm install --prefix $HOME/.cache/bigfather-tools/node --no-audit --no-fund playwright-core@%s` "+
			"(.ci/run does), set BIGFATHER_NODE_MODULES to a node_modules directory holding it, %s",
			NodeModules(), pkg, PlaywrightVersion, skip))
	}
	return errors.Join(errs...)
}

// Require skips t under BIGFATHER_SKIP_BROWSER=1 and fails it when Available reports something missing. Tests
// call it before starting servers the browser would visit; Run calls it too.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1: skipping the headless-browser test")
	}
	if err := Available(); err != nil {
		t.Fatal(err)
	}
}

// Run runs `node script` for t within DefaultTimeout and returns its stdout. See RunTimeout.
func Run(t testing.TB, script string, env map[string]string) string {
	t.Helper()
	return RunTimeout(t, script, env, DefaultTimeout)
}

// RunTimeout runs `node script` (a path to an .mjs file, relative to the test's directory or absolute) and
// returns its stdout. The script sees the test process's environment plus:
//
//   - BIGFATHER_BROWSER_LIB: the absolute path of lib.mjs, for `await import(process.env.BIGFATHER_BROWSER_LIB)`;
//   - BIGFATHER_NODE_MODULES and NODE_PATH: the node_modules directory holding playwright-core;
//   - BIGFATHER_CHROMIUM: the browser executable;
//   - SHOT_DIR: where screenshots go, a temporary directory unless env sets it;
//   - every entry of env (such as BASE_URL), which wins over the above.
//
// A script that exits non-zero, or runs longer than timeout (or past t's deadline), fails t with its stderr and
// stdout; its process group is killed. Run skips or fails t first as Require does.
func RunTimeout(t testing.TB, script string, env map[string]string, timeout time.Duration) string {
	t.Helper()
	Require(t)
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatalf("testbrowser: script %s: %v", script, err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("testbrowser: script %s: %v", script, err)
	}
	libPath := filepath.Join(t.TempDir(), "lib.mjs")
	if err := os.WriteFile(libPath, lib, 0o644); err != nil {
		t.Fatalf("testbrowser: writing %s: %v", libPath, err)
	}
	vars := []string{
		"BIGFATHER_BROWSER_LIB=" + libPath,
		"BIGFATHER_BROWSER_WATCH_STDIN=1",
		"BIGFATHER_NODE_MODULES=" + NodeModules(),
		"NODE_PATH=" + NodeModules(),
		"BIGFATHER_CHROMIUM=" + Chromium(),
	}
	if _, ok := env["SHOT_DIR"]; !ok {
		vars = append(vars, "SHOT_DIR="+t.TempDir())
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, k+"="+env[k])
	}

	if d, ok := deadline(t); ok {
		if left := time.Until(d) - 5*time.Second; left < timeout {
			timeout = max(left, time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(os.Environ(), vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group, killed whole on timeout; SIGTERM (which playwright answers by closing the browser)
	// when the test binary's thread that started node goes away.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// Held open until node exits: lib.mjs exits when it ends, should this process die first.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("testbrowser: %v", err)
	}
	start := time.Now()
	err = cmd.Start()
	if err != nil {
		t.Fatalf("testbrowser: starting node %s: %v", script, err)
	}
	err = cmd.Wait()
	_ = stdin.Close()
	if err != nil {
		what := err.Error()
		if ctx.Err() != nil {
			what = fmt.Sprintf("did not finish within %s (killed)", timeout)
		}
		t.Fatalf("testbrowser: node %s failed after %s: %s\nstderr:\n%s\nstdout:\n%s",
			script, time.Since(start).Round(time.Millisecond), what, indent(stderr.String()), indent(stdout.String()))
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("testbrowser: node %s stderr:\n%s", script, indent(s))
	}
	return stdout.String()
}

// deadline returns t's deadline when t has one (a *testing.T under go test -timeout).
func deadline(t testing.TB) (time.Time, bool) {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		return d.Deadline()
	}
	return time.Time{}, false
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (empty)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
