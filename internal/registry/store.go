// Package registry is Big Father's schema registry, compatible with Confluent Schema Registry: its store keeps
// schemas, subject versions, references, compatibility levels and modes in the platform database (the
// catalog's SQLite file or Postgres database), so that schema ids are unique and stable across restarts and
// across every process sharing the database.
package registry

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bigfather/bigfather/internal/platformdb"
	"github.com/bigfather/bigfather/internal/registry/schema"
)

// The registry's tables in the platform database.
const (
	// SchemasTable holds one row per distinct schema (type, canonical form, references): its global id, the
	// text as first registered and the canonical form.
	SchemasTable = "bigfather_registry_schemas"
	// VersionsTable holds one row per subject version: the schema it is and whether it is soft-deleted.
	VersionsTable = "bigfather_registry_versions"
	// ReferencesTable holds the references of each schema, one row per reference, in order.
	ReferencesTable = "bigfather_registry_references"
	// ConfigTable holds the compatibility levels: the global one under the empty subject, and overrides.
	ConfigTable = "bigfather_registry_config"
	// ModeTable holds the modes: the global one under the empty subject, and overrides.
	ModeTable = "bigfather_registry_mode"
	// ContractsTable holds the data contract of each schema that has one: its metadata and rule set (JSON,
	// empty for none), and the fingerprint of the schema without them (base), which lookups that give no
	// contract match.
	ContractsTable = "bigfather_registry_contracts"
	// LockTable is a one-row table that SQLite writers update first, so that a registration or delete is a
	// write transaction from its first statement and sees every earlier commit (Postgres uses advisory locks).
	LockTable = "bigfather_registry_lock"
)

