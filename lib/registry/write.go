package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skybutler/skybutler/lib/objstore"
)

// Result describes a finished Commit.
type Result struct {
	Version  int64 // the committed version, or the snapshot version for a no-op
	NoOp     bool  // the function recorded no edit: nothing was written
	Attempts int
}

// Commit runs fn against the newest snapshot and commits its edits as the
// next version. The protocol (DESIGN.md, "commit protocol"):
//
//  1. refresh to the newest snapshot N and run fn, which checks constraints
//     and records edits (an error from fn aborts with nothing written);
//  2. write the data files the edits need (immutable, fresh names);
//  3. write commit N+1 with PutIfAbsent — this is the visibility marker;
//  4. on losing the race, load the new commits and start again at 1, after a
//     jittered backoff. Data files of an earlier attempt are reused when the
//     retry produces the same content.
//
// Data files written but never committed (failure, lost race with different
// content) are deleted before Commit returns, so a failed Commit leaves the
// repository as it was. fn may run several times and must not have side
// effects outside the Tx.
func (r *Registry) Commit(ctx context.Context, op string, fn func(*Tx) error) (Result, error) {
	w := &writer{r: r, written: map[[32]byte]FileEntry{}, committed: map[string]bool{}}
	defer w.cleanup(context.WithoutCancel(ctx))
	log := r.log.With("op", op)
	for attempt := 1; ; attempt++ {
		if attempt > r.opts.MaxAttempts {
			return Result{}, Errorf(ErrTooManyAttempts, "commit %s: %d attempts", op, r.opts.MaxAttempts)
		}
		snap, err := r.Refresh(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("commit %s: %w", op, err)
		}
		tx := newTx(ctx, snap)
		if err := fn(tx); err != nil {
			return Result{}, err
		}
		if tx.Empty() {
			return Result{Version: snap.Version, NoOp: true, Attempts: attempt}, nil
		}
		c, err := w.build(ctx, op, tx)
		if err != nil {
			return Result{}, fmt.Errorf("commit %s: %w", op, err)
		}
		data, err := encodeCommit(c)
		if err != nil {
			return Result{}, fmt.Errorf("commit %s: %w", op, err)
		}
		key := commitKey(c.Version)
		_, err = r.store.PutIfAbsent(ctx, key, data)
		if err != nil && errors.Is(err, objstore.ErrPreconditionFailed) {
			// Lost the race — unless a retried write of our own already landed.
			if mine, merr := r.isOwnCommit(ctx, key, c.ID); merr == nil && mine {
				err = nil
			}
		}
		if err == nil {
			w.markCommitted(c)
			next, aerr := snap.apply(c)
			if aerr != nil {
				return Result{}, aerr
			}
			r.advance(next)
			log.Debug("committed", "version", c.Version, "attempt", attempt, "key", key)
			r.maybeCheckpoint(ctx, next)
			return Result{Version: c.Version, Attempts: attempt}, nil
		}
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return Result{}, fmt.Errorf("commit %s: write %s: %w", op, key, err)
		}
		log.Debug("commit race lost, retrying", "version", c.Version, "attempt", attempt)
		sleepBackoff(ctx, attempt)
	}
}

func (r *Registry) isOwnCommit(ctx context.Context, key, id string) (bool, error) {
	data, err := r.store.Get(ctx, key)
	if err != nil {
		return false, err
	}
	c, err := decodeCommit(key, data)
	if err != nil {
		return false, err
	}
	return c.ID == id, nil
}

