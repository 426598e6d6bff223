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
	want := dataIDKeyString(e.KeyColumns(), key)
	for _, r := range tx.Pending(sch.Name) {
		if keyString(sch, e.KeyColumns(), r) == want {
			return rowToRecord(element, sch, r), true, nil
		}
	}
	return dimensions.Record{}, false, nil
}

var _ dimensions.RecordLookup = (*Tx)(nil)
