package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// ErrCatalogGone matches (errors.Is) every *CatalogGoneError.
var ErrCatalogGone = errors.New("catalog is no longer the file this process opened")

// CatalogGoneError reports that a SQLite catalog's path no longer names the file the process opened: the file
// was deleted (the process would go on writing into the unlinked file, which nobody will ever read) or
// replaced by another one. Nothing can be committed safely until the process restarts and opens the catalog
// that is there now.
type CatalogGoneError struct {
	URI    string // sqlite:// and the absolute path
	Reason string // "the file was deleted", "the file was replaced (...)", ...
}

func (e *CatalogGoneError) Error() string {
	return fmt.Sprintf("catalog %s: %s after this process opened it; commits are stopped until the process restarts", e.URI, e.Reason)
}

// Is makes errors.Is(err, ErrCatalogGone) hold.
func (e *CatalogGoneError) Is(target error) bool { return target == ErrCatalogGone }

// catalogFile is the identity (device and inode) of the SQLite catalog file a Lake opened.
type catalogFile struct {
	uri      string
	path     string
	dev, ino uint64
}

func statFile(path string) (dev, ino uint64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no device and inode on this platform", path)
	}
	return uint64(st.Dev), uint64(st.Ino), nil //nolint:unconvert // not uint64 on every platform
}

// check returns a *CatalogGoneError unless path still names the file that was opened.
func (f *catalogFile) check() error {
	dev, ino, err := statFile(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &CatalogGoneError{URI: f.uri, Reason: "the file was deleted"}
	case err != nil:
		return &CatalogGoneError{URI: f.uri, Reason: fmt.Sprintf("the file cannot be checked (%v)", err)}
	case dev != f.dev || ino != f.ino:
		return &CatalogGoneError{URI: f.uri, Reason: fmt.Sprintf("the file was replaced by another one (inode %d, opened as inode %d)", ino, f.ino)}
	}
	return nil
}

// CheckCatalog returns a *CatalogGoneError when the lake's SQLite catalog file was deleted or replaced since
// Open, and nil otherwise (and always for other catalogs). Every catalog write of the lake runs it before and
// after writing; health checks and the stage's committer call it too.
func (l *Lake) CheckCatalog() error {
	if l == nil || l.file == nil {
		return nil
	}
	return l.file.check()
}

// guardedCatalog is a catalog whose every write first checks, and afterwards checks again, that the catalog
// is still the file the process opened: a write into a deleted SQLite file "succeeds" and is lost, and one
// that straddles a replacement may have gone to either file. Tables it loads or creates commit through it.
type guardedCatalog struct {
	catalog.Catalog
	check func() error
}

func (g *guardedCatalog) around(write func() error) error {
	if err := g.check(); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	return g.check()
}

// wrap rebinds t to the guarded catalog, so that its transactions and refreshes go through it.
func (g *guardedCatalog) wrap(t *table.Table) *table.Table {
	if t == nil {
		return nil
	}
	return table.New(t.Identifier(), t.Metadata(), t.MetadataLocation(), t.FS, g)
}

func (g *guardedCatalog) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	t, err := g.Catalog.LoadTable(ctx, ident)
	if err != nil {
		return nil, err
	}
	return g.wrap(t), nil
}

func (g *guardedCatalog) CreateTable(ctx context.Context, ident table.Identifier, sc *iceberg.Schema, opts ...catalog.CreateTableOpt) (*table.Table, error) {
	var t *table.Table
	err := g.around(func() (err error) {
		t, err = g.Catalog.CreateTable(ctx, ident, sc, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return g.wrap(t), nil
}

func (g *guardedCatalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	var meta table.Metadata
	var loc string
	err := g.around(func() (err error) {
		meta, loc, err = g.Catalog.CommitTable(ctx, ident, reqs, updates)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return meta, loc, nil
}

func (g *guardedCatalog) DropTable(ctx context.Context, ident table.Identifier) error {
	return g.around(func() error { return g.Catalog.DropTable(ctx, ident) })
}

func (g *guardedCatalog) RenameTable(ctx context.Context, from, to table.Identifier) (*table.Table, error) {
	var t *table.Table
	err := g.around(func() (err error) {
		t, err = g.Catalog.RenameTable(ctx, from, to)
		return err
	})
	if err != nil {
		return nil, err
	}
	return g.wrap(t), nil
}

func (g *guardedCatalog) CreateNamespace(ctx context.Context, ns table.Identifier, props iceberg.Properties) error {
	return g.around(func() error { return g.Catalog.CreateNamespace(ctx, ns, props) })
}

func (g *guardedCatalog) DropNamespace(ctx context.Context, ns table.Identifier) error {
	return g.around(func() error { return g.Catalog.DropNamespace(ctx, ns) })
}

func (g *guardedCatalog) UpdateNamespaceProperties(ctx context.Context, ns table.Identifier, removals []string, updates iceberg.Properties) (catalog.PropertiesUpdateSummary, error) {
	var sum catalog.PropertiesUpdateSummary
	err := g.around(func() (err error) {
		sum, err = g.Catalog.UpdateNamespaceProperties(ctx, ns, removals, updates)
		return err
	})
	return sum, err
}
