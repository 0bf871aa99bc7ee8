package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
	"github.com/bigfather/bigfather/internal/testpg"
)

// The Postgres tests share one throwaway server (internal/testpg).
func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// databases returns a function per database kind that makes a fresh database and returns its URI.
func databases() map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "catalog.db") },
		"postgres": func(t *testing.T) string {
			srv := testpg.Shared(t)
			return srv.URI(srv.CreateDatabase(t))
		},
	}
}

// eachDB runs fn on a fresh SQLite database and a fresh Postgres one.
func eachDB(t *testing.T, fn func(t *testing.T, uri string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		mk := databases()[name]
		t.Run(name, func(t *testing.T) { fn(t, mk(t)) })
	}
}

func open(t *testing.T, uri string) *Store {
	t.Helper()
	s, err := Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reg is a registration of an Avro record named name (its canonical form is its text here: the store does
// not parse).
func reg(subject, name string, refs ...schema.Reference) Registration {
	text := fmt.Sprintf(`{"type":"record","name":%q,"fields":[]}`, name)
	return Registration{Subject: subject, Type: schema.Avro, Text: text, Canonical: text, References: refs}
}

func mustRegister(t *testing.T, s *Store, r Registration) Version {
	t.Helper()
	v, _, err := s.Register(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantCode fails unless err carries the Confluent code.
func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want code %d", what, code)
		return
	}
	if got := CodeOf(err); got != code {
		t.Errorf("%s: error %q has code %d, want %d", what, err, got, code)
	}
}

func TestIDsStableAcrossReopen(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		a := open(t, uri)
		v1 := mustRegister(t, a, reg("orders-value", "Order"))
		v2 := mustRegister(t, a, reg("users-value", "User"))
		if v1.ID != 1 || v2.ID != 2 || v1.Version != 1 || v2.Version != 1 {
			t.Fatalf("first registrations: %+v, %+v; want ids 1 and 2, version 1", v1, v2)
		}
		a.Close()

		b := open(t, uri)
		// The same schema under another subject, after a reopen, keeps its id; a new schema gets the next.
		again, created, err := b.Register(ctx, reg("orders-copy", "Order"))
		if err != nil || !created || again.ID != 1 || again.Version != 1 {
			t.Errorf("Order under a second subject = %+v, created %v, %v; want id 1, version 1, created", again, created, err)
		}
		same, created, err := b.Register(ctx, reg("orders-value", "Order"))
		if err != nil || created || same.ID != 1 || same.Version != 1 {
			t.Errorf("Order again under its subject = %+v, created %v, %v; want id 1, version 1, not created", same, created, err)
		}
		if v3 := mustRegister(t, b, reg("orders-value", "Order2")); v3.ID != 3 || v3.Version != 2 {
			t.Errorf("a new schema = id %d version %d, want id 3 version 2", v3.ID, v3.Version)
		}
		got, err := b.Schema(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := (Schema{ID: 2, Type: schema.Avro, Text: reg("", "User").Text, Canonical: reg("", "User").Canonical}); !reflect.DeepEqual(got, want) {
			t.Errorf("Schema(2) = %+v, want %+v", got, want)
		}
		svs, err := b.SubjectVersions(ctx, 1, false)
		if want := []SubjectVersion{{"orders-copy", 1}, {"orders-value", 1}}; err != nil || !reflect.DeepEqual(svs, want) {
			t.Errorf("SubjectVersions(1) = %v, %v; want %v", svs, err, want)
		}
		_, err = b.Schema(ctx, 99)
		wantCode(t, "Schema(99)", err, CodeSchemaNotFound)
		_, err = b.SubjectVersions(ctx, 99, false)
		wantCode(t, "SubjectVersions(99)", err, CodeSchemaNotFound)
	})
}

// The raw text kept is the text first registered: a later registration with another text of the same
// canonical form gets the same id and does not change it.
func TestFirstTextKept(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		s := open(t, uri)
		r := reg("a", "A")
		first := mustRegister(t, s, r)
		r2 := r
		r2.Subject, r2.Text = "b", " "+r.Text+"\n"
		second := mustRegister(t, s, r2)
		if second.ID != first.ID || second.Text != r.Text {
			t.Errorf("second registration = id %d text %q, want id %d text %q", second.ID, second.Text, first.ID, r.Text)
		}
		bad := r
		bad.Type = "XML"
		if _, _, err := s.Register(context.Background(), bad); err == nil {
			t.Error("registering a schema of type XML succeeded")
		}
		// Another type with the same canonical text is another schema.
		r3 := r
		r3.Type = schema.JSON
		if v := mustRegister(t, s, r3); v.ID == first.ID {
			t.Errorf("JSON schema with the Avro schema's text got the same id %d", v.ID)
		}
	})
}