var storeSQLite = []string{
	`CREATE TABLE IF NOT EXISTS ` + SchemasTable + ` (
	id          INTEGER NOT NULL PRIMARY KEY,
	fingerprint TEXT    NOT NULL UNIQUE,
	type        TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	canonical   TEXT    NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + VersionsTable + ` (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id INTEGER NOT NULL,
	deleted   INTEGER NOT NULL,
	PRIMARY KEY (subject, version)
)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS ` + VersionsTable + `_live ON ` + VersionsTable + ` (subject, schema_id) WHERE deleted = 0`,
	`CREATE INDEX IF NOT EXISTS ` + VersionsTable + `_schema ON ` + VersionsTable + ` (schema_id)`,
	`CREATE TABLE IF NOT EXISTS ` + ReferencesTable + ` (
	schema_id   INTEGER NOT NULL,
	position    INTEGER NOT NULL,
	name        TEXT    NOT NULL,
	ref_subject TEXT    NOT NULL,
	ref_version INTEGER NOT NULL,
	PRIMARY KEY (schema_id, position)
)`,
	`CREATE INDEX IF NOT EXISTS ` + ReferencesTable + `_target ON ` + ReferencesTable + ` (ref_subject, ref_version)`,
	`CREATE TABLE IF NOT EXISTS ` + ConfigTable + ` (
	subject       TEXT NOT NULL PRIMARY KEY,
	compatibility TEXT NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + ModeTable + ` (
	subject TEXT NOT NULL PRIMARY KEY,
	mode    TEXT NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + ContractsTable + ` (
	schema_id INTEGER NOT NULL PRIMARY KEY,
	base      TEXT    NOT NULL,
	metadata  TEXT    NOT NULL,
	rule_set  TEXT    NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + LockTable + ` (
	name TEXT    NOT NULL PRIMARY KEY,
	n    INTEGER NOT NULL
)`,
}

var storePostgres = []string{
	`CREATE TABLE IF NOT EXISTS ` + SchemasTable + ` (
	id          bigint NOT NULL PRIMARY KEY,
	fingerprint text   NOT NULL UNIQUE,
	type        text   NOT NULL,
	text        text   NOT NULL,
	canonical   text   NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + VersionsTable + ` (
	subject   text    NOT NULL,
	version   integer NOT NULL,
	schema_id bigint  NOT NULL,
	deleted   integer NOT NULL,
	PRIMARY KEY (subject, version)
)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS ` + VersionsTable + `_live ON ` + VersionsTable + ` (subject, schema_id) WHERE deleted = 0`,
	`CREATE INDEX IF NOT EXISTS ` + VersionsTable + `_schema ON ` + VersionsTable + ` (schema_id)`,
	`CREATE TABLE IF NOT EXISTS ` + ReferencesTable + ` (
	schema_id   bigint  NOT NULL,
	position    integer NOT NULL,
	name        text    NOT NULL,
	ref_subject text    NOT NULL,
	ref_version integer NOT NULL,
	PRIMARY KEY (schema_id, position)
)`,
	`CREATE INDEX IF NOT EXISTS ` + ReferencesTable + `_target ON ` + ReferencesTable + ` (ref_subject, ref_version)`,
	`CREATE TABLE IF NOT EXISTS ` + ConfigTable + ` (
	subject       text NOT NULL PRIMARY KEY,
	compatibility text NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + ModeTable + ` (
	subject text NOT NULL PRIMARY KEY,
	mode    text NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ` + ContractsTable + ` (
	schema_id bigint NOT NULL PRIMARY KEY,
	base      text   NOT NULL,
	metadata  text   NOT NULL,
	rule_set  text   NOT NULL
)`,
}

// storeLock is the advisory lock Postgres processes take while creating the tables.
const storeLock int64 = 0x62_66_72_65_67 // "bfreg"

// The classes (first keys) of the transaction-scoped advisory locks Postgres writers take: subjectLock with
// the hash of a subject, serializing the writes of one subject across processes (a compatibility check and
// the insert it allows happen under it); idLock with 0, serializing the allocation of new schema ids. A
// writer takes a subject lock before the id lock, never after, so they cannot deadlock.
const (
	subjectLock int32 = 0x62_66_72_73 // "bfrs"
	idLock      int32 = 0x62_66_72_69 // "bfri"
)

// Latest is the version number that names a subject's latest version (Confluent's -1, or "latest").
const Latest = -1

// DefaultLevel is the global compatibility level until one is set.
const DefaultLevel = schema.Backward

// Mode is a registry mode, global or of a subject.
type Mode string

// The modes.
const (
	// ReadWrite is the default: schemas are registered and deleted.
	ReadWrite Mode = "READWRITE"
	// ReadOnly refuses registrations and deletes.
	ReadOnly Mode = "READONLY"
	// Import lets registrations give the schema's id and version (to copy another registry).
	Import Mode = "IMPORT"
)

// ParseMode reads a mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ReadWrite, ReadOnly, Import:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (expected READWRITE, READONLY or IMPORT)", s)
}

// Schema is a schema as the registry keeps it.
type Schema struct {
	// ID is the schema's global id, the same under every subject.
	ID   int
	Type schema.Type
	// Text is the schema as first registered.
	Text string
	// Canonical is its canonical form, computed by the caller (package schema); schemas with equal type,
	// canonical form and references are one schema.
	Canonical  string
	References []schema.Reference
	// Metadata and RuleSet are the schema's data contract (nil when it has none): part of the schema, so
	// the same text with another contract is another schema with its own id. RuleSet.DomainRules are the
	// rules a consumer enforces on records written with this schema.
	Metadata *Metadata
	RuleSet  *RuleSet
}

// Version is a version of a subject.
type Version struct {
	Subject string
	Version int
	// Deleted says the version is soft-deleted.
	Deleted bool
	Schema
}

// SubjectVersion names a version of a subject.
type SubjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Registration is a schema to register under a subject (or, for Lookup, to look up).
type Registration struct {
	Subject    string
	Type       schema.Type
	Text       string
	Canonical  string
	References []schema.Reference
	// Metadata and RuleSet are the schema's data contract. Nil means "not given": Register then carries over
	// those of the subject's latest version (outside IMPORT mode), as Confluent does, and Lookup matches a
	// version whatever its contract.
	Metadata *Metadata
	RuleSet  *RuleSet
	// ID and Version, when not zero, are the id and version to give the schema: only in IMPORT mode.
	ID      int
	Version int
	// Check, when not nil, decides whether a schema new to the subject is compatible with the subject's
	// versions; Register calls it inside its transaction, with the subject locked against writers in every
	// process, so two incompatible schemas cannot both be registered. Not called in IMPORT mode.
	Check Checker
}

// Checker returns the incompatibilities (none: compatible) of the schema being registered with previous,
// the subject's live versions it must be compatible with at level (oldest first: the latest only, or all
// for a transitive level; never empty, and level is never NONE). resolve reads references inside the
// registration's transaction; a Checker must read the store through it only. An error aborts the
// registration.
type Checker func(level schema.Level, previous []Version, resolve schema.Resolver) ([]string, error)

// Store keeps the registry in the platform database, shared by every process of a deployment. It is safe
// for concurrent use.
type Store struct {
	db *platformdb.DB
}

// Open opens the registry's tables in the database named by uri (the catalog's sqlite:// or postgres://
// URI), creating them when missing.
func Open(ctx context.Context, uri string) (*Store, error) {
	db, err := platformdb.Open(ctx, uri, platformdb.Schema{
		Purpose: "the schema registry", SQLite: storeSQLite, Postgres: storePostgres,
		Relations: []string{SchemasTable, VersionsTable, VersionsTable + "_live", VersionsTable + "_schema",
			ReferencesTable, ReferencesTable + "_target", ConfigTable, ModeTable, ContractsTable},
		Lock: storeLock,
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// errRetry asks inTx to run the transaction again: another process won a race for an id or a version.
var errRetry = errors.New("retry")

// txTimeout bounds how long inTx retries a transaction that keeps losing races or finding SQLite busy.
const txTimeout = 30 * time.Second

// inTx runs fn in a transaction, again while it loses a race (errRetry) or SQLite reports the file busy (a
// deferred transaction that must upgrade to writing while another process writes fails at once).
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	deadline := time.Now().Add(txTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := s.tryTx(ctx, fn)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errRetry) && !platformdb.IsBusy(err) || time.Now().After(deadline) {
			if errors.Is(err, errRetry) {
				return fmt.Errorf("gave up after %s of concurrent writes", txTimeout)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// fingerprint identifies a schema: its type, canonical form and references.
func fingerprint(t schema.Type, canonical string, refs []schema.Reference) string {
	if refs == nil {
		refs = []schema.Reference{}
	}
	r, _ := json.Marshal(refs) // a slice of plain structs always encodes
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(canonical))
	h.Write([]byte{0})
	h.Write(r)
	return hex.EncodeToString(h.Sum(nil))
}

// querier is what reads run on: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Register registers a schema under a subject and returns its version, and whether it is new: a schema
// already registered under the subject (same type, canonical form, references and contract, not
// soft-deleted) returns its existing version. A schema known under other subjects keeps its id. Every
// reference must name an existing, not soft-deleted version. A registration without metadata or rule set
// takes those of the subject's latest version (outside IMPORT mode). A rule set that is not valid is an
// *InvalidRuleSetError; a schema refused by r.Check an *IncompatibleError.
//
// The whole registration is one transaction holding the subject's lock (on Postgres an advisory lock per
// subject, on SQLite the database's write lock), so registrations from several processes sharing the
// database are serialized per subject: the compatibility check sees every version committed before, and no
// two processes give out the same id or version.
func (s *Store) Register(ctx context.Context, r Registration) (Version, bool, error) {
	if r.Subject == "" {
		return Version{}, false, fmt.Errorf("registering a schema: the subject is empty")
	}
	t, err := schema.ParseType(string(r.Type))
	if err != nil {
		return Version{}, false, fmt.Errorf("registering a schema under subject %q: %w", r.Subject, err)
	}
	r.Type = t
	if r.ID < 0 || r.Version < 0 {
		return Version{}, false, fmt.Errorf("registering a schema under subject %q: id %d and version %d must not be negative", r.Subject, r.ID, r.Version)
	}
	r.Metadata, r.RuleSet = r.Metadata.normalized(), r.RuleSet.normalized()
	if err := r.RuleSet.Validate(); err != nil {
		return Version{}, false, fmt.Errorf("registering a schema under subject %q: %w", r.Subject, err)
	}
	base := fingerprint(r.Type, r.Canonical, r.References)
	var out Version
	var created bool
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockSubject(ctx, tx, r.Subject); err != nil {
			return err
		}
		mode, err := s.effectiveMode(ctx, tx, r.Subject)
		if err != nil {
			return err
		}
		if mode == ReadOnly {
			return &NotPermittedError{Subject: r.Subject, Mode: mode, Reason: "registering a schema"}
		}
		if (r.ID != 0 || r.Version != 0) && mode != Import {
			return &NotPermittedError{Subject: r.Subject, Mode: mode, Reason: "an explicit id or version needs IMPORT mode"}
		}
		for _, ref := range r.References {
			if _, err := s.version(ctx, tx, ref.Subject, ref.Version, false); err != nil {
				return fmt.Errorf("reference %q: %w", ref.Name, err)
			}
		}
		reg := r // this attempt's registration: what it inherits may change between attempts
		if mode != Import && (reg.Metadata == nil || reg.RuleSet == nil) {
			latest, err := s.version(ctx, tx, r.Subject, Latest, false)
			var nf *NotFoundError
			switch {
			case err == nil:
				if reg.Metadata == nil {
					reg.Metadata = latest.Metadata
				}
				if reg.RuleSet == nil {
					reg.RuleSet = latest.RuleSet
				}
			case !errors.As(err, &nf):
				return err
			}
		}
		id, err := s.schemaID(ctx, tx, reg, base, contractFingerprint(base, reg.Metadata, reg.RuleSet))
		if err != nil {
			return err
		}
		// Already registered under the subject?
		var v int
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT version FROM `+VersionsTable+` WHERE subject = ? AND schema_id = ? AND deleted = 0`),
			r.Subject, id).Scan(&v)
		switch {
		case err == nil:
			if r.Version != 0 && r.Version != v {
				return &IDMismatchError{Reason: fmt.Sprintf("schema %d is already version %d of subject %q, not version %d", id, v, r.Subject, r.Version)}
			}
			created = false
		case errors.Is(err, sql.ErrNoRows):
			if reg.Check != nil && mode != Import {
				if err := s.checkCompatible(ctx, tx, reg); err != nil {
					return err
				}
			}
			if v, err = s.insertVersion(ctx, tx, reg, id); err != nil {
				return err
			}
			created = true
		default:
			return err
		}
		out = Version{Subject: r.Subject, Version: v, Schema: Schema{ID: id, Type: r.Type, Canonical: r.Canonical, References: r.References,
			Metadata: reg.Metadata, RuleSet: reg.RuleSet}}
		return tx.QueryRowContext(ctx, s.db.Rebind(`SELECT text FROM `+SchemasTable+` WHERE id = ?`), id).Scan(&out.Text)
	})
	if err != nil {
		return Version{}, false, fmt.Errorf("registering a schema under subject %q: %w", r.Subject, err)
	}
	return out, created, nil
}

// lockSubject makes the transaction the only writer of the subject until it ends: on Postgres with the
// subject's advisory lock, on SQLite by writing first (which takes the database's write lock, waiting out
// the busy timeout, and starts the transaction on the latest commit).
func (s *Store) lockSubject(ctx context.Context, tx *sql.Tx, subject string) error {
	if s.db.Postgres {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, subjectLock, subject)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+LockTable+` (name, n) VALUES ('registry', 1)
ON CONFLICT (name) DO UPDATE SET n = `+LockTable+`.n + 1`)
	return err
}

// checkCompatible runs the registration's Check against the subject's live versions its compatibility level
// compares with, all read in the transaction; incompatibilities are an *IncompatibleError.
func (s *Store) checkCompatible(ctx context.Context, tx *sql.Tx, r Registration) error {
	level, err := s.effectiveLevel(ctx, tx, r.Subject)
	if err != nil || level == schema.None {
		return err
	}
	nums, err := scanInts(tx.QueryContext(ctx, s.db.Rebind(`SELECT version FROM `+VersionsTable+` WHERE subject = ? AND deleted = 0 ORDER BY version`), r.Subject))
	if err != nil || len(nums) == 0 {
		return err
	}
	switch level {
	case schema.BackwardTransitive, schema.ForwardTransitive, schema.FullTransitive:
	default:
		nums = nums[len(nums)-1:]
	}
	previous := make([]Version, 0, len(nums))
	for _, n := range nums {
		v, err := s.version(ctx, tx, r.Subject, n, false)
		if err != nil {
			return err
		}
		previous = append(previous, v)
	}
	msgs, err := r.Check(level, previous, s.resolver(ctx, tx))
	if err != nil {
		return err
	}
	if len(msgs) > 0 {
		return &IncompatibleError{Subject: r.Subject, Messages: msgs}
	}
	return nil
}

// Resolver returns a schema.Resolver over the store: a reference resolves to its live version's text and
// references. Consumers parsing a schema read with Schema or Latest pass it to schema.Parse.
func (s *Store) Resolver(ctx context.Context) schema.Resolver { return s.resolver(ctx, s.db) }

func (s *Store) resolver(ctx context.Context, q querier) schema.Resolver {
	return func(ref schema.Reference) (string, []schema.Reference, error) {
		v, err := s.version(ctx, q, ref.Subject, ref.Version, false)
		if err != nil {
			return "", nil, fmt.Errorf("reference %q to version %d of subject %q: %w", ref.Name, ref.Version, ref.Subject, err)
		}
		return v.Text, v.References, nil
	}
}

// schemaID returns the id of the registration's schema (fingerprint fp, base its fingerprint without
// contract), inserting the schema when it is new: with the registration's id in IMPORT mode, else the next
// id. New ids are allocated one process at a time (Postgres: the id lock; SQLite: the write lock); should
// two inserts still collide, the loser is retried and reads the winner's id.
func (s *Store) schemaID(ctx context.Context, tx *sql.Tx, r Registration, base, fp string) (int, error) {
	var id int
	byFingerprint := func() error {
		return tx.QueryRowContext(ctx, s.db.Rebind(`SELECT id FROM `+SchemasTable+` WHERE fingerprint = ?`), fp).Scan(&id)
	}
	err := byFingerprint()
	if errors.Is(err, sql.ErrNoRows) && s.db.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, idLock); err != nil {
			return 0, err
		}
		err = byFingerprint() // another process may have inserted it while this one waited
	}
	if err == nil {
		if r.ID != 0 && r.ID != id {
			return 0, &IDMismatchError{Reason: fmt.Sprintf("the schema is already registered with id %d instead of id %d", id, r.ID)}
		}
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	var res sql.Result
	if r.ID != 0 {
		var other string
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT fingerprint FROM `+SchemasTable+` WHERE id = ?`), r.ID).Scan(&other)
		if err == nil {
			return 0, &IDMismatchError{Reason: fmt.Sprintf("id %d is already taken by a different schema", r.ID)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		res, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+SchemasTable+` (id, fingerprint, type, text, canonical) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`), r.ID, fp, string(r.Type), r.Text, r.Canonical)
		if err != nil {
			return 0, err
		}
	} else {
		res, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+SchemasTable+` (id, fingerprint, type, text, canonical)
SELECT COALESCE(MAX(id), 0) + 1, ?, ?, ?, ? FROM `+SchemasTable+` WHERE 1 = 1
ON CONFLICT DO NOTHING`), fp, string(r.Type), r.Text, r.Canonical)
		if err != nil {
			return 0, err
		}
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 0 {
		return 0, errRetry
	}
	if err := byFingerprint(); err != nil {
		return 0, err
	}
	for i, ref := range r.References {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+ReferencesTable+` (schema_id, position, name, ref_subject, ref_version) VALUES (?, ?, ?, ?, ?)`),
			id, i, ref.Name, ref.Subject, ref.Version); err != nil {
			return 0, err
		}
	}
	if r.Metadata != nil || r.RuleSet != nil {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+ContractsTable+` (schema_id, base, metadata, rule_set) VALUES (?, ?, ?, ?)`),
			id, base, string(encodeContract(r.Metadata)), string(encodeContract(r.RuleSet))); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// insertVersion adds the next version of the subject (or the registration's version in IMPORT mode): one
