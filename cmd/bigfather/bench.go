package main

import (
	"context"
	"io"
	"log/slog"
)

// cmdBench is a placeholder while `bigfather bench` is built.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	return usagef("bench: not built yet")
}
