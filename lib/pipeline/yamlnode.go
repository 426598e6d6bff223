package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
	"gopkg.in/yaml.v3"
)

// parseDocument parses exactly one YAML document whose top level is a
// mapping and returns that mapping node.
func parseDocument(data []byte, p pos) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errorf(ErrSyntax, "empty document")
		}
		return nil, yamlError(p, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(p, err)
		}
		return nil, p.at(extra.Line).errorf(ErrSyntax, "more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, p.errorf(ErrSyntax, "empty document")
	}
	root := yamlnode.Resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, p.at(root.Line).errorf(ErrSyntax, "the top level must be a mapping, not %s", yamlnode.KindName(root))
	}
	return root, nil
}

// yamlError turns a yaml.v3 parse error ("yaml: line 3: ...") into an
// *Error at that line.
func yamlError(p pos, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		p.line = line
	}
	return p.errorf(ErrSyntax, "parse YAML: %s", msg)
}

// pair is one key/value of a YAML mapping.
type pair struct {
	key   string
	pos   pos // the key's line and dotted path
	value *yaml.Node
}

// mappingPairs returns the entries of mapping n in file order; p locates
// n. Keys must be distinct scalars and, when allowed is non-nil, one of
// allowed.
func mappingPairs(n *yaml.Node, p pos, allowed []string) ([]pair, error) {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, p.at(n.Line).errorf(ErrSyntax, "want a mapping, not %s", yamlnode.KindName(n))
	}
	seen := make(map[string]int, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.at(k.Line).errorf(ErrSyntax, "keys must be plain strings, not %s", yamlnode.KindName(k))
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			return nil, p.at(k.Line).errorf(ErrSyntax, "YAML merge keys (<<) are not supported")
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			return nil, p.at(k.Line).errorf(ErrSyntax, "unknown key %q%s (allowed: %s)", yamlnode.Truncate(k.Value, 60),
				didYouMean(k.Value, allowed), strings.Join(allowed, ", "))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.at(k.Line).errorf(ErrSyntax, "duplicate key %q (first at line %d)", yamlnode.Truncate(k.Value, 60), first)
		}
		seen[k.Value] = k.Line
		out = append(out, pair{key: k.Value, pos: p.child(k.Value, k.Line), value: yamlnode.Resolve(v)})
	}
	return out, nil
}

// scalarString returns a scalar's text; null and non-scalars are errors.
func scalarString(n *yaml.Node, p pos, what string) (string, error) {
	n = yamlnode.Resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", p.at(n.Line).errorf(ErrSyntax, "%s must be a string, not %s", what, yamlnode.KindName(n))
	}
	return n.Value, nil
}

// stringList reads a list of strings (a single scalar is a list of one).
func stringList(n *yaml.Node, p pos, what string) ([]string, []int, error) {
	n = yamlnode.Resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return []string{n.Value}, []int{n.Line}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, p.at(n.Line).errorf(ErrSyntax, "%s must be a list of strings, not %s", what, yamlnode.KindName(n))
	}
	out := make([]string, 0, len(n.Content))
	lines := make([]int, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := scalarString(item, p, what+" item")
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
		lines = append(lines, yamlnode.Resolve(item).Line)
	}
	return out, lines, nil
}

// maxValueNodes bounds how many nodes one value may expand to through
// aliases (a "billion laughs" document otherwise explodes).
const maxValueNodes = 100_000

// nodeValue converts a node to the canonical config types (nil, bool,
// int64, float64, string, []any, map[string]any).
func nodeValue(n *yaml.Node, p pos) (any, error) {
	budget := maxValueNodes
	return nodeValueRec(n, p, 0, &budget)
}

func nodeValueRec(n *yaml.Node, p pos, depth int, budget *int) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, p.at(n.Line).errorf(ErrSyntax, "value is too large (more than %d nodes after expanding aliases)", maxValueNodes)
	}
	if depth > 64 {
		return nil, p.at(n.Line).errorf(ErrSyntax, "value is nested too deeply")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, p.at(n.Line).errorf(ErrSyntax, "unresolved alias")
		}
		return nodeValueRec(n.Alias, p, depth+1, budget)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalarValue(n, p)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValueRec(c, p, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := yamlnode.Resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, p.at(k.Line).errorf(ErrSyntax, "mapping keys must be strings, not %s", yamlnode.KindName(k))
			}
			if k.ShortTag() == "!!merge" {
				return nil, p.at(k.Line).errorf(ErrSyntax, "YAML merge keys (<<) are not supported")
			}
			if _, dup := out[k.Value]; dup {
				return nil, p.at(k.Line).errorf(ErrSyntax, "duplicate key %q", yamlnode.Truncate(k.Value, 60))
			}
			v, err := nodeValueRec(n.Content[i+1], p, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	return nil, p.at(n.Line).errorf(ErrSyntax, "unsupported YAML node")
}

func scalarValue(n *yaml.Node, p pos) (any, error) {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, p.at(n.Line).errorf(ErrSyntax, "bad bool %q", yamlnode.Truncate(n.Value, 40))
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, p.at(n.Line).errorf(ErrSyntax, "integer %q does not fit in 64 bits", yamlnode.Truncate(n.Value, 40))
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, p.at(n.Line).errorf(ErrSyntax, "bad float %q", yamlnode.Truncate(n.Value, 40))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, p.at(n.Line).errorf(ErrSyntax, "float %s is not allowed", n.Value)
		}
		return f, nil
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	default:
		return nil, p.at(n.Line).errorf(ErrSyntax, "unsupported YAML tag %q", yamlnode.Truncate(tag, 40))
	}
}
