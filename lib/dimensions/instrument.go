package dimensions

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/skybutler/skybutler/lib/yamlnode"
	"github.com/skybutler/skybutler/schemas"
)

// InstrumentDef is a parsed instrument definition file (schemas/instruments/
// *.yaml): the instrument record and the detector and physical-filter records
// that registering the instrument creates.
type InstrumentDef struct {
	Name            string           // the instrument's key, e.g. "SPHEREx"
	Doc             string           // free text, not stored
	Record          map[string]any   // instrument record fields (without the name)
	Detectors       []map[string]any // detector records: "id" (or "detector") plus fields
	PhysicalFilters []map[string]any // physical_filter records: "name" (or "physical_filter"), "band", fields
	Translation     map[string]any   // header translation rules; parsed, not yet interpreted
}

var instrumentKeys = []string{"name", "doc", "record", "detectors", "physical_filters", "translation"}

// ParseInstrument parses an instrument definition strictly: unknown
// top-level keys, duplicate keys, a missing name, entries without a key and
// duplicate detector or filter keys are errors, with line numbers.
func ParseInstrument(data []byte) (*InstrumentDef, error) {
	d, err := parseInstrument(data)
	if err != nil {
		return nil, fmt.Errorf("parse instrument definition: %w", err)
	}
	return d, nil
}

func parseInstrument(data []byte) (d *InstrumentDef, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	pairs, err := mappingPairs(root, "instrument definition", instrumentKeys)
	if err != nil {
		return nil, err
	}
	d = &InstrumentDef{}
	for _, p := range pairs {
		switch p.key {
		case "name":
			err = decodeValue(p.value, "name", &d.Name)
		case "doc":
			err = decodeValue(p.value, "doc", &d.Doc)
			d.Doc = strings.TrimSpace(d.Doc)
		case "record":
			err = decodeMapping(p.value, "record", &d.Record)
		case "translation":
			err = decodeMapping(p.value, "translation", &d.Translation)
		case "detectors":
			d.Detectors, err = decodeEntries(p.value, "detector", []string{"id", "detector"})
		case "physical_filters":
			d.PhysicalFilters, err = decodeEntries(p.value, "physical filter", []string{"name", "physical_filter"})
		}
		if err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(d.Name) == "" {
		return nil, errors.New("missing instrument name (name: ...)")
	}
	for _, k := range []string{"name", "instrument"} {
		if v, ok := d.Record[k]; ok && v != d.Name {
			return nil, fmt.Errorf("record: %s %v differs from the instrument name %q", k, v, d.Name)
		}
	}
	return d, nil
}

func decodeMapping(n *yaml.Node, what string, out *map[string]any) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if _, err := mappingPairs(n, what, nil); err != nil {
		return err
	}
	return decodeValue(n, what, out)
}

// decodeEntries decodes a list of mappings, each of which must carry exactly
// one of keyNames with a value distinct from the other entries'.
func decodeEntries(n *yaml.Node, what string, keyNames []string) ([]map[string]any, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: %ss must be a list, not %s", n.Line, what, yamlnode.KindName(n))
	}
	out := make([]map[string]any, 0, len(n.Content))
	seen := map[string]int{}
	for i, en := range n.Content {
		en = yamlnode.Resolve(en)
		w := fmt.Sprintf("%s %d", what, i+1)
		if _, err := mappingPairs(en, w, nil); err != nil {
			return nil, err
		}
		var m map[string]any
		if err := decodeValue(en, w, &m); err != nil {
			return nil, err
		}
		var key any
		found := 0
		for _, k := range keyNames {
			if v, ok := m[k]; ok && v != nil {
				key = v
				found++
			}
		}
		switch found {
		case 0:
			return nil, fmt.Errorf("line %d: %s: missing %s", en.Line, w, keyNames[0])
		case 2:
			return nil, fmt.Errorf("line %d: %s: give %s or %s, not both", en.Line, w, keyNames[0], keyNames[1])
		}
		ks := fmt.Sprint(key)
		if first, dup := seen[ks]; dup {
			return nil, fmt.Errorf("line %d: %s: duplicate %s %s (first at line %d)", en.Line, w, what, ks, first)
		}
		seen[ks] = en.Line
		out = append(out, m)
	}
	return out, nil
}

