package dimensions

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Record is one row of an element's table: column name -> value. Values are
// int64, float64, string, bool, time.Time (UTC) or nil. Records made by
// NewRecord hold every column of the element (nil for absent nullable ones).
type Record struct {
	Element string
	Values  map[string]any
}

// NewRecord validates values against the element's columns and returns the
// record. Every value is coerced to its column's type (see Coerce); unknown
// columns, a missing key column and a missing non-nullable field are errors.
// A temporal element's timespan is given either as timespan_begin /
// timespan_end or as "timespan": {begin: ..., end: ...} (RFC 3339 strings,
// time.Time, or a Timespan value); End before Begin is an error.
func (e *Element) NewRecord(u *Universe, values map[string]any) (Record, error) {
	r, err := e.newRecord(u, values)
	if err != nil {
		return Record{}, fmt.Errorf("new %s record: %w", e.Name, err)
	}
	return r, nil
}

func (e *Element) newRecord(u *Universe, values map[string]any) (Record, error) {
	if u != nil {
		if ue, ok := u.byName[e.Name]; !ok || ue != e && !slices.Equal(ue.columns, e.columns) {
			return Record{}, fmt.Errorf("element %q is not part of universe %s", e.Name, u)
		}
	}
	in := values
	if ts, ok := values["timespan"]; ok {
		if !e.Temporal {
			return Record{}, fmt.Errorf("unknown column \"timespan\": %s is not temporal", e.Name)
		}
		_, hasB := values[TimespanBegin]
		_, hasE := values[TimespanEnd]
		if hasB || hasE {
			return Record{}, fmt.Errorf("timespan given both as \"timespan\" and as %s/%s", TimespanBegin, TimespanEnd)
		}
		b, en, err := timespanValue(ts)
		if err != nil {
			return Record{}, err
		}
		in = make(map[string]any, len(values)+1)
		for k, v := range values {
			if k != "timespan" {
				in[k] = v
			}
		}
		in[TimespanBegin], in[TimespanEnd] = b, en
	}
	var unknown []string
	for k := range in {
		if _, ok := e.Column(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, len(e.columns))
		for i, c := range e.columns {
			names[i] = c.Name
		}
		msg := fmt.Sprintf("unknown column %q", unknown[0])
		if s := closest(unknown[0], names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return Record{}, fmt.Errorf("%s; %s has columns %s", msg, e.Name, strings.Join(names, ", "))
	}
	out := make(map[string]any, len(e.columns))
	for _, c := range e.columns {
		v, err := Coerce(c.Type, in[c.Name])
		if err != nil {
			return Record{}, fmt.Errorf("column %q: %w", c.Name, err)
		}
		if v == nil && !c.Nullable {
			return Record{}, fmt.Errorf("missing value for column %q", c.Name)
		}
		out[c.Name] = v
	}
	if e.Temporal {
		b, _ := out[TimespanBegin].(time.Time)
		en, _ := out[TimespanEnd].(time.Time)
		if !b.IsZero() && !en.IsZero() && en.Before(b) {
			return Record{}, fmt.Errorf("timespan ends (%s) before it begins (%s)", en.Format(time.RFC3339Nano), b.Format(time.RFC3339Nano))
		}
	}
	return Record{Element: e.Name, Values: out}, nil
}

// Key returns the record's primary key: the required dimensions and the
// element itself. The key columns are those of the element with this name in
// the default universe or in a universe loaded earlier in this process
// (preferring one whose columns match the record's exactly); use
// Universe.RecordKey to name the universe explicitly.
func (r Record) Key() DataID {
	return r.keyFrom(keyColumnsFor(r))
}

// RecordKey returns r's primary key as defined by u.
func (u *Universe) RecordKey(r Record) (DataID, error) {
	e, ok := u.byName[r.Element]
	if !ok {
		return nil, fmt.Errorf("record key: %w", u.unknown(r.Element))
	}
	return r.keyFrom(e.KeyColumns()), nil
}

func (r Record) keyFrom(cols []string) DataID {
	id := make(DataID, len(cols))
	for _, c := range cols {
		if v, ok := r.Values[c]; ok && v != nil {
			id[c] = v
		}
	}
	return id
}

// Timespan returns the record's timespan. ok is false when the record has no
// timespan columns or both are null (no timespan recorded); a single null
// bound is unbounded on that side.
func (r Record) Timespan() (Timespan, bool) {
	b, okB := recordTime(r.Values[TimespanBegin])
	e, okE := recordTime(r.Values[TimespanEnd])
	if !okB && !okE {
		return Timespan{}, false
	}
	return Timespan{Begin: b, End: e}, true
}

func recordTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case string:
		t, err := ParseTime(x)
		return t, err == nil
	}
	return time.Time{}, false
}

// knownElements remembers the element definitions of every universe loaded
// in this process, so that Record.Key can find key columns without a
// universe. Bounded, so loading many universes (fuzzing) cannot grow it
// without limit.
var knownElements struct {
	sync.Mutex
	byName map[string][]*Element
	count  int
}

const maxKnownElements = 4096

func registerElements(u *Universe) {
	knownElements.Lock()
	defer knownElements.Unlock()
	if knownElements.byName == nil {
		knownElements.byName = map[string][]*Element{}
	}
outer:
	for _, e := range u.elements {
		for _, k := range knownElements.byName[e.Name] {
			if slices.Equal(k.columns, e.columns) {
				continue outer
			}
		}
		if knownElements.count >= maxKnownElements {
			return
		}
		knownElements.byName[e.Name] = append(knownElements.byName[e.Name], e)
		knownElements.count++
	}
}

func keyColumnsFor(r Record) []string {
	var candidates []*Element
	if e, ok := Default().byName[r.Element]; ok {
		candidates = append(candidates, e)
	}
	knownElements.Lock()
	candidates = append(candidates, knownElements.byName[r.Element]...)
	knownElements.Unlock()
	// Exact column match first, then any whose key columns are all present.
	for _, e := range candidates {
		if len(e.columns) == len(r.Values) && hasAll(r.Values, e.columns) {
			return e.KeyColumns()
		}
	}
	for _, e := range candidates {
		if cols := e.KeyColumns(); hasAllNames(r.Values, cols) {
			return cols
		}
	}
	return []string{r.Element}
}

func hasAll(values map[string]any, cols []Field) bool {
	for _, c := range cols {
		if _, ok := values[c.Name]; !ok {
			return false
		}
	}
	return true
}

func hasAllNames(values map[string]any, names []string) bool {
	for _, n := range names {
		if _, ok := values[n]; !ok {
			return false
		}
	}
	return true
}
