package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	err   error // the first write or close error of a file it created
}

func (r *recordingIO) note(name string) {
	r.mu.Lock()
	r.paths = append(r.paths, name)
	r.mu.Unlock()
}

func (r *recordingIO) Create(name string) (icebergio.FileWriter, error) {
	r.note(name) // before: a create that fails halfway may still leave the file
	w, err := r.WriteFileIO.Create(name)
	if err != nil {
		return nil, err
	}
	return &watchedWriter{FileWriter: w, io: r, name: name}, nil
}

func (r *recordingIO) failed(name string, err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
	r.mu.Unlock()
}

// failure returns the first error a created file's write or close returned. The writer library does not
// always report it (a data file whose close failed on a full disk was seen reported as written), so WriteFiles
// checks it too.
func (r *recordingIO) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// watchedWriter reports its write and close errors to its recordingIO.
type watchedWriter struct {
	icebergio.FileWriter
	io   *recordingIO
	name string
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	n, err := w.FileWriter.Write(p)
	if err != nil {
		w.io.failed(w.name, err)
	}
	return n, err
}

func (w *watchedWriter) ReadFrom(src io.Reader) (int64, error) {
	n, err := w.FileWriter.ReadFrom(src)
	if err != nil {
		w.io.failed(w.name, err)
	}
	return n, err
}

func (w *watchedWriter) Close() error {
	err := w.FileWriter.Close()
	if err != nil {
		w.io.failed(w.name, err)
	}
	return err
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
