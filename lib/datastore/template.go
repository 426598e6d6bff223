package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidTemplate is matched (errors.Is) by every error ParseTemplate
// returns.
var ErrInvalidTemplate = errors.New("invalid file template")

// Special fields: values that come from the dataset rather than its data ID.
const (
	FieldRun          = "run"
	FieldCollection   = "collection" // the same value as run
	FieldDatasetType  = "datasetType"
	FieldComponent    = "component"
	FieldStorageClass = "storageClass"
	FieldID           = "id"
)

var specialFields = map[string]bool{
	FieldRun: true, FieldCollection: true, FieldDatasetType: true,
	FieldComponent: true, FieldStorageClass: true, FieldID: true,
}

// Limits that keep parsing and rendering cheap whatever the input.
const (
	maxTemplateLen = 4096
	maxPadWidth    = 32
)

// Template is a parsed file template: literal text and {fields}.
type Template struct {
	text   string
	tokens []token
}

// token is a literal (field == nil) or a field.
type token struct {
	literal string
	field   *field
}

// field is one {...} of a template.
type field struct {
	raw      string   // the text between the braces
	alts     []altRef // alternatives, first with a value wins
	optional bool     // ":?" given
	keepPath bool     // ":/" given: keep "/" in the value as directories
	pad      int      // zero-pad integers to this width (0: none)
	verb     byte     // 0, 'd' (integer required) or 's'
}

// altRef is one alternative of a field: a special field, a dimension, or
// element.field of a dimension record.
type altRef struct {
	name    string // dimension, special field or record element
	attr    string // record field, "" for a plain name
	special bool
}

func (a altRef) String() string {
	if a.attr != "" {
		return a.name + "." + a.attr
	}
	return a.name
}

// ParseTemplate parses a file template in daf_butler syntax, e.g.
//
//	{run:/}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure:08d}_{detector}
//
// It rejects unbalanced braces, empty fields, unknown syntax inside a field,
// absolute templates, literal "." or ".." path elements, and a template
// without a required {run}, {collection} or {id}: without one of them two
// runs would write the same paths.
func ParseTemplate(s string) (*Template, error) {
	tokens, err := parseTokens(s)
	if err != nil {
		return nil, fmt.Errorf("parse template %q: %w: %w", s, ErrInvalidTemplate, err)
	}
	t := &Template{text: s, tokens: tokens}
	if err := t.checkStructure(); err != nil {
		return nil, fmt.Errorf("parse template %q: %w: %w", s, ErrInvalidTemplate, err)
	}
	return t, nil
}

// MustParseTemplate is ParseTemplate for templates known to be valid; it
// panics on an error.
func MustParseTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template text as given to ParseTemplate.
func (t *Template) String() string { return t.text }

