package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Confluent Schema Registry error codes the store's errors map to (the "error_code" of an API answer).
const (
	CodeSubjectNotFound       = 40401
	CodeVersionNotFound       = 40402
	CodeSchemaNotFound        = 40403
	CodeSubjectSoftDeleted    = 40404
	CodeSubjectNotSoftDeleted = 40405
	CodeVersionSoftDeleted    = 40406
	CodeVersionNotSoftDeleted = 40407
	CodeSubjectConfigNotSet   = 40408
	CodeSubjectModeNotSet     = 40409
	CodeInvalidVersion        = 42202
	CodeOperationNotPermitted = 42205
	CodeReferenceExists       = 42206
	CodeIDDoesNotMatch        = 42207
	CodeInvalidRuleSet        = 42210
	CodeStoreError            = 50001
)

// Coder is an error that knows its Confluent error code.
type Coder interface {
	error
	Code() int
}

// CodeOf returns the Confluent error code of err: the code of the first Coder in its chain, else 50001 (a
// store error).
func CodeOf(err error) int {
	var c Coder
	if errors.As(err, &c) {
		return c.Code()
	}
	return CodeStoreError
}

// NotFoundError reports a subject, version or schema that does not exist (or is soft-deleted and was not
// asked for with deleted=true).
type NotFoundError struct {
	// What is "subject", "version" or "schema".
	What    string
	Subject string
	Version int
	ID      int
}

func (e *NotFoundError) Error() string {
	switch e.What {
	case "version":
		return fmt.Sprintf("version %d of subject %q not found", e.Version, e.Subject)
	case "schema":
		return fmt.Sprintf("schema %d not found", e.ID)
	}
	return fmt.Sprintf("subject %q not found", e.Subject)
}

// Code returns 40401 (subject), 40402 (version) or 40403 (schema).
func (e *NotFoundError) Code() int {
	switch e.What {
	case "version":
		return CodeVersionNotFound
	case "schema":
		return CodeSchemaNotFound
	}
	return CodeSubjectNotFound
}

// SoftDeletedError reports a soft delete of a subject or version that is already soft-deleted.
type SoftDeletedError struct {
	Subject string
	// Version is 0 for the whole subject.
	Version int
}

func (e *SoftDeletedError) Error() string {
	if e.Version == 0 {
		return fmt.Sprintf("subject %q was soft deleted; set permanent=true to delete it permanently", e.Subject)
	}
	return fmt.Sprintf("version %d of subject %q was soft deleted; set permanent=true to delete it permanently", e.Version, e.Subject)
}

// Code returns 40404 (subject) or 40406 (version).
func (e *SoftDeletedError) Code() int {
	if e.Version == 0 {
		return CodeSubjectSoftDeleted
	}
	return CodeVersionSoftDeleted
}

// SoftDeleteFirstError reports a permanent delete of a subject or version that was not soft-deleted first.
type SoftDeleteFirstError struct {
	Subject string
	// Version is 0 for the whole subject.
	Version int
}

func (e *SoftDeleteFirstError) Error() string {
	if e.Version == 0 {
		return fmt.Sprintf("subject %q was not deleted first before being permanently deleted", e.Subject)
	}
	return fmt.Sprintf("version %d of subject %q was not deleted first before being permanently deleted", e.Version, e.Subject)
}

// Code returns 40405 (subject) or 40407 (version).
func (e *SoftDeleteFirstError) Code() int {
	if e.Version == 0 {
		return CodeSubjectNotSoftDeleted
	}
	return CodeVersionNotSoftDeleted
}

// ErrSoftDeleteFirst matches every *SoftDeleteFirstError with errors.Is.
var ErrSoftDeleteFirst = errors.New("must soft delete first")

// Is makes errors.Is(err, ErrSoftDeleteFirst) true.
func (e *SoftDeleteFirstError) Is(target error) bool { return target == ErrSoftDeleteFirst }

// NotConfiguredError reports a subject without its own compatibility level or mode, asked for without
// defaultToGlobal.
type NotConfiguredError struct {
	Subject string
	// What is "compatibility" or "mode".
	What string
}

