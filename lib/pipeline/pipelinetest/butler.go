package pipelinetest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/pipeline"
)

// Dataset is one ref of a connection and, once there, its object.
type Dataset struct {
	Ref     pipeline.Ref
	Object  any
	Written bool // for outputs: Put or PutFile stored it
}

// Butler is an in-memory quantum butler. It is safe for concurrent use.
type Butler struct {
	mu      sync.Mutex
	conns   map[string]pipeline.Connection
	refs    map[string][]*Dataset
	unused  map[string][]int
	reads   map[string]int
	nextID  int
	logBuf  bytes.Buffer
	logger  *slog.Logger
	run     string
	quantum map[string]any
}

var (
	_ pipeline.QuantumButler = (*Butler)(nil)
	_ pipeline.FileButler    = (*Butler)(nil)
)

// New returns a butler for a quantum with data ID dataID of a task with
// the given connections. Each non-Multiple Output gets one predicted ref
// whose data ID is dataID restricted to the output's dimensions.
func New(conns []pipeline.Connection, dataID map[string]any) *Butler {
	b := &Butler{
		conns:   map[string]pipeline.Connection{},
		refs:    map[string][]*Dataset{},
		unused:  map[string][]int{},
		reads:   map[string]int{},
		run:     "test/run",
		quantum: maps.Clone(dataID),
	}
	b.logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &b.mu, w: &b.logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, c := range conns {
		b.conns[c.Name] = c
		if c.Kind == pipeline.Output && !c.Multiple {
			b.refs[c.Name] = []*Dataset{{Ref: b.newRef(c, project(dataID, c.Dimensions))}}
		}
	}
	return b
}

// ForTask returns a butler for a quantum of a pipeline task.
func ForTask(t *pipeline.TaskNode, dataID map[string]any) *Butler {
	return New(t.Connections, dataID)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func project(dataID map[string]any, dims []string) map[string]any {
	out := map[string]any{}
	for _, d := range dims {
		if v, ok := dataID[d]; ok {
			out[d] = v
		}
	}
	return out
}

func (b *Butler) newRef(c pipeline.Connection, dataID map[string]any) pipeline.Ref {
	b.nextID++
	return pipeline.Ref{DatasetType: c.DatasetType, DataID: maps.Clone(dataID), ID: fmt.Sprintf("ds-%04d", b.nextID), Run: b.run}
}

// AddInput adds a ref with obj to an input connection and returns its
// index.
func (b *Butler) AddInput(connection string, dataID map[string]any, obj any) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.conns[connection]
	if !ok || !c.Kind.IsInput() {
		panic(fmt.Sprintf("pipelinetest: %q is not an input connection", connection))
	}
	b.refs[connection] = append(b.refs[connection], &Dataset{Ref: b.newRef(c, dataID), Object: obj})
	return len(b.refs[connection]) - 1
}

// AddOutput predicts one more ref of an output connection (for Multiple
// outputs) and returns its index.
func (b *Butler) AddOutput(connection string, dataID map[string]any) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.conns[connection]
	if !ok || !c.Kind.IsOutput() {
		panic(fmt.Sprintf("pipelinetest: %q is not an output connection", connection))
	}
	b.refs[connection] = append(b.refs[connection], &Dataset{Ref: b.newRef(c, dataID)})
	return len(b.refs[connection]) - 1
}

func (b *Butler) dataset(connection string, index int, input bool) (pipeline.Connection, *Dataset, error) {
	c, ok := b.conns[connection]
	if !ok {
		return c, nil, fmt.Errorf("no connection %q", connection)
	}
	if c.Kind.IsInput() != input {
		return c, nil, fmt.Errorf("connection %s is an %s", connection, c.Kind)
	}
	refs := b.refs[connection]
	if index < 0 || index >= len(refs) {
		return c, nil, fmt.Errorf("connection %s has %d refs, no index %d", connection, len(refs), index)
	}
	return c, refs[index], nil
}

// Get returns an input's object.
func (b *Butler) Get(_ context.Context, connection string, index int) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, d, err := b.dataset(connection, index, true)
	if err != nil {
		return nil, fmt.Errorf("get %s[%d]: %w", connection, index, err)
	}
	b.reads[connection]++
	return d.Object, nil
}

type deferred struct {
	b          *Butler
	connection string
	index      int
}

func (d deferred) Get(ctx context.Context) (any, error) { return d.b.Get(ctx, d.connection, d.index) }

// GetDeferred returns a handle that calls Get.
func (b *Butler) GetDeferred(connection string, index int) pipeline.DeferredHandle {
	return deferred{b: b, connection: connection, index: index}
}

