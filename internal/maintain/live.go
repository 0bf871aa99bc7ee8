package maintain

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// LiveFiles returns every file t's metadata references, by URI: the current metadata file and those of the
// metadata log, and for each snapshot its manifest list, its manifests and their live data and delete files.
// It is what orphan removal must never delete, computed independently of iceberg-go's orphan scan so tests
// can check that scan.
func LiveFiles(ctx context.Context, t *table.Table) (map[string]bool, error) {
	out := map[string]bool{t.MetadataLocation(): true}
	for e := range t.Metadata().PreviousFiles() {
		out[e.MetadataFile] = true
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range t.Metadata().Snapshots() {
		out[s.ManifestList] = true
		mfs, err := s.Manifests(fsys)
		if err != nil {
			return nil, fmt.Errorf("reading manifests of snapshot %d: %w", s.SnapshotID, err)
		}
		for _, mf := range mfs {
			out[mf.FilePath()] = true
			if seen[mf.FilePath()] {
				continue
			}
			seen[mf.FilePath()] = true
			entries, err := mf.FetchEntries(fsys, true)
			if err != nil {
				return nil, fmt.Errorf("reading manifest %s: %w", mf.FilePath(), err)
			}
			for _, e := range entries {
				if e.Status() != iceberg.EntryStatusDELETED {
					out[e.DataFile().FilePath()] = true
				}
			}
		}
	}
	return out, nil
}
