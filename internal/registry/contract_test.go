package registry

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// rules is a rule set of CEL domain conditions, one per expression, named r0, r1, ...
func rules(exprs ...string) *RuleSet {
	rs := &RuleSet{}
	for i, e := range exprs {
		rs.DomainRules = append(rs.DomainRules, Rule{Name: "r" + string(rune('0'+i)), Kind: RuleCondition, Mode: RuleWrite, Type: "CEL", Expr: e, OnFailure: ActionDLQ})
	}
	return rs
}

// TestContractsStored: what the staging engine reads (Schema by id, Latest by subject) carries the rule set;
// a contract is part of the schema's identity; one omitted is inherited; a contract survives a reopen.
func TestContractsStored(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		meta := &Metadata{Properties: map[string]string{"owner": "payments"}, Tags: map[string][]string{"Pay.email": {"PII"}}}
		r1 := reg("pay", "Pay")
		r1.Metadata, r1.RuleSet = meta, rules("message.amount > 0")
		v1 := mustRegister(t, s, r1)
		if v1.ID != 1 || v1.Version != 1 || !reflect.DeepEqual(v1.RuleSet, rules("message.amount > 0")) || !reflect.DeepEqual(v1.Metadata, meta) {
			t.Fatalf("first registration = %+v", v1)
		}

		// Without a contract: the latest version's is carried over, so it is the same schema.
		again, created, err := s.Register(ctx, reg("pay", "Pay"))
		if err != nil || created || again.ID != 1 || again.Version != 1 {
			t.Errorf("the same schema without contract = id %d version %d created %v, %v; want id 1 version 1, not created", again.ID, again.Version, created, err)
		}
		// The same text without a contract under another subject (nothing to inherit) is another schema.
		plain := mustRegister(t, s, reg("other", "Pay"))
		if plain.ID != 2 || plain.RuleSet != nil || plain.Metadata != nil {
			t.Errorf("Pay without contract under another subject = id %d, %+v, %+v; want id 2 without contract", plain.ID, plain.Metadata, plain.RuleSet)
		}
		// Another rule set: a new schema and version; the metadata is inherited.
		r2 := reg("pay", "Pay")
		r2.RuleSet = rules("message.amount > 0", "size(message.email) > 3")
		v2 := mustRegister(t, s, r2)
		if v2.ID != 3 || v2.Version != 2 || !reflect.DeepEqual(v2.Metadata, meta) {
			t.Errorf("a changed rule set = id %d version %d metadata %+v; want id 3 version 2 with the metadata inherited", v2.ID, v2.Version, v2.Metadata)
		}

		s.Close()
		s = open(t, uri)
		got, err := s.Schema(ctx, 1)
		want := Schema{ID: 1, Type: schema.Avro, Text: r1.Text, Canonical: r1.Canonical, Metadata: meta, RuleSet: rules("message.amount > 0")}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Schema(1) = %+v, %v; want %+v", got, err, want)
		}
		if got, err := s.Schema(ctx, 2); err != nil || got.Metadata != nil || got.RuleSet != nil {
			t.Errorf("Schema(2) = %+v, %v; want no contract", got, err)
		}
		latest, err := s.Latest(ctx, "pay")
		if err != nil || latest.Version != 2 || latest.ID != 3 || !reflect.DeepEqual(latest.RuleSet, r2.RuleSet) || len(latest.RuleSet.Enabled()) != 2 {
			t.Errorf("Latest(pay) = %+v, %v; want version 2, id 3, two rules", latest, err)
		}
		_, err = s.Latest(ctx, "nope")
		wantCode(t, "Latest of a missing subject", err, CodeSubjectNotFound)

		// Lookup: without a contract the newest version of the schema, with one only its exact match.
		for _, c := range []struct {
			name    string
			rs      *RuleSet
			meta    *Metadata
			wantVer int
			code    int
		}{
			{"no contract", nil, nil, 2, 0},
			{"first rules", rules("message.amount > 0"), nil, 1, 0},
			{"second rules and metadata", r2.RuleSet, meta, 2, 0},
			{"other rules", rules("false"), nil, 0, CodeSchemaNotFound},
			{"other metadata", nil, &Metadata{Sensitive: []string{"x"}}, 0, CodeSchemaNotFound},
		} {
			q := reg("pay", "Pay")
			q.RuleSet, q.Metadata = c.rs, c.meta
			v, err := s.Lookup(ctx, q, false)
			if c.code != 0 {
				wantCode(t, "Lookup with "+c.name, err, c.code)
			} else if err != nil || v.Version != c.wantVer {
				t.Errorf("Lookup with %s = version %d, %v; want version %d", c.name, v.Version, err, c.wantVer)
			}
		}
	})
}