// Put stores an output after checking it against the connection's
// storage class; writing one ref twice is an error.
func (b *Butler) Put(_ context.Context, obj any, connection string, index int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, d, err := b.dataset(connection, index, false)
	if err != nil {
		return fmt.Errorf("put %s[%d]: %w", connection, index, err)
	}
	sc, err := datastore.LookupStorageClass(c.StorageClass)
	if err != nil {
		return fmt.Errorf("put %s[%d]: %w", connection, index, err)
	}
	if err := sc.Check(obj); err != nil {
		return fmt.Errorf("put %s[%d]: %w", connection, index, err)
	}
	if d.Written {
		return fmt.Errorf("put %s[%d]: already written", connection, index)
	}
	d.Object, d.Written = obj, true
	return nil
}

// Refs returns a connection's refs.
func (b *Butler) Refs(connection string) []pipeline.Ref {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []pipeline.Ref
	for _, d := range b.refs[connection] {
		r := d.Ref
		r.DataID = maps.Clone(r.DataID)
		out = append(out, r)
	}
	return out
}

// MarkInputUnused records an unused input.
func (b *Butler) MarkInputUnused(connection string, index int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Contains(b.unused[connection], index) {
		b.unused[connection] = append(b.unused[connection], index)
	}
}

// Log returns the quantum's logger (see LogText).
func (b *Butler) Log() *slog.Logger { return b.logger }

// StageInput writes an input into dir with its storage class's default
// formatter ([]byte of the Bytes storage class as it is).
func (b *Butler) StageInput(_ context.Context, connection string, index int, dir string) (string, error) {
	b.mu.Lock()
	c, d, err := b.dataset(connection, index, true)
	if err == nil {
		b.reads[connection]++
	}
	b.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("stage %s[%d]: %w", connection, index, err)
	}
	f, err := datastore.FormatterFor(c.StorageClass, "")
	if err != nil {
		return "", fmt.Errorf("stage %s[%d]: %w", connection, index, err)
	}
	data, err := f.Write(d.Object)
	if err != nil {
		return "", fmt.Errorf("stage %s[%d]: %w", connection, index, err)
	}
	p := filepath.Join(dir, fmt.Sprintf("%s_%d%s", c.DatasetType, index, f.Extension()))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("stage %s[%d]: %w", connection, index, err)
	}
	return p, nil
}

// PutFile reads a file with the output's formatter and stores the object.
func (b *Butler) PutFile(ctx context.Context, path, connection string, index int) error {
	b.mu.Lock()
	c, _, err := b.dataset(connection, index, false)
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("put file %s[%d]: %w", connection, index, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("put file %s[%d]: %w", connection, index, err)
	}
	f, err := datastore.FormatterFor(c.StorageClass, "")
	if err != nil {
		return fmt.Errorf("put file %s[%d]: %w", connection, index, err)
	}
	obj, err := f.Read(data)
	if err != nil {
		return fmt.Errorf("put file %s[%d]: %w", connection, index, err)
	}
	return b.Put(ctx, obj, connection, index)
}

// Output returns what was written to an output ref.
func (b *Butler) Output(connection string, index int) (any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	refs := b.refs[connection]
	if index < 0 || index >= len(refs) || !refs[index].Written {
		return nil, false
	}
	return refs[index].Object, true
}

// Written returns the connections with at least one written ref, sorted.
func (b *Butler) Written() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for name, refs := range b.refs {
		if slices.ContainsFunc(refs, func(d *Dataset) bool { return d.Written }) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Unused returns the indexes marked unused per connection.
func (b *Butler) Unused() map[string][]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]int{}
	for k, v := range b.unused {
		out[k] = slices.Clone(v)
	}
	return out
}

// Reads returns how many times each input connection was read (Get,
// deferred Get or StageInput).
func (b *Butler) Reads() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.reads)
}

// LogText returns what was logged, in slog's text format.
func (b *Butler) LogText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logBuf.String()
}

// Context returns a QuantumContext for running task t on this butler's
// quantum, with tmpDir as scratch space.
func (b *Butler) Context(t *pipeline.TaskNode, tmpDir string) pipeline.QuantumContext {
	return pipeline.QuantumContext{Label: t.Label, DataID: maps.Clone(b.quantum), Config: t.Config.Clone(), TmpDir: tmpDir}
}

// NoFiles hides the FileButler methods of b, so that tasks take their
// in-memory path.
func NoFiles(b *Butler) pipeline.QuantumButler { return noFiles{b} }

type noFiles struct{ b *Butler }

func (n noFiles) Get(ctx context.Context, c string, i int) (any, error) { return n.b.Get(ctx, c, i) }
func (n noFiles) GetDeferred(c string, i int) pipeline.DeferredHandle   { return n.b.GetDeferred(c, i) }
func (n noFiles) Put(ctx context.Context, obj any, c string, i int) error {
	return n.b.Put(ctx, obj, c, i)
}
func (n noFiles) Refs(c string) []pipeline.Ref    { return n.b.Refs(c) }
func (n noFiles) MarkInputUnused(c string, i int) { n.b.MarkInputUnused(c, i) }
func (n noFiles) Log() *slog.Logger               { return n.b.Log() }
