package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DatasetType is a named kind of dataset: its dimensions (the required
// closure, in universe order), storage class and whether it is a calibration.
type DatasetType struct {
	Name          string   `json:"name"`
	Dimensions    []string `json:"dimensions"`
	StorageClass  string   `json:"storage_class"`
	IsCalibration bool     `json:"is_calibration"`
}

var (
	datasetTypeNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	storageClassNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Equal reports whether two definitions are the same.
func (d DatasetType) Equal(o DatasetType) bool {
	return d.Name == o.Name && slices.Equal(d.Dimensions, o.Dimensions) && d.StorageClass == o.StorageClass && d.IsCalibration == o.IsCalibration
}

func (d DatasetType) String() string {
	cal := ""
	if d.IsCalibration {
		cal = ", calibration"
	}
	return fmt.Sprintf("%s(%s; %s%s)", d.Name, strings.Join(d.Dimensions, ", "), d.StorageClass, cal)
}

// NormalizeDatasetType validates a definition against the universe and puts
// its dimensions in canonical form (required closure, universe order).
func (r *Registry) NormalizeDatasetType(d DatasetType) (DatasetType, error) {
	if !datasetTypeNameRE.MatchString(d.Name) {
		return d, Errorf(ErrInvalid, "dataset type name %q: letters, digits and _, dot-separated components", d.Name)
	}
	if !storageClassNameRE.MatchString(d.StorageClass) {
		return d, Errorf(ErrInvalid, "dataset type %s: storage class %q is not a valid name", d.Name, d.StorageClass)
	}
	dims, err := r.universe.Required(d.Dimensions)
	if err != nil {
		return d, Errorf(ErrInvalid, "dataset type %s: %w", d.Name, err)
	}
	d.Dimensions = dims
	return d, nil
}

// DatasetTypes returns every registered dataset type, sorted by name.
func (s *Snapshot) DatasetTypes(ctx context.Context) ([]DatasetType, error) {
	all, _, err := s.datasetTypes(ctx)
	return slices.Clone(all), err
}

// datasetTypes reads the dataset types once per snapshot.
func (s *Snapshot) datasetTypes(ctx context.Context) ([]DatasetType, map[string]int, error) {
	si := s.idx
	si.mu.Lock()
	all, byName := si.types, si.typeIndex
	si.mu.Unlock()
	if byName != nil {
		return all, byName, nil
	}
	rows, err := s.Rows(ctx, TableDatasetTypes)
	if err != nil {
		return nil, nil, err
	}
	all = make([]DatasetType, 0, len(rows))
	for _, r := range rows {
		all = append(all, datasetTypeFromRow(r))
	}
	slices.SortFunc(all, func(a, b DatasetType) int { return strings.Compare(a.Name, b.Name) })
	byName = make(map[string]int, len(all))
	for i, d := range all {
		byName[d.Name] = i
	}
	si.mu.Lock()
	si.types, si.typeIndex = all, byName
	si.mu.Unlock()
	return all, byName, nil
}

// DatasetType returns one dataset type or ErrNotFound.
func (s *Snapshot) DatasetType(ctx context.Context, name string) (DatasetType, error) {
	all, byName, err := s.datasetTypes(ctx)
	if err != nil {
		return DatasetType{}, err
	}
	if i, ok := byName[name]; ok {
		return all[i], nil
	}
	return DatasetType{}, Errorf(ErrNotFound, "dataset type %q", name)
}

func datasetTypeFromRow(r Row) DatasetType {
	var dims []string
	if s := datasetTypesSchema.Str(r, "dimensions"); s != "" {
		dims = strings.Split(s, " ")
	}
	cal, _ := datasetTypesSchema.Get(r, "is_calibration").(bool)
	return DatasetType{Name: datasetTypesSchema.Str(r, "name"), Dimensions: dims,
		StorageClass: datasetTypesSchema.Str(r, "storage_class"), IsCalibration: cal}
}

// RegisterDatasetType adds a dataset type in tx. Registering an identical
// definition again changes nothing (added is false); a different definition
// under the same name is ErrConflict.
func RegisterDatasetType(tx *Tx, d DatasetType) (added bool, err error) {
	d, err = tx.Snapshot().reg.NormalizeDatasetType(d)
	if err != nil {
		return false, err
	}
	rows, err := tx.Snapshot().Rows(tx.Context(), TableDatasetTypes)
	if err != nil {
		return false, err
	}
	for _, r := range append(slices.Clip(rows), tx.Pending(TableDatasetTypes)...) {
		old := datasetTypeFromRow(r)
		if old.Name != d.Name {
			continue
		}
		if old.Equal(d) {
			return false, nil
		}
		return false, Errorf(ErrConflict, "dataset type %s is already registered as %s", d, old)
	}
	return true, tx.Insert(TableDatasetTypes, Row{d.Name, strings.Join(d.Dimensions, " "), d.StorageClass, d.IsCalibration})
}

// RegisterDatasetTypes registers dataset types in one commit.
func (r *Registry) RegisterDatasetTypes(ctx context.Context, ds ...DatasetType) (Result, error) {
	return r.Commit(ctx, "register-dataset-type", func(tx *Tx) error {
		var names []string
		for _, d := range ds {
			added, err := RegisterDatasetType(tx, d)
			if err != nil {
				return err
			}
			if added {
				names = append(names, d.Name)
			}
		}
		tx.Summarize("dataset_types", names)
		return nil
	})
}
