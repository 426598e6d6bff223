package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// ErrNoMatch is matched (errors.Is) by Translate and TranslatorSet errors
// for a header that belongs to no (or another) instrument.
var ErrNoMatch = errors.New("header matches no instrument")

// Translator turns FITS headers of one instrument into a dataset type, a
// data ID and dimension records, following the translation rules of the
// instrument's definition (schemas/instruments/*.yaml, format in doc.go).
// It is immutable and safe for concurrent use.
type Translator struct {
	u        *dimensions.Universe
	def      *dimensions.InstrumentDef
	match    []matchRule
	offset   time.Duration
	base     *ruleSet
	variants []*ruleSet
	// the records registering the instrument creates (instrument, band,
	// physical_filter, detector), by element: used to fill implied values
	// (physical_filter -> band) and to reject unknown detectors and filters.
	defRecords map[string][]dimensions.Record
}

// Translation is what one header translates to.
type Translation struct {
	Instrument  string
	Variant     string // the variant whose rules applied; "" for the base rules
	DatasetType string
	// Dimensions of the dataset type: the required closure of the data ID's
	// dimensions, in universe order (instrument, detector, exposure).
	Dimensions []string
	// DataID is normalized: required keys plus every implied value known
	// (physical_filter, band, group, day_obs for an exposure).
	DataID dimensions.DataID
	// Records are the dimension records the file needs (day_obs, group,
	// exposure), in universe (dependency) order, validated by NewRecord.
	// Records of the instrument itself, its detectors and filters are not
	// included: registering the instrument creates them.
	Records []dimensions.Record
	// Validity is the validity range of a calibration (a variant with
	// validity rules), nil otherwise.
	Validity *dimensions.Timespan
}

// NewTranslator parses the translation rules of def for the universe u. It
// fails, naming the rule, on unknown keys, elements, columns or references,
// reference cycles, and when def's own records do not fit u.
func NewTranslator(u *dimensions.Universe, def *dimensions.InstrumentDef) (*Translator, error) {
	if u == nil || def == nil {
		return nil, errors.New("new translator: nil universe or instrument definition")
	}
	t := &Translator{u: u, def: def, defRecords: map[string][]dimensions.Record{}}
	recs, err := def.Records(u)
	if err != nil {
		return nil, fmt.Errorf("new translator for %s: %w", def.Name, err)
	}
	for _, r := range recs {
		t.defRecords[r.Element] = append(t.defRecords[r.Element], r)
	}
	if err := t.parseTranslation(); err != nil {
		return nil, fmt.Errorf("new translator for %s: %w", def.Name, err)
	}
	return t, nil
}

// Instrument returns the instrument's name.
func (t *Translator) Instrument() string { return t.def.Name }

// Universe returns the universe the rules were checked against.
func (t *Translator) Universe() *dimensions.Universe { return t.u }

// DayObsOffset returns the configured day_obs offset.
func (t *Translator) DayObsOffset() time.Duration { return t.offset }

// Matches reports whether h belongs to this instrument, by the match rules
// (by default INSTRUME equal to the instrument name, ignoring case).
func (t *Translator) Matches(h Header) bool { return matches(t.match, h) }

// Translate translates h. The first variant whose when rules hold applies,
// else the base rules. Errors name the rule and the header keyword that is
// missing or malformed ("translate SPHEREx header: translation.records.
// exposure.obs_id: missing header keyword OBSID"); a missing keyword
// matches ErrMissingKeyword and a header of another instrument ErrNoMatch.
func (t *Translator) Translate(h Header) (*Translation, error) {
	tr, err := t.translate(h)
	if err != nil {
		return nil, fmt.Errorf("translate %s header: %w", t.def.Name, err)
	}
	return tr, nil
}

