package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/auth/audit"
	"github.com/bigfather/bigfather/internal/testpg"
)

// The API's Auditor (internal/api) is satisfied by the store.
var _ interface {
	Record(context.Context, audit.Entry) error
} = (*audit.Store)(nil)

// The Postgres tests share one throwaway server (internal/testpg); each test gets a database of its own.
func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// backend makes the URI of a new, empty database.
type backend struct {
	name   string
	newURI func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "catalog.db") }},
	{"postgres", func(t *testing.T) string {
		srv := testpg.Shared(t)
		return srv.URI(srv.CreateDatabase(t))
	}},
}

// eachBackend runs test on a SQLite file and on a Postgres database.
func eachBackend(t *testing.T, test func(t *testing.T, uri string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.newURI(t)) })
	}
}

func open(t testing.TB, uri string) *audit.Store {
	t.Helper()
	s, err := audit.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t testing.TB, s *audit.Store, e audit.Entry) {
	t.Helper()
	if err := s.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func list(t testing.TB, s *audit.Store, q audit.Query) []audit.Entry {
	t.Helper()
	es, err := s.List(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func count(t testing.TB, s *audit.Store, q audit.Query) int64 {
	t.Helper()
	n, err := s.Count(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// full is an entry with every field set.
func full(at time.Time) audit.Entry {
	return audit.Entry{At: at, Actor: "alice", Role: "admin", Via: "session", Method: "POST",
		Path: "/api/v1/pipelines/orders/pause?x=1", Action: "POST /api/v1/pipelines/{name}/pause",
		Remote: "127.0.0.1:53211", Outcome: "error", Status: 409, Detail: "pipeline orders is already paused"}
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 9, 14, 5, 6, 123456000, time.UTC)
	paris := time.FixedZone("CET", 3600)
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := []struct {
		name string
		in   audit.Entry
		want audit.Entry // ID is checked apart
	}{
		{"every field", full(at), full(at)},
		{"empty optional fields",
			audit.Entry{At: at, Actor: "anonymous", Method: "DELETE", Path: "/api/v1/x", Action: "DELETE /api/v1/x", Outcome: "ok", Status: 204},
			audit.Entry{At: at, Actor: "anonymous", Method: "DELETE", Path: "/api/v1/x", Action: "DELETE /api/v1/x", Outcome: "ok", Status: 204}},
		{"time zone and nanoseconds",
			func() audit.Entry { e := full(time.Date(2025, 3, 9, 15, 5, 6, 123456789, paris)); return e }(),
			full(at)},
		{"ID is the store's",
			func() audit.Entry { e := full(at); e.ID = 999999; return e }(),
			full(at)},
		{"long fields are cut",
			func() audit.Entry {
				e := full(at)
				e.Path, e.Detail, e.Actor = "/"+long("p", 5000), long("é", 3000), long("a", 300)
				return e
			}(),
			func() audit.Entry {
				e := full(at)
				// 2000 bytes each: "/" + 1996 "p" + "…"; 998 "é" (1996 bytes, the 999th would end at byte
				// 1998, over 2000-3) + "…"; 253 "a" + "…".
				e.Path, e.Detail, e.Actor = "/"+long("p", 1996)+"…", long("é", 998)+"…", long("a", 253)+"…"
				return e
			}()},
		{"invalid UTF-8 and NUL",
			func() audit.Entry { e := full(at); e.Detail, e.Actor = "bad \xff\xfe byte", "nul\x00name"; return e }(),
			func() audit.Entry { e := full(at); e.Detail, e.Actor = "bad \uFFFD byte", "nul\uFFFDname"; return e }()},
	}
	eachBackend(t, func(t *testing.T, uri string) {
		s := open(t, uri)
		var lastID int64
		for _, c := range cases {
			record(t, s, c.in)
			got := list(t, s, audit.Query{Limit: 1})
			if len(got) != 1 {
				t.Fatalf("%s: List returned %d entries, want 1", c.name, len(got))
			}
			if got[0].ID <= lastID {
				t.Errorf("%s: ID %d, want more than the previous %d", c.name, got[0].ID, lastID)
			}
			lastID = got[0].ID
			want := c.want
			want.ID = got[0].ID
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("%s:\n got %+v\nwant %+v", c.name, got[0], want)
			}
			if len(got[0].Path) > audit.MaxPathBytes || len(got[0].Detail) > audit.MaxDetailBytes {
				t.Errorf("%s: path %d bytes, detail %d bytes, over the limits", c.name, len(got[0].Path), len(got[0].Detail))
			}
		}

		// A zero At is the time of Record, in UTC to the microsecond.
		before := time.Now().UTC().Truncate(time.Microsecond)
		record(t, s, audit.Entry{Actor: "bob", Action: "now"})
		after := time.Now().UTC()
		got := list(t, s, audit.Query{Limit: 1})[0]
		if got.Action != "now" || got.At.Before(before) || got.At.After(after) || got.At.Location() != time.UTC ||
			got.At.Nanosecond()%1000 != 0 {
			t.Errorf("zero At stored as %v (%s), want UTC microseconds between %v and %v", got.At, got.At.Location(), before, after)
		}
	})
}

// fill records n entries with actions a000, a001, ... one second apart from base.
func fill(t testing.TB, s *audit.Store, n int, base time.Time) {
	t.Helper()
	for i := range n {
		e := full(base.Add(time.Duration(i) * time.Second))
		e.Action = fmt.Sprintf("a%03d", i)
		record(t, s, e)
	}
}

func actions(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

// wantActions is a%03d for from, from-1, ... down to to (inclusive).
func wantActions(from, to int) []string {
	var out []string
	for i := from; i >= to; i-- {
		out = append(out, fmt.Sprintf("a%03d", i))
	}
	return out
}

func TestPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, uri string) {
		s := open(t, uri)
		if got := list(t, s, audit.Query{}); got == nil || len(got) != 0 {
			t.Fatalf("empty log: List = %#v, want an empty, non-nil slice", got)
		}
		fill(t, s, 120, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

		// Pages of the default size (50), newest first, each starting below the last ID of the previous one.
		pages := []struct{ from, to int }{{119, 70}, {69, 20}, {19, 0}}
		seen := map[int64]bool{}
		var before int64
		for i, p := range pages {
			got := list(t, s, audit.Query{BeforeID: before})
			if a, w := actions(got), wantActions(p.from, p.to); !reflect.DeepEqual(a, w) {
				t.Fatalf("page %d (BeforeID %d): actions %v, want %v", i, before, a, w)
			}
			for j, e := range got {
				if seen[e.ID] || (j > 0 && e.ID >= got[j-1].ID) {
					t.Fatalf("page %d: ID %d repeated or not descending", i, e.ID)
				}
				seen[e.ID] = true
			}
			before = got[len(got)-1].ID
		}
		if got := list(t, s, audit.Query{BeforeID: before}); len(got) != 0 {
			t.Errorf("after the last page: %d entries, want 0", len(got))
		}

		limits := []struct {
			limit int
			want  []string
		}{
			{1, wantActions(119, 119)},
			{7, wantActions(119, 113)},
			{audit.MaxLimit, wantActions(119, 0)},
		}
		for _, l := range limits {
			if a := actions(list(t, s, audit.Query{Limit: l.limit})); !reflect.DeepEqual(a, l.want) {
				t.Errorf("Limit %d: actions %v, want %v", l.limit, a, l.want)
			}
		}
		if n := count(t, s, audit.Query{Limit: 3, BeforeID: before}); n != 120 {
			t.Errorf("Count = %d, want 120 (paging fields do not change it)", n)
		}
	})
}

func TestFilters(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	// 12 entries, one minute apart: actor alice for even i, bob for odd; action "pause" when i%3 == 0, else
	// "resume".
	type row struct {
		actor, action string
	}
	var rows []row
	for i := range 12 {
		r := row{"alice", "resume"}
		if i%2 == 1 {
			r.actor = "bob"
		}
		if i%3 == 0 {
			r.action = "pause"
		}
		rows = append(rows, r)
	}
	// want lists the indexes of rows, newest first, that keep returns true for.
	want := func(keep func(i int, r row) bool) []int {
		var out []int
		for i := len(rows) - 1; i >= 0; i-- {
			if keep(i, rows[i]) {
				out = append(out, i)
			}
		}
		return out
	}
	cases := []struct {
		name string
		q    audit.Query
		want []int
	}{
		{"none", audit.Query{}, want(func(int, row) bool { return true })},
		{"actor", audit.Query{Actor: "bob"}, want(func(_ int, r row) bool { return r.actor == "bob" })},
		{"action", audit.Query{Action: "pause"}, want(func(_ int, r row) bool { return r.action == "pause" })},
		{"actor and action", audit.Query{Actor: "alice", Action: "pause"},
			want(func(_ int, r row) bool { return r.actor == "alice" && r.action == "pause" })},
		{"since, inclusive", audit.Query{Since: base.Add(8 * time.Minute)}, want(func(i int, _ row) bool { return i >= 8 })},
		{"since in another zone", audit.Query{Since: base.Add(8 * time.Minute).In(time.FixedZone("X", -5*3600))},
			want(func(i int, _ row) bool { return i >= 8 })},
		{"since between entries", audit.Query{Since: base.Add(8*time.Minute + time.Microsecond)}, want(func(i int, _ row) bool { return i >= 9 })},
		{"since and actor", audit.Query{Since: base.Add(5 * time.Minute), Actor: "alice"},
			want(func(i int, r row) bool { return i >= 5 && r.actor == "alice" })},
		{"unknown actor", audit.Query{Actor: "carol"}, nil},
		{"actor is exact", audit.Query{Actor: "ali"}, nil},
		{"since after all", audit.Query{Since: base.Add(time.Hour)}, nil},
	}
	eachBackend(t, func(t *testing.T, uri string) {
		s := open(t, uri)
		for i, r := range rows {
			e := full(base.Add(time.Duration(i) * time.Minute))
			e.Actor, e.Action, e.Status = r.actor, r.action, 200+i
			record(t, s, e)
		}
		for _, c := range cases {
			got := list(t, s, c.q)
			var idx []int
			for _, e := range got {
				idx = append(idx, e.Status-200)
			}
			if !reflect.DeepEqual(idx, c.want) {
				t.Errorf("%s: entries %v, want %v", c.name, idx, c.want)
			}
			if n := count(t, s, c.q); n != int64(len(c.want)) {
				t.Errorf("%s: Count = %d, want %d", c.name, n, len(c.want))
			}
		}
		// Filters and the cursor together.
		first := list(t, s, audit.Query{Actor: "bob", Limit: 2})
		rest := list(t, s, audit.Query{Actor: "bob", BeforeID: first[1].ID})
		var statuses []int
		for _, e := range append(first, rest...) {
			statuses = append(statuses, e.Status)
		}
		if want := []int{211, 209, 207, 205, 203, 201}; !reflect.DeepEqual(statuses, want) {
			t.Errorf("bob in a page of 2 then the rest: statuses %v, want %v", statuses, want)
		}
	})
}

func TestQueryErrors(t *testing.T) {
	cases := []struct {
		q     audit.Query
		field string
		msg   string
	}{
		{audit.Query{Limit: -1}, "Limit", "audit log query: Limit: -1 is out of range (expected 1 to 500)"},
		{audit.Query{Limit: 501}, "Limit", "audit log query: Limit: 501 is out of range (expected 1 to 500)"},
		{audit.Query{BeforeID: -5}, "BeforeID", "audit log query: BeforeID: -5 is negative (expected an entry ID, or 0 for the newest)"},
	}
	s := open(t, backends[0].newURI(t))
	for _, c := range cases {
		got, err := s.List(context.Background(), c.q)
		var qe *audit.QueryError
		if !errors.As(err, &qe) || qe.Field != c.field || err.Error() != c.msg || got != nil {
			t.Errorf("List(%+v) = %v, %v; want a *QueryError on %s: %q", c.q, got, err, c.field, c.msg)
		}
	}
}

// TestConcurrentStores: two Stores (as two processes would) open a new database together and write it at
// once; every entry lands exactly once, with its own ID.
func TestConcurrentStores(t *testing.T) {
	const stores, writers, perWriter = 2, 4, 50 // 2 × 200 entries
	eachBackend(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		ss := make([]*audit.Store, stores)
		errs := make([]error, stores)
		var wg sync.WaitGroup
		for i := range ss {
			wg.Go(func() { ss[i], errs[i] = audit.Open(ctx, uri) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("store %d: %v", i, err)
			}
			t.Cleanup(func() { ss[i].Close() })
		}
		werrs := make(chan error, stores*writers*perWriter)
		for i, s := range ss {
			for w := range writers {
				wg.Go(func() {
					for n := range perWriter {
						e := full(time.Time{})
						e.Actor, e.Action = fmt.Sprintf("store%d", i), fmt.Sprintf("w%d-%02d", w, n)
						if err := s.Record(ctx, e); err != nil {
							werrs <- err
						}
					}
				})
			}
		}
		wg.Wait()
		close(werrs)
		for err := range werrs {
			t.Error(err)
		}
		if n := count(t, ss[0], audit.Query{}); n != stores*writers*perWriter {
			t.Fatalf("Count = %d, want %d", n, stores*writers*perWriter)
		}
		ids := map[int64]bool{}
		keys := map[string]int{}
		var before int64
		for {
			page := list(t, ss[1], audit.Query{Limit: audit.MaxLimit, BeforeID: before})
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				if ids[e.ID] {
					t.Errorf("ID %d appears twice", e.ID)
				}
				ids[e.ID] = true
				keys[e.Actor+"/"+e.Action]++
			}
			before = page[len(page)-1].ID
		}
		for i := range stores {
			for w := range writers {
				for n := range perWriter {
					if k := fmt.Sprintf("store%d/w%d-%02d", i, w, n); keys[k] != 1 {
						t.Errorf("entry %s listed %d times, want once", k, keys[k])
					}
				}
			}
		}
		if len(ids) != stores*writers*perWriter {
			t.Errorf("%d distinct IDs, want %d", len(ids), stores*writers*perWriter)
		}
	})
}

// TestOpenConcurrently: processes starting together on a new database all open it (the table is created
// once; on Postgres, CREATE TABLE IF NOT EXISTS alone is not safe against that race).
func TestOpenConcurrently(t *testing.T) {
	const n = 8
	eachBackend(t, func(t *testing.T, uri string) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				s, err := audit.Open(context.Background(), uri)
				if err == nil {
					err = s.Record(context.Background(), full(time.Time{}))
					s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("open %d: %v", i, err)
			}
		}
		if c := count(t, open(t, uri), audit.Query{}); c != n {
			t.Errorf("Count = %d, want %d", c, n)
		}
	})
}