func (e *NotConfiguredError) Error() string {
	return fmt.Sprintf("subject %q does not have subject-level %s configured", e.Subject, e.What)
}

// Code returns 40408 (compatibility) or 40409 (mode).
func (e *NotConfiguredError) Code() int {
	if e.What == "mode" {
		return CodeSubjectModeNotSet
	}
	return CodeSubjectConfigNotSet
}

// ReferencedError reports a delete of a version that other schemas reference.
type ReferencedError struct {
	Subject string
	Version int
	// By are the ids of the schemas that reference it.
	By []int
}

func (e *ReferencedError) Error() string {
	return fmt.Sprintf("version %d of subject %q is referenced by schemas %v and cannot be deleted", e.Version, e.Subject, e.By)
}

// Code returns 42206.
func (e *ReferencedError) Code() int { return CodeReferenceExists }

// ErrReferenced matches every *ReferencedError with errors.Is.
var ErrReferenced = errors.New("schema version is referenced")

// Is makes errors.Is(err, ErrReferenced) true.
func (e *ReferencedError) Is(target error) bool { return target == ErrReferenced }

// NotPermittedError reports an operation the subject's mode forbids: a write in READONLY mode, an explicit
// id outside IMPORT mode, switching to IMPORT mode while schemas exist.
type NotPermittedError struct {
	Subject string
	Mode    Mode
	Reason  string
}

func (e *NotPermittedError) Error() string {
	if e.Subject == "" {
		return fmt.Sprintf("operation not permitted in mode %s: %s", e.Mode, e.Reason)
	}
	return fmt.Sprintf("subject %q: operation not permitted in mode %s: %s", e.Subject, e.Mode, e.Reason)
}

// Code returns 42205.
func (e *NotPermittedError) Code() int { return CodeOperationNotPermitted }

// ErrReadOnly matches a *NotPermittedError raised because the mode is READONLY.
var ErrReadOnly = errors.New("read-only mode")

// Is makes errors.Is(err, ErrReadOnly) true for a write refused in READONLY mode.
func (e *NotPermittedError) Is(target error) bool { return target == ErrReadOnly && e.Mode == ReadOnly }

// IDMismatchError reports an import whose explicit id or version is taken by a different schema, or whose
// schema already has another id.
type IDMismatchError struct {
	Reason string
}

func (e *IDMismatchError) Error() string { return e.Reason }

// Code returns 42207.
func (e *IDMismatchError) Code() int { return CodeIDDoesNotMatch }

// InvalidVersionError reports a version number that cannot name a version: neither positive nor Latest.
type InvalidVersionError struct {
	Version int
}

func (e *InvalidVersionError) Error() string {
	return fmt.Sprintf("version %d is not valid: a version is a positive integer, or -1 (latest)", e.Version)
}

// Code returns 42202.
func (e *InvalidVersionError) Code() int { return CodeInvalidVersion }

// InvalidRuleSetError reports a rule set that Confluent would refuse: a rule without a valid or unique name,
// without a type, or with an unknown kind, mode or action.
type InvalidRuleSetError struct {
	// List is "domainRules" or "migrationRules"; Index the rule's position in it.
	List  string
	Index int
	// Rule is the rule's name (empty when it has none).
	Rule   string
	Reason string
}

func (e *InvalidRuleSetError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("Invalid ruleSet: rule %d of %s: %s", e.Index, e.List, e.Reason)
	}
	return fmt.Sprintf("Invalid ruleSet: rule %q (%s[%d]): %s", e.Rule, e.List, e.Index, e.Reason)
}

// Code returns 42210.
func (e *InvalidRuleSetError) Code() int { return CodeInvalidRuleSet }

// IncompatibleError reports a registration refused because the schema is incompatible with the subject's
// versions at its compatibility level.
type IncompatibleError struct {
	Subject string
	// Messages say what changed where, one per incompatibility.
	Messages []string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]",
		e.Subject, strings.Join(e.Messages, ", "))
}

// Code returns 409.
func (e *IncompatibleError) Code() int { return CodeIncompatible }
