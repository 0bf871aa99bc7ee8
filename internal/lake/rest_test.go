package lake_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/testrest"
)

// restS3 is the S3 side of srv with its test credentials.
func restS3(srv *testrest.Server) lake.S3 {
	return lake.S3{Endpoint: srv.S3Endpoint, Region: testrest.Region, PathStyle: true,
		AccessKeyID: testrest.AccessKey, SecretAccessKey: testrest.SecretKey}
}

// openREST opens srv's REST catalog and S3 warehouse with rest's authentication, reading through a cache
// under cacheDir, as one process would; closed when the test ends.
func openREST(t *testing.T, srv *testrest.Server, rest lake.REST, cacheDir string) (*lake.Lake, error) {
	t.Helper()
	lk, err := lake.Open(context.Background(), srv.CatalogURI, srv.Warehouse,
		lake.WithS3(restS3(srv)), lake.WithREST(rest), lake.WithCache(cacheDir, 1<<30))
	if err == nil {
		t.Cleanup(func() {
			if err := lk.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	return lk, err
}

// TestRESTCatalog runs the exactly-once protocol on an Iceberg REST catalog (SeaweedFS weed mini) with an S3
// warehouse: a table created through the catalog, commits carrying offsets, two processes racing on one
// snapshot (fenced on the same partition, replanned once on different ones, because the server answers a
// failed assert-ref-snapshot-id with 409, which iceberg-go reports as table.ErrCommitFailed), ownership
// claimed and checked, and exact reads through the S3 file cache. One process authenticates with OAuth2
// client credentials, the other with a bearer token.
func TestRESTCatalog(t *testing.T) {
	srv := testrest.Start(t)
	ctx := context.Background()
	cacheDir := filepath.Join(t.TempDir(), "cache")
	lkA, err := openREST(t, srv, lake.REST{Credential: srv.Credential()}, cacheDir)
	if err != nil {
		t.Fatalf("Open with OAuth2 client credentials: %v", err)
	}
	lkB, err := openREST(t, srv, lake.REST{Token: srv.Token()}, filepath.Join(t.TempDir(), "cacheB"))
	if err != nil {
		t.Fatalf("Open with a bearer token: %v", err)
	}
	l := &testLake{t: t, dir: t.TempDir(), lk: lkA}

	tbl, err := lkA.EnsureTable(ctx, ownedBy("p", false, false, ""))
	if err != nil {
		t.Fatalf("EnsureTable: %v", err)
	}
	if !strings.HasPrefix(tbl.Location(), srv.Warehouse+"/") {
		t.Fatalf("table location = %s, want one under %s", tbl.Location(), srv.Warehouse)
	}
	if owner, _ := props(tbl); owner != "p" {
		t.Errorf("owner = %q, want p", owner)
	}
	res := commit(t, tbl, lake.Batch{Pipeline: "p", Files: write(t, tbl, ids(0, 100), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 100}})
	if res.Conflicts != 0 {
		t.Errorf("first commit: %d conflicts", res.Conflicts)
	}
	l.checkOffsets("p", lake.Offsets{tp(0): 100})
	want := ids(0, 100)

	// Two processes plan on the same snapshot: A, and B with two batches (C is B's second table handle).
	tblA := l.load()
	tblB, err := lkB.LoadTable(ctx, tableName)
	if err != nil {
		t.Fatal(err)
	}
	tblC, err := lkB.LoadTable(ctx, tableName)
	if err != nil {
		t.Fatal(err)
	}
	if tblA.CurrentSnapshot().SnapshotID != tblB.CurrentSnapshot().SnapshotID || tblC.CurrentSnapshot().SnapshotID != tblB.CurrentSnapshot().SnapshotID {
		t.Fatal("the processes loaded different snapshots")
	}
	filesC := write(t, tblC, ids(200, 210), onDay0)
	resA := commit(t, tblA, lake.Batch{Pipeline: "p", Files: write(t, tblA, ids(100, 150), onDay0),
		From: lake.Offsets{tp(0): 100}, Next: lake.Offsets{tp(0): 150}})
	want = append(want, ids(100, 150)...)
	if resA.Conflicts != 0 {
		t.Errorf("A: %d conflicts, want 0", resA.Conflicts)
	}
	// B on the same partition: the catalog refuses the stale snapshot, B reloads and is fenced.
	resC, errC := lake.Commit(ctx, tblC, lake.Batch{Pipeline: "p", Files: filesC,
		From: lake.Offsets{tp(0): 100}, Next: lake.Offsets{tp(0): 110}})
	var fe *lake.FencedError
	if !errors.As(errC, &fe) || fe.Stored != 150 || fe.Expected != 100 {
		t.Fatalf("B on partition 0: %v, want a *lake.FencedError (stored 150, planned from 100)", errC)
	}
	if resC.Conflicts != 1 {
		t.Errorf("B on partition 0: %d conflicts before the fence, want 1 (the catalog's 409)", resC.Conflicts)
	}
	// B on another partition, still planned on the old snapshot: one conflict, replanned, lands.
	resB, err := lake.Commit(ctx, tblB, lake.Batch{Pipeline: "p", Files: write(t, tblB, ids(300, 320), onDay0),
		From: lake.Offsets{tp(1): lake.NoOffset}, Next: lake.Offsets{tp(1): 20}})
	if err != nil {
		t.Fatalf("B on partition 1: %v", err)
	}
	if resB.Conflicts != 1 {
		t.Errorf("B on partition 1: %d conflicts, want 1", resB.Conflicts)
	}
	want = append(want, ids(300, 320)...)
	l.checkOffsets("p", lake.Offsets{tp(0): 150, tp(1): 20})
	l.checkContents(want)

	// Ownership: another pipeline is refused at start and at commit; with its own shared terms as well.
	var oe *lake.OwnerError
	if _, err := lkB.EnsureTable(ctx, ownedBy("q", false, false, "")); !errors.As(err, &oe) || oe.Owner != "p" {
		t.Errorf("EnsureTable by pipeline q: %v, want an *lake.OwnerError naming owner p", err)
	}
	if _, err := lake.Commit(ctx, l.load(), lake.Batch{Pipeline: "q", Files: write(t, l.load(), ids(900, 901), onDay0),
		From: lake.Offsets{tp(5): lake.NoOffset}, Next: lake.Offsets{tp(5): 1}}); !errors.As(err, &oe) {
		t.Errorf("commit by pipeline q: %v, want an *lake.OwnerError", err)
	}
	// The owner shares it: q (sharing too) is admitted and commits; the owner's terms are in the table.
	if _, err := lkA.EnsureTable(ctx, ownedBy("p", true, false, "")); err != nil {
		t.Fatalf("EnsureTable by p, shared: %v", err)
	}
	if _, shared := props(l.load()); shared != "true" {
		t.Errorf("shared = %q after the owner shared the table, want true", shared)
	}
	tblQ, err := lkB.EnsureTable(ctx, ownedBy("q", true, false, ""))
	if err != nil {
		t.Fatalf("EnsureTable by q, shared: %v", err)
	}
	commit(t, tblQ, lake.Batch{Pipeline: "q", Shared: true, Files: write(t, tblQ, ids(400, 405), onDay0),
		From: lake.Offsets{tp(0): lake.NoOffset}, Next: lake.Offsets{tp(0): 5}})
	want = append(want, ids(400, 405)...)
	l.checkOffsets("q", lake.Offsets{tp(0): 5})
	l.checkContents(want)

	tables, err := lkB.Tables(ctx)
	if err != nil || !slices.Contains(tables, tableName) {
		t.Errorf("Tables = %v, %v; want %s listed", tables, err, tableName)
	}
}

// TestRESTCatalogOpenErrors: a REST catalog that cannot be used fails Open with an error naming the key to
// fix, never showing the token or the client secret.
func TestRESTCatalogOpenErrors(t *testing.T) {
	srv := testrest.Start(t)
	const secret = "not-the-secret-0123456789"
	cache := filepath.Join(t.TempDir(), "cache")
	for _, tc := range []struct {
		name string
		uri  string
		rest lake.REST
		want string
	}{
		{"wrong client secret", srv.CatalogURI, lake.REST{Credential: testrest.AccessKey + ":" + secret}, "catalog.credential"},
		{"unknown client", srv.CatalogURI, lake.REST{Credential: "nobody:" + secret}, "catalog.credential"},
		{"wrong token", srv.CatalogURI, lake.REST{Token: secret}, "catalog.token"},
		{"no credentials", srv.CatalogURI, lake.REST{}, "set catalog.token or catalog.credential"},
		{"nothing listening", "http://127.0.0.1:1", lake.REST{Token: secret}, "cannot reach the REST catalog at http://127.0.0.1:1 (check catalog.uri)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lk, err := lake.Open(context.Background(), tc.uri, srv.Warehouse, lake.WithS3(restS3(srv)), lake.WithREST(tc.rest), lake.WithCache(cache, 1<<20))
			if err == nil {
				lk.Close()
				t.Fatalf("Open succeeded, want an error naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v\nwant it to name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the secret appears in %v", err)
			}
		})
	}
}
