package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Subset returns the pipeline restricted to the tasks named (labels or
// subsets, which expand), like a "#label,subset" selector. Subsets that
// lose a task and contracts about a dropped task are dropped. Validate the
// result again before planning with it.
func (p *Pipeline) Subset(names ...string) (*Pipeline, error) {
	if p.raw == nil {
		return nil, fmt.Errorf("select tasks: the pipeline was not loaded")
	}
	raw, err := p.raw.selectLabels(names, nil, false, pos{file: p.file, key: "selector"})
	if err != nil {
		return nil, fmt.Errorf("select tasks: %w", err)
	}
	out, err := resolve(raw)
	if err != nil {
		return nil, fmt.Errorf("select tasks: %w", err)
	}
	return out, nil
}

// Override returns the pipeline with one more config override of task
// label, applied after those of the file (pipetask's -c label:key=value).
// key is a config field or "connections.<name>"; value is checked like a
// YAML value (a CLI should parse "False" or "1.5" as YAML scalars first).
// Contracts are checked again. Validate the result again before planning
// with it.
func (p *Pipeline) Override(label, key string, value any) (*Pipeline, error) {
	if p.raw == nil {
		return nil, fmt.Errorf("override config: the pipeline was not loaded")
	}
	raw := p.raw.clone()
	t, _ := raw.task(label)
	if t == nil {
		return nil, fmt.Errorf("override config %s.%s: %w", label, key, kindError{kind: ErrUnknownLabel,
			msg: fmt.Sprintf("no task labelled %q%s", label, didYouMean(label, taskLabels(raw)))})
	}
	t.config = append(t.config, configEntry{key: key, value: value, pos: pos{key: fmt.Sprintf("override %s:%s", label, key)}})
	out, err := resolve(raw)
	if err != nil {
		return nil, fmt.Errorf("override config: %w", err)
	}
	return out, nil
}

// Marshal writes the resolved pipeline as one self-contained pipeline
// file: imports flattened, tasks in order with their full configs (every
// field and the connections section), subsets and contracts. Parsing it
// gives an equal pipeline.
func (p *Pipeline) Marshal() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	if p.Description != "" {
		add("description", strNode(p.Description))
	}
	if p.Instrument != "" {
		add("instrument", strNode(p.Instrument))
	}
	if len(p.Parameters) > 0 {
		n, err := valueNode(p.Parameters)
		if err != nil {
			return nil, fmt.Errorf("marshal pipeline: parameters: %w", err)
		}
		add("parameters", n)
	}
	tasks := &yaml.Node{Kind: yaml.MappingNode}
	for _, t := range p.Tasks {
		cfg, err := valueNode(map[string]any(t.Config))
		if err != nil {
			return nil, fmt.Errorf("marshal pipeline: task %s: %w", t.Label, err)
		}
		tn := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			strNode("class"), strNode(t.Class.Name()),
			strNode("config"), cfg,
		}}
		tasks.Content = append(tasks.Content, strNode(t.Label), tn)
	}
	add("tasks", tasks)
	if len(p.Subsets) > 0 {
		subsets := &yaml.Node{Kind: yaml.MappingNode}
		for _, name := range sortedKeys(p.Subsets) {
			labels, err := valueNode(p.Subsets[name])
			if err != nil {
				return nil, err
			}
			sn := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{strNode("subset"), labels}}
			if d := p.SubsetDescriptions[name]; d != "" {
				sn.Content = append(sn.Content, strNode("description"), strNode(d))
			}
			subsets.Content = append(subsets.Content, strNode(name), sn)
		}
		add("subsets", subsets)
	}
	if len(p.Contracts) > 0 {
		contracts := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range p.Contracts {
			cn := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{strNode("contract"), strNode(c.Expr)}}
			if c.Msg != "" {
				cn.Content = append(cn.Content, strNode("msg"), strNode(c.Msg))
			}
			contracts.Content = append(contracts.Content, cn)
		}
		add("contracts", contracts)
	}
	out, err := yaml.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("marshal pipeline: %w", err)
	}
	return out, nil
}

// strNode is a string scalar; strings with line breaks or edge spaces are
// double-quoted (yaml.v3's block styles lose some of them).
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.ContainsAny(s, "\n\r\t") || strings.TrimSpace(s) != s {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// valueNode encodes a value with sorted mapping keys.
func valueNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range sortedKeys(x) {
			c, err := valueNode(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, strNode(k), c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			c, err := valueNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range slices.Clone(x) {
			n.Content = append(n.Content, strNode(e))
		}
		return n, nil
	case string:
		return strNode(x), nil
	case float64:
		f := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(f, ".eEn") {
			f += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: f}, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}
