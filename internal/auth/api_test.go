package auth_test

import (
	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
)

// The Authenticator is what the API frame identifies callers and guards mutations with.
var _ api.Authenticator = (*auth.Authenticator)(nil)
