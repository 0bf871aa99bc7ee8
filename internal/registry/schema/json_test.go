package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	confJSON        = "Confluent, JSON Schema compatibility rules: "
	jOpenAdd        = confJSON + "a property added to an open content model is incompatible unless the writer's content model already allows it (PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL)"
	jClosedAdd      = confJSON + "a property added to a closed content model is compatible (PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL is not an error)"
	jOpenRemove     = confJSON + "a property removed from an open content model is compatible (PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL)"
	jClosedRemove   = confJSON + "a property removed from a closed content model is incompatible (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL)"
	jPartialOpen    = confJSON + "a property covered by the other side's partially open content model (additionalProperties or patternProperties schema) must match it (PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL)"
	jRequiredAdd    = confJSON + "adding a required property is incompatible (REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL), unless it has a default (REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL)"
	jRequiredRemove = confJSON + "removing a required property is compatible (REQUIRED_ATTRIBUTE_REMOVED)"
	jTypeNarrow     = confJSON + "narrowing a type (number to integer, a type removed from a type list) is incompatible (TYPE_NARROWED, TYPE_CHANGED)"
	jTypeWiden      = confJSON + "widening a type (integer to number, a type added to a type list) is compatible (TYPE_EXTENDED)"
	jMaxBound       = confJSON + "an upper bound (maxLength, maximum, exclusiveMaximum, maxItems, maxProperties) added or decreased is incompatible, removed or increased is compatible (MAX_*_ADDED, MAX_*_DECREASED)"
	jMinBound       = confJSON + "a lower bound (minLength, minimum, exclusiveMinimum, minItems, minProperties) added or increased is incompatible, removed or decreased is compatible (MIN_*_ADDED, MIN_*_INCREASED)"
	jPattern        = confJSON + "a pattern added or changed is incompatible, removed is compatible (PATTERN_ADDED, PATTERN_CHANGED)"
	jMultipleOf     = confJSON + "multipleOf added, or changed to a value that does not divide the old one, is incompatible (MULTIPLE_OF_ADDED, MULTIPLE_OF_CHANGED, MULTIPLE_OF_EXPANDED)"
	jEnum           = confJSON + "an enum added or narrowed is incompatible, extended or removed is compatible (ENUM_ARRAY_NARROWED, ENUM_ARRAY_EXTENDED)"
	jAdditional     = confJSON + "closing the content model (additionalProperties false) is incompatible, opening it is compatible (ADDITIONAL_PROPERTIES_REMOVED, ADDITIONAL_PROPERTIES_ADDED)"
	jItems          = confJSON + "array items are compared as schemas; tuple items follow the content model rules with additionalItems (ITEM_ADDED_TO_OPEN_CONTENT_MODEL, ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL)"
	jUnique         = confJSON + "uniqueItems added is incompatible, removed is compatible (UNIQUE_ITEMS_ADDED)"
	jSum            = confJSON + "a oneOf/anyOf branch added is compatible, removed is incompatible (SUM_TYPE_EXTENDED, SUM_TYPE_NARROWED); a schema becoming a branch of a sum is compatible (SINGLE_SCHEMA_EXTENDED_TO_SUM_TYPE)"
	jProduct        = confJSON + "an allOf subschema added is incompatible, removed is compatible (PRODUCT_TYPE_EXTENDED, PRODUCT_TYPE_NARROWED)"
	jNot            = confJSON + "not added is incompatible (NOT_TYPE_EXTENDED)"
	jRef            = confJSON + "$ref targets are compared like inline schemas"
	jDeps           = confJSON + "dependencies added or changed are incompatible (DEPENDENCY_ARRAY_ADDED, DEPENDENCY_SCHEMA_ADDED)"
	jAnnot          = confJSON + "annotations (title, description, default) do not affect compatibility"
)