func TestConcurrentRegister(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		stores := []*Store{open(t, uri), open(t, uri)} // two processes on one database
		const workers = 8
		type result struct {
			v   Version
			err error
		}
		results := make([]result, workers*3)
		var wg sync.WaitGroup
		for i := range workers {
			s := stores[i%2]
			wg.Go(func() {
				// The same new schema under one subject, under a subject of its own, and a schema of its own.
				v, _, err := s.Register(ctx, reg("shared", "Same"))
				results[3*i] = result{v, err}
				v, _, err = s.Register(ctx, reg(fmt.Sprintf("own-%d", i), "Same"))
				results[3*i+1] = result{v, err}
				v, _, err = s.Register(ctx, reg("mixed", fmt.Sprintf("Own%d", i)))
				results[3*i+2] = result{v, err}
			})
		}
		wg.Wait()
		sameID := results[0].v.ID
		ids := map[int]bool{}
		versions := map[int]bool{}
		for i, r := range results {
			if r.err != nil {
				t.Fatalf("registration %d: %v", i, r.err)
			}
			switch i % 3 {
			case 0, 1:
				if r.v.ID != sameID || r.v.Version != 1 {
					t.Errorf("registration %d of the shared schema under %s = id %d version %d, want id %d version 1", i, r.v.Subject, r.v.ID, r.v.Version, sameID)
				}
			case 2:
				if ids[r.v.ID] || r.v.ID == sameID {
					t.Errorf("schema Own%d got id %d, already given", i/3, r.v.ID)
				}
				ids[r.v.ID] = true
				versions[r.v.Version] = true
			}
		}
		if len(versions) != workers {
			t.Errorf("subject mixed got versions %v, want %d distinct", versions, workers)
		}
		got, err := stores[1].Versions(ctx, "shared", true)
		if err != nil || !reflect.DeepEqual(got, []int{1}) {
			t.Errorf("versions of shared = %v, %v; want [1]", got, err)
		}
		got, err = stores[0].Versions(ctx, "mixed", false)
		if err != nil || len(got) != workers || got[0] != 1 || got[workers-1] != workers {
			t.Errorf("versions of mixed = %v, %v; want 1..%d", got, err, workers)
		}
	})
}

