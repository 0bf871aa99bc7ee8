// Package tests3 starts a real S3 server for tests: versitygw (Apache-2.0) serving a temporary directory on a
// free loopback port, with static credentials. Tests that need S3 fail when the binary is missing, with a
// message saying how to install it; BIGFATHER_SKIP_S3=1 skips them instead, on purpose.
package tests3

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials and region every server uses.
const (
	AccessKey = "bigfather-test-key"
	SecretKey = "bigfather-test-secret-0123456789"
	Region    = "us-east-1"
)

// Install is the command that installs the server.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Server is a running versitygw.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT.
	Endpoint string
	// Dir is the directory holding the buckets (one subdirectory each).
	Dir string

	t      testing.TB
	bin    string
	addr   string
	mu     sync.Mutex
	cmd    *exec.Cmd
	output bytes.Buffer
}

// Binary returns the versitygw binary: on PATH, in $GOBIN, $GOPATH/bin, ~/go/bin or
// ~/.cache/bigfather-tools; "" when none exists.
func Binary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"), filepath.Join(home, ".cache", "bigfather-tools"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Start starts a server for t, stopped in t.Cleanup. A missing binary fails t (or skips it under
// BIGFATHER_SKIP_S3=1).
func Start(t testing.TB) *Server {
	t.Helper()
	if os.Getenv("BIGFATHER_SKIP_S3") == "1" {
		t.Skip("BIGFATHER_SKIP_S3=1: skipping a test that needs an S3 server")
	}
	bin := Binary()
	if bin == "" {
		t.Fatalf("this test needs the versitygw S3 server; install it with `%s` (or set BIGFATHER_SKIP_S3=1 to skip S3 tests)", Install)
	}
	s := &Server{t: t, bin: bin, Dir: t.TempDir()}
	s.addr = freeAddr(t)
	s.Endpoint = "http://" + s.addr
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "--quiet", "--access", AccessKey, "--secret", SecretKey, "--region", Region, "--port", s.addr, "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = &s.output, &s.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting versitygw: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.Client().ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			s.cmd = nil
			return fmt.Errorf("versitygw did not answer on %s within 15s: %v\n%s", s.addr, err, s.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server; the buckets stay in Dir. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts a stopped server again on the same port, with the same buckets.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Client returns an S3 client of the server.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

var bucketSeq struct {
	sync.Mutex
	n int
}

// Bucket creates a new bucket with a unique name and returns it.
func (s *Server) Bucket() string {
	s.t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	name := "bigfather-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(bucketSeq.n)
	bucketSeq.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		s.t.Fatalf("creating bucket %s: %v", name, err)
	}
	return name
}

// Objects lists the keys under prefix in bucket.
func (s *Server) Objects(bucket, prefix string) []string {
	s.t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			s.t.Fatalf("listing s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