// Fields returns the distinct field names the template uses, in order of
// first appearance: special fields ("run", "datasetType"), dimensions
// ("exposure") and record fields ("exposure.obs_id"); every alternative of
// {a|b} is listed.
func (t *Template) Fields() []string {
	var out []string
	for _, tok := range t.tokens {
		if tok.field == nil {
			continue
		}
		for _, a := range tok.field.alts {
			if s := a.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// usesField reports whether any alternative of any field is the special
// field name.
func (t *Template) usesField(name string) bool {
	for _, tok := range t.tokens {
		if tok.field == nil {
			continue
		}
		for _, a := range tok.field.alts {
			if a.special && a.name == name {
				return true
			}
		}
	}
	return false
}

func parseTokens(s string) ([]token, error) {
	if s == "" {
		return nil, errors.New("empty template")
	}
	if len(s) > maxTemplateLen {
		return nil, fmt.Errorf("longer than %d bytes", maxTemplateLen)
	}
	var tokens []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			tokens = append(tokens, token{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf("unbalanced '}' at offset %d", i)
		case c == '{':
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] == '{' {
				return nil, fmt.Errorf("unbalanced '{' at offset %d", i)
			}
			raw := s[i+1 : i+1+end]
			f, err := parseField(raw)
			if err != nil {
				return nil, fmt.Errorf("field {%s} at offset %d: %w", raw, i, err)
			}
			flush()
			tokens = append(tokens, token{field: f})
			i += end + 2
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return tokens, nil
}

func parseField(raw string) (*field, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("empty field")
	}
	name, spec, hasSpec := strings.Cut(raw, ":")
	if strings.ContainsAny(name, "!") {
		return nil, errors.New("conversions (!r, !s) are not supported")
	}
	f := &field{raw: raw}
	if hasSpec {
		if err := f.parseSpec(spec); err != nil {
			return nil, err
		}
	}
	if name == "" {
		return nil, errors.New("empty field name")
	}
	for alt := range strings.SplitSeq(name, "|") {
		a, err := parseAlt(alt)
		if err != nil {
			return nil, err
		}
		if slices.Contains(f.alts, a) {
			return nil, fmt.Errorf("alternative %q given twice", alt)
		}
		f.alts = append(f.alts, a)
	}
	return f, nil
}

func parseAlt(s string) (altRef, error) {
	if s == "" {
		return altRef{}, errors.New("empty alternative")
	}
	elem, attr, dotted := strings.Cut(s, ".")
	if !isIdent(elem) {
		return altRef{}, fmt.Errorf("%q is not a field name (letters, digits and '_', not starting with a digit)", elem)
	}
	if !dotted {
		return altRef{name: elem, special: specialFields[elem]}, nil
	}
	if specialFields[elem] {
		return altRef{}, fmt.Errorf("special field %q has no record fields (%q)", elem, s)
	}
	if !isIdent(attr) {
		return altRef{}, fmt.Errorf("%q is not a record field (want element.field, e.g. exposure.obs_id)", s)
	}
	return altRef{name: elem, attr: attr}, nil
}

// parseSpec reads a format spec: the flags '?' (optional) and '/' (keep
// slashes) anywhere, and then nothing, "d", "s", or a zero-padded integer
// width "0Nd" / "0N".
func (f *field) parseSpec(spec string) error {
	var rest strings.Builder
	for _, c := range spec {
		switch c {
		case '?':
			f.optional = true
		case '/':
			f.keepPath = true
		default:
			rest.WriteRune(c)
		}
	}
	r := rest.String()
	if r == "" {
		return nil
	}
	switch r[len(r)-1] {
	case 'd', 's':
		f.verb = r[len(r)-1]
		r = r[:len(r)-1]
	}
	if r == "" {
		return nil
	}
	if f.verb == 's' {
		return fmt.Errorf("format spec %q: widths are supported for integers only", spec)
	}
	if r[0] != '0' || len(r) < 2 {
		return fmt.Errorf("format spec %q not supported (use '?', '/', 'd', 's' or a zero-padded width like 08d)", spec)
	}
	w, err := strconv.Atoi(r[1:])
	if err != nil || w < 1 || w > maxPadWidth || r[1] < '0' || r[1] > '9' {
		return fmt.Errorf("format spec %q: width must be 1..%d", spec, maxPadWidth)
	}
	f.pad, f.verb = w, 'd'
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkStructure applies the checks that need the whole template.
func (t *Template) checkStructure() error {
	if t.tokens[0].field == nil && strings.HasPrefix(t.tokens[0].literal, "/") {
		return errors.New("a template is a relative path; remove the leading '/'")
	}
	for _, tok := range t.tokens {
		if tok.field != nil {
			continue
		}
		if strings.ContainsRune(tok.literal, '\\') {
			return errors.New("backslashes are not allowed")
		}
		if strings.Contains(tok.literal, "//") {
			return errors.New("empty path element ('//')")
		}
		if i := strings.IndexFunc(tok.literal, isUnsafeRune); i >= 0 {
			return fmt.Errorf("control character %q in the literal text", tok.literal[i:i+1])
		}
	}
	// Literal "." and ".." path elements (text between '/' with no field).
	var elem strings.Builder
	pure := true
	checkElem := func() error {
		if pure && (elem.String() == "." || elem.String() == "..") {
			return fmt.Errorf("path element %q is not allowed", elem.String())
		}
		elem.Reset()
		pure = true
		return nil
	}
	for _, tok := range t.tokens {
		if tok.field != nil {
			pure = false
			elem.WriteString("{}")
			continue
		}
		for _, c := range tok.literal {
			if c == '/' {
				if err := checkElem(); err != nil {
					return err
				}
				continue
			}
			elem.WriteRune(c)
		}
	}
	if err := checkElem(); err != nil {
		return err
	}
	if !t.hasUniqueKey() {
		return errors.New("a template must contain a required {run} or {id} (else its paths are not unique across runs)")
	}
	return nil
}

// hasUniqueKey reports whether a required field renders the run or the
// dataset ID whichever alternative is taken.
func (t *Template) hasUniqueKey() bool {
	for _, tok := range t.tokens {
		f := tok.field
		if f == nil || f.optional {
			continue
		}
		ok := true
		for _, a := range f.alts {
			if !a.special || (a.name != FieldRun && a.name != FieldCollection && a.name != FieldID) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
