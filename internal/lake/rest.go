package lake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog/rest"
)

// REST is how the lake reaches an Iceberg REST catalog: the config's catalog keys beside uri. Token and
// Credential are secrets: no error Open returns shows them.
type REST struct {
	// Warehouse is sent as the warehouse parameter of GET /v1/config: a location, or the name of one of the
	// warehouses the server holds. Empty: the lake's warehouse.
	Warehouse string
	// Prefix is the path segment of the catalog's routes (/v1/PREFIX/...); the server's config may set it.
	Prefix string
	// Token is a bearer token sent with every request.
	Token string
	// Credential is an OAuth2 client credential, CLIENT_ID:CLIENT_SECRET, exchanged for a token (and again
	// when it expires) at OAuth2ServerURI, or at the catalog's /v1/oauth/tokens when that is empty.
	Credential      string
	OAuth2ServerURI string
	// Scope is the OAuth2 scope requested with Credential; empty means "catalog".
	Scope string
}

// WithREST sets how an Iceberg REST catalog is reached (warehouse, prefix, authentication).
func WithREST(r REST) Option { return func(l *Lake) { l.rest = r } }

// restOpenTimeout bounds the start-up exchange with a REST catalog (config, and the first token).
const restOpenTimeout = 30 * time.Second

// secrets are the values no message may show: the bearer token and the OAuth2 client secret.
func (r REST) secrets() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s, url.QueryEscape(s))
		}
	}
	add(r.Token)
	if _, secret, ok := strings.Cut(r.Credential, ":"); ok {
		add(secret)
	} else {
		add(r.Credential)
	}
	return out
}

// openREST opens the REST catalog at uri: it fetches the server's config for the warehouse and lists the
// namespaces (with a credential, after fetching the first token), so an unreachable server, a wrong prefix or
// warehouse, or refused credentials fail here with a *CatalogConnectError naming the key to fix.
func (l *Lake) openREST(ctx context.Context, uri string) (*rest.Catalog, error) {
	r := l.rest
	wh := r.Warehouse
	if wh == "" {
		wh = l.warehouse
	}
	opts := []rest.Option{rest.WithWarehouseLocation(wh), rest.WithAdditionalProps(l.catalogProps())}
	if r.Prefix != "" {
		opts = append(opts, rest.WithPrefix(r.Prefix))
	}
	if r.Token != "" {
		opts = append(opts, rest.WithOAuthToken(r.Token))
	}
	if r.Credential != "" {
		opts = append(opts, rest.WithCredential(r.Credential))
		if r.Scope != "" {
			opts = append(opts, rest.WithScope(r.Scope))
		}
		if r.OAuth2ServerURI != "" {
			u, err := url.Parse(r.OAuth2ServerURI)
			if err != nil || u.Host == "" {
				return nil, &CatalogConnectError{URI: RedactURI(uri), Cause: fmt.Sprintf("catalog.oauth2_server_uri %q is not an http(s) URL", r.OAuth2ServerURI), err: err, secrets: r.secrets()}
			}
			opts = append(opts, rest.WithAuthURI(u))
		}
	}
	octx, cancel := context.WithTimeout(ctx, restOpenTimeout)
	defer cancel()
	c, err := rest.NewCatalog(octx, catalogName, uri, opts...)
	if err == nil {
		// GET /v1/config may need no authentication, and an OAuth2 token is fetched lazily, at the first
		// request after it: make one now, so refused credentials fail at start.
		_, err = c.ListNamespaces(octx, nil)
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		return nil, &CatalogConnectError{URI: RedactURI(uri), Cause: r.cause(uri, wh, err), err: err, secrets: r.secrets()}
	}
	return c, nil
}

// cause says in words why opening the REST catalog failed, naming the key to fix.
func (r REST) cause(uri, wh string, err error) string {
	auth := "the REST catalog needs credentials (set catalog.token or catalog.credential)"
	switch {
	case r.Token != "":
		auth = "the REST catalog refused the bearer token (check catalog.token)"
	case r.Credential != "":
		auth = "the OAuth2 server refused the client credentials (check catalog.credential"
		if r.OAuth2ServerURI != "" {
			auth += ", catalog.oauth2_server_uri"
		}
		if r.Scope != "" {
			auth += ", catalog.scope"
		}
		auth += ")"
	}
	var rerr *url.Error
	var operr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, rest.ErrUnauthorized), errors.Is(err, rest.ErrAuthorizationExpired), errors.Is(err, rest.ErrOAuthError),
		strings.Contains(err.Error(), "oauth2: "):
		return auth
	case errors.Is(err, rest.ErrForbidden) && r.Token == "" && r.Credential == "":
		return auth
	case errors.Is(err, rest.ErrForbidden):
		return "the REST catalog denied access (check catalog.token or catalog.credential, and catalog.warehouse)"
	case errors.Is(err, rest.ErrBadRequest):
		return fmt.Sprintf("the REST catalog refused the request for warehouse %q (check catalog.warehouse, or the top-level warehouse)", wh)
	case strings.Contains(err.Error(), "404") || strings.Contains(strings.ToLower(err.Error()), "not found"):
		return fmt.Sprintf("no Iceberg REST catalog answers at %s/v1 (check catalog.uri and catalog.prefix)", RedactURI(uri))
	case errors.As(err, &dnsErr), errors.As(err, &operr):
		return fmt.Sprintf("cannot reach the REST catalog at %s (check catalog.uri)", RedactURI(uri))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the REST catalog at %s did not answer within %s (check catalog.uri)", RedactURI(uri), restOpenTimeout)
	case errors.As(err, &rerr):
		return fmt.Sprintf("cannot reach the REST catalog at %s (check catalog.uri)", RedactURI(uri))
	}
	return "the REST catalog failed (check catalog.uri and the catalog block)"
}
