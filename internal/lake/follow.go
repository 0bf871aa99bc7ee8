package lake

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Follow evolves table t so that it holds records of each schema in order (a registry subject's versions):
// it adds the columns a schema has and the table lacks (optional, with new field ids, nested ones too),
// widens the types Iceberg allows (int to long, float to double, decimal precision) and makes required
// columns optional. A narrower type in a schema is taken as is: the wider column holds its values.
//
// A schema the table cannot take (a column whose type would change otherwise, such as string to long or a
// struct to a list) changes nothing; its error is refused[i]. err is a failure of the catalog. Two processes
// following the same schemas end with the same table: each change is retried on a fresh load when a
// concurrent commit wins.
func (l *Lake) Follow(ctx context.Context, t *table.Table, schemas []*iceberg.Schema) (_ *table.Table, refused []error, err error) {
	refused = make([]error, len(schemas))
	name := t.Identifier()[0] + "." + t.Identifier()[1]
	for i, sc := range schemas {
		for attempt := 0; ; attempt++ {
			// A dry run first (an UpdateSchema applies its operations once): nothing to change, no commit.
			updates, _, uerr := t.NewTransaction().UpdateSchema(true, false).UnionByNameWith(sc).BuildUpdates()
			if uerr != nil {
				refused[i] = uerr
				break
			}
			if len(updates) == 0 {
				break
			}
			txn := t.NewTransaction()
			if err := txn.UpdateSchema(true, false).UnionByNameWith(sc).Commit(); err != nil {
				refused[i] = err
				break
			}
			nt, cerr := txn.Commit(ctx)
			if cerr == nil {
				t = nt
				break
			}
			if attempt >= 5 {
				return nil, nil, fmt.Errorf("evolving table %s: %w", name, cerr)
			}
			// Another process evolved it first: load it and union again (a no-op when it holds sc now).
			if t, err = l.cat.LoadTable(ctx, t.Identifier()); err != nil {
				return nil, nil, fmt.Errorf("evolving table %s: reloading after %v: %w", name, cerr, err)
			}
		}
	}
	return t, refused, nil
}
