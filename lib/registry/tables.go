package registry

import (
	"github.com/skybutler/skybutler/lib/dimensions"
)

// Names of the fixed registry tables.
const (
	TableCollections      = "collections"
	TableCollectionChains = "collection_chains"
	TableDatasetTypes     = "dataset_types"
	TableTxn              = "txn"
	// DimensionTablePrefix + element name is the table of that element's records.
	DimensionTablePrefix = "dimension_"
)

var (
	collectionsSchema = NewSchema(TableCollections, []Column{
		{"name", String}, {"type", String}, {"doc", String},
	})
	chainsSchema = NewSchema(TableCollectionChains, []Column{
		{"parent", String}, {"position", Int}, {"child", String},
	})
	datasetTypesSchema = NewSchema(TableDatasetTypes, []Column{
		{"name", String}, {"dimensions", String}, {"storage_class", String}, {"is_calibration", Bool},
	})
	txnSchema = NewSchema(TableTxn, []Column{
		{"key", String}, {"version", Int},
	})
)

// buildSchemas returns every table schema of a universe.
func buildSchemas(u *dimensions.Universe) map[string]*Schema {
	out := map[string]*Schema{}
	for _, s := range []*Schema{collectionsSchema, chainsSchema, datasetTypesSchema, txnSchema} {
		out[s.Name] = s
	}
	for _, e := range u.Elements() {
		var cols []Column
		for _, f := range e.Columns() {
			cols = append(cols, Column{Name: f.Name, Type: columnType(f.Type)})
		}
		name := DimensionTablePrefix + e.Name
		out[name] = NewSchema(name, cols)
	}
	return out
}

func columnType(t dimensions.FieldType) ColumnType {
	switch t {
	case dimensions.FieldType("int"):
		return Int
	case dimensions.FieldType("float"):
		return Float
	case dimensions.FieldType("bool"):
		return Bool
	case dimensions.FieldType("timestamp"):
		return Timestamp
	default:
		return String
	}
}

// Schema returns the schema of a registry table.
func (r *Registry) Schema(table string) (*Schema, error) {
	s, ok := r.schemas[table]
	if !ok {
		return nil, Errorf(ErrNotFound, "table %q", table)
	}
	return s, nil
}
