package datastore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonFormatter stores a Dict as a JSON object with sorted keys (so equal
// dicts give equal bytes), or []byte holding one JSON document unchanged.
type jsonFormatter struct{}

var _ Formatter = jsonFormatter{}

func (jsonFormatter) Name() string      { return FormatterJSON }
func (jsonFormatter) Extension() string { return ".json" }

func (jsonFormatter) Write(obj any) ([]byte, error) {
	var m map[string]any
	switch v := obj.(type) {
	case Dict:
		m = v
	case map[string]any:
		m = v
	case []byte:
		if !json.Valid(v) {
			return nil, errors.New("json: write: the bytes are not one valid JSON document")
		}
		return v, nil
	default:
		return nil, wrongType(FormatterJSON, obj, "datastore.Dict, map[string]any or []byte")
	}
	if m == nil {
		m = map[string]any{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("json: write: %w", err)
	}
	return buf.Bytes(), nil
}

// Read decodes a JSON object into a Dict: integers become int64, other
// numbers float64, nested objects map[string]any and arrays []any.
func (jsonFormatter) Read(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("json: read: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("json: read: data after the JSON document")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("json: read: the document is %s, not an object", jsonKind(v))
	}
	out, err := normalizeDict(m)
	if err != nil {
		return nil, fmt.Errorf("json: read: %w", err)
	}
	return out, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}
