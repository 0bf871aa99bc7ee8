package lake_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
)

// dataFiles lists the Parquet files under the table's data directory, sorted.
func (l *testLake) dataFiles() []string {
	l.t.Helper()
	var out []string
	root := filepath.Join(l.dir, "warehouse")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(path, "/data/") && strings.HasSuffix(path, ".parquet") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// fullDiskEnv, when set in the environment, makes TestFullDiskChild the child process of TestWriteFilesFullDisk:
// "DIR LIMIT DAYS".
const fullDiskEnv = "BIGFATHER_LAKE_FULL_DISK"

// TestFullDiskChild runs only as a child process of TestWriteFilesFullDisk. It limits the size of every file
// this process writes to LIMIT bytes (RLIMIT_FSIZE; the Go runtime ignores SIGXFSZ, so a write past it fails
// with EFBIG just as one on a full disk fails with ENOSPC), then writes 5000 rows spread over DAYS days to the
// table under DIR three times, as a stage retrying a batch does, and prints each attempt's error.
func TestFullDiskChild(t *testing.T) {
	args := strings.Fields(os.Getenv(fullDiskEnv))
	if len(args) != 3 {
		t.Skip("runs only as a child of TestWriteFilesFullDisk")
	}
	limit, _ := strconv.ParseUint(args[1], 10, 64)
	days, _ := strconv.Atoi(args[2])
	l := &testLake{t: t, dir: args[0], lk: openLake(t, args[0])}
	tbl := l.load()
	rec := record(t, tbl, ids(0, 5000), func(id int64) time.Time { return onDay0(id).AddDate(0, 0, int(id)%days) })
	defer rec.Release()
	lim := syscall.Rlimit{Cur: limit, Max: limit}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := lake.WriteFiles(context.Background(), tbl, rec)
		fmt.Printf("attempt: %v\n", err)
	}
}

// TestWriteFilesFullDisk (issue 6 item 14): a write that fails because the disk is full leaves no file behind,
// whether it failed at the first byte (the 0-byte file per retry) or in the middle of a file, and rows
// spanning several partitions leave none of their files either. The writes run in a child process whose files
// may not grow beyond a limit, on the real filesystem.
func TestWriteFilesFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit uint64
		days  int
	}{
		{"nothing written", 0, 1},
		{"partly written", 1500, 1},
		{"several partitions", 1500, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLake(t)
			tbl := l.ensure()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFullDiskChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", fullDiskEnv, l.dir, tc.limit, tc.days))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var attempts []string
			for _, line := range strings.Split(string(out), "\n") {
				if msg, ok := strings.CutPrefix(line, "attempt: "); ok {
					attempts = append(attempts, msg)
				}
			}
			if len(attempts) != 3 {
				t.Fatalf("child made %d attempts, want 3:\n%s", len(attempts), out)
			}
			for i, msg := range attempts {
				if !strings.HasPrefix(msg, "writing data files for staging.events: ") || !strings.Contains(msg, "file too large") {
					t.Errorf("attempt %d: error %q, want one naming the table and the full file system", i, msg)
				}
			}
			if got := l.dataFiles(); len(got) != 0 {
				t.Fatalf("%d data files left after 3 failed writes, want 0: %v", len(got), got)
			}
			// Once there is room again the same rows are written and committed as usual.
			rec := record(t, tbl, ids(0, 5000), func(id int64) time.Time { return onDay0(id).AddDate(0, 0, int(id)%tc.days) })
			defer rec.Release()
			files, err := lake.WriteFiles(context.Background(), tbl, rec)
			if err != nil {
				t.Fatal(err)
			}
			commit(t, tbl, lake.Batch{Pipeline: "p", Files: files, From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 5000}})
			if got, want := l.dataFiles(), l.snapshot().DataFiles; !slices.Equal(got, want) || len(got) != tc.days {
				t.Errorf("data files %v, want the %d of the snapshot %v", got, tc.days, want)
			}
		})
	}
}