func TestVersionsAndDeletes(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		for _, name := range []string{"V1", "V2", "V3"} {
			mustRegister(t, s, reg("sub", name))
		}
		mustRegister(t, s, reg("other", "O"))

		step := func(what string, err error, code int) {
			t.Helper()
			if code == 0 {
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return
			}
			wantCode(t, what, err, code)
		}
		versions := func(what string, deleted bool, want []int) {
			t.Helper()
			got, err := s.Versions(ctx, "sub", deleted)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Versions(deleted=%v) = %v, %v; want %v", what, deleted, got, err, want)
			}
		}
		latest := func(what string, deleted bool, want int) {
			t.Helper()
			v, err := s.Version(ctx, "sub", Latest, deleted)
			if err != nil || v.Version != want {
				t.Errorf("%s: latest (deleted=%v) = %d, %v; want %d", what, deleted, v.Version, err, want)
			}
		}

		latest("start", false, 3)
		_, err := s.DeleteVersion(ctx, "sub", 2, true)
		step("permanent delete of live version 2", err, CodeVersionNotSoftDeleted)
		if !errors.Is(err, ErrSoftDeleteFirst) {
			t.Errorf("permanent delete of live version 2: %v is not ErrSoftDeleteFirst", err)
		}
		v, err := s.DeleteVersion(ctx, "sub", Latest, false)
		step("soft delete of latest", err, 0)
		if v != 3 {
			t.Errorf("soft delete of latest deleted version %d, want 3", v)
		}
		latest("after deleting 3", false, 2)
		latest("after deleting 3", true, 3)
		versions("after deleting 3", false, []int{1, 2})
		versions("after deleting 3", true, []int{1, 2, 3})
		_, err = s.Version(ctx, "sub", 3, false)
		step("reading soft-deleted version 3", err, CodeVersionNotFound)
		if got, err := s.Version(ctx, "sub", 3, true); err != nil || !got.Deleted || got.Text != reg("", "V3").Text {
			t.Errorf("reading version 3 with deleted = %+v, %v; want it, deleted", got, err)
		}
		_, err = s.DeleteVersion(ctx, "sub", 3, false)
		step("soft delete of soft-deleted version 3", err, CodeVersionSoftDeleted)
		_, err = s.Version(ctx, "sub", 7, true)
		step("reading version 7", err, CodeVersionNotFound)
		_, err = s.DeleteVersion(ctx, "sub", 7, false)
		step("deleting version 7", err, CodeVersionNotFound)
		_, err = s.Version(ctx, "nope", 1, true)
		step("reading a missing subject", err, CodeSubjectNotFound)
		_, err = s.Version(ctx, "sub", 0, true)
		step("reading version 0", err, CodeInvalidVersion)
		_, err = s.DeleteVersion(ctx, "sub", -2, false)
		step("deleting version -2", err, CodeInvalidVersion)

		// A new version continues after the soft-deleted 3; registering deleted V3 again is a new version.
		if v := mustRegister(t, s, reg("sub", "V4")); v.Version != 4 {
			t.Errorf("registering after soft-deleting 3 gave version %d, want 4", v.Version)
		}
		v3again := mustRegister(t, s, reg("sub", "V3"))
		if v3again.Version != 5 || v3again.ID != 3 {
			t.Errorf("V3 registered again = version %d id %d, want version 5 id 3", v3again.Version, v3again.ID)
		}
		_, err = s.DeleteVersion(ctx, "sub", 3, true)
		step("permanent delete of soft-deleted version 3", err, 0)
		versions("after removing 3", true, []int{1, 2, 4, 5})

		// The whole subject.
		_, err = s.DeleteSubject(ctx, "sub", true)
		step("permanent delete of a live subject", err, CodeSubjectNotSoftDeleted)
		if !errors.Is(err, ErrSoftDeleteFirst) {
			t.Errorf("permanent delete of a live subject: %v is not ErrSoftDeleteFirst", err)
		}
		got, err := s.DeleteSubject(ctx, "sub", false)
		if err != nil || !reflect.DeepEqual(got, []int{1, 2, 4, 5}) {
			t.Errorf("soft delete of sub = %v, %v; want [1 2 4 5]", got, err)
		}
		_, err = s.DeleteSubject(ctx, "sub", false)
		step("soft delete of a soft-deleted subject", err, CodeSubjectSoftDeleted)
		_, err = s.Versions(ctx, "sub", false)
		step("versions of a soft-deleted subject", err, CodeSubjectNotFound)
		_, err = s.Version(ctx, "sub", Latest, false)
		step("latest of a soft-deleted subject", err, CodeSubjectNotFound)
		versions("soft-deleted subject", true, []int{1, 2, 4, 5})
		if subs, err := s.Subjects(ctx, "", false); err != nil || !reflect.DeepEqual(subs, []string{"other"}) {
			t.Errorf("Subjects() = %v, %v; want [other]", subs, err)
		}
		if subs, err := s.Subjects(ctx, "", true); err != nil || !reflect.DeepEqual(subs, []string{"other", "sub"}) {
			t.Errorf("Subjects(deleted) = %v, %v; want [other sub]", subs, err)
		}
		if v := mustRegister(t, s, reg("sub", "V6")); v.Version != 6 {
			t.Errorf("registering under the soft-deleted subject gave version %d, want 6", v.Version)
		}
		_, err = s.DeleteVersion(ctx, "sub", 6, false)
		step("soft delete of 6", err, 0)
		got, err = s.DeleteSubject(ctx, "sub", true)
		if err != nil || !reflect.DeepEqual(got, []int{1, 2, 4, 5, 6}) {
			t.Errorf("permanent delete of sub = %v, %v; want [1 2 4 5 6]", got, err)
		}
		_, err = s.Versions(ctx, "sub", true)
		step("versions of a removed subject", err, CodeSubjectNotFound)
		_, err = s.DeleteSubject(ctx, "sub", false)
		step("deleting a removed subject", err, CodeSubjectNotFound)
		// The schemas keep their ids.
		if v := mustRegister(t, s, reg("sub", "V2")); v.ID != 2 || v.Version != 1 {
			t.Errorf("V2 after the subject was removed = id %d version %d, want id 2 version 1", v.ID, v.Version)
		}
	})
}

