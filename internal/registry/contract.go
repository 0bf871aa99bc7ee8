package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Data contracts, in Confluent's model: a schema may carry metadata and a rule set. They belong to the schema
// (its id): the same schema text with other metadata or rules is another schema, with its own id, and a new
// version when registered under a subject. A registration that gives neither carries over those of the
// subject's latest version (outside IMPORT mode), as Confluent does.
//
// Consumers of the rules (the staging engine enforcing CEL domain rules) read them with Store.Schema (the
// schema a record's id names) or Store.Latest (a subject's latest version).

// Metadata is the metadata of a schema: tags on paths of the schema, free-form properties, and the names of
// sensitive properties. Tag lists and Sensitive are kept sorted and without duplicates.
type Metadata struct {
	// Tags maps a path in the schema (e.g. "Order.email") to its tags (e.g. "PII").
	Tags map[string][]string `json:"tags,omitempty"`
	// Properties are free-form key-value pairs (owner, team, ...).
	Properties map[string]string `json:"properties,omitempty"`
	// Sensitive names the properties whose values are sensitive.
	Sensitive []string `json:"sensitive,omitempty"`
}

// RuleSet is the rule set of a schema: migration rules (run between versions, modes UPGRADE, DOWNGRADE,
// UPDOWN) and domain rules (run on records, modes WRITE, READ, WRITEREAD), each in order.
type RuleSet struct {
	MigrationRules []Rule `json:"migrationRules,omitempty"`
	DomainRules    []Rule `json:"domainRules,omitempty"`
}