// Records returns the records that register the instrument in u, in
// dependency (universe) order: the instrument, the bands its physical
// filters name, the physical filters and the detectors. Band records are not
// per instrument; registering a second instrument with the same band yields
// an identical band record. It fails if u lacks an element the definition
// uses or a record does not validate.
func (d *InstrumentDef) Records(u *Universe) ([]Record, error) {
	recs, err := d.records(u)
	if err != nil {
		return nil, fmt.Errorf("instrument %s records: %w", d.Name, err)
	}
	return recs, nil
}

func (d *InstrumentDef) records(u *Universe) ([]Record, error) {
	elem := func(name, why string) (*Element, error) {
		e, ok := u.byName[name]
		if !ok {
			return nil, fmt.Errorf("universe %s has no %q element, needed for %s", u, name, why)
		}
		return e, nil
	}
	var recs []Record
	add := func(e *Element, what string, values map[string]any) error {
		if contains(e.Requires, "instrument") {
			values["instrument"] = d.Name
		}
		r, err := e.NewRecord(u, values)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		recs = append(recs, r)
		return nil
	}
	inst, err := elem("instrument", "the instrument")
	if err != nil {
		return nil, err
	}
	values := copyWithout(d.Record, "name", "instrument")
	values["instrument"] = d.Name
	if err := add(inst, "instrument record", values); err != nil {
		return nil, err
	}

	if len(d.PhysicalFilters) > 0 {
		pf, err := elem("physical_filter", "physical filters")
		if err != nil {
			return nil, err
		}
		var bands []string
		for _, f := range d.PhysicalFilters {
			if b, ok := f["band"].(string); ok && !slices.Contains(bands, b) {
				bands = append(bands, b)
			}
		}
		if len(bands) > 0 {
			be, err := elem("band", "the bands of physical filters")
			if err != nil {
				return nil, err
			}
			for _, b := range bands {
				if err := add(be, fmt.Sprintf("band %q", b), map[string]any{"band": b}); err != nil {
					return nil, err
				}
			}
		}
		for _, f := range d.PhysicalFilters {
			v := renameKey(f, pf)
			if err := add(pf, fmt.Sprintf("physical filter %v", v[pf.Name]), v); err != nil {
				return nil, err
			}
		}
	}
	if len(d.Detectors) > 0 {
		det, err := elem("detector", "detectors")
		if err != nil {
			return nil, err
		}
		for _, m := range d.Detectors {
			v := renameKey(m, det)
			if err := add(det, fmt.Sprintf("detector %v", v[det.Name]), v); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(recs, func(i, j int) bool {
		return u.byName[recs[i].Element].index < u.byName[recs[j].Element].index
	})
	return recs, nil
}

// renameKey copies an entry, moving the element's key field ("id", "name")
// to the element's column name ("detector", "physical_filter").
func renameKey(m map[string]any, e *Element) map[string]any {
	v := copyWithout(m)
	if e.Key.Name != e.Name {
		if k, ok := v[e.Key.Name]; ok {
			delete(v, e.Key.Name)
			v[e.Name] = k
		}
	}
	return v
}

func copyWithout(m map[string]any, drop ...string) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		if !slices.Contains(drop, k) {
			out[k] = v
		}
	}
	return out
}

// LoadInstrument returns the shipped definition instruments/<name>.yaml
// from schemas.FS; name is matched exactly, then in lower case ("SPHEREx"
// finds spherex.yaml).
func LoadInstrument(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return nil, fmt.Errorf("load instrument definition: invalid name %q", name)
	}
	for _, n := range []string{name, strings.ToLower(name)} {
		data, err := schemas.FS.ReadFile(path.Join("instruments", n+".yaml"))
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load instrument definition %q: %w", name, err)
		}
	}
	return nil, fmt.Errorf("load instrument definition: no shipped instrument %q (have: %s)", name, strings.Join(Instruments(), ", "))
}

// Instruments lists the names of the shipped instrument definition files
// (without .yaml), sorted.
func Instruments() []string {
	entries, _ := schemas.FS.ReadDir("instruments")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
