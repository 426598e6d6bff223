package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/yamlnode"
)

// Config is a task's configuration: field name -> value. Values are of the
// canonical types nil, bool, int64, float64, string, []any and
// map[string]any (those of datastore.Dict), so a Config is stored as the
// <label>_config dataset as it is. A resolved Config (TaskNode.Config) has
// every field of its class's schema plus "connections": connection name ->
// dataset type name for every connection of the task.
type Config map[string]any

// ConnectionsKey is the config section that renames connections' dataset
// types: "connections.<name>: datasetType" in a pipeline, or a mapping
// under "connections".
const ConnectionsKey = "connections"

// FieldType is the type of a config field.
type FieldType string

// The config field types and the Go types of their values.
const (
	FieldInt    FieldType = "int"    // int64
	FieldFloat  FieldType = "float"  // float64 (an int is accepted and converted)
	FieldString FieldType = "string" // string
	FieldBool   FieldType = "bool"   // bool
	FieldList   FieldType = "list"   // []any
	FieldMap    FieldType = "map"    // map[string]any
)

var fieldTypes = []FieldType{FieldInt, FieldFloat, FieldString, FieldBool, FieldList, FieldMap}

// ConfigField describes one field of a task class's config.
type ConfigField struct {
	Name    string
	Type    FieldType
	Default any       // a value of Type; nil means the zero value (0, "", false, empty list or map)
	Items   FieldType // for list and map fields: the type of every item or value; "" allows any
	Doc     string
}

// ConfigSchema lists the fields of a task class's config.
type ConfigSchema struct {
	Fields []ConfigField
}

// Field returns the field called name.
func (s ConfigSchema) Field(name string) (ConfigField, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return ConfigField{}, false
}

