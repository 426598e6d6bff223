package ingest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// rule is one parsed value rule of a translation (see doc.go for the YAML
// format): a source (header keywords, a constant or a reference), optional
// transforms applied in a fixed order, and what to do when the source
// yields nothing.
type rule struct {
	path string // where it was defined, e.g. "records.exposure.obs_id"

	headers  []string // header: KEY or [KEY1, KEY2]: the first present
	value    any      // value: a constant
	hasValue bool
	ref      string // ref: "day_obs", "exposure.timespan_begin"

	mapping    map[string]any // map: keys in matchKey form
	mapOrder   []string       // the map's keys as written, for messages
	mapDefault any            // the map's "*" entry
	hasMapDef  bool
	format     string   // "isot" or "mjd"
	scale      *float64 // scale: multiply
	add        *float64 // add: then add
	addSeconds *rule    // add_seconds: a number or a rule, added to a time
	convert    string   // "day_obs", "day_obs_begin" or "day_obs_end"

	def        any // default: used as the result when the source yields nothing
	hasDefault bool
	optional   bool

	alts []*rule // a list of rules: the first that yields a value
}

var ruleKeys = []string{"header", "value", "ref", "map", "format", "scale", "add", "add_seconds", "convert", "default", "optional"}

// parseRule parses a rule: a mapping, or a list of mappings (alternatives).
func parseRule(path string, v any) (*rule, error) {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return nil, fmt.Errorf("%s: empty list of alternative rules", path)
		}
		r := &rule{path: path}
		for i, item := range list {
			if _, nested := item.([]any); nested {
				return nil, fmt.Errorf("%s[%d]: a list of alternatives cannot contain another list", path, i)
			}
			alt, err := parseRule(fmt.Sprintf("%s[%d]", path, i), item)
			if err != nil {
				return nil, err
			}
			r.alts = append(r.alts, alt)
			r.optional = r.optional || alt.optional
		}
		return r, nil
	}
	m, ok := asMap(v)
	if !ok {
		return nil, fmt.Errorf("%s: want a rule such as {header: KEYWORD} or {value: CONSTANT}, not %s", path, describeYAML(v))
	}
	r := &rule{path: path}
	keys := sortedKeys(m)
	sources := 0
	for _, k := range keys {
		val := m[k]
		var err error
		switch k {
		case "header":
			sources++
			r.headers, err = parseKeywords(val)
		case "value":
			sources++
			r.value, r.hasValue = normalizeConst(val), true
		case "ref":
			sources++
			s, ok := val.(string)
			if !ok || strings.TrimSpace(s) == "" {
				err = fmt.Errorf("want a dimension or ELEMENT.COLUMN name, not %s", describeYAML(val))
			}
			r.ref = strings.TrimSpace(s)
		case "map":
			err = r.parseMap(val)
		case "format":
			r.format, err = oneOf(val, "isot", "mjd")
		case "scale":
			r.scale, err = number(val)
		case "add":
			r.add, err = number(val)
		case "add_seconds":
			if f, ferr := number(val); ferr == nil {
				r.addSeconds = &rule{path: path + ".add_seconds", value: *f, hasValue: true}
			} else {
				r.addSeconds, err = parseRule(path+".add_seconds", val)
			}
		case "convert":
			r.convert, err = oneOf(val, "day_obs", "day_obs_begin", "day_obs_end")
		case "default":
			r.def, r.hasDefault = normalizeConst(val), true
		case "optional":
			b, ok := val.(bool)
			if !ok {
				err = fmt.Errorf("want true or false, not %s", describeYAML(val))
			}
			r.optional = b
		default:
			msg := fmt.Sprintf("unknown key %q (rules have %s)", k, strings.Join(ruleKeys, ", "))
			return nil, fmt.Errorf("%s: %s", path, msg)
		}
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", path, k, err)
		}
	}
	switch {
	case sources > 1:
		return nil, fmt.Errorf("%s: give one of header, value and ref, not several", path)
	case sources == 0 && !r.hasDefault:
		return nil, fmt.Errorf("%s: give header, value or ref (or default)", path)
	case r.hasValue && r.hasDefault:
		return nil, fmt.Errorf("%s: a constant value needs no default", path)
	case r.hasValue && r.optional:
		return nil, fmt.Errorf("%s: a constant value cannot be optional", path)
	}
	return r, nil
}

func (r *rule) parseMap(v any) error {
	m, ok := asMap(v)
	if !ok || len(m) == 0 {
		return fmt.Errorf("want a non-empty mapping of header values to values, not %s", describeYAML(v))
	}
	r.mapping = map[string]any{}
	for _, k := range sortedKeys(m) {
		if k == "*" {
			r.mapDefault, r.hasMapDef = normalizeConst(m[k]), true
			continue
		}
		mk := matchKey(k)
		if _, dup := r.mapping[mk]; dup {
			return fmt.Errorf("key %q differs from another only in case or blanks", k)
		}
		r.mapping[mk] = normalizeConst(m[k])
		r.mapOrder = append(r.mapOrder, k)
	}
	return nil
}

// refs returns the names this rule refers to (ref:), nested ones included.
func (r *rule) refs() []string {
	if r == nil {
		return nil
	}
	var out []string
	if r.ref != "" {
		out = append(out, r.ref)
	}
	out = append(out, r.addSeconds.refs()...)
	for _, a := range r.alts {
		out = append(out, a.refs()...)
	}
	return out
}

func parseKeywords(v any) ([]string, error) {
	var list []any
	switch x := v.(type) {
	case string:
		list = []any{x}
	case []any:
		list = x
	default:
		return nil, fmt.Errorf("want a keyword or a list of keywords, not %s", describeYAML(v))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("empty list of keywords")
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, ok := item.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("want a keyword, not %s", describeYAML(item))
		}
		out = append(out, strings.ToUpper(strings.TrimSpace(s)))
	}
	return out, nil
}

func oneOf(v any, allowed ...string) (string, error) {
	s, _ := v.(string)
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", fmt.Errorf("want one of %s, not %s", strings.Join(allowed, ", "), describeYAML(v))
}

func number(v any) (*float64, error) {
	switch x := v.(type) {
	case int:
		f := float64(x)
		return &f, nil
	case int64:
		f := float64(x)
		return &f, nil
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return &x, nil
		}
	}
	return nil, fmt.Errorf("want a number, not %s", describeYAML(v))
}

// asMap returns v as a string-keyed mapping (YAML decodes mappings with
// non-string keys as map[any]any).
func asMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = val
		}
		return m, true
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalizeConst turns YAML's int into int64, the type header values and
// records use.
func normalizeConst(v any) any {
	if i, ok := v.(int); ok {
		return int64(i)
	}
	return v
}

// matchKey is the form in which header values are compared with match,
// when and map keys: strings trimmed and upper-cased, logicals T/F, numbers
// in their shortest decimal form.
func matchKey(v any) string {
	switch x := v.(type) {
	case string:
		return strings.ToUpper(strings.TrimSpace(x))
	case bool:
		if x {
			return "T"
		}
		return "F"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return ""
	}
	return strings.ToUpper(fmt.Sprint(v))
}

func describeYAML(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return fmt.Sprintf("%v", v)
}
