package dimensions

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DataID maps dimension names to key values (int64 or string).
type DataID map[string]any

// String formats d as "{instrument: 'SPHEREx', detector: 3}": keys in the
// default universe's order, then any others alphabetically. Use
// Universe.FormatDataID for another universe's order.
func (d DataID) String() string { return Default().FormatDataID(d) }

// FormatDataID formats d like DataID.String, keys in u's order, unknown keys
// last in alphabetical order.
func (u *Universe) FormatDataID(d DataID) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ei, oki := u.byName[keys[i]]
		ej, okj := u.byName[keys[j]]
		switch {
		case oki && okj:
			return ei.index < ej.index
		case oki != okj:
			return oki
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		switch v := d[k].(type) {
		case string:
			b.WriteString(quote(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			fmt.Fprintf(&b, "%v", v)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// Copy returns a shallow copy of d.
func (d DataID) Copy() DataID {
	c := make(DataID, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// RecordLookup finds the record of element whose key (required dimensions
// plus the element itself) is key. The registry implements it.
type RecordLookup interface {
	LookupRecord(element string, key DataID) (Record, bool, error)
}

// NormalizeDataID checks and completes a data ID for dims:
//
//   - every key of raw must be a dimension of the universe (else `unknown
//     dimension "detectr"`) and of the expansion of dims (else an error
//     naming it); nil values count as absent (so a row with a null column
//     per dimension is fine);
//   - values are coerced to the key type: "12" or 12.0 -> int64 12 for int
//     keys; anything but a string for a string key is an error;
//   - every dimension dims requires must be present (`data ID for
//     [instrument detector exposure] is missing "exposure"`);
//   - when lookup is not nil, implied dimensions are filled from the records
//     of the elements whose keys are known, transitively (exposure ->
//     physical_filter -> band); each such element is looked up at most once;
//     a given implied value that disagrees with a record is an error; a
//     record that does not exist fills nothing.
//
// The result holds the required keys and every implied key known.
func (u *Universe) NormalizeDataID(dims []string, raw map[string]any, lookup RecordLookup) (DataID, error) {
	required, err := u.Required(dims)
	if err != nil {
		return nil, err
	}
	expanded, err := u.Expand(dims)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] }) // deterministic errors
	id := make(DataID, len(expanded))
	for _, k := range keys {
		v := raw[k]
		if _, ok := u.byName[k]; !ok {
			return nil, u.unknown(k)
		}
		if v == nil {
			continue
		}
		if !contains(expanded, k) {
			return nil, fmt.Errorf("data ID for [%s] cannot have %q: it is not one of its dimensions [%s]",
				strings.Join(required, " "), k, strings.Join(expanded, " "))
		}
		cv, err := Coerce(u.KeyType(k), v)
		if err != nil {
			return nil, fmt.Errorf("data ID value for %q: %w", k, err)
		}
		id[k] = cv
	}
	var missing []string
	for _, r := range required {
		if _, ok := id[r]; !ok {
			missing = append(missing, strconv.Quote(r))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("data ID for [%s] is missing %s", strings.Join(required, " "), strings.Join(missing, ", "))
	}
	if lookup == nil {
		return id, nil
	}
	// Dependents come after their dependencies in universe order, so walk it
	// backwards (exposure before physical_filter) and repeat until nothing
	// new is learned, looking each element up at most once.
	looked := map[string]bool{}
	for progress := true; progress; {
		progress = false
		for i := len(expanded) - 1; i >= 0; i-- {
			e := u.byName[expanded[i]]
			if len(e.Implies) == 0 || looked[e.Name] {
				continue
			}
			key, complete := id.project(e.KeyColumns())
			if !complete {
				continue
			}
			looked[e.Name] = true
			filled, err := u.fillImplied(e, key, id, lookup)
			if err != nil {
				return nil, err
			}
			progress = progress || filled
		}
	}
	return id, nil
}

// project returns the values of d for names, and whether all were present.
func (d DataID) project(names []string) (DataID, bool) {
	key := make(DataID, len(names))
	for _, n := range names {
		v, ok := d[n]
		if !ok {
			return nil, false
		}
		key[n] = v
	}
	return key, true
}

// fillImplied looks up e's record for key and copies its implied values into
// id, reporting whether it added any.
func (u *Universe) fillImplied(e *Element, key, id DataID, lookup RecordLookup) (bool, error) {
	rec, found, err := lookup.LookupRecord(e.Name, key)
	if err != nil {
		return false, fmt.Errorf("normalize data ID: look up %s record %s: %w", e.Name, u.FormatDataID(key), err)
	}
	if !found {
		return false, nil
	}
	added := false
	for _, imp := range e.Implies {
		rv := rec.Values[imp]
		if rv == nil {
			continue
		}
		cv, err := Coerce(u.KeyType(imp), rv)
		if err != nil {
			return false, fmt.Errorf("normalize data ID: %s record %s: column %q: %w", e.Name, u.FormatDataID(key), imp, err)
		}
		if given, ok := id[imp]; ok {
			if given != cv {
				return false, fmt.Errorf("data ID conflict: %s=%s but the %s record %s has %s=%s",
					imp, formatValue(given), e.Name, u.FormatDataID(key), imp, formatValue(cv))
			}
			continue
		}
		id[imp] = cv
		added = true
	}
	return added, nil
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	return fmt.Sprint(v)
}
