package stage

import (
	"context"
	"testing"
	"time"
)

func TestControl(t *testing.T) {
	c := NewControl()
	if err := c.Resume("game", ResumeSkip); err == nil || err.Error() != `pipeline "game" is not paused` {
		t.Fatalf("resume before pausing: %v", err)
	}
	// A resume between pausing and waiting is kept for the wait.
	c.hold("game")
	if got := c.Paused(); len(got) != 1 || got[0] != "game" {
		t.Fatalf("Paused() = %v", got)
	}
	if err := c.Resume("game", "explode"); err == nil || err.Error() != `unknown resume action "explode" (expected retry or skip)` {
		t.Fatalf("bad action: %v", err)
	}
	if err := c.Resume("game", ResumeSkip); err != nil {
		t.Fatal(err)
	}
	if err := c.Resume("game", ResumeSkip); err == nil {
		t.Fatal("a second resume of one pause was accepted")
	}
	if a, err := c.wait(context.Background(), "game"); err != nil || a != ResumeSkip {
		t.Fatalf("wait = %q, %v; want skip", a, err)
	}
	// A resume while waiting; the default action is retry.
	c.hold("game")
	done := make(chan string, 1)
	go func() { a, _ := c.wait(context.Background(), "game"); done <- a }()
	time.Sleep(20 * time.Millisecond)
	if err := c.Resume("game", ""); err != nil {
		t.Fatal(err)
	}
	if a := <-done; a != ResumeRetry {
		t.Fatalf("wait = %q, want retry", a)
	}
	// A wait ends with its context and leaves nothing paused.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	c.hold("game")
	if _, err := c.wait(ctx, "game"); err == nil {
		t.Fatal("wait outlived its context")
	}
	if got := c.Paused(); len(got) != 0 {
		t.Fatalf("Paused() after a cancelled wait = %v", got)
	}
}
