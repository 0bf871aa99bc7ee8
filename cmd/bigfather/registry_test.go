package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// TestRegistryOnMainPort: the schema registry answers on the main HTTP port of a stage process, to franz-go's
// own registry client, with the console's tokens and roles in front of it and its changes in the audit log.
func TestRegistryOnMainPort(t *testing.T) {
	e := newEnv(t)
	createTopic(t, e, "reg.events", 1)
	const viewer, operator, admin = "viewer-token-for-the-registry-test-0001", "operator-token-for-the-registry-test-01", "admin-token-for-the-registry-test-000001"
	t.Setenv("BF_REG_VIEWER", viewer)
	t.Setenv("BF_REG_OPERATOR", operator)
	t.Setenv("BF_REG_ADMIN", admin)
	cfg := withMonitor(t, e.writeConfig("reg.events", "reg_events", "{interval: 200ms}"), `auth:
  tokens:
    - {name: reader, token: "${BF_REG_VIEWER}", role: viewer}
    - {name: writer, token: "${BF_REG_OPERATOR}", role: operator}
    - {name: boss, token: "${BF_REG_ADMIN}", role: admin}
`)
	addr := loopbackAddr(t)
	p := e.startStage(cfg, "--http", addr)
	defer func() {
		if t.Failed() {
			t.Logf("stage log:\n%s", p.tail())
		}
	}()
	waitFor(t, 60*time.Second, "the HTTP port", func() bool {
		code, _ := httpGet("http://" + addr + "/healthz")
		return code == 200
	})
	ctx := context.Background()
	client := func(opts ...sr.ClientOpt) *sr.Client {
		cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs("http://" + addr)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	writer, reader, anonymous := client(sr.BearerToken(operator)), client(sr.BearerToken(viewer)), client()

	const v1 = `{"type":"record","name":"Event","namespace":"game","fields":[{"name":"event_id","type":"string"}]}`
	// The same schema written differently: found by lookup, same id, no new version.
	const v1Spaced = `{ "type": "record", "namespace": "game", "name": "Event",
	  "fields": [ { "type": "string", "name": "event_id" } ] }`
	const v2 = `{"type":"record","name":"Event","namespace":"game","fields":[{"name":"event_id","type":"string"},{"name":"level","type":"int","default":0}]}`
	const bad = `{"type":"record","name":"Event","namespace":"game","fields":[{"name":"event_id","type":"string"},{"name":"level","type":"int"}]}`
	const retyped = `{"type":"record","name":"Event","namespace":"game","fields":[{"name":"event_id","type":"long"},{"name":"level","type":"int","default":0}]}`

	got, err := writer.CreateSchema(ctx, "reg.events-value", sr.Schema{Schema: v1})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.ID < 1 {
		t.Fatalf("first registration: %+v", got)
	}
	again, err := writer.CreateSchema(ctx, "reg.events-value", sr.Schema{Schema: v1Spaced})
	if err != nil || again.ID != got.ID || again.Version != 1 {
		t.Errorf("the same schema written differently: %+v, %v; want id %d version 1", again, err, got.ID)
	}
	byID, err := reader.SchemaByID(ctx, got.ID)
	if err != nil || byID.Schema != v1 || byID.Type != sr.TypeAvro {
		t.Errorf("SchemaByID(%d) = %+v, %v; want the text first registered", got.ID, byID, err)
	}
	compat, err := reader.CheckCompatibility(ctx, "reg.events-value", -1, sr.Schema{Schema: bad})
	if err != nil || compat.Is {
		t.Errorf("a new field without a default under BACKWARD: %+v, %v; want incompatible", compat, err)
	}
	second, err := writer.CreateSchema(ctx, "reg.events-value", sr.Schema{Schema: v2})
	if err != nil || second.Version != 2 || second.ID == got.ID {
		t.Errorf("a compatible second version: %+v, %v", second, err)
	}
	_, err = writer.CreateSchema(ctx, "reg.events-value", sr.Schema{Schema: retyped})
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 409 || re.ErrorCode != 409 {
		t.Errorf("an incompatible version: %v, want 409", err)
	}

	// Roles: a viewer reads but may not register; no token, no access.
	_, err = reader.CreateSchema(ctx, "other-value", sr.Schema{Schema: v1})
	if !errors.As(err, &re) || re.StatusCode != 403 || re.ErrorCode != 40301 || !strings.Contains(re.Message, "operator") {
		t.Errorf("a viewer registering: %v, want 403/40301 naming the operator role", err)
	}
	_, err = anonymous.Subjects(ctx)
	if !errors.As(err, &re) || re.StatusCode != 401 || re.ErrorCode != 40101 {
		t.Errorf("no token: %v, want 401/40101", err)
	}
	subjects, err := reader.Subjects(ctx)
	if err != nil || strings.Join(subjects, ",") != "reg.events-value" {
		t.Errorf("subjects: %v, %v", subjects, err)
	}

	// Every change went to the audit log, the denied one too; reads and compatibility checks did not.
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/audit?limit=50", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			Actor, Action, Outcome string
			Status                 int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d, %v", resp.StatusCode, err)
	}
	var entries []string
	for i := len(page.Items) - 1; i >= 0; i-- { // oldest first
		it := page.Items[i]
		entries = append(entries, fmt.Sprintf("%s %s %s %d", it.Actor, it.Action, it.Outcome, it.Status))
	}
	want := []string{
		"writer POST /subjects/reg.events-value/versions ok 200",
		"writer POST /subjects/reg.events-value/versions ok 200",
		"writer POST /subjects/reg.events-value/versions ok 200",
		"writer POST /subjects/reg.events-value/versions error 409",
		"reader POST /subjects/other-value/versions denied 403",
	}
	if strings.Join(entries, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(entries, "\n"), strings.Join(want, "\n"))
	}
}
