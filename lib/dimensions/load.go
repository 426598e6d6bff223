package dimensions

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
	"gopkg.in/yaml.v3"
)

// The YAML shapes of a universe file (see doc.go). Decoding goes through
// yaml.Node so that unknown and duplicate keys are reported with their line.
type fileKey struct {
	Name string    `yaml:"name"`
	Type FieldType `yaml:"type"`
	Doc  string    `yaml:"doc,omitempty"`
}

type fileField struct {
	Name     string    `yaml:"name"`
	Type     FieldType `yaml:"type"`
	Doc      string    `yaml:"doc,omitempty"`
	Nullable *bool     `yaml:"nullable,omitempty"`
}

type fileElement struct {
	Doc      string      `yaml:"doc,omitempty"`
	Requires []string    `yaml:"requires,omitempty,flow"`
	Implies  []string    `yaml:"implies,omitempty,flow"`
	Key      fileKey     `yaml:"key,flow"`
	Fields   []fileField `yaml:"fields,omitempty"`
	Temporal bool        `yaml:"temporal,omitempty"`
}

var (
	topKeys     = []string{"version", "namespace", "elements"}
	elementKeys = []string{"doc", "requires", "implies", "key", "fields", "temporal"}
	keyKeys     = []string{"name", "type", "doc"}
	fieldKeys   = []string{"name", "type", "doc", "nullable"}

	namespacePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

	// reservedNames may not name an element or a field: the registry uses
	// them as columns next to dimension keys.
	reservedNames = []string{"timespan", TimespanBegin, TimespanEnd, "run", "collection", "dataset_id", "dataset_type", "ingest_time"}
)

// declared is one element as written in the file, before resolution.
type declared struct {
	elem     *Element
	line     int
	requires []string // as declared
	implies  []string // as declared
	reqLine  int
	impLine  int
}

// Load parses and validates a universe file. It rejects malformed YAML,
// unknown keys, bad names and types, unknown references, duplicate names and
// dependency cycles; errors name the element and field at fault.
func Load(data []byte) (u *Universe, err error) {
	defer func() {
		if r := recover(); r != nil { // defensive: never let bad input panic a caller
			u, err = nil, fmt.Errorf("load dimension universe: internal error: %v", r)
		}
	}()
	u, err = load(data)
	if err != nil {
		return nil, fmt.Errorf("load dimension universe: %w", err)
	}
	registerElements(u)
	return u, nil
}

func load(data []byte) (*Universe, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	top, err := mappingPairs(root, "universe", topKeys)
	if err != nil {
		return nil, err
	}
	u := &Universe{byName: map[string]*Element{}}
	var elementsNode *yaml.Node
	have := map[string]bool{}
	for _, p := range top {
		have[p.key] = true
		switch p.key {
		case "version":
			if p.value.Kind == yaml.ScalarNode && p.value.Tag == "!!null" {
				return nil, fmt.Errorf("line %d: version: missing value", p.line)
			}
			if err := decodeValue(p.value, "version", &u.Version); err != nil {
				return nil, err
			}
			if u.Version < 0 {
				return nil, fmt.Errorf("line %d: version must not be negative, got %d", p.line, u.Version)
			}
		case "namespace":
			if err := decodeValue(p.value, "namespace", &u.Namespace); err != nil {
				return nil, err
			}
			if !namespacePattern.MatchString(u.Namespace) {
				return nil, fmt.Errorf("line %d: namespace %q must start with a letter and contain only letters, digits, '_', '.' and '-'", p.line, yamlnode.Truncate(u.Namespace, 70))
			}
		case "elements":
			elementsNode = p.value
		}
	}
	for _, k := range topKeys {
		if !have[k] {
			return nil, fmt.Errorf("missing top-level key %q", k)
		}
	}
	decls, err := parseElements(elementsNode)
	if err != nil {
		return nil, err
	}
	if err := resolve(u, decls); err != nil {
		return nil, err
	}
	return u, nil
}

func parseElements(n *yaml.Node) ([]*declared, error) {
	pairs, err := mappingPairs(n, "elements", nil)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("line %d: elements: the universe defines no elements", n.Line)
	}
	decls := make([]*declared, 0, len(pairs))
	for _, p := range pairs {
		d, err := parseElement(p)
		if err != nil {
			return nil, err
		}
		decls = append(decls, d)
	}
	return decls, nil
}

func checkName(line int, what, name string) error {
	if !identifier.MatchString(name) {
		return fmt.Errorf("line %d: %s: name %q must be lower case letters, digits and '_', starting with a letter (at most 63)", line, what, yamlnode.Truncate(name, 70))
	}
	if contains(reservedNames, name) {
		return fmt.Errorf("line %d: %s: name %q is reserved", line, what, name)
	}
	return nil
}