// after the highest ever used, soft-deleted versions included.
func (s *Store) insertVersion(ctx context.Context, tx *sql.Tx, r Registration, id int) (int, error) {
	var res sql.Result
	var err error
	if r.Version != 0 {
		var other int
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT schema_id FROM `+VersionsTable+` WHERE subject = ? AND version = ?`), r.Subject, r.Version).Scan(&other)
		if err == nil {
			return 0, &IDMismatchError{Reason: fmt.Sprintf("version %d of subject %q is already schema %d", r.Version, r.Subject, other)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		res, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+VersionsTable+` (subject, version, schema_id, deleted) VALUES (?, ?, ?, 0)
ON CONFLICT DO NOTHING`), r.Subject, r.Version, id)
		if err != nil {
			return 0, err
		}
	} else {
		res, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+VersionsTable+` (subject, version, schema_id, deleted)
SELECT ?, COALESCE(MAX(version), 0) + 1, ?, 0 FROM `+VersionsTable+` WHERE subject = ?
ON CONFLICT DO NOTHING`), r.Subject, id, r.Subject)
		if err != nil {
			return 0, err
		}
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 0 {
		return 0, errRetry
	}
	var v int
	if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT version FROM `+VersionsTable+` WHERE subject = ? AND schema_id = ? AND deleted = 0`),
		r.Subject, id).Scan(&v); err != nil {
		return 0, err
	}
	return v, nil
}