// jobj writes an object schema with the given properties JSON and extra keywords.
func jobj(props, extra string) string {
	s := fmt.Sprintf(`{"type":"object","properties":{%s}`, props)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestJSONCompatibility(t *testing.T) {
	open1 := jobj(`"id":{"type":"integer"}`, "")
	open2 := jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, "")
	closed1 := jobj(`"id":{"type":"integer"}`, `"additionalProperties":false`)
	closed2 := jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, `"additionalProperties":false`)
	prop := func(s string) string { return jobj(`"x":`+s, "") }
	cases := []compatCase{
		{name: "identical", rule: confFull, level: FullTransitive, old: []string{open2}, new: open2, wantCompatible: true},
		{name: "none", rule: confNone, level: None, old: []string{open1}, new: `{"type":"string"}`, wantCompatible: true},
		{name: "annotations only", rule: jAnnot, level: Full, old: []string{open1}, new: jobj(`"id":{"type":"integer","description":"the id","title":"Id"}`, `"title":"T"`), wantCompatible: true},
		{name: "add property to open model", rule: jOpenAdd, level: Backward, old: []string{open1}, new: open2,
			wantMessageContains: `the new schema cannot read data written with the previous version: at #/properties/name: the reader adds property "name", which the writer's open content model allows with any value`},
		{name: "add unconstrained property to open model", rule: jOpenAdd, level: Backward, old: []string{open1}, new: jobj(`"id":{"type":"integer"},"name":{}`, ""), wantCompatible: true},
		{name: "add property to closed model", rule: jClosedAdd, level: Backward, old: []string{closed1}, new: closed2, wantCompatible: true},
		{name: "add property to closed model forward", rule: jClosedRemove, level: Forward, old: []string{closed1}, new: closed2,
			wantMessageContains: `the previous version cannot read data written with the new schema: at #/properties/name: the reader removes property "name" from its closed content model`},
		{name: "remove property from open model", rule: jOpenRemove, level: Backward, old: []string{open2}, new: open1, wantCompatible: true},
		{name: "remove property from open model forward", rule: jOpenAdd, level: Forward, old: []string{open2}, new: open1,
			wantMessageContains: `at #/properties/name: the reader adds property "name", which the writer's open content model allows with any value`},
		{name: "remove property from closed model", rule: jClosedRemove, level: Backward, old: []string{closed2}, new: closed1,
			wantMessageContains: `at #/properties/name: the reader removes property "name" from its closed content model`},
		{name: "full add property to closed model", rule: confFull, level: Full, old: []string{closed1}, new: closed2, wantMessageContains: `removes property "name"`},
		{name: "add property covered by additionalProperties schema", rule: jPartialOpen, level: Backward,
			old: []string{jobj(`"id":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`)}, new: jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, `"additionalProperties":{"type":"string"}`), wantCompatible: true},
		{name: "add property not covered by additionalProperties schema", rule: jPartialOpen, level: Backward,
			old: []string{jobj(`"id":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`)}, new: jobj(`"id":{"type":"integer"},"n":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`),
			wantMessageContains: `at #/properties/n: the reader adds property "n", which the writer's additional or pattern properties allow with values the reader does not accept`},
		{name: "add property covered by patternProperties", rule: jPartialOpen, level: Backward,
			old: []string{jobj(`"id":{"type":"integer"}`, `"patternProperties":{"^s_":{"type":"string"}}`)}, new: jobj(`"id":{"type":"integer"},"s_name":{"type":"string"}`, `"patternProperties":{"^s_":{"type":"string"}}`), wantCompatible: true},
		{name: "remove property covered by additionalProperties schema", rule: jPartialOpen, level: Backward,
			old: []string{jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, `"additionalProperties":{"type":"string"}`)}, new: jobj(`"id":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`), wantCompatible: true},
		{name: "remove property not covered by additionalProperties schema", rule: jPartialOpen, level: Backward,
			old: []string{jobj(`"id":{"type":"integer"},"n":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`)}, new: jobj(`"id":{"type":"integer"}`, `"additionalProperties":{"type":"string"}`),
			wantMessageContains: `the reader removes property "n", and its additional or pattern properties do not accept the writer's values`},
		{name: "add required property", rule: jRequiredAdd, level: Backward, old: []string{open2}, new: jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, `"required":["name"]`),
			wantMessageContains: `at #/required: the reader requires property "name", which the writer does not require`},
		{name: "add required property with default", rule: jRequiredAdd, level: Backward, old: []string{open2}, new: jobj(`"id":{"type":"integer"},"name":{"type":"string","default":""}`, `"required":["name"]`), wantCompatible: true},
		{name: "remove required property", rule: jRequiredRemove, level: Backward, old: []string{jobj(`"id":{"type":"integer"}`, `"required":["id"]`)}, new: open1, wantCompatible: true},
		{name: "remove required property forward", rule: jRequiredAdd, level: Forward, old: []string{jobj(`"id":{"type":"integer"}`, `"required":["id"]`)}, new: open1,
			wantMessageContains: `the reader requires property "id", which the writer does not require`},
		{name: "integer to number", rule: jTypeWiden, level: Backward, old: []string{prop(`{"type":"integer"}`)}, new: prop(`{"type":"number"}`), wantCompatible: true},
		{name: "number to integer", rule: jTypeNarrow, level: Backward, old: []string{prop(`{"type":"number"}`)}, new: prop(`{"type":"integer"}`),
			wantMessageContains: `at #/properties/x: the reader narrows the type from "number" to "integer"`},
		{name: "integer to number forward", rule: jTypeNarrow, level: Forward, old: []string{prop(`{"type":"integer"}`)}, new: prop(`{"type":"number"}`), wantMessageContains: `narrows the type from "number" to "integer"`},
		{name: "string to integer", rule: jTypeNarrow, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"integer"}`),
			wantMessageContains: `at #/properties/x: the writer's type "string" is not accepted by the reader's type "integer"`},
		{name: "type list extended", rule: jTypeWiden, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":["string","null"]}`), wantCompatible: true},
		{name: "type list narrowed", rule: jTypeNarrow, level: Backward, old: []string{prop(`{"type":["string","null"]}`)}, new: prop(`{"type":"string"}`),
			wantMessageContains: `the writer's type "null" is not accepted by the reader's type "string"`},
		{name: "type removed", rule: jTypeWiden, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{}`), wantCompatible: true},
		{name: "type added", rule: jTypeNarrow, level: Backward, old: []string{prop(`{}`)}, new: prop(`{"type":"string"}`),
			wantMessageContains: `the reader restricts the type to "string" where the writer allows any type`},
		{name: "maxLength added", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","maxLength":10}`), wantMessageContains: "at #/properties/x: the reader adds maxLength 10"},
		{name: "maxLength decreased", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"string","maxLength":10}`)}, new: prop(`{"type":"string","maxLength":5}`), wantMessageContains: "the reader decreases maxLength from 10 to 5"},
		{name: "maxLength increased", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"string","maxLength":5}`)}, new: prop(`{"type":"string","maxLength":10}`), wantCompatible: true},
		{name: "maxLength removed", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"string","maxLength":5}`)}, new: prop(`{"type":"string"}`), wantCompatible: true},
		{name: "minLength added", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","minLength":1}`), wantMessageContains: "the reader adds minLength 1"},
		{name: "minLength increased", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"string","minLength":1}`)}, new: prop(`{"type":"string","minLength":3}`), wantMessageContains: "the reader increases minLength from 1 to 3"},
		{name: "minLength decreased", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"string","minLength":3}`)}, new: prop(`{"type":"string","minLength":1}`), wantCompatible: true},
		{name: "maximum decreased", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"number","maximum":100}`)}, new: prop(`{"type":"number","maximum":99.5}`), wantMessageContains: "the reader decreases maximum from 100 to 199/2"},
		{name: "maximum increased", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"number","maximum":100}`)}, new: prop(`{"type":"number","maximum":1000}`), wantCompatible: true},
		{name: "minimum added", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"number"}`)}, new: prop(`{"type":"number","minimum":0}`), wantMessageContains: "the reader adds minimum 0"},
		{name: "minimum decreased", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"number","minimum":0}`)}, new: prop(`{"type":"number","minimum":-10}`), wantCompatible: true},
		{name: "exclusiveMaximum added", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"number"}`)}, new: prop(`{"type":"number","exclusiveMaximum":5}`), wantMessageContains: "the reader adds exclusiveMaximum 5"},
		{name: "exclusiveMinimum removed", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"number","exclusiveMinimum":5}`)}, new: prop(`{"type":"number"}`), wantCompatible: true},
		{name: "bounds relaxed forward", rule: jMaxBound, level: Forward, old: []string{prop(`{"type":"string","maxLength":5}`)}, new: prop(`{"type":"string","maxLength":10}`), wantMessageContains: "the previous version cannot read data written with the new schema: at #/properties/x: the reader decreases maxLength from 10 to 5"},
		{name: "maxItems added", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":"array"}`)}, new: prop(`{"type":"array","maxItems":3}`), wantMessageContains: "the reader adds maxItems 3"},
		{name: "minItems removed", rule: jMinBound, level: Backward, old: []string{prop(`{"type":"array","minItems":1}`)}, new: prop(`{"type":"array"}`), wantCompatible: true},
		{name: "maxProperties decreased", rule: jMaxBound, level: Backward, old: []string{`{"type":"object","maxProperties":5}`}, new: `{"type":"object","maxProperties":2}`, wantMessageContains: "at #: the reader decreases maxProperties from 5 to 2"},
		{name: "minProperties added", rule: jMinBound, level: Backward, old: []string{`{"type":"object"}`}, new: `{"type":"object","minProperties":1}`, wantMessageContains: "the reader adds minProperties 1"},
		{name: "pattern added", rule: jPattern, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","pattern":"^a"}`), wantMessageContains: `the reader adds pattern "^a"`},
		{name: "pattern changed", rule: jPattern, level: Backward, old: []string{prop(`{"type":"string","pattern":"^a"}`)}, new: prop(`{"type":"string","pattern":"^b"}`), wantMessageContains: `the reader changes pattern from "^a" to "^b"`},
		{name: "pattern removed", rule: jPattern, level: Backward, old: []string{prop(`{"type":"string","pattern":"^a"}`)}, new: prop(`{"type":"string"}`), wantCompatible: true},
		{name: "format added", rule: jPattern, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","format":"email"}`), wantMessageContains: `the reader adds format "email"`},
		{name: "multipleOf added", rule: jMultipleOf, level: Backward, old: []string{prop(`{"type":"number"}`)}, new: prop(`{"type":"number","multipleOf":2}`), wantMessageContains: "the reader adds multipleOf 2"},
		{name: "multipleOf divides", rule: jMultipleOf, level: Backward, old: []string{prop(`{"type":"number","multipleOf":4}`)}, new: prop(`{"type":"number","multipleOf":2}`), wantCompatible: true},
		{name: "multipleOf does not divide", rule: jMultipleOf, level: Backward, old: []string{prop(`{"type":"number","multipleOf":4}`)}, new: prop(`{"type":"number","multipleOf":3}`),
			wantMessageContains: "the reader changes multipleOf from 4 to 3, which does not divide it"},
		{name: "multipleOf removed", rule: jMultipleOf, level: Backward, old: []string{prop(`{"type":"number","multipleOf":4}`)}, new: prop(`{"type":"number"}`), wantCompatible: true},
		{name: "enum extended", rule: jEnum, level: Backward, old: []string{prop(`{"enum":["a","b"]}`)}, new: prop(`{"enum":["a","b","c"]}`), wantCompatible: true},
		{name: "enum narrowed", rule: jEnum, level: Backward, old: []string{prop(`{"enum":["a","b"]}`)}, new: prop(`{"enum":["a"]}`), wantMessageContains: `at #/properties/x: the writer's enum value "b" is missing from the reader's enum`},
		{name: "enum added", rule: jEnum, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","enum":["a"]}`), wantMessageContains: `the reader adds "enum" ["a"]`},
		{name: "enum removed", rule: jEnum, level: Backward, old: []string{prop(`{"type":"string","enum":["a"]}`)}, new: prop(`{"type":"string"}`), wantCompatible: true},
		{name: "enum extended forward", rule: jEnum, level: Forward, old: []string{prop(`{"enum":["a","b"]}`)}, new: prop(`{"enum":["a","b","c"]}`), wantMessageContains: `the writer's enum value "c" is missing`},
		{name: "const to enum", rule: jEnum, level: Backward, old: []string{prop(`{"const":"a"}`)}, new: prop(`{"enum":["a","b"]}`), wantCompatible: true},
		{name: "const changed", rule: jEnum, level: Backward, old: []string{prop(`{"const":"a"}`)}, new: prop(`{"const":"b"}`), wantMessageContains: `the reader adds or changes "const" to "b"`},
		{name: "additionalProperties closed", rule: jAdditional, level: Backward, old: []string{open1}, new: closed1,
			wantMessageContains: "at #/additionalProperties: the reader closes the content model (additionalProperties false) that the writer leaves open"},
		{name: "additionalProperties opened", rule: jAdditional, level: Backward, old: []string{closed1}, new: open1, wantCompatible: true},
		{name: "additionalProperties narrowed", rule: jAdditional, level: Backward, old: []string{jobj("", `"additionalProperties":{"type":"number"}`)}, new: jobj("", `"additionalProperties":{"type":"integer"}`),
			wantMessageContains: "at #/additionalProperties: the reader narrows additionalProperties"},
		{name: "additionalProperties widened", rule: jAdditional, level: Backward, old: []string{jobj("", `"additionalProperties":{"type":"integer"}`)}, new: jobj("", `"additionalProperties":{"type":"number"}`), wantCompatible: true},
		{name: "array items widened", rule: jItems, level: Backward, old: []string{prop(`{"type":"array","items":{"type":"integer"}}`)}, new: prop(`{"type":"array","items":{"type":"number"}}`), wantCompatible: true},
		{name: "array items narrowed", rule: jItems, level: Backward, old: []string{prop(`{"type":"array","items":{"type":"number"}}`)}, new: prop(`{"type":"array","items":{"type":"integer"}}`),
			wantMessageContains: `at #/properties/x/items: the reader narrows the type from "number" to "integer"`},
		{name: "array items added", rule: jItems, level: Backward, old: []string{prop(`{"type":"array"}`)}, new: prop(`{"type":"array","items":{"type":"string"}}`),
			wantMessageContains: `at #/properties/x/items: the reader restricts the type to "string" where the writer allows any type`},
		{name: "tuple item added to open tuple", rule: jItems, level: Backward, old: []string{`{"type":"array","items":[{"type":"string"}]}`}, new: `{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`,
			wantMessageContains: "at #/items/1: the reader adds item 1, which the writer's open tuple allows with values the reader does not accept"},
		{name: "tuple item added to closed tuple", rule: jItems, level: Backward, old: []string{`{"type":"array","items":[{"type":"string"}],"additionalItems":false}`},
			new: `{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`, wantCompatible: true},
		{name: "tuple item removed from closed tuple", rule: jItems, level: Backward, old: []string{`{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`},
			new: `{"type":"array","items":[{"type":"string"}],"additionalItems":false}`, wantMessageContains: "at #/items/1: the reader removes item 1 from its closed tuple"},
		{name: "tuple item removed from open tuple", rule: jItems, level: Backward, old: []string{`{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`},
			new: `{"type":"array","items":[{"type":"string"}]}`, wantCompatible: true},
		{name: "uniqueItems added", rule: jUnique, level: Backward, old: []string{prop(`{"type":"array"}`)}, new: prop(`{"type":"array","uniqueItems":true}`), wantMessageContains: "the reader adds uniqueItems"},
		{name: "uniqueItems removed", rule: jUnique, level: Backward, old: []string{prop(`{"type":"array","uniqueItems":true}`)}, new: prop(`{"type":"array"}`), wantCompatible: true},
		{name: "oneOf branch added", rule: jSum, level: Backward, old: []string{prop(`{"oneOf":[{"type":"string"},{"type":"integer"}]}`)}, new: prop(`{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}`), wantCompatible: true},
		{name: "oneOf branch removed", rule: jSum, level: Backward, old: []string{prop(`{"oneOf":[{"type":"string"},{"type":"integer"}]}`)}, new: prop(`{"oneOf":[{"type":"string"}]}`),
			wantMessageContains: "at #/properties/x: the writer's oneOf branch 1 is accepted by no branch of the reader's oneOf"},
		{name: "anyOf branch added forward", rule: jSum, level: Forward, old: []string{prop(`{"anyOf":[{"type":"string"}]}`)}, new: prop(`{"anyOf":[{"type":"string"},{"type":"null"}]}`),
			wantMessageContains: "the writer's anyOf branch 1 is accepted by no branch of the reader's anyOf"},
		{name: "single schema to oneOf", rule: jSum, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"oneOf":[{"type":"string"},{"type":"null"}]}`), wantCompatible: true},
		{name: "oneOf to single schema", rule: jSum, level: Backward, old: []string{prop(`{"oneOf":[{"type":"string"},{"type":"null"}]}`)}, new: prop(`{"type":"string"}`),
			wantMessageContains: `the writer's oneOf branch 1 is not accepted by the reader: at #/properties/x: the writer's type "null" is not accepted by the reader's type "string"`},
		{name: "oneOf to type list", rule: jSum, level: Full, old: []string{prop(`{"oneOf":[{"type":"string"},{"type":"null"}]}`)}, new: prop(`{"type":["string","null"]}`), wantMessageContains: "accepted by no branch of the reader's oneOf"},
		{name: "anyOf to oneOf", rule: jSum, level: Backward, old: []string{prop(`{"anyOf":[{"type":"string"},{"type":"null"}]}`)}, new: prop(`{"oneOf":[{"type":"string"},{"type":"null"}]}`), wantMessageContains: "the reader changes anyOf to oneOf"},
		{name: "oneOf to anyOf", rule: jSum, level: Backward, old: []string{prop(`{"oneOf":[{"type":"string"},{"type":"null"}]}`)}, new: prop(`{"anyOf":[{"type":"string"},{"type":"null"}]}`), wantCompatible: true},
		{name: "allOf subschema added", rule: jProduct, level: Backward, old: []string{prop(`{"allOf":[{"type":"string"}]}`)}, new: prop(`{"allOf":[{"type":"string"},{"maxLength":4}]}`),
			wantMessageContains: "at #/properties/x/allOf/1: the reader adds maxLength 4"},
		{name: "allOf subschema removed", rule: jProduct, level: Backward, old: []string{prop(`{"allOf":[{"type":"string"},{"maxLength":4}]}`)}, new: prop(`{"allOf":[{"type":"string"}]}`), wantCompatible: true},
		{name: "not added", rule: jNot, level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`{"type":"string","not":{"const":"x"}}`), wantMessageContains: `at #/properties/x: the reader adds "not"`},
		{name: "not removed", rule: jNot, level: Backward, old: []string{prop(`{"type":"string","not":{"const":"x"}}`)}, new: prop(`{"type":"string"}`), wantCompatible: true},
		{name: "not widened", rule: jNot, level: Backward, old: []string{prop(`{"not":{"type":"string"}}`)}, new: prop(`{"not":{"type":"string","maxLength":2}}`), wantCompatible: true},
		{name: "not narrowed", rule: jNot, level: Backward, old: []string{prop(`{"not":{"type":"string","maxLength":2}}`)}, new: prop(`{"not":{"type":"string"}}`),
			wantMessageContains: `the reader's "not" excludes documents the writer's "not" allows`},
		{name: "local ref narrowed", rule: jRef, level: Backward,
			old: []string{`{"type":"object","properties":{"a":{"$ref":"#/definitions/A"}},"definitions":{"A":{"type":"number"}}}`},
			new: `{"type":"object","properties":{"a":{"$ref":"#/definitions/A"}},"definitions":{"A":{"type":"integer"}}}`, wantMessageContains: `at #/properties/a: the reader narrows the type from "number" to "integer"`},
		{name: "ref inlined", rule: jRef, level: Full,
			old: []string{`{"type":"object","properties":{"a":{"$ref":"#/$defs/A"}},"$defs":{"A":{"type":"number"}}}`}, new: `{"type":"object","properties":{"a":{"type":"number"}}}`, wantCompatible: true},
		{name: "recursive ref unchanged", rule: jRef, level: FullTransitive,
			old: []string{`{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#"}}}`}, new: `{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#"}},"title":"Node"}`, wantCompatible: true},
		{name: "dependencies added", rule: jDeps, level: Backward, old: []string{open2}, new: jobj(`"id":{"type":"integer"},"name":{"type":"string"}`, `"dependencies":{"name":["id"]}`),
			wantMessageContains: "the reader adds or changes dependencies"},
		{name: "nested property narrowed", rule: jTypeNarrow, level: Backward,
			old: []string{jobj(`"in":`+jobj(`"n":{"type":"number"}`, ""), "")}, new: jobj(`"in":`+jobj(`"n":{"type":"integer"}`, ""), ""),
			wantMessageContains: `at #/properties/in/properties/n: the reader narrows the type from "number" to "integer"`},
		{name: "false schema", rule: confJSON + "the false schema accepts nothing", level: Backward, old: []string{prop(`{"type":"string"}`)}, new: prop(`false`),
			wantMessageContains: "at #/properties/x: the reader's schema is false and accepts nothing"},
		{name: "object keywords added beside another type", rule: jTypeWiden, level: Backward, old: []string{prop(`{"type":"string"}`)},
			new: prop(`{"type":["string","object"],"properties":{"a":{"type":"integer"}},"required":["a"]}`), wantCompatible: true},
		{name: "string bounds added beside another type", rule: jTypeWiden, level: Backward, old: []string{prop(`{"type":"integer"}`)},
			new: prop(`{"type":["integer","string"],"maxLength":3,"pattern":"^a"}`), wantCompatible: true},
		{name: "string bounds added on a string", rule: jMaxBound, level: Backward, old: []string{prop(`{"type":["integer","string"]}`)},
			new: prop(`{"type":["integer","string"],"maxLength":3}`), wantMessageContains: "the reader adds maxLength 3"},
		{name: "backward transitive", rule: confTrans, level: BackwardTransitive, old: []string{prop(`{"type":"number"}`), prop(`{"type":"integer"}`)}, new: prop(`{"type":"integer","minimum":0}`),
			wantMessageContains: `previous version 1 of 2: at #/properties/x: the reader narrows the type from "number" to "integer"`},
		{name: "backward non-transitive", rule: confBackward, level: Backward, old: []string{prop(`{"type":"number"}`), prop(`{"type":"integer","minimum":0}`)}, new: prop(`{"type":"integer"}`), wantCompatible: true},
	}
	if len(cases) < 60 {
		t.Fatalf("the table has %d cases, want at least 60", len(cases))
	}
	runCompatCases(t, JSON, cases)
}

func TestJSONParse(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{name: "not JSON", text: `{"type":`, wantErr: "invalid schema: JSON Schema: not valid JSON at byte 8: unexpected end of JSON input"},
		{name: "bad type", text: `{"type":"strnig"}`, wantErr: "invalid schema: JSON Schema: the schema is not valid against metaschema"},
		{name: "bad minLength", text: `{"type":"string","minLength":-1}`, wantErr: "invalid schema: JSON Schema:"},
		{name: "unresolved ref", text: `{"$ref":"other.json"}`, wantErr: "invalid schema: JSON Schema:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(JSON, tc.text, nil, nil)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Parse() error = %v, want one wrapping ErrInvalid starting %q", err, tc.wantErr)
			}
		})
	}
	a, err := Parse(JSON, `{ "type": "object",  "properties": {"b": {"type":"string"}, "a": {"type": "integer"}} }`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(JSON, `{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}`
	if a.Canonical() != want || b.Canonical() != want {
		t.Fatalf("Canonical() = %s and %s, want %s", a.Canonical(), b.Canonical(), want)
	}
}

func TestJSONReferences(t *testing.T) {
	resolve := func(ref Reference) (string, []Reference, error) {
		switch ref.Subject {
		case "addr-v1":
			return `{"type":"object","properties":{"city":{"type":"number"}}}`, nil, nil
		case "addr-v2":
			return `{"type":"object","properties":{"city":{"type":"integer"}}}`, nil, nil
		}
		return "", nil, fmt.Errorf("subject %q not found", ref.Subject)
	}
	text := `{"type":"object","properties":{"addr":{"$ref":"address.json"}}}`
	old, err := Parse(JSON, text, []Reference{{Name: "address.json", Subject: "addr-v1", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with a reference: %v", err)
	}
	cand, err := Parse(JSON, text, []Reference{{Name: "address.json", Subject: "addr-v2", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with a reference: %v", err)
	}
	got := Check(Backward, cand, []Parsed{old})
	want := []string{`the new schema cannot read data written with the previous version: at #/properties/addr/properties/city: the reader narrows the type from "number" to "integer"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Check() = %q, want %q", got, want)
	}
	if got := Check(Forward, cand, []Parsed{old}); got != nil {
		t.Fatalf("Check(FORWARD) = %q, want compatible", got)
	}
	withID := `{"$id":"https://example.com/schemas/order.json","type":"object","properties":{"a":{"$ref":"address.json"},"b":{"$ref":"https://example.com/schemas/address.json#/properties/city"}}}`
	oldID, err := Parse(JSON, withID, []Reference{{Name: "address.json", Subject: "addr-v1", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with $id and a reference: %v", err)
	}
	candID, err := Parse(JSON, withID, []Reference{{Name: "address.json", Subject: "addr-v2", Version: 1}}, resolve)
	if err != nil {
		t.Fatalf("Parse() with $id and a reference: %v", err)
	}
	got = Check(Backward, candID, []Parsed{oldID})
	want = []string{
		`the new schema cannot read data written with the previous version: at #/properties/a/properties/city: the reader narrows the type from "number" to "integer"`,
		`the new schema cannot read data written with the previous version: at #/properties/b: the reader narrows the type from "number" to "integer"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Check() = %q, want %q", got, want)
	}
	_, err = Parse(JSON, text, []Reference{{Name: "address.json", Subject: "missing", Version: 1}}, resolve)
	if err == nil || err.Error() != `resolving reference "address.json" (subject "missing" version 1): subject "missing" not found` {
		t.Fatalf("Parse() with a missing reference: error = %v", err)
	}
}
