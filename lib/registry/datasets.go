package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// DatasetRef identifies one dataset: its UUID, type, data ID and RUN.
type DatasetRef struct {
	ID          string            `json:"id"`
	DatasetType string            `json:"dataset_type"`
	Run         string            `json:"run"`
	DataID      dimensions.DataID `json:"data_id"`
}

// FileRecord is the datastore record of a dataset: where its file is and how
// to read and check it. URI is relative to the datastore root
// (ROOT/datastore/) unless it has a scheme (direct ingest).
type FileRecord struct {
	DatasetID    string `json:"dataset_id"`
	DatasetType  string `json:"dataset_type"`
	URI          string `json:"uri"`
	Formatter    string `json:"formatter"`
	StorageClass string `json:"storage_class"`
	Component    string `json:"component,omitempty"`
	Size         int64  `json:"size"`
	Checksum     string `json:"checksum"`
}

// datasetNamespace is the UUIDv5 namespace of deterministic dataset IDs.
var datasetNamespace = uuid.MustParse("6f2b7a56-3d0e-5c8e-9a57-2b6c1d0e9f41")

// DeterministicID is the UUIDv5 of (dataset type, data ID, run): the same
// dataset always gets the same ID, so a retried ingest cannot duplicate it.
func DeterministicID(datasetType string, dims []string, dataID dimensions.DataID, run string) string {
	return uuid.NewSHA1(datasetNamespace, []byte(datasetType+"\x00"+dataIDKey(dims, dataID)+"\x00"+run)).String()
}

// NewDatasetID is a random UUIDv4 (pipeline outputs).
func NewDatasetID() string { return uuid.NewString() }

// dataIDKey is the canonical text of the values of dims in a data ID.
func dataIDKey(dims []string, id dimensions.DataID) string {
	buf := make([]byte, 0, 16*len(dims))
	for i, d := range dims {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, d...)
		buf = append(buf, '=')
		buf = appendValue(buf, id[d])
	}
	return string(buf)
}

// appendValue appends the text of a data ID value (as fmt's %v would).
func appendValue(buf []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case string:
		return append(buf, x...)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case nil:
		return append(buf, "<nil>"...)
	default:
		return fmt.Append(buf, x)
	}
}

// datasetIndex holds the datasets of one type at one snapshot.
type datasetIndex struct {
	dt    DatasetType
	refs  []DatasetRef
	byID  map[string]int
	byKey map[string]int // run \x00 data ID key -> index
}

func (s *Snapshot) datasetIndex(ctx context.Context, datasetType string) (*datasetIndex, error) {
	si := s.idx
	si.mu.Lock()
	if idx, ok := si.datasets[datasetType]; ok {
		si.mu.Unlock()
		return idx, nil
	}
	si.mu.Unlock()
	dt, err := s.DatasetType(ctx, datasetType)
	if err != nil {
		return nil, err
	}
	return s.buildDatasetIndex(ctx, dt)
}

func (s *Snapshot) buildDatasetIndex(ctx context.Context, dt DatasetType) (*datasetIndex, error) {
	datasetType := dt.Name
	sch, _ := s.reg.Schema(TableDatasets)
	rows, err := s.RowsIn(ctx, TableDatasets, map[string]string{"dataset_type": partitionValue(datasetType)})
	if err != nil {
		return nil, err
	}
	idx := &datasetIndex{dt: dt, refs: make([]DatasetRef, 0, len(rows)), byID: make(map[string]int, len(rows)), byKey: make(map[string]int, len(rows))}
	names := s.reg.universe.Names()
	for _, r := range rows {
		ref := DatasetRef{ID: sch.Str(r, "dataset_id"), DatasetType: datasetType, Run: sch.Str(r, "run"), DataID: dimensions.DataID{}}
		for _, n := range names {
			if v := sch.Get(r, n); v != nil {
				ref.DataID[n] = v
			}
		}
		idx.byID[ref.ID] = len(idx.refs)
		idx.byKey[ref.Run+"\x00"+dataIDKey(dt.Dimensions, ref.DataID)] = len(idx.refs)
		idx.refs = append(idx.refs, ref)
	}
	si := s.idx
	si.mu.Lock()
	si.datasets[datasetType] = idx
	si.mu.Unlock()
	return idx, nil
}

// Datasets returns every dataset of a type, in storage order.
func (s *Snapshot) Datasets(ctx context.Context, datasetType string) ([]DatasetRef, error) {
	idx, err := s.datasetIndex(ctx, datasetType)
	if err != nil {
		return nil, err
	}
	return idx.refs, nil
}

// DatasetByID finds a dataset by its UUID in any dataset type.
func (s *Snapshot) DatasetByID(ctx context.Context, id string) (DatasetRef, bool, error) {
	dts, err := s.DatasetTypes(ctx)
	if err != nil {
		return DatasetRef{}, false, err
	}
	for _, dt := range dts {
		idx, err := s.datasetIndex(ctx, dt.Name)
		if err != nil {
			return DatasetRef{}, false, err
		}
		if i, ok := idx.byID[id]; ok {
			return idx.refs[i], true, nil
		}
	}
	return DatasetRef{}, false, nil
}

