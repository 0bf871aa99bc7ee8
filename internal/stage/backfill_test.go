package stage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// readLines runs a lineReader with the smallest bufio buffer over input and returns "line|size" per line.
func readLines(t *testing.T, input string, keep int) []string {
	t.Helper()
	lr := &lineReader{r: bufio.NewReaderSize(strings.NewReader(input), 16), keep: keep}
	var out []string
	for {
		line, size, err := lr.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(line) > keep {
			t.Fatalf("kept %d bytes, more than %d", len(line), keep)
		}
		out = append(out, fmt.Sprintf("%s|%d", line, size))
	}
}

// TestLineReader: lines come out as bufio.ScanLines cuts them, a long line is cut to keep bytes with its true
// length, in chunks smaller than the line.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, c := range []struct {
		in   string
		keep int
		want []string
	}{
		{"", 10, nil},
		{"a\nbb\n", 10, []string{"a|1", "bb|2"}},
		{"a\nbb", 10, []string{"a|1", "bb|2"}},
		{"a\r\nbb\r\n\n\r\n", 10, []string{"a|1", "bb|2", "|0", "|0"}},
		{"abc\r", 10, []string{"abc|3"}},
		{"ab\r\r\n", 10, []string{"ab\r|3"}},
		{"0123456789\n", 10, []string{"0123456789|10"}},
		{"0123456789\r\n", 10, []string{"0123456789|10"}},
		{"0123456789a\n", 10, []string{"0123456789|11"}},
		{"s\n" + long + "\ne\n", 10, []string{"s|1", "xxxxxxxxxx|100", "e|1"}},
		{"s\n" + long + "\r\ne", 10, []string{"s|1", "xxxxxxxxxx|100", "e|1"}},
		{long, 10, []string{"xxxxxxxxxx|100"}},
		{long + "\n", 200, []string{long + "|100"}},
	} {
		got := readLines(t, c.in, c.keep)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q (keep %d): got %q, want %q", c.in, c.keep, got, c.want)
		}
		// The same lines as bufio.Scanner cuts them, when they fit.
		if c.keep >= len(c.in) {
			sc := bufio.NewScanner(strings.NewReader(c.in))
			var want []string
			for sc.Scan() {
				want = append(want, fmt.Sprintf("%s|%d", sc.Bytes(), len(sc.Bytes())))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%q: got %q, bufio.Scanner %q", c.in, got, want)
			}
		}
	}
}

// TestLineReaderError: a read error is returned, not taken for the end of the file.
func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	lr := &lineReader{r: bufio.NewReaderSize(io.MultiReader(strings.NewReader("a\nbb"), errReader{boom}), 16), keep: 10}
	if line, _, err := lr.next(); err != nil || string(line) != "a" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if _, _, err := lr.next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestBackfillSourceName: the source name carries the file's printable name and the content digest; bytes
// that are not UTF-8 and control characters are written as \xNN.
func TestBackfillSourceName(t *testing.T) {
	for name, want := range map[string]string{
		"dir/bf.jsonl":          `backfill:bf.jsonl@0123456789abcdef`,
		"bad\xff\xfe.jsonl":     `backfill:bad\xff\xfe.jsonl@0123456789abcdef`,
		"a\xc3\x28b.jsonl":      `backfill:a\xc3(b.jsonl@0123456789abcdef`,
		"new\nline\x7f.jsonl":   `backfill:new\x0aline\x7f.jsonl@0123456789abcdef`,
		"일일.jsonl":              `backfill:일일.jsonl@0123456789abcdef`,
		"sur\xed\xa0\x80.jsonl": `backfill:sur\xed\xa0\x80.jsonl@0123456789abcdef`,
	} {
		got := backfillSource(name, "0123456789abcdef")
		if got != want {
			t.Errorf("%q: got %q, want %q", name, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("%q: %q is not valid UTF-8", name, got)
		}
	}
}

// TestOffsetSet: membership within and outside the range.
func TestOffsetSet(t *testing.T) {
	s := newOffsetSet(100, 230)
	for _, o := range []int64{100, 163, 164, 229, 99, 230, 1000} {
		s.add(o)
	}
	var got []int64
	for o := int64(0); o < 2000; o++ {
		if s.has(o) {
			got = append(got, o)
		}
	}
	if fmt.Sprint(got) != "[100 163 164 229]" {
		t.Errorf("got %v", got)
	}
	if newOffsetSet(5, 5).has(5) {
		t.Error("an empty set holds 5")
	}
}