func TestReopen(t *testing.T) {
	at := time.Date(2025, 2, 3, 4, 5, 6, 7000, time.UTC)
	eachBackend(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s, err := audit.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		record(t, s, full(at))
		first := list(t, s, audit.Query{})
		for i := range 2 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close %d: %v", i+1, err)
			}
		}
		if err := s.Record(ctx, full(at)); err == nil {
			t.Error("Record after Close succeeded")
		}

		s = open(t, uri)
		if got := list(t, s, audit.Query{}); !reflect.DeepEqual(got, first) {
			t.Fatalf("after reopening: %+v, want %+v", got, first)
		}
		record(t, s, full(at))
		got := list(t, s, audit.Query{})
		if len(got) != 2 || got[0].ID <= first[0].ID || !reflect.DeepEqual(got[1], first[0]) {
			t.Errorf("after a second entry: %+v", got)
		}
	})
}

func TestOpenRelativeSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := open(t, "sqlite://state/nested/catalog.db")
	record(t, s, full(time.Time{}))
	if _, err := os.Stat(filepath.Join(dir, "state", "nested", "catalog.db")); err != nil {
		t.Fatalf("the relative path is not under the working directory: %v", err)
	}
	s.Close()
	if n := count(t, open(t, "sqlite://"+filepath.Join(dir, "state/nested/catalog.db")), audit.Query{}); n != 1 {
		t.Errorf("the absolute path sees %d entries, want 1", n)
	}
}

