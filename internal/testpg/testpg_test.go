package testpg_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/bigfather/bigfather/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// TestPostgresServer: the shared server takes the test role's password over TCP and refuses a wrong one, and
// a created database belongs to that role.
func TestPostgresServer(t *testing.T) {
	srv := testpg.Shared(t)
	db := srv.CreateDatabase(t)
	ctx := context.Background()

	conn, err := sql.Open("pgx", srv.URI(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var user, owner string
	if err := conn.QueryRowContext(ctx,
		"select current_user, pg_get_userbyid(datdba) from pg_database where datname = current_database()").Scan(&user, &owner); err != nil {
		t.Fatalf("query over TCP with the password: %v", err)
	}
	if user != srv.User || owner != srv.User {
		t.Errorf("connected as %q to a database owned by %q, want %q for both", user, owner, srv.User)
	}

	bad, err := sql.Open("pgx", strings.Replace(srv.URI(db), srv.Password, "wrong", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.PingContext(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("wrong password: %v, want a password authentication failure", err)
	}
	if srv.Port == 0 || srv.Host != "127.0.0.1" {
		t.Errorf("server listens on %s:%d", srv.Host, srv.Port)
	}
}
