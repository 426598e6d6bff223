package datastore

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplateValidate(t *testing.T) {
	rawDims := []string{"instrument", "exposure", "detector"}
	for _, tc := range []struct {
		name, template string
		dims           []string
		wantErr        string
	}{
		{"the daf_butler example fits a raw", "{run}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure}_{detector}", rawDims, ""},
		{"optional fields may name anything", "{run}/{visit:?}/{tract:?}/{exposure}", rawDims, ""},
		{"a record field of a dimension is fine", "{run}/{exposure.obs_id}", rawDims, ""},
		{"one satisfied alternative is enough", "{run}/{visit|exposure}", rawDims, ""},
		{"special fields are always fine", "{run}/{datasetType}/{storageClass}/{id}", nil, ""},
		{"a required field outside the dimensions is an error", "{run}/{visit}/{exposure}", rawDims, "field {visit} is required but visit is"},
		{"a required record field of another element is an error", "{run}/{visit.name}", rawDims, "field {visit.name} is required"},
		{"no satisfied alternative is an error", "{run}/{visit|tract}", rawDims, "none of visit, tract is"},
		{"every failing field is reported", "{run}/{visit}/{tract}", rawDims, "field {tract}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MustParseTemplate(tc.template).Validate(tc.dims)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestTemplateValidateFor(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		dims           []string
		wantErr        string
	}{
		{"the default template fits a raw", DefaultTemplate, []string{"instrument", "exposure", "detector"}, ""},
		{"the default template fits a coadd", DefaultTemplate, []string{"skymap", "tract", "patch", "band"}, ""},
		{"the default template fits a dimensionless dataset", DefaultTemplate, nil, ""},
		{"an implied dimension may be required", "{run}/{band}/{instrument}_{exposure}_{detector}", []string{"instrument", "exposure", "detector"}, ""},
		{"a required dimension missing from the template is an error", "{run}/{exposure}", []string{"instrument", "exposure", "detector"}, "dimension(s) instrument, detector"},
		{"an id makes every dimension unnecessary", "{run}/{id}", []string{"instrument", "exposure", "detector"}, ""},
		{"an optional id does not", "{run}/{id:?}", []string{"instrument"}, "dimension(s) instrument"},
		{"a dimension only inside an alternative does not count", "{run}/{instrument}/{visit|exposure}_{detector}", []string{"instrument", "exposure", "detector"}, "dimension(s) exposure"},
		{"an unknown record field is an error", "{run}/{instrument}/{exposure}_{detector}_{exposure.obs_idx:?}", []string{"instrument", "exposure", "detector"}, "no record field \"obs_idx\""},
		{"a known record field is fine", "{run}/{instrument}/{exposure}_{detector}_{exposure.obs_id}", []string{"instrument", "exposure", "detector"}, ""},
		{"an unknown dimension of the dataset type is an error", DefaultTemplate, []string{"expsoure"}, "unknown dimension"},
		{"a required field outside the expanded dimensions is an error", "{run}/{visit}/{instrument}_{exposure}_{detector}", []string{"instrument", "exposure", "detector"}, "field {visit} is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MustParseTemplate(tc.template).ValidateFor(nil, tc.dims)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if !strings.HasPrefix(err.Error(), "validate template ") {
		t.Errorf("error %q does not name the action", err)
	}
	if !strings.Contains(want, "unknown dimension") && !errors.Is(err, ErrTemplateMismatch) {
		t.Errorf("error %v does not wrap ErrTemplateMismatch", err)
	}
}
