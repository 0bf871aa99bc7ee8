package monitor

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// PipelineStatus is what /healthz says about one pipeline.
type PipelineStatus struct {
	State      string    `json:"state"` // starting, running, failing, paused
	LastCommit time.Time `json:"last_commit,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	ErrorSince time.Time `json:"error_since,omitzero"`
}

// Health tracks the state of every pipeline of the process. It is safe for concurrent use.
type Health struct {
	mu        sync.Mutex
	pipelines map[string]PipelineStatus
	watches   map[string]func() error
}

// NewHealth returns an empty health registry.
func NewHealth() *Health {
	return &Health{pipelines: map[string]PipelineStatus{}, watches: map[string]func() error{}}
}

// Watch adds (or, under the same name, replaces) a dependency check that Check runs every time: the process
// is unhealthy while it returns an error, whatever the pipelines say. The error must name the dependency.
func (h *Health) Watch(name string, check func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watches[name] = check
}

// Starting records that a pipeline is starting.
func (h *Health) Starting(pipeline string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pipelines[pipeline] = PipelineStatus{State: "starting"}
}

// Assigned records that a pipeline's worker owns partitions: a starting pipeline is running from then on, even
// before anything arrives to commit (a failing one stays failing until it commits).
func (h *Health) Assigned(pipeline string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.pipelines[pipeline]; st.State == "starting" {
		st.State = "running"
		h.pipelines[pipeline] = st
	}
}

// Committed records a successful commit: the pipeline is running (a paused one stays paused: it commits what
// came before the blocking record).
func (h *Health) Committed(pipeline string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.pipelines[pipeline]; st.State == "paused" {
		st.LastCommit = at
		h.pipelines[pipeline] = st
		return
	}
	h.pipelines[pipeline] = PipelineStatus{State: "running", LastCommit: at}
}

// Failed records a failure; the pipeline stays failing until its next successful commit.
func (h *Health) Failed(pipeline string, err error, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.pipelines[pipeline]
	if st.State != "failing" {
		st.ErrorSince = at
	}
	st.State, st.LastError = "failing", err.Error()
	h.pipelines[pipeline] = st
}

// Paused records that a pipeline stopped at a rejected record and waits to be resumed. A paused pipeline is
// not failing: it does what its policy says.
func (h *Health) Paused(pipeline, reason string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.pipelines[pipeline]
	st.State, st.LastError, st.ErrorSince = "paused", reason, at
	h.pipelines[pipeline] = st
}

// Statuses returns a copy of every pipeline's status.
func (h *Health) Statuses() map[string]PipelineStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]PipelineStatus, len(h.pipelines))
	for k, v := range h.pipelines {
		out[k] = v
	}
	return out
}

// Check returns an error naming every failing dependency (see Watch), then every failing pipeline, or nil.
func (h *Health) Check() error {
	h.mu.Lock()
	watches := make([]string, 0, len(h.watches))
	for name := range h.watches {
		watches = append(watches, name)
	}
	checks := make([]func() error, len(watches))
	sort.Strings(watches)
	for i, name := range watches {
		checks[i] = h.watches[name]
	}
	h.mu.Unlock()
	var problems []string
	for _, check := range checks {
		if err := check(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	var failing []string
	for name, st := range h.Statuses() {
		if st.State == "failing" {
			failing = append(failing, fmt.Sprintf("pipeline %s failing since %s: %s", name, st.ErrorSince.UTC().Format(time.RFC3339), st.LastError))
		}
	}
	sort.Strings(failing)
	problems = append(problems, failing...)
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}
