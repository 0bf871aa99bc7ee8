package runbook

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/runbooks.md from the runbooks")

const docPath = "../../docs/runbooks.md"

// TestMarkdownUpToDate: docs/runbooks.md is exactly what Markdown renders; -update rewrites it.
func TestMarkdownUpToDate(t *testing.T) {
	want := Markdown()
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run `go test ./internal/runbook -update` to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the runbooks; run `go test ./internal/runbook -update` and commit it", docPath)
	}
}

// TestRunbooks: ids are unique link-safe slugs, every status but OK has a runbook naming it, and no runbook
// has an empty part.
func TestRunbooks(t *testing.T) {
	idRe := regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	seen := map[string]bool{}
	statuses := map[string]string{}
	for _, r := range All() {
		if !idRe.MatchString(r.ID) {
			t.Errorf("id %q is not [a-z][a-z0-9-]*", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("duplicate id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Meaning == "" || len(r.Confirm) == 0 || len(r.Actions) == 0 {
			t.Errorf("runbook %q has an empty part: %+v", r.ID, r)
		}
		for _, s := range append(append([]string{r.Title, r.Meaning}, r.Confirm...), r.Actions...) {
			if strings.Count(s, "`")%2 != 0 {
				t.Errorf("runbook %q: unbalanced code quote in %q", r.ID, s)
			}
			if strings.TrimSpace(s) != s || s == "" {
				t.Errorf("runbook %q: blank or padded text %q", r.ID, s)
			}
		}
		if r.Status != "" {
			statuses[r.Status] = r.ID
			if r.ID != strings.ToLower(r.Status) {
				t.Errorf("status %s has runbook id %q, want %q", r.Status, r.ID, strings.ToLower(r.Status))
			}
		}
	}
	for _, s := range []string{"WARN", "STALL", "STOP", "ERR", "REWIND", "PAUSED"} {
		if _, ok := statuses[s]; !ok {
			t.Errorf("no runbook for status %s", s)
		}
	}
	if len(statuses) != 6 {
		t.Errorf("runbooks name statuses %v, want exactly the six", statuses)
	}
	if got := IDs(); len(got) != len(All()) || !slices.Equal(got, idsOf(All())) {
		t.Errorf("IDs() = %v, want the ids of All()", got)
	}
}

func idsOf(rs []Runbook) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestGet: Get finds each runbook by id and nothing else; what it returns is a copy.
func TestGet(t *testing.T) {
	r, ok := Get("stall")
	if !ok || r.Status != "STALL" || r.ID != "stall" {
		t.Fatalf("Get(stall) = %+v, %t", r, ok)
	}
	r.Actions[0] = "changed"
	if again, _ := Get("stall"); again.Actions[0] == "changed" {
		t.Error("changing a returned runbook changed the package's data")
	}
	for _, id := range []string{"", "STALL", "nope", "stall "} {
		if _, ok := Get(id); ok {
			t.Errorf("Get(%q) found a runbook", id)
		}
	}
}

// TestMarkdownAnchors: the document has one anchor and one heading per runbook, in order.
func TestMarkdownAnchors(t *testing.T) {
	doc := string(Markdown())
	last := -1
	for _, r := range All() {
		anchor := `<a id="` + r.ID + `"></a>`
		if strings.Count(doc, anchor) != 1 {
			t.Errorf("anchor %s appears %d times", anchor, strings.Count(doc, anchor))
		}
		i := strings.Index(doc, anchor+"\n\n## "+r.Title+"\n")
		if i < 0 || i < last {
			t.Errorf("heading of %q missing or out of order", r.ID)
		}
		last = i
		if !strings.Contains(doc, "- ["+r.Title+"](#"+r.ID+")\n") {
			t.Errorf("table of contents lacks %q", r.ID)
		}
	}
}
