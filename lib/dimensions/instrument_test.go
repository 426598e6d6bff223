package dimensions

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestShippedInstruments(t *testing.T) {
	spherexData, err := os.ReadFile("../../examples/spherex/dimensions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spherexUniverse, err := Load(spherexData)
	if err != nil {
		t.Fatal(err)
	}

	if got := Instruments(); !slices.Equal(got, []string{"democam", "spherex"}) {
		t.Errorf("Instruments() = %v", got)
	}

	for _, tc := range []struct {
		file      string
		name      string
		detectors int
		filters   []string
		bands     []string
	}{
		{"spherex", "SPHEREx", 6,
			[]string{"SPHEREx-D1", "SPHEREx-D2", "SPHEREx-D3", "SPHEREx-D4", "SPHEREx-D5", "SPHEREx-D6", "SPHEREx-LVF"},
			[]string{"spx1", "spx2", "spx3", "spx4", "spx5", "spx6", "spx"}},
		{"democam", "DemoCam", 2, []string{"g", "r", "i"}, []string{"g", "r", "i"}},
	} {
		data, err := LoadInstrument(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		def, err := ParseInstrument(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*Universe{Default(), spherexUniverse} {
			t.Run(fmt.Sprintf("%s registers in the %s universe", tc.name, u.Namespace), func(t *testing.T) {
				if def.Name != tc.name || len(def.Detectors) != tc.detectors || def.Translation == nil {
					t.Fatalf("definition = %+v", def)
				}
				recs, err := def.Records(u)
				if err != nil {
					t.Fatal(err)
				}
				byElement := map[string][]Record{}
				var order []string
				for _, r := range recs {
					if len(byElement[r.Element]) == 0 {
						order = append(order, r.Element)
					}
					byElement[r.Element] = append(byElement[r.Element], r)
				}
				if !slices.Equal(order, []string{"instrument", "band", "physical_filter", "detector"}) {
					t.Errorf("record order = %v", order)
				}
				inst := byElement["instrument"][0]
				if inst.Values["instrument"] != tc.name || inst.Values["class_name"] == nil {
					t.Errorf("instrument record = %v", inst.Values)
				}
				var bands, filters []string
				for _, r := range byElement["band"] {
					bands = append(bands, r.Values["band"].(string))
				}
				for _, r := range byElement["physical_filter"] {
					filters = append(filters, r.Values["physical_filter"].(string))
					if r.Values["instrument"] != tc.name {
						t.Errorf("filter record %v lacks the instrument", r.Values)
					}
				}
				if !slices.Equal(bands, tc.bands) || !slices.Equal(filters, tc.filters) {
					t.Errorf("bands %v filters %v", bands, filters)
				}
				dets := byElement["detector"]
				if len(dets) != tc.detectors {
					t.Fatalf("%d detector records", len(dets))
				}
				key := dets[len(dets)-1].Key()
				if key["instrument"] != tc.name || key["detector"] == nil {
					t.Errorf("detector key = %v", key)
				}
			})
		}
	}

	t.Run("an instrument name finds its file case-insensitively", func(t *testing.T) {
		a, err := LoadInstrument("SPHEREx")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := LoadInstrument("spherex")
		if string(a) != string(b) {
			t.Error("different contents")
		}
	})

	t.Run("an unknown instrument lists the shipped ones", func(t *testing.T) {
		_, err := LoadInstrument("hsc")
		if err == nil || !strings.Contains(err.Error(), `no shipped instrument "hsc" (have: democam, spherex)`) {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("a path is not an instrument name", func(t *testing.T) {
		if _, err := LoadInstrument("../dimensions"); err == nil {
			t.Error("no error")
		}
	})
}

func TestParseInstrumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"an unknown top-level key is rejected with its line", "name: X\ndetecors: []\n",
			[]string{`line 2`, `unknown key "detecors"`}},
		{"a missing name is rejected", "detectors: []\n", []string{"missing instrument name"}},
		{"a detector without an id is rejected", "name: X\ndetectors:\n  - {id: 1}\n  - {full_name: B}\n",
			[]string{"line 4", "detector 2: missing id"}},
		{"a duplicate detector id is rejected", "name: X\ndetectors:\n  - {id: 1}\n  - {detector: 1}\n",
			[]string{"line 4", "duplicate detector 1 (first at line 3)"}},
		{"a detector with both id and detector is rejected", "name: X\ndetectors:\n  - {id: 1, detector: 1}\n",
			[]string{"give id or detector, not both"}},
		{"detectors that are not a list are rejected", "name: X\ndetectors: {a: 1}\n",
			[]string{"detectors must be a list"}},
		{"a duplicate physical filter is rejected", "name: X\nphysical_filters:\n  - {name: g, band: g}\n  - {name: g, band: r}\n",
			[]string{"duplicate physical filter g"}},
		{"a record naming another instrument is rejected", "name: X\nrecord: {name: Y}\n",
			[]string{`differs from the instrument name "X"`}},
		{"a duplicate key inside a detector is rejected", "name: X\ndetectors:\n  - {id: 1, id: 2}\n",
			[]string{`duplicate key "id"`}},
		{"malformed YAML is rejected", "name: [X\n", []string{"parse YAML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseInstrument([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed %+v, want an error", d)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "parse instrument definition: ") {
				t.Errorf("error %q does not name the action", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}

	for _, tc := range []struct {
		name     string
		yaml     string
		universe string
		want     string
	}{
		{"an unknown detector field is rejected at record time", "name: X\ndetectors:\n  - {id: 1, fullname: A}\n", "",
			`instrument X records: detector 1: new detector record: unknown column "fullname" (did you mean "full_name"?)`},
		{"an unknown instrument field is rejected at record time", "name: X\nrecord: {visit_maximum: 3}\n", "",
			`instrument record: new instrument record: unknown column "visit_maximum"`},
		{"a non-string band is rejected", "name: X\nphysical_filters:\n  - {name: g, band: 1}\n", "",
			`physical filter g: new physical_filter record: column "band": cannot use 1 (int) as string`},
		{"a universe without physical filters is rejected",
			"name: X\nphysical_filters:\n  - {name: g, band: g}\n",
			"version: 1\nnamespace: tiny\nelements:\n  instrument: {key: {name: name, type: string}}\n",
			`universe tiny v1 has no "physical_filter" element, needed for physical filters`},
		{"a universe without detectors is rejected",
			"name: X\ndetectors:\n  - {id: 1}\n",
			"version: 1\nnamespace: tiny\nelements:\n  instrument: {key: {name: name, type: string}}\n",
			`universe tiny v1 has no "detector" element, needed for detectors`},
		{"a universe without instruments is rejected", "name: X\n",
			"version: 1\nnamespace: tiny\nelements:\n  band: {key: {name: name, type: string}}\n",
			`universe tiny v1 has no "instrument" element`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseInstrument([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			u := Default()
			if tc.universe != "" {
				if u, err = Load([]byte(tc.universe)); err != nil {
					t.Fatal(err)
				}
			}
			_, err = d.Records(u)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant  %q", err, tc.want)
			}
		})
	}
}
