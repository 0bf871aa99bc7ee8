package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestRESTCatalogBlock: the REST catalog keys decode, ${VAR} fills the secrets, and String hides them.
func TestRESTCatalogBlock(t *testing.T) {
	t.Setenv("BF_REST_SECRET", "very-secret-client-0123456789")
	t.Setenv("BF_REST_TOKEN", "very-secret-token-0123456789")
	cfg, err := Parse("rest.yaml", []byte(`warehouse: s3://lake
s3: {endpoint: "http://127.0.0.1:8333"}
catalog:
  uri: https://catalog.example.com/api
  warehouse: prod
  prefix: ws/prod
  credential: bigfather:${BF_REST_SECRET}
  oauth2_server_uri: https://idp.example.com/oauth/token
  scope: PRINCIPAL_ROLE:ALL
`+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Catalog
	if !c.REST() || c.Warehouse != "prod" || c.Prefix != "ws/prod" || c.Credential != "bigfather:very-secret-client-0123456789" ||
		c.OAuth2ServerURI != "https://idp.example.com/oauth/token" || c.Scope != "PRINCIPAL_ROLE:ALL" {
		t.Errorf("catalog block: %+v", c)
	}
	for _, out := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(out, "very-secret") {
			t.Errorf("the secret is printed: %s", out)
		}
		if !strings.Contains(out, `"bigfather:<redacted>"`) {
			t.Errorf("the client id should stay visible: %s", out)
		}
	}
	cfg, err = Parse("token.yaml", []byte("catalog: {uri: 'http://127.0.0.1:8181', token: '${BF_REST_TOKEN}'}\n"+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Catalog.Token != "very-secret-token-0123456789" || strings.Contains(cfg.Catalog.String(), "very-secret") {
		t.Errorf("token: %v", cfg.Catalog)
	}
}

// TestRESTCatalogErrors: every problem with the REST keys names file, line and key, and no secret appears.
func TestRESTCatalogErrors(t *testing.T) {
	const secret = "literal-secret-0123456789"
	const rest = "catalog:\n  uri: http://127.0.0.1:8181\n"
	for _, tc := range []struct{ yaml, want string }{
		{"catalog:\n  uri: sqlite://c.db\n  token: " + secret + "\n", "rest.yaml:3: catalog.token: applies only to an Iceberg REST catalog"},
		{"catalog:\n  uri: postgres://u@h/db\n  warehouse: w\n", "rest.yaml:3: catalog.warehouse: applies only to an Iceberg REST catalog"},
		{rest + "  token: " + secret + "\n  credential: id:" + secret + "\n", "rest.yaml:4: catalog.credential: give catalog.token or catalog.credential, not both"},
		{rest + "  credential: " + secret + "\n", "rest.yaml:3: catalog.credential: expected CLIENT_ID:CLIENT_SECRET"},
		{rest + "  credential: 'id:'\n", "rest.yaml:3: catalog.credential: expected CLIENT_ID:CLIENT_SECRET"},
		{rest + "  scope: catalog\n", "rest.yaml:3: catalog.scope: needs catalog.credential"},
		{rest + "  oauth2_server_uri: https://idp/token\n", "rest.yaml:3: catalog.oauth2_server_uri: needs catalog.credential"},
		{rest + "  credential: id:" + secret + "\n  oauth2_server_uri: idp/token\n", `rest.yaml:4: catalog.oauth2_server_uri: expected an http(s):// URL of the OAuth2 token endpoint, got "idp/token"`},
		{rest + "  prefix: /ws/\n", `rest.yaml:3: catalog.prefix: expected a path segment`},
		{rest + "  tokn: x\n", "rest.yaml:3: catalog.tokn: unknown key"},
		// A later problem's message quoting a secret shows it redacted.
		{rest + "  token: " + secret + "\nhttp: " + secret + "\n", `http: expected host:port, got "<redacted>"`},
		{rest + "  credential: id:" + secret + "\nhttp: " + secret + "\n", `http: expected host:port, got "<redacted>"`},
	} {
		_, err := Parse("rest.yaml", []byte(tc.yaml+s3Pipelines))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.yaml, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the secret appears in %v", err)
		}
	}
}
