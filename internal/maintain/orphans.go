package maintain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// RemoveOrphans deletes the files under t's location (data/ and metadata/) that t's metadata does not
// reference, neither the current metadata file, the metadata log, the statistics, nor any live snapshot's
// manifest list, manifests and data files, and that were last written more than age ago. Younger files are
// left alone: they may belong to a commit in progress (staging writes its data files just before it commits).
// It returns how many files it deleted and their bytes. The table's storage must list files: local disk and
// S3 do. Another process removing the same orphans at the same time is fine: a file that vanishes while
// listed or deleted is skipped.
func RemoveOrphans(ctx context.Context, t *table.Table, age time.Duration) (int, int64, error) {
	fsys, err := t.FS(ctx)
	if err != nil {
		return 0, 0, err
	}
	lio, ok := fsys.(icebergio.ListableIO)
	if !ok {
		return 0, 0, fmt.Errorf("the table's storage (%T) cannot list files", fsys)
	}
	var mu sync.Mutex
	removed := map[string]bool{}
	remove := func(path string) error {
		err := fsys.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // another process removed it
		}
		if err == nil {
			mu.Lock()
			removed[path] = true
			mu.Unlock()
		}
		return err
	}
	wt := table.New(t.Identifier(), t.Metadata(), t.MetadataLocation(),
		func(context.Context) (icebergio.IO, error) { return tolerantIO{lio}, nil }, nil)
	res, err := wt.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(age), table.WithCleanupMaxConcurrency(4),
		table.WithDeleteFunc(remove))
	if err != nil {
		return 0, 0, err
	}
	n, bytes := 0, int64(0)
	for _, f := range res.OrphanFiles {
		if removed[f.Path] {
			n++
			bytes += f.SizeBytes
		}
	}
	return n, bytes, nil
}

// tolerantIO lists a table's files skipping those that vanish during the walk (another process's orphan
// removal), which would otherwise fail the whole listing.
type tolerantIO struct{ icebergio.ListableIO }

func (t tolerantIO) WalkDir(root string, fn fs.WalkDirFunc) error {
	return t.ListableIO.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fn(path, d, err)
		}
		if d.IsDir() {
			return fn(path, d, nil)
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fn(path, d, err)
		}
		return fn(path, fs.FileInfoToDirEntry(info), nil)
	})
}
