package ingest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// TranslatorSet chooses among the translators of several instruments by
// their match rules.
type TranslatorSet struct {
	translators []*Translator
}

// NewTranslatorSet returns a set of translators; instrument names must be
// distinct.
func NewTranslatorSet(ts ...*Translator) (*TranslatorSet, error) {
	seen := map[string]bool{}
	for _, t := range ts {
		if t == nil {
			return nil, errors.New("new translator set: nil translator")
		}
		if seen[t.Instrument()] {
			return nil, fmt.Errorf("new translator set: instrument %s given twice", t.Instrument())
		}
		seen[t.Instrument()] = true
	}
	return &TranslatorSet{translators: append([]*Translator(nil), ts...)}, nil
}

// NewTranslatorSetFromDefs builds a translator for every definition.
func NewTranslatorSetFromDefs(u *dimensions.Universe, defs ...*dimensions.InstrumentDef) (*TranslatorSet, error) {
	ts := make([]*Translator, 0, len(defs))
	for _, d := range defs {
		t, err := NewTranslator(u, d)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return NewTranslatorSet(ts...)
}

// Instruments returns the instrument names, in the order given.
func (s *TranslatorSet) Instruments() []string {
	names := make([]string, len(s.translators))
	for i, t := range s.translators {
		names[i] = t.Instrument()
	}
	return names
}

// Find returns the one translator whose match rules hold for h. It fails
// with ErrNoMatch when none does, and when several do.
func (s *TranslatorSet) Find(h Header) (*Translator, error) {
	var found []*Translator
	for _, t := range s.translators {
		if t.Matches(h) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		inst := "the header has no INSTRUME"
		if v, ok := h.Get("INSTRUME"); ok {
			inst = "INSTRUME is " + describeValue(v)
		}
		return nil, fmt.Errorf("find translator: %w (%s; known instruments: %s)", ErrNoMatch, inst, strings.Join(s.Instruments(), ", "))
	}
	names := make([]string, len(found))
	for i, t := range found {
		names[i] = t.Instrument()
	}
	return nil, fmt.Errorf("find translator: %w uniquely: it matches %s", ErrNoMatch, strings.Join(names, " and "))
}

// Translate finds the header's translator and translates it.
func (s *TranslatorSet) Translate(h Header) (*Translation, error) {
	t, err := s.Find(h)
	if err != nil {
		return nil, err
	}
	return t.Translate(h)
}
