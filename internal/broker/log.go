package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// logAdapter forwards kfake's printf-style logs to slog and, while capturing,
// keeps error-level messages so Close can report them.
type logAdapter struct {
	l *slog.Logger

	mu        sync.Mutex
	capturing bool
	errs      []error
}

var _ kfake.Logger = (*logAdapter)(nil)

// Logf implements kfake.Logger.
func (a *logAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	if level == kfake.LogLevelError {
		a.mu.Lock()
		if a.capturing {
			a.errs = append(a.errs, fmt.Errorf(format, args...))
		}
		a.mu.Unlock()
	}
	if a.l == nil {
		return
	}
	var sl slog.Level
	switch level {
	case kfake.LogLevelError:
		sl = slog.LevelError
	case kfake.LogLevelWarn:
		sl = slog.LevelWarn
	case kfake.LogLevelInfo:
		sl = slog.LevelDebug // kfake logs routine group churn at info
	default:
		sl = slog.LevelDebug - 4 // per-request tracing
	}
	ctx := context.Background()
	if !a.l.Enabled(ctx, sl) {
		return
	}
	a.l.Log(ctx, sl, fmt.Sprintf(format, args...), "component", "kfake")
}

func (a *logAdapter) startCapture() {
	a.mu.Lock()
	a.capturing = true
	a.mu.Unlock()
}

func (a *logAdapter) stopCapture() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.capturing = false
	errs := a.errs
	a.errs = nil
	return errs
}

// errLocked reports that another process holds a data directory.
var errLocked = errors.New("in use by another broker (lock held on .lock)")
