package stage

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Resume actions for a paused pipeline.
const (
	ResumeRetry = "retry" // read the blocking record again (after fixing its definition); it pauses again if still invalid
	ResumeSkip  = "skip"  // drop the blocking record and go on
)

// Control lets an operator pause pipelines and resume them, also those paused by the pause policy. It is safe
// for concurrent use.
type Control struct {
	mu sync.Mutex
	// actions holds, per pipeline, the channel its resume action arrives on: from the moment it pauses (hold)
	// until the worker takes the action (wait).
	actions map[string]chan string
	paused  map[string]bool // paused by the policy and not yet resumed
	// stopped holds the pipelines an operator paused: their workers commit what they buffered and fetch
	// nothing more, staying in the consumer group so their partitions stay put, until Resume.
	stopped map[string]bool
}

// NewControl returns a Control with no paused pipelines.
func NewControl() *Control {
	return &Control{actions: map[string]chan string{}, paused: map[string]bool{}, stopped: map[string]bool{}}
}

// Pause asks a pipeline's workers in this process to commit what they buffered and consume nothing more until
// Resume. Pausing a paused pipeline is an error.
func (c *Control) Pause(pipeline string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped[pipeline] || c.paused[pipeline] {
		return fmt.Errorf("pipeline %q is already paused", pipeline)
	}
	c.stopped[pipeline] = true
	return nil
}

// PausedBy says why a pipeline is paused: "operator", "policy" (at a rejected record), or "" when it is not.
func (c *Control) PausedBy(pipeline string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped[pipeline]:
		return "operator"
	case c.paused[pipeline]:
		return "policy"
	}
	return ""
}

// held reports whether an operator paused the pipeline.
func (c *Control) held(pipeline string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped[pipeline]
}

// Paused lists the pipelines waiting to be resumed.
func (c *Control) Paused() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.paused))
	for name := range c.paused {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Resume releases a paused pipeline: one an operator paused goes on where it stopped; one the pause policy
// stopped at a rejected record goes on with an action (retry or skip).
func (c *Control) Resume(pipeline, action string) error {
	if action == "" {
		action = ResumeRetry
	}
	if action != ResumeRetry && action != ResumeSkip {
		return fmt.Errorf("unknown resume action %q (expected %s or %s)", action, ResumeRetry, ResumeSkip)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped[pipeline] {
		delete(c.stopped, pipeline)
		return nil
	}
	if !c.paused[pipeline] {
		return fmt.Errorf("pipeline %q is not paused", pipeline)
	}
	delete(c.paused, pipeline)
	c.actions[pipeline] <- action // capacity one, one action per pause: never blocks
	return nil
}

// hold marks a pipeline paused at the moment it pauses, so a Resume is accepted from then on, even before the
// worker has committed what came before the blocking record and started waiting.
func (c *Control) hold(pipeline string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.actions[pipeline]; !ok {
		c.actions[pipeline] = make(chan string, 1)
	}
	c.paused[pipeline] = true
}

// wait blocks until the pipeline is resumed (perhaps already) or ctx ends.
func (c *Control) wait(ctx context.Context, pipeline string) (string, error) {
	c.mu.Lock()
	ch, ok := c.actions[pipeline]
	if !ok {
		ch = make(chan string, 1)
		c.actions[pipeline], c.paused[pipeline] = ch, true
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.actions, pipeline)
		delete(c.paused, pipeline)
		c.mu.Unlock()
	}()
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