// Lookup returns the version of subject r.Subject whose schema has r's type, canonical form and
// references, and r's metadata and rule set where r gives them (nil matches any): the live one, else (with
// deleted) the newest soft-deleted one; among several, an exact match first, then the newest.
func (s *Store) Lookup(ctx context.Context, r Registration, deleted bool) (Version, error) {
	if r.Type == "" {
		r.Type = schema.Avro
	}
	if err := s.subjectExists(ctx, s.db, r.Subject, deleted); err != nil {
		return Version{}, fmt.Errorf("looking up a schema under subject %q: %w", r.Subject, err)
	}
	m, rs := r.Metadata.normalized(), r.RuleSet.normalized()
	base := fingerprint(r.Type, r.Canonical, r.References)
	exact, err := scanInts(s.db.QueryContext(ctx, s.db.Rebind(`SELECT v.version FROM `+VersionsTable+` v JOIN `+SchemasTable+` s ON s.id = v.schema_id
WHERE v.subject = ? AND s.fingerprint = ? AND (v.deleted = 0 OR ?) ORDER BY v.deleted, v.version DESC`),
		r.Subject, contractFingerprint(base, m, rs), deleted))
	if err != nil {
		return Version{}, fmt.Errorf("looking up a schema under subject %q: %w", r.Subject, err)
	}
	if len(exact) > 0 {
		return s.Version(ctx, r.Subject, exact[0], true)
	}
	// The same schema with another contract: a match when r leaves that part of the contract out.
	nums, err := scanInts(s.db.QueryContext(ctx, s.db.Rebind(`SELECT v.version FROM `+VersionsTable+` v JOIN `+SchemasTable+` s ON s.id = v.schema_id
LEFT JOIN `+ContractsTable+` c ON c.schema_id = s.id
WHERE v.subject = ? AND COALESCE(c.base, s.fingerprint) = ? AND (v.deleted = 0 OR ?) ORDER BY v.deleted, v.version DESC`),
		r.Subject, base, deleted))
	if err != nil {
		return Version{}, fmt.Errorf("looking up a schema under subject %q: %w", r.Subject, err)
	}
	for _, n := range nums {
		v, err := s.Version(ctx, r.Subject, n, true)
		if err != nil {
			return Version{}, fmt.Errorf("looking up a schema under subject %q: %w", r.Subject, err)
		}
		if (m == nil || string(encodeContract(m)) == string(encodeContract(v.Metadata))) &&
			(rs == nil || string(encodeContract(rs)) == string(encodeContract(v.RuleSet))) {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("looking up a schema under subject %q: %w", r.Subject, &NotFoundError{What: "schema", Subject: r.Subject})
}

// Latest returns the latest live version of a subject, with its schema's metadata and rule set: the contract
// a consumer enforces on records of the subject. A subject without live versions is a *NotFoundError (code
// 40401). It is Version(ctx, subject, Latest, false).
func (s *Store) Latest(ctx context.Context, subject string) (Version, error) {
	return s.Version(ctx, subject, Latest, false)
}

// MaxID returns the highest schema id given out, 0 when there is none.
func (s *Store) MaxID(ctx context.Context) (int, error) {
	var id int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+SchemasTable).Scan(&id); err != nil {
		return 0, fmt.Errorf("reading the highest schema id: %w", err)
	}
	return id, nil
}

// subjectExists returns a *NotFoundError unless the subject has a version (a live one unless deleted).
func (s *Store) subjectExists(ctx context.Context, q querier, subject string, deleted bool) error {
	var n int
	if err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM `+VersionsTable+` WHERE subject = ? AND (deleted = 0 OR ?)`),
		subject, deleted).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{What: "subject", Subject: subject}
	}
	return nil
}

// Version returns a version of a subject; Latest names the highest live version (with deleted, the highest
// of all). A soft-deleted version is found only with deleted.
func (s *Store) Version(ctx context.Context, subject string, version int, deleted bool) (Version, error) {
	v, err := s.version(ctx, s.db, subject, version, deleted)
	if err != nil {
		return Version{}, fmt.Errorf("reading version %d of subject %q: %w", version, subject, err)
	}
	return v, nil
}

func (s *Store) version(ctx context.Context, q querier, subject string, version int, deleted bool) (Version, error) {
	if version != Latest && version < 1 {
		return Version{}, &InvalidVersionError{Version: version}
	}
	if err := s.subjectExists(ctx, q, subject, deleted); err != nil {
		return Version{}, err
	}
	if version == Latest {
		if err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT MAX(version) FROM `+VersionsTable+` WHERE subject = ? AND (deleted = 0 OR ?)`),
			subject, deleted).Scan(&version); err != nil {
			return Version{}, err
		}
	}
	out := Version{Subject: subject, Version: version}
	var t, meta, rules string
	var del int
	err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT v.deleted, s.id, s.type, s.text, s.canonical, COALESCE(c.metadata, ''), COALESCE(c.rule_set, '')
