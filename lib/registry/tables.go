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
	TableDatasets         = "datasets"
	TableFiles            = "files"
	TableTags             = "tags"
	TableCalibs           = "calibs"
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
	filesSchema = NewSchema(TableFiles, []Column{
		{"dataset_id", String}, {"dataset_type", String}, {"uri", String}, {"formatter", String},
		{"storage_class", String}, {"component", String}, {"size", Int}, {"checksum", String},
	}, "dataset_type")
	tagsSchema = NewSchema(TableTags, []Column{
		{"collection", String}, {"dataset_id", String}, {"dataset_type", String},
	})
	calibsSchema = NewSchema(TableCalibs, []Column{
		{"collection", String}, {"dataset_id", String}, {"dataset_type", String},
		{"valid_begin", Timestamp}, {"valid_end", Timestamp},
	})
)

// datasetsSchema: one row per dataset, one nullable column per dimension of
// the universe (the data ID, required and implied keys), partitioned by
// dataset type.
func datasetsSchema(u *dimensions.Universe) *Schema {
	cols := []Column{{"dataset_id", String}, {"dataset_type", String}, {"run", String}, {"ingest_time", Timestamp}}
	for _, name := range u.Names() {
		cols = append(cols, Column{Name: name, Type: columnType(u.KeyType(name))})
	}
	return NewSchema(TableDatasets, cols, "dataset_type")
}

// buildSchemas returns every table schema of a universe.
func buildSchemas(u *dimensions.Universe) map[string]*Schema {
	out := map[string]*Schema{}
	for _, s := range []*Schema{collectionsSchema, chainsSchema, datasetTypesSchema, txnSchema, filesSchema, tagsSchema, calibsSchema} {
		out[s.Name] = s
	}
	out[TableDatasets] = datasetsSchema(u)
	out[TableQuanta] = quantaSchema(u)
	out[TableQuantumInputs] = quantumInputsSchema
	out[TableQuantumOutputs] = quantumOutputsSchema
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