// FileRecords returns the datastore records of datasets of one type, by
// dataset ID (a dataset may have several: components).
func (s *Snapshot) FileRecords(ctx context.Context, datasetType string) (map[string][]FileRecord, error) {
	rows, err := s.RowsIn(ctx, TableFiles, map[string]string{"dataset_type": partitionValue(datasetType)})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]FileRecord, len(rows))
	for _, r := range rows {
		f := fileRecordFromRow(r)
		out[f.DatasetID] = append(out[f.DatasetID], f)
	}
	return out, nil
}

func fileRecordFromRow(r Row) FileRecord {
	s := filesSchema
	return FileRecord{DatasetID: s.Str(r, "dataset_id"), DatasetType: s.Str(r, "dataset_type"), URI: s.Str(r, "uri"),
		Formatter: s.Str(r, "formatter"), StorageClass: s.Str(r, "storage_class"), Component: s.Str(r, "component"),
		Size: s.Int(r, "size"), Checksum: s.Str(r, "checksum")}
}

func fileRecordRow(f FileRecord) Row {
	var comp any
	if f.Component != "" {
		comp = f.Component
	}
	return Row{f.DatasetID, f.DatasetType, f.URI, f.Formatter, f.StorageClass, comp, f.Size, f.Checksum}
}

// NormalizeRef checks a dataset ref against the registry: the dataset type
// exists, the data ID is complete (implied values are filled from the
// records) and names registered records.
func (s *Snapshot) NormalizeRef(ctx context.Context, ref DatasetRef) (DatasetRef, DatasetType, error) {
	return s.normalizeRef(ctx, ref, s)
}

func (s *Snapshot) normalizeRef(ctx context.Context, ref DatasetRef, lookup dimensions.RecordLookup) (DatasetRef, DatasetType, error) {
	var dt DatasetType
	var err error
	if tx, ok := lookup.(*Tx); ok {
		dt, err = tx.DatasetType(ref.DatasetType)
	} else {
		dt, err = s.DatasetType(ctx, ref.DatasetType)
	}
	if err != nil {
		return ref, dt, err
	}
	id, err := s.reg.universe.NormalizeDataID(dt.Dimensions, ref.DataID, lookup)
	if err != nil {
		return ref, dt, Errorf(ErrInvalid, "dataset %s: %w", ref.DatasetType, err)
	}
	for _, d := range dt.Dimensions {
		e, _ := s.reg.universe.Element(d)
		key := dimensions.DataID{}
		for _, c := range e.KeyColumns() {
			key[c] = id[c]
		}
		if _, ok, err := lookup.LookupRecord(d, key); err != nil {
			return ref, dt, err
		} else if !ok {
			return ref, dt, Errorf(ErrNotFound, "dataset %s %s: no %s record %s", ref.DatasetType, id, d, key)
		}
	}
	ref.DataID = id
	return ref, dt, nil
}

// InsertOptions refine InsertDatasets.
type InsertOptions struct {
	// SkipExisting: a dataset whose (type, data ID, run) exists with the same
	// ID is skipped instead of refused (idempotent retries of ingest).
	SkipExisting bool
}

