package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for _, tc := range []struct {
		path, wantType string
		wantCode       int
		wantBody       string
	}{
		{"/ui/", "text/html", 200, `<script type="module" src="/ui/app.js">`},
		{"/ui", "text/html", 200, `<title>Big Father</title>`},
		{"/ui/pipelines/game-events", "text/html", 200, `<main id="main"`}, // an app route: the app's page
		{"/ui/app.js", "text/javascript", 200, "function route()"},
		{"/ui/vendor/uplot/uPlot.iife.min.js", "text/javascript", 200, "uPlot"},
		{"/ui/style.css", "text/css", 200, "--accent"},
		{"/ui/nope.js", "text/plain", 404, "404 page not found"}, // a missing asset is not the app
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantCode || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) || !strings.Contains(string(body), tc.wantBody) {
			t.Errorf("GET %s: %d %s, want %d %s containing %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantCode, tc.wantType, tc.wantBody)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); tc.wantCode == 200 && !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want default-src 'self' (no CDN)", tc.path, csp)
		}
	}
}

// TestTranslations: every text key the pages use exists in English and Korean, and the two languages have the
// same keys.
func TestTranslations(t *testing.T) {
	src, err := fs.ReadFile(assets, "web/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]map[string]bool{}
	cur := ""
	for _, line := range strings.Split(string(src), "\n") {
		if m := regexp.MustCompile(`^  (\w+): \{$`).FindStringSubmatch(line); m != nil {
			cur = m[1]
			langs[cur] = map[string]bool{}
			continue
		}
		if m := regexp.MustCompile(`^    "([^"]+)": `).FindStringSubmatch(line); m != nil && cur != "" {
			langs[cur][m[1]] = true
		}
	}
	en, ko := langs["en"], langs["ko"]
	if len(en) < 100 || len(ko) < 100 {
		t.Fatalf("i18n.js: %d English and %d Korean keys read; the parser lost its way", len(en), len(ko))
	}
	for k := range en {
		if !ko[k] {
			t.Errorf("%q has no Korean text", k)
		}
	}
	for k := range ko {
		if !en[k] {
			t.Errorf("%q has no English text", k)
		}
	}
	used := regexp.MustCompile(`\bt\('([a-z]+\.[a-z0-9.]+|[a-z]+)'`)
	var missing []string
	fs.WalkDir(assets, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") || strings.Contains(p, "/vendor/") {
			return err
		}
		body, _ := fs.ReadFile(assets, p)
		for _, m := range used.FindAllStringSubmatch(string(body), -1) {
			if !en[m[1]] {
				missing = append(missing, p+": "+m[1])
			}
		}
		return nil
	})
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("text keys used but not translated:\n%s", strings.Join(missing, "\n"))
	}
}