// TestCommitRemovesFilesOfFailedAttempts (issue 6 item 14): Commit removes the data files of attempts that
// definitely failed (a conflict that made Prepare write new files, a fence, a failing Prepare), and keeps
// those of a commit whose outcome is unknown.
func TestCommitRemovesFilesOfFailedAttempts(t *testing.T) {
	ctx := context.Background()
	// interfere commits another pipeline's batch on partition 9, so that the attempt under way conflicts.
	interfere := func(t *testing.T, l *testLake, id int64) {
		other := l.load()
		commit(t, other, lake.Batch{Pipeline: "other", Files: write(t, other, []int64{id}, onDay0),
			From: lake.Offsets{tp(9): lake.StoredOffsets(other, "other").Get(tp(9))}, Next: lake.Offsets{tp(9): id}})
	}

	t.Run("conflict, then new files", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		attempts := 0
		var first []iceberg.DataFile
		res, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3},
			Prepare: func(ctx context.Context, cur *table.Table) ([]iceberg.DataFile, error) {
				attempts++
				files := write(t, cur, ids(int64(attempts*10), int64(attempts*10+3)), onDay0)
				if attempts == 1 {
					first = files
					interfere(t, l, 100)
				}
				return files, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if attempts != 2 || res.Conflicts != 1 {
			t.Fatalf("%d attempts, %d conflicts; want 2 and 1", attempts, res.Conflicts)
		}
		for _, p := range paths(first) {
			if slices.Contains(l.dataFiles(), p) {
				t.Errorf("the first attempt's file %s is still there", p)
			}
		}
		if got, want := l.dataFiles(), l.snapshot().DataFiles; !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("data files %v, want exactly the snapshot's two %v", got, want)
		}
		l.checkContents(append(ids(20, 23), 100))
	})

	t.Run("conflict, then the same files", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		var files []iceberg.DataFile
		_, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3},
			Prepare: func(ctx context.Context, cur *table.Table) ([]iceberg.DataFile, error) {
				if files == nil {
					files = write(t, cur, ids(1, 4), onDay0)
					interfere(t, l, 100)
				}
				return files, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := l.dataFiles(), l.snapshot().DataFiles; !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("data files %v, want exactly the snapshot's two %v", got, want)
		}
		l.checkContents(append(ids(1, 4), 100))
	})

	t.Run("fenced after a conflict", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		_, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3},
			Prepare: func(ctx context.Context, cur *table.Table) ([]iceberg.DataFile, error) {
				files := write(t, cur, ids(1, 4), onDay0)
				// Another worker of the same pipeline commits partition 0 first.
				other := l.load()
				commit(t, other, lake.Batch{Pipeline: "p", Files: write(t, other, []int64{50}, onDay0),
					From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 1}})
				return files, nil
			}})
		var fe *lake.FencedError
		if !errors.As(err, &fe) {
			t.Fatalf("Commit error = %v, want a *lake.FencedError", err)
		}
		if got, want := l.dataFiles(), l.snapshot().DataFiles; !slices.Equal(got, want) || len(got) != 1 {
			t.Errorf("data files %v, want only the other worker's %v", got, want)
		}
	})

	t.Run("prepare fails", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		attempts := 0
		_, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3},
			Prepare: func(ctx context.Context, cur *table.Table) ([]iceberg.DataFile, error) {
				if attempts++; attempts == 2 {
					return nil, errors.New("reading ids: boom")
				}
				files := write(t, cur, ids(1, 4), onDay0)
				interfere(t, l, 100)
				return files, nil
			}})
		if err == nil || err.Error() != "committing to staging.events: reading ids: boom" {
			t.Fatalf("Commit error = %v", err)
		}
		if got, want := l.dataFiles(), l.snapshot().DataFiles; !slices.Equal(got, want) || len(got) != 1 {
			t.Errorf("data files %v, want only the interfering commit's %v", got, want)
		}
	})

	t.Run("outcome unknown", func(t *testing.T) {
		l := newTestLake(t)
		tbl := l.ensure()
		files := write(t, tbl, ids(1, 4), onDay0)
		// The catalog connection breaks: the commit call fails in a way that might have landed.
		if err := l.lk.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := lake.Commit(ctx, tbl, lake.Batch{Pipeline: "p", Files: files, From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 3}})
		if err == nil || !strings.Contains(err.Error(), "database is closed") {
			t.Fatalf("Commit error = %v, want the closed database", err)
		}
		if got, want := l.dataFiles(), paths(files); !slices.Equal(got, want) {
			t.Errorf("data files %v, want the batch's %v kept: the commit may have landed", got, want)
		}
	})
}
