package dimensions

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Marshal writes the universe in the format Load reads, elements in universe
// order and requires closed, so Load(Marshal()) is Equal to u.
func (u *Universe) Marshal() ([]byte, error) {
	elements := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range u.elements {
		fe := fileElement{
			Doc:      e.Doc,
			Requires: e.Requires,
			Implies:  e.Implies,
			Key:      fileKey{Name: e.Key.Name, Type: e.Key.Type, Doc: e.Key.Doc},
			Temporal: e.Temporal,
		}
		for _, f := range e.Fields {
			ff := fileField{Name: f.Name, Type: f.Type, Doc: f.Doc}
			if !f.Nullable {
				ff.Nullable = new(bool)
			}
			fe.Fields = append(fe.Fields, ff)
		}
		var v yaml.Node
		if err := v.Encode(fe); err != nil {
			return nil, fmt.Errorf("marshal universe: element %q: %w", e.Name, err)
		}
		flowFields(&v)
		elements.Content = append(elements.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Name}, &v)
	}
	doc := struct {
		Version   int       `yaml:"version"`
		Namespace string    `yaml:"namespace"`
		Elements  yaml.Node `yaml:"elements"`
	}{u.Version, u.Namespace, *elements}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("marshal universe: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal universe: %w", err)
	}
	return buf.Bytes(), nil
}

// flowFields writes each entry of an element's "fields" list on one line.
func flowFields(elem *yaml.Node) {
	for i := 0; i+1 < len(elem.Content); i += 2 {
		if elem.Content[i].Value == "fields" {
			for _, f := range elem.Content[i+1].Content {
				f.Style = yaml.FlowStyle
			}
		}
	}
}
