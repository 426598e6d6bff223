package ingest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

var (
	translationKeys = []string{"match", "dataset_type", "day_obs_offset", "data_id", "records", "validity", "variants", "universes"}
	variantKeys     = []string{"name", "when", "dataset_type", "data_id", "records", "validity"}
	// sections a variant or universe override replaces as a whole
	sectionKeys = []string{"dataset_type", "data_id", "records", "validity"}
)

// matchRule: a header keyword and the values it may have ("*": any).
type matchRule struct {
	key     string
	values  []string // matchKey form
	display []string // as written, for messages
	any     bool
}

// ruleSet is the rules of one kind of file: the base rules or a variant.
type ruleSet struct {
	name        string // "" for the base rules
	when        []matchRule
	datasetType *rule
	dataID      map[string]*rule
	dataIDOrder []string // universe order
	records     map[string]map[string]*rule
	recordOrder []string // universe order
	validity    [2]*rule // begin, end; nil when not a calibration
	dims        []string // the data ID's dimensions: required closure, universe order
	minimal     []string // dims without those others imply or require
}

// parseTranslation parses def.Translation for u into t.
func (t *Translator) parseTranslation() error {
	raw := t.def.Translation
	if len(raw) == 0 {
		return fmt.Errorf("no translation rules (the translation: section is empty)")
	}
	if err := checkKeys("translation", raw, translationKeys); err != nil {
		return err
	}
	eff := make(map[string]any, len(raw))
	for k, v := range raw {
		eff[k] = v
	}
	if uv, ok := raw["universes"]; ok {
		um, ok := asMap(uv)
		if !ok {
			return fmt.Errorf("translation.universes: want a mapping of universe namespaces to rules, not %s", describeYAML(uv))
		}
		if ov, ok := um[t.u.Namespace]; ok {
			path := "translation.universes." + t.u.Namespace
			om, ok := asMap(ov)
			if !ok {
				return fmt.Errorf("%s: want a mapping, not %s", path, describeYAML(ov))
			}
			if err := checkKeys(path, om, append(slices.Clone(sectionKeys), "variants")); err != nil {
				return err
			}
			for k, v := range om {
				eff[k] = v
			}
		}
	}

	var err error
	if t.match, err = parseMatch("translation.match", eff["match"]); err != nil {
		return err
	}
	if eff["match"] == nil {
		t.match = []matchRule{{key: "INSTRUME", values: []string{matchKey(t.def.Name)}, display: []string{t.def.Name}}}
	}
	if t.offset, err = parseOffset(eff["day_obs_offset"]); err != nil {
		return err
	}
	if eff["dataset_type"] == nil {
		eff["dataset_type"] = "raw"
	}
	if t.base, err = t.parseRuleSet("translation", "", eff); err != nil {
		return err
	}
	if vv, ok := eff["variants"]; ok && vv != nil {
		list, ok := vv.([]any)
		if !ok {
			return fmt.Errorf("translation.variants: want a list, not %s", describeYAML(vv))
		}
		seen := map[string]bool{}
		for i, item := range list {
			path := fmt.Sprintf("translation.variants[%d]", i)
			vm, ok := asMap(item)
			if !ok {
				return fmt.Errorf("%s: want a mapping, not %s", path, describeYAML(item))
			}
			if err := checkKeys(path, vm, variantKeys); err != nil {
				return err
			}
			name, _ := vm["name"].(string)
			if strings.TrimSpace(name) == "" {
				return fmt.Errorf("%s: missing name", path)
			}
			if seen[name] {
				return fmt.Errorf("%s: duplicate variant name %q", path, name)
			}
			seen[name] = true
			merged := map[string]any{}
			for _, k := range sectionKeys {
				if v, ok := vm[k]; ok {
					merged[k] = v
				} else {
					merged[k] = eff[k]
				}
			}
			rs, err := t.parseRuleSet(path, name, merged)
			if err != nil {
				return err
			}
			if vm["when"] == nil {
				return fmt.Errorf("%s: missing when (the header values that select this variant)", path)
			}
			if rs.when, err = parseMatch(path+".when", vm["when"]); err != nil {
				return err
			}
			t.variants = append(t.variants, rs)
		}
	}
	return nil
}

