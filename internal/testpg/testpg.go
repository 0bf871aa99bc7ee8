// Package testpg starts throwaway PostgreSQL servers for tests: a real cluster (initdb, then postgres in the
// foreground) in a temporary directory, listening on a free loopback port only, with its unix socket in that
// directory and a password-protected role for the code under test. initdb and postgres refuse to run as root,
// so under root they run as the postgres user (in a directory handed to that user).
//
// The server is a child of the test binary and gets SIGQUIT if the binary dies without stopping it (a test
// timeout, a crash), so no cluster outlives its tests. When the server binaries are not installed the helpers
// fail the test with a message saying how to install them; BIGFATHER_SKIP_POSTGRES=1 skips instead.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// SkipEnv names the environment variable that, set to 1, makes the helpers skip the test instead of failing it
// when Postgres is not installed (or at all, to leave the Postgres tests out on purpose).
const SkipEnv = "BIGFATHER_SKIP_POSTGRES"

// superuser is the cluster's bootstrap superuser; it connects through the unix socket only (trust).
const superuser = "postgres"

// Server is a running throwaway Postgres cluster.
type Server struct {
	// Host and Port are the loopback address the server listens on (TCP, password authentication).
	Host string
	Port int
	// User and Password are the role tests connect as: it may log in over TCP with the password and create
	// databases, and owns every database CreateDatabase makes.
	User     string
	Password string

	dir     string // temporary root: data directory, unix socket, log
	bin     string // directory holding initdb and postgres
	cred    *syscall.Credential
	logPath string

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc exits
	dbs  atomic.Int64
}

// New creates a cluster in a new temporary directory and starts it on a free loopback port. Stop removes it.
func New() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", User: "bigfather", Password: randomHex(12), bin: bin}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("testpg: running as root, the server must run as the postgres user, which does not exist (%v): install postgresql", err)
		}
		uid, _ := strconv.ParseUint(pg.Uid, 10, 32)
		gid, _ := strconv.ParseUint(pg.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if s.dir, err = s.makeDir(); err != nil {
		return nil, err
	}
	s.logPath = filepath.Join(s.dir, "postgres.log")
	if err := s.initdb(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	// A free port can be taken between finding it and binding it: try a few.
	for attempt := 0; ; attempt++ {
		if s.Port, err = FreePort(); err == nil {
			err = s.start()
		}
		if err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if err := s.adminExec(context.Background(), "postgres",
		fmt.Sprintf("CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s'", s.User, s.Password)); err != nil {
		s.Stop()
		return nil, fmt.Errorf("testpg: creating role %s: %w", s.User, err)
	}
	return s, nil
}

// makeDir creates the cluster's temporary directory, owned by the user the server runs as. Under root the
// postgres user must also be able to reach it, so it goes to /tmp when TMPDIR is under a private directory.
func (s *Server) makeDir() (string, error) {
	parent := os.TempDir()
	if s.cred != nil && !reachableByAll(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "bigfather-pg-")
	if err != nil {
		return "", fmt.Errorf("testpg: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("testpg: %w", err)
	}
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("testpg: handing %s to the postgres user: %w", dir, err)
		}
	}
	return dir, nil
}

// reachableByAll reports whether every directory from / to dir lets others through (o+x).
func reachableByAll(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return cmd
}

func (s *Server) initdb() error {
	cmd := s.command("initdb", "-D", s.dataDir(), "-U", superuser, "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale", "--no-sync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testpg: initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs postgres in the foreground on s.Port and waits until it accepts connections.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testpg: %w", err)
	}
	defer logf.Close()
	cmd := s.command("postgres", "-D", s.dataDir(), "-p", strconv.Itoa(s.Port), "-h", s.Host, "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Immediate shutdown when the test binary dies without stopping the server.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("testpg: starting postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.proc, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := s.adminExec(ctx, "postgres", "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("testpg: postgres exited at start on port %d:\n%s", s.Port, s.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("testpg: postgres did not accept connections within 60s (%v):\n%s", err, s.LogTail())
		}
	}
}

// spawn starts cmd from one OS thread that lives as long as the process: the parent-death signal follows the
// thread that forked, and the Go runtime may retire other threads.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.ch = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawner.ch {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.ch <- func() { errc <- cmd.Start() }
	return <-errc
}

var spawner struct {
	once sync.Once
	ch   chan func()
}

// adminDSN connects as the superuser through the unix socket.
func (s *Server) adminDSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=5", s.dir, s.Port, superuser, db)
}

