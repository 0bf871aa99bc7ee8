// Package derived keeps declarative derived tables up to date: Iceberg tables computed by one SQL SELECT over
// other tables of the lake (staged, metric or derived ones), refreshed incrementally one partition at a time,
// the way dbt's incremental models are.
//
// A derived table records, in its Iceberg table properties and in the same commit as its data, the snapshot id
// of every source table it covers (SourcePropertyPrefix), its SQL (SQLProperty), its partition column
// (PartitionProperty) and its sources (SourcesProperty): the table itself is the truth about what it covers,
// as the exactly-once protocol of DESIGN.md has it for staged tables, and the lineage a data catalog shows.
//
// A refresh ([Refresh]) finds the sources (the catalog tables whose namespace.table names appear as whole words
// in the SQL) and compares their current snapshots with the ones the table covers:
//   - nothing new: nothing is committed;
//   - rows were only added: for each changed source, the rows added since the covered snapshot
//     (lake.AddedSince, which leaves out maintenance rewrites) are the delta; the partitions they affect are the
//     distinct partition values of the SQL run with that source replaced by its delta (the other sources whole),
//     unioned over the changed sources. Those partitions are recomputed from the whole sources and, in one
//     commit, their data files are replaced by the new ones and the new snapshot ids stored;
//   - otherwise (no refresh committed yet, the SQL, partition column or source list changed, a covered
//     snapshot left a source's history, or a snapshot since removed rows: an overwrite or delete that is not a
//     maintenance rewrite) everything is recomputed and replaces all of the table's files in one commit.
//
// A partition is always recomputed whole from the sources, never patched by adding the delta's contribution, so
// recomputing it twice is harmless and a refresh that dies anywhere leaves the table at its old commit (the
// data files it wrote are orphans for maintenance) and the next one starts again from the covered snapshots:
// no row is ever counted twice or missed. Two processes refreshing the same table race on an optimistic commit
// (the table's snapshot must be the one the refresh planned on); the loser starts over on the reloaded table.
//
// Non-obvious points:
//   - The delta finds the affected partitions exactly when the SQL is monotone in each source (selections,
//     projections, joins and aggregations grouped by the partition): a row added to a source can then change
//     only result rows that the SQL over the delta produces. SQL that is not (NOT EXISTS, EXCEPT, a window over
//     all partitions) should change its definition to be so, or will miss partitions.
//   - Result types map to Iceberg ones (icebergOf): HUGEINT, which sum() over BIGINT returns, is stored as long
//     (a sum that does not fit fails the refresh); small integers as int; UUID as string.
//   - An incremental refresh replaces files, which Iceberg records as an overwrite: a derived table over another
//     derived table is recomputed whole whenever its source refreshed (rows were removed from it).
//   - The SQL is checked and described with DESCRIBE before it runs (one SELECT, through the query engine's
//     sandbox, without reading data), so DuckDB's messages about it show "LINE 1: DESCRIBE <the SQL>".
//   - Sources in an s3:// warehouse, their deltas included, are read through the lake's file cache.
package derived

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
)

// Table properties a derived table stores, in the same commit as its data.
const (
	// SQLProperty holds the SQL the table's data was computed by.
	SQLProperty = "bigfather.derived.sql"
	// SourcesProperty holds the table's sources, namespace.table names sorted and joined by commas.
	SourcesProperty = "bigfather.derived.sources"
	// PartitionProperty holds the partition column.
	PartitionProperty = "bigfather.derived.partition"
	// SourcePropertyPrefix starts the property holding, per source (bigfather.derived.source.ns.table), the id
	// of the source snapshot the table covers; 0 when the source had no snapshot yet.
	SourcePropertyPrefix = "bigfather.derived.source."
	// RefreshProperty is the snapshot summary property saying how a refresh computed the snapshot: "full" or
	// "incremental".
	RefreshProperty = "bigfather.derived.refresh"
)