// parseRuleSet parses the sections dataset_type, data_id, records and
// validity of m and checks them against the universe.
func (t *Translator) parseRuleSet(path, name string, m map[string]any) (*ruleSet, error) {
	u := t.u
	rs := &ruleSet{name: name, dataID: map[string]*rule{}, records: map[string]map[string]*rule{}}
	var err error

	switch dt := m["dataset_type"].(type) {
	case string:
		if strings.TrimSpace(dt) == "" {
			return nil, fmt.Errorf("%s.dataset_type: empty name", path)
		}
		rs.datasetType = &rule{path: path + ".dataset_type", value: strings.TrimSpace(dt), hasValue: true}
	default:
		if rs.datasetType, err = parseRule(path+".dataset_type", dt); err != nil {
			return nil, err
		}
	}

	dm, ok := asMap(m["data_id"])
	if !ok || len(dm) == 0 {
		return nil, fmt.Errorf("%s.data_id: want a mapping of dimensions to rules, e.g. {detector: {header: DETECTOR}}", path)
	}
	for _, dim := range sortedKeys(dm) {
		p := path + ".data_id." + dim
		if dim == "instrument" {
			return nil, fmt.Errorf("%s: the instrument comes from the instrument definition (%s); remove this rule", p, t.def.Name)
		}
		if _, ok := u.Element(dim); !ok {
			return nil, fmt.Errorf("%s: universe %s has no dimension %q (it has %s)", p, u, dim, strings.Join(u.Names(), ", "))
		}
		if rs.dataID[dim], err = parseRule(p, dm[dim]); err != nil {
			return nil, err
		}
	}
	keys := append([]string{"instrument"}, sortedKeys(dm)...)
	if rs.dataIDOrder, err = u.Sorted(sortedKeys(dm)); err != nil {
		return nil, fmt.Errorf("%s.data_id: %w", path, err)
	}
	if rs.minimal, rs.dims, err = dataIDDimensions(u, keys); err != nil {
		return nil, fmt.Errorf("%s.data_id: %w", path, err)
	}

	if rv := m["records"]; rv != nil {
		rm, ok := asMap(rv)
		if !ok {
			return nil, fmt.Errorf("%s.records: want a mapping of elements to column rules, not %s", path, describeYAML(rv))
		}
		for _, el := range sortedKeys(rm) {
			if err := t.parseRecordRules(rs, path+".records."+el, el, rm[el]); err != nil {
				return nil, err
			}
		}
		if rs.recordOrder, err = u.Sorted(sortedKeys(rm)); err != nil {
			return nil, fmt.Errorf("%s.records: %w", path, err)
		}
	}

	if vv := m["validity"]; vv != nil {
		vm, ok := asMap(vv)
		if !ok {
			return nil, fmt.Errorf("%s.validity: want {begin: RULE, end: RULE}, not %s", path, describeYAML(vv))
		}
		if err := checkKeys(path+".validity", vm, []string{"begin", "end"}); err != nil {
			return nil, err
		}
		for i, k := range []string{"begin", "end"} {
			if vm[k] == nil {
				continue // unbounded
			}
			if rs.validity[i], err = parseRule(path+".validity."+k, vm[k]); err != nil {
				return nil, err
			}
		}
	}

	if err := t.resolveRefs(rs); err != nil {
		return nil, err
	}
	return rs, nil
}

func (t *Translator) parseRecordRules(rs *ruleSet, path, el string, v any) error {
	e, ok := t.u.Element(el)
	if !ok {
		return fmt.Errorf("%s: universe %s has no element %q (it has %s)", path, t.u, el, strings.Join(t.u.Names(), ", "))
	}
	cm, ok := asMap(v)
	if v != nil && !ok {
		return fmt.Errorf("%s: want a mapping of columns to rules ({} for none), not %s", path, describeYAML(v))
	}
	for _, k := range e.KeyColumns() {
		if _, ok := rs.dataID[k]; !ok && k != "instrument" {
			return fmt.Errorf("%s: the record's key needs data_id.%s", path, k)
		}
	}
	cols := map[string]*rule{}
	var names []string
	for _, c := range e.Columns() {
		names = append(names, c.Name)
	}
	for _, col := range sortedKeys(cm) {
		p := path + "." + col
		if _, ok := e.Column(col); !ok {
			return fmt.Errorf("%s: %s has no column %q (it has %s)", p, el, col, strings.Join(names, ", "))
		}
		if isDimensionColumn(e, col) {
			return fmt.Errorf("%s: the value of dimension %s comes from data_id; move the rule to data_id.%s", p, col, col)
		}
		r, err := parseRule(p, cm[col])
		if err != nil {
			return err
		}
		cols[col] = r
	}
	rs.records[el] = cols
	return nil
}

// isDimensionColumn reports whether col holds a dimension key in e's
// records: a required or implied dimension, or e's own key.
func isDimensionColumn(e *dimensions.Element, col string) bool {
	return col == e.Name || slices.Contains(e.Requires, col) || slices.Contains(e.Implies, col)
}

// resolveRefs rewrites every ref of rs to its node name ("data_id.DIM" or
// "ELEMENT.COLUMN") and rejects unknown names and cycles.
func (t *Translator) resolveRefs(rs *ruleSet) error {
	graph := map[string][]string{}
	var resolve func(r *rule, from string) error
	resolve = func(r *rule, from string) error {
		if r == nil {
			return nil
		}
		if r.ref != "" {
			n, err := t.resolveRef(rs, r.ref)
			if err != nil {
				return fmt.Errorf("%s.ref: %w", r.path, err)
			}
			r.ref = n
			if from != "" {
				graph[from] = append(graph[from], n)
			}
		}
		if err := resolve(r.addSeconds, from); err != nil {
			return err
		}
		for _, a := range r.alts {
			if err := resolve(a, from); err != nil {
				return err
			}
		}
		return nil
	}
	for _, dim := range rs.dataIDOrder {
		if err := resolve(rs.dataID[dim], "data_id."+dim); err != nil {
			return err
		}
	}
	for _, el := range rs.recordOrder {
		for col, r := range rs.records[el] {
			if err := resolve(r, el+"."+col); err != nil {
				return err
			}
		}
	}
	for _, r := range append([]*rule{rs.datasetType}, rs.validity[:]...) {
		if err := resolve(r, ""); err != nil {
			return err
		}
	}
	if cycle := findCycle(graph); cycle != nil {
		return fmt.Errorf("translation rules refer to each other in a cycle: %s", strings.Join(cycle, " -> "))
	}
	return nil
}

