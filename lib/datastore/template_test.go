package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// calexpValues is a typical dataset: a calexp of one detector of one exposure.
func calexpValues() Values {
	return Values{
		Run:          "HSC/runs/RC2/w_2024_01",
		DatasetType:  "calexp",
		StorageClass: "ExposureF",
		ID:           "2f0c3a5e-8d1b-4f7a-9c11-0123456789ab",
		DataID: map[string]any{
			"instrument": "HSC", "exposure": int64(903334), "detector": int64(22),
			"physical_filter": "HSC-R", "band": "r", "day_obs": int64(20240101),
		},
		Records: map[string]map[string]any{
			"exposure": {"obs_id": "HSCA90333400", "exposure_time": 30.0},
			"visit":    {"name": ""},
		},
	}
}

func TestParseTemplateAcceptsValidTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		fields         []string
	}{
		{"the daf_butler example parses", "{run}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure}_{detector}",
			[]string{"run", "datasetType", "band", "exposure", "instrument", "detector"}},
		{"an id alone makes paths unique", "{id}", []string{"id"}},
		{"collection counts as the run", "{collection}/{datasetType}", []string{"collection", "datasetType"}},
		{"alternatives list every name", "{run}/{visit.name|exposure.obs_id}", []string{"run", "visit.name", "exposure.obs_id"}},
		{"an alternative of run and id is unique", "{run|id}/x", []string{"run", "id"}},
		{"format specs and flags parse", "{run:/}/{exposure:08d}/{detector:?03d}/{band:?s}/{storageClass}", []string{"run", "exposure", "detector", "band", "storageClass"}},
		{"doubled braces are literal", "{run}/{{literal}}", []string{"run"}},
		{"the default template parses", DefaultTemplate, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tc.template)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tc.template, err)
			}
			if tc.fields != nil && !slices.Equal(tmpl.Fields(), tc.fields) {
				t.Errorf("Fields() = %q, want %q", tmpl.Fields(), tc.fields)
			}
			if tmpl.String() != tc.template {
				t.Errorf("String() = %q", tmpl.String())
			}
		})
	}
}

func TestParseTemplateRejectsInvalidTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, template, wantErr string
	}{
		{"an empty template is refused", "", "empty template"},
		{"an unclosed brace is refused", "{run}/{datasetType", "unbalanced '{'"},
		{"a stray closing brace is refused", "{run}/datasetType}", "unbalanced '}'"},
		{"a nested brace is refused", "{run}/{data{x}}", "unbalanced '{'"},
		{"an empty field is refused", "{run}/{}", "empty field"},
		{"a blank field is refused", "{run}/{ }", "empty field"},
		{"a field with only a spec is refused", "{run}/{:?}", "empty field name"},
		{"an empty alternative is refused", "{run}/{visit|}", "empty alternative"},
		{"a conversion is refused", "{run!r}", "conversions"},
		{"a field name with a dash is refused", "{run}/{physical-filter}", "not a field name"},
		{"a field name starting with a digit is refused", "{run}/{1x}", "not a field name"},
		{"a record field of a special field is refused", "{run.name}", "special field \"run\" has no record fields"},
		{"two dots are refused", "{run}/{exposure.obs.id}", "not a record field"},
		{"an unknown format spec is refused", "{run}/{exposure:>8}", "not supported"},
		{"a width on a string is refused", "{run}/{band:8s}", "integers only"},
		{"a huge width is refused", "{run}/{exposure:0999d}", "width must be"},
		{"a template without run or id is refused", "{datasetType}/{exposure}", "must contain a required {run} or {id}"},
		{"an optional run is not enough", "{run:?}/{datasetType}", "must contain a required {run} or {id}"},
		{"an alternative with a dimension is not enough", "{visit|run}/{datasetType}", "must contain a required {run} or {id}"},
		{"an absolute template is refused", "/{run}/{datasetType}", "relative path"},
		{"a literal dot-dot element is refused", "{run}/../{datasetType}", "path element \"..\""},
		{"a literal dot element is refused", "{run}/./{datasetType}", "path element \".\""},
		{"an empty path element is refused", "{run}//{datasetType}", "empty path element"},
		{"a backslash is refused", "{run}\\{datasetType}", "backslash"},
		{"a control character is refused", "{run}/\x00{datasetType}", "control character"},
		{"a duplicate alternative is refused", "{run}/{visit|visit}", "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplate(tc.template)
			if err == nil {
				t.Fatalf("ParseTemplate(%q) succeeded, want error containing %q", tc.template, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidTemplate) {
				t.Errorf("error %v does not wrap ErrInvalidTemplate", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	base := calexpValues()
	for _, tc := range []struct {
		name, template string
		edit           func(*Values)
		want           string
	}{
		{"the daf_butler example renders with its optional band",
			"{run}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure}_{detector}", nil,
			"HSC_runs_RC2_w_2024_01/calexp/r/903334/calexp_HSC_903334_22"},
		{"a missing optional directory disappears",
			"{run}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure}_{detector}",
			func(v *Values) { delete(v.DataID, "band") },
			"HSC_runs_RC2_w_2024_01/calexp/903334/calexp_HSC_903334_22"},
		{"a missing optional field drops its preceding separator",
			"{run}/{datasetType}_{band:?}_{detector}", func(v *Values) { delete(v.DataID, "band") },
			"HSC_runs_RC2_w_2024_01/calexp_22"},
		{"a missing optional field at the start drops the following separator",
			"{run}/{band:?}_{detector}", func(v *Values) { delete(v.DataID, "band") },
			"HSC_runs_RC2_w_2024_01/22"},
		{"several missing optional fields leave no doubled separators",
			"{run}/{tract:?}_{patch:?}_{datasetType}_{visit:?}_{band:?}_{detector}_{skymap:?}",
			func(v *Values) { delete(v.DataID, "band") },
			"HSC_runs_RC2_w_2024_01/calexp_22"},
		{"a missing optional field drops the whole literal joining it",
			"{run}/{datasetType}-v{version:?}", nil,
			"HSC_runs_RC2_w_2024_01/calexp"},
		{"a missing optional field takes its prefix text within the path element",
			"{run}/{detector}/band_{band:?}/x", func(v *Values) { delete(v.DataID, "band") },
			"HSC_runs_RC2_w_2024_01/22/x"},
		{"a present optional field keeps its prefix text",
			"{run}/{detector}/band_{band:?}/x", nil,
			"HSC_runs_RC2_w_2024_01/22/band_r/x"},
		{"an empty string counts as missing",
			"{run}/{datasetType}_{band:?}", func(v *Values) { v.DataID["band"] = "" },
			"HSC_runs_RC2_w_2024_01/calexp"},
		{"the run keeps its directories with the slash flag",
			"{run:/}/{datasetType}/{detector}", nil,
			"HSC/runs/RC2/w_2024_01/calexp/22"},
		{"collection is the run",
			"{collection}/{datasetType}", nil,
			"HSC_runs_RC2_w_2024_01/calexp"},
		{"the dataset id and storage class render",
			"{storageClass}/{id}", nil,
			"ExposureF/2f0c3a5e-8d1b-4f7a-9c11-0123456789ab"},
		{"a record field renders",
			"{run}/{exposure.obs_id}", nil,
			"HSC_runs_RC2_w_2024_01/HSCA90333400"},
		{"the first alternative with a value wins",
			"{run}/{visit.name|exposure.obs_id}", nil,
			"HSC_runs_RC2_w_2024_01/HSCA90333400"},
		{"an earlier alternative with a value wins",
			"{run}/{visit.name|exposure.obs_id}", func(v *Values) { v.Records["visit"]["name"] = "v1" },
			"HSC_runs_RC2_w_2024_01/v1"},
		{"integers are zero padded",
			"{run}/{exposure:08d}_{detector:03d}", nil,
			"HSC_runs_RC2_w_2024_01/00903334_022"},
		{"negative integers are padded after the sign",
			"{run}/{detector:05d}", func(v *Values) { v.DataID["detector"] = -12 },
			"HSC_runs_RC2_w_2024_01/-0012"},
		{"dots in the file name become underscores",
			"{run}/{datasetType}.{band}", nil,
			"HSC_runs_RC2_w_2024_01/calexp_r"},
		{"dots in directories stay",
			"{run}/{datasetType}.{band}/{detector}", nil,
			"HSC_runs_RC2_w_2024_01/calexp.r/22"},
		{"a component renders",
			"{run}/{datasetType}_{component:?}", func(v *Values) { v.Component = "wcs" },
			"HSC_runs_RC2_w_2024_01/calexp_wcs"},
		{"literal braces render",
			"{run}/{{x}}", nil,
			"HSC_runs_RC2_w_2024_01/{x}"},
		{"the default template renders every dimension it knows",
			DefaultTemplate, nil,
			"HSC/runs/RC2/w_2024_01/calexp/r/20240101/HSC-R/903334/calexp_r_HSC_22_903334_HSC_runs_RC2_w_2024_01"},
		{"the default template renders a coadd",
			DefaultTemplate, func(v *Values) {
				v.DatasetType = "deepCoadd"
				v.DataID = map[string]any{"skymap": "hsc_rings_v1", "tract": 9813, "patch": 40, "band": "i"}
			},
			"HSC/runs/RC2/w_2024_01/deepCoadd/i/deepCoadd_i_hsc_rings_v1_9813_40_HSC_runs_RC2_w_2024_01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := cloneValues(base)
			if tc.edit != nil {
				tc.edit(&v)
			}
			got, err := MustParseTemplate(tc.template).Render(v)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tc.want {
				t.Errorf("Render = %q\nwant     %q", got, tc.want)
			}
		})
	}
}

func TestRenderTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		edit           func(*Values)
		wantErr        string
	}{
		{"a required field without a value is named", "{run}/{visit}", nil, "field {visit} has no value"},
		{"a required record field without a record is named", "{run}/{visit.name}", nil, "field {visit.name} has no value"},
		{"an empty run is an error", "{run}/{datasetType}", func(v *Values) { v.Run = "" }, "field {run} has no value"},
		{"a component without a component field is an error", "{run}/{datasetType}", func(v *Values) { v.Component = "wcs" }, "has no {component}"},
		{"a string for an integer format is an error", "{run}/{band:03d}", nil, "needs an integer"},
		{"an unsupported value type is an error", "{run}/{detector}", func(v *Values) { v.DataID["detector"] = []int{1} }, "unsupported value type"},
		{"a too long path element is an error", "{run}/{detector}", func(v *Values) { v.DataID["detector"] = strings.Repeat("x", 300) }, "longer than 255 bytes"},
		{"a too long path is an error", "{run:/}/{detector}", func(v *Values) { v.Run = strings.Repeat("abcdefghi/", 110) + "x" }, "longer than 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := cloneValues(calexpValues())
			if tc.edit != nil {
				tc.edit(&v)
			}
			got, err := MustParseTemplate(tc.template).Render(v)
			if err == nil {
				t.Fatalf("Render = %q, want error containing %q", got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "render template ") {
				t.Errorf("error %q does not name the action", err)
			}
		})
	}
}

// TestRenderTemplateSafety checks that no field value can make a path
// escape the datastore root.
func TestRenderTemplateSafety(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        string // "" when the value must be rejected
		wantKeep    string // with the '/' flag; "" when rejected
	}{
		{"a parent directory prefix is rejected", "../x", "", ""},
		{"a parent directory suffix is rejected", "x/..", "", ""},
		{"dot-dot alone is rejected", "..", "", ""},
		{"a dot-dot element in the middle is rejected", "a/../../etc", "", ""},
		{"dot alone is rejected", ".", "", ""},
		{"an absolute path loses its root", "/etc/passwd", "x/_etc_passwd/y", ""},
		{"a slash becomes an underscore", "a/b", "x/a_b/y", "x/a/b/y"},
		{"a NUL byte is rejected", "a\x00b", "", ""},
		{"a newline is rejected", "a\nb", "", ""},
		{"DEL is rejected", "a\x7fb", "", ""},
		{"a bidi override is rejected", "a\u202eb", "", ""},
		{"invalid UTF-8 is rejected", "a\xffb", "", ""},
		{"a backslash is rejected", `a\..\b`, "", ""},
		{"a windows path is rejected", `C:\Windows`, "", ""},
		{"spaces become underscores", "M31 field 2", "x/M31_field_2/y", "x/M31_field_2/y"},
		{"unicode is kept", "Ωmega-β_✓", "x/Ωmega-β_✓/y", "x/Ωmega-β_✓/y"},
		{"dots that are not elements are kept", "..a.b..", "x/..a.b../y", "x/..a.b../y"},
		{"a trailing slash is rejected with the slash flag", "a/", "x/a_/y", ""},
		{"a doubled slash is rejected with the slash flag", "a//b", "x/a__b/y", ""},
		{"a dot element is rejected with the slash flag", "a/./b", "x/a_._b/y", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, keep := range []bool{false, true} {
				tmpl := "{run}/{band}/{datasetType}"
				want := tc.want
				if keep {
					tmpl = "{run}/{band:/}/{datasetType}"
					want = tc.wantKeep
				}
				v := Values{Run: "x", DatasetType: "y", DataID: map[string]any{"band": tc.value}}
				got, err := MustParseTemplate(tmpl).Render(v)
				if want == "" {
					if err == nil {
						t.Errorf("%s: Render(%q) = %q, want an error", tmpl, tc.value, got)
					} else if !errors.Is(err, ErrUnsafePath) {
						t.Errorf("%s: error %v does not wrap ErrUnsafePath", tmpl, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: Render(%q): %v", tmpl, tc.value, err)
				} else if got != want {
					t.Errorf("%s: Render(%q) = %q, want %q", tmpl, tc.value, got, want)
				}
			}
		})
	}
}

func TestRenderTemplateSafetyInTheFileName(t *testing.T) {
	tmpl := MustParseTemplate("{run}/{datasetType}_{band}")
	for _, tc := range []struct {
		name, value, want string
	}{
		{"dot-dot is rejected in the file name", "..", ""},
		{"a leading dot becomes an underscore in the file name", ".hidden", "x/y__hidden"},
		{"a run that is dot-dot is rejected", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Values{Run: "x", DatasetType: "y", DataID: map[string]any{"band": tc.value}}
			if tc.value == "" {
				v = Values{Run: "..", DatasetType: "y", DataID: map[string]any{"band": "r"}}
			}
			got, err := tmpl.Render(v)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Render = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Render = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDefaultTemplateGivesUniquePaths renders many datasets of several
// dataset types (each with its own, fixed dimensions, as dataset types
// have) in several runs, including nested run names, and checks that no
// two share a path.
func TestDefaultTemplateGivesUniquePaths(t *testing.T) {
	tmpl := MustParseTemplate(DefaultTemplate)
	seen := map[string]string{}
	add := func(what string, v Values) {
		t.Helper()
		p, err := tmpl.Render(v)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if other, dup := seen[p]; dup {
			t.Fatalf("%s and %s both render to %q", what, other, p)
		}
		seen[p] = what
	}
	runs := []string{"run1", "u/alice/run1", "u/alice", "u_alice", "u/alice_run1"}
	for _, run := range runs {
		for det := range 3 {
			for n := range 3 {
				for _, filter := range []string{"HSC-R", "HSC-I"} {
					band := strings.ToLower(filter[4:])
					add(fmt.Sprint(run, " raw ", n, det, filter), Values{Run: run, DatasetType: "raw", DataID: map[string]any{
						"instrument": "HSC", "exposure": n, "detector": det, "physical_filter": filter, "band": band,
						"day_obs": 20240101 + n%2, "group": fmt.Sprint("g", n),
					}})
					add(fmt.Sprint(run, " calexp ", n, det, filter), Values{Run: run, DatasetType: "calexp", DataID: map[string]any{
						"instrument": "HSC", "visit": n, "detector": det, "physical_filter": filter, "band": band, "day_obs": 20240101,
					}})
					add(fmt.Sprint(run, " calexp.wcs ", n, det, filter), Values{Run: run, DatasetType: "calexp", Component: "wcs", DataID: map[string]any{
						"instrument": "HSC", "visit": n, "detector": det, "physical_filter": filter, "band": band, "day_obs": 20240101,
					}})
					add(fmt.Sprint(run, " deepCoadd ", n, det, filter), Values{Run: run, DatasetType: "deepCoadd", DataID: map[string]any{
						"skymap": "rings", "tract": n, "patch": det, "band": band,
					}})
				}
				add(fmt.Sprint(run, " flat ", n, det), Values{Run: run, DatasetType: "flat", DataID: map[string]any{
					"instrument": "HSC", "detector": det, "physical_filter": fmt.Sprint("F", n), "band": "r",
				}})
			}
			add(fmt.Sprint(run, " bias ", det), Values{Run: run, DatasetType: "bias", DataID: map[string]any{
				"instrument": "HSC", "detector": det,
			}})
		}
		add(run+" camera", Values{Run: run, DatasetType: "camera", DataID: map[string]any{"instrument": "HSC"}})
		add(run+" skyMap", Values{Run: run, DatasetType: "skyMap", DataID: map[string]any{"skymap": "rings"}})
		add(run+" config", Values{Run: run, DatasetType: "isr_config"})
	}
}

func TestDefaultTemplateForTheDefaultUniverse(t *testing.T) {
	if got := DefaultTemplateFor(nil); got != DefaultTemplate {
		t.Errorf("DefaultTemplateFor(default universe) =\n%q\nDefaultTemplate =\n%q", got, DefaultTemplate)
	}
}

func TestTemplatesFor(t *testing.T) {
	ts := Templates{
		Default:        "{run}/default/{datasetType}",
		ByDatasetType:  map[string]string{"calexp": "{run}/by-type/{datasetType}", "bad": "{datasetType}"},
		ByStorageClass: map[string]string{"Bytes": "{run}/by-class/{datasetType}"},
	}
	for _, tc := range []struct {
		name, datasetType, storageClass, want, wantErr string
	}{
		{"the dataset type wins over the storage class", "calexp", "Bytes", "{run}/by-type/{datasetType}", ""},
		{"a component uses its parent's template", "calexp.wcs", "Bytes", "{run}/by-type/{datasetType}", ""},
		{"the storage class comes next", "raw", "Bytes", "{run}/by-class/{datasetType}", ""},
		{"the default comes last", "raw", "ExposureF", "{run}/default/{datasetType}", ""},
		{"an invalid template names the dataset type", "bad", "Bytes", "", "dataset type bad (configured for dataset type bad)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ts.For(tc.datasetType, tc.storageClass)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("For = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("For = %v, %v; want %q", got, err, tc.want)
			}
		})
	}
	t.Run("an empty configuration uses the built-in default", func(t *testing.T) {
		got, err := Templates{}.For("raw", "ExposureF")
		if err != nil || got.String() != DefaultTemplate {
			t.Fatalf("For = %v, %v", got, err)
		}
	})
	t.Run("Check reports every invalid template", func(t *testing.T) {
		err := Templates{Default: "{x", ByStorageClass: map[string]string{"A": "{run}"}, ByDatasetType: map[string]string{"bad": "x"}}.Check()
		if err == nil || !strings.Contains(err.Error(), "default template") || !strings.Contains(err.Error(), "dataset type bad") {
			t.Fatalf("Check = %v", err)
		}
		if strings.Contains(err.Error(), "storage class A") {
			t.Errorf("Check reports a valid template: %v", err)
		}
	})
}

func cloneValues(v Values) Values {
	c := v
	c.DataID = make(map[string]any, len(v.DataID))
	for k, x := range v.DataID {
		c.DataID[k] = x
	}
	c.Records = make(map[string]map[string]any, len(v.Records))
	for e, r := range v.Records {
		c.Records[e] = make(map[string]any, len(r))
		for k, x := range r {
			c.Records[e][k] = x
		}
	}
	return c
}

func TestRenderTakesADimensionsDataID(t *testing.T) {
	id := dimensions.DataID{"instrument": "HSC", "detector": int64(3)}
	got, err := MustParseTemplate("{run}/{instrument}_{detector:03d}").Render(Values{Run: "r", DataID: id})
	if err != nil || got != "r/HSC_003" {
		t.Fatalf("Render = %q, %v", got, err)
	}
}
