package maintain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"

	"github.com/bigfather/bigfather/internal/lake"
)

// CompactResult is what Compact did.
type CompactResult struct {
	// Table is the table afterwards: the compacted one, or the latest one loaded.
	Table                        *table.Table
	FilesRewritten, FilesWritten int
	BytesRewritten, BytesWritten int64
	// Yielded is set when other commits kept replacing the files being compacted, or kept moving the table
	// for maxRebases attempts: the files written were removed and nothing changed; the next run tries again.
	Yielded bool
}

// minInputFiles is how many small files of one partition make a rewrite worth it. Two means that, at rest,
// every partition holds at most one small file.
const minInputFiles = 2

// maxRebases bounds how often a compaction that lost the race to another commit is re-applied on the newer
// snapshot before it gives up until the next run.
const maxRebases = 10

// Compact rewrites the small data files of t (under 3/4 of target), per partition, into files near target,
// and replaces them in one rewrite commit that asserts the snapshot it was applied on. The rows stay exactly
// the same; table properties (the stored Kafka offsets among them) are not touched, so the catalog carries
// them forward as they are. When another writer commits first (staging appends), the rewrite is applied
// again on the new snapshot, as long as every file it replaces is still live; the expensive part, writing
// the new files, is not repeated.
func Compact(ctx context.Context, t *table.Table, target int64) (CompactResult, error) {
	res := CompactResult{Table: t}
	if t.CurrentSnapshot() == nil {
		return res, nil
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return res, fmt.Errorf("planning files: %w", err)
	}
	cfg := compaction.DefaultConfig()
	cfg.TargetFileSizeBytes = target
	cfg.MinFileSizeBytes = small(target)
	cfg.MaxFileSizeBytes = target * 9 / 5
	cfg.MinInputFiles = minInputFiles
	plan, err := cfg.PlanCompaction(tasks)
	if err != nil {
		return res, err
	}
	if len(plan.Groups) == 0 {
		return res, nil
	}
	var groups []table.CompactionGroupResult
	fail := func(err error) (CompactResult, error) {
		removeNew(ctx, t, groups)
		return res, err
	}
	for _, g := range plan.Groups {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		gr, err := table.ExecuteCompactionGroup(ctx, t,
			table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes},
			table.WithCompactionTargetFileSize(target), table.WithCompactionScanConcurrency(2))
		groups = append(groups, gr)
		if errors.Is(err, fs.ErrNotExist) {
			// Another process compacted these files, expired their snapshots and removed them meanwhile.
			res.Yielded = true
			return fail(nil)
		}
		if err != nil {
			return fail(fmt.Errorf("rewriting partition %s: %w", g.PartitionKey, err))
		}
	}
	if err := checkRows(groups); err != nil {
		return fail(err)
	}

	cur := t
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			live, err := stillLive(ctx, cur, groups)
			if err != nil {
				return fail(err)
			}
			if !live {
				res.Table, res.Yielded = cur, true
				return fail(nil)
			}
		}
		txn := cur.NewTransaction()
		if err := txn.AssertRefSnapshotID(""); err != nil {
			return fail(err)
		}
		rw := txn.NewRewrite(iceberg.Properties{lake.MaintenanceProperty: "compaction"})
		for _, gr := range groups {
			rw.ApplyResult(gr)
		}
		if err := rw.Commit(ctx); err != nil {
			return fail(err)
		}
		nt, err := txn.Commit(ctx)
		if err == nil {
			res.Table = nt
			for _, gr := range groups {
				res.FilesRewritten += len(gr.OldDataFiles)
				res.FilesWritten += len(gr.NewDataFiles)
				res.BytesRewritten += gr.BytesBefore
				res.BytesWritten += gr.BytesAfter
			}
			return res, nil
		}
		if !isConflict(err) {
			// The outcome is unknown (the catalog may have taken it): the new files stay, for orphan removal
			// to judge once the table says whether they are live.
			return res, fmt.Errorf("committing the rewrite: %w", err)
		}
		if attempt+1 >= maxRebases {
			res.Yielded = true
			return fail(nil)
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := cur.Refresh(ctx); err != nil {
			return fail(fmt.Errorf("reloading after a conflict: %w", err))
		}
		res.Table = cur
	}
}

// checkRows makes sure every group wrote exactly the rows it read: no delete files apply to Big Father's
// tables, so the record counts in the manifests must match.
func checkRows(groups []table.CompactionGroupResult) error {
	for _, gr := range groups {
		var before, after int64
		for _, f := range gr.OldDataFiles {
			before += f.Count()
		}
		for _, f := range gr.NewDataFiles {
			after += f.Count()
		}
		if before != after {
			return fmt.Errorf("rewriting partition %s: %d rows read but %d written", gr.PartitionKey, before, after)
		}
	}
	return nil
}

// stillLive reports whether every file the groups replace is still a live data file of t.
func stillLive(ctx context.Context, t *table.Table, groups []table.CompactionGroupResult) (bool, error) {
	if t.CurrentSnapshot() == nil {
		return false, nil
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return false, fmt.Errorf("planning files: %w", err)
	}
	live := make(map[string]bool, len(tasks))
	for _, task := range tasks {
		if len(task.DeleteFiles) > 0 || len(task.EqualityDeleteFiles) > 0 || len(task.DeletionVectorFiles) > 0 {
			live[task.File.FilePath()] = false // rows deleted since: the rewrite would bring them back
			continue
		}
		live[task.File.FilePath()] = true
	}
	for _, gr := range groups {
		for _, f := range gr.OldDataFiles {
			if !live[f.FilePath()] {
				return false, nil
			}
		}
	}
	return true, nil
}

// removeNew deletes the files the groups wrote, which no snapshot lists. Best effort: what stays is an orphan.
func removeNew(ctx context.Context, t *table.Table, groups []table.CompactionGroupResult) {
	fsys, err := t.FS(ctx)
	if err != nil {
		return
	}
	for _, gr := range groups {
		for _, f := range gr.NewDataFiles {
			if err := fsys.Remove(f.FilePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				continue
			}
		}
	}
}
