// Package console serves the web console: the single-page app under /ui, built from plain ES modules, CSS and
// vendored libraries embedded in the binary (web/), so `go build` alone makes the complete binary and nothing is
// fetched at run time. Each page is one module under web/pages/ with its API family under /api/v1.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed web
var assets embed.FS

// Prefix is where the console lives.
const Prefix = "/ui"

// Handler serves the console under Prefix: the files of web/, and index.html for every path that is not a file
// (the app's own routes, such as /ui/pipelines/game-events).
func Handler() http.Handler {
	web, err := fs.Sub(assets, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	files := http.FileServerFS(web)
	return http.StripPrefix(Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		if st, err := fs.Stat(web, name); name != "" && err == nil && !st.IsDir() {
			if strings.HasPrefix(name, "vendor/") {
				w.Header().Set("Cache-Control", "public, max-age=86400")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			files.ServeHTTP(w, r)
			return
		}
		if path.Ext(name) != "" {
			http.NotFound(w, r) // a missing asset, not an app route
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, web, "index.html")
	}))
}