func TestSubjectsPrefixAndLookup(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		for _, r := range []Registration{reg("orders-value", "A"), reg("orders-key", "K"), reg("users-value", "A"), reg("orders-value", "B")} {
			mustRegister(t, s, r)
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"", []string{"orders-key", "orders-value", "users-value"}},
			{"orders-", []string{"orders-key", "orders-value"}},
			{"users", []string{"users-value"}},
			{"x", []string{}},
		} {
			got, err := s.Subjects(ctx, c.prefix, false)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("Subjects(%q) = %v, %v; want %v", c.prefix, got, err, c.want)
			}
		}

		a := reg("", "A")
		for _, c := range []struct {
			subject   string
			canonical string
			typ       schema.Type
			deleted   bool
			wantVer   int
			wantID    int
			wantCode  int
		}{
			{"orders-value", a.Canonical, schema.Avro, false, 1, 1, 0},
			{"users-value", a.Canonical, "", false, 1, 1, 0}, // empty type is Avro
			{"orders-value", reg("", "B").Canonical, schema.Avro, false, 2, 3, 0},
			{"orders-key", a.Canonical, schema.Avro, false, 0, 0, CodeSchemaNotFound},
			{"orders-value", a.Canonical, schema.JSON, false, 0, 0, CodeSchemaNotFound},
			{"nope", a.Canonical, schema.Avro, false, 0, 0, CodeSubjectNotFound},
		} {
			v, err := s.Lookup(ctx, Registration{Subject: c.subject, Type: c.typ, Canonical: c.canonical}, c.deleted)
			if c.wantCode != 0 {
				wantCode(t, "Lookup in "+c.subject, err, c.wantCode)
				continue
			}
			if err != nil || v.Version != c.wantVer || v.ID != c.wantID {
				t.Errorf("Lookup(%s, %s) = version %d id %d, %v; want version %d id %d", c.subject, c.typ, v.Version, v.ID, err, c.wantVer, c.wantID)
			}
		}
		// A soft-deleted version is found only with deleted.
		if _, err := s.DeleteVersion(ctx, "orders-value", 1, false); err != nil {
			t.Fatal(err)
		}
		_, err := s.Lookup(ctx, Registration{Subject: "orders-value", Type: schema.Avro, Canonical: a.Canonical}, false)
		wantCode(t, "Lookup of a soft-deleted version", err, CodeSchemaNotFound)
		if v, err := s.Lookup(ctx, Registration{Subject: "orders-value", Type: schema.Avro, Canonical: a.Canonical}, true); err != nil || v.Version != 1 || !v.Deleted {
			t.Errorf("Lookup of a soft-deleted version with deleted = %+v, %v; want version 1, deleted", v, err)
		}
	})
}

