package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
