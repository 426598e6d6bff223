package registry

import "github.com/skybutler/skybutler/lib/dimensions"

// LookupRecord finds a dimension record in the snapshot or among the rows
// this Tx inserts; it makes a Tx a dimensions.RecordLookup, so data IDs can
// name records created in the same commit (ingest).
func (tx *Tx) LookupRecord(element string, key dimensions.DataID) (dimensions.Record, bool, error) {
	rec, ok, err := tx.snap.LookupRecord(element, key)
	if err != nil || ok {
		return rec, ok, err
	}
	e, ok := tx.snap.reg.universe.Element(element)
	if !ok {
		return dimensions.Record{}, false, nil
	}
	sch, err := tx.snap.reg.Schema(DimensionTablePrefix + element)
	if err != nil {
		return dimensions.Record{}, false, err
	}
	if r, ok := tx.pendingRecords(sch, e.KeyColumns())[dataIDKeyString(e.KeyColumns(), key)]; ok {
		return rowToRecord(element, sch, r), true, nil
	}
	return dimensions.Record{}, false, nil
}

var _ dimensions.RecordLookup = (*Tx)(nil)

// DatasetType finds a dataset type in the snapshot or among those this Tx
// registers.
func (tx *Tx) DatasetType(name string) (DatasetType, error) {
	for _, r := range tx.Pending(TableDatasetTypes) {
		if d := datasetTypeFromRow(r); d.Name == name {
			return d, nil
		}
	}
	return tx.snap.DatasetType(tx.ctx, name)
}
