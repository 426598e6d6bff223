package butler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// QBBInput is one predicted input of a quantum: the dataset and its
// datastore record, as the graph resolved them at plan time.
type QBBInput struct {
	Connection   string
	Index        int
	Ref          registry.DatasetRef
	File         registry.FileRecord
	StorageClass string
	Required     bool // a missing required input fails the quantum
}

// QBBOutput is one predicted output: its ref and its datastore path.
type QBBOutput struct {
	Connection   string
	Index        int
	Ref          registry.DatasetRef
	URI          string // relative to ROOT/datastore
	Formatter    string
	StorageClass string
}

// QuantumBackedButler is the limited butler a quantum runs with: built only
// from the quantum's predicted inputs (with their datastore records) and
// predicted outputs. It never reads or writes the registry; it records
// which inputs were available, which were actually read or marked unused,
// and which outputs were written (with size and checksum). Safe for
// concurrent use by one task's goroutines.
type QuantumBackedButler struct {
	store   objstore.Store
	inputs  map[string][]QBBInput
	outputs map[string][]QBBOutput

	mu        sync.Mutex
	available map[string]bool // dataset ID -> exists
	actual    map[string]bool // dataset ID -> read
	unused    map[string]bool
	written   map[string]registry.FileRecord // dataset ID -> record of what was written
}

// NewQBB builds a quantum-backed butler on a repository's store.
func NewQBB(store objstore.Store, inputs []QBBInput, outputs []QBBOutput) *QuantumBackedButler {
	q := &QuantumBackedButler{store: store, inputs: map[string][]QBBInput{}, outputs: map[string][]QBBOutput{},
		available: map[string]bool{}, actual: map[string]bool{}, unused: map[string]bool{}, written: map[string]registry.FileRecord{}}
	for _, in := range inputs {
		q.inputs[in.Connection] = append(q.inputs[in.Connection], in)
	}
	for _, out := range outputs {
		q.outputs[out.Connection] = append(q.outputs[out.Connection], out)
	}
	return q
}

// ErrMissingInput: a predicted input's file is not where its record says.
var ErrMissingInput = errors.New("missing input")

func (q *QuantumBackedButler) input(conn string, index int) (QBBInput, error) {
	ins := q.inputs[conn]
	if index < 0 || index >= len(ins) {
		return QBBInput{}, fmt.Errorf("input %s[%d]: the quantum has %d refs for it", conn, index, len(ins))
	}
	return ins[index], nil
}

func (q *QuantumBackedButler) output(conn string, index int) (QBBOutput, error) {
	outs := q.outputs[conn]
	if index < 0 || index >= len(outs) {
		return QBBOutput{}, fmt.Errorf("output %s[%d]: the quantum predicts %d refs for it", conn, index, len(outs))
	}
	return outs[index], nil
}

// CheckInputs stats every predicted input and returns those that are
// missing; the others count as available. It never looks anywhere else for
// a missing input.
func (q *QuantumBackedButler) CheckInputs(ctx context.Context) ([]QBBInput, error) {
	var missing []QBBInput
	for _, ins := range q.inputs {
		for _, in := range ins {
			ok, err := q.exists(ctx, in.File)
			if err != nil {
				return nil, err
			}
			q.mu.Lock()
			q.available[in.Ref.ID] = ok
			q.mu.Unlock()
			if !ok {
				missing = append(missing, in)
			}
		}
	}
	return missing, nil
}

func (q *QuantumBackedButler) location(uri string) (objstore.Store, string, error) {
	if IsAbsoluteURI(uri) {
		return openObject(context.Background(), uri)
	}
	return q.store, DatastorePrefix + uri, nil
}