// Outcome tells what one refresh did.
type Outcome struct {
	// Table is the derived table, namespace.table.
	Table string
	// Committed is false when no source changed and nothing was committed.
	Committed bool
	// Full is set when everything was recomputed; Reason says why.
	Full   bool
	Reason string
	// Partitions are the partition values recomputed, as text (dates as YYYY-MM-DD, NULL for a null value),
	// sorted. A full refresh lists the partitions its result holds.
	Partitions []string
	// Rows is how many rows the refresh wrote.
	Rows int64
	// Sources maps each source to the snapshot id the table now covers.
	Sources map[string]int64
}

// maxConflictRetries bounds how often a refresh starts over after losing a commit race.
const maxConflictRetries = 10

// errConflict marks an attempt whose commit lost a race with another writer and committed nothing.
var errConflict = errors.New("another writer committed to the table first")

// hooks let tests stop a refresh at chosen points.
type hooks struct {
	// beforeCommit runs after the data files are written, before the commit; an error aborts the refresh.
	beforeCommit func(ctx context.Context) error
}

// Refresh brings the derived table d up to date with its sources, incrementally when it can (see the package
// documentation). Errors name the table: "derived table NAME: ...".
func Refresh(ctx context.Context, lk *lake.Lake, d config.DerivedTable) (Outcome, error) {
	return refresh(ctx, lk, d, hooks{})
}

func refresh(ctx context.Context, lk *lake.Lake, d config.DerivedTable, h hooks) (Outcome, error) {
	out, err := refreshRetrying(ctx, lk, d, h)
	if err != nil {
		return out, fmt.Errorf("derived table %s: %w", d.Name, err)
	}
	return out, nil
}

func refreshRetrying(ctx context.Context, lk *lake.Lake, d config.DerivedTable, h hooks) (Outcome, error) {
	if len(lake.Ident(d.Name)) != 2 {
		return Outcome{}, errors.New("name: expected namespace.table")
	}
	sql := trimSQL(d.SQL)
	if sql == "" {
		return Outcome{}, errors.New("sql is empty")
	}
	if d.Partition == "" {
		return Outcome{}, errors.New("partition: no partition column given")
	}
	for conflicts := 0; ; conflicts++ {
		out, err := attempt(ctx, lk, d, sql, h)
		if !errors.Is(err, errConflict) || conflicts >= maxConflictRetries {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return Outcome{Table: d.Name}, err
		}
	}
}

// trimSQL drops surrounding space and trailing semicolons, so the SQL can be wrapped in a subquery.
func trimSQL(s string) string {
	for {
		t := strings.TrimRight(strings.TrimSpace(s), ";")
		if t == s {
			return s
		}
		s = t
	}
}

// state is what a refresh planned on: the derived table and its sources as loaded.
type state struct {
	t       *table.Table // nil: not created yet
	sources []string     // sorted
	srcs    map[string]*table.Table
	snaps   map[string]int64 // the sources' current snapshot ids (0: none)
	stored  map[string]int64 // the ids the table covers
}