func parseElement(p pair) (*declared, error) {
	what := fmt.Sprintf("element %q", yamlnode.Truncate(p.key, 70))
	if err := checkName(p.line, what, p.key); err != nil {
		return nil, err
	}
	entries, err := mappingPairs(p.value, what, elementKeys)
	if err != nil {
		return nil, err
	}
	d := &declared{elem: &Element{Name: p.key}, line: p.line}
	e := d.elem
	haveKey := false
	var fieldLines []int
	for _, en := range entries {
		w := what + ": " + en.key
		switch en.key {
		case "doc":
			err = decodeValue(en.value, w, &e.Doc)
			e.Doc = strings.TrimSpace(e.Doc)
		case "requires":
			d.reqLine = en.line
			err = decodeValue(en.value, w, &d.requires)
		case "implies":
			d.impLine = en.line
			err = decodeValue(en.value, w, &d.implies)
		case "temporal":
			err = decodeValue(en.value, w, &e.Temporal)
		case "key":
			haveKey = true
			e.Key, err = parseKey(en, w)
		case "fields":
			e.Fields, fieldLines, err = parseFields(en, what, e)
		}
		if err != nil {
			return nil, err
		}
	}
	if !haveKey {
		return nil, fmt.Errorf("line %d: %s: missing key (e.g. key: {name: id, type: int})", p.line, what)
	}
	for i, f := range e.Fields {
		if f.Name == e.Key.Name {
			return nil, fmt.Errorf("line %d: %s: field %q: same name as the element's key", fieldLines[i], what, f.Name)
		}
	}
	for _, list := range []struct {
		name  string
		line  int
		names []string
	}{{"requires", d.reqLine, d.requires}, {"implies", d.impLine, d.implies}} {
		seen := map[string]bool{}
		for _, r := range list.names {
			switch {
			case r == e.Name:
				return nil, fmt.Errorf("line %d: %s: %s itself", list.line, what, list.name)
			case seen[r]:
				return nil, fmt.Errorf("line %d: %s: %s lists %q twice", list.line, what, list.name, yamlnode.Truncate(r, 70))
			}
			seen[r] = true
		}
	}
	for _, r := range d.requires {
		if contains(d.implies, r) {
			return nil, fmt.Errorf("line %d: %s: %q is both required and implied", d.impLine, what, r)
		}
	}
	return d, nil
}

func parseKey(p pair, what string) (Field, error) {
	if _, err := mappingPairs(p.value, what, keyKeys); err != nil {
		return Field{}, err
	}
	var k fileKey
	if err := decodeValue(p.value, what, &k); err != nil {
		return Field{}, err
	}
	if k.Name == "" {
		return Field{}, fmt.Errorf("line %d: %s: missing name", p.line, what)
	}
	if !identifier.MatchString(k.Name) {
		return Field{}, fmt.Errorf("line %d: %s: name %q must be lower case letters, digits and '_', starting with a letter", p.line, what, yamlnode.Truncate(k.Name, 70))
	}
	if !k.Type.ValidKey() {
		return Field{}, fmt.Errorf("line %d: %s %q: bad key type %q (want int or string)", p.line, what, k.Name, yamlnode.Truncate(string(k.Type), 70))
	}
	return Field{Name: k.Name, Type: k.Type, Doc: strings.TrimSpace(k.Doc)}, nil
}

func parseFields(p pair, elemWhat string, e *Element) (fields []Field, lines []int, err error) {
	n := p.value
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("line %d: %s: fields must be a list, not %s", n.Line, elemWhat, yamlnode.KindName(n))
	}
	seen := map[string]int{}
	for i, fn := range n.Content {
		fn = yamlnode.Resolve(fn)
		what := fmt.Sprintf("%s: field %d", elemWhat, i+1)
		entries, err := mappingPairs(fn, what, nil)
		if err != nil {
			return nil, nil, err
		}
		for _, en := range entries {
			if en.key == "name" && en.value.Kind == yaml.ScalarNode && en.value.Value != "" {
				what = fmt.Sprintf("%s: field %q", elemWhat, yamlnode.Truncate(en.value.Value, 70))
			}
		}
		if _, err := mappingPairs(fn, what, fieldKeys); err != nil {
			return nil, nil, err
		}
		var f fileField
		if err := decodeValue(fn, what, &f); err != nil {
			return nil, nil, err
		}
		if f.Name == "" {
			return nil, nil, fmt.Errorf("line %d: %s: missing name", fn.Line, what)
		}
		what = fmt.Sprintf("%s: field %q", elemWhat, yamlnode.Truncate(f.Name, 70))
		if err := checkName(fn.Line, what, f.Name); err != nil {
			return nil, nil, err
		}
		if first, dup := seen[f.Name]; dup {
			return nil, nil, fmt.Errorf("line %d: %s: duplicate field (first at line %d)", fn.Line, what, first)
		}
		seen[f.Name] = fn.Line
		switch {
		case f.Type == "":
			return nil, nil, fmt.Errorf("line %d: %s: missing type (want string, int, float, bool or timestamp)", fn.Line, what)
		case !f.Type.Valid():
			return nil, nil, fmt.Errorf("line %d: %s: unknown type %q (want string, int, float, bool or timestamp)", fn.Line, what, yamlnode.Truncate(string(f.Type), 70))
		case f.Name == e.Name:
			return nil, nil, fmt.Errorf("line %d: %s: same name as the element (its key column)", fn.Line, what)
		}
		fields = append(fields, Field{Name: f.Name, Type: f.Type, Doc: strings.TrimSpace(f.Doc), Nullable: f.Nullable == nil || *f.Nullable})
		lines = append(lines, fn.Line)
	}
	if len(fields) == 0 {
		return nil, nil, nil
	}
	return fields, lines, nil
}

