package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bigfather/bigfather/internal/testbrowser"
)

// ConfluentNodeVersion is the version of the npm package @kafkajs/confluent-schema-registry that .ci/run
// installs next to playwright-core and testdata/confluent-node/registry.cjs is written against.
const confluentNodeVersion = "4.1.0"

// requireConfluentNode skips t under BIGFATHER_SKIP_BROWSER=1 when node or the npm package
// @kafkajs/confluent-schema-registry is missing, and otherwise fails it with how to install them; it returns the
// node_modules directory holding the package.
func requireConfluentNode(t *testing.T) string {
	t.Helper()
	modules := testbrowser.NodeModules()
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, fmt.Sprintf("node is not on the PATH (%v): install Node.js 20 or newer", err))
	}
	pkg := filepath.Join(modules, "@kafkajs", "confluent-schema-registry", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		missing = append(missing, fmt.Sprintf("@kafkajs/confluent-schema-registry is not installed in %s (no %s): "+
			"install it with `npm install --prefix $HOME/.cache/bigfather-tools/node --no-audit --no-fund "+
			"@kafkajs/confluent-schema-registry@%s` (.ci/run does), or set BIGFATHER_NODE_MODULES to a node_modules "+
			"directory holding it", modules, pkg, confluentNodeVersion))
	}
	if len(missing) == 0 {
		return modules
	}
	if os.Getenv(testbrowser.SkipEnv) == "1" {
		t.Skipf("%s=1 and the Node schema-registry client cannot run: %s", testbrowser.SkipEnv, strings.Join(missing, "; "))
	}
	t.Fatalf("the Node schema-registry client cannot run: %s; or set %s=1 to skip the Node and browser tests",
		strings.Join(missing, "; "), testbrowser.SkipEnv)
	return ""
}

// runNode runs `node script` with NODE_PATH set to modules and the extra environment, and returns its stdout;
// a failure, or a run past two minutes, fails t with its stderr.
func runNode(t *testing.T, modules, script string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), append([]string{"NODE_PATH=" + modules}, extra...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstderr:\n%s\nstdout:\n%s", script, err, stderr.String(), stdout.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("node %s stderr:\n%s", script, s)
	}
	return stdout.String()
}

// nodeRoundTrip is what registry.cjs reports of one schema.
type nodeRoundTrip struct {
	Subject  string          `json:"subject"`
	ID       int             `json:"id"`
	Again    int             `json:"again"`
	LatestID int             `json:"latest_id"`
	Encoded  string          `json:"encoded"`
	Decoded  json.RawMessage `json:"decoded"`
}

