package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// DefaultTemplate names dataset files when a repository configures nothing
// else. It is DefaultTemplateFor(dimensions.Default()): every dimension of
// the default universe appears (optional), so paths are unique per dataset
// type, data ID and run; {run:/} keeps the '/' of hierarchical run names
// ("u/alice/DM-1234") as directories, and the file name ends with the run
// so that files copied out of the tree stay distinguishable.
const DefaultTemplate = "{run:/}/{datasetType}/{band:?}/{day_obs:?}/{group:?}/{physical_filter:?}/{visit:?}/{exposure:?}/" +
	"{datasetType}_{component:?}_{band:?}_{instrument:?}_{detector:?}_{exposure:?}_{visit:?}_{skymap:?}_{tract:?}_{patch:?}_{run}"

// directoryDims are the dimensions DefaultTemplateFor makes directories
// of, in this order, when the universe has them.
var directoryDims = []string{"band", "day_obs", "group", "physical_filter", "visit", "exposure"}

// groupingDims are implied "grouping" dimensions that DefaultTemplateFor
// leaves out of the file name (they are directories).
var groupingDims = []string{"band", "physical_filter", "day_obs", "group"}

// DefaultTemplateFor returns a default template for universe u (nil: the
// default universe) in which every dimension of u appears as an optional
// field, so paths are unique whatever the dataset type's dimensions:
// {run:/}/{datasetType}/ then directories for those of band, day_obs, group,
// physical_filter, visit and exposure that u has, then the file name
// {datasetType}_{component:?}_{band:?}_ followed by the other dimensions in
// universe order and {run}.
func DefaultTemplateFor(u *dimensions.Universe) string {
	if u == nil {
		u = dimensions.Default()
	}
	names := u.Names()
	var b strings.Builder
	b.WriteString("{run:/}/{datasetType}/")
	for _, d := range directoryDims {
		if slices.Contains(names, d) {
			fmt.Fprintf(&b, "{%s:?}/", d)
		}
	}
	b.WriteString("{datasetType}_{component:?}")
	if slices.Contains(names, "band") {
		b.WriteString("_{band:?}")
	}
	for _, d := range names {
		if !slices.Contains(groupingDims, d) {
			fmt.Fprintf(&b, "_{%s:?}", d)
		}
	}
	b.WriteString("_{run}")
	return b.String()
}

// Templates selects the file template of a dataset. It is the "templates"
// section of a repository configuration.
type Templates struct {
	Default        string            `yaml:"default,omitempty" json:"default,omitempty"`               // "": DefaultTemplate
	ByDatasetType  map[string]string `yaml:"datasetTypes,omitempty" json:"datasetTypes,omitempty"`     // dataset type name -> template
	ByStorageClass map[string]string `yaml:"storageClasses,omitempty" json:"storageClasses,omitempty"` // storage class name -> template
}

// For returns the template of a dataset: the one configured for its dataset
// type name (for a component "calexp.wcs", the full name first, then the
// parent "calexp"), else the one for its storage class, else the default.
func (ts Templates) For(datasetType, storageClass string) (*Template, error) {
	text, source := ts.lookup(datasetType, storageClass)
	t, err := ParseTemplate(text)
	if err != nil {
		return nil, fmt.Errorf("template for dataset type %s (%s): %w", datasetType, source, err)
	}
	return t, nil
}

func (ts Templates) lookup(datasetType, storageClass string) (text, source string) {
	if s, ok := ts.ByDatasetType[datasetType]; ok {
		return s, "configured for dataset type " + datasetType
	}
	if parent, _, isComp := strings.Cut(datasetType, "."); isComp {
		if s, ok := ts.ByDatasetType[parent]; ok {
			return s, "configured for dataset type " + parent
		}
	}
	if s, ok := ts.ByStorageClass[storageClass]; ok {
		return s, "configured for storage class " + storageClass
	}
	if ts.Default != "" {
		return ts.Default, "configured default"
	}
	return DefaultTemplate, "built-in default"
}

// Check parses every configured template and reports all that fail.
func (ts Templates) Check() error {
	var errs []error
	check := func(what, s string) {
		if _, err := ParseTemplate(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	if ts.Default != "" {
		check("default template", ts.Default)
	}
	for _, k := range sortedKeys(ts.ByDatasetType) {
		check("template of dataset type "+k, ts.ByDatasetType[k])
	}
	for _, k := range sortedKeys(ts.ByStorageClass) {
		check("template of storage class "+k, ts.ByStorageClass[k])
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
