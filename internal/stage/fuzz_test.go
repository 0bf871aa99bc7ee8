package stage

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzLineReader holds the backfill's line reader to a reference split of the whole input: bytes.Split on
// "\n", without the empty piece after a final "\n", each line without one trailing "\r" (as bufio.ScanLines
// cuts them). Every line must come out in order with its exact length, cut to the first keep bytes when
// longer, whatever the bufio buffer size and however the underlying reader splits its reads; after the last
// line, next returns io.EOF, also when called again. Its seeds run in every go test; run it for longer with
//
//	go test ./internal/stage/ -run '^$' -fuzz '^FuzzLineReader$' -fuzztime 5m -parallel 1
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"", "\n", "\r", "\r\n", "a\nbb\n", "a\nbb", "a\r\nbb\r\n\n\r\n", "abc\r", "ab\r\r\n",
		"0123456789\n", "0123456789\r\n", "0123456789a\n", "s\n" + string(bytes.Repeat([]byte("x"), 100)) + "\r\ne",
		"\r\r\r\n\n\r", "{\"id\":\"a\"}\n{\"id\":\"b\"}\r\n\xff\xfe\n"} {
		f.Add([]byte(s), uint8(10), uint8(0), uint8(0))
		f.Add([]byte(s), uint8(1), uint8(3), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, keep, bufSize, mode uint8) {
		var want [][]byte
		if len(data) > 0 {
			want = bytes.Split(data, []byte("\n"))
			if len(want[len(want)-1]) == 0 {
				want = want[:len(want)-1]
			}
		}
		for i, line := range want {
			want[i] = bytes.TrimSuffix(line, []byte("\r"))
		}

		var r io.Reader = bytes.NewReader(data)
		switch mode % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		lr := &lineReader{r: bufio.NewReaderSize(r, 16+int(bufSize%48)), keep: int(keep % 40)}
		for i := 0; ; i++ {
			line, size, err := lr.next()
			if errors.Is(err, io.EOF) {
				if i != len(want) {
					t.Fatalf("%q (keep %d): %d lines, want %d", data, lr.keep, i, len(want))
				}
				break
			}
			if err != nil {
				t.Fatalf("%q (keep %d): line %d: %v", data, lr.keep, i, err)
			}
			if i >= len(want) {
				t.Fatalf("%q (keep %d): line %d %q is one too many", data, lr.keep, i, line)
			}
			w := want[i]
			if size != int64(len(w)) || !bytes.Equal(line, w[:min(len(w), lr.keep)]) {
				t.Fatalf("%q (keep %d): line %d is %q of %d bytes, want %q of %d", data, lr.keep, i, line, size, w[:min(len(w), lr.keep)], len(w))
			}
		}
		if _, _, err := lr.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("%q: after the end: %v, want io.EOF", data, err)
		}
	})
}