func TestOpenBadURI(t *testing.T) {
	const needs = "the audit log needs a SQLite database (sqlite://PATH) or a Postgres one (postgres://user@host:port/db)"
	cases := []struct {
		uri, want string
	}{
		{"mysql://root:hunter22@db:3306/bf", `opening the audit log: unsupported database URI "mysql://root:xxxxx@db:3306/bf": ` + needs},
		{"http://catalog:8181/api", `opening the audit log: unsupported database URI "http://catalog:8181/api": ` + needs},
		{"catalog.db", `opening the audit log: unsupported database URI "catalog.db": ` + needs},
		{"", "opening the audit log: the database URI is empty (the audit log needs a SQLite database, sqlite://PATH, or a Postgres one, postgres://user@host:port/db)"},
		{"sqlite://", `opening the audit log: database URI "sqlite://" has no path (expected sqlite://PATH)`},
	}
	for _, c := range cases {
		s, err := audit.Open(context.Background(), c.uri)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.uri)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Open(%q):\n got %s\nwant %s", c.uri, err, c.want)
		}
	}
}

// TestPostgresUnreachable: nothing listens at the URI's port; the error names the URI without its password.
func TestPostgresUnreachable(t *testing.T) {
	port, err := testpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const password = "s3cret-Pa55"
	uri := fmt.Sprintf("postgres://bigfather:%s@127.0.0.1:%d/platform?sslmode=disable&connect_timeout=5", password, port)
	_, err = audit.Open(context.Background(), uri)
	if err == nil {
		t.Fatal("Open succeeded with nothing listening")
	}
	want := fmt.Sprintf("opening the audit log: catalog.uri postgres://bigfather:xxxxx@127.0.0.1:%d/platform?sslmode=disable&connect_timeout=5: cannot reach the Postgres server at 127.0.0.1:%d: ", port, port)
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, password) {
		t.Errorf("error:\n got %s\nwant it to start with %s and hold no password", msg, want)
	}
}

