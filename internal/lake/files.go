package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// recordingIO is a table's file IO that remembers every file it is asked to create. A data file whose write
// fails (a full disk fails the Parquet writer when it flushes, after the file was created) is never reported
// by the writer, so this is the only way to find it again and remove it.
type recordingIO struct {
	icebergio.WriteFileIO
	mu    sync.Mutex
	paths []string
}

func (r *recordingIO) note(name string) {
	r.mu.Lock()
	r.paths = append(r.paths, name)
	r.mu.Unlock()
}

func (r *recordingIO) Create(name string) (icebergio.FileWriter, error) {
	r.note(name) // before: a create that fails halfway may still leave the file
	return r.WriteFileIO.Create(name)
}

func (r *recordingIO) WriteFile(name string, p []byte) error {
	r.note(name)
	return r.WriteFileIO.WriteFile(name, p)
}

func (r *recordingIO) created() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// removeAll removes the files at paths (URIs or local paths) through fsys; files already gone are fine.
func removeAll(fsys icebergio.IO, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeDataFiles removes data files of t that no snapshot will ever list: the files of a commit that
// definitely failed, or of an attempt replaced by a later one. It is best effort: what it cannot remove stays
// an orphan for maintenance (DESIGN.md, exactly-once step 5).
func removeDataFiles(ctx context.Context, t *table.Table, files []iceberg.DataFile) {
	if len(files) == 0 {
		return
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.FilePath()
	}
	_ = removeAll(fsys, paths)
}

// unused returns the files of prev that next does not contain.
func unused(prev, next []iceberg.DataFile) []iceberg.DataFile {
	keep := make(map[string]bool, len(next))
	for _, f := range next {
		keep[f.FilePath()] = true
	}
	var out []iceberg.DataFile
	for _, f := range prev {
		if !keep[f.FilePath()] {
			out = append(out, f)
		}
	}
	return out
}

// writeIO returns t's file IO wrapped to record what it creates.
func writeIO(ctx context.Context, t *table.Table) (*recordingIO, error) {
	fsys, err := t.FS(ctx)
	if err != nil {
		return nil, err
	}
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return nil, fmt.Errorf("the table's storage (%T) cannot write files", fsys)
	}
	return &recordingIO{WriteFileIO: wfs}, nil
}
