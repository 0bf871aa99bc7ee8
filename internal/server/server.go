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
	ready := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body := healthBody{Status: "ok", Pipelines: map[string]monitor.PipelineStatus{}}
		code := http.StatusOK
		if health != nil {
			body.Pipelines = health.Statuses()
			if err := health.Check(); err != nil {
				body.Status, body.Error, code = "unhealthy", err.Error(), http.StatusServiceUnavailable
			}
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
	// Both answer 503 while a pipeline fails or a store does not answer: /readyz is the name load balancers
	// and Kubernetes expect for that; /healthz stays for the tools already pointed at it.
	mux.HandleFunc("GET /healthz", ready)
	mux.HandleFunc("GET /readyz", ready)
	if o.API != nil {
		mux.Handle("/api/v1/", o.API)
	}
	if o.Console != nil {
		mux.Handle("/ui", o.Console)
		mux.Handle("/ui/", o.Console)
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/ui/", http.StatusFound)
		})
	}
	return &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, log: log}, nil
}

type healthBody struct {
	Status    string                            `json:"status"`
	Error     string                            `json:"error,omitempty"`
	Pipelines map[string]monitor.PipelineStatus `json:"pipelines"`
}

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