// TestRegisterCheck: the Checker sees the versions its level compares with, read in the transaction; a
// refusal is a 409 that registers nothing and gives out no id.
func TestRegisterCheck(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		var seen [][]int
		check := func(refuse bool) Checker {
			return func(level schema.Level, previous []Version, resolve schema.Resolver) ([]string, error) {
				var vs []int
				for _, v := range previous {
					vs = append(vs, v.Version)
				}
				seen = append(seen, vs)
				if refuse {
					return []string{"field f: type changed"}, nil
				}
				return nil, nil
			}
		}
		for _, name := range []string{"A", "B", "C"} {
			r := reg("sub", name)
			r.Check = check(false)
			mustRegister(t, s, r)
		}
		r := reg("sub", "D")
		r.Check = check(true)
		_, _, err := s.Register(ctx, r)
		var inc *IncompatibleError
		if !errors.As(err, &inc) || CodeOf(err) != CodeIncompatible ||
			inc.Error() != `Schema being registered is incompatible with an earlier schema for subject "sub", details: [field f: type changed]` {
			t.Errorf("a refused registration: %v, want an *IncompatibleError", err)
		}
		if err := s.SetConfig(ctx, "sub", schema.FullTransitive); err != nil {
			t.Fatal(err)
		}
		r.Check = check(false)
		if v := mustRegister(t, s, r); v.ID != 4 || v.Version != 4 {
			t.Errorf("D after the refusal = id %d version %d, want id 4 version 4 (the refusal took no id)", v.ID, v.Version)
		}
		if err := s.SetConfig(ctx, "sub", schema.None); err != nil {
			t.Fatal(err)
		}
		e := reg("sub", "E")
		e.Check = check(true)
		mustRegister(t, s, e) // NONE: not called
		want := [][]int{{1}, {2}, {3}, {1, 2, 3}}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("the checker saw versions %v, want %v (nothing for the first version, the latest for BACKWARD, all for FULL_TRANSITIVE, nothing for NONE)", seen, want)
		}
		bad := reg("sub", "F")
		bad.RuleSet = &RuleSet{DomainRules: []Rule{{Name: "x", Type: "CEL", OnFailure: "PANIC"}}}
		_, _, err = s.Register(ctx, bad)
		wantCode(t, "a bad rule set", err, CodeInvalidRuleSet)
	})
}

func TestRuleSetValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		rs   RuleSet
		want string // "" for valid
	}{
		{"valid", RuleSet{DomainRules: []Rule{{Name: "_a1", Type: "CEL"}}, MigrationRules: []Rule{{Name: "up", Mode: "upgrade", Type: "JSONATA"}}}, ""},
		{"same name in both lists", RuleSet{DomainRules: []Rule{{Name: "a", Type: "CEL"}}, MigrationRules: []Rule{{Name: "a", Mode: RuleUpDown, Type: "JSONATA"}}}, ""},
		{"pair for UPDOWN", RuleSet{MigrationRules: []Rule{{Name: "a", Mode: RuleUpDown, Type: "JSONATA", OnSuccess: "NONE,NONE", OnFailure: "ERROR,DLQ"}}}, ""},
		{"unicode name", RuleSet{DomainRules: []Rule{{Name: "größe", Type: "CEL"}}}, ""},
		{"illegal character", RuleSet{DomainRules: []Rule{{Name: "a-b", Type: "CEL"}}},
			`Invalid ruleSet: rule "a-b" (domainRules[0]): illegal character '-' in rule name (expected letters, digits or _)`},
		{"three actions", RuleSet{DomainRules: []Rule{{Name: "a", Type: "CEL", OnSuccess: "NONE,NONE,NONE"}}},
			`Invalid ruleSet: rule "a" (domainRules[0]): onSuccess "NONE,NONE,NONE": a pair of actions needs mode WRITEREAD or UPDOWN, and at most two`},
		{"migration mode unknown", RuleSet{MigrationRules: []Rule{{Name: "a", Mode: "SIDEWAYS", Type: "JSONATA"}}},
			`Invalid ruleSet: rule "a" (migrationRules[0]): unknown mode "SIDEWAYS" (expected UPGRADE, DOWNGRADE or UPDOWN)`},
		{"migration without name", RuleSet{MigrationRules: []Rule{{Mode: RuleUpgrade, Type: "JSONATA"}}},
			`Invalid ruleSet: rule 0 of migrationRules: missing rule name`},
	} {
		err := c.rs.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestEmptyContractIsNone: empty metadata and an empty rule set are no contract, as Confluent hashes them.
func TestEmptyContractIsNone(t *testing.T) {
	for _, m := range []*Metadata{{}, {Tags: map[string][]string{"p": {}}}, {Properties: map[string]string{}, Sensitive: []string{}}} {
		if got := m.normalized(); got != nil {
			t.Errorf("normalized(%+v) = %+v, want nil", m, got)
		}
	}
	if got := (&RuleSet{DomainRules: []Rule{}}).normalized(); got != nil {
		t.Errorf("an empty rule set normalized = %+v, want nil", got)
	}
	s := open(t, "sqlite://"+t.TempDir()+"/catalog.db")
	plain := mustRegister(t, s, reg("a", "A"))
	r := reg("b", "A")
	r.Metadata, r.RuleSet = &Metadata{Tags: map[string][]string{"p": nil}}, &RuleSet{}
	if v := mustRegister(t, s, r); v.ID != plain.ID || v.Metadata != nil || v.RuleSet != nil {
		t.Errorf("A with an empty contract = id %d %+v %+v, want id %d without contract", v.ID, v.Metadata, v.RuleSet, plain.ID)
	}
}