func attempt(ctx context.Context, lk *lake.Lake, d config.DerivedTable, sql string, h hooks) (Outcome, error) {
	st, err := load(ctx, lk, d)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}
	full, reason, changed, err := decide(st, d, sql)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}
	if !full && len(changed) == 0 {
		return Outcome{Table: d.Name, Sources: st.stored}, nil
	}

	e, err := query.Open(ctx)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}
	defer e.Close()
	whole := make(map[string]query.Table, len(st.sources))
	for _, name := range st.sources {
		qt, err := snapshotTable(ctx, lk, name)
		if err != nil {
			return Outcome{Table: d.Name}, err
		}
		whole[name] = qt
		if err := e.Register(ctx, qt); err != nil {
			return Outcome{Table: d.Name}, err
		}
	}
	cols, part, err := describe(ctx, e, sql, d.Partition)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}

	var affected map[string]partValue
	if !full {
		affected, full, reason, err = affectedPartitions(ctx, lk, st, whole, changed, sql, cols[part])
		if err != nil {
			return Outcome{Table: d.Name}, err
		}
	}
	var rows [][]any
	if full || len(affected) > 0 {
		res, err := e.Query(ctx, selectSQL(sql, cols, part, affected, full))
		if err != nil {
			return Outcome{Table: d.Name}, fmt.Errorf("sql: %w", err)
		}
		rows = res.Rows
	}
	if full {
		affected = map[string]partValue{}
		for _, row := range rows {
			p, err := duckPart(row[part], cols[part].iceberg)
			if err != nil {
				return Outcome{Table: d.Name}, fmt.Errorf("column %s: %w", cols[part].name, err)
			}
			affected[p.String()] = p
		}
	}

	t := st.t
	if t == nil {
		fields := make([]iceberg.NestedField, len(cols))
		for i, c := range cols {
			fields[i] = iceberg.NestedField{Name: c.name, Type: c.iceberg}
		}
		t, err = lk.EnsureTable(ctx, lake.TableSpec{Name: d.Name, Fields: fields,
			Partitions: []lake.Partition{{Transform: "identity", Column: d.Partition}}})
		if err != nil {
			return Outcome{Table: d.Name}, err
		}
	}
	partField, err := checkShape(t, cols, d.Partition)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}
	toDelete, err := filesOf(ctx, t, partField, cols[part].iceberg, affected, full)
	if err != nil {
		return Outcome{Table: d.Name}, err
	}

	out := Outcome{Table: d.Name, Committed: true, Full: full, Reason: reason, Rows: int64(len(rows)), Sources: st.snaps}
	for _, p := range affected {
		out.Partitions = append(out.Partitions, p.String())
	}
	slices.Sort(out.Partitions)

	var files []iceberg.DataFile
	if len(rows) > 0 {
		sc, err := arrowSchema(t)
		if err != nil {
			return Outcome{Table: d.Name}, fmt.Errorf("building the Arrow schema: %w", err)
		}
		rec, err := toArrow(sc, cols, rows)
		if err != nil {
			return Outcome{Table: d.Name}, err
		}
		files, err = lake.WriteFiles(ctx, t, rec)
		rec.Release()
		if err != nil {
			return Outcome{Table: d.Name}, err
		}
	}
	if err := commit(ctx, t, st, d, sql, full, toDelete, files, h); err != nil {
		return Outcome{Table: d.Name}, err
	}
	return out, nil
}

// load lists the sources the SQL names and loads them and the derived table.
func load(ctx context.Context, lk *lake.Lake, d config.DerivedTable) (state, error) {
	names, err := lk.Tables(ctx)
	if err != nil {
		return state{}, err
	}
	st := state{sources: referenced(d.SQL, names), srcs: map[string]*table.Table{}, snaps: map[string]int64{}}
	if slices.Contains(st.sources, d.Name) {
		return state{}, errors.New("sql reads the derived table itself")
	}
	for _, name := range st.sources {
		t, err := lk.LoadTable(ctx, name)
		if err != nil {
			return state{}, err
		}
		st.srcs[name] = t
		st.snaps[name] = snapshotID(t)
	}
	st.t, err = lk.LoadTable(ctx, d.Name)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		st.t, err = nil, nil
	}
	if err != nil {
		return state{}, err
	}
	st.stored = storedSources(st.t)
	return st, nil
}

func snapshotID(t *table.Table) int64 {
	if s := t.CurrentSnapshot(); s != nil {
		return s.SnapshotID
	}
	return 0
}

// storedSources returns the source snapshot ids t covers.
func storedSources(t *table.Table) map[string]int64 {
	out := map[string]int64{}
	if t == nil {
		return out
	}
	for k, v := range t.Properties() {
		if name, ok := strings.CutPrefix(k, SourcePropertyPrefix); ok {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[name] = id
			}
		}
	}
	return out
}

