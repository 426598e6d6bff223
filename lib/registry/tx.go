package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// Tx collects one commit's edits, computed against one snapshot. A commit
// function reads the snapshot, checks constraints and records edits on the
// Tx; if the commit loses the race the function runs again on the newer
// snapshot with a fresh Tx. Nothing is written until the function returns nil.
type Tx struct {
	ctx     context.Context
	snap    *Snapshot
	inserts map[string][]Row           // table -> rows to write in new files
	removes map[string]map[string]bool // table -> live paths to remove
	txn     []string
	txnSet  map[string]bool
	summary map[string]any
	// gen counts deletions per table: caches of pending rows are rebuilt
	// when it moves.
	gen   map[string]int
	pds   *pendingDatasetIndex
	precs map[string]*pendingRecordIndex
}

// pendingRecordIndex indexes the dimension records a Tx inserts into one
// element's table, by key string, incrementally like pendingDatasetIndex.
type pendingRecordIndex struct {
	byKey map[string]Row
	rows  int
	gen   int
}

func (tx *Tx) pendingRecords(sch *Schema, keyCols []string) map[string]Row {
	rows := tx.Pending(sch.Name)
	if tx.precs == nil {
		tx.precs = map[string]*pendingRecordIndex{}
	}
	p := tx.precs[sch.Name]
	if p == nil || p.gen != tx.gen[sch.Name] || p.rows > len(rows) {
		p = &pendingRecordIndex{byKey: map[string]Row{}, gen: tx.gen[sch.Name]}
		tx.precs[sch.Name] = p
	}
	for _, r := range rows[p.rows:] {
		p.byKey[keyString(sch, keyCols, r)] = r
	}
	p.rows = len(rows)
	return p.byKey
}

// pendingDatasetIndex indexes the datasets rows a Tx inserts: keys
// (type \x00 run \x00 data ID) and IDs; rows is how many pending rows it
// covers, gen the deletion count it was built at.
type pendingDatasetIndex struct {
	keys map[string]string
	ids  map[string]bool
	rows int
	gen  int
}

// pendingDatasets returns the index of pending dataset rows, bringing it
// up to date incrementally (or rebuilding it after a deletion).
func (tx *Tx) pendingDatasets(dsch *Schema) (*pendingDatasetIndex, error) {
	rows := tx.Pending(TableDatasets)
	p := tx.pds
	if p == nil || p.gen != tx.gen[TableDatasets] || p.rows > len(rows) {
		p = &pendingDatasetIndex{keys: map[string]string{}, ids: map[string]bool{}, gen: tx.gen[TableDatasets]}
		tx.pds = p
	}
	for _, r := range rows[p.rows:] {
		id := dsch.Str(r, "dataset_id")
		p.ids[id] = true
		pdt, err := tx.DatasetType(dsch.Str(r, "dataset_type"))
		if err != nil {
			return nil, err
		}
		pid := dimensions.DataID{}
		for _, n := range pdt.Dimensions {
			if v := dsch.Get(r, n); v != nil {
				pid[n] = v
			}
		}
		p.keys[pdt.Name+"\x00"+dsch.Str(r, "run")+"\x00"+dataIDKey(pdt.Dimensions, pid)] = id
	}
	p.rows = len(rows)
	return p, nil
}

func newTx(ctx context.Context, s *Snapshot) *Tx {
	return &Tx{ctx: ctx, snap: s, inserts: map[string][]Row{}, removes: map[string]map[string]bool{}, summary: map[string]any{}}
}

// Snapshot is the state the edits are computed against.
func (tx *Tx) Snapshot() *Snapshot { return tx.snap }

// Context of the commit.
func (tx *Tx) Context() context.Context { return tx.ctx }

// Insert adds rows to a table.
func (tx *Tx) Insert(table string, rows ...Row) error {
	sch, err := tx.snap.reg.Schema(table)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := sch.Check(r); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	tx.inserts[table] = append(tx.inserts[table], rows...)
	return nil
}

// Pending returns the rows inserted into a table by this Tx so far.
func (tx *Tx) Pending(table string) []Row { return tx.inserts[table] }

// DeleteWhere removes the rows of a table (live or pending) for which match
// is true, copy-on-write: every live file holding a match is removed and its
// other rows are written again. It returns how many rows matched.
func (tx *Tx) DeleteWhere(table string, match func(Row) bool) (int, error) {
	sch, err := tx.snap.reg.Schema(table)
	if err != nil {
		return 0, err
	}
	n := 0
	kept := tx.inserts[table][:0:0]
	for _, r := range tx.inserts[table] {
		if match(r) {
			n++
		} else {
			kept = append(kept, r)
		}
	}
	tx.inserts[table] = kept
	if tx.gen == nil {
		tx.gen = map[string]int{}
	}
	tx.gen[table]++
	for _, f := range tx.snap.Files(table) {
		if tx.removes[table][f.Path] {
			continue
		}
		rows, err := tx.snap.reg.fileRows(tx.ctx, sch, f)
		if err != nil {
			return 0, err
		}
		var survivors []Row
		hit := 0
		for _, r := range rows {
			if match(r) {
				hit++
			} else {
				survivors = append(survivors, r)
			}
		}
		if hit == 0 {
			continue
		}
		n += hit
		tx.removeFile(table, f.Path)
		tx.inserts[table] = append(tx.inserts[table], survivors...)
	}
	return n, nil
}

// Rewrite removes the given live files of a table and writes their rows
// again (compaction: no data change).
func (tx *Tx) Rewrite(table string, files []FileEntry) error {
	sch, err := tx.snap.reg.Schema(table)
	if err != nil {
		return err
	}
	for _, f := range files {
		rows, err := tx.snap.reg.fileRows(tx.ctx, sch, f)
		if err != nil {
			return err
		}
		tx.removeFile(table, f.Path)
		tx.inserts[table] = append(tx.inserts[table], rows...)
	}
	return nil
}

func (tx *Tx) removeFile(table, path string) {
	if tx.removes[table] == nil {
		tx.removes[table] = map[string]bool{}
	}
	tx.removes[table][path] = true
}

// AddTxn records an idempotency key. It reports false, recording nothing,
// when the key is already committed or already in this Tx.
func (tx *Tx) AddTxn(key string) (bool, error) {
	done, err := tx.snap.HasTxn(tx.ctx, key)
	if err != nil || done || tx.txnSet[key] {
		return false, err
	}
	if tx.txnSet == nil {
		tx.txnSet = map[string]bool{}
	}
	tx.txnSet[key] = true
	tx.txn = append(tx.txn, key)
	return true, nil
}

// Summarize adds a key to the commit's operation summary.
func (tx *Tx) Summarize(key string, value any) { tx.summary[key] = value }

// Empty reports whether the Tx changes nothing.
func (tx *Tx) Empty() bool {
	for _, rows := range tx.inserts {
		if len(rows) > 0 {
			return false
		}
	}
	for _, rm := range tx.removes {
		if len(rm) > 0 {
			return false
		}
	}
	return len(tx.txn) == 0
}

// touchedTables lists the tables the Tx edits, sorted.
func (tx *Tx) touchedTables() []string {
	set := map[string]bool{}
	for t, rows := range tx.inserts {
		if len(rows) > 0 {
			set[t] = true
		}
	}
	for t, rm := range tx.removes {
		if len(rm) > 0 {
			set[t] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