func TestReferences(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		addr := mustRegister(t, s, reg("address", "Address"))
		mustRegister(t, s, reg("address", "Address2"))
		ref := schema.Reference{Name: "com.example.Address", Subject: "address", Version: 1}
		user := mustRegister(t, s, reg("user", "User", ref))
		if !reflect.DeepEqual(user.References, []schema.Reference{ref}) {
			t.Errorf("registered references = %+v, want [%+v]", user.References, ref)
		}
		// The same text with other references is another schema.
		other := mustRegister(t, s, reg("user2", "User", schema.Reference{Name: "com.example.Address", Subject: "address", Version: 2}))
		if other.ID == user.ID {
			t.Errorf("the same text with another reference got the same id %d", other.ID)
		}
		// Lookup needs the references too.
		if _, err := s.Lookup(ctx, Registration{Subject: "user", Type: schema.Avro, Canonical: user.Canonical}, false); CodeOf(err) != CodeSchemaNotFound {
			t.Errorf("Lookup without the references: %v, want code %d", err, CodeSchemaNotFound)
		}
		if v, err := s.Lookup(ctx, Registration{Subject: "user", Type: schema.Avro, Canonical: user.Canonical, References: []schema.Reference{ref}}, false); err != nil || v.ID != user.ID {
			t.Errorf("Lookup with the references = %+v, %v; want id %d", v, err, user.ID)
		}
		got, err := s.Version(ctx, "user", 1, false)
		if err != nil || !reflect.DeepEqual(got.References, []schema.Reference{ref}) {
			t.Errorf("Version(user, 1).References = %+v, %v", got.References, err)
		}
		by, err := s.ReferencedBy(ctx, "address", 1)
		if err != nil || !reflect.DeepEqual(by, []int{user.ID}) {
			t.Errorf("ReferencedBy(address, 1) = %v, %v; want [%d]", by, err, user.ID)
		}
		if by, err := s.ReferencedBy(ctx, "user", 1); err != nil || !reflect.DeepEqual(by, []int{}) {
			t.Errorf("ReferencedBy(user, 1) = %v, %v; want []", by, err)
		}
		_, err = s.ReferencedBy(ctx, "address", 9)
		wantCode(t, "ReferencedBy(address, 9)", err, CodeVersionNotFound)

		// A referenced version, or its subject, cannot be deleted.
		_, err = s.DeleteVersion(ctx, "address", 1, false)
		wantCode(t, "deleting referenced address 1", err, CodeReferenceExists)
		var re *ReferencedError
		if !errors.As(err, &re) || !reflect.DeepEqual(re.By, []int{user.ID}) || !errors.Is(err, ErrReferenced) {
			t.Errorf("deleting referenced address 1: %v, want a *ReferencedError by [%d]", err, user.ID)
		}
		_, err = s.DeleteSubject(ctx, "address", false)
		wantCode(t, "deleting subject address", err, CodeReferenceExists)
		if vs, err := s.Versions(ctx, "address", false); err != nil || !reflect.DeepEqual(vs, []int{1, 2}) {
			t.Errorf("address after refused deletes: %v, %v; want [1 2]", vs, err)
		}
		// Once the referencing versions are deleted, it can be.
		if _, err := s.DeleteSubject(ctx, "user", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteSubject(ctx, "user2", false); err != nil {
			t.Fatal(err)
		}
		if by, err := s.ReferencedBy(ctx, "address", 1); err != nil || len(by) != 0 {
			t.Errorf("ReferencedBy(address, 1) after deleting user = %v, %v; want []", by, err)
		}
		if v, err := s.DeleteVersion(ctx, "address", 1, false); err != nil || v != addr.Version {
			t.Errorf("deleting address 1 = %d, %v", v, err)
		}
		// A reference to a missing or soft-deleted version is refused.
		_, _, err = s.Register(ctx, reg("user3", "User3", schema.Reference{Name: "x", Subject: "address", Version: 1}))
		wantCode(t, "a reference to a soft-deleted version", err, CodeVersionNotFound)
		_, _, err = s.Register(ctx, reg("user3", "User3", schema.Reference{Name: "x", Subject: "nope", Version: 1}))
		wantCode(t, "a reference to a missing subject", err, CodeSubjectNotFound)
	})
}