// referenced returns the names (namespace.table) that occur in sql as whole words, ignoring case, sorted.
func referenced(sql string, names []string) []string {
	low := strings.ToLower(sql)
	var out []string
	for _, name := range names {
		n := strings.ToLower(name)
		for i := 0; ; {
			j := strings.Index(low[i:], n)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(n)
			if (start == 0 || !isWordByte(low[start-1]) && low[start-1] != '.') && (end == len(low) || !isWordByte(low[end])) {
				out = append(out, name)
				break
			}
			i = start + 1
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// decide says whether the refresh recomputes everything (and why), or else which sources changed.
func decide(st state, d config.DerivedTable, sql string) (full bool, reason string, changed []string, err error) {
	if st.t == nil {
		return true, "the table does not exist yet", nil, nil
	}
	props := st.t.Properties()
	switch {
	case props[SQLProperty] == "":
		return true, "no refresh was committed yet", nil, nil
	case props[SQLProperty] != sql:
		return true, "the SQL changed", nil, nil
	case props[PartitionProperty] != d.Partition:
		return true, "the partition column changed", nil, nil
	case props[SourcesProperty] != strings.Join(st.sources, ","):
		return true, "the sources changed", nil, nil
	}
	for _, name := range st.sources {
		since, ok := st.stored[name]
		if !ok {
			return true, "no covered snapshot is stored for " + name, nil, nil
		}
		if st.snaps[name] == since {
			continue
		}
		removed, err := removedRows(st.srcs[name], since)
		if errors.Is(err, lake.ErrHistoryGone) {
			return true, fmt.Sprintf("snapshot %d of %s is no longer in its history", since, name), nil, nil
		}
		if err != nil {
			return false, "", nil, err
		}
		if removed {
			return true, "rows were removed from " + name, nil, nil
		}
		changed = append(changed, name)
	}
	return false, "", changed, nil
}

// removedRows reports whether a snapshot of t after since removed rows: an overwrite or delete that is not a
// maintenance rewrite (which replaces files by files holding the same rows). It returns lake.ErrHistoryGone
// when since is not an ancestor of the current snapshot. since 0 covered nothing, so nothing was removed.
func removedRows(t *table.Table, since int64) (bool, error) {
	if since == 0 {
		return false, nil
	}
	s := t.CurrentSnapshot()
	if s == nil {
		return false, lake.ErrHistoryGone
	}
	for s.SnapshotID != since {
		if s.Summary != nil && (s.Summary.Operation == table.OpOverwrite || s.Summary.Operation == table.OpDelete) &&
			s.Summary.Properties[lake.MaintenanceProperty] == "" {
			return true, nil
		}
		if s.ParentSnapshotID == nil {
			return false, lake.ErrHistoryGone
		}
		if s = t.SnapshotByID(*s.ParentSnapshotID); s == nil {
			return false, lake.ErrHistoryGone
		}
	}
	return false, nil
}

// snapshotTable is the current snapshot of source name as the query engine takes it.
func snapshotTable(ctx context.Context, lk *lake.Lake, name string) (query.Table, error) {
	snap, err := lk.Snapshot(ctx, name)
	if err != nil {
		return query.Table{}, err
	}
	ns, tbl, _ := strings.Cut(name, ".")
	qt := query.Table{Namespace: ns, Name: tbl, DataFiles: snap.DataFiles, PositionDeletes: snap.DeleteFiles}
	for _, c := range snap.Columns {
		qt.Columns = append(qt.Columns, query.Column{Name: c.Name, Type: c.Type})
	}
	return qt, nil
}

// describe returns the SQL's result columns, without running it, and the index of the partition column. The
// DESCRIBE also puts the bare SQL through the engine's sandbox: it must be one SELECT.
func describe(ctx context.Context, e *query.Engine, sql, partition string) ([]column, int, error) {
	res, err := e.Query(ctx, "DESCRIBE "+sql)
	if err != nil {
		return nil, 0, fmt.Errorf("sql: %w", err)
	}
	cols := make([]column, 0, len(res.Rows))
	names := make([]string, 0, len(res.Rows))
	part := -1
	seen := map[string]bool{}
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		typ, _ := row[1].(string)
		if seen[strings.ToLower(name)] {
			return nil, 0, fmt.Errorf("sql: the result has two columns named %q", name)
		}
		seen[strings.ToLower(name)] = true
		it, ok := icebergOf(typ)
		if !ok {
			return nil, 0, fmt.Errorf("sql: column %q has type %s, which a table cannot store (CAST it in the SQL)", name, typ)
		}
		if name == partition {
			part = len(cols)
		}
		cols = append(cols, column{name: name, duck: typ, iceberg: it})
		names = append(names, name)
	}
	if part < 0 {
		return nil, 0, fmt.Errorf("partition column %q is not in the result (columns: %s)", partition, strings.Join(names, ", "))
	}
	if !partitionable(cols[part].iceberg) {
		return nil, 0, fmt.Errorf("partition column %q has type %s (partition by a string, integer, boolean, decimal, date or timestamp column)", partition, cols[part].duck)
	}
	return cols, part, nil
}

// selectSQL is the SQL's result cast to the table's types; unless full, only the rows of the affected
// partitions.
func selectSQL(sql string, cols []column, part int, affected map[string]partValue, full bool) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("CAST(" + quoteIdent(c.name) + " AS " + duckOf(c.iceberg) + ") AS " + quoteIdent(c.name))
	}
	b.WriteString(" FROM (\n" + sql + "\n) AS derived")
	if full {
		return b.String()
	}
	p := cols[part]
	var lits []string
	hasNull := false
	for _, k := range slices.Sorted(maps.Keys(affected)) {
		v := affected[k]
		if v.null {
			hasNull = true
			continue
		}
		lits = append(lits, v.literal(duckOf(p.iceberg)))
	}
	var conds []string
	if len(lits) > 0 {
		conds = append(conds, quoteIdent(p.name)+" IN ("+strings.Join(lits, ", ")+")")
	}
	if hasNull {
		conds = append(conds, quoteIdent(p.name)+" IS NULL")
	}
	b.WriteString(" WHERE " + strings.Join(conds, " OR "))
	return b.String()
}

