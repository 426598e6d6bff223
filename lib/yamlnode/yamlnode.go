// Package yamlnode holds what the YAML readers of skybutler (dimension
// universes, instrument definitions, pipelines) share when they walk
// yaml.v3 nodes to report errors with line numbers.
//
// Terms: a node is a yaml.v3 *yaml.Node; an alias is a node that stands for
// an anchored one (*anchor); a kind name is how an error message calls a
// node ("a mapping", "a list", "the scalar \"x\"").
package yamlnode

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// MaxAliasDepth bounds how many aliases Resolve follows (aliases of
// aliases), so a crafted document cannot loop.
const MaxAliasDepth = 16

// Resolve follows aliases to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < MaxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// KindName names a node for an error message.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return fmt.Sprintf("the scalar %q", Truncate(n.Value, 40))
	case yaml.AliasNode:
		return "an alias"
	}
	return "an unknown node"
}

// Truncate shortens s to n bytes plus "..." when it is longer.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