FROM `+VersionsTable+` v JOIN `+SchemasTable+` s ON s.id = v.schema_id LEFT JOIN `+ContractsTable+` c ON c.schema_id = s.id
WHERE v.subject = ? AND v.version = ?`), subject, version).Scan(&del, &out.ID, &t, &out.Text, &out.Canonical, &meta, &rules)
	if errors.Is(err, sql.ErrNoRows) || err == nil && del != 0 && !deleted {
		return Version{}, &NotFoundError{What: "version", Subject: subject, Version: version}
	}
	if err != nil {
		return Version{}, err
	}
	out.Type, out.Deleted = schema.Type(t), del != 0
	if out.Metadata, out.RuleSet, err = decodeContracts(meta, rules); err != nil {
		return Version{}, fmt.Errorf("schema %d: %w", out.ID, err)
	}
	if out.References, err = s.references(ctx, q, out.ID); err != nil {
		return Version{}, err
	}
	return out, nil
}

// decodeContracts decodes a schema's stored metadata and rule set.
func decodeContracts(meta, rules string) (*Metadata, *RuleSet, error) {
	m, err := decodeContract[Metadata](meta)
	if err != nil {
		return nil, nil, err
	}
	rs, err := decodeContract[RuleSet](rules)
	if err != nil {
		return nil, nil, err
	}
	return m, rs, nil
}

func (s *Store) references(ctx context.Context, q querier, id int) ([]schema.Reference, error) {
	rows, err := q.QueryContext(ctx, s.db.Rebind(`SELECT name, ref_subject, ref_version FROM `+ReferencesTable+` WHERE schema_id = ? ORDER BY position`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schema.Reference
	for rows.Next() {
		var r schema.Reference
		if err := rows.Scan(&r.Name, &r.Subject, &r.Version); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Versions returns the version numbers of a subject, ascending: the live ones, and with deleted the
// soft-deleted ones too.
func (s *Store) Versions(ctx context.Context, subject string, deleted bool) ([]int, error) {
	if err := s.subjectExists(ctx, s.db, subject, deleted); err != nil {
		return nil, fmt.Errorf("listing the versions of subject %q: %w", subject, err)
	}
	out, err := scanInts(s.db.QueryContext(ctx, s.db.Rebind(`SELECT version FROM `+VersionsTable+` WHERE subject = ? AND (deleted = 0 OR ?) ORDER BY version`), subject, deleted))
	if err != nil {
		return nil, fmt.Errorf("listing the versions of subject %q: %w", subject, err)
	}
	return out, nil
}

// Subjects returns the subjects whose names start with prefix, sorted: those with a live version, and with
// deleted the soft-deleted ones too.
func (s *Store) Subjects(ctx context.Context, prefix string, deleted bool) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT DISTINCT subject FROM `+VersionsTable+` WHERE (deleted = 0 OR ?) ORDER BY subject`), deleted)
	if err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			return nil, fmt.Errorf("listing subjects: %w", err)
		}
		if strings.HasPrefix(sub, prefix) {
			out = append(out, sub)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	return out, nil
}

