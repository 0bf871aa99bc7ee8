package main

import (
	"context"
	"io"
	"log/slog"
)

// cmdAlerts is a placeholder while `bigfather alerts` is built.
func cmdAlerts(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	return usagef("alerts: not built yet")
}