// TestConfluentNodeClient: the Node client Confluent users reach for, @kafkajs/confluent-schema-registry, works
// against the registry on the console's port with HTTP Basic credentials (a user's password, a token as the
// password): it registers Avro and Protobuf schemas, encodes and decodes records in the registry's wire format,
// and reads the latest ids; a wrong password is its 401. The registrations are audited under the user's name.
func TestConfluentNodeClient(t *testing.T) {
	modules := requireConfluentNode(t)
	e := newEnv(t)
	const (
		password = "producer password for the node test"
		wrong    = "not the producer's password"
		operator = "operator-token-for-the-node-registry-test"
		admin    = "admin-token-for-the-node-registry-test-01"
	)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BF_NODE_OPERATOR", operator)
	t.Setenv("BF_NODE_ADMIN", admin)
	cfg := withMonitor(t, e.writeConfig("node.events", "node_events", "{interval: 1s}"), fmt.Sprintf(`auth:
  users:
    - {name: producer, password_hash: %q, role: operator}
  tokens:
    - {name: ci, token: "${BF_NODE_OPERATOR}", role: operator}
    - {name: boss, token: "${BF_NODE_ADMIN}", role: admin}
`, hash))
	addr := loopbackAddr(t)
	p := e.startProcess("", "console", "--config", cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("console log:\n%s", p.tail())
		}
	}()
	base := "http://" + addr
	waitFor(t, 60*time.Second, "the HTTP port", func() bool {
		code, _ := httpGet(base + "/healthz")
		return code == 200
	})

	out := runNode(t, modules, filepath.Join("testdata", "confluent-node", "registry.cjs"),
		"REGISTRY_URL="+base, "REGISTRY_USER=producer", "REGISTRY_PASSWORD="+password,
		"REGISTRY_TOKEN="+operator, "REGISTRY_WRONG_PASSWORD="+wrong)
	for _, secret := range []string{password, wrong, operator, admin} {
		if strings.Contains(out, secret) || strings.Contains(p.tail(), secret) {
			t.Errorf("the client's output or the console log shows a credential")
		}
	}
	var got struct {
		Avro, Protobuf nodeRoundTrip
		Wrong          struct {
			Name         string `json:"name"`
			Status       int    `json:"status"`
			Unauthorized bool   `json:"unauthorized"`
			Message      string `json:"message"`
		} `json:"wrong_password"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("the script's summary: %v\n%s", err, out)
	}

	// get reads a registry path over HTTP with Basic credentials.
	get := func(path string, v any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("anyone", admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	for _, tc := range []struct {
		kind, subject, schemaType string
		rt                        nodeRoundTrip
		// payload is the record's encoding after the magic byte and the id: Avro's binary encoding; Protobuf's,
		// without the message-index bytes Confluent's serializers write (this client writes none, and skips
		// leading zero bytes when it reads).
		payload, decoded string
	}{
		{"avro", "node.events-value", "", got.Avro,
			"06" + hex.EncodeToString([]byte("e-1")) + // event_id: length 3 (zigzag 6), "e-1"
				"0e" + // level: 7 (zigzag 14)
				"02" + "0000000000002340", // amount: union branch 1 (double), 9.5 little-endian
			`{"event_id":"e-1","level":7,"amount":9.5}`},
		{"protobuf", "node.purchases-value", "PROTOBUF", got.Protobuf,
			"0a03" + hex.EncodeToString([]byte("p-1")) + // field 1, length 3
				"10cf0f" + // field 2: varint 1999
				"1a05" + hex.EncodeToString([]byte("sword")) + "1a06" + hex.EncodeToString([]byte("shield")), // field 3, twice
			`{"eventId":"p-1","priceCents":1999,"items":["sword","shield"]}`},
	} {
		var latest struct {
			Subject    string `json:"subject"`
			ID         int    `json:"id"`
			Version    int    `json:"version"`
			SchemaType string `json:"schemaType"`
		}
		get("/subjects/"+tc.subject+"/versions/latest", &latest)
		if latest.Subject != tc.subject || latest.Version != 1 || latest.SchemaType != tc.schemaType || latest.ID < 1 {
			t.Errorf("%s: GET /subjects/%s/versions/latest = %+v; want version 1 of type %q", tc.kind, tc.subject, latest, tc.schemaType)
		}
		if tc.rt.Subject != tc.subject || tc.rt.ID != latest.ID || tc.rt.Again != latest.ID || tc.rt.LatestID != latest.ID {
			t.Errorf("%s: the client saw %+v; want id %d (registered, registered again, latest)", tc.kind, tc.rt, latest.ID)
		}
		id := make([]byte, 4)
		binary.BigEndian.PutUint32(id, uint32(latest.ID))
		if want := "00" + hex.EncodeToString(id) + tc.payload; tc.rt.Encoded != want {
			t.Errorf("%s: encoded %s, want %s (magic byte 0, id %d, payload)", tc.kind, tc.rt.Encoded, want, latest.ID)
		}
		if string(tc.rt.Decoded) != tc.decoded {
			t.Errorf("%s: decoded %s, want %s", tc.kind, tc.rt.Decoded, tc.decoded)
		}
	}
	if got.Avro.ID == got.Protobuf.ID {
		t.Errorf("the Avro and the Protobuf schema have the same id %d", got.Avro.ID)
	}
	wantWrong := `{Name:ResponseError Status:401 Unauthorized:true Message:Confluent_Schema_Registry - Unauthorized: wrong name or password}`
	if s := fmt.Sprintf("%+v", got.Wrong); s != wantWrong {
		t.Errorf("a wrong password: the client reports %s\nwant %s", s, wantWrong)
	}

	// The registrations (and the client's config call) are audited under the user's name, via Basic.
	var page struct {
		Items []struct {
			Actor, Via, Action, Outcome string
			Status                      int
		}
	}
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/audit?limit=50", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("boss:"+admin)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d, %v", res.StatusCode, err)
	}
	var entries []string
	for i := len(page.Items) - 1; i >= 0; i-- { // oldest first
		it := page.Items[i]
		entries = append(entries, fmt.Sprintf("%s %s %s %s %d", it.Actor, it.Via, it.Action, it.Outcome, it.Status))
	}
	want := []string{
		"producer basic POST /subjects/node.events-value/versions ok 200",
		"producer basic PUT /config/node.events-value ok 200",
		"producer basic POST /subjects/node.events-value/versions ok 200",
		"producer basic POST /subjects/node.purchases-value/versions ok 200",
		"producer basic PUT /config/node.purchases-value ok 200",
		"producer basic POST /subjects/node.purchases-value/versions ok 200",
	}
	if strings.Join(entries, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(entries, "\n"), strings.Join(want, "\n"))
	}
}
