package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// recordIndex maps the key string of each record of one element to its row.
type recordIndex map[string]Row

// keyString is a canonical text of the key columns of a record.
func keyString(sch *Schema, keyCols []string, r Row) string {
	buf := make([]byte, 0, 32)
	for i, c := range keyCols {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = appendValue(buf, sch.Get(r, c))
	}
	return string(buf)
}

func dataIDKeyString(keyCols []string, id map[string]any) string {
	buf := make([]byte, 0, 32)
	for i, c := range keyCols {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = appendValue(buf, id[c])
	}
	return string(buf)
}

type snapshotIndexes struct {
	mu        sync.Mutex
	records   map[string]recordIndex
	datasets  map[string]*datasetIndex
	calibs    map[string]map[string][]calibEntry
	tags      map[string][]string
	txn       map[string]int64
	types     []DatasetType
	typeIndex map[string]int
}

func newSnapshotIndexes() *snapshotIndexes {
	return &snapshotIndexes{records: map[string]recordIndex{}, datasets: map[string]*datasetIndex{}}
}

func (s *Snapshot) recordIndex(ctx context.Context, element string) (recordIndex, *Schema, error) {
	e, ok := s.reg.universe.Element(element)
	if !ok {
		return nil, nil, Errorf(ErrNotFound, "dimension element %q", element)
	}
	sch, err := s.reg.Schema(DimensionTablePrefix + element)
	if err != nil {
		return nil, nil, err
	}
	si := s.idx
	si.mu.Lock()
	defer si.mu.Unlock()
	if idx, ok := si.records[element]; ok {
		return idx, sch, nil
	}
	rows, err := s.Rows(ctx, sch.Name)
	if err != nil {
		return nil, nil, err
	}
	idx := make(recordIndex, len(rows))
	keys := e.KeyColumns()
	for _, r := range rows {
		idx[keyString(sch, keys, r)] = r
	}
	si.records[element] = idx
	return idx, sch, nil
}

func rowToRecord(element string, sch *Schema, r Row) dimensions.Record {
	vals := make(map[string]any, len(sch.Columns))
	for i, c := range sch.Columns {
		vals[c.Name] = r[i]
	}
	return dimensions.Record{Element: element, Values: vals}
}

func recordToRow(sch *Schema, rec dimensions.Record) Row {
	row := make(Row, len(sch.Columns))
	for i, c := range sch.Columns {
		v := rec.Values[c.Name]
		switch x := v.(type) {
		case int:
			v = int64(x)
		case time.Time:
			v = x.UTC()
		}
		row[i] = v
	}
	return row
}

// DimensionRecords returns the records of one element, sorted by key.
func (s *Snapshot) DimensionRecords(ctx context.Context, element string) ([]dimensions.Record, error) {
	idx, sch, err := s.recordIndex(ctx, element)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]dimensions.Record, 0, len(keys))
	for _, k := range keys {
		out = append(out, rowToRecord(element, sch, idx[k]))
	}
	sortRecords(out, sch)
	return out, nil
}