func (s *Server) adminExec(ctx context.Context, db, query string) error {
	conn, err := sql.Open("pgx", s.adminDSN(db))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, query)
	return err
}

// URI returns the postgres:// URI of database db for User, with the password.
func (s *Server) URI(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// URIWithoutPassword returns the postgres:// URI of database db for User, without a password (for PGPASSWORD).
func (s *Server) URIWithoutPassword(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(s.User), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDatabase creates an empty database owned by User and returns its name; it is dropped (disconnecting
// whoever is still connected) when the test ends.
func (s *Server) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", s.dbs.Add(1), randomHex(4))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.adminExec(ctx, "postgres", fmt.Sprintf("CREATE DATABASE %s OWNER %s", name, s.User)); err != nil {
		t.Fatalf("testpg: creating database %s: %v\n%s", name, err, s.LogTail())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.adminExec(ctx, "postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil && s.running() {
			t.Errorf("testpg: dropping database %s: %v", name, err)
		}
	})
	return name
}

// Exec runs query as the superuser in database db.
func (s *Server) Exec(ctx context.Context, db, query string) error {
	return s.adminExec(ctx, db, query)
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// shutdown stops the server with a fast shutdown (clients disconnected, no waiting for them), killing it if
// that takes longer than 20s.
func (s *Server) shutdown() {
	s.mu.Lock()
	proc, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		return
	}
	_ = proc.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	proc, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if proc != nil {
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Restart stops the server and starts it again on the same port, keeping its databases: connections open
// before the restart are broken.
func (s *Server) Restart() error {
	s.shutdown()
	return s.start()
}

// StopFor stops the server, waits d and starts it again on the same port.
func (s *Server) StopFor(d time.Duration) error {
	s.shutdown()
	time.Sleep(d)
	return s.start()
}

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() error {
	s.shutdown()
	return os.RemoveAll(s.dir)
}

// LogTail returns the end of the server's log, for failure messages.
func (s *Server) LogTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// Start starts a server for this test, stopped and removed when the test ends. It fails the test when the
// Postgres server binaries are missing, and skips it when BIGFATHER_SKIP_POSTGRES=1.
func Start(t testing.TB) *Server {
	t.Helper()
	skipIfAsked(t)
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("testpg: %v", err)
		}
	})
	return s
}

var shared struct {
	mu   sync.Mutex
	main bool // Main runs the tests, so it stops the shared server
	srv  *Server
	err  error
}

// Shared returns the test binary's one server, starting it on first use; Main stops it after the last test.
// It fails the test when the binary's TestMain does not go through Main, or when the server binaries are
// missing, and skips it when BIGFATHER_SKIP_POSTGRES=1.
func Shared(t testing.TB) *Server {
	t.Helper()
	skipIfAsked(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.main {
		t.Fatal("testpg.Shared: the package's TestMain must run the tests through testpg.Main, which stops the shared server")
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = New()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Main runs the tests (m.Run) and then stops the shared server if a test started it; use it as
// `func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }`.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testpg:", err)
		}
		shared.srv = nil
	}
	return code
}

func skipIfAsked(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1: skipping the Postgres test")
	}
}

// binDir finds the directory holding initdb and postgres: $BIGFATHER_PG_BIN when set, else the newest Debian
// /usr/lib/postgresql/N/bin, else the PATH.
func binDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	missing := errors.New("testpg: the PostgreSQL server binaries (initdb, postgres) are not installed: " +
		"install them with `apt-get install -y postgresql` (Debian/Ubuntu; .ci/run does), or set " + SkipEnv +
		"=1 to skip the Postgres tests")
	if d := os.Getenv("BIGFATHER_PG_BIN"); d != "" {
		if !has(d) {
			return "", fmt.Errorf("%w (BIGFATHER_PG_BIN=%s holds no initdb and postgres)", missing, d)
		}
		return d, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(matches, func(a, b string) int { return version(b) - version(a) })
	for _, m := range matches {
		if has(filepath.Dir(m)) {
			return filepath.Dir(m), nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", missing
}

// version is N of /usr/lib/postgresql/N/bin/initdb (0 when not a number).
func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// FreePort returns a loopback TCP port nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testpg: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String describes the server without its password.
func (s *Server) String() string {
	return fmt.Sprintf("postgres %s:%d (dir %s)", s.Host, s.Port, strings.TrimSuffix(s.dir, "/"))
}
