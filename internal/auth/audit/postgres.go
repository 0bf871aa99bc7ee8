package audit

// pgSchema creates the table in a Postgres database.
var pgSchema = []string{
	`CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id      bigserial   PRIMARY KEY,
	at      timestamptz NOT NULL,
	actor   text        NOT NULL,
	role    text        NOT NULL,
	via     text        NOT NULL,
	method  text        NOT NULL,
	path    text        NOT NULL,
	action  text        NOT NULL,
	remote  text        NOT NULL,
	outcome text        NOT NULL,
	status  integer     NOT NULL,
	detail  text        NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS ` + Table + `_at ON ` + Table + ` (at)`,
}

// pgSchemaLock is the transaction-level advisory lock that processes creating the table take first: CREATE
// TABLE IF NOT EXISTS is not atomic in Postgres, and without the lock the second of two processes starting
// together fails on a unique index of the system catalogs.
const pgSchemaLock int64 = 0x62_66_61_75_64_69_74 // "bfaudit"
