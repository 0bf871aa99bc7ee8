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

// Rates are the demo's currency rates into US dollars, one per currency the demo players pay in: the
// game pack's revenue converts purchase amounts with them (config rates).
var Rates = []struct {
	Currency string
	Rate     string
}{{"USD", "1"}, {"EUR", "1.08"}, {"KRW", "0.00075"}, {"JPY", "0.0067"}}

// WriteRates writes Rates as a CSV file (currency,rate) at path unless the file exists, so a user's edits
// survive.
func WriteRates(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writing demo rates: %w", err)
	}
	out := []byte("currency,rate\n")
	for _, r := range Rates {
		out = fmt.Appendf(out, "%s,%s\n", r.Currency, r.Rate)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing demo rates: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing demo rates: %w", err)
	}
	return nil
}
