package main

import (
	"context"
	"io"
	"log/slog"
)

// cmdStatus is a placeholder while `bigfather status` is built.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	return usagef("status: not built yet")
}
