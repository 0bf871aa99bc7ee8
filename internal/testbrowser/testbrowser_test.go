package testbrowser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// page is the smoke test's site: / sets its status by JavaScript, changes it on a click and shows the colour
// scheme and language the browser reports; /throws logs a console error and throws.
func page() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html>
<html><head><title>Smoke</title>
<style>
  body { margin: 0; background: rgb(250, 250, 250); color: black; }
  @media (prefers-color-scheme: dark) { body { background: rgb(17, 34, 51); color: white; } }
</style></head>
<body><p id="status">loading</p><p id="env"></p><button id="go">Go</button>
<script>
  const status = document.getElementById('status');
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  document.getElementById('env').textContent = (dark ? 'dark' : 'light') + ' ' + navigator.language;
  let clicks = 0;
  document.getElementById('go').addEventListener('click', () => { status.textContent = 'clicked ' + (++clicks); });
  status.textContent = 'ready';
</script></body></html>`)
	})
	mux.HandleFunc("GET /throws", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Throws</title></head><body>
<script>
  console.error('bad thing');
  document.body.dataset.loaded = 'yes';
  throw new Error('boom from the page');
</script></body></html>`)
	})
	return mux
}

func TestSmoke(t *testing.T) {
	Require(t)
	srv := httptest.NewServer(page())
	t.Cleanup(srv.Close)
	shots := t.TempDir()

	out := Run(t, "testdata/smoke.mjs", map[string]string{"BASE_URL": srv.URL, "SHOT_DIR": shots})

	type result struct {
		Title   string `json:"title"`
		Ready   string `json:"ready"`
		Clicked string `json:"clicked"`
		Env     string `json:"env"`
		Shot    string `json:"shot"`
	}
	var got result
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
		t.Fatalf("stdout is not one JSON line: %v\n%s", err, out)
	}
	want := result{Title: "Smoke", Ready: "ready", Clicked: "clicked 1", Env: "dark de-DE", Shot: filepath.Join(shots, "smoke.png")}
	if got != want {
		t.Fatalf("script reported %+v, want %+v", got, want)
	}

	data, err := os.ReadFile(want.Shot)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1000 {
		t.Fatalf("screenshot is %d bytes, want a real page (at least 1000)", len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 800 {
		t.Fatalf("screenshot is %dx%d, want the 1280x800 viewport", b.Dx(), b.Dy())
	}
	// The bottom-right corner is page background: the dark scheme's colour.
	r, g, b, _ := img.At(1279, 799).RGBA()
	if got, want := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}), (color.RGBA{17, 34, 51, 255}); got != want {
		t.Fatalf("screenshot background is %v, want the dark scheme's %v", got, want)
	}
}

// recorder is a testing.TB whose Fatal and Skip record the message and end the goroutine, as the real ones do,
// so a test can check what Run reports.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) { r.skip = fmt.Sprint(args...); runtime.Goexit() }

// record runs Run on a recorder in its own goroutine and returns the recorder once Run returned or stopped.
func record(t *testing.T, script string, env map[string]string, timeout time.Duration) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunTimeout(r, script, env, timeout)
	}()
	<-done
	return r
}

func TestRunReportsFailures(t *testing.T) {
	Require(t)
	srv := httptest.NewServer(page())
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		script  string
		env     map[string]string
		timeout time.Duration
		want    []string // in the failure message
		shots   []string // files the script left in SHOT_DIR
	}{
		{
			name:   "expectation",
			script: "testdata/smoke.mjs",
			env:    map[string]string{"WANT": "nope"},
			want: []string{
				"testbrowser: node testdata/smoke.mjs failed after ",
				": exit status 1\nstderr:\n",
				`FAIL: expectText: wanted #status to contain "nope" within 1000 ms, but its text is "clicked 1" (page ` + srv.URL + "/)",
				"\nstdout:\n  (empty)",
			},
			shots: []string{"failure-1.png"},
		},
		{
			name:   "page errors",
			script: "testdata/throws.mjs",
			want: []string{
				"FAIL: page " + srv.URL + "/throws had 2 error(s):\n    console.error: bad thing\n    uncaught Error: boom from the page\n",
			},
			shots: []string{"failure-1.png"},
		},
		{
			name:    "timeout",
			script:  "testdata/hang.mjs",
			timeout: 2 * time.Second,
			want:    []string{"testbrowser: node testdata/hang.mjs failed after ", ": did not finish within 2s (killed)"},
		},
		{
			name:   "missing script",
			script: "testdata/missing.mjs",
			want:   []string{"testbrowser: script testdata/missing.mjs: stat ", "no such file or directory"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shots := t.TempDir()
			env := map[string]string{"BASE_URL": srv.URL, "SHOT_DIR": shots}
			for k, v := range tc.env {
				env[k] = v
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			r := record(t, tc.script, env, timeout)
			if r.fatal == "" {
				t.Fatalf("Run did not fail the test (skip: %q)", r.skip)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.fatal, w) {
					t.Errorf("failure message lacks %q:\n%s", w, r.fatal)
				}
			}
			for _, name := range tc.shots {
				if _, err := os.Stat(filepath.Join(shots, name)); err != nil {
					t.Errorf("no failure screenshot: %v", err)
				}
			}
		})
	}
}

func TestSkipEnv(t *testing.T) {
	t.Setenv(SkipEnv, "1")
	t.Setenv("BIGFATHER_CHROMIUM", filepath.Join(t.TempDir(), "no-chromium")) // skipped before it is looked for
	r := record(t, "testdata/smoke.mjs", nil, time.Minute)
	if want := "BIGFATHER_SKIP_BROWSER=1: skipping the headless-browser test"; r.skip != want || r.fatal != "" {
		t.Fatalf("Run with %s=1: skip %q, fatal %q; want skip %q", SkipEnv, r.skip, r.fatal, want)
	}
}

func TestAvailable(t *testing.T) {
	tmp := t.TempDir()
	noChromium := filepath.Join(tmp, "no-chromium")
	tests := []struct {
		name        string
		chromium    string
		nodeModules string
		want        []string // in the error; none: no error
	}{
		{
			name:     "chromium missing",
			chromium: noChromium,
			want: []string{
				"testbrowser: chromium is not installed at " + noChromium + ": install it with `apt-get install -y chromium`",
				"or set BIGFATHER_SKIP_BROWSER=1 to skip the browser tests",
			},
		},
		{
			name:        "playwright-core missing",
			nodeModules: tmp,
			want: []string{
				"testbrowser: playwright-core is not installed in " + tmp + " (no " + filepath.Join(tmp, "playwright-core", "package.json") + "): install it with " +
					"`npm install --prefix $HOME/.cache/bigfather-tools/node --no-audit --no-fund playwright-core@1.65.1`",
			},
		},
		{
			name:        "both missing",
			chromium:    noChromium,
			nodeModules: tmp,
			want:        []string{"chromium is not installed at " + noChromium, "\ntestbrowser: playwright-core is not installed in " + tmp},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chromium != "" {
				t.Setenv("BIGFATHER_CHROMIUM", tc.chromium)
			}
			if tc.nodeModules != "" {
				t.Setenv("BIGFATHER_NODE_MODULES", tc.nodeModules)
			}
			err := Available()
			if err == nil {
				t.Fatalf("Available() = nil, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Available() error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
