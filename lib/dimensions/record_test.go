package dimensions

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewRecord(t *testing.T) {
	u := Default()
	t0 := time.Date(2025, 3, 1, 4, 5, 6, 0, time.UTC)
	t1 := t0.Add(30 * time.Second)

	for _, tc := range []struct {
		name    string
		element string
		values  map[string]any
		want    map[string]any // checked columns (all columns must exist)
	}{
		{"a detector record gets every column, absent fields null", "detector",
			map[string]any{"instrument": "SPX", "detector": 3, "full_name": "D3"},
			map[string]any{"instrument": "SPX", "detector": int64(3), "full_name": "D3",
				"name_in_raft": nil, "raft": nil, "purpose": nil}},
		{"YAML ints are coerced to float fields and strings to ints", "exposure",
			map[string]any{"instrument": "SPX", "exposure": "42", "obs_id": "o42", "exposure_time": 30,
				"seq_num": 7.0, "has_simulated": false, "can_see_sky": "true"},
			map[string]any{"exposure": int64(42), "exposure_time": 30.0, "seq_num": int64(7),
				"has_simulated": false, "can_see_sky": true, "dark_time": nil}},
		{"a timespan mapping of RFC 3339 strings becomes begin and end", "exposure",
			map[string]any{"instrument": "SPX", "exposure": 1, "obs_id": "o1",
				"timespan": map[string]any{"begin": "2025-03-01T04:05:06Z", "end": "2025-03-01T05:05:36+01:00"}},
			map[string]any{TimespanBegin: t0, TimespanEnd: t1}},
		{"a timespan value works too", "visit",
			map[string]any{"instrument": "SPX", "visit": 1, "timespan": Timespan{Begin: t0}},
			map[string]any{TimespanBegin: t0, TimespanEnd: nil}},
		{"timespan columns accept time values in any zone", "day_obs",
			map[string]any{"instrument": "SPX", "day_obs": 20250301,
				TimespanBegin: t0.In(time.FixedZone("x", 3600)), TimespanEnd: "2025-03-01T04:05:36.000Z"},
			map[string]any{TimespanBegin: t0, TimespanEnd: t1}},
		{"an empty timespan is allowed", "day_obs",
			map[string]any{"instrument": "SPX", "day_obs": 20250301, "timespan": map[string]any{"begin": t0, "end": t0}},
			map[string]any{TimespanBegin: t0, TimespanEnd: t0}},
		{"implied columns may be given", "physical_filter",
			map[string]any{"instrument": "SPX", "physical_filter": "SPX-D1", "band": "spx1"},
			map[string]any{"band": "spx1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := u.Element(tc.element)
			r, err := e.NewRecord(u, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if r.Element != tc.element || len(r.Values) != len(e.Columns()) {
				t.Errorf("record %s has %d values, want %d", r.Element, len(r.Values), len(e.Columns()))
			}
			for k, want := range tc.want {
				got, ok := r.Values[k]
				if !ok {
					t.Errorf("no column %s", k)
				}
				if gt, ok := got.(time.Time); ok {
					if wt, _ := want.(time.Time); !gt.Equal(wt) || gt.Location() != time.UTC {
						t.Errorf("%s = %v, want %v in UTC", k, gt, want)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
		})
	}

	for _, tc := range []struct {
		name    string
		element string
		values  map[string]any
		want    string
	}{
		{"an unknown column is rejected with a suggestion", "detector",
			map[string]any{"instrument": "SPX", "detector": 3, "ful_name": "x"},
			`new detector record: unknown column "ful_name" (did you mean "full_name"?); detector has columns instrument, detector, full_name`},
		{"the key field name is not a column", "detector",
			map[string]any{"instrument": "SPX", "id": 3},
			`unknown column "id"`},
		{"a missing key column is rejected", "detector",
			map[string]any{"detector": 3},
			`new detector record: missing value for column "instrument"`},
		{"a missing non-nullable field is rejected", "exposure",
			map[string]any{"instrument": "SPX", "exposure": 3},
			`missing value for column "obs_id"`},
		{"a wrongly typed field names the column", "exposure",
			map[string]any{"instrument": "SPX", "exposure": 3, "obs_id": "o", "exposure_time": "long"},
			`column "exposure_time": cannot use "long" (string) as float`},
		{"an int for a string column is rejected", "detector",
			map[string]any{"instrument": "SPX", "detector": 3, "raft": 22},
			`column "raft": cannot use 22 (int) as string`},
		{"a bad timestamp is rejected", "visit",
			map[string]any{"instrument": "SPX", "visit": 3, TimespanBegin: "yesterday"},
			`column "timespan_begin": cannot use "yesterday" (string) as timestamp`},
		{"a timespan that ends before it begins is rejected", "visit",
			map[string]any{"instrument": "SPX", "visit": 3, "timespan": map[string]any{"begin": "2025-03-02T00:00:00Z", "end": "2025-03-01"}},
			"timespan ends (2025-03-01T00:00:00Z) before it begins (2025-03-02T00:00:00Z)"},
		{"a timespan given twice is rejected", "visit",
			map[string]any{"instrument": "SPX", "visit": 3, "timespan": map[string]any{}, TimespanEnd: "2025-03-01"},
			`timespan given both as "timespan" and as timespan_begin/timespan_end`},
		{"a timespan with unknown keys is rejected", "visit",
			map[string]any{"instrument": "SPX", "visit": 3, "timespan": map[string]any{"start": "2025-03-01"}},
			`timespan: unknown key "start"`},
		{"a timespan on a non-temporal element is rejected", "detector",
			map[string]any{"instrument": "SPX", "detector": 3, "timespan": map[string]any{}},
			`unknown column "timespan": detector is not temporal`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := u.Element(tc.element)
			r, err := e.NewRecord(u, tc.values)
			if err == nil {
				t.Fatalf("got %v, want error %q", r, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant  %q", err, tc.want)
			}
		})
	}

	t.Run("an element of another universe is rejected", func(t *testing.T) {
		other, err := Load([]byte("version: 1\nnamespace: other\nelements:\n  thing: {key: {name: id, type: int}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := other.Element("thing")
		if _, err := e.NewRecord(u, map[string]any{"thing": 1}); err == nil || !strings.Contains(err.Error(), `element "thing" is not part of universe skybutler v1`) {
			t.Errorf("error = %v", err)
		}
	})
}

func TestRecordKeyAndTimespan(t *testing.T) {
	u := Default()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

	t.Run("the key holds the required dimensions and the element", func(t *testing.T) {
		r := mustRecord(t, u, "patch", map[string]any{"skymap": "rings", "tract": 9813, "patch": 72, "cell_x": 1})
		want := DataID{"skymap": "rings", "tract": int64(9813), "patch": int64(72)}
		if got := r.Key(); !reflect.DeepEqual(got, want) {
			t.Errorf("Key() = %v, want %v", got, want)
		}
		if got, err := u.RecordKey(r); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("RecordKey() = %v, %v", got, err)
		}
	})

	t.Run("implied columns are not part of the key", func(t *testing.T) {
		r := mustRecord(t, u, "exposure", map[string]any{"instrument": "SPX", "exposure": 5, "obs_id": "x", "physical_filter": "f"})
		if got := r.Key(); !reflect.DeepEqual(got, DataID{"instrument": "SPX", "exposure": int64(5)}) {
			t.Errorf("Key() = %v", got)
		}
	})

	t.Run("a hand-built record of a custom universe finds its key", func(t *testing.T) {
		custom, err := Load([]byte(`
version: 1
namespace: keytest
elements:
  survey: {key: {name: name, type: string}}
  field_pointing: {requires: [survey], key: {name: id, type: int}, fields: [{name: ra, type: float}]}
`))
		if err != nil {
			t.Fatal(err)
		}
		_ = custom
		r := Record{Element: "field_pointing", Values: map[string]any{"survey": "s", "field_pointing": int64(4), "ra": 1.5}}
		if got := r.Key(); !reflect.DeepEqual(got, DataID{"survey": "s", "field_pointing": int64(4)}) {
			t.Errorf("Key() = %v", got)
		}
	})

	for _, tc := range []struct {
		name   string
		values map[string]any
		want   Timespan
		ok     bool
	}{
		{"a bounded timespan", map[string]any{"timespan": map[string]any{"begin": t0, "end": t0.Add(time.Hour)}},
			Timespan{Begin: t0, End: t0.Add(time.Hour)}, true},
		{"a timespan open at the end", map[string]any{TimespanBegin: t0}, Timespan{Begin: t0}, true},
		{"a timespan open at the start", map[string]any{TimespanEnd: t0}, Timespan{End: t0}, true},
		{"no timespan at all", map[string]any{}, Timespan{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := map[string]any{"instrument": "SPX", "visit": 1}
			for k, v := range tc.values {
				values[k] = v
			}
			r := mustRecord(t, u, "visit", values)
			got, ok := r.Timespan()
			if ok != tc.ok || !got.Begin.Equal(tc.want.Begin) || !got.End.Equal(tc.want.End) {
				t.Errorf("Timespan() = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}

	t.Run("a non-temporal record has no timespan", func(t *testing.T) {
		r := mustRecord(t, u, "band", map[string]any{"band": "g"})
		if _, ok := r.Timespan(); ok {
			t.Error("band record has a timespan")
		}
	})
}
