package config

// Values of Config.MemoryLimit besides a size in bytes.
const (
	// MemoryLimitAuto derives the limit from the pipelines (AutoMemoryLimit).
	MemoryLimitAuto int64 = 0
	// MemoryLimitOff sets no limit: the Go runtime's default, memory up to about twice the live heap.
	MemoryLimitOff int64 = -1
)

// processMemory is what a stage process needs besides its pipelines' batches: fetch buffers, the Parquet
// writer's pages, the dedup index of a day of demo traffic, the runtime.
const processMemory = 96 << 20

// minAutoMemoryLimit is the least memory_limit auto gives.
const minAutoMemoryLimit = 320 << 20

// MemoryLimitFor is the limit memory_limit asks for in a process running pipes: a size in bytes, or
// MemoryLimitOff. "auto" stands for processMemory plus, per pipeline, two batches of max_bytes (one filling
// while the one before is written and committed), at least 320MiB; with the defaults (one pipeline, max_bytes
// 128MiB) that is 352MiB.
func (c *Config) MemoryLimitFor(pipes []*Pipeline) int64 {
	if c.MemoryLimit != MemoryLimitAuto {
		return c.MemoryLimit
	}
	limit := int64(processMemory)
	for _, p := range pipes {
		limit += 2 * p.Commit.MaxBytes
	}
	return max(limit, minAutoMemoryLimit)
}
