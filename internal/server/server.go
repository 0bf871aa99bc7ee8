// Package server is Big Father's one HTTP access point: metrics, health, the console (/ui) and its API (/api/v1).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bigfather/bigfather/internal/monitor"
)

// Server serves the HTTP surface on one address.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// Options are what the server serves besides /metrics and /healthz.
type Options struct {
	Metrics *monitor.Metrics
	Health  *monitor.Health
	// API serves /api/v1/ (nil: not served).
	API http.Handler
	// Console serves /ui (nil: not served); "/" then redirects there.
	Console http.Handler
	// Ready runs the readiness checks for /readyz (nil: Health.Check decides).
	Ready func(context.Context) []monitor.Check
	// Registry serves the schema registry API at RegistryPaths and below them (nil: not served).
	Registry      http.Handler
	RegistryPaths []string
}

// New listens on addr and routes /metrics, /healthz and /readyz, /api/v1/ and /ui. /healthz and /readyz
// answer 200 with every pipeline's state, or 503 while any pipeline is failing or a store does not answer.
func New(addr string, o Options, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	if o.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{Registry: o.Metrics.Registry}))
	}
	health := o.Health
	statuses := func() map[string]monitor.PipelineStatus {
		if health == nil {
			return map[string]monitor.PipelineStatus{}
		}
		return health.Statuses()
	}
	// /healthz says the process is alive and serving; what it waits for is /readyz's business.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, healthBody{Status: "alive", Pipelines: statuses()})
	})
	// /readyz answers 503 naming every failing check: Kafka, the catalog, the warehouse, the pipelines.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		body := readyBody{Status: "ready", Checks: []monitor.Check{}, Pipelines: statuses()}
		if o.Ready != nil {
			body.Checks = o.Ready(r.Context())
		} else if health != nil {
			c := monitor.Check{Name: "pipelines", OK: true}
			if err := health.Check(); err != nil {
				c.OK, c.Message = false, err.Error()
			}
			body.Checks = append(body.Checks, c)
		}
		code := http.StatusOK
		var failing []string
		for _, c := range body.Checks {
			if !c.OK {
				failing = append(failing, c.Name+": "+c.Message)
			}
		}
		if len(failing) > 0 {
			body.Status, body.Error, code = "not ready", strings.Join(failing, "; "), http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	if o.API != nil {
		mux.Handle("/api/v1/", o.API)
	}
	if o.Registry != nil {
		for _, p := range o.RegistryPaths {
			mux.Handle(p, o.Registry)
			mux.Handle(p+"/", o.Registry)
		}
	}
	if o.Console != nil {
		mux.Handle("/ui", o.Console)
		mux.Handle("/ui/", o.Console)
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/ui/", http.StatusFound)
		})
	}
	var h http.Handler = mux
	if o.Metrics != nil {
		h = instrument(mux, o.Metrics)
	}
	return &Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, log: log}, nil
}

type healthBody struct {
	Status    string                            `json:"status"`
	Pipelines map[string]monitor.PipelineStatus `json:"pipelines"`
}

type readyBody struct {
	Status string `json:"status"`
	// Error names every failing check, "name: message; ...".
	Error     string                            `json:"error,omitempty"`
	Checks    []monitor.Check                   `json:"checks"`
	Pipelines map[string]monitor.PipelineStatus `json:"pipelines"`
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// instrument counts and times every request by handler family, a bounded label.
func instrument(next http.Handler, m *monitor.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		h := handlerFamily(r.URL.Path)
		method := r.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		default:
			method = "other"
		}
		m.HTTPRequests.WithLabelValues(h, method, strconv.Itoa(rec.code)).Inc()
		m.HTTPDuration.WithLabelValues(h).Observe(time.Since(start).Seconds())
	})
}

// handlerFamily names the part of the surface a path belongs to.
func handlerFamily(path string) string {
	switch {
	case path == "/ui" || strings.HasPrefix(path, "/ui/") || path == "/":
		return "ui"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/metrics":
		return "metrics"
	case path == "/healthz" || path == "/readyz":
		return "health"
	}
	for _, p := range []string{"/subjects", "/schemas", "/config", "/compatibility", "/mode", "/contexts"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return "registry"
		}
	}
	return "other"
}

// statusRecorder remembers the status code written; it passes Flush through for server-sent events.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Addr is the address actually listened on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving http: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutting down http: %w", err)
		}
		return nil
	}
}
