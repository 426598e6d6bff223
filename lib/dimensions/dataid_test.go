package dimensions

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeRecords is a RecordLookup over a fixed set of records.
type fakeRecords struct {
	u    *Universe
	recs []Record
	err  error
	hits []string
}

func (f *fakeRecords) LookupRecord(element string, key DataID) (Record, bool, error) {
	f.hits = append(f.hits, element+key.String())
	if f.err != nil {
		return Record{}, false, f.err
	}
	for _, r := range f.recs {
		if r.Element == element && reflect.DeepEqual(map[string]any(r.Key()), map[string]any(key)) {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}

func mustRecord(t *testing.T, u *Universe, element string, values map[string]any) Record {
	t.Helper()
	e, ok := u.Element(element)
	if !ok {
		t.Fatalf("no element %s", element)
	}
	r, err := e.NewRecord(u, values)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNormalizeDataID(t *testing.T) {
	u := Default()
	records := &fakeRecords{u: u, recs: []Record{
		mustRecord(t, u, "exposure", map[string]any{"instrument": "SPX", "exposure": 42, "obs_id": "SPX_42",
			"physical_filter": "SPX-D1", "day_obs": 20250301, "group": "g1"}),
		mustRecord(t, u, "physical_filter", map[string]any{"instrument": "SPX", "physical_filter": "SPX-D1", "band": "spx1"}),
		mustRecord(t, u, "exposure", map[string]any{"instrument": "SPX", "exposure": 43, "obs_id": "SPX_43"}),
	}}
	exposureDetector := []string{"detector", "exposure"}

	for _, tc := range []struct {
		name   string
		dims   []string
		raw    map[string]any
		lookup RecordLookup
		want   DataID
	}{
		{"a complete data ID passes unchanged", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": int64(3), "exposure": int64(42)}, nil,
			DataID{"instrument": "SPX", "detector": int64(3), "exposure": int64(42)}},
		{"integer strings become int64 keys", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": "3", "exposure": " 42 "}, nil,
			DataID{"instrument": "SPX", "detector": int64(3), "exposure": int64(42)}},
		{"integral floats and json numbers become int64 keys", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": 3.0, "exposure": json.Number("42")}, nil,
			DataID{"instrument": "SPX", "detector": int64(3), "exposure": int64(42)}},
		{"other Go integers become int64 keys", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": uint8(3), "exposure": int32(42)}, nil,
			DataID{"instrument": "SPX", "detector": int64(3), "exposure": int64(42)}},
		{"nil values count as absent", []string{"detector"},
			map[string]any{"instrument": "SPX", "detector": 3, "band": nil}, nil,
			DataID{"instrument": "SPX", "detector": int64(3)}},
		{"given implied values are kept without a lookup", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 42, "band": "spx1"}, nil,
			DataID{"instrument": "SPX", "exposure": int64(42), "band": "spx1"}},
		{"implied values are filled from records, transitively", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": 3, "exposure": 42}, records,
			DataID{"instrument": "SPX", "detector": int64(3), "exposure": int64(42),
				"physical_filter": "SPX-D1", "band": "spx1", "day_obs": int64(20250301), "group": "g1"}},
		{"a given implied value that agrees with the record is fine", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 42, "physical_filter": "SPX-D1"}, records,
			DataID{"instrument": "SPX", "exposure": int64(42),
				"physical_filter": "SPX-D1", "band": "spx1", "day_obs": int64(20250301), "group": "g1"}},
		{"null implied columns fill nothing", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 43}, records,
			DataID{"instrument": "SPX", "exposure": int64(43)}},
		{"a missing record fills nothing", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 7}, records,
			DataID{"instrument": "SPX", "exposure": int64(7)}},
		{"no dimensions give an empty data ID", nil, map[string]any{}, records, DataID{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := u.NormalizeDataID(tc.dims, tc.raw, tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s %#v\nwant %s", got, got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		dims   []string
		raw    map[string]any
		lookup RecordLookup
		want   string
	}{
		{"a missing required key is named", exposureDetector,
			map[string]any{"instrument": "SPX", "detector": 3}, nil,
			`data ID for [instrument detector exposure] is missing "exposure"`},
		{"several missing keys are all named", exposureDetector,
			map[string]any{"detector": 3}, nil,
			`data ID for [instrument detector exposure] is missing "instrument", "exposure"`},
		{"an unknown key is an unknown dimension", []string{"detector"},
			map[string]any{"instrument": "SPX", "detectr": 3}, nil,
			`unknown dimension "detectr"`},
		{"an unknown requested dimension is an unknown dimension", []string{"detector", "foo"},
			map[string]any{"instrument": "SPX", "detector": 3}, nil,
			`unknown dimension "foo"`},
		{"a real dimension outside the data ID's dimensions is rejected", []string{"detector"},
			map[string]any{"instrument": "SPX", "detector": 3, "visit": 5}, nil,
			`data ID for [instrument detector] cannot have "visit"`},
		{"a non-integer string for an int key is rejected", []string{"detector"},
			map[string]any{"instrument": "SPX", "detector": "three"}, nil,
			`data ID value for "detector": cannot use "three" (string) as int`},
		{"a fractional float for an int key is rejected", []string{"detector"},
			map[string]any{"instrument": "SPX", "detector": 2.5}, nil,
			`data ID value for "detector": cannot use 2.5 (float64) as int`},
		{"an int for a string key is rejected", []string{"detector"},
			map[string]any{"instrument": 12, "detector": 3}, nil,
			`data ID value for "instrument": cannot use 12 (int) as string`},
		{"a bool for an int key is rejected", []string{"detector"},
			map[string]any{"instrument": "SPX", "detector": true}, nil,
			`data ID value for "detector": cannot use true (bool) as int`},
		{"a given implied value that disagrees with the record is a conflict", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 42, "physical_filter": "SPX-D2"}, records,
			`data ID conflict: physical_filter='SPX-D2' but the exposure record {instrument: 'SPX', exposure: 42} has physical_filter='SPX-D1'`},
		{"a transitively implied conflict is found too", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 42, "band": "spx2"}, records,
			`data ID conflict: band='spx2' but the physical_filter record`},
		{"a lookup failure is reported with the record", []string{"exposure"},
			map[string]any{"instrument": "SPX", "exposure": 42}, &fakeRecords{err: errors.New("disk on fire")},
			`look up exposure record {instrument: 'SPX', exposure: 42}: disk on fire`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := u.NormalizeDataID(tc.dims, tc.raw, tc.lookup)
			if err == nil {
				t.Fatalf("got %s, want error %q", got, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant  %q", err, tc.want)
			}
		})
	}

	t.Run("an unknown key error matches ErrUnknownDimension", func(t *testing.T) {
		_, err := u.NormalizeDataID([]string{"detector"}, map[string]any{"instrument": "SPX", "detectr": 3}, nil)
		var ude *UnknownDimensionError
		if !errors.Is(err, ErrUnknownDimension) || !errors.As(err, &ude) || ude.Suggestion != "detector" {
			t.Errorf("error = %#v", err)
		}
	})

	t.Run("only elements with implied dimensions are looked up", func(t *testing.T) {
		records.hits = nil
		if _, err := u.NormalizeDataID(exposureDetector, map[string]any{"instrument": "SPX", "detector": 3, "exposure": 42}, records); err != nil {
			t.Fatal(err)
		}
		want := []string{"physical_filter{instrument: 'SPX', physical_filter: 'SPX-D1'}", "exposure{instrument: 'SPX', exposure: 42}"}
		if len(records.hits) != 2 || records.hits[0] != want[1] || records.hits[1] != want[0] {
			t.Errorf("lookups = %q", records.hits)
		}
	})
}

func TestDataIDString(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   DataID
		want string
	}{
		{"keys follow universe order", DataID{"exposure": int64(42), "detector": int64(3), "instrument": "SPX"},
			"{instrument: 'SPX', detector: 3, exposure: 42}"},
		{"unknown keys come last in alphabetical order", DataID{"zeta": int64(1), "observation": int64(7), "instrument": "SPX"},
			"{instrument: 'SPX', observation: 7, zeta: 1}"},
		{"quotes in strings are escaped", DataID{"instrument": "it's"}, `{instrument: 'it\'s'}`},
		{"an empty data ID is empty braces", DataID{}, "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.String(); got != tc.want {
				t.Errorf("String() = %s, want %s", got, tc.want)
			}
		})
	}
}
