package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
	"golang.org/x/sync/errgroup"
)

// fileCache is a bounded on-disk cache of remote data files, so the embedded DuckDB (which has no httpfs) reads
// S3 tables from local files. Iceberg data files are immutable (a rewrite writes new files under new names), so
// a cached copy never goes stale and needs no validation beyond its size.
//
//   - A file is stored as DIR/<sha256 of endpoint and URI>.parquet, downloaded once into a temporary file in
//     DIR and renamed into place when complete, so readers (other processes too) never see half a file.
//   - Every use sets the file's modification time; when the directory grows beyond max bytes, the least
//     recently used files go first. Files the current call needs are never evicted, so one snapshot larger
//     than the bound still reads (the bound is exceeded until the next call).
//   - Several processes may share DIR: names are content-independent but unique per object, renames are
//     atomic, and a file another process evicts under a running query fails only that query.
type fileCache struct {
	dir string
	max int64

	mu sync.Mutex // serializes eviction within the process
}

// Defaults of the cache when WithCache is not given.
const (
	defaultCacheSize = 4 << 30
	cacheParallel    = 8 // concurrent downloads
	cacheTmpPrefix   = ".tmp-"
	staleTmpAge      = time.Hour // a temporary file this old belongs to a process that died
)

// defaultCache reads $BIGFATHER_CACHE_DIR and $BIGFATHER_CACHE_SIZE.
func defaultCache() (*fileCache, error) {
	c := &fileCache{dir: os.Getenv("BIGFATHER_CACHE_DIR"), max: defaultCacheSize}
	if c.dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		c.dir = filepath.Join(base, "bigfather", "s3")
	}
	if v := os.Getenv("BIGFATHER_CACHE_SIZE"); v != "" {
		n, err := parseSize(v)
		if err != nil {
			return nil, fmt.Errorf("BIGFATHER_CACHE_SIZE: %w", err)
		}
		c.max = n
	}
	return c, nil
}

// parseSize reads "1073741824", "512MiB", "4GiB", "64KiB".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("expected bytes, or a number with KiB, MiB, GiB or TiB, got %q", s)
	}
	return n * mult, nil
}

// remoteFile is a file to fetch: its URI and the size the manifest records (0 when unknown).
type remoteFile struct {
	uri  string
	size int64
}

// fetch returns the local paths of files (in order), downloading through fsys those not cached yet, then
// evicts least recently used files beyond the bound. space names the store (its endpoint), so two stores with
// the same bucket names never share entries.
func (c *fileCache) fetch(ctx context.Context, fsys icebergio.IO, space string, files []remoteFile) ([]string, error) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	out := make([]string, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cacheParallel)
	for i, f := range files {
		out[i] = c.path(space, f.uri)
		g.Go(func() error { return c.get(gctx, fsys, f, out[i]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	keep := make(map[string]bool, len(out))
	for _, p := range out {
		keep[filepath.Base(p)] = true
	}
	c.evict(keep)
	return out, nil
}

func (c *fileCache) path(space, uri string) string {
	sum := sha256.Sum256([]byte(space + "\n" + uri))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".parquet")
}

// get makes local a complete copy of f: kept when present with the right size (and marked used), else
// downloaded.
func (c *fileCache) get(ctx context.Context, fsys icebergio.IO, f remoteFile, local string) error {
	if st, err := os.Stat(local); err == nil && (f.size <= 0 || st.Size() == f.size) {
		now := time.Now()
		_ = os.Chtimes(local, now, now)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := fsys.Open(f.uri)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", f.uri, err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(c.dir, cacheTmpPrefix)
	if err != nil {
		return fmt.Errorf("caching %s: %w", f.uri, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("downloading %s: %w", f.uri, err)
	}
	if f.size > 0 && n != f.size {
		return fmt.Errorf("downloading %s: got %d bytes, the manifest says %d", f.uri, n, f.size)
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return fmt.Errorf("caching %s: %w", f.uri, err)
	}
	return nil
}

// evict removes the least recently used cached files until the directory holds at most max bytes, never one
// named in keep; temporary files of dead downloads go too.
func (c *fileCache) evict(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		size int64
		used time.Time
	}
	var files []entry
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), cacheTmpPrefix) {
			if time.Since(info.ModTime()) > staleTmpAge {
				_ = os.Remove(filepath.Join(c.dir, e.Name()))
			}
			continue
		}
		total += info.Size()
		if !keep[e.Name()] {
			files = append(files, entry{e.Name(), info.Size(), info.ModTime()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= c.max {
			break
		}
		if err := os.Remove(filepath.Join(c.dir, f.name)); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
}
