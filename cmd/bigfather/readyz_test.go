package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/testpg"
)

// TestReadyz: /readyz turns not ready naming the failing check when the broker stops and when the Postgres
// catalog becomes unreachable, and ready again after each comes back; /healthz stays alive throughout.
func TestReadyz(t *testing.T) {
	srv := testpg.Start(t)
	e := newEnv(t)
	db := srv.CreateDatabase(t)
	createTopic(t, e, "ready.events", 2)
	t.Setenv(pgPasswordVar, srv.Password)
	cfg := withMonitor(t, e.writePostgresConfig(srv, srv.Port, db, "ready.events", "ready_events", "{interval: 200ms, max_rows: 100000}"), monitorSettings)
	addr := loopbackAddr(t)
	p := e.startStage(cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("stage log:\n%s", p.tail())
		}
	}()
	var body string
	readyz := func(wantCode int, what string, contains ...string) {
		t.Helper()
		waitFor(t, 60*time.Second, what, func() bool {
			var code int
			code, body = httpGet("http://" + addr + "/readyz")
			if code != wantCode {
				return false
			}
			for _, c := range contains {
				if !strings.Contains(body, c) {
					return false
				}
			}
			return true
		})
		if code, alive := httpGet("http://" + addr + "/healthz"); code != 200 || !strings.HasPrefix(alive, `{"status":"alive"`) {
			t.Errorf("/healthz while %s: %d %s", what, code, alive)
		}
		if strings.Contains(body, srv.Password) {
			t.Errorf("/readyz shows the catalog password: %s", body)
		}
	}
	readyz(200, "ready at first", `"status":"ready"`, `{"name":"kafka","ok":true}`, `{"name":"catalog","ok":true}`, `{"name":"warehouse","ok":true}`, `{"name":"pipelines","ok":true}`)

	// The broker stops: kafka fails, the others pass.
	brokerAddr := e.broker.Addr()
	e.broker.Close()
	readyz(503, "not ready naming kafka", `"status":"not ready"`, `"error":"kafka: `, `{"name":"kafka","ok":false,"message":"kafka: `, `{"name":"catalog","ok":true}`)
	b, err := broker.Start(broker.Options{Listen: brokerAddr, DataDir: filepath.Join(e.dir, "broker"), Partitions: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e.broker = b
	readyz(200, "ready after the broker is back", `"status":"ready"`, `{"name":"kafka","ok":true}`)

	// The catalog stops answering for a while.
	stopped := make(chan error, 1)
	go func() { stopped <- srv.StopFor(15 * time.Second) }()
	readyz(503, "not ready naming the catalog", `"status":"not ready"`, `{"name":"catalog","ok":false,"message":"catalog unreachable`, `{"name":"kafka","ok":true}`)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	readyz(200, "ready after the catalog is back", `"status":"ready"`, `{"name":"catalog","ok":true}`)
}
