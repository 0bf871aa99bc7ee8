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

// Control lets an operator resume pipelines paused by the pause policy. It is safe for concurrent use.
type Control struct {
	mu      sync.Mutex
	waiting map[string]chan string
}

// NewControl returns a Control with no paused pipelines.
func NewControl() *Control { return &Control{waiting: map[string]chan string{}} }

// Paused lists the pipelines waiting to be resumed.
func (c *Control) Paused() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.waiting))
	for name := range c.waiting {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Resume releases a paused pipeline with an action (retry or skip).
func (c *Control) Resume(pipeline, action string) error {
	if action == "" {
		action = ResumeRetry
	}
	if action != ResumeRetry && action != ResumeSkip {
		return fmt.Errorf("unknown resume action %q (expected %s or %s)", action, ResumeRetry, ResumeSkip)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.waiting[pipeline]
	if !ok {
		return fmt.Errorf("pipeline %q is not paused", pipeline)
	}
	delete(c.waiting, pipeline)
	ch <- action
	return nil
}

// wait blocks until the pipeline is resumed or ctx ends.
func (c *Control) wait(ctx context.Context, pipeline string) (string, error) {
	ch := make(chan string, 1)
	c.mu.Lock()
	c.waiting[pipeline] = ch
	c.mu.Unlock()
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiting, pipeline)
		c.mu.Unlock()
		return "", ctx.Err()
	}
}
