package datastore

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Values are what a template is rendered with: the special fields, the data
// ID (dimension name -> key value) and, for element.field references, the
// dimension records of the data ID (element -> field -> value).
type Values struct {
	Run          string // also the value of {collection}
	DatasetType  string
	Component    string // "" for a composite or non-component dataset
	StorageClass string
	ID           string // dataset UUID
	DataID       map[string]any
	Records      map[string]map[string]any
}

// Render renders the template for one dataset into a relative,
// "/"-separated path without extension (the formatter adds one).
//
// A required field without a value (absent, nil or "") is an error naming
// it. A missing optional field is dropped together with the literal text
// that joins it to the rest of its path element: the text since the
// previous field or '/' ("_", "-v", ...), or, when the field starts a path
// element, the '_' that follows it; a path element left empty disappears.
// For {a|b} the first alternative with a value is used.
//
// Values are made path-safe: they must be valid UTF-8 without control or
// format characters or backslashes, must not be "." and must have no ".."
// path element; '/' becomes '_' (unless the field has the '/' flag, as in
// {run:/}, which keeps it as a directory separator) and white space becomes
// '_'. In the last path element (the file name) '.' becomes '_', so that
// only the formatter's extension has a dot. The result is checked to be a
// valid object key: relative, clean, no empty, "." or ".." element, at most
// 1024 bytes, each element at most 255 bytes.
//
// Render fails when Values.Component is set and the template has no
// {component}: the path of a component would be that of its parent.
func (t *Template) Render(v Values) (string, error) {
	p, err := t.render(v)
	if err != nil {
		return "", fmt.Errorf("render template %q: %w", t.text, err)
	}
	return p, nil
}

func (t *Template) render(v Values) (string, error) {
	if v.Component != "" && !t.usesField(FieldComponent) {
		return "", fmt.Errorf("component %q given but the template has no {component}", v.Component)
	}
	var out strings.Builder
	pending := ""     // literal text not yet written: depends on the next field
	trimLead := false // a field that began a path element was dropped
	atElementStart := func() bool {
		s := out.String() + pending
		return s == "" || strings.HasSuffix(s, "/")
	}
	for _, tok := range t.tokens {
		if tok.field == nil {
			lit := tok.literal
			if trimLead {
				lit = strings.TrimLeft(lit, "_")
				if lit == "" {
					continue
				}
				trimLead = false
			}
			pending += lit
			continue
		}
		f := tok.field
		val, ok, err := f.value(v)
		if err != nil {
			return "", err
		}
		if !ok {
			if !f.optional {
				return "", fmt.Errorf("field {%s} has no value (make it optional with {%s:?} if it may be missing)", f.raw, f.name())
			}
			if i := strings.LastIndexByte(pending, '/'); i >= 0 {
				pending = pending[:i+1]
			} else {
				pending = ""
			}
			if atElementStart() {
				trimLead = true
			}
			continue
		}
		out.WriteString(pending)
		out.WriteString(val)
		pending = ""
		trimLead = false
	}
	out.WriteString(pending)

	elems := make([]string, 0, 8)
	for e := range strings.SplitSeq(out.String(), "/") {
		if e != "" {
			elems = append(elems, e)
		}
	}
	if len(elems) == 0 {
		return "", errors.New("the path is empty")
	}
	last := len(elems) - 1
	elems[last] = strings.ReplaceAll(elems[last], ".", "_")
	p := strings.Join(elems, "/")
	if err := checkPath(p); err != nil {
		return "", err
	}
	return p, nil
}

// name returns the field's name without format spec.
func (f *field) name() string {
	name, _, _ := strings.Cut(f.raw, ":")
	return name
}

// value returns the path-safe value of the first alternative that has one.
func (f *field) value(v Values) (string, bool, error) {
	for _, a := range f.alts {
		raw := a.lookup(v)
		s, ok, err := f.format(raw)
		if err != nil {
			return "", false, fmt.Errorf("field {%s}: %s: %w", f.raw, a, err)
		}
		if !ok {
			continue
		}
		s, err = cleanValue(s, f.keepPath)
		if err != nil {
			return "", false, fmt.Errorf("field {%s}: %s: %w", f.raw, a, err)
		}
		return s, true, nil
	}
	return "", false, nil
}

func (a altRef) lookup(v Values) any {
	if a.special {
		switch a.name {
		case FieldRun, FieldCollection:
			return v.Run
		case FieldDatasetType:
			return v.DatasetType
		case FieldComponent:
			return v.Component
		case FieldStorageClass:
			return v.StorageClass
		case FieldID:
			return v.ID
		}
		return nil
	}
	if a.attr == "" {
		return v.DataID[a.name]
	}
	return v.Records[a.name][a.attr]
}

// format turns a value into text following the field's format spec;
// ok is false when the value is missing (nil or "").
func (f *field) format(x any) (s string, ok bool, err error) {
	if x == nil {
		return "", false, nil
	}
	if str, isStr := x.(string); isStr {
		if str == "" {
			return "", false, nil
		}
		if f.verb == 'd' {
			return "", false, fmt.Errorf("format %q needs an integer, got the string %q", "d", str)
		}
		return str, true, nil
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return padInt(strconv.FormatInt(rv.Int(), 10), f.pad), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return padInt(strconv.FormatUint(rv.Uint(), 10), f.pad), true, nil
	}
	if f.verb == 'd' {
		if fl, isFloat := x.(float64); isFloat && fl == math.Trunc(fl) && math.Abs(fl) < 1<<53 {
			return padInt(strconv.FormatInt(int64(fl), 10), f.pad), true, nil
		}
		return "", false, fmt.Errorf("format %q needs an integer, got %T", "d", x)
	}
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, rv.Type().Bits()), true, nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true, nil
	case reflect.String:
		if rv.String() == "" {
			return "", false, nil
		}
		return rv.String(), true, nil
	}
	if st, isStringer := x.(fmt.Stringer); isStringer {
		s := st.String()
		return s, s != "", nil
	}
	return "", false, fmt.Errorf("unsupported value type %T", x)
}

// padInt zero-pads the decimal integer s to width digits (after the sign).
func padInt(s string, width int) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
		width--
	}
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}