// resolve checks references, orders the elements, closes requires and
// computes columns.
func resolve(u *Universe, decls []*declared) error {
	byName := make(map[string]*declared, len(decls))
	names := make([]string, 0, len(decls))
	for _, d := range decls {
		byName[d.elem.Name] = d // duplicates are caught by mappingPairs
		names = append(names, d.elem.Name)
	}
	for _, d := range decls {
		for _, list := range []struct {
			kind  string
			line  int
			names []string
		}{{"requires", d.reqLine, d.requires}, {"implies", d.impLine, d.implies}} {
			for _, r := range list.names {
				if _, ok := byName[r]; !ok {
					msg := fmt.Sprintf("line %d: element %q: %s unknown element %q", list.line, d.elem.Name, list.kind, yamlnode.Truncate(r, 70))
					if s := closest(r, names); s != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", s)
					}
					return errors.New(msg)
				}
			}
		}
	}
	if cycle := findCycle(decls, byName); cycle != nil {
		return fmt.Errorf("line %d: element %q: dependency cycle %s", byName[cycle[0]].line, cycle[0], strings.Join(cycle, " -> "))
	}
	order := topoSort(decls, byName)
	for i, d := range order {
		d.elem.index = i
		u.elements = append(u.elements, d.elem)
		u.byName[d.elem.Name] = d.elem
	}
	byIndex := func(list []string) []string {
		out := slices.Clone(list)
		slices.SortFunc(out, func(a, b string) int { return u.byName[a].index - u.byName[b].index })
		return out
	}
	// Close requires in universe order: dependencies are already closed.
	for _, d := range order {
		set := map[string]bool{}
		for _, r := range d.requires {
			set[r] = true
			for _, rr := range u.byName[r].Requires {
				set[rr] = true
			}
		}
		req := make([]string, 0, len(set))
		for r := range set {
			req = append(req, r)
		}
		d.elem.Requires = byIndex(req)
		d.elem.Implies = byIndex(d.implies)
		if len(d.elem.Requires) == 0 {
			d.elem.Requires = nil
		}
		if len(d.elem.Implies) == 0 {
			d.elem.Implies = nil
		}
	}
	for _, d := range decls {
		e := d.elem
		for _, r := range e.Requires {
			if contains(e.Implies, r) {
				return fmt.Errorf("line %d: element %q: implies %q, which it already requires through another dimension", d.impLine, e.Name, r)
			}
		}
		for _, i := range e.Implies {
			for _, ir := range u.byName[i].Requires {
				if !contains(e.Requires, ir) && !contains(e.Implies, ir) {
					return fmt.Errorf("line %d: element %q: implies %q, which requires %q; %q must require or imply %q too", d.impLine, e.Name, i, ir, e.Name, ir)
				}
			}
		}
		for _, f := range e.Fields {
			if contains(e.Requires, f.Name) || contains(e.Implies, f.Name) {
				return fmt.Errorf("line %d: element %q: field %q: same name as the column of dimension %q", d.line, e.Name, f.Name, f.Name)
			}
		}
		e.buildColumns(u.KeyType)
	}
	return nil
}

// findCycle returns a dependency cycle (first element repeated at the end)
// over requires and implies, or nil.
func findCycle(decls []*declared, byName map[string]*declared) []string {
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int, len(decls))
	var stack []string
	var visit func(name string) []string
	visit = func(name string) []string {
		color[name] = grey
		stack = append(stack, name)
		d := byName[name]
		for _, dep := range append(slices.Clone(d.requires), d.implies...) {
			switch color[dep] {
			case grey:
				i := slices.Index(stack, dep)
				return append(slices.Clone(stack[i:]), dep)
			case white:
				if c := visit(dep); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
		return nil
	}
	for _, d := range decls {
		if color[d.elem.Name] == white {
			if c := visit(d.elem.Name); c != nil {
				return c
			}
		}
	}
	return nil
}

// topoSort orders an acyclic set of declarations dependencies first; among
// the ready elements the one declared first goes first.
func topoSort(decls []*declared, byName map[string]*declared) []*declared {
	pos := make(map[string]int, len(decls))
	for i, d := range decls {
		pos[d.elem.Name] = i
	}
	pending := make([]int, len(decls)) // unsatisfied dependency counts
	dependents := make([][]int, len(decls))
	for i, d := range decls {
		for _, dep := range append(slices.Clone(d.requires), d.implies...) {
			pending[i]++
			j := pos[dep]
			dependents[j] = append(dependents[j], i)
		}
	}
	done := make([]bool, len(decls))
	out := make([]*declared, 0, len(decls))
	for len(out) < len(decls) {
		next := -1
		for i := range decls {
			if !done[i] && pending[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 { // unreachable after findCycle
			break
		}
		done[next] = true
		out = append(out, decls[next])
		for _, j := range dependents[next] {
			pending[j]--
		}
	}
	return out
}