func sleepBackoff(ctx context.Context, attempt int) {
	ceiling := time.Millisecond << min(attempt, 6)
	d := time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// writer writes the data files of one Commit call across its attempts.
type writer struct {
	r         *Registry
	written   map[[32]byte]FileEntry // content hash -> file written by an attempt
	committed map[string]bool
}

// build writes the data files of tx (one per table partition) and returns
// the commit that would make them visible as the next version.
func (w *writer) build(ctx context.Context, op string, tx *Tx) (*Commit, error) {
	version := tx.snap.Version + 1
	if len(tx.txn) > 0 {
		for _, k := range tx.txn {
			if err := tx.Insert(TableTxn, Row{k, version}); err != nil {
				return nil, err
			}
		}
	}
	c := &Commit{Version: version, ID: newID(), Time: now(), Operation: op, Txn: tx.txn}
	if len(tx.summary) > 0 {
		c.Summary = tx.summary
	}
	for _, table := range tx.touchedTables() {
		sch, err := w.r.Schema(table)
		if err != nil {
			return nil, err
		}
		te := TableEdit{Table: table}
		for p := range tx.removes[table] {
			te.Remove = append(te.Remove, p)
		}
		slices.Sort(te.Remove)
		groups, order := partitionRows(sch, tx.inserts[table])
		for _, pk := range order {
			g := groups[pk]
			f, err := w.writeFile(ctx, sch, g.partition, g.rows)
			if err != nil {
				return nil, err
			}
			te.Add = append(te.Add, f)
		}
		c.Tables = append(c.Tables, te)
	}
	return c, nil
}

func (w *writer) writeFile(ctx context.Context, sch *Schema, part map[string]string, rows []Row) (FileEntry, error) {
	data, err := encodeParquet(sch, rows)
	if err != nil {
		return FileEntry{}, err
	}
	h := sha256.New()
	h.Write([]byte(sch.Name))
	h.Write([]byte(partitionDir(sch, part)))
	h.Write(data)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if f, ok := w.written[sum]; ok {
		return f, nil
	}
	path := tablesPrefix + sch.Name + "/" + partitionDir(sch, part) + "part-" + newID() + ".parquet"
	if _, err := w.r.store.Put(ctx, path, data); err != nil {
		return FileEntry{}, fmt.Errorf("write %s: %w", path, err)
	}
	f := FileEntry{Path: path, Partition: part, Rows: int64(len(rows)), Size: int64(len(data))}
	w.written[sum] = f
	return f, nil
}

func (w *writer) markCommitted(c *Commit) {
	for _, te := range c.Tables {
		for _, f := range te.Add {
			w.committed[f.Path] = true
		}
	}
}

// cleanup deletes data files this Commit call wrote but did not commit.
func (w *writer) cleanup(ctx context.Context) {
	for _, f := range w.written {
		if w.committed[f.Path] {
			continue
		}
		if err := w.r.store.Delete(ctx, f.Path); err != nil {
			w.r.log.Warn("could not delete uncommitted data file", "key", f.Path, "err", err)
		}
	}
}

type partGroup struct {
	partition map[string]string
	rows      []Row
}

// partitionRows groups rows by the values of the schema's partition columns.
func partitionRows(sch *Schema, rows []Row) (map[string]*partGroup, []string) {
	groups := map[string]*partGroup{}
	var order []string
	for _, row := range rows {
		var part map[string]string
		if len(sch.PartitionBy) > 0 {
			part = map[string]string{}
			for _, c := range sch.PartitionBy {
				part[c] = partitionValue(sch.Get(row, c))
			}
		}
		k := partitionDir(sch, part)
		g, ok := groups[k]
		if !ok {
			g = &partGroup{partition: part}
			groups[k] = g
			order = append(order, k)
		}
		g.rows = append(g.rows, row)
	}
	slices.Sort(order)
	return groups, order
}

func partitionValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "__null__"
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// partitionDir is the Hive-style directory of a partition ("k=v/"), with
// values escaped so that no value can add a path level or escape the table.
func partitionDir(sch *Schema, part map[string]string) string {
	var b strings.Builder
	for _, c := range sch.PartitionBy {
		b.WriteString(c)
		b.WriteByte('=')
		b.WriteString(escapePartition(part[c]))
		b.WriteByte('/')
	}
	return b.String()
}

func escapePartition(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (c == '.' && i > 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() == 0 {
		return "%00"
	}
	return b.String()
}

func newID() string { return uuid.NewString() }

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
