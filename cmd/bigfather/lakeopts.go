package main

import (
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
)

// lakeOptions are the lake.Open options a config implies: how to reach an s3:// warehouse.
func lakeOptions(cfg *config.Config) []lake.Option {
	s := cfg.S3
	return []lake.Option{lake.WithS3(lake.S3{Endpoint: s.Endpoint, Region: s.Region, PathStyle: s.PathStyle,
		AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey})}
}
