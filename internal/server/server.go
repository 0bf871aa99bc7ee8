// Package server is Big Father's one HTTP access point: metrics, health, and (later) the console and APIs.
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

// Resumer resumes paused pipelines (stage.Control).
type Resumer interface {
	Resume(pipeline, action string) error
}

// New listens on addr and routes /metrics, /healthz and the pipeline API. /healthz answers 200 with every
// pipeline's state, or 503 while any pipeline is failing. POST /api/v1/pipelines/{name}/resume?action=retry|skip
// resumes a pipeline paused by the pause policy (resume may be nil).
func New(addr string, m *monitor.Metrics, health *monitor.Health, resume Resumer, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("POST /api/v1/pipelines/{name}/resume", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if resume == nil {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "this process runs no pipelines"})
			return
		}
		if err := resume.Resume(r.PathValue("name"), r.URL.Query().Get("action")); err != nil {
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "resumed"})
	})
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