// TestPostgresRefused: a wrong password, from the URI or from PGPASSWORD, is refused, and no message shows it.
func TestPostgresRefused(t *testing.T) {
	srv := testpg.Shared(t)
	db := srv.CreateDatabase(t)
	const wrong = "not-the-password"
	u := srv.URI(db)
	withWrong := strings.Replace(u, ":"+srv.Password+"@", ":"+wrong+"@", 1)
	wantCause := fmt.Sprintf(`the Postgres server at %s:%d refused the password of user %q`, srv.Host, srv.Port, srv.User)
	cases := []struct {
		name, uri, env, shown string
	}{
		{"in the URI", withWrong, "", strings.Replace(u, ":"+srv.Password+"@", ":xxxxx@", 1)},
		{"from PGPASSWORD", srv.URIWithoutPassword(db), wrong, srv.URIWithoutPassword(db)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", c.env)
			_, err := audit.Open(context.Background(), c.uri)
			if err == nil {
				t.Fatal("Open succeeded with a wrong password")
			}
			want := "opening the audit log: catalog.uri " + c.shown + ": " + wantCause
			if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, wrong) || strings.Contains(msg, srv.Password) {
				t.Errorf("error:\n got %s\nwant it to start with %s and hold no password", msg, want)
			}
		})
	}
}

// TestPostgresExistingTable: a role that may write the table but not create anything opens a database where
// the table exists.
func TestPostgresExistingTable(t *testing.T) {
	srv := testpg.Shared(t)
	db := srv.CreateDatabase(t)
	open(t, srv.URI(db)).Close() // creates the table as the owner
	ctx := context.Background()
	role := "writer_" + db
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD 'writer-pass'",
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"GRANT SELECT, INSERT ON " + audit.Table + " TO " + role,
		"GRANT USAGE ON SEQUENCE " + audit.Table + "_id_seq TO " + role,
	} {
		if err := srv.Exec(ctx, db, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	uri := strings.Replace(srv.URI(db), srv.User+":"+srv.Password+"@", role+":writer-pass@", 1)
	s := open(t, uri)
	record(t, s, full(time.Time{}))
	if n := count(t, s, audit.Query{}); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}

func BenchmarkRecordSQLite(b *testing.B) {
	s := open(b, "sqlite://"+filepath.Join(b.TempDir(), "catalog.db"))
	e := full(time.Time{})
	ctx := context.Background()
	for b.Loop() {
		if err := s.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
