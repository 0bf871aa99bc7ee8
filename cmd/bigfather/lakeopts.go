package main

import (
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
)

// lakeOptions are the lake.Open options a config implies: how to reach an s3:// warehouse and a REST catalog.
func lakeOptions(cfg *config.Config) []lake.Option {
	s, c := cfg.S3, cfg.Catalog
	return []lake.Option{lake.WithS3(lake.S3{Endpoint: s.Endpoint, Region: s.Region, PathStyle: s.PathStyle,
		AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}),
		lake.WithREST(lake.REST{Warehouse: c.Warehouse, Prefix: c.Prefix, Token: c.Token, Credential: c.Credential,
			OAuth2ServerURI: c.OAuth2ServerURI, Scope: c.Scope})}
}
