// Package memlimit holds a process to a soft memory limit (the Go runtime's), and raises the limit when the
// live heap outgrows it rather than let the garbage collector run without pause.
package memlimit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Source says where a process's limit came from.
type Source string

const (
	FromEnv    Source = "GOMEMLIMIT" // the environment variable, which the Go runtime applied itself
	FromConfig Source = "memory_limit"
	Off        Source = "off"
)

// Apply sets limit (bytes; negative: none) as the process's soft memory limit, unless GOMEMLIMIT is set,
// which wins. It returns the limit in force (math.MaxInt64 when there is none) and where it came from.
func Apply(limit int64) (int64, Source) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), FromEnv
	}
	if limit < 0 {
		return debug.SetMemoryLimit(-1), Off
	}
	debug.SetMemoryLimit(limit)
	return limit, FromConfig
}

// Guard checks the live heap every interval until ctx ends. When it passes three quarters of the limit, the
// collector would run nearly without pause to stay under it (the runtime lets it take up to half the CPU),
// so Guard raises the limit to twice the live heap and logs a warning naming the new limit.
func Guard(ctx context.Context, interval time.Duration, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if raised, ok := raise(sample[0].Value.Uint64(), debug.SetMemoryLimit(-1)); ok {
			debug.SetMemoryLimit(raised)
			log.Warn("memory limit raised: the live heap outgrew it; set memory_limit (or GOMEMLIMIT) higher, or lower the pipelines' max_rows/max_bytes",
				"live", MiB(int64(sample[0].Value.Uint64())), "limit", MiB(raised))
		}
	}
}

// raise returns the limit to set when live passes three quarters of limit: twice live, in whole MiB.
func raise(live uint64, limit int64) (int64, bool) {
	if limit <= 0 || live <= uint64(limit)/4*3 {
		return 0, false
	}
	return int64((2*live + 1<<20 - 1) &^ (1<<20 - 1)), true
}

// MiB formats bytes as whole mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%dMiB", b>>20) }