// affectedPartitions returns the partitions that the rows added to the changed sources affect, or full when
// the delta of a source cannot be read (its history is gone).
func affectedPartitions(ctx context.Context, lk *lake.Lake, st state, whole map[string]query.Table, changed []string, sql string, p column) (map[string]partValue, bool, string, error) {
	affected := map[string]partValue{}
	var de *query.Engine
	defer func() {
		if de != nil {
			de.Close()
		}
	}()
	q := "SELECT DISTINCT CAST(" + quoteIdent(p.name) + " AS " + duckOf(p.iceberg) + ") FROM (\n" + sql + "\n) AS delta"
	for _, name := range changed {
		files, err := lake.AddedSince(ctx, st.srcs[name], st.stored[name], "")
		if errors.Is(err, lake.ErrHistoryGone) {
			return nil, true, fmt.Sprintf("snapshot %d of %s is no longer in its history", st.stored[name], name), nil
		}
		if err != nil {
			return nil, false, "", fmt.Errorf("listing the files added to %s since snapshot %d: %w", name, st.stored[name], err)
		}
		if len(files) == 0 {
			continue // only maintenance rewrites
		}
		// Remote files are read through the lake's file cache.
		if files, err = lk.LocalFiles(ctx, st.srcs[name], files); err != nil {
			return nil, false, "", fmt.Errorf("reading the files added to %s since snapshot %d: %w", name, st.stored[name], err)
		}
		if de == nil {
			if de, err = query.Open(ctx); err != nil {
				return nil, false, "", err
			}
		}
		for _, qt := range whole {
			if qt.Namespace+"."+qt.Name == name {
				qt.DataFiles, qt.PositionDeletes = files, nil
			}
			if err := de.Register(ctx, qt); err != nil {
				return nil, false, "", err
			}
		}
		res, err := de.Query(ctx, q)
		if err != nil {
			return nil, false, "", fmt.Errorf("sql over the rows new in %s: %w", name, err)
		}
		for _, row := range res.Rows {
			v, err := duckPart(row[0], p.iceberg)
			if err != nil {
				return nil, false, "", fmt.Errorf("column %s: %w", p.name, err)
			}
			affected[v.String()] = v
		}
	}
	return affected, false, "", nil
}