// resolveRef maps a ref name to a node name.
func (t *Translator) resolveRef(rs *ruleSet, ref string) (string, error) {
	el, col, qualified := strings.Cut(ref, ".")
	if !qualified {
		if ref == "instrument" {
			return "data_id.instrument", nil
		}
		if _, ok := rs.dataID[ref]; !ok {
			return "", fmt.Errorf("%q is not a dimension given by data_id", ref)
		}
		return "data_id." + ref, nil
	}
	cols, ok := rs.records[el]
	if !ok {
		return "", fmt.Errorf("%q: records has no %s", ref, el)
	}
	e, _ := t.u.Element(el)
	if isDimensionColumn(e, col) {
		if _, ok := rs.dataID[col]; !ok && col != "instrument" {
			return "", fmt.Errorf("%q: data_id has no rule for %s", ref, col)
		}
		return "data_id." + col, nil
	}
	if _, ok := cols[col]; !ok {
		return "", fmt.Errorf("%q: records.%s has no rule for %s", ref, el, col)
	}
	return ref, nil
}

func findCycle(graph map[string][]string) []string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		switch state[n] {
		case visiting:
			i := slices.Index(stack, n)
			return append(slices.Clone(stack[i:]), n)
		case done:
			return nil
		}
		state[n] = visiting
		stack = append(stack, n)
		for _, m := range graph[n] {
			if c := visit(m); c != nil {
				return c
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	nodes := make([]string, 0, len(graph))
	for n := range graph {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		if c := visit(n); c != nil {
			return c
		}
	}
	return nil
}

// dataIDDimensions returns, for the dimensions a data ID section gives, the
// minimal set (those no other one requires or implies) and its required
// closure (the dataset type's dimensions).
func dataIDDimensions(u *dimensions.Universe, keys []string) (minimal, dims []string, err error) {
	covered := map[string]bool{}
	for _, k := range keys {
		exp, err := u.Expand([]string{k})
		if err != nil {
			return nil, nil, err
		}
		for _, x := range exp {
			if x != k {
				covered[x] = true
			}
		}
	}
	for _, k := range keys {
		if !covered[k] {
			minimal = append(minimal, k)
		}
	}
	if minimal, err = u.Sorted(minimal); err != nil {
		return nil, nil, err
	}
	dims, err = u.Required(minimal)
	return minimal, dims, err
}

func parseMatch(path string, v any) ([]matchRule, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := asMap(v)
	if !ok || len(m) == 0 {
		return nil, fmt.Errorf("%s: want a mapping of header keywords to values, e.g. {INSTRUME: SPHEREx}", path)
	}
	var out []matchRule
	for _, k := range sortedKeys(m) {
		mr := matchRule{key: strings.ToUpper(strings.TrimSpace(k))}
		vals := []any{m[k]}
		if list, ok := m[k].([]any); ok {
			vals = list
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("%s.%s: empty list of values", path, k)
		}
		for _, val := range vals {
			switch val.(type) {
			case string, bool, int, int64, float64:
			default:
				return nil, fmt.Errorf("%s.%s: want a value or a list of values, not %s", path, k, describeYAML(val))
			}
			if val == "*" {
				mr.any = true
			}
			mr.values = append(mr.values, matchKey(val))
			mr.display = append(mr.display, fmt.Sprint(val))
		}
		out = append(out, mr)
	}
	return out, nil
}

// matches reports whether every rule holds for h.
func matches(rules []matchRule, h Header) bool {
	for _, mr := range rules {
		v, ok := h.Get(mr.key)
		if !ok || v == nil {
			return false
		}
		if !mr.any && !slices.Contains(mr.values, matchKey(v)) {
			return false
		}
	}
	return true
}

func parseOffset(v any) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err == nil && d > -48*time.Hour && d < 48*time.Hour {
			return d, nil
		}
	case int:
		if x > -48 && x < 48 {
			return time.Duration(x) * time.Hour, nil
		}
	case float64:
		if x > -48 && x < 48 {
			return time.Duration(x * float64(time.Hour)), nil
		}
	}
	return 0, fmt.Errorf("translation.day_obs_offset: want a duration such as -12h (or a number of hours) within ±48h, not %s", describeYAML(v))
}

func checkKeys(path string, m map[string]any, allowed []string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: unknown key %q (want %s)", path, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}
