package maintain

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/table"
)

// Expire removes from t's history the snapshots older than retention, keeping at least the minSnapshots
// newest of the main branch (the current one always). It deletes no file: the data files, manifests and
// manifest lists only expired snapshots listed become orphans, which RemoveOrphans deletes once they are
// older than its safety age (a reader planned on an expired snapshot may still be reading them). The commit
// asserts the snapshot it was planned on and is replanned when another writer commits first. It returns how
// many snapshots went, and the table afterwards.
func Expire(ctx context.Context, t *table.Table, retention time.Duration, minSnapshots int) (int, *table.Table, error) {
	cur := t
	for attempt := 0; ; attempt++ {
		before := cur.Metadata().Snapshots()
		txn := cur.NewTransaction()
		if err := txn.AssertRefSnapshotID(""); err != nil {
			return 0, cur, err
		}
		if err := txn.ExpireSnapshots(table.WithOlderThan(retention), table.WithRetainLast(minSnapshots), table.WithPostCommit(false)); err != nil {
			return 0, cur, err
		}
		nt, err := txn.Commit(ctx)
		if err == nil {
			kept := make(map[int64]bool, len(nt.Metadata().Snapshots()))
			for _, s := range nt.Metadata().Snapshots() {
				kept[s.SnapshotID] = true
			}
			n := 0
			for _, s := range before {
				if !kept[s.SnapshotID] {
					n++
				}
			}
			return n, nt, nil
		}
		if !isConflict(err) || attempt+1 >= maxRebases {
			return 0, cur, fmt.Errorf("committing: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return 0, cur, err
		}
		if err := cur.Refresh(ctx); err != nil {
			return 0, cur, fmt.Errorf("reloading after a conflict: %w", err)
		}
	}
}
