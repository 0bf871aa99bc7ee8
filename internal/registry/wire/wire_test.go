package wire

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name     string
		raw      []byte
		wantID   int
		wantRest []byte
		wantErr  string
	}{
		{name: "id and payload", raw: []byte{0, 0, 0, 1, 2, 'a', 'b'}, wantID: 258, wantRest: []byte("ab")},
		{name: "id only", raw: []byte{0, 0, 0, 0, 7}, wantID: 7, wantRest: []byte{}},
		{name: "largest id", raw: []byte{0, 0xff, 0xff, 0xff, 0xff, 9}, wantID: 1<<32 - 1, wantRest: []byte{9}},
		{name: "empty", raw: nil, wantErr: "not in the schema registry wire format: the record is empty, expected a zero magic byte and a 4-byte schema id"},
		{name: "wrong magic", raw: []byte{1, 0, 0, 0, 1}, wantErr: "not in the schema registry wire format: the first byte is 0x01, expected the magic byte 0x00"},
		{name: "JSON text", raw: []byte(`{"a":1}`), wantErr: "not in the schema registry wire format: the first byte is 0x7b, expected the magic byte 0x00"},
		{name: "magic byte only", raw: []byte{0}, wantErr: "not in the schema registry wire format: the record is 1 bytes, too short for the magic byte and a 4-byte schema id"},
		{name: "id cut short", raw: []byte{0, 0, 0, 1}, wantErr: "not in the schema registry wire format: the record is 4 bytes, too short for the magic byte and a 4-byte schema id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, rest, err := Split(tc.raw)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Split error = %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrNotFramed) {
					t.Errorf("Split error %v does not wrap ErrNotFramed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if id != tc.wantID || !bytes.Equal(rest, tc.wantRest) {
				t.Errorf("Split = %d, %v; want %d, %v", id, rest, tc.wantID, tc.wantRest)
			}
		})
	}
}

func TestSplitIndexes(t *testing.T) {
	over := []byte{0xca, 0x01} // zigzag 101
	cases := []struct {
		name        string
		rest        []byte
		wantIndexes []int
		wantPayload []byte
		wantErr     string
	}{
		{name: "zero byte is the first message", rest: []byte{0, 'p'}, wantIndexes: []int{0}, wantPayload: []byte("p")},
		{name: "explicit [0]", rest: []byte{2, 0, 'p'}, wantIndexes: []int{0}, wantPayload: []byte("p")},
		{name: "[1, 2]", rest: []byte{4, 2, 4, 'p', 'q'}, wantIndexes: []int{1, 2}, wantPayload: []byte("pq")},
		{name: "[64] takes two bytes", rest: []byte{2, 0x80, 0x01}, wantIndexes: []int{64}, wantPayload: []byte{}},
		{name: "100 indexes", rest: append([]byte{0xc8, 0x01}, make([]byte, 100)...), wantIndexes: make([]int, 100), wantPayload: []byte{}},
		{name: "empty", rest: nil, wantErr: "not in the schema registry wire format: the Protobuf message indexes are cut short"},
		{name: "count cut short", rest: []byte{0x80}, wantErr: "not in the schema registry wire format: the Protobuf message indexes are cut short"},
		{name: "negative count", rest: []byte{1}, wantErr: "not in the schema registry wire format: -1 Protobuf message indexes, expected 0 to 100"},
		{name: "over 100", rest: over, wantErr: "not in the schema registry wire format: 101 Protobuf message indexes, expected 0 to 100"},
		{name: "indexes cut short", rest: []byte{4, 2}, wantErr: "not in the schema registry wire format: Protobuf message index 2 of 2 is cut short or negative"},
		{name: "negative index", rest: []byte{2, 3}, wantErr: "not in the schema registry wire format: Protobuf message index 1 of 1 is cut short or negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			indexes, payload, err := SplitIndexes(tc.rest)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("SplitIndexes error = %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrNotFramed) {
					t.Errorf("SplitIndexes error %v does not wrap ErrNotFramed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitIndexes: %v", err)
			}
			if !slices.Equal(indexes, tc.wantIndexes) || !bytes.Equal(payload, tc.wantPayload) {
				t.Errorf("SplitIndexes = %v, %v; want %v, %v", indexes, payload, tc.wantIndexes, tc.wantPayload)
			}
		})
	}
}

func TestFrame(t *testing.T) {
	cases := []struct {
		name    string
		id      int
		indexes []int
		payload []byte
		want    []byte
		// wantIndexes is what SplitIndexes reads back; nil for a record without indexes.
		wantIndexes []int
	}{
		{name: "no indexes", id: 1, payload: []byte("xy"), want: []byte{0, 0, 0, 0, 1, 'x', 'y'}},
		{name: "no indexes, empty payload", id: 0x01020304, want: []byte{0, 1, 2, 3, 4}},
		{name: "first message is one zero byte", id: 5, indexes: []int{0}, payload: []byte{8, 1}, want: []byte{0, 0, 0, 0, 5, 0, 8, 1}, wantIndexes: []int{0}},
		{name: "second message", id: 5, indexes: []int{1}, payload: []byte{8, 1}, want: []byte{0, 0, 0, 0, 5, 2, 2, 8, 1}, wantIndexes: []int{1}},
		{name: "nested message", id: 5, indexes: []int{1, 2}, payload: []byte{8}, want: []byte{0, 0, 0, 0, 5, 4, 2, 4, 8}, wantIndexes: []int{1, 2}},
		{name: "[0, 0] is written in full", id: 5, indexes: []int{0, 0}, want: []byte{0, 0, 0, 0, 5, 4, 0, 0}, wantIndexes: []int{0, 0}},
		{name: "empty indexes read as the first message", id: 5, indexes: []int{}, want: []byte{0, 0, 0, 0, 5, 0}, wantIndexes: []int{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Frame(tc.id, tc.indexes, tc.payload)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Frame = %v, want %v", got, tc.want)
			}
			id, rest, err := Split(got)
			if err != nil || id != tc.id {
				t.Fatalf("Split(Frame) = %d, %v; want %d", id, err, tc.id)
			}
			if tc.wantIndexes == nil {
				if !bytes.Equal(rest, tc.payload) {
					t.Errorf("Split(Frame) rest = %v, want %v", rest, tc.payload)
				}
				return
			}
			indexes, payload, err := SplitIndexes(rest)
			if err != nil {
				t.Fatalf("SplitIndexes(Frame): %v", err)
			}
			if !slices.Equal(indexes, tc.wantIndexes) || !bytes.Equal(payload, tc.payload) {
				t.Errorf("SplitIndexes(Frame) = %v, %v; want %v, %v", indexes, payload, tc.wantIndexes, tc.payload)
			}
		})
	}
}