// Schema returns the schema with the given id (the id a registry-framed record carries), with its metadata
// and rule set. An unknown id is a *NotFoundError (code 40403). Schemas keep their ids for ever: a schema
// whose versions were all deleted is still found.
func (s *Store) Schema(ctx context.Context, id int) (Schema, error) {
	out := Schema{ID: id}
	var t, meta, rules string
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT s.type, s.text, s.canonical, COALESCE(c.metadata, ''), COALESCE(c.rule_set, '')
FROM `+SchemasTable+` s LEFT JOIN `+ContractsTable+` c ON c.schema_id = s.id WHERE s.id = ?`), id).Scan(&t, &out.Text, &out.Canonical, &meta, &rules)
	if errors.Is(err, sql.ErrNoRows) {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, &NotFoundError{What: "schema", ID: id})
	}
	if err != nil {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	out.Type = schema.Type(t)
	if out.Metadata, out.RuleSet, err = decodeContracts(meta, rules); err != nil {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	if out.References, err = s.references(ctx, s.db, id); err != nil {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	return out, nil
}

// SubjectVersions returns the subject versions that are the schema with the given id, by subject then
// version: the live ones, and with deleted the soft-deleted ones too.
func (s *Store) SubjectVersions(ctx context.Context, id int, deleted bool) ([]SubjectVersion, error) {
	if _, err := s.Schema(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT subject, version FROM `+VersionsTable+` WHERE schema_id = ? AND (deleted = 0 OR ?) ORDER BY subject, version`), id, deleted)
	if err != nil {
		return nil, fmt.Errorf("listing the versions of schema %d: %w", id, err)
	}
	defer rows.Close()
	out := []SubjectVersion{}
	for rows.Next() {
		var sv SubjectVersion
		if err := rows.Scan(&sv.Subject, &sv.Version); err != nil {
			return nil, fmt.Errorf("listing the versions of schema %d: %w", id, err)
		}
		out = append(out, sv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the versions of schema %d: %w", id, err)
	}
	return out, nil
}

// ReferencedBy returns the ids of the schemas, registered under a live version, that reference a version
// of a subject, ascending.
func (s *Store) ReferencedBy(ctx context.Context, subject string, version int) ([]int, error) {
	v, err := s.version(ctx, s.db, subject, version, true)
	if err != nil {
		return nil, fmt.Errorf("listing the schemas referencing version %d of subject %q: %w", version, subject, err)
	}
	out, err := s.referencedBy(ctx, s.db, subject, v.Version)
	if err != nil {
		return nil, fmt.Errorf("listing the schemas referencing version %d of subject %q: %w", version, subject, err)
	}
	return out, nil
}