// sortRecords orders records by their key columns, numerically for ints.
func sortRecords(recs []dimensions.Record, sch *Schema) {
	slices.SortStableFunc(recs, func(a, b dimensions.Record) int {
		for _, c := range sch.Columns {
			av, bv := a.Values[c.Name], b.Values[c.Name]
			if c := compareValues(av, bv); c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return int(min(max(x-y, -1), 1))
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// LookupRecord finds the record of an element by its key values; it makes a
// Snapshot a dimensions.RecordLookup.
func (s *Snapshot) LookupRecord(element string, key dimensions.DataID) (dimensions.Record, bool, error) {
	idx, sch, err := s.recordIndex(context.Background(), element)
	if err != nil {
		return dimensions.Record{}, false, err
	}
	e, _ := s.reg.universe.Element(element)
	r, ok := idx[dataIDKeyString(e.KeyColumns(), key)]
	if !ok {
		return dimensions.Record{}, false, nil
	}
	return rowToRecord(element, sch, r), true, nil
}

var _ dimensions.RecordLookup = (*Snapshot)(nil)

// InsertDimensionRecords adds records of one element in tx. A record whose
// key exists with identical values is skipped; with other values it is
// ErrConflict. Every required and implied dimension a record names must have
// a record (already registered, or earlier in this Tx). It returns how many
// records are new.
func InsertDimensionRecords(tx *Tx, element string, recs []dimensions.Record) (int, error) {
	ctx := tx.Context()
	u := tx.Snapshot().reg.universe
	e, ok := u.Element(element)
	if !ok {
		return 0, Errorf(ErrNotFound, "dimension element %q", element)
	}
	idx, sch, err := tx.Snapshot().recordIndex(ctx, element)
	if err != nil {
		return 0, err
	}
	pending := tx.pendingRecords(sch, e.KeyColumns())
	n := 0
	for _, rec := range recs {
		row := recordToRow(sch, rec)
		if err := sch.Check(row); err != nil {
			return n, Errorf(ErrInvalid, "%s record: %w", element, err)
		}
		k := keyString(sch, e.KeyColumns(), row)
		old, ok := idx[k]
		if !ok {
			old, ok = pending[k]
		}
		if ok {
			if rowsEqual(old, row) {
				continue
			}
			return n, fmt.Errorf("%s record %s conflicts with the registered one: %w", element, describeKey(sch, e.KeyColumns(), row), ErrConflict)
		}
		for _, dep := range append(slices.Clone(e.Requires), e.Implies...) {
			if sch.Get(row, dep) == nil {
				if slices.Contains(e.Requires, dep) {
					return n, fmt.Errorf("%s record %s lacks %s: %w", element, describeKey(sch, e.KeyColumns(), row), dep, ErrInvalid)
				}
				continue
			}
			if err := requireRecord(tx, u, dep, sch, row); err != nil {
				return n, fmt.Errorf("%s record %s: %w", element, describeKey(sch, e.KeyColumns(), row), err)
			}
		}
		if err := tx.Insert(sch.Name, row); err != nil {
			return n, err
		}
		pending[k] = row
		tx.precs[sch.Name].rows++
		n++
	}
	return n, nil
}

// requireRecord checks that the record of dimension dep named by row exists.
func requireRecord(tx *Tx, u *dimensions.Universe, dep string, sch *Schema, row Row) error {
	de, ok := u.Element(dep)
	if !ok {
		return Errorf(ErrNotFound, "dimension %q", dep)
	}
	key := dimensions.DataID{}
	for _, c := range de.KeyColumns() {
		key[c] = sch.Get(row, c)
	}
	if _, ok, err := tx.Snapshot().LookupRecord(dep, key); err != nil || ok {
		return err
	}
	dsch, err := tx.Snapshot().reg.Schema(DimensionTablePrefix + dep)
	if err != nil {
		return err
	}
	if _, ok := tx.pendingRecords(dsch, de.KeyColumns())[dataIDKeyString(de.KeyColumns(), key)]; ok {
		return nil
	}
	return Errorf(ErrNotFound, "no %s record %s", dep, key)
}

func describeKey(sch *Schema, cols []string, r Row) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%s=%v", c, sch.Get(r, c))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func rowsEqual(a, b Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		at, aok := a[i].(time.Time)
		bt, bok := b[i].(time.Time)
		if aok && bok {
			if !at.Equal(bt) {
				return false
			}
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// InsertRecordSets inserts records of several elements, in the given order,
// in one commit.
func (r *Registry) InsertRecordSets(ctx context.Context, op string, recs []dimensions.Record) (Result, int, error) {
	var total int
	res, err := r.Commit(ctx, op, func(tx *Tx) error {
		total = 0
		counts := map[string]int{}
		for i := 0; i < len(recs); {
			j := i
			for j < len(recs) && recs[j].Element == recs[i].Element {
				j++
			}
			n, err := InsertDimensionRecords(tx, recs[i].Element, recs[i:j])
			if err != nil {
				return err
			}
			counts[recs[i].Element] += n
			total += n
			i = j
		}
		tx.Summarize("records", counts)
		return nil
	})
	return res, total, err
}
