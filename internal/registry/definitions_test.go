package registry

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// jsonReg is a JSON Schema registration (the store does not parse: the canonical form is the text).
func jsonReg(subject, text string, refs ...schema.Reference) Registration {
	return Registration{Subject: subject, Type: schema.JSON, Text: text, Canonical: text, References: refs}
}

// TestDefinitions: the latest live version of every subject under the prefix, by subject name; subjects
// outside the prefix and deleted ones are left out.
func TestDefinitions(t *testing.T) {
	eachDB(t, func(t *testing.T, uri string) {
		ctx := context.Background()
		s := open(t, uri)
		const (
			login1  = `{"type":"object","properties":{"a":{"type":"string"}}}`
			login2  = `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`
			logout  = `{"type":"object","properties":{"c":{"type":"number"}}}`
			buy1    = `{"type":"object","properties":{"d":{"type":"string"}}}`
			buy2    = `{"type":"object","properties":{"d":{"type":"string"},"e":{"type":"string"}}}`
			outside = `{"type":"object","properties":{"x":{"type":"string"}}}`
		)
		mustRegister(t, s, jsonReg("game.definitions.login", login1))
		l2 := mustRegister(t, s, jsonReg("game.definitions.login", login2))
		lo := mustRegister(t, s, jsonReg("game.definitions.logout", logout))
		b1 := mustRegister(t, s, jsonReg("game.definitions.purchase", buy1))
		mustRegister(t, s, jsonReg("game.definitions.purchase", buy2))
		if _, err := s.DeleteVersion(ctx, "game.definitions.purchase", 2, false); err != nil {
			t.Fatal(err)
		}
		mustRegister(t, s, jsonReg("game.definitions.gone", outside))
		if _, err := s.DeleteSubject(ctx, "game.definitions.gone", false); err != nil {
			t.Fatal(err)
		}
		mustRegister(t, s, jsonReg("game.other", outside))
		mustRegister(t, s, reg("shop.definitions.order", "Order")) // Avro, but outside the prefix

		got, err := s.Definitions(ctx, "game.definitions.")
		if err != nil {
			t.Fatal(err)
		}
		want := []Definition{
			{Subject: "game.definitions.login", EventType: "login", Version: 2, ID: l2.ID, Schema: login2},
			{Subject: "game.definitions.logout", EventType: "logout", Version: 1, ID: lo.ID, Schema: logout},
			{Subject: "game.definitions.purchase", EventType: "purchase", Version: 1, ID: b1.ID, Schema: buy1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Definitions:\n got %+v\nwant %+v", got, want)
		}
		got, err = s.Definitions(ctx, "nothing.here.")
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("no subjects under the prefix: got %#v, %v; want an empty list", got, err)
		}
	})
}

// TestDefinitionsErrors: a subject under the prefix that cannot be a definition is an error naming it.
func TestDefinitionsErrors(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
		const ok = `{"type":"object","properties":{"a":{"type":"string"}}}`
		for _, tc := range []struct {
			name                  string
			regs                  []Registration
			prefix, subject, want string
		}{
			{"avro", []Registration{jsonReg("defs.login", ok), reg("defs.order", "Order")}, "defs.", "defs.order",
				`subject "defs.order" cannot be a log definition: its latest version (1) has schemaType AVRO; log definitions are JSON schemas (schemaType JSON)`},
			{"the prefix itself", []Registration{jsonReg("defs.", ok)}, "defs.", "defs.",
				`subject "defs." cannot be a log definition: its name is the prefix "defs." itself, without an event type after it`},
			{"references", []Registration{jsonReg("common", ok), jsonReg("defs.login", `{"$ref":"common.json"}`, schema.Reference{Name: "common.json", Subject: "common", Version: 1})},
				"defs.", "defs.login",
				`subject "defs.login" cannot be a log definition: its latest version (1) references other subjects (common version 1); a log definition is one self-contained schema ($ref only to its own #/$defs)`},
		} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				s := open(t, databases()[kind](t))
				for _, r := range tc.regs {
					mustRegister(t, s, r)
				}
				_, err := s.Definitions(ctx, tc.prefix)
				var de *DefinitionError
				if !errors.As(err, &de) || de.Subject != tc.subject || err.Error() != tc.want {
					t.Errorf("\n got %v\nwant %s (a *DefinitionError for %q)", err, tc.want, tc.subject)
				}
			})
		}
	}
}
