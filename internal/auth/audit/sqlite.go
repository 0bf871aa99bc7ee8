package audit

// sqliteSchema creates the table in a SQLite database: at is text in the sqliteTime layout.
var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      TEXT    NOT NULL,
	actor   TEXT    NOT NULL,
	role    TEXT    NOT NULL,
	via     TEXT    NOT NULL,
	method  TEXT    NOT NULL,
	path    TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	remote  TEXT    NOT NULL,
	outcome TEXT    NOT NULL,
	status  INTEGER NOT NULL,
	detail  TEXT    NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS ` + Table + `_at ON ` + Table + ` (at)`,
}