func TestConfig(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		check := func(what, subject string, defaultToGlobal bool, want schema.Level, code int) {
			t.Helper()
			got, err := s.Config(ctx, subject, defaultToGlobal)
			if code != 0 {
				wantCode(t, what, err, code)
				return
			}
			if err != nil || got != want {
				t.Errorf("%s: Config(%q, %v) = %q, %v; want %q", what, subject, defaultToGlobal, got, err, want)
			}
		}
		check("default", "", false, schema.Backward, 0)
		check("default", "s", true, schema.Backward, 0)
		check("default", "s", false, "", CodeSubjectConfigNotSet)
		if err := s.SetConfig(ctx, "", schema.Full); err != nil {
			t.Fatal(err)
		}
		if err := s.SetConfig(ctx, "s", schema.None); err != nil {
			t.Fatal(err)
		}
		if err := s.SetConfig(ctx, "s", schema.ForwardTransitive); err != nil {
			t.Fatal(err)
		}
		if err := s.SetConfig(ctx, "s", "SIDEWAYS"); err == nil {
			t.Error("SetConfig(SIDEWAYS) succeeded")
		}
		check("set", "", false, schema.Full, 0)
		check("set", "s", false, schema.ForwardTransitive, 0)
		check("set", "t", true, schema.Full, 0)
		if prev, err := s.DeleteConfig(ctx, "s"); err != nil || prev != schema.ForwardTransitive {
			t.Errorf("DeleteConfig(s) = %q, %v; want FORWARD_TRANSITIVE", prev, err)
		}
		check("deleted", "s", true, schema.Full, 0)
		check("deleted", "s", false, "", CodeSubjectConfigNotSet)
		_, err := s.DeleteConfig(ctx, "s")
		wantCode(t, "DeleteConfig of an unset subject", err, CodeSubjectConfigNotSet)
		if prev, err := s.DeleteConfig(ctx, ""); err != nil || prev != schema.Full {
			t.Errorf("DeleteConfig(global) = %q, %v; want FULL", prev, err)
		}
		check("global deleted", "", false, schema.Backward, 0)
	})
}

func TestMode(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		if m, err := s.Mode(ctx, "", false); err != nil || m != ReadWrite {
			t.Errorf("global mode = %q, %v; want READWRITE", m, err)
		}
		_, err := s.Mode(ctx, "s", false)
		wantCode(t, "mode of s without default", err, CodeSubjectModeNotSet)
		mustRegister(t, s, reg("s", "A"))

		// READONLY on a subject refuses its writes, not others'.
		if err := s.SetMode(ctx, "s", ReadOnly, false); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Register(ctx, reg("s", "B"))
		wantCode(t, "register in READONLY", err, CodeOperationNotPermitted)
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("register in READONLY: %v is not ErrReadOnly", err)
		}
		_, err = s.DeleteVersion(ctx, "s", 1, false)
		wantCode(t, "delete in READONLY", err, CodeOperationNotPermitted)
		_, err = s.DeleteSubject(ctx, "s", false)
		wantCode(t, "delete subject in READONLY", err, CodeOperationNotPermitted)
		mustRegister(t, s, reg("t", "B"))
		if m, err := s.Mode(ctx, "t", true); err != nil || m != ReadWrite {
			t.Errorf("mode of t = %q, %v; want READWRITE", m, err)
		}
		// Global READONLY covers subjects without their own mode.
		if err := s.SetMode(ctx, "", ReadOnly, false); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Register(ctx, reg("t", "C"))
		wantCode(t, "register under global READONLY", err, CodeOperationNotPermitted)
		if prev, err := s.DeleteMode(ctx, ""); err != nil || prev != ReadOnly {
			t.Errorf("DeleteMode(global) = %q, %v; want READONLY", prev, err)
		}
		if prev, err := s.DeleteMode(ctx, "s"); err != nil || prev != ReadOnly {
			t.Errorf("DeleteMode(s) = %q, %v; want READONLY", prev, err)
		}
		mustRegister(t, s, reg("s", "B"))
		if err := s.SetMode(ctx, "s", "SIDEWAYS", false); err == nil {
			t.Error("SetMode(SIDEWAYS) succeeded")
		}

		// An explicit id needs IMPORT mode; IMPORT needs an empty subject unless forced.
		imp := reg("imported", "I")
		imp.ID, imp.Version = 100, 7
		_, _, err = s.Register(ctx, imp)
		wantCode(t, "explicit id in READWRITE", err, CodeOperationNotPermitted)
		err = s.SetMode(ctx, "s", Import, false)
		wantCode(t, "IMPORT on a subject with versions", err, CodeOperationNotPermitted)
		err = s.SetMode(ctx, "", Import, false)
		wantCode(t, "global IMPORT with subjects", err, CodeOperationNotPermitted)
		if err := s.SetMode(ctx, "imported", Import, false); err != nil {
			t.Fatal(err)
		}
		if v, created, err := s.Register(ctx, imp); err != nil || !created || v.ID != 100 || v.Version != 7 {
			t.Errorf("import = %+v, created %v, %v; want id 100 version 7", v, created, err)
		}
		if v, created, err := s.Register(ctx, imp); err != nil || created || v.ID != 100 || v.Version != 7 {
			t.Errorf("import again = %+v, created %v, %v; want id 100 version 7, not created", v, created, err)
		}
		// Ids after an imported one continue above it.
		if v := mustRegister(t, s, reg("t", "After")); v.ID != 101 {
			t.Errorf("the next id after importing 100 = %d, want 101", v.ID)
		}
		for _, c := range []struct {
			what string
			r    Registration
		}{
			{"id of a different schema", func() Registration { r := reg("imported", "J"); r.ID, r.Version = 100, 8; return r }()},
			{"schema that has another id", func() Registration { r := reg("imported", "A"); r.ID, r.Version = 200, 8; return r }()},
			{"version of a different schema", func() Registration { r := reg("imported", "J"); r.ID, r.Version = 201, 7; return r }()},
		} {
			_, _, err := s.Register(ctx, c.r)
			wantCode(t, "import with the "+c.what, err, CodeIDDoesNotMatch)
		}
		// Without an id, IMPORT mode assigns as usual.
		if v := mustRegister(t, s, reg("imported", "K")); v.Version != 8 || v.ID != 102 {
			t.Errorf("import without id = version %d id %d, want version 8 id 102", v.Version, v.ID)
		}
		if err := s.SetMode(ctx, "s", Import, true); err != nil {
			t.Errorf("forced IMPORT: %v", err)
		}
	})
}

