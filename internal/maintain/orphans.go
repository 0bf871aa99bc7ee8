package maintain

import (
	"context"
	"fmt"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// RemoveOrphans deletes the files under t's location (data/ and metadata/) that t's metadata does not
// reference, neither the current metadata file, the metadata log, the statistics, nor any live snapshot's
// manifest list, manifests and data files, and that were last written more than age ago. Younger files are
// left alone: they may belong to a commit in progress (staging writes its data files just before it commits).
// It returns how many files it deleted and their bytes. The table's storage must list files: local disk and
// S3 do.
func RemoveOrphans(ctx context.Context, t *table.Table, age time.Duration) (int, int64, error) {
	fsys, err := t.FS(ctx)
	if err != nil {
		return 0, 0, err
	}
	if _, ok := fsys.(icebergio.ListableIO); !ok {
		return 0, 0, fmt.Errorf("the table's storage (%T) cannot list files", fsys)
	}
	res, err := t.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(age), table.WithCleanupMaxConcurrency(4))
	if err != nil {
		return 0, 0, err
	}
	size := make(map[string]int64, len(res.OrphanFiles))
	for _, f := range res.OrphanFiles {
		size[f.Path] = f.SizeBytes
	}
	var bytes int64
	for _, p := range res.DeletedFiles {
		bytes += size[p]
	}
	return len(res.DeletedFiles), bytes, nil
}
