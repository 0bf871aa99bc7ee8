package kafkaview

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func exportMessages() []Message {
	return []Message{
		{
			Partition: 1, Offset: 7, Timestamp: t0.Add(1500 * time.Millisecond),
			Key: "u1", KeyEncoding: EncodingUTF8,
			Value: `{"event_type":"purchase","note":"a, \"b\" <c>"}`, ValueEncoding: EncodingJSON,
			Headers: []Header{{Key: "source", Value: "ios", ValueEncoding: EncodingUTF8}, {Key: "bin", Value: "AP8=", ValueEncoding: EncodingBase64}},
			Size:    60,
		},
		{
			Partition: 0, Offset: 2, Timestamp: t0,
			Key: "AP8=", KeyEncoding: EncodingBase64, Value: "", ValueEncoding: EncodingNull, Size: 2,
		},
		{
			Partition: 0, Offset: 3, Timestamp: t0,
			Key: "", KeyEncoding: EncodingNull, Value: "line 1\nline 2", ValueEncoding: EncodingUTF8, Headers: []Header{}, Size: 13,
		},
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, exportMessages()); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	want := `partition,offset,timestamp,key,key_encoding,value,value_encoding,headers
1,7,2025-01-01T00:00:01.500Z,u1,utf8,"{""event_type"":""purchase"",""note"":""a, \""b\"" <c>""}",json,"[{""key"":""source"",""value"":""ios"",""value_encoding"":""utf8""},{""key"":""bin"",""value"":""AP8="",""value_encoding"":""base64""}]"
0,2,2025-01-01T00:00:00.000Z,AP8=,base64,,null,[]
0,3,2025-01-01T00:00:00.000Z,,null,"line 1
line 2",utf8,[]
`
	if b.String() != want {
		t.Errorf("CSV\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	if err := WriteCSV(&b, nil); err != nil || b.String() != "partition,offset,timestamp,key,key_encoding,value,value_encoding,headers\n" {
		t.Errorf("CSV of nothing: %q, %v", b.String(), err)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, exportMessages()[:2]); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	want := `[{"partition":1,"offset":7,"timestamp":"2025-01-01T00:00:01.5Z","key":"u1","key_encoding":"utf8","value":"{\"event_type\":\"purchase\",\"note\":\"a, \\\"b\\\" <c>\"}","value_encoding":"json","headers":[{"key":"source","value":"ios","value_encoding":"utf8"},{"key":"bin","value":"AP8=","value_encoding":"base64"}],"size":60},` +
		`{"partition":0,"offset":2,"timestamp":"2025-01-01T00:00:00Z","key":"AP8=","key_encoding":"base64","value":"","value_encoding":"null","headers":null,"size":2}]` + "\n"
	if b.String() != want {
		t.Errorf("JSON\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil || b.String() != "[]\n" {
		t.Errorf("JSON of nothing: %q, %v", b.String(), err)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

var errFail = &InputError{Param: "w", Message: "disk full"}

func TestWriteErrors(t *testing.T) {
	if err := WriteCSV(failWriter{}, exportMessages()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteCSV to a failing writer: %v", err)
	}
	if err := WriteJSON(failWriter{}, exportMessages()); err == nil || err.Error() != "writing messages as JSON: w: disk full" {
		t.Errorf("WriteJSON to a failing writer: %v", err)
	}
}

func TestNewMessageLimits(t *testing.T) {
	big := strings.Repeat("a", MaxFieldBytes-1) + "é" + "tail" // é straddles the cut
	bin := bytes.Repeat([]byte{0xff}, MaxFieldBytes+10)
	bigJSON := `{"k":"` + strings.Repeat("x", MaxFieldBytes) + `"}`
	tests := []struct {
		name      string
		value     []byte
		wantValue string
		wantEnc   string
		wantCut   bool
	}{
		{"empty", []byte{}, "", EncodingUTF8, false},
		{"json number", []byte("42"), "42", EncodingJSON, false},
		{"json with trailing text", []byte(`{"a":1} x`), `{"a":1} x`, EncodingUTF8, false},
		{"text cut at a rune", []byte(big), strings.Repeat("a", MaxFieldBytes-1), EncodingUTF8, true},
		{"binary cut", bin, base64.StdEncoding.EncodeToString(bin[:MaxFieldBytes]), EncodingBase64, true},
		{"json too long to show whole", []byte(bigJSON), bigJSON[:MaxFieldBytes], EncodingUTF8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMessage(&kgo.Record{Value: tt.value, Timestamp: t0})
			if m.Value != tt.wantValue || m.ValueEncoding != tt.wantEnc || m.ValueTruncated != tt.wantCut || m.Size != len(tt.value) {
				t.Errorf("value of %d bytes, encoding %s, truncated %v, size %d; want %d bytes, %s, %v, %d",
					len(m.Value), m.ValueEncoding, m.ValueTruncated, m.Size, len(tt.wantValue), tt.wantEnc, tt.wantCut, len(tt.value))
			}
		})
	}

	// The filter sees the whole value, cut or not.
	env, err := newFilterEnv()
	if err != nil {
		t.Fatal(err)
	}
	f, err := compileFilter(env, `value.k.endsWith("x") && size(value.k) == `+"1048576")
	if err != nil {
		t.Fatalf("compileFilter: %v", err)
	}
	if !f.match(&kgo.Record{Value: []byte(bigJSON)}) {
		t.Error("the filter did not see the whole value")
	}
}

func TestSampler(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSampler()
	steps := []struct {
		at   time.Duration
		ends map[string]int64
		want map[string]float64
	}{
		{0, map[string]int64{"a": 100, "b": 0}, map[string]float64{}},
		{4 * time.Second, map[string]int64{"a": 120}, map[string]float64{"a": 0}},
		{10 * time.Second, map[string]int64{"a": 150, "b": 20}, map[string]float64{"a": 5, "b": 2}},
		{12 * time.Second, map[string]int64{"a": 160}, map[string]float64{"a": 5}},
		{20 * time.Second, map[string]int64{"a": 10}, map[string]float64{}}, // recreated: starts over
		{30 * time.Second, map[string]int64{"a": 30}, map[string]float64{"a": 2}},
		{30*time.Second + rateMaxAge + time.Second, map[string]int64{"a": 60, "c": 1}, map[string]float64{}},
	}
	for i, st := range steps {
		got := s.observe(base.Add(st.at), st.ends)
		if len(got) != len(st.want) {
			t.Errorf("step %d: rates %v, want %v", i, got, st.want)
			continue
		}
		for k, w := range st.want {
			if got[k] != w {
				t.Errorf("step %d: rates %v, want %v", i, got, st.want)
			}
		}
	}
	if _, ok := s.m["b"]; ok {
		t.Error("b was not dropped after rateMaxAge without observations")
	}
}