// InsertDatasets registers datasets born in their RUN collections, with
// their datastore records, in tx. (dataset type, data ID, run) must be
// unique and the run must be a RUN collection. It returns the refs inserted
// (normalized), in order.
func InsertDatasets(tx *Tx, refs []DatasetRef, files []FileRecord, opts InsertOptions) ([]DatasetRef, error) {
	ctx := tx.Context()
	snap := tx.Snapshot()
	set, err := loadCollectionSet(ctx, snap, tx)
	if err != nil {
		return nil, err
	}
	dsch, _ := snap.reg.Schema(TableDatasets)
	names := snap.reg.universe.Names()
	// Datasets already inserted in this Tx (by earlier calls) count for
	// uniqueness like those of this call; the Tx keeps their keys.
	pending, err := tx.pendingDatasets(dsch)
	if err != nil {
		return nil, err
	}
	pendingKeys, pendingIDs := pending.keys, pending.ids
	var out []DatasetRef
	skipped := map[string]bool{}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, ref := range refs {
		c, ok := set[ref.Run]
		if !ok {
			return nil, Errorf(ErrNotFound, "run collection %q", ref.Run)
		}
		if c.Type != Run {
			return nil, Errorf(ErrConflict, "collection %q is %s, datasets are born in RUN collections", ref.Run, c.Type)
		}
		nref, dt, err := snap.normalizeRef(ctx, ref, tx)
		if err != nil {
			return nil, err
		}
		if nref.ID == "" {
			return nil, Errorf(ErrInvalid, "dataset %s %s has no ID", ref.DatasetType, nref.DataID)
		}
		if _, err := uuid.Parse(nref.ID); err != nil {
			return nil, Errorf(ErrInvalid, "dataset ID %q is not a UUID", nref.ID)
		}
		idx, err := snap.datasetIndex(ctx, dt.Name)
		if errors.Is(err, ErrNotFound) {
			idx, err = &datasetIndex{dt: dt}, nil // registered in this Tx: no datasets yet
		}
		if err != nil {
			return nil, err
		}
		key := nref.Run + "\x00" + dataIDKey(dt.Dimensions, nref.DataID)
		if i, ok := idx.byKey[key]; ok {
			if opts.SkipExisting && idx.refs[i].ID == nref.ID {
				skipped[nref.ID] = true
				continue
			}
			return nil, Errorf(ErrConflict, "dataset %s %s already exists in run %s", dt.Name, nref.DataID, nref.Run)
		}
		if other, ok := pendingKeys[dt.Name+"\x00"+key]; ok {
			if opts.SkipExisting && other == nref.ID {
				skipped[nref.ID] = true
				continue
			}
			return nil, Errorf(ErrConflict, "dataset %s %s given twice for run %s", dt.Name, nref.DataID, nref.Run)
		}
		if pendingIDs[nref.ID] {
			return nil, Errorf(ErrConflict, "dataset ID %s given twice", nref.ID)
		}
		// IDs are checked within the dataset type: they are UUIDs (random, or
		// UUIDv5 of type, data ID and run), so they cannot meet across types,
		// and checking every type's index would build them all.
		if _, dup := idx.byID[nref.ID]; dup {
			return nil, Errorf(ErrConflict, "dataset ID %s already exists", nref.ID)
		}
		pendingKeys[dt.Name+"\x00"+key] = nref.ID
		pendingIDs[nref.ID] = true
		row := make(Row, len(dsch.Columns))
		row[0], row[1], row[2], row[3] = nref.ID, dt.Name, nref.Run, now
		for i, n := range names {
			if v, ok := nref.DataID[n]; ok {
				row[4+i] = v
			}
		}
		if err := tx.Insert(TableDatasets, row); err != nil {
			return nil, err
		}
		pending.rows++
		out = append(out, nref)
	}
	types := map[string]string{}
	for _, r := range out {
		types[r.ID] = r.DatasetType
	}
	seenFiles := map[FileRecord]bool{}
	for _, f := range files {
		dtName, ok := types[f.DatasetID]
		if !ok {
			if skipped[f.DatasetID] {
				continue
			}
			return nil, Errorf(ErrInvalid, "file record %s names dataset %s, which is not being inserted", f.URI, f.DatasetID)
		}
		f.DatasetType = dtName
		if seenFiles[f] {
			continue // the same dataset and file given twice
		}
		seenFiles[f] = true
		if err := tx.Insert(TableFiles, fileRecordRow(f)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Associate adds datasets to a TAGGED collection in tx; datasets already
// tagged are skipped. A tagged collection holds at most one dataset per
// (dataset type, data ID).
func Associate(tx *Tx, collection string, refs []DatasetRef) (int, error) {
	ctx := tx.Context()
	snap := tx.Snapshot()
	set, err := loadCollectionSet(ctx, snap, tx)
	if err != nil {
		return 0, err
	}
	c, ok := set[collection]
	if !ok {
		return 0, Errorf(ErrNotFound, "collection %q", collection)
	}
	if c.Type != Tagged {
		return 0, Errorf(ErrConflict, "collection %q is %s, not TAGGED", collection, c.Type)
	}
	rows, err := snap.Rows(ctx, TableTags)
	if err != nil {
		return 0, err
	}
	rows = append(slices.Clip(rows), tx.Pending(TableTags)...)
	have := map[string]bool{}
	haveKey := map[string]string{}
	for _, r := range rows {
		if tagsSchema.Str(r, "collection") != collection {
			continue
		}
		id := tagsSchema.Str(r, "dataset_id")
		have[id] = true
		if ref, ok, err := snap.DatasetByID(ctx, id); err == nil && ok {
			dt, _ := snap.DatasetType(ctx, ref.DatasetType)
			haveKey[ref.DatasetType+"\x00"+dataIDKey(dt.Dimensions, ref.DataID)] = id
		}
	}
	n := 0
	for _, ref := range refs {
		if have[ref.ID] {
			continue
		}
		stored, ok, err := snap.DatasetByID(ctx, ref.ID)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, Errorf(ErrNotFound, "dataset %s", ref.ID)
		}
		dt, _ := snap.DatasetType(ctx, stored.DatasetType)
		k := stored.DatasetType + "\x00" + dataIDKey(dt.Dimensions, stored.DataID)
		if other, ok := haveKey[k]; ok {
			return n, Errorf(ErrConflict, "collection %s already has %s %s (dataset %s)", collection, stored.DatasetType, stored.DataID, other)
		}
		haveKey[k] = ref.ID
		have[ref.ID] = true
		if err := tx.Insert(TableTags, Row{collection, ref.ID, stored.DatasetType}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
