package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestAuthHash: `bigfather auth hash` prints a bcrypt hash of the password on standard input's first line, and
// refuses an empty one with exit code 2.
func TestAuthHash(t *testing.T) {
	cmd := exec.Command(binPath, "auth", "hash")
	cmd.Stdin = strings.NewReader("correct horse battery staple\nignored second line\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("auth hash: %v\n%s", err, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery staple")); err != nil {
		t.Errorf("the printed hash %q does not match the password: %v", hash, err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != 12 {
		t.Errorf("hash cost %d (%v), want 12", cost, err)
	}
	cmd = exec.Command(binPath, "auth", "hash")
	cmd.Stdin = strings.NewReader("")
	errb.Reset()
	cmd.Stderr = &errb
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 2 || !strings.Contains(errb.String(), "the first line of standard input is empty") {
		t.Errorf("empty password: %v, exit %d, stderr %q; want exit 2 naming the empty first line", err, cmd.ProcessState.ExitCode(), errb.String())
	}
}
