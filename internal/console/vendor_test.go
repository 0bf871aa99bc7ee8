package console

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// The vendored browser libraries under web/vendor must be exactly what web/vendor/MANIFEST says came from the
// npm registry: every listed file present with its sha256, every file listed (README.md says how to update).
func TestVendoredFilesMatchManifest(t *testing.T) {
	for _, err := range checkVendor(os.DirFS("web/vendor")) {
		t.Error(err)
	}
}

func TestCheckVendor(t *testing.T) {
	const (
		lib       = "console.log('lib');\n"
		integrity = "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
	)
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	line := func(hash, p string) string { return hash + "  " + p + "  lib@1.0.0  " + integrity + "\n" }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // the errors, in order
	}{
		{
			name: "matches",
			files: fstest.MapFS{
				"MANIFEST":   {Data: []byte("# comment\n\n" + line(sum(lib), "lib/lib.js"))},
				"README.md":  {Data: []byte("# readme\n")},
				"lib/lib.js": {Data: []byte(lib)},
			},
		},
		{
			name: "changed file",
			files: fstest.MapFS{
				"MANIFEST":   {Data: []byte(line(sum(lib), "lib/lib.js"))},
				"lib/lib.js": {Data: []byte(lib + "// edited\n")},
			},
			want: []string{fmt.Sprintf("web/vendor/lib/lib.js: sha256 %s, but MANIFEST line 1 says %s (from lib@1.0.0): the file is not what was vendored",
				sum(lib+"// edited\n"), sum(lib))},
		},
		{
			name: "missing file",
			files: fstest.MapFS{
				"MANIFEST": {Data: []byte(line(sum(lib), "lib/lib.js"))},
			},
			want: []string{"web/vendor/MANIFEST line 1: lib/lib.js: open lib/lib.js: file does not exist"},
		},
		{
			name: "unlisted file",
			files: fstest.MapFS{
				"MANIFEST":     {Data: []byte(line(sum(lib), "lib/lib.js"))},
				"lib/lib.js":   {Data: []byte(lib)},
				"lib/extra.js": {Data: []byte("x")},
			},
			want: []string{"web/vendor/lib/extra.js is not listed in web/vendor/MANIFEST: vendor files come from a package, listed with their sha256 (see web/vendor/README.md)"},
		},
		{
			name: "malformed lines",
			files: fstest.MapFS{
				"MANIFEST": {Data: []byte(
					sum(lib) + "  lib/lib.js  lib@1.0.0\n" +
						line("abc", "lib/lib.js") +
						line(sum(lib), "../lib.js") +
						sum(lib) + "  lib/lib.js  lib  " + integrity + "\n" +
						sum(lib) + "  lib/lib.js  lib@1.0.0  sha1-abc\n" +
						line(sum(lib), "lib/lib.js") +
						line(sum(lib), "lib/lib.js"))},
				"lib/lib.js": {Data: []byte(lib)},
			},
			want: []string{
				`web/vendor/MANIFEST line 1: want 4 fields (sha256, path, package@version, integrity), got 3`,
				`web/vendor/MANIFEST line 2: sha256 "abc" is not 64 lowercase hex digits`,
				`web/vendor/MANIFEST line 3: path "../lib.js" is not a clean relative path inside web/vendor`,
				`web/vendor/MANIFEST line 4: source "lib" is not an npm package@version`,
				`web/vendor/MANIFEST line 5: integrity "sha1-abc" is not a sha512-<base64> dist.integrity`,
				`web/vendor/MANIFEST line 7: lib/lib.js is listed again (first on line 6)`,
			},
		},
		{
			name:  "no manifest",
			files: fstest.MapFS{"lib/lib.js": {Data: []byte(lib)}},
			want:  []string{"web/vendor/MANIFEST: open MANIFEST: file does not exist"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, err := range checkVendor(tc.files) {
				got = append(got, err.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("checkVendor:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

var (
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	npmSource    = regexp.MustCompile(`^(@[a-z0-9._-]+/)?[a-z0-9._-]+@[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$`)
	npmIntegrity = regexp.MustCompile(`^sha512-[A-Za-z0-9+/]+={0,2}$`)
)

// checkVendor checks the vendor tree fsys (web/vendor) against its MANIFEST: well-formed lines, every listed file
// present with the listed sha256, every file but MANIFEST and README.md listed. It returns every problem found.
func checkVendor(fsys fs.FS) []error {
	manifest, err := fs.ReadFile(fsys, "MANIFEST")
	if err != nil {
		return []error{fmt.Errorf("web/vendor/MANIFEST: %w", err)}
	}
	var errs []error
	listed := map[string]int{} // path -> MANIFEST line
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("web/vendor/MANIFEST line %d: "+format, append([]any{n}, args...)...))
		}
		fields := strings.Fields(text)
		if len(fields) != 4 {
			fail("want 4 fields (sha256, path, package@version, integrity), got %d", len(fields))
			continue
		}
		hash, name, source, integrity := fields[0], fields[1], fields[2], fields[3]
		switch {
		case !sha256Hex.MatchString(hash):
			fail("sha256 %q is not 64 lowercase hex digits", hash)
			continue
		case !fs.ValidPath(name) || path.Clean(name) != name || name == "." || name == "MANIFEST" || name == "README.md":
			fail("path %q is not a clean relative path inside web/vendor", name)
			continue
		case !npmSource.MatchString(source):
			fail("source %q is not an npm package@version", source)
			continue
		case !npmIntegrity.MatchString(integrity):
			fail("integrity %q is not a sha512-<base64> dist.integrity", integrity)
			continue
		}
		if first, ok := listed[name]; ok {
			fail("%s is listed again (first on line %d)", name, first)
			continue
		}
		listed[name] = n
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			fail("%s: %w", name, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != hash {
			errs = append(errs, fmt.Errorf("web/vendor/%s: sha256 %s, but MANIFEST line %d says %s (from %s): the file is not what was vendored",
				name, got, n, hash, source))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("web/vendor/MANIFEST: %w", err))
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || p == "MANIFEST" || p == "README.md" {
			return nil
		}
		if _, ok := listed[p]; !ok {
			errs = append(errs, fmt.Errorf("web/vendor/%s is not listed in web/vendor/MANIFEST: vendor files come from a package, listed with their sha256 (see web/vendor/README.md)", p))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("walking web/vendor: %w", err))
	}
	return errs
}
