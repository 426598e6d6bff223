package pipeline

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/datastore"
)

func TestConfigSchemaValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []ConfigField
		want   string
	}{
		{"a valid schema passes", []ConfigField{{Name: "a", Type: FieldInt, Default: 3}, {Name: "b", Type: FieldList, Items: FieldString, Default: []string{"x"}}}, ""},
		{"a bad field name", []ConfigField{{Name: "a-b", Type: FieldInt}}, "letters, digits"},
		{"the reserved connections field", []ConfigField{{Name: "connections", Type: FieldMap}}, "reserved"},
		{"a duplicate field", []ConfigField{{Name: "a", Type: FieldInt}, {Name: "a", Type: FieldBool}}, "declared twice"},
		{"an unknown type", []ConfigField{{Name: "a", Type: "complex"}}, `unknown type "complex"`},
		{"items on a scalar", []ConfigField{{Name: "a", Type: FieldInt, Items: FieldInt}}, "items type given"},
		{"a default of the wrong type", []ConfigField{{Name: "a", Type: FieldBool, Default: "yes"}}, "want bool"},
		{"a list default with a bad item", []ConfigField{{Name: "a", Type: FieldList, Items: FieldInt, Default: []any{1, "x"}}}, "item 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ConfigSchema{Fields: tc.fields}.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	def, _ := Lookup("test.Isr")
	cfg, err := NewConfig(def, map[string]any{"darkScale": 2, "badAmps": []int{4, 5}, "connections.raw": "rawish"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg["darkScale"] != 2.0 || !reflect.DeepEqual(cfg["badAmps"], []any{int64(4), int64(5)}) {
		t.Errorf("config = %#v", cfg)
	}
	if dt, _ := cfg.DatasetTypeOf("raw"); dt != "rawish" {
		t.Errorf("raw renamed to %q", dt)
	}
	if _, err := NewConfig(def, map[string]any{"nIter": "three"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "configure test.Isr: nIter: config field nIter of test.Isr: want int") {
		t.Errorf("bad type: %v", err)
	}
	if _, err := NewConfig(def, map[string]any{"darkScale": struct{}{}}); !errors.Is(err, ErrConfig) {
		t.Errorf("a Go value that is not a config value: %v", err)
	}
}

func TestConfigMarshalIsDeterministic(t *testing.T) {
	cfg := Config{"b": int64(1), "a": map[string]any{"z": 1.5, "y": []any{"q", true}}, "connections": map[string]any{"x": "X"}}
	first, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "a:\n    \"y\":\n        - q\n        - true\n    z: 1.5\nb: 1\nconnections:\n    x: X\n"
	if string(first) != want {
		t.Errorf("marshal =\n%s\nwant\n%s", first, want)
	}
	for range 20 {
		again, _ := cfg.Clone().Marshal()
		if string(again) != string(first) {
			t.Fatal("marshal differs between calls")
		}
	}
	d := cfg.Dict()
	d["a"].(map[string]any)["z"] = 0.0
	if cfg["a"].(map[string]any)["z"] != 1.5 {
		t.Error("Dict shares maps with the config")
	}
	sc, _ := datastore.LookupStorageClass(datastore.StorageClassConfig)
	if err := sc.Check(cfg.Dict()); err != nil {
		t.Errorf("Dict is not a Config object: %v", err)
	}
	f, _ := datastore.FormatterFor(datastore.StorageClassConfig, "")
	data, err := f.Write(cfg.Dict())
	if err != nil {
		t.Fatal(err)
	}
	back, err := f.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(map[string]any(back.(datastore.Dict)), map[string]any(cfg)) {
		t.Errorf("config changed through the Config formatter: %#v", back)
	}
}

func TestRegisterRejectsBadClasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		def  TaskDef
		want string
	}{
		{"a duplicate name", fakeClass{name: "test.Isr"}, "already registered"},
		{"a bad name", fakeClass{name: "has space"}, "dot-separated"},
		{"a bad schema", fakeClass{name: "test.BadSchema", schema: ConfigSchema{Fields: []ConfigField{{Name: "x", Type: "blob"}}}}, "unknown type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Register(tc.def); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
	if _, ok := Lookup("exec"); !ok {
		t.Error("exec is not registered")
	}
	classes := TaskClasses()
	if len(classes) < 2 || !strings.Contains(strings.Join(classes, " "), "exec") {
		t.Errorf("classes = %v", classes)
	}
}

func TestConnectionKindNames(t *testing.T) {
	for k := Input; k <= InitOutput; k++ {
		back, err := ParseConnectionKind(strings.ToLower(k.String()))
		if err != nil || back != k {
			t.Errorf("%v -> %v, %v", k, back, err)
		}
	}
	if _, err := ParseConnectionKind("Sideput"); err == nil {
		t.Error("an unknown kind parsed")
	}
}