// Rule is one rule of a rule set.
type Rule struct {
	// Name identifies the rule within its list: a letter or _, then letters, digits or _.
	Name string `json:"name"`
	Doc  string `json:"doc,omitempty"`
	// Kind is RuleCondition or RuleTransform (the default).
	Kind string `json:"kind"`
	// Mode is when the rule runs: RuleWrite, RuleRead, RuleWriteRead (the default) for domain rules,
	// RuleUpgrade, RuleDowngrade, RuleUpDown for migration rules.
	Mode string `json:"mode"`
	// Type is the rule's executor, e.g. "CEL" (the expression is evaluated on the record) or "CEL_FIELD" (on
	// each field carrying one of Tags).
	Type string `json:"type"`
	// Tags are the tags of the fields a field-level rule applies to, sorted.
	Tags   []string          `json:"tags,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	// Expr is the rule's expression, e.g. a CEL boolean expression for a condition.
	Expr string `json:"expr,omitempty"`
	// OnSuccess and OnFailure are the actions taken after the rule: ActionNone, ActionError or ActionDLQ;
	// for modes WRITEREAD and UPDOWN, a pair "write-action,read-action" (e.g. "DLQ,NONE").
	OnSuccess string `json:"onSuccess,omitempty"`
	OnFailure string `json:"onFailure,omitempty"`
	// Disabled rules are kept but not run.
	Disabled bool `json:"disabled"`
}

// Rule kinds.
const (
	// RuleCondition checks a record: it passes or fails.
	RuleCondition = "CONDITION"
	// RuleTransform changes a record.
	RuleTransform = "TRANSFORM"
)

// Rule modes.
const (
	RuleWrite     = "WRITE"
	RuleRead      = "READ"
	RuleWriteRead = "WRITEREAD"
	RuleUpgrade   = "UPGRADE"
	RuleDowngrade = "DOWNGRADE"
	RuleUpDown    = "UPDOWN"
)

// Rule actions (OnSuccess, OnFailure).
const (
	// ActionNone does nothing.
	ActionNone = "NONE"
	// ActionError fails the record.
	ActionError = "ERROR"
	// ActionDLQ sends the record to the dead-letter destination (for Big Father: the rejected table).
	ActionDLQ = "DLQ"
)

// Enabled returns the domain rules that are not disabled, in order: those a consumer enforces.
func (rs *RuleSet) Enabled() []Rule {
	if rs == nil {
		return nil
	}
	var out []Rule
	for _, r := range rs.DomainRules {
		if !r.Disabled {
			out = append(out, r)
		}
	}
	return out
}

// normalized returns a copy of m in canonical form (sorted, deduplicated tag lists and sensitive names; no
// empty lists or maps), or nil when m carries nothing: empty metadata is no metadata.
func (m *Metadata) normalized() *Metadata {
	if m == nil {
		return nil
	}
	out := &Metadata{}
	if len(m.Tags) > 0 {
		for path, tags := range m.Tags {
			if tags = sortedSet(tags); tags != nil { // a path without tags is no tag
				if out.Tags == nil {
					out.Tags = map[string][]string{}
				}
				out.Tags[path] = tags
			}
		}
	}
	if len(m.Properties) > 0 {
		out.Properties = make(map[string]string, len(m.Properties))
		for k, v := range m.Properties {
			out.Properties[k] = v
		}
	}
	out.Sensitive = sortedSet(m.Sensitive)
	if out.Tags == nil && out.Properties == nil && out.Sensitive == nil {
		return nil
	}
	return out
}

// normalized returns a copy of rs in canonical form (kind and mode defaulted and upper-cased, actions
// upper-cased, rule tags sorted and deduplicated, empty params dropped), or nil when rs has no rules.
func (rs *RuleSet) normalized() *RuleSet {
	if rs == nil || len(rs.MigrationRules) == 0 && len(rs.DomainRules) == 0 {
		return nil
	}
	norm := func(rules []Rule) []Rule {
		if len(rules) == 0 {
			return nil
		}
		out := make([]Rule, len(rules))
		for i, r := range rules {
			r.Kind, r.Mode = strings.ToUpper(r.Kind), strings.ToUpper(r.Mode)
			if r.Kind == "" {
				r.Kind = RuleTransform
			}
			if r.Mode == "" {
				r.Mode = RuleWriteRead
			}
			r.OnSuccess, r.OnFailure = strings.ToUpper(r.OnSuccess), strings.ToUpper(r.OnFailure)
			r.Tags = sortedSet(r.Tags)
			if len(r.Params) == 0 {
				r.Params = nil
			} else {
				p := make(map[string]string, len(r.Params))
				for k, v := range r.Params {
					p[k] = v
				}
				r.Params = p
			}
			out[i] = r
		}
		return out
	}
	return &RuleSet{MigrationRules: norm(rs.MigrationRules), DomainRules: norm(rs.DomainRules)}
}

// sortedSet returns the strings sorted without duplicates, nil for none.
func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// Validate checks a (normalized) rule set as Confluent does: every rule has a valid name, unique in its
// list, and a type; kinds, modes and actions are known; migration rules have a migration mode and domain
// rules a domain mode. The error is an *InvalidRuleSetError naming the rule.
func (rs *RuleSet) Validate() error {
	if rs == nil {
		return nil
	}
	for _, list := range []struct {
		name   string
		rules  []Rule
		modes  []string
		expect string
	}{
		{"migrationRules", rs.MigrationRules, []string{RuleUpgrade, RuleDowngrade, RuleUpDown}, "UPGRADE, DOWNGRADE or UPDOWN"},
		{"domainRules", rs.DomainRules, []string{RuleWrite, RuleRead, RuleWriteRead}, "WRITE, READ or WRITEREAD"},
	} {
		seen := map[string]bool{}
		for i, r := range list.rules {
			if err := validateRuleName(r.Name); err != "" {
				return &InvalidRuleSetError{List: list.name, Index: i, Rule: r.Name, Reason: err}
			}
			bad := func(reason string) error {
				return &InvalidRuleSetError{List: list.name, Index: i, Rule: r.Name, Reason: reason}
			}
			if seen[r.Name] {
				return bad("the name is used by another rule of " + list.name)
			}
			seen[r.Name] = true
			kind, mode := strings.ToUpper(r.Kind), strings.ToUpper(r.Mode)
			if kind != "" && kind != RuleCondition && kind != RuleTransform {
				return bad(fmt.Sprintf("unknown kind %q (expected CONDITION or TRANSFORM)", r.Kind))
			}
			if mode == "" {
				mode = RuleWriteRead
			}
			if !slices.Contains(list.modes, mode) {
				if slices.Contains([]string{RuleUpgrade, RuleDowngrade, RuleUpDown, RuleWrite, RuleRead, RuleWriteRead}, mode) {
					return bad(fmt.Sprintf("mode %s is not allowed in %s (expected %s)", mode, list.name, list.expect))
				}
				return bad(fmt.Sprintf("unknown mode %q (expected %s)", r.Mode, list.expect))
			}
			if strings.TrimSpace(r.Type) == "" {
				return bad("missing rule type (e.g. CEL)")
			}
			for _, a := range []struct{ field, value string }{{"onSuccess", r.OnSuccess}, {"onFailure", r.OnFailure}} {
				if msg := validateAction(a.field, a.value, mode); msg != "" {
					return bad(msg)
				}
			}
		}
	}
	return nil
}

// validateRuleName returns why a rule name is invalid, or "".
func validateRuleName(name string) string {
	if name == "" {
		return "missing rule name"
	}
	for i, c := range name {
		if c == '_' || unicode.IsLetter(c) || i > 0 && unicode.IsDigit(c) {
			continue
		}
		if i == 0 {
			return fmt.Sprintf("illegal initial character %q in rule name (expected a letter or _)", c)
		}
		return fmt.Sprintf("illegal character %q in rule name (expected letters, digits or _)", c)
	}
	return ""
}

// validateAction returns why an onSuccess or onFailure value is invalid for a rule of the given mode, or "".
func validateAction(field, value, mode string) string {
	if value == "" {
		return ""
	}
	parts := strings.Split(strings.ToUpper(value), ",")
	if len(parts) > 2 || len(parts) == 2 && mode != RuleWriteRead && mode != RuleUpDown {
		return fmt.Sprintf("%s %q: a pair of actions needs mode WRITEREAD or UPDOWN, and at most two", field, value)
	}
	for _, p := range parts {
		switch strings.TrimSpace(p) {
		case ActionNone, ActionError, ActionDLQ:
		default:
			return fmt.Sprintf("unknown %s action %q (expected NONE, ERROR or DLQ)", field, strings.TrimSpace(p))
		}
	}
	return ""
}

// contractFingerprint identifies a schema with its contract: the base fingerprint (type, canonical form,
// references) alone when there is no metadata and no rule set, so that schemas registered without a
// contract keep the fingerprint they always had.
func contractFingerprint(base string, m *Metadata, rs *RuleSet) string {
	if m == nil && rs == nil {
		return base
	}
	h := sha256.New()
	h.Write([]byte(base))
	h.Write([]byte{0})
	h.Write(encodeContract(m))
	h.Write([]byte{0})
	h.Write(encodeContract(rs))
	return hex.EncodeToString(h.Sum(nil))
}

// encodeContract encodes normalized metadata or a rule set as stored (JSON with sorted map keys), "" for nil.
func encodeContract[T Metadata | RuleSet](v *T) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v) // plain strings, lists and maps always encode
	return b
}

// decodeContract decodes stored metadata or a rule set; empty is nil.
func decodeContract[T Metadata | RuleSet](s string) (*T, error) {
	if s == "" {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return nil, fmt.Errorf("decoding a stored data contract: %w", err)
	}
	return v, nil
}
