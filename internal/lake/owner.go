package lake

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Table properties recording who writes a table. A pipeline owns the tables it creates (its main table, its
// rejected table and its route tables) or, for a table created before owners were recorded, the first one it
// opens. Another pipeline may write the table only when both agree to share it, so that two configs naming
// one table cannot merge their schemas and rows by accident.
const (
	// OwnerProperty names the owning pipeline.
	OwnerProperty = "bigfather.owner"
	// SharedProperty is "true" when the owner shares the table with pipelines that share theirs
	// (table.shared: true in both configs), or "route" for a route table, which any pipeline may route into.
	SharedProperty = "bigfather.shared"
)

// Ownership says which pipeline writes a table, and on what terms.
type Ownership struct {
	// Pipeline is the writing pipeline; empty means no ownership is recorded or checked (tools, readers).
	Pipeline string
	// Shared is the pipeline's table.shared: it may write tables other pipelines own and share, and shares
	// the ones it owns.
	Shared bool
	// Route says the pipeline writes the table as a route: several pipelines may route into one table, but
	// none may use another's route table as its own table.
	Route bool
}

// marker is the SharedProperty value a table owned this way carries ("" for none).
func (o Ownership) marker() string {
	switch {
	case o.Shared:
		return "true"
	case o.Route:
		return "route"
	}
	return ""
}

// OwnerError refuses a pipeline a table that another pipeline owns and does not share with it.
type OwnerError struct {
	Table    string
	Owner    string // the owning pipeline (or one that wrote the table before owners were recorded)
	Pipeline string // the pipeline refused
	Reason   string // why, and what would allow it
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("table %s belongs to pipeline %s; pipeline %s may not write it: %s", e.Table, e.Owner, e.Pipeline, e.Reason)
}

// admit decides whether pipeline o may write a table owned by owner with SharedProperty shared; nil means yes.
func (o Ownership) admit(name, owner, shared string) *OwnerError {
	if owner == "" || owner == o.Pipeline {
		return nil
	}
	refuse := func(reason string) *OwnerError {
		return &OwnerError{Table: name, Owner: owner, Pipeline: o.Pipeline, Reason: reason}
	}
	switch {
	case shared == "true" && o.Shared:
		return nil
	case shared == "route" && o.Route:
		return nil
	case shared == "route":
		return refuse("it is that pipeline's route table, and only routes may share it")
	case o.Shared:
		return refuse(fmt.Sprintf("pipeline %s does not share it (set table.shared: true in its config too)", owner))
	case shared == "true":
		return refuse(fmt.Sprintf("a table is shared only between pipelines whose configs both set table.shared: true (set it in pipeline %s's config too)", o.Pipeline))
	}
	return refuse("set table.shared: true in both pipelines' configs to share it")
}

// properties are what a table created by o records.
func (o Ownership) properties() iceberg.Properties {
	props := iceberg.Properties{OwnerProperty: o.Pipeline}
	if m := o.marker(); m != "" {
		props[SharedProperty] = m
	}
	return props
}

// writers returns the pipelines other than self that stored offsets in t, sorted.
func writers(t *table.Table, self string) []string {
	seen := map[string]bool{}
	for k := range t.Properties() {
		rest, ok := strings.CutPrefix(k, offsetPrefix)
		if !ok {
			continue
		}
		if p, _, ok := strings.Cut(rest, "."); ok && p != self {
			seen[p] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// claim checks that o may write t and records o as t's owner when t has none yet, or updates the shared
// marker when o owns t and its config changed. A table without an owner that another pipeline already wrote
// (its offsets are in the properties) is refused unless o shares or routes into it.
func (l *Lake) claim(ctx context.Context, t *table.Table, name string, o Ownership) (*table.Table, error) {
	if o.Pipeline == "" {
		return t, nil
	}
	for range maxConflictRetries {
		nt, err := l.claimOnce(ctx, t, name, o)
		if !errors.Is(err, table.ErrCommitFailed) {
			return nt, err
		}
		// Another process changed the table meanwhile (maybe claiming it): decide again on the new state.
		if t, err = l.cat.LoadTable(ctx, t.Identifier()); err != nil {
			return nil, fmt.Errorf("reloading table %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("recording pipeline %s as the owner of table %s: the table keeps changing", o.Pipeline, name)
}

func (l *Lake) claimOnce(ctx context.Context, t *table.Table, name string, o Ownership) (*table.Table, error) {
	props := t.Properties()
	owner, shared := props[OwnerProperty], props[SharedProperty]
	if owner == "" {
		if others := writers(t, o.Pipeline); len(others) > 0 && o.marker() == "" {
			return nil, &OwnerError{Table: name, Owner: others[0], Pipeline: o.Pipeline,
				Reason: "that pipeline wrote it before owners were recorded; set table.shared: true in both pipelines' configs to share it"}
		}
	} else if err := o.admit(name, owner, shared); err != nil {
		return nil, err
	}
	if owner != "" && (owner != o.Pipeline || shared == o.marker()) {
		return t, nil
	}
	// Record the owner (or the owner's new terms) in a commit that requires the table to still have no other
	// owner, so that of two pipelines claiming a table at once one is refused.
	set, remove := o.properties(), []string(nil)
	if o.marker() == "" {
		if _, ok := props[SharedProperty]; ok {
			remove = []string{SharedProperty}
		}
	}
	updates := []table.Update{table.NewSetPropertiesUpdate(set)}
	if remove != nil {
		updates = append(updates, table.NewRemovePropertiesUpdate(remove))
	}
	reqs := []table.Requirement{table.AssertTableUUID(t.Metadata().TableUUID())}
	if l.sqlCatalog { // the SQL catalogs check requirements in process; a REST server knows only Iceberg's
		reqs = append(reqs, ownerRequirement{o: o, name: name})
	}
	meta, loc, err := l.cat.CommitTable(ctx, t.Identifier(), reqs, updates)
	if err != nil {
		if oe := (*OwnerError)(nil); errors.As(err, &oe) {
			return nil, oe
		}
		return nil, fmt.Errorf("recording pipeline %s as the owner of table %s: %w", o.Pipeline, name, err)
	}
	nt := table.New(t.Identifier(), meta, loc, t.FS, l.cat)
	if got := nt.Properties()[OwnerProperty]; got != o.Pipeline {
		return nil, o.admit(name, got, nt.Properties()[SharedProperty])
	}
	return nt, nil
}

// ownerRequirement is a commit requirement (checked by the SQL catalog against the metadata it replaces)
// that the table has no owner that refuses o.
type ownerRequirement struct {
	o    Ownership
	name string
}

func (r ownerRequirement) GetType() string { return "bigfather-assert-owner" }

func (r ownerRequirement) Validate(meta table.Metadata) error {
	if meta == nil {
		return nil
	}
	props := meta.Properties()
	if err := r.o.admit(r.name, props[OwnerProperty], props[SharedProperty]); err != nil {
		return err
	}
	return nil
}

// checkOwner is the commit-time check: the table as it is now still admits the batch's pipeline (an owner may
// have stopped sharing it since the pipeline started).
func checkOwner(name string, t *table.Table, o Ownership) error {
	if o.Pipeline == "" {
		return nil
	}
	props := t.Properties()
	if err := o.admit(name, props[OwnerProperty], props[SharedProperty]); err != nil {
		return err
	}
	return nil
}
