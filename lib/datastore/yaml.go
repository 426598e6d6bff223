package datastore

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// yamlFormatter stores a Dict as a YAML mapping with sorted keys (so equal
// dicts give equal bytes).
type yamlFormatter struct{}

var _ Formatter = yamlFormatter{}

func (yamlFormatter) Name() string      { return FormatterYAML }
func (yamlFormatter) Extension() string { return ".yaml" }

func (yamlFormatter) Write(obj any) (data []byte, err error) {
	var m map[string]any
	switch v := obj.(type) {
	case Dict:
		m = v
	case map[string]any:
		m = v
	default:
		return nil, wrongType(FormatterYAML, obj, "datastore.Dict or map[string]any")
	}
	if m == nil {
		m = map[string]any{}
	}
	// yaml.v3 panics on some values (e.g. channels); report those as errors.
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("yaml: write: %v", r)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("yaml: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("yaml: write: %w", err)
	}
	return buf.Bytes(), nil
}

// Read decodes a YAML mapping into a Dict: integers become int64, floats
// float64, nested mappings map[string]any and sequences []any. An empty
// document is an empty Dict; more than one document is an error.
func (yamlFormatter) Read(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Dict{}, nil
		}
		return nil, fmt.Errorf("yaml: read: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("yaml: read: more than one document")
	}
	timestampsAsStrings(&doc)
	var v any
	if err := doc.Decode(&v); err != nil {
		return nil, fmt.Errorf("yaml: read: %w", err)
	}
	if v == nil {
		return Dict{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("yaml: read: the document is a %T, not a mapping with string keys", v)
	}
	out, err := normalizeDict(m)
	if err != nil {
		return nil, fmt.Errorf("yaml: read: %w", err)
	}
	return out, nil
}

// timestampsAsStrings makes untagged timestamps ("2024-01-01") decode as
// the strings they are written as, not as time.Time.
func timestampsAsStrings(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		timestampsAsStrings(c)
	}
}