// Soft deleting a subject, or its last live version, drops its own compatibility level and mode; IMPORT mode
// then needs no force.
func TestSoftDeleteDropsSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		set := func(subject string) {
			t.Helper()
			if err := s.SetConfig(ctx, subject, schema.Full); err != nil {
				t.Fatal(err)
			}
			if err := s.SetMode(ctx, subject, ReadWrite, false); err != nil {
				t.Fatal(err)
			}
		}
		settings := func(what, subject string, want bool) {
			t.Helper()
			_, errC := s.Config(ctx, subject, false)
			_, errM := s.Mode(ctx, subject, false)
			if (errC == nil) != want || (errM == nil) != want {
				t.Errorf("%s: config of %s: %v, mode: %v; want set: %v", what, subject, errC, errM, want)
			}
		}
		mustRegister(t, s, reg("a", "A1"))
		mustRegister(t, s, reg("a", "A2"))
		mustRegister(t, s, reg("b", "B1"))
		set("a")
		set("b")
		if _, err := s.DeleteVersion(ctx, "a", 1, false); err != nil {
			t.Fatal(err)
		}
		settings("a live version left", "a", true)
		if _, err := s.DeleteVersion(ctx, "a", 2, false); err != nil {
			t.Fatal(err)
		}
		settings("last version deleted", "a", false)
		if _, err := s.DeleteSubject(ctx, "b", false); err != nil {
			t.Fatal(err)
		}
		settings("subject deleted", "b", false)
		if err := s.SetMode(ctx, "a", Import, false); err != nil {
			t.Errorf("IMPORT on a subject with only soft-deleted versions: %v", err)
		}
	})
}

func TestCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{&NotFoundError{What: "subject", Subject: "s"}, 40401},
		{&NotFoundError{What: "version", Subject: "s", Version: 2}, 40402},
		{&NotFoundError{What: "schema", ID: 3}, 40403},
		{&SoftDeletedError{Subject: "s"}, 40404},
		{&SoftDeleteFirstError{Subject: "s"}, 40405},
		{&SoftDeletedError{Subject: "s", Version: 1}, 40406},
		{&SoftDeleteFirstError{Subject: "s", Version: 1}, 40407},
		{&NotConfiguredError{Subject: "s", What: "compatibility"}, 40408},
		{&NotConfiguredError{Subject: "s", What: "mode"}, 40409},
		{&NotPermittedError{Subject: "s", Mode: ReadOnly}, 42205},
		{&ReferencedError{Subject: "s", Version: 1}, 42206},
		{&IDMismatchError{}, 42207},
		{&InvalidVersionError{Version: 0}, 42202},
		{fmt.Errorf("wrapped: %w", &NotFoundError{What: "version"}), 40402},
		{errors.New("disk full"), 50001},
	} {
		if got := CodeOf(c.err); got != c.code {
			t.Errorf("CodeOf(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}
