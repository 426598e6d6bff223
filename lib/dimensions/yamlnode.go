package dimensions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
	"gopkg.in/yaml.v3"
)

// identifier is the shape of element, key and field names: they become
// column names in Parquet tables and Athena, so lower case only.
var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

var linePrefix = regexp.MustCompile(`^line [0-9]+: `)

// parseDocument parses exactly one YAML document whose top level is a
// mapping and returns that mapping node.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("parse YAML: %w", err)
		}
		return nil, fmt.Errorf("line %d: more than one YAML document", extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("empty document")
	}
	root := yamlnode.Resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: top level must be a mapping, not %s", root.Line, yamlnode.KindName(root))
	}
	return root, nil
}

// pair is one key/value of a YAML mapping.
type pair struct {
	key   string
	line  int
	value *yaml.Node
}

// mappingPairs returns the entries of mapping n in file order. what names n
// in errors ("element \"detector\""). Keys must be distinct scalars and, when
// allowed is non-nil, one of allowed.
func mappingPairs(n *yaml.Node, what string, allowed []string) ([]pair, error) {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s must be a mapping, not %s", n.Line, what, yamlnode.KindName(n))
	}
	seen := make(map[string]int, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s: keys must be plain strings, not %s", k.Line, what, yamlnode.KindName(k))
		}
		if k.Value == "<<" {
			return nil, fmt.Errorf("line %d: %s: YAML merge keys (<<) are not supported", k.Line, what)
		}
		if allowed != nil && !contains(allowed, k.Value) {
			return nil, fmt.Errorf("line %d: %s: unknown key %q (allowed: %s)", k.Line, what, yamlnode.Truncate(k.Value, 60), strings.Join(allowed, ", "))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("line %d: %s: duplicate key %q (first at line %d)", k.Line, what, yamlnode.Truncate(k.Value, 60), first)
		}
		seen[k.Value] = k.Line
		out = append(out, pair{key: k.Value, line: k.Line, value: yamlnode.Resolve(v)})
	}
	return out, nil
}

// decodeValue decodes one node into v, prefixing yaml's error with what.
func decodeValue(n *yaml.Node, what string, v any) error {
	if err := n.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
		msg = strings.ReplaceAll(msg, "\n  ", "; ")
		if m := linePrefix.FindString(msg); m != "" {
			return fmt.Errorf("%s%s: %s", m, what, msg[len(m):])
		}
		return fmt.Errorf("line %d: %s: %s", n.Line, what, strings.TrimPrefix(msg, "yaml: "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
