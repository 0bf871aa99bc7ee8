// Package testrest starts a real Iceberg REST catalog for tests: SeaweedFS's `weed mini` (Apache-2.0), which
// serves the Iceberg REST API and S3 from one process, on free loopback ports with a temporary data
// directory, static S3 credentials (also the catalog's OAuth2 client credentials) and one table bucket as
// the warehouse. Tests that need it fail when the binary is missing, with a message saying how to build it;
// BIGFATHER_SKIP_REST=1 skips them instead, on purpose.
package testrest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Credentials and region the server uses. The access key and secret are its S3 admin identity and, as
// AccessKey:SecretKey, the OAuth2 client credentials its catalog exchanges for tokens.
const (
	AccessKey = "bigfather-rest-key"
	SecretKey = "bigfather-rest-secret-0123456789"
	Region    = "us-east-1"
	// Bucket is the table bucket created at start: the catalog's default warehouse, s3://Bucket.
	Bucket = "bigfather-warehouse"
)

// Version is the SeaweedFS version the tests run against.
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// Build is how to build the binary where Binary finds it.
const Build = `d=$(mktemp -d) && cd $d && go mod init tmp && go mod download github.com/seaweedfs/seaweedfs@` + Version +
	` && cp -r "$(go env GOMODCACHE)/github.com/seaweedfs/seaweedfs@` + Version + `" src && chmod -R u+w src && cd src && go build -o $HOME/.cache/bigfather-tools/weed ./weed`

// Server is a running `weed mini`.
type Server struct {
	// CatalogURI is the Iceberg REST catalog's base URL, http://127.0.0.1:PORT.
	CatalogURI string
	// S3Endpoint is the S3 API's base URL, http://127.0.0.1:PORT.
	S3Endpoint string
	// Warehouse is s3://Bucket.
	Warehouse string
	// Dir is the server's data directory.
	Dir string

	t      testing.TB
	bin    string
	args   []string
	mu     sync.Mutex // guards cmd
	cmd    *exec.Cmd
	outMu  sync.Mutex // guards output
	output bytes.Buffer
}

// Binary returns the weed binary: $BIGFATHER_WEED, ~/.cache/bigfather-tools/weed, or weed on PATH; "" when
// none exists.
func Binary() string {
	if p := os.Getenv("BIGFATHER_WEED"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "bigfather-tools", "weed")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	return ""
}

// Start starts a server for t, stopped in t.Cleanup. A missing binary fails t (or skips it under
// BIGFATHER_SKIP_REST=1).
func Start(t testing.TB) *Server {
	t.Helper()
	if os.Getenv("BIGFATHER_SKIP_REST") == "1" {
		t.Skip("BIGFATHER_SKIP_REST=1: skipping a test that needs an Iceberg REST catalog")
	}
	bin := Binary()
	if bin == "" {
		t.Fatalf("this test needs SeaweedFS's weed binary (the Iceberg REST catalog server) in ~/.cache/bigfather-tools/weed; build it with\n  %s\n(.ci/run does this; or set BIGFATHER_SKIP_REST=1 to skip REST catalog tests)", Build)
	}
	s := &Server{t: t, bin: bin, Dir: t.TempDir(), Warehouse: "s3://" + Bucket}
	ports := freePorts(t, 11)
	port := func(i int) string { return strconv.Itoa(ports[i]) }
	s.S3Endpoint = "http://127.0.0.1:" + port(6)
	s.CatalogURI = "http://127.0.0.1:" + port(8)
	s.args = []string{"mini",
		"-dir=" + s.Dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + port(0), "-master.port.grpc=" + port(1), "-master.telemetry=false",
		"-volume.port=" + port(2), "-volume.port.grpc=" + port(3),
		"-filer.port=" + port(4), "-filer.port.grpc=" + port(5),
		"-s3.port=" + port(6), "-s3.port.grpc=" + port(7), "-s3.port.iceberg=" + port(8), "-s3.port.lance=0",
		"-admin.ui=false", "-admin.port=" + port(9), "-admin.port.grpc=" + port(10), "-admin.port.legacy=0",
		"-webdav=false", "-tableBucket=" + Bucket,
		"-filer.localSocket=" + filepath.Join(s.Dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(s.Dir, "s3.sock"),
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// freePorts returns n distinct free loopback ports.
func freePorts(t testing.TB, n int) []int {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, 0, n)
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out
}

// startTimeout bounds how long the server may take to serve the catalog and its table bucket.
const startTimeout = 90 * time.Second

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey)
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &s.outMu, b: &s.output}, &lockedWriter{mu: &s.outMu, b: &s.output}
	// Its own process group, so Stop ends every process it started; Pdeathsig ends it with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting weed mini: %w", err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(startTimeout)
	var last error
	for {
		last = s.ready()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("weed mini exited before its Iceberg REST catalog answered: %v\n%s", last, s.Output())
		default:
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			s.cmd = nil
			return fmt.Errorf("weed mini's Iceberg REST catalog did not answer on %s within %s: %v\n%s", s.CatalogURI, startTimeout, last, s.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lockedWriter lets the server's output be read while the process writes it.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// ready reports whether the catalog answers an authenticated request for the warehouse: a token, then the
// list of namespaces of the table bucket (which exists only once the server created it).
func (s *Server) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := s.token(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.CatalogURI+"/v1/"+Bucket+"/namespaces", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		return fmt.Errorf("GET /v1/%s/namespaces: %s: %s", Bucket, resp.Status, strings.TrimSpace(body.String()))
	}
	return nil
}

// Token returns a bearer token of the server's catalog (from its OAuth2 endpoint, for AccessKey:SecretKey).
func (s *Server) Token() string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := s.token(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func (s *Server) token(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {AccessKey}, "client_secret": {SecretKey}, "scope": {"catalog"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.CatalogURI+"/v1/oauth/tokens", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /v1/oauth/tokens: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("POST /v1/oauth/tokens: no access token (%v)", err)
	}
	return out.AccessToken, nil
}

// Credential is the catalog's OAuth2 client credential, AccessKey:SecretKey.
func (s *Server) Credential() string { return AccessKey + ":" + SecretKey }

// Stop stops the server (the whole process group); its data stays in Dir. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	for range 100 { // the waiter goroutine reaps it
		if syscall.Kill(cmd.Process.Pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Output is what the server printed so far, for failure messages.
func (s *Server) Output() string {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return s.output.String()
}
