package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/registry"
)

// registryDefinitions reads, for every pipeline with definitions.registry, its log definitions from the
// schema registry in the catalog database, by pipeline name; nil when no pipeline takes any. A subject that
// cannot be a definition, or a prefix without subjects, is a configuration error (exit 2) naming the
// pipeline; a database that does not answer is not.
func registryDefinitions(ctx context.Context, cfg *config.Config, pipes []*config.Pipeline, log *slog.Logger) (map[string][]quality.DefinitionSource, error) {
	var want []*config.Pipeline
	for _, p := range pipes {
		if p.Definitions.Registry.Enabled() {
			want = append(want, p)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	store, err := registry.Open(ctx, cfg.Catalog.URI)
	if err != nil {
		return nil, fmt.Errorf("opening the schema registry for the log definitions: %w", err)
	}
	defer store.Close()
	out := map[string][]quality.DefinitionSource{}
	for _, p := range want {
		prefix := p.Definitions.Registry.SubjectPrefix
		defs, err := store.Definitions(ctx, prefix)
		var de *registry.DefinitionError
		if errors.As(err, &de) {
			return nil, usagef("pipeline %s: definitions.registry: %v", p.Name, err)
		}
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		if len(defs) == 0 {
			return nil, usagef("pipeline %s: definitions.registry: no subject in the schema registry starts with %q (register one JSON schema per event type, as subject %sEVENT_TYPE)",
				p.Name, prefix, prefix)
		}
		srcs := make([]quality.DefinitionSource, len(defs))
		types := make([]string, len(defs))
		for i, d := range defs {
			srcs[i] = quality.DefinitionSource{EventType: d.EventType, Version: d.Version, Schema: []byte(d.Schema),
				Origin: fmt.Sprintf("registry subject %s, version %d", d.Subject, d.Version)}
			types[i] = fmt.Sprintf("%s@%d", d.EventType, d.Version)
		}
		out[p.Name] = srcs
		log.Info("log definitions from the schema registry", "pipeline", p.Name, "subject_prefix", prefix, "definitions", types)
	}
	return out, nil
}
