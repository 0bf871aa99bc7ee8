package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

//go:embed definitions/*.json
var definitions embed.FS

// DefinitionNames are the demo game's event types, one log definition (JSON Schema) each.
var DefinitionNames = []string{"session_start", "session_end", "level_up", "item_acquire", "purchase"}

// WriteDefinitions writes the demo game's log definitions into dir (one <event_type>.json each), leaving files
// that already exist alone so a user's edits survive, and returns their paths.
func WriteDefinitions(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing demo definitions: %w", err)
	}
	names, err := fs.Glob(definitions, "definitions/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var paths []string
	for _, n := range names {
		path := filepath.Join(dir, filepath.Base(n))
		paths = append(paths, path)
		if _, err := os.Stat(path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("writing demo definitions: %w", err)
		}
		data, err := definitions.ReadFile(n)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("writing demo definitions: %w", err)
		}
	}
	return paths, nil
}
