package dimensions

import (
	"slices"
	"strings"
	"testing"
)

// small is a valid universe the error cases below break one way or another.
const small = `
version: 3
namespace: test
elements:
  instrument:
    key: {name: name, type: string}
  band:
    key: {name: name, type: string}
  physical_filter:
    requires: [instrument]
    implies: [band]
    key: {name: name, type: string}
  detector:
    requires: [instrument]
    key: {name: id, type: int}
    fields:
      - {name: full_name, type: string}
`

func TestLoadValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		order []string
	}{
		{"a small universe loads in declaration order", small,
			[]string{"instrument", "band", "physical_filter", "detector"}},
		{"elements declared before their dependencies are reordered", `
version: 1
namespace: x
elements:
  patch: {requires: [tract], key: {name: id, type: int}}
  tract: {requires: [skymap], key: {name: id, type: int}}
  skymap: {key: {name: name, type: string}}
  band: {key: {name: name, type: string}}
`, []string{"skymap", "tract", "patch", "band"}},
		{"anchors and aliases are followed", `
version: 1
namespace: x
elements:
  instrument: {key: &k {name: name, type: string}}
  band: {key: *k}
`, []string{"instrument", "band"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Load([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Names(); !slices.Equal(got, tc.order) {
				t.Errorf("order = %v, want %v", got, tc.order)
			}
		})
	}

	t.Run("requires are closed over required dimensions", func(t *testing.T) {
		u, err := Load([]byte(`
version: 1
namespace: x
elements:
  patch: {requires: [tract], key: {name: id, type: int}}
  tract: {requires: [skymap], key: {name: id, type: int}}
  skymap: {key: {name: name, type: string}}
`))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := u.Element("patch")
		if !slices.Equal(p.Requires, []string{"skymap", "tract"}) || !slices.Equal(p.KeyColumns(), []string{"skymap", "tract", "patch"}) {
			t.Errorf("patch requires %v, key columns %v", p.Requires, p.KeyColumns())
		}
	})

	t.Run("fields are nullable unless they say otherwise", func(t *testing.T) {
		u, err := Load([]byte(`
version: 1
namespace: x
elements:
  thing:
    key: {name: id, type: int}
    fields:
      - {name: a, type: float}
      - {name: b, type: bool, nullable: false}
      - {name: c, type: timestamp, nullable: true}
`))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := u.Element("thing")
		if got := columnSummary(e.Columns()); got != "thing:int a:float? b:bool c:timestamp?" {
			t.Errorf("columns = %s", got)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"an empty document is rejected", "", []string{"empty document"}},
		{"malformed YAML is rejected with its line", "version: 1\nelements: [\n", []string{"parse YAML", "line"}},
		{"a list at the top level is rejected", "- a\n- b\n", []string{"top level must be a mapping"}},
		{"two documents are rejected", small + "---\nversion: 2\n", []string{"more than one YAML document"}},
		{"an unknown top-level key is rejected", small + "extra: 1\n", []string{`unknown key "extra"`, "line 18"}},
		{"a missing namespace is rejected", "version: 1\nelements: {a: {key: {name: id, type: int}}}\n", []string{`missing top-level key "namespace"`}},
		{"a bad namespace is rejected", "version: 1\nnamespace: 'a b'\nelements: {a: {key: {name: id, type: int}}}\n", []string{"namespace"}},
		{"an empty version is rejected", "version:\nnamespace: x\nelements: {a: {key: {name: id, type: int}}}\n", []string{"version: missing value"}},
		{"a non-integer version is rejected", "version: one\nnamespace: x\nelements: {a: {key: {name: id, type: int}}}\n", []string{"version", "line 1"}},
		{"a universe without elements is rejected", "version: 1\nnamespace: x\nelements: {}\n", []string{"no elements"}},
		{"elements as a list are rejected", "version: 1\nnamespace: x\nelements: [a]\n", []string{"elements must be a mapping"}},
		{"an unknown required element is rejected",
			strings.Replace(small, "requires: [instrument]\n    key: {name: id", "requires: [instrumnt]\n    key: {name: id", 1),
			[]string{`element "detector"`, `requires unknown element "instrumnt"`, `did you mean "instrument"`, "line 14"}},
		{"an unknown implied element is rejected",
			strings.Replace(small, "implies: [band]", "implies: [bnd, band]", 1),
			[]string{`element "physical_filter"`, `implies unknown element "bnd"`}},
		{"a dependency cycle is rejected with its path", `
version: 1
namespace: x
elements:
  a: {requires: [b], key: {name: id, type: int}}
  b: {implies: [c], key: {name: id, type: int}}
  c: {requires: [a], key: {name: id, type: int}}
`, []string{"dependency cycle a -> b -> c -> a"}},
		{"an element requiring itself is rejected", `
version: 1
namespace: x
elements:
  a: {requires: [a], key: {name: id, type: int}}
`, []string{`element "a"`, "requires itself"}},
		{"a duplicate element is rejected", small + "  band:\n    key: {name: name, type: string}\n",
			[]string{`duplicate key "band"`, "first at line 7"}},
		{"a duplicate field is rejected",
			strings.Replace(small, "      - {name: full_name, type: string}\n", "      - {name: full_name, type: string}\n      - {name: full_name, type: int}\n", 1),
			[]string{`element "detector"`, `field "full_name"`, "duplicate field"}},
		{"a bad field type is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: full_name, type: strng}", 1),
			[]string{`element "detector"`, `field "full_name"`, `unknown type "strng"`, "line 17"}},
		{"a missing field type is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: full_name}", 1),
			[]string{`field "full_name"`, "missing type"}},
		{"a float key is rejected",
			strings.Replace(small, "{name: id, type: int}", "{name: id, type: float}", 1),
			[]string{`element "detector"`, `bad key type "float"`}},
		{"a missing key is rejected", "version: 1\nnamespace: x\nelements:\n  a: {doc: hi}\n",
			[]string{`element "a"`, "missing key"}},
		{"an unknown element key is rejected", "version: 1\nnamespace: x\nelements:\n  a: {key: {name: id, type: int}, requirs: [b]}\n",
			[]string{`element "a"`, `unknown key "requirs"`, "line 4"}},
		{"an unknown field key is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: full_name, type: string, nulable: true}", 1),
			[]string{`element "detector"`, `unknown key "nulable"`}},
		{"an upper-case element name is rejected", "version: 1\nnamespace: x\nelements:\n  Detector: {key: {name: id, type: int}}\n",
			[]string{`element "Detector"`, "lower case"}},
		{"a reserved field name is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: timespan_begin, type: timestamp}", 1),
			[]string{`field "timespan_begin"`, "reserved"}},
		{"a field named like a required dimension is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: instrument, type: string}", 1),
			[]string{`element "detector"`, `field "instrument"`, "same name"}},
		{"a field named like the key is rejected",
			strings.Replace(small, "{name: full_name, type: string}", "{name: id, type: string}", 1),
			[]string{`element "detector"`, `field "id"`, "same name as the element's key"}},
		{"a dimension both required and implied is rejected", `
version: 1
namespace: x
elements:
  a: {key: {name: id, type: int}}
  b: {requires: [a], implies: [a], key: {name: id, type: int}}
`, []string{`element "b"`, `"a" is both required and implied`}},
		{"implying a dimension without its requirements is rejected", `
version: 1
namespace: x
elements:
  instrument: {key: {name: name, type: string}}
  physical_filter: {requires: [instrument], key: {name: name, type: string}}
  thing: {implies: [physical_filter], key: {name: id, type: int}}
`, []string{`element "thing"`, `implies "physical_filter", which requires "instrument"`}},
		{"a requires that is not a list is rejected",
			strings.Replace(small, "requires: [instrument]\n    key: {name: id", "requires: {a: 1}\n    key: {name: id", 1),
			[]string{`element "detector": requires`}},
		{"merge keys are rejected", `
version: 1
namespace: x
elements:
  a: &a {key: {name: id, type: int}}
  b:
    <<: *a
`, []string{"merge keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Load([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("loaded %v, want an error", u.Names())
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "load dimension universe: ") {
				t.Errorf("error %q does not name the action", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}