func (s *Store) referencedBy(ctx context.Context, q querier, subject string, version int) ([]int, error) {
	rows, err := q.QueryContext(ctx, s.db.Rebind(`SELECT DISTINCT r.schema_id FROM `+ReferencesTable+` r
WHERE r.ref_subject = ? AND r.ref_version = ?
AND EXISTS (SELECT 1 FROM `+VersionsTable+` v WHERE v.schema_id = r.schema_id AND v.deleted = 0) ORDER BY r.schema_id`), subject, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteSubject deletes a subject and returns the versions it deleted, ascending. A soft delete hides every
// live version and drops the subject's own compatibility level and mode (a subject already soft-deleted: *SoftDeletedError); a permanent delete removes every
// version, and needs the subject soft-deleted first (*SoftDeleteFirstError). A version that live schemas
// reference is not deleted (*ReferencedError). Schemas keep their ids after a permanent delete: registered
// again, a schema gets its id back, and Schema still reads it.
func (s *Store) DeleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	var out []int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockSubject(ctx, tx, subject); err != nil {
			return err
		}
		if err := s.writable(ctx, tx, subject); err != nil {
			return err
		}
		var live, all int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COALESCE(SUM(1 - deleted), 0), COUNT(*) FROM `+VersionsTable+` WHERE subject = ?`), subject).Scan(&live, &all); err != nil {
			return err
		}
		switch {
		case all == 0:
			return &NotFoundError{What: "subject", Subject: subject}
		case permanent && live > 0:
			return &SoftDeleteFirstError{Subject: subject}
		case !permanent && live == 0:
			return &SoftDeletedError{Subject: subject}
		}
		var err error
		out, err = scanInts(tx.QueryContext(ctx, s.db.Rebind(`SELECT version FROM `+VersionsTable+` WHERE subject = ? AND (deleted = 0 OR ?) ORDER BY version`), subject, permanent))
		if err != nil {
			return err
		}
		for _, v := range out {
			by, err := s.referencedBy(ctx, tx, subject, v)
			if err != nil {
				return err
			}
			if len(by) > 0 {
				return &ReferencedError{Subject: subject, Version: v, By: by}
			}
		}
		if permanent {
			_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+VersionsTable+` WHERE subject = ?`), subject)
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE `+VersionsTable+` SET deleted = 1 WHERE subject = ?`), subject); err != nil {
			return err
		}
		return s.dropSettings(ctx, tx, subject)
	})
	if err != nil {
		return nil, fmt.Errorf("deleting subject %q: %w", subject, err)
	}
	return out, nil
}

func scanInts(rows *sql.Rows, err error) ([]int, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DeleteVersion deletes a version of a subject and returns its number. Latest names the highest live
// version for a soft delete, the highest of all for a permanent one. A soft delete hides the version (one
// already soft-deleted: *SoftDeletedError); a permanent delete removes it, and needs it soft-deleted first
// (*SoftDeleteFirstError). A version that live schemas reference is not deleted (*ReferencedError). Soft
// deleting a subject's last live version drops its own compatibility level and mode.
func (s *Store) DeleteVersion(ctx context.Context, subject string, version int, permanent bool) (int, error) {
	var out int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockSubject(ctx, tx, subject); err != nil {
			return err
		}
		if err := s.writable(ctx, tx, subject); err != nil {
			return err
		}
		v, err := s.version(ctx, tx, subject, version, true)
		if err != nil {
			return err
		}
		if version == Latest && !permanent {
			if v, err = s.version(ctx, tx, subject, version, false); err != nil {
				return err
			}
		}
		switch {
		case permanent && !v.Deleted:
			return &SoftDeleteFirstError{Subject: subject, Version: v.Version}
		case !permanent && v.Deleted:
			return &SoftDeletedError{Subject: subject, Version: v.Version}
		}
		by, err := s.referencedBy(ctx, tx, subject, v.Version)
		if err != nil {
			return err
		}
		if len(by) > 0 {
			return &ReferencedError{Subject: subject, Version: v.Version, By: by}
		}
		out = v.Version
		if permanent {
			_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+VersionsTable+` WHERE subject = ? AND version = ?`), subject, v.Version)
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE `+VersionsTable+` SET deleted = 1 WHERE subject = ? AND version = ?`), subject, v.Version); err != nil {
			return err
		}
		if err := s.subjectExists(ctx, tx, subject, false); err != nil {
			var nf *NotFoundError
			if errors.As(err, &nf) { // that was the subject's last live version
				return s.dropSettings(ctx, tx, subject)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("deleting version %d of subject %q: %w", version, subject, err)
	}
	return out, nil
}

// dropSettings removes a subject's own compatibility level and mode, as a soft delete of the subject (or of
// its last live version) does in Confluent.
func (s *Store) dropSettings(ctx context.Context, tx *sql.Tx, subject string) error {
	for _, table := range []string{ConfigTable, ModeTable} {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+table+` WHERE subject = ?`), subject); err != nil {
			return err
		}
	}
	return nil
}

// writable returns a *NotPermittedError when the subject's mode is READONLY.
func (s *Store) writable(ctx context.Context, q querier, subject string) error {
	mode, err := s.effectiveMode(ctx, q, subject)
	if err != nil {
		return err
	}
	if mode == ReadOnly {
		return &NotPermittedError{Subject: subject, Mode: mode, Reason: "deleting"}
	}
	return nil
}

// setting reads a subject's row of the config or mode table; ok is false when there is none.
func (s *Store) setting(ctx context.Context, q querier, table, column, subject string) (string, bool, error) {
	var v string
	err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT `+column+` FROM `+table+` WHERE subject = ?`), subject).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (s *Store) setSetting(ctx context.Context, table, column, subject, value string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+table+` (subject, `+column+`) VALUES (?, ?)
ON CONFLICT (subject) DO UPDATE SET `+column+` = excluded.`+column), subject, value)
	return err
}

