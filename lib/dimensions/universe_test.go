package dimensions

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDefaultUniverse(t *testing.T) {
	u := Default()
	if u.Namespace != "skybutler" || u.Version != 1 {
		t.Fatalf("default universe is %s, want skybutler v1", u)
	}
	want := []string{"instrument", "band", "physical_filter", "detector", "day_obs", "group",
		"exposure", "visit", "skymap", "tract", "patch"}
	if got := u.Names(); !slices.Equal(got, want) {
		t.Fatalf("element order = %v, want %v", got, want)
	}

	t.Run("every element comes after its dependencies", func(t *testing.T) {
		pos := map[string]int{}
		for i, e := range u.Elements() {
			pos[e.Name] = i
		}
		for _, e := range u.Elements() {
			for _, d := range append(slices.Clone(e.Requires), e.Implies...) {
				if pos[d] >= pos[e.Name] {
					t.Errorf("%s comes before its dependency %s", e.Name, d)
				}
			}
		}
	})

	t.Run("elements have the dependencies, keys and flags of daf_butler", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			requires []string
			implies  []string
			key      Field
			temporal bool
		}{
			{"instrument", nil, nil, Field{Name: "name", Type: TypeString}, false},
			{"band", nil, nil, Field{Name: "name", Type: TypeString}, false},
			{"physical_filter", []string{"instrument"}, []string{"band"}, Field{Name: "name", Type: TypeString}, false},
			{"detector", []string{"instrument"}, nil, Field{Name: "id", Type: TypeInt}, false},
			{"day_obs", []string{"instrument"}, nil, Field{Name: "id", Type: TypeInt}, true},
			{"group", []string{"instrument"}, nil, Field{Name: "name", Type: TypeString}, false},
			{"exposure", []string{"instrument"}, []string{"physical_filter", "day_obs", "group"}, Field{Name: "id", Type: TypeInt}, true},
			{"visit", []string{"instrument"}, []string{"physical_filter", "day_obs"}, Field{Name: "id", Type: TypeInt}, true},
			{"skymap", nil, nil, Field{Name: "name", Type: TypeString}, false},
			{"tract", []string{"skymap"}, nil, Field{Name: "id", Type: TypeInt}, false},
			{"patch", []string{"skymap", "tract"}, nil, Field{Name: "id", Type: TypeInt}, false},
		} {
			e, ok := u.Element(tc.name)
			if !ok {
				t.Errorf("no element %s", tc.name)
				continue
			}
			if !slices.Equal(e.Requires, tc.requires) || !slices.Equal(e.Implies, tc.implies) {
				t.Errorf("%s: requires %v implies %v, want %v %v", tc.name, e.Requires, e.Implies, tc.requires, tc.implies)
			}
			if e.Key.Name != tc.key.Name || e.Key.Type != tc.key.Type || e.Temporal != tc.temporal {
				t.Errorf("%s: key %s %s temporal %v, want %s %s %v", tc.name, e.Key.Name, e.Key.Type, e.Temporal, tc.key.Name, tc.key.Type, tc.temporal)
			}
		}
	})

	t.Run("exposure has all the fields of the brief", func(t *testing.T) {
		e, _ := u.Element("exposure")
		var names []string
		for _, f := range e.Fields {
			names = append(names, f.Name)
		}
		want := []string{"obs_id", "exposure_time", "dark_time", "observation_type", "observation_reason",
			"target_name", "science_program", "tracking_ra", "tracking_dec", "sky_angle", "azimuth",
			"zenith_angle", "seq_num", "seq_start", "seq_end", "has_simulated", "can_see_sky"}
		if !slices.Equal(names, want) {
			t.Errorf("exposure fields = %v, want %v", names, want)
		}
	})

	t.Run("detector columns are keys, then fields", func(t *testing.T) {
		e, _ := u.Element("detector")
		got := columnSummary(e.Columns())
		want := "instrument:string detector:int full_name:string? name_in_raft:string? raft:string? purpose:string?"
		if got != want {
			t.Errorf("columns = %s\nwant      %s", got, want)
		}
		if kc := e.KeyColumns(); !slices.Equal(kc, []string{"instrument", "detector"}) {
			t.Errorf("key columns = %v", kc)
		}
	})

	t.Run("exposure columns put implied dimensions after the key and the timespan last", func(t *testing.T) {
		e, _ := u.Element("exposure")
		cols := e.Columns()
		got := columnSummary(cols[:5])
		if want := "instrument:string exposure:int physical_filter:string? day_obs:int? group:string?"; got != want {
			t.Errorf("first columns = %s\nwant            %s", got, want)
		}
		if got := columnSummary(cols[len(cols)-2:]); got != "timespan_begin:timestamp? timespan_end:timestamp?" {
			t.Errorf("last columns = %s", got)
		}
		if c, _ := e.Column("obs_id"); c.Nullable {
			t.Errorf("obs_id is nullable")
		}
	})

	t.Run("marshal round-trips to an equal universe", func(t *testing.T) {
		data, err := u.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		u2, err := Load(data)
		if err != nil {
			t.Fatalf("load marshalled universe: %v\n%s", err, data)
		}
		if !u.Equal(u2) {
			t.Errorf("marshalled universe differs:\n%s", data)
		}
	})

	t.Run("key types come from the key field", func(t *testing.T) {
		for dim, want := range map[string]FieldType{"instrument": TypeString, "detector": TypeInt, "nope": ""} {
			if got := u.KeyType(dim); got != want {
				t.Errorf("KeyType(%s) = %q, want %q", dim, got, want)
			}
		}
	})
}