// checkShape checks that t's columns are the result's, and that it is partitioned by identity(partition); it
// returns the partition field's id.
func checkShape(t *table.Table, cols []column, partition string) (int, error) {
	fields := t.Schema().Fields()
	same := len(fields) == len(cols)
	for i := 0; same && i < len(cols); i++ {
		same = fields[i].Name == cols[i].name && fields[i].Type.Equals(cols[i].iceberg)
	}
	if !same {
		have := make([]string, len(fields))
		for i, f := range fields {
			have[i] = f.Name + " " + lake.TypeName(f.Type)
		}
		want := make([]string, len(cols))
		for i, c := range cols {
			want[i] = c.name + " " + lake.TypeName(c.iceberg)
		}
		return 0, fmt.Errorf("the result's columns (%s) differ from the table's (%s); drop the table to rebuild it",
			strings.Join(want, ", "), strings.Join(have, ", "))
	}
	spec := t.Spec()
	src, _ := t.Schema().FindFieldByName(partition)
	var pf []iceberg.PartitionField
	for _, f := range spec.Fields() {
		pf = append(pf, f)
	}
	if len(pf) != 1 || pf[0].SourceID() != src.ID || pf[0].Transform.String() != "identity" {
		return 0, fmt.Errorf("the table is not partitioned by identity(%s) (its partition spec is %s); drop the table to rebuild it", partition, spec.String())
	}
	return pf[0].FieldID, nil
}

// filesOf returns t's current data files of the affected partitions, or all of them when full.
func filesOf(ctx context.Context, t *table.Table, partField int, typ iceberg.Type, affected map[string]partValue, full bool) ([]iceberg.DataFile, error) {
	if t.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning the table's files: %w", err)
	}
	var out []iceberg.DataFile
	for _, task := range tasks {
		if full {
			out = append(out, task.File)
			continue
		}
		v, err := icebergPart(task.File.Partition()[partField], typ)
		if err != nil {
			return nil, fmt.Errorf("data file %s: %w", task.File.FilePath(), err)
		}
		if _, ok := affected[v.String()]; ok {
			out = append(out, task.File)
		}
	}
	return out, nil
}

// commit replaces toDelete by files and stores the covered snapshots and the lineage, in one commit that
// asserts the table has not moved since st was loaded. It owns files: they are removed when the commit
// definitely failed (a conflict included), and left as orphans when its outcome is unknown.
func commit(ctx context.Context, t *table.Table, st state, d config.DerivedTable, sql string, full bool, toDelete, files []iceberg.DataFile, h hooks) (err error) {
	unknown := false
	defer func() {
		if err != nil && !unknown {
			removeFiles(context.WithoutCancel(ctx), t, files)
		}
	}()
	props := iceberg.Properties{
		SQLProperty:       sql,
		SourcesProperty:   strings.Join(st.sources, ","),
		PartitionProperty: d.Partition,
	}
	for name, id := range st.snaps {
		props[SourcePropertyPrefix+name] = strconv.FormatInt(id, 10)
	}
	var stale []string
	for k := range t.Properties() {
		if strings.HasPrefix(k, SourcePropertyPrefix) && props[k] == "" {
			stale = append(stale, k)
		}
	}
	slices.Sort(stale)
	if h.beforeCommit != nil {
		if err := h.beforeCommit(ctx); err != nil {
			return err
		}
	}
	txn := t.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	if err := txn.SetProperties(props); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	if len(stale) > 0 {
		if err := txn.RemoveProperties(stale); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
	}
	kind := "incremental"
	if full {
		kind = "full"
	}
	if len(toDelete) > 0 || len(files) > 0 {
		summary := iceberg.Properties{RefreshProperty: kind}
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, toDelete, files, summary, table.WithoutDuplicateCheck()); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		if lake.IsConflict(err) {
			return fmt.Errorf("committing: %w (%w)", errConflict, err)
		}
		unknown = true
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// removeFiles removes data files no snapshot lists, best effort: what stays is an orphan for maintenance.
func removeFiles(ctx context.Context, t *table.Table, files []iceberg.DataFile) {
	if len(files) == 0 {
		return
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return
	}
	for _, f := range files {
		if err := fsys.Remove(f.FilePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue
		}
	}
}