// Config returns the compatibility level of a subject, or the global one for the empty subject. A subject
// without its own level has the global one with defaultToGlobal, else a *NotConfiguredError; the global
// level is BACKWARD until set.
func (s *Store) Config(ctx context.Context, subject string, defaultToGlobal bool) (schema.Level, error) {
	v, ok, err := s.setting(ctx, s.db, ConfigTable, "compatibility", subject)
	if err != nil {
		return "", fmt.Errorf("reading the compatibility level of %s: %w", describe(subject), err)
	}
	if ok {
		return schema.Level(v), nil
	}
	if subject != "" && !defaultToGlobal {
		return "", fmt.Errorf("reading the compatibility level of %s: %w", describe(subject), &NotConfiguredError{Subject: subject, What: "compatibility"})
	}
	if subject != "" {
		return s.Config(ctx, "", true)
	}
	return DefaultLevel, nil
}

// SetConfig sets the compatibility level of a subject, or the global one for the empty subject.
func (s *Store) SetConfig(ctx context.Context, subject string, level schema.Level) error {
	if _, err := schema.ParseLevel(string(level)); err != nil {
		return fmt.Errorf("setting the compatibility level of %s: %w", describe(subject), err)
	}
	if err := s.setSetting(ctx, ConfigTable, "compatibility", subject, string(level)); err != nil {
		return fmt.Errorf("setting the compatibility level of %s: %w", describe(subject), err)
	}
	return nil
}

// DeleteConfig removes a subject's own compatibility level (or resets the global one to BACKWARD, for the
// empty subject) and returns the level it had.
func (s *Store) DeleteConfig(ctx context.Context, subject string) (schema.Level, error) {
	prev, err := s.Config(ctx, subject, subject == "")
	if err != nil {
		return "", fmt.Errorf("deleting the compatibility level of %s: %w", describe(subject), err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+ConfigTable+` WHERE subject = ?`), subject); err != nil {
		return "", fmt.Errorf("deleting the compatibility level of %s: %w", describe(subject), err)
	}
	return prev, nil
}

// Mode returns the mode of a subject, or the global one for the empty subject. A subject without its own
// mode has the global one with defaultToGlobal, else a *NotConfiguredError; the global mode is READWRITE
// until set.
func (s *Store) Mode(ctx context.Context, subject string, defaultToGlobal bool) (Mode, error) {
	v, ok, err := s.setting(ctx, s.db, ModeTable, "mode", subject)
	if err != nil {
		return "", fmt.Errorf("reading the mode of %s: %w", describe(subject), err)
	}
	if ok {
		return Mode(v), nil
	}
	if subject != "" && !defaultToGlobal {
		return "", fmt.Errorf("reading the mode of %s: %w", describe(subject), &NotConfiguredError{Subject: subject, What: "mode"})
	}
	if subject != "" {
		return s.Mode(ctx, "", true)
	}
	return ReadWrite, nil
}

// effectiveLevel is the subject's compatibility level, else the global one, else DefaultLevel.
func (s *Store) effectiveLevel(ctx context.Context, q querier, subject string) (schema.Level, error) {
	for _, sub := range []string{subject, ""} {
		v, ok, err := s.setting(ctx, q, ConfigTable, "compatibility", sub)
		if err != nil {
			return "", err
		}
		if ok {
			return schema.Level(v), nil
		}
	}
	return DefaultLevel, nil
}

// effectiveMode is the subject's mode, else the global one, else READWRITE.
func (s *Store) effectiveMode(ctx context.Context, q querier, subject string) (Mode, error) {
	for _, sub := range []string{subject, ""} {
		v, ok, err := s.setting(ctx, q, ModeTable, "mode", sub)
		if err != nil {
			return "", err
		}
		if ok {
			return Mode(v), nil
		}
	}
	return ReadWrite, nil
}

// SetMode sets the mode of a subject, or the global one for the empty subject. Switching to IMPORT needs
// the subject (for the global mode: every subject) to have no live versions, unless force.
func (s *Store) SetMode(ctx context.Context, subject string, mode Mode, force bool) error {
	if _, err := ParseMode(string(mode)); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", describe(subject), err)
	}
	if mode == Import && !force {
		var n int
		query, args := `SELECT COUNT(*) FROM `+VersionsTable+` WHERE deleted = 0`, []any{}
		if subject != "" {
			query, args = query+` AND subject = ?`, []any{subject}
		}
		if err := s.db.QueryRowContext(ctx, s.db.Rebind(query), args...).Scan(&n); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", describe(subject), err)
		}
		if n > 0 {
			cur, err := s.effectiveMode(ctx, s.db, subject)
			if err != nil {
				return fmt.Errorf("setting the mode of %s: %w", describe(subject), err)
			}
			return fmt.Errorf("setting the mode of %s: %w", describe(subject),
				&NotPermittedError{Subject: subject, Mode: cur, Reason: "cannot switch to IMPORT mode while schemas exist (force it to)"})
		}
	}
	if err := s.setSetting(ctx, ModeTable, "mode", subject, string(mode)); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", describe(subject), err)
	}
	return nil
}

// DeleteMode removes a subject's own mode (or resets the global one to READWRITE, for the empty subject) and
// returns the mode it had.
func (s *Store) DeleteMode(ctx context.Context, subject string) (Mode, error) {
	prev, err := s.Mode(ctx, subject, subject == "")
	if err != nil {
		return "", fmt.Errorf("deleting the mode of %s: %w", describe(subject), err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+ModeTable+` WHERE subject = ?`), subject); err != nil {
		return "", fmt.Errorf("deleting the mode of %s: %w", describe(subject), err)
	}
	return prev, nil
}

// describe names a subject in errors, or the global setting for the empty subject.
func describe(subject string) string {
	if subject == "" {
		return "the registry (global)"
	}
	return fmt.Sprintf("subject %q", subject)
}
