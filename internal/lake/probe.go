package lake

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// probeEvery is how often a staging process probes its catalog and warehouse for /healthz.
const probeEvery = 5 * time.Second

// Probe checks that the stores are reachable now: the catalog answers a listing (a round trip to Postgres or
// the REST server; for SQLite, the file is still the one opened), and an S3 warehouse answers a listing under
// its prefix. The error names the failing store, never a secret.
func (l *Lake) Probe(ctx context.Context) error {
	if err := l.ProbeCatalog(ctx); err != nil {
		return err
	}
	return l.ProbeWarehouse(ctx)
}

// ProbeCatalog checks that the catalog answers a listing now (for SQLite, also that the file is still the one
// opened). The error names the catalog, never a secret.
func (l *Lake) ProbeCatalog(ctx context.Context) error {
	if err := l.CheckCatalog(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, err := l.cat.ListNamespaces(cctx, nil); err != nil {
		return l.hide(fmt.Errorf("catalog unreachable: %w", errCause(err)))
	}
	return nil
}

// ProbeWarehouse checks that the warehouse is reachable now: an S3 warehouse answers a listing under its
// prefix; a local one exists as a directory.
func (l *Lake) ProbeWarehouse(ctx context.Context) error {
	if l.remote() {
		return l.checkS3(ctx)
	}
	st, err := os.Stat(strings.TrimPrefix(l.warehouse, "file://"))
	switch {
	case err != nil:
		return fmt.Errorf("warehouse %s: %w", l.warehouse, err)
	case !st.IsDir():
		return fmt.Errorf("warehouse %s: not a directory", l.warehouse)
	}
	return nil
}

// Watch probes the stores every few seconds until ctx ends and reports each result to report (nil when they
// are reachable again), so that /healthz names a failing store while staging waits for it.
func (l *Lake) Watch(ctx context.Context, report func(error)) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, probeEvery-time.Second)
			report(l.Probe(pctx))
			cancel()
		}
	}
}