// Names returns the field names in schema order.
func (s ConfigSchema) Names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// Validate checks field names (identifiers, distinct, not "connections"),
// types and that defaults are of their types.
func (s ConfigSchema) Validate() error {
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if !identRE.MatchString(f.Name) {
			return fmt.Errorf("config field name %q: letters, digits and '_'", f.Name)
		}
		if f.Name == ConnectionsKey {
			return fmt.Errorf("config field %q is reserved for connection renames", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("config field %q is declared twice", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(fieldTypes, f.Type) {
			return fmt.Errorf("config field %s: unknown type %q (want one of %s)", f.Name, f.Type, fieldTypeList())
		}
		if f.Items != "" {
			if f.Type != FieldList && f.Type != FieldMap {
				return fmt.Errorf("config field %s: items type given for a %s", f.Name, f.Type)
			}
			if !slices.Contains(fieldTypes, f.Items) {
				return fmt.Errorf("config field %s: unknown items type %q", f.Name, f.Items)
			}
		}
		if f.Default != nil {
			if _, err := f.Check(f.Default); err != nil {
				return fmt.Errorf("config field %s: default: %w", f.Name, err)
			}
		}
	}
	return nil
}

func fieldTypeList() string {
	names := make([]string, len(fieldTypes))
	for i, t := range fieldTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Defaults returns a Config with every field at its default.
func (s ConfigSchema) Defaults() Config {
	c := make(Config, len(s.Fields))
	for _, f := range s.Fields {
		c[f.Name] = f.defaultValue()
	}
	return c
}

func (f ConfigField) defaultValue() any {
	if f.Default != nil {
		if v, err := f.Check(f.Default); err == nil {
			return v
		}
	}
	return zeroValue(f.Type)
}

func zeroValue(t FieldType) any {
	switch t {
	case FieldInt:
		return int64(0)
	case FieldFloat:
		return float64(0)
	case FieldString:
		return ""
	case FieldBool:
		return false
	case FieldList:
		return []any{}
	case FieldMap:
		return map[string]any{}
	}
	return nil
}

// Check converts v to the field's canonical type, or explains why it has
// the wrong type.
func (f ConfigField) Check(v any) (any, error) {
	nv, err := normalizeValue(v, 0)
	if err != nil {
		return nil, err
	}
	out, err := checkType(f.Type, nv)
	if err != nil {
		return nil, err
	}
	if f.Items != "" {
		switch x := out.(type) {
		case []any:
			for i, item := range x {
				if x[i], err = checkType(f.Items, item); err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if x[k], err = checkType(f.Items, x[k]); err != nil {
					return nil, fmt.Errorf("key %q: %w", k, err)
				}
			}
		}
	}
	return out, nil
}

func checkType(t FieldType, v any) (any, error) {
	ok := false
	switch t {
	case FieldInt:
		_, ok = v.(int64)
	case FieldFloat:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			ok = true
		}
	case FieldString:
		_, ok = v.(string)
	case FieldBool:
		_, ok = v.(bool)
	case FieldList:
		_, ok = v.([]any)
	case FieldMap:
		_, ok = v.(map[string]any)
	}
	if !ok {
		return nil, fmt.Errorf("want %s, got %s", t, describeValue(v))
	}
	return v, nil
}

// describeValue names a canonical value's type with a short rendering.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("bool %v", x)
	case int64:
		return fmt.Sprintf("int %d", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case string:
		return fmt.Sprintf("string %q", yamlnode.Truncate(x, 40))
	case []any:
		return fmt.Sprintf("a list of %d items", len(x))
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// normalizeValue converts Go values to the canonical config types.
func normalizeValue(v any, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("value is nested too deeply")
	}
	switch x := v.(type) {
	case nil, bool, string, int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("float %v is not allowed", x)
		}
		return x, nil
	case int:
		return int64(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ne, err := normalizeValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = ne
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ne, err := normalizeValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = ne
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d is too large", rv.Uint())
		}
		return int64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return normalizeValue(rv.Float(), depth)
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			ne, err := normalizeValue(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = ne
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("mapping keys must be strings, not %s", rv.Type().Key())
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			ne, err := normalizeValue(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = ne
		}
		return out, nil
	}
	return nil, fmt.Errorf("values of type %T are not allowed in a config", v)
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	if c == nil {
		return nil
	}
	return Config(deepCopy(map[string]any(c)).(map[string]any))
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case Config:
		return deepCopy(map[string]any(x))
	}
	return v
}

// Dict returns a deep copy as a datastore.Dict, the in-memory type of the
// Config storage class (what the executor writes as <label>_config).
func (c Config) Dict() datastore.Dict {
	if c == nil {
		return datastore.Dict{}
	}
	return datastore.Dict(deepCopy(map[string]any(c)).(map[string]any))
}

// Marshal writes the config as YAML with sorted keys: equal configs give
// equal bytes.
func (c Config) Marshal() ([]byte, error) {
	if c == nil {
		c = Config{}
	}
	out, err := yaml.Marshal(map[string]any(c))
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return out, nil
}

// Int returns an int field (0 when absent or not a number).
func (c Config) Int(name string) int {
	switch x := c[name].(type) {
	case int64:
		return int(x)
	case int:
		return x
	case float64:
		return int(x)
	}
	return 0
}

// Float returns a float field (0 when absent or not a number).
func (c Config) Float(name string) float64 {
	switch x := c[name].(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}

// String returns a string field ("" when absent or not a string).
func (c Config) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Bool returns a bool field (false when absent or not a bool).
func (c Config) Bool(name string) bool {
	b, _ := c[name].(bool)
	return b
}

// List returns a list field (nil when absent or not a list).
func (c Config) List(name string) []any {
	l, _ := c[name].([]any)
	return l
}

// Strings returns the string items of a list field.
func (c Config) Strings(name string) []string {
	var out []string
	for _, v := range c.List(name) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Map returns a map field (nil when absent or not a mapping).
func (c Config) Map(name string) map[string]any {
	m, _ := c[name].(map[string]any)
	return m
}

// DatasetTypeOf returns the dataset type of a connection in a resolved
// config (its "connections" section).
func (c Config) DatasetTypeOf(connection string) (string, bool) {
	s, ok := c.Map(ConnectionsKey)[connection].(string)
	return s, ok
}

// configEntry is one override: a key of a task's config section, its value
// and where it was written.
type configEntry struct {
	key   string
	value any
	pos   pos
}

// NewConfig resolves the config of def with overrides applied (keys as in
// a pipeline's task config section, "connections.<name>" included), like
// a task of a pipeline: defaults, type checks, the class's own
// validation and the "connections" section.
func NewConfig(def TaskDef, overrides map[string]any) (Config, error) {
	entries := make([]configEntry, 0, len(overrides))
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		entries = append(entries, configEntry{key: k, value: overrides[k], pos: pos{key: k}})
	}
	cfg, _, _, err := resolveTaskConfig(def, entries, pos{})
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", def.Name(), err)
	}
	return cfg, nil
}

// resolveTaskConfig applies entries to def's defaults and returns the
// resolved config, the task's dimensions and its connections (renamed,
// without the automatic ones). taskPos locates the task for errors that no
// single entry causes.
func resolveTaskConfig(def TaskDef, entries []configEntry, taskPos pos) (Config, []string, []Connection, error) {
	schema := def.ConfigSchema()
	cfg := schema.Defaults()
	fieldPos := map[string]pos{}
	type rename struct {
		to  string
		pos pos
	}
	renames := map[string]rename{}
	var renameOrder []string
	addRename := func(name string, v any, p pos) error {
		s, ok := v.(string)
		if !ok {
			return p.errorf(ErrConfig, "a connection rename wants a dataset type name (string), got %s", describeValue(v))
		}
		if !ValidDatasetTypeName(s) {
			return p.errorf(ErrConfig, "dataset type name %q: letters, digits and '_' in dot-separated components", yamlnode.Truncate(s, 60))
		}
		if _, dup := renames[name]; !dup {
			renameOrder = append(renameOrder, name)
		}
		renames[name] = rename{to: s, pos: p}
		return nil
	}
	for _, e := range entries {
		v, err := normalizeValue(e.value, 0)
		if err != nil {
			return nil, nil, nil, e.pos.errorf(ErrConfig, "%v", err)
		}
		switch {
		case e.key == ConnectionsKey:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, nil, nil, e.pos.errorf(ErrConfig, "want a mapping of connection name to dataset type, got %s", describeValue(v))
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if err := addRename(k, m[k], e.pos); err != nil {
					return nil, nil, nil, err
				}
			}
		case strings.HasPrefix(e.key, ConnectionsKey+"."):
			if err := addRename(strings.TrimPrefix(e.key, ConnectionsKey+"."), v, e.pos); err != nil {
				return nil, nil, nil, err
			}
		default:
			f, ok := schema.Field(e.key)
			if !ok {
				return nil, nil, nil, e.pos.errorf(ErrConfig, "unknown config field %q of %s%s", yamlnode.Truncate(e.key, 60), def.Name(),
					didYouMean(e.key, append(schema.Names(), ConnectionsKey)))
			}
			cv, err := f.Check(v)
			if err != nil {
				return nil, nil, nil, e.pos.errorf(ErrConfig, "config field %s of %s: %v", f.Name, def.Name(), err)
			}
			cfg[f.Name] = cv
			fieldPos[f.Name] = e.pos
		}
	}
	if v, ok := def.(ConfigValidator); ok {
		if err := v.ValidateConfig(cfg.Clone()); err != nil {
			p := taskPos
			var fe *FieldError
			if errors.As(err, &fe) {
				if fp, ok := fieldPos[fe.Field]; ok {
					p = fp
				}
			}
			return nil, nil, nil, p.wrap(ErrConfig, fmt.Errorf("config of %s: %w", def.Name(), err))
		}
	}
	if len(renames) > 0 {
		m := map[string]any{}
		for k, r := range renames {
			m[k] = r.to
		}
		cfg[ConnectionsKey] = m
	}
	conns := cloneConnections(def.Connections(cfg.Clone()))
	if err := checkConnections(conns); err != nil {
		return nil, nil, nil, taskPos.wrap(ErrConnection, fmt.Errorf("task class %s: %w", def.Name(), err))
	}
	names := make([]string, len(conns))
	for i, c := range conns {
		names[i] = c.Name
	}
	for _, name := range renameOrder {
		r := renames[name]
		i := slices.Index(names, name)
		if i < 0 {
			return nil, nil, nil, r.pos.errorf(ErrConfig, "%s has no connection %q to rename%s (connections: %s)", def.Name(),
				yamlnode.Truncate(name, 60), didYouMean(name, names), strings.Join(names, ", "))
		}
		conns[i].DatasetType = r.to
	}
	section := make(map[string]any, len(conns))
	for _, c := range conns {
		section[c.Name] = c.DatasetType
	}
	cfg[ConnectionsKey] = section
	dims, err := checkTaskDimensions(def.Dimensions(cfg.Clone()))
	if err != nil {
		return nil, nil, nil, taskPos.wrap(ErrDimensions, fmt.Errorf("task class %s: %w", def.Name(), err))
	}
	return cfg, dims, conns, nil
}

func checkTaskDimensions(dims []string) ([]string, error) {
	out := make([]string, 0, len(dims))
	for _, d := range dims {
		if !dimensionNameRE.MatchString(d) {
			return nil, fmt.Errorf("dimension name %q is not valid", yamlnode.Truncate(d, 60))
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
