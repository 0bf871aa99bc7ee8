package lake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/tests3"
)

// s3Options are the settings of srv with its test credentials.
func s3Options(srv *tests3.Server) lake.S3 {
	return lake.S3{Endpoint: srv.Endpoint, Region: tests3.Region, PathStyle: true, AccessKeyID: tests3.AccessKey, SecretAccessKey: tests3.SecretKey}
}

// newS3Lake is a lake on a SQLite catalog in a temporary directory and a warehouse in a new bucket of srv,
// reading through a cache under cacheDir.
func newS3Lake(t *testing.T, srv *tests3.Server, bucket, cacheDir string) *testLake {
	t.Helper()
	dir := t.TempDir()
	lk, err := lake.Open(context.Background(), "sqlite://"+dir+"/catalog.db", "s3://"+bucket+"/wh/",
		lake.WithS3(s3Options(srv)), lake.WithCache(cacheDir, 1<<30))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { lk.Close() })
	return &testLake{t: t, dir: dir, lk: lk}
}

// TestS3Warehouse stages into an s3:// warehouse: the table lives under the warehouse prefix, data files,
// manifests and metadata are S3 objects, commits carry offsets, the files of a fenced batch are removed from
// the bucket, dedup's readers read the files through the table's IO, and the query engine counts exactly
// through the local file cache.
func TestS3Warehouse(t *testing.T) {
	srv := tests3.Start(t)
	bucket := srv.Bucket()
	cacheDir := filepath.Join(t.TempDir(), "cache")
	l := newS3Lake(t, srv, bucket, cacheDir)
	ctx := context.Background()

	tbl := l.ensure()
	if want := "s3://" + bucket + "/wh/staging.db/events"; tbl.Location() != want {
		t.Fatalf("table location = %s, want %s", tbl.Location(), want)
	}
	res := commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(0, 100), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 100}})
	tbl = commit(t, res.Table, lake.Batch{Pipeline: "p", Files: write(t, res.Table, ids(100, 250), onDay0),
		From: lake.Offsets{tp(0): 100}, Next: lake.Offsets{tp(0): 250}}).Table
	l.checkOffsets("p", lake.Offsets{tp(0): 250})

	// A fenced batch's files are removed from the bucket.
	orphans := write(t, tbl, ids(900, 910), onDay0)
	if _, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", Files: orphans, From: lake.Offsets{tp(0): 100}, Next: lake.Offsets{tp(0): 260}}); !errors.As(err, new(*lake.FencedError)) {
		t.Fatalf("commit from a stale offset: %v, want a FencedError", err)
	}
	keys := srv.Objects(bucket, "wh/staging.db/events/")
	var data, manifests, metadata int
	for _, k := range keys {
		switch {
		case strings.Contains(k, "/data/") && strings.HasSuffix(k, ".parquet"):
			data++
		case strings.HasSuffix(k, ".avro"):
			manifests++
		case strings.HasSuffix(k, ".metadata.json"):
			metadata++
		}
		for _, o := range orphans {
			if strings.HasSuffix(o.FilePath(), "/"+k) {
				t.Errorf("the fenced batch's file %s is still in the bucket", k)
			}
		}
	}
	if data != 2 || manifests == 0 || metadata < 3 {
		t.Errorf("bucket holds %d data files, %d manifests, %d metadata files under the table: %v", data, manifests, metadata, keys)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "wh")); !os.IsNotExist(err) {
		t.Errorf("a local warehouse directory exists: %v", err)
	}

	// Dedup's index load reads the remote files through the table's IO, column-projected.
	files, err := lake.AddedSince(ctx, tbl, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	if err := lake.ReadTableColumns(ctx, tbl, files, []string{"id", "event_time"}, func(rec arrow.RecordBatch) error {
		rows += rec.NumRows()
		return nil
	}); err != nil {
		t.Fatalf("ReadTableColumns: %v", err)
	}
	if rows != 250 {
		t.Errorf("read %d rows of the added files, want 250", rows)
	}
	recent, err := lake.RecentFiles(ctx, tbl, "event_time", time.Hour)
	if err != nil || len(recent) != 2 || !strings.HasPrefix(recent[0], "s3://") {
		t.Errorf("RecentFiles = %v, %v", recent, err)
	}
	if err := lake.ReadColumns(ctx, recent, []string{"id"}, func(arrow.RecordBatch) error { return nil }); err == nil {
		t.Error("ReadColumns read remote files without the table's IO")
	}

	// Queries read local copies from the cache: exact counts, and a second read downloads nothing.
	snap := l.snapshot()
	for _, f := range snap.DataFiles {
		if filepath.Dir(f) != cacheDir {
			t.Errorf("snapshot file %s is not in the cache %s", f, cacheDir)
		}
	}
	l.checkContents(ids(0, 250))
	before := cacheState(t, cacheDir)
	l.checkContents(ids(0, 250))
	if after := cacheState(t, cacheDir); len(after) != 2 || !sameInodes(before, after) {
		t.Errorf("cache before %v, after the second read %v: want the same two files", before, after)
	}
}

// cacheState maps the cached files to their inodes.
func cacheState(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = inode(info)
	}
	return out
}

func sameInodes(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestS3OpenErrors: a bad endpoint, a missing bucket and wrong credentials fail Open with an error naming the
// config key to fix, never the secret.
func TestS3OpenErrors(t *testing.T) {
	srv := tests3.Start(t)
	bucket := srv.Bucket()
	dir := t.TempDir()
	stopped := tests3.Start(t)
	stopped.Stop()
	const wrongSecret = "wrong-secret-do-not-print-0123"
	for _, tc := range []struct {
		name, warehouse string
		s3              lake.S3
		want            string
	}{
		{"bad endpoint", "s3://" + bucket + "/wh", lake.S3{Endpoint: stopped.Endpoint, PathStyle: true, AccessKeyID: tests3.AccessKey, SecretAccessKey: tests3.SecretKey}, "cannot reach the S3 endpoint " + stopped.Endpoint + " (check s3.endpoint)"},
		{"bad bucket", "s3://no-such-bucket/wh", s3Options(srv), `bucket "no-such-bucket" does not exist`},
		{"wrong secret", "s3://" + bucket + "/wh", lake.S3{Endpoint: srv.Endpoint, PathStyle: true, AccessKeyID: tests3.AccessKey, SecretAccessKey: wrongSecret}, "the S3 store refused the credentials (check s3.access_key_id / s3.secret_access_key)"},
		{"wrong key id", "s3://" + bucket + "/wh", lake.S3{Endpoint: srv.Endpoint, PathStyle: true, AccessKeyID: "nobody", SecretAccessKey: wrongSecret}, "(check s3.access_key_id / s3.secret_access_key)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lk, err := lake.Open(context.Background(), "sqlite://"+dir+"/catalog.db", tc.warehouse, lake.WithS3(tc.s3))
			if err == nil {
				lk.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), wrongSecret) || strings.Contains(err.Error(), tests3.SecretKey) {
				t.Errorf("the secret appears in %q", err)
			}
		})
	}
}

func inode(info os.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
