package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// ErrTemplateMismatch is matched (errors.Is) by the errors of Validate and
// ValidateFor: the template does not fit a dataset type's dimensions.
var ErrTemplateMismatch = errors.New("file template does not fit the dataset type")

// Validate checks the template against the dimensions a dataset type's data
// IDs carry (pass required and implied dimensions): every required field
// must have an alternative that is a special field, one of datasetDims, or
// a record field (element.field) of one of them. Optional fields may name
// anything. Like daf_butler's template validation; ValidateFor also checks
// that the paths are unique.
func (t *Template) Validate(datasetDims []string) error {
	if err := t.checkRequired(datasetDims, nil); err != nil {
		return fmt.Errorf("validate template %q for dimensions [%s]: %w", t.text, strings.Join(datasetDims, " "), err)
	}
	return nil
}

// ValidateFor checks the template against a dataset type with dimensions
// datasetDims in universe u (nil: the default universe), as daf_butler does:
//   - every required field must be a special field, a dimension of the
//     expanded data ID (required and implied dimensions), or a record field
//     of one of them;
//   - a record field (element.field) of a dimension of the data ID must be a
//     column of that element;
//   - unless the template has a required {id}, every required dimension of
//     the dataset type must appear in the template (on its own, not only as
//     one of {a|b}), otherwise two datasets that differ only in that
//     dimension would get the same path.
func (t *Template) ValidateFor(u *dimensions.Universe, datasetDims []string) error {
	if err := t.validateFor(u, datasetDims); err != nil {
		return fmt.Errorf("validate template %q for dimensions [%s]: %w", t.text, strings.Join(datasetDims, " "), err)
	}
	return nil
}

func (t *Template) validateFor(u *dimensions.Universe, datasetDims []string) error {
	if u == nil {
		u = dimensions.Default()
	}
	maximal, err := u.Expand(datasetDims)
	if err != nil {
		return err
	}
	minimal, err := u.Required(datasetDims)
	if err != nil {
		return err
	}
	if err := t.checkRequired(maximal, u); err != nil {
		return err
	}
	if t.hasRequiredID() {
		return nil
	}
	var missing []string
	for _, d := range minimal {
		if !t.hasPlainField(d) {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: dimension(s) %s of the dataset type do not appear in the template, so datasets differing only in them would get the same path (add them, optional with :? if shared with other dataset types, or use {id})",
			ErrTemplateMismatch, strings.Join(missing, ", "))
	}
	return nil
}

// checkRequired verifies the required fields against dims and, with a
// universe, the record fields against the elements' columns.
func (t *Template) checkRequired(dims []string, u *dimensions.Universe) error {
	var errs []error
	for _, tok := range t.tokens {
		f := tok.field
		if f == nil {
			continue
		}
		satisfied := false
		for _, a := range f.alts {
			if a.special {
				satisfied = true
				continue
			}
			if !slices.Contains(dims, a.name) {
				continue
			}
			if a.attr != "" && u != nil {
				if e, ok := u.Element(a.name); ok {
					if _, ok := e.Column(a.attr); !ok {
						errs = append(errs, fmt.Errorf("%w: field {%s}: dimension %s has no record field %q", ErrTemplateMismatch, f.raw, a.name, a.attr))
						continue
					}
				}
			}
			satisfied = true
		}
		if !satisfied && !f.optional {
			errs = append(errs, fmt.Errorf("%w: field {%s} is required but %s not among the dataset type's dimensions (make it optional: {%s:?})",
				ErrTemplateMismatch, f.raw, describeAlts(f.alts), f.name()))
		}
	}
	return errors.Join(errs...)
}

func describeAlts(alts []altRef) string {
	names := make([]string, len(alts))
	for i, a := range alts {
		names[i] = a.name
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return "none of " + strings.Join(names, ", ") + " is"
}

func (t *Template) hasRequiredID() bool {
	for _, tok := range t.tokens {
		if f := tok.field; f != nil && !f.optional && len(f.alts) == 1 && f.alts[0].special && f.alts[0].name == FieldID {
			return true
		}
	}
	return false
}

// hasPlainField reports whether dim appears as a field of its own.
func (t *Template) hasPlainField(dim string) bool {
	for _, tok := range t.tokens {
		if f := tok.field; f != nil && len(f.alts) == 1 && !f.alts[0].special && f.alts[0].attr == "" && f.alts[0].name == dim {
			return true
		}
	}
	return false
}