func columnSummary(cols []Field) string {
	var parts []string
	for _, c := range cols {
		s := c.Name + ":" + string(c.Type)
		if c.Nullable {
			s += "?"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestExpandAndRequired(t *testing.T) {
	u := Default()
	for _, tc := range []struct {
		name     string
		dims     []string
		expanded []string
		required []string
	}{
		{"an exposure brings its instrument, filter, band, day and group",
			[]string{"exposure"},
			[]string{"instrument", "band", "physical_filter", "day_obs", "group", "exposure"},
			[]string{"instrument", "exposure"}},
		{"exposure and detector need both keys and the instrument",
			[]string{"detector", "exposure"},
			[]string{"instrument", "band", "physical_filter", "detector", "day_obs", "group", "exposure"},
			[]string{"instrument", "detector", "exposure"}},
		{"a visit brings its filter and day but not a group",
			[]string{"visit"},
			[]string{"instrument", "band", "physical_filter", "day_obs", "visit"},
			[]string{"instrument", "visit"}},
		{"a patch requires its tract and skymap",
			[]string{"patch"},
			[]string{"skymap", "tract", "patch"},
			[]string{"skymap", "tract", "patch"}},
		{"a band stands alone",
			[]string{"band"}, []string{"band"}, []string{"band"}},
		{"duplicates and order in the input do not matter",
			[]string{"patch", "band", "patch", "tract"},
			[]string{"band", "skymap", "tract", "patch"},
			[]string{"band", "skymap", "tract", "patch"}},
		{"no dimensions expand to none",
			nil, []string{}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := u.Expand(tc.dims)
			if err != nil || !slices.Equal(got, tc.expanded) {
				t.Errorf("Expand(%v) = %v, %v; want %v", tc.dims, got, err, tc.expanded)
			}
			got, err = u.Required(tc.dims)
			if err != nil || !slices.Equal(got, tc.required) {
				t.Errorf("Required(%v) = %v, %v; want %v", tc.dims, got, err, tc.required)
			}
		})
	}

	t.Run("an unknown name is an error naming it", func(t *testing.T) {
		for _, f := range []func([]string) ([]string, error){u.Expand, u.Required, u.Sorted} {
			_, err := f([]string{"instrument", "foo"})
			if err == nil || err.Error() != `unknown dimension "foo"` {
				t.Errorf("error = %v, want unknown dimension \"foo\"", err)
			}
		}
	})

	t.Run("a near miss suggests the right name", func(t *testing.T) {
		_, err := u.Expand([]string{"detectr"})
		if err == nil || !strings.Contains(err.Error(), `unknown dimension "detectr"`) || !strings.Contains(err.Error(), `did you mean "detector"`) {
			t.Errorf("error = %v", err)
		}
	})
}

func TestSpherexUniverse(t *testing.T) {
	data, err := os.ReadFile("../../examples/spherex/dimensions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u, err := Load(data)
	if err != nil {
		t.Fatalf("load SPHEREx universe: %v", err)
	}

	t.Run("it has observations instead of exposures", func(t *testing.T) {
		if u.Namespace != "spherex" {
			t.Errorf("namespace = %q", u.Namespace)
		}
		if _, ok := u.Element("exposure"); ok {
			t.Error("SPHEREx universe has an exposure element")
		}
		obs, ok := u.Element("observation")
		if !ok {
			t.Fatal("no observation element")
		}
		if !obs.Temporal || obs.Key.Type != TypeInt || !slices.Equal(obs.Requires, []string{"instrument"}) || len(obs.Implies) != 0 {
			t.Errorf("observation = %+v", obs)
		}
	})

	t.Run("an observation data ID needs instrument, detector and observation", func(t *testing.T) {
		got, err := u.Expand([]string{"observation", "detector"})
		if err != nil || !slices.Equal(got, []string{"instrument", "detector", "observation"}) {
			t.Errorf("Expand = %v, %v", got, err)
		}
		id, err := u.NormalizeDataID([]string{"observation", "detector"},
			map[string]any{"instrument": "SPHEREx", "detector": 3, "observation": "1001"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := u.FormatDataID(id); s != "{instrument: 'SPHEREx', detector: 3, observation: 1001}" {
			t.Errorf("data ID = %s", s)
		}
	})

	t.Run("it differs from the default universe and round-trips", func(t *testing.T) {
		if u.Equal(Default()) {
			t.Error("equal to the default universe")
		}
		data, err := u.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		u2, err := Load(data)
		if err != nil || !u.Equal(u2) {
			t.Errorf("round trip: %v\n%s", err, data)
		}
	})
}
