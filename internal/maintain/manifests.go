package maintain

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// minSmallManifests is how many small data manifests the current snapshot must list before MergeManifests
// rewrites them: every staging commit adds one, and a query plans by reading them all.
const minSmallManifests = 8

// ManifestResult is what MergeManifests did.
type ManifestResult struct {
	Replaced, Written int
	// Yielded reports that other commits kept landing first; nothing changed and the next run tries again.
	Yielded bool
	Table   *table.Table
}

// MergeManifests rewrites the small data manifests of t's current snapshot (under 3/4 of Iceberg's target
// manifest size, commit.manifest.target-size-bytes, 8 MiB by default) into manifests near that size, once
// there are at least minSmallManifests of them. It is a metadata-only REPLACE commit: no data file, row or
// table property (so no stored offset) changes, and its manifests list their files as existing, so dedup's
// incremental reader does not take them for new rows. Like Expire, it asserts the snapshot it was planned on
// and replans when another commit lands first.
func MergeManifests(ctx context.Context, t *table.Table) (ManifestResult, error) {
	res := ManifestResult{Table: t}
	target := int64(t.Metadata().Properties().GetInt(table.ManifestTargetSizeBytesKey, table.ManifestTargetSizeBytesDefault))
	isSmall := func(mf iceberg.ManifestFile) bool {
		return mf.ManifestContent() == iceberg.ManifestContentData && mf.Length() < small(target)
	}
	for attempt := 0; ; attempt++ {
		cur := res.Table
		snap := cur.CurrentSnapshot()
		if snap == nil {
			return res, nil
		}
		fs, err := cur.FS(ctx)
		if err != nil {
			return res, err
		}
		mfs, err := snap.Manifests(fs)
		if err != nil {
			return res, fmt.Errorf("reading the manifest list: %w", err)
		}
		n := 0
		for _, mf := range mfs {
			if isSmall(mf) {
				n++
			}
		}
		if n < minSmallManifests {
			return res, nil
		}
		txn := cur.NewTransaction()
		if err := txn.AssertRefSnapshotID(""); err != nil {
			return res, err
		}
		rr, err := txn.RewriteManifests(ctx, table.WithManifestTargetSize(target), table.WithRewriteManifestPredicate(isSmall))
		if err != nil {
			return res, fmt.Errorf("rewriting manifests: %w", err)
		}
		if rr.IsNoOp() {
			return res, nil
		}
		nt, err := txn.Commit(ctx)
		if err == nil {
			res.Table, res.Replaced, res.Written = nt, len(rr.RewrittenManifests), len(rr.AddedManifests)
			return res, nil
		}
		// The manifests written are orphans now (or, if the catalog took the commit after all, live): orphan
		// removal judges them once the table says which.
		if !isConflict(err) {
			return res, fmt.Errorf("committing: %w", err)
		}
		if attempt+1 >= maxRebases {
			res.Yielded = true
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := cur.Refresh(ctx); err != nil {
			return res, fmt.Errorf("reloading after a conflict: %w", err)
		}
	}
}