func (q *QuantumBackedButler) exists(ctx context.Context, f registry.FileRecord) (bool, error) {
	store, key, err := q.location(f.URI)
	if err != nil {
		return false, err
	}
	_, err = store.Stat(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Exists reports whether an input is available.
func (q *QuantumBackedButler) Exists(ctx context.Context, conn string, index int) (bool, error) {
	in, err := q.input(conn, index)
	if err != nil {
		return false, err
	}
	return q.exists(ctx, in.File)
}

// Get reads an input, checking its size and checksum.
func (q *QuantumBackedButler) Get(ctx context.Context, conn string, index int) (any, error) {
	data, in, err := q.GetBytes(ctx, conn, index)
	if err != nil {
		return nil, err
	}
	fm, err := datastore.LookupFormatter(in.File.Formatter)
	if err != nil {
		return nil, err
	}
	obj, err := fm.Read(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.File.URI, err)
	}
	return obj, nil
}

// GetBytes reads the stored bytes of an input.
func (q *QuantumBackedButler) GetBytes(ctx context.Context, conn string, index int) ([]byte, QBBInput, error) {
	in, err := q.input(conn, index)
	if err != nil {
		return nil, in, err
	}
	store, key, err := q.location(in.File.URI)
	if err != nil {
		return nil, in, err
	}
	data, err := store.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, in, fmt.Errorf("%s %s (%s): %w", in.Ref.DatasetType, in.Ref.DataID, in.File.URI, ErrMissingInput)
	}
	if err != nil {
		return nil, in, err
	}
	if int64(len(data)) != in.File.Size {
		return nil, in, fmt.Errorf("input %s has %d bytes, its record says %d", in.File.URI, len(data), in.File.Size)
	}
	if in.File.Checksum != "" && !isETagChecksum(in.File.Checksum) {
		if err := datastore.VerifyChecksum(data, in.File.Checksum); err != nil {
			return nil, in, fmt.Errorf("input %s: %w", in.File.URI, err)
		}
	}
	q.mu.Lock()
	q.actual[in.Ref.ID] = true
	q.available[in.Ref.ID] = true
	q.mu.Unlock()
	return data, in, nil
}

// StageInput copies an input's file into dir and returns its path (for
// tasks that run external programs).
func (q *QuantumBackedButler) StageInput(ctx context.Context, conn string, index int, dir string) (string, error) {
	data, in, err := q.GetBytes(ctx, conn, index)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("%s_%d_%s", conn, index, filepath.Base(in.File.URI)))
	return p, os.WriteFile(p, data, 0o644)
}

// Put writes an output at its predicted path.
func (q *QuantumBackedButler) Put(ctx context.Context, obj any, conn string, index int) error {
	out, err := q.output(conn, index)
	if err != nil {
		return err
	}
	fm, err := datastore.FormatterFor(out.StorageClass, out.Formatter)
	if err != nil {
		return err
	}
	data, err := fm.Write(obj)
	if err != nil {
		return fmt.Errorf("put %s %s: %w", out.Ref.DatasetType, out.Ref.DataID, err)
	}
	return q.putBytes(ctx, out, fm.Name(), data)
}

// PutFile writes a local file as an output (written by an external program).
func (q *QuantumBackedButler) PutFile(ctx context.Context, path, conn string, index int) error {
	out, err := q.output(conn, index)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	name := out.Formatter
	if name == "" {
		fm, err := datastore.FormatterFor(out.StorageClass, "")
		if err != nil {
			return err
		}
		name = fm.Name()
	}
	return q.putBytes(ctx, out, name, data)
}

func (q *QuantumBackedButler) putBytes(ctx context.Context, out QBBOutput, formatter string, data []byte) error {
	key := DatastorePrefix + out.URI
	if _, err := q.store.Put(ctx, key, data); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	q.mu.Lock()
	q.written[out.Ref.ID] = registry.FileRecord{DatasetID: out.Ref.ID, DatasetType: out.Ref.DatasetType, URI: out.URI,
		Formatter: formatter, StorageClass: out.StorageClass, Size: int64(len(data)), Checksum: datastore.Checksum(data)}
	q.mu.Unlock()
	return nil
}

// MarkInputUnused records that the task did not use an input.
func (q *QuantumBackedButler) MarkInputUnused(conn string, index int) {
	if in, err := q.input(conn, index); err == nil {
		q.mu.Lock()
		q.unused[in.Ref.ID] = true
		q.mu.Unlock()
	}
}

// Inputs returns the predicted inputs of a connection.
func (q *QuantumBackedButler) Inputs(conn string) []QBBInput { return q.inputs[conn] }

// Outputs returns the predicted outputs of a connection.
func (q *QuantumBackedButler) Outputs(conn string) []QBBOutput { return q.outputs[conn] }

// Record is what the QBB saw: per input whether it was available and
// actually used; the records of the outputs written.
type Record struct {
	Available map[string]bool
	Actual    map[string]bool // read and not marked unused
	Written   map[string]registry.FileRecord
}

// Record returns a copy of what the QBB has recorded so far.
func (q *QuantumBackedButler) Record() Record {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := Record{Available: map[string]bool{}, Actual: map[string]bool{}, Written: map[string]registry.FileRecord{}}
	for k, v := range q.available {
		r.Available[k] = v
	}
	for k := range q.actual {
		if !q.unused[k] {
			r.Actual[k] = true
		}
	}
	for k, v := range q.written {
		r.Written[k] = v
	}
	return r
}
