package kafkaview

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Encodings of Message keys, values and header values.
const (
	// EncodingNull marks a null key or value (a tombstone's value); the string is empty.
	EncodingNull = "null"
	// EncodingJSON marks a value that is valid JSON; the string is its text as produced.
	EncodingJSON = "json"
	// EncodingUTF8 marks valid UTF-8 text that is not JSON (or is a key or header); the string is it.
	EncodingUTF8 = "utf8"
	// EncodingBase64 marks bytes that are not UTF-8; the string is their standard base64.
	EncodingBase64 = "base64"
)

// Message is one Kafka record as the console shows it.
type Message struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Timestamp time.Time `json:"timestamp"`
	// Key is the record key in KeyEncoding: EncodingUTF8, EncodingBase64 or EncodingNull.
	Key         string `json:"key"`
	KeyEncoding string `json:"key_encoding"`
	// KeyTruncated is set when the key was longer than MaxFieldBytes and Key holds its start.
	KeyTruncated bool `json:"key_truncated,omitempty"`
	// Value is the record value in ValueEncoding: EncodingJSON, EncodingUTF8, EncodingBase64 or
	// EncodingNull.
	Value         string `json:"value"`
	ValueEncoding string `json:"value_encoding"`
	// ValueTruncated is set when the value was longer than MaxFieldBytes and Value holds its start
	// (then never EncodingJSON, as a cut document is not JSON).
	ValueTruncated bool     `json:"value_truncated,omitempty"`
	Headers        []Header `json:"headers"`
	// Size is the bytes of key, value, and header keys and values.
	Size int `json:"size"`
}

// Header is one record header.
type Header struct {
	Key string `json:"key"`
	// Value is in ValueEncoding: EncodingUTF8 or EncodingBase64.
	Value         string `json:"value"`
	ValueEncoding string `json:"value_encoding"`
}

// newMessage converts a record, cutting key and value at MaxFieldBytes.
func newMessage(r *kgo.Record) Message {
	m := Message{
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UTC(),
		Size:      len(r.Key) + len(r.Value),
		Headers:   make([]Header, 0, len(r.Headers)),
	}
	m.Key, m.KeyEncoding, m.KeyTruncated = encodeField(r.Key, false)
	m.Value, m.ValueEncoding, m.ValueTruncated = encodeField(r.Value, true)
	for _, h := range r.Headers {
		m.Size += len(h.Key) + len(h.Value)
		enc := EncodingUTF8
		if !utf8.Valid(h.Value) {
			enc = EncodingBase64
		}
		m.Headers = append(m.Headers, Header{Key: h.Key, Value: headerText(h.Value), ValueEncoding: enc})
	}
	return m
}

// encodeField returns b as text and its encoding, cut to MaxFieldBytes (at a rune boundary for text).
func encodeField(b []byte, jsonOK bool) (string, string, bool) {
	if b == nil {
		return "", EncodingNull, false
	}
	cut := len(b) > MaxFieldBytes
	if !cut {
		if jsonOK && len(b) > 0 && utf8.Valid(b) && json.Valid(b) {
			return string(b), EncodingJSON, false
		}
		if utf8.Valid(b) {
			return string(b), EncodingUTF8, false
		}
		return base64.StdEncoding.EncodeToString(b), EncodingBase64, false
	}
	head := b[:MaxFieldBytes]
	// Drop a rune split by the cut, if that is all that makes the head invalid.
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if utf8.Valid(head) {
		return string(head), EncodingUTF8, true
	}
	return base64.StdEncoding.EncodeToString(b[:MaxFieldBytes]), EncodingBase64, true
}

// WriteJSON writes msgs as one JSON array of Message objects, followed by a newline.
func WriteJSON(w io.Writer, msgs []Message) error {
	if msgs == nil {
		msgs = []Message{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msgs); err != nil {
		return fmt.Errorf("writing messages as JSON: %w", err)
	}
	return nil
}

// CSVColumns are the columns WriteCSV writes, in order.
var CSVColumns = []string{"partition", "offset", "timestamp", "key", "key_encoding", "value", "value_encoding", "headers"}

// WriteCSV writes msgs as CSV with a header row of CSVColumns: timestamps in RFC 3339 (UTC,
// milliseconds), keys and values as in Message with their encodings, and headers as a JSON array of
// Header objects.
func WriteCSV(w io.Writer, msgs []Message) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return fmt.Errorf("writing the CSV header: %w", err)
	}
	var hb bytes.Buffer
	for _, m := range msgs {
		hb.Reset()
		enc := json.NewEncoder(&hb)
		enc.SetEscapeHTML(false)
		hs := m.Headers
		if hs == nil {
			hs = []Header{}
		}
		if err := enc.Encode(hs); err != nil {
			return fmt.Errorf("encoding the headers of offset %d in partition %d: %w", m.Offset, m.Partition, err)
		}
		rec := []string{
			strconv.FormatInt(int64(m.Partition), 10),
			strconv.FormatInt(m.Offset, 10),
			m.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			m.Key, m.KeyEncoding,
			m.Value, m.ValueEncoding,
			string(bytes.TrimSuffix(hb.Bytes(), []byte("\n"))),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing offset %d of partition %d as CSV: %w", m.Offset, m.Partition, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing messages as CSV: %w", err)
	}
	return nil
}