func (t *Translator) translate(h Header) (*Translation, error) {
	if !t.Matches(h) {
		return nil, fmt.Errorf("%w %s: %s", ErrNoMatch, t.def.Name, describeMatch(t.match, h))
	}
	rs := t.base
	for _, v := range t.variants {
		if matches(v.when, h) {
			rs = v
			break
		}
	}
	ev := newEvaluator(t, rs, h)
	tr := &Translation{Instrument: t.def.Name, Variant: rs.name, Dimensions: slices.Clone(rs.dims)}

	dt, err := ev.eval(rs.datasetType)
	if err != nil {
		return nil, err
	}
	if s, ok := dt.(string); ok && strings.TrimSpace(s) != "" {
		tr.DatasetType = strings.TrimSpace(s)
	} else {
		return nil, fmt.Errorf("%s: %s is not a dataset type name", rs.datasetType.path, describeValue(dt))
	}

	raw := map[string]any{"instrument": t.def.Name}
	for _, dim := range rs.dataIDOrder {
		v, err := ev.node("data_id." + dim)
		if err != nil {
			return nil, err
		}
		if v != nil {
			raw[dim] = v
		}
	}

	for _, el := range rs.recordOrder {
		e, _ := t.u.Element(el)
		values := map[string]any{}
		for _, c := range e.Columns() {
			node := el + "." + c.Name
			if isDimensionColumn(e, c.Name) {
				node = "data_id." + c.Name
			}
			v, err := ev.node(node)
			if err != nil {
				return nil, err
			}
			if v != nil {
				values[c.Name] = v
			}
		}
		rec, err := e.NewRecord(t.u, values)
		if err != nil {
			return nil, fmt.Errorf("%s record from the header: %w", el, err)
		}
		tr.Records = append(tr.Records, rec)
	}

	lookup := recordIndex{}
	for el, recs := range t.defRecords {
		lookup[el] = recs
	}
	for _, r := range tr.Records {
		lookup[r.Element] = append(lookup[r.Element], r)
	}
	if tr.DataID, err = t.u.NormalizeDataID(rs.minimal, raw, lookup); err != nil {
		return nil, fmt.Errorf("data ID: %w", err)
	}
	if err := t.checkKnown(tr.DataID); err != nil {
		return nil, err
	}

	if rs.validity[0] != nil || rs.validity[1] != nil {
		var span dimensions.Timespan
		for i, r := range rs.validity {
			if r == nil {
				continue
			}
			v, err := ev.eval(r)
			if err != nil {
				return nil, err
			}
			tv, err := coerceTo(dimensions.TypeTimestamp, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.path, err)
			}
			if ts, ok := tv.(time.Time); ok {
				if i == 0 {
					span.Begin = ts
				} else {
					span.End = ts
				}
			}
		}
		if !span.Begin.IsZero() && !span.End.IsZero() && !span.End.After(span.Begin) {
			return nil, fmt.Errorf("validity %s is empty: it ends before it begins", span)
		}
		tr.Validity = &span
	}
	return tr, nil
}

// checkKnown rejects data ID values of dimensions the instrument definition
// enumerates (detectors, physical filters) that it does not list.
func (t *Translator) checkKnown(id dimensions.DataID) error {
	for _, el := range t.u.Names() {
		recs := t.defRecords[el]
		if len(recs) == 0 || id[el] == nil {
			continue
		}
		e, _ := t.u.Element(el)
		key, ok := project(id, e.KeyColumns())
		if !ok {
			continue
		}
		if _, found, _ := (recordIndex{el: recs}).LookupRecord(el, key); found {
			continue
		}
		var known []string
		for _, r := range recs {
			known = append(known, fmt.Sprint(r.Values[el]))
		}
		if len(known) > 12 {
			known = append(known[:12], "...")
		}
		return fmt.Errorf("%s %v is not a %s of instrument %s (it has %s)", el, id[el], el, t.def.Name, strings.Join(known, ", "))
	}
	return nil
}

func project(id dimensions.DataID, names []string) (dimensions.DataID, bool) {
	out := dimensions.DataID{}
	for _, n := range names {
		v, ok := id[n]
		if !ok {
			return nil, false
		}
		out[n] = v
	}
	return out, true
}

// describeMatch explains why h fails the match rules.
func describeMatch(rules []matchRule, h Header) string {
	for _, mr := range rules {
		v, ok := h.Get(mr.key)
		switch {
		case !ok || v == nil:
			return fmt.Sprintf("the header has no %s", mr.key)
		case !mr.any && !slices.Contains(mr.values, matchKey(v)):
			return fmt.Sprintf("%s is %s, want %s", mr.key, describeValue(v), strings.Join(mr.display, " or "))
		}
	}
	return "it matches"
}

// recordIndex finds records by element and key (dimensions.RecordLookup).
type recordIndex map[string][]dimensions.Record

func (x recordIndex) LookupRecord(element string, key dimensions.DataID) (dimensions.Record, bool, error) {
outer:
	for _, r := range x[element] {
		for k, v := range key {
			if r.Values[k] != v {
				continue outer
			}
		}
		return r, true, nil
	}
	return dimensions.Record{}, false, nil
}
