package execute

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/registry"
)

// Options describe where and how quanta run.
type Options struct {
	Host            string // default: os.Hostname
	LambdaRequestID string
	Logger          *slog.Logger
	// Rerun runs quanta again even when a provenance document says they
	// succeeded (default: skip them, so a retried batch is cheap and safe).
	Rerun bool
}

// Executor runs the quanta of one batch.
type Executor struct {
	Store objstore.Store
	Batch *qgraph.Batch
	Opts  Options

	mu   sync.Mutex
	prov map[string]*Provenance // quantum ID -> document, for upstream lookups
}

// NewExecutor prepares to run a batch on a repository's store.
func NewExecutor(store objstore.Store, b *qgraph.Batch, opts Options) *Executor {
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Executor{Store: store, Batch: b, Opts: opts, prov: map[string]*Provenance{}}
}

// Remember makes a provenance document known without reading it (the local
// runner hands over what it has run).
func (e *Executor) Remember(p *Provenance) {
	e.mu.Lock()
	e.prov[p.QuantumID] = p
	e.mu.Unlock()
}

// provenanceOf returns the document of a quantum of this graph, or nil
// when the quantum has not finished.
func (e *Executor) provenanceOf(ctx context.Context, id string) (*Provenance, error) {
	e.mu.Lock()
	p := e.prov[id]
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := ReadProvenance(ctx, e.Store, e.Batch.OutputRun, id)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p.GraphID != e.Batch.GraphID {
		return nil, nil // a document of another graph in the same run
	}
	e.Remember(p)
	return p, nil
}

// RunAll runs every quantum of the batch in order and returns their
// documents. An error is returned only when a document could not be
// written (the batch should be retried); failed quanta are not errors.
func (e *Executor) RunAll(ctx context.Context) ([]*Provenance, error) {
	var out []*Provenance
	for _, q := range e.Batch.Quanta {
		p, err := e.Run(ctx, q)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Run executes one quantum and writes its provenance document last.
func (e *Executor) Run(ctx context.Context, q qgraph.Quantum) (*Provenance, error) {
	b := e.Batch
	spec := b.Tasks[q.Task]
	log := e.Opts.Logger.With("run", b.OutputRun, "graph", b.GraphID, "quantum", q.ID, "task", q.Task)
	if !e.Opts.Rerun {
		if old, err := e.provenanceOf(ctx, q.ID); err == nil && old != nil && old.Status == Succeeded {
			log.Debug("quantum already succeeded; skipped")
			return old, nil
		}
	}
	p := &Provenance{Schema: ProvenanceSchema, QuantumID: q.ID, GraphID: b.GraphID, TaskLabel: q.Task, TaskClass: spec.Class,
		DataID: q.DataID, Run: b.OutputRun, Host: e.Opts.Host, LambdaRequestID: e.Opts.LambdaRequestID,
		SoftwareVersion: Version(), Start: time.Now().UTC(), Attempt: 1}
	if old, err := ReadProvenance(ctx, e.Store, b.OutputRun, q.ID); err == nil {
		p.Attempt = old.Attempt + 1
	}
	cpu0, _ := usage()
	status, err := e.run(ctx, q, spec, p, log)
	cpu1, rss := usage()
	p.End = time.Now().UTC()
	p.CPUTime, p.MaxRSS = cpu1-cpu0, rss
	p.Status = status
	if err != nil {
		p.ErrorType, p.ErrorMessage = errorType(err), err.Error()
	}
	if werr := WriteProvenance(ctx, e.Store, p); werr != nil {
		return p, werr
	}
	e.Remember(p)
	log.Info("quantum finished", "status", p.Status, "seconds", p.End.Sub(p.Start).Seconds(), "key", ProvenanceKey(p.Run, p.QuantumID), "error", p.ErrorMessage)
	return p, nil
}

func errorType(err error) string {
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, butler.ErrMissingInput):
		return "missing_input"
	case errors.Is(err, errBlocked):
		return "blocked"
	default:
		return fmt.Sprintf("%T", errors.Unwrap(err))
	}
}

type panicError struct{ msg string }

func (e *panicError) Error() string { return e.msg }

var errBlocked = errors.New("upstream quantum did not succeed")

// run does the work of Run and fills the inputs and outputs of p.
func (e *Executor) run(ctx context.Context, q qgraph.Quantum, spec qgraph.TaskSpec, p *Provenance, log *slog.Logger) (string, error) {
	b := e.Batch
	// Upstream quanta: their documents say whether to run, and give the
	// datastore records of the intermediate inputs.
	produced := map[string]registry.FileRecord{}
	upstreamNoWork := false
	for _, up := range q.Upstream {
		doc, err := e.provenanceOf(ctx, up)
		if err != nil {
			return Failed, err
		}
		if doc == nil {
			e.describe(q, p, nil, nil)
			return Blocked, fmt.Errorf("upstream quantum %s has not run: %w", up, errBlocked)
		}
		switch doc.Status {
		case Failed, Blocked:
			e.describe(q, p, nil, nil)
			return Blocked, fmt.Errorf("upstream quantum %s (%s %v) is %s: %w", up, doc.TaskLabel, doc.DataID, doc.Status, errBlocked)
		case NoWork:
			upstreamNoWork = true
		}
		for _, o := range doc.Outputs {
			if o.Actual {
				produced[o.DatasetID] = registry.FileRecord{DatasetID: o.DatasetID, DatasetType: o.DatasetType, URI: o.URI,
					Formatter: o.Formatter, StorageClass: o.StorageClass, Size: o.Size, Checksum: o.Checksum}
			}
		}
	}
	def, ok := pipeline.Lookup(spec.Class)
	if !ok {
		e.describe(q, p, nil, nil)
		return Failed, fmt.Errorf("task class %q is not registered in this executor", spec.Class)
	}
	cfg := pipeline.Config(spec.Config)
	conns := map[string]pipeline.Connection{}
	for _, c := range def.Connections(cfg) {
		conns[c.Name] = c
	}
	// Predicted inputs, their records, and which exist.
	var inputs []butler.QBBInput
	var missingRequired []string
	addInputs := func(m map[string][]string, kind string) {
		names := sortedKeys(m)
		for _, conn := range names {
			c := conns[conn]
			idx := 0
			for _, id := range m[conn] {
				ds := b.Datasets[id]
				var rec registry.FileRecord
				switch {
				case ds.File != nil:
					rec = *ds.File
				default:
					r, ok := produced[id]
					if !ok { // predicted but not produced upstream
						if !c.Multiple || kind == "prerequisite" {
							missingRequired = append(missingRequired, fmt.Sprintf("%s %v", ds.DatasetType, ds.DataID))
						}
						p.Inputs = append(p.Inputs, InputProv{DatasetID: id, DatasetType: ds.DatasetType, DataID: ds.DataID, Run: ds.Run, URI: ds.URI, Connection: conn, Kind: kind})
						continue
					}
					rec = r
				}
				inputs = append(inputs, butler.QBBInput{Connection: conn, Index: idx, Ref: refOf(ds), File: rec, StorageClass: ds.StorageClass, Required: true})
				idx++
			}
		}
	}
	addInputs(q.Inputs, "input")
	addInputs(q.Prerequisites, "prerequisite")
	addInputs(q.InitInputs, "init_input")
	var outputs []butler.QBBOutput
	for _, conn := range sortedKeys(q.Outputs) {
		for i, id := range q.Outputs[conn] {
			ds := b.Datasets[id]
			outputs = append(outputs, butler.QBBOutput{Connection: conn, Index: i, Ref: refOf(ds), URI: ds.URI, Formatter: ds.Formatter, StorageClass: ds.StorageClass})
		}
	}
	qbb := butler.NewQBB(e.Store, inputs, outputs)
	missing, err := qbb.CheckInputs(ctx)
	if err != nil {
		e.describe(q, p, qbb, inputs)
		return Failed, err
	}
	for _, m := range missing {
		missingRequired = append(missingRequired, fmt.Sprintf("%s %v (%s)", m.Ref.DatasetType, m.Ref.DataID, m.File.URI))
	}
	if len(missingRequired) > 0 {
		e.describe(q, p, qbb, inputs)
		sort.Strings(missingRequired)
		if upstreamNoWork {
			return NoWork, fmt.Errorf("inputs not produced by upstream quanta with no work: %v", missingRequired)
		}
		return Failed, fmt.Errorf("%d required inputs missing: %v: %w", len(missingRequired), missingRequired, butler.ErrMissingInput)
	}
	task, err := def.New(cfg)
	if err != nil {
		e.describe(q, p, qbb, inputs)
		return Failed, fmt.Errorf("configure %s: %w", spec.Class, err)
	}
	capture := newLogCapture(log.Handler())
	tlog := slog.New(capture)
	tmp, err := os.MkdirTemp("", "quantum-")
	if err != nil {
		return Failed, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	runErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &panicError{fmt.Sprintf("task panicked: %v\n%s", r, debug.Stack())}
			}
		}()
		return task.Run(ctx, &taskButler{qbb: qbb, log: tlog}, pipeline.QuantumContext{Label: q.Task, DataID: q.DataID, Config: cfg, TmpDir: tmp})
	}()
	status := Succeeded
	switch {
	case runErr == nil:
	case errors.Is(runErr, pipeline.ErrNoWork):
		status = NoWork
	default:
		status = Failed
		tlog.Error("task failed", "error", runErr.Error())
	}
	// The automatic outputs: metadata when the task did not fail, the log always.
	if status != Failed && len(qbb.Outputs(pipeline.MetadataConnection)) > 0 {
		meta := datastore.Dict{"start": start.UTC().Format(time.RFC3339Nano), "end": time.Now().UTC().Format(time.RFC3339Nano),
			"status": status, "host": e.Opts.Host}
		if err := qbb.Put(ctx, meta, pipeline.MetadataConnection, 0); err != nil && status == Succeeded {
			status, runErr = Failed, err
		}
	}
	if len(qbb.Outputs(pipeline.LogConnection)) > 0 {
		if err := qbb.Put(ctx, datastore.Dict{"records": capture.records()}, pipeline.LogConnection, 0); err != nil && status == Succeeded {
			status, runErr = Failed, err
		}
	}
	e.describe(q, p, qbb, inputs)
	if status == NoWork {
		return status, runErr
	}
	return status, runErr
}

// describe fills the input and output sections of a document from what
// the QBB recorded.
func (e *Executor) describe(q qgraph.Quantum, p *Provenance, qbb *butler.QuantumBackedButler, inputs []butler.QBBInput) {
	var rec butler.Record
	if qbb != nil {
		rec = qbb.Record()
	}
	for _, in := range inputs {
		kind := "input"
		if _, ok := q.Prerequisites[in.Connection]; ok {
			kind = "prerequisite"
		} else if _, ok := q.InitInputs[in.Connection]; ok {
			kind = "init_input"
		}
		p.Inputs = append(p.Inputs, InputProv{DatasetID: in.Ref.ID, DatasetType: in.Ref.DatasetType, DataID: in.Ref.DataID, Run: in.Ref.Run,
			URI: in.File.URI, Connection: in.Connection, Kind: kind, Available: rec.Available[in.Ref.ID], Actual: rec.Actual[in.Ref.ID]})
	}
	if len(inputs) == 0 && qbb == nil {
		for _, conn := range sortedKeys(q.Inputs) {
			for _, id := range q.Inputs[conn] {
				ds := e.Batch.Datasets[id]
				p.Inputs = append(p.Inputs, InputProv{DatasetID: id, DatasetType: ds.DatasetType, DataID: ds.DataID, Run: ds.Run, URI: uriOf(ds), Connection: conn, Kind: "input"})
			}
		}
	}
	for _, conn := range sortedKeys(q.Outputs) {
		for _, id := range q.Outputs[conn] {
			ds := e.Batch.Datasets[id]
			o := OutputProv{DatasetID: id, DatasetType: ds.DatasetType, DataID: ds.DataID, URI: ds.URI, Connection: conn, StorageClass: ds.StorageClass, Formatter: ds.Formatter}
			if w, ok := rec.Written[id]; ok {
				o.Actual, o.Size, o.Checksum, o.Formatter = true, w.Size, w.Checksum, w.Formatter
			}
			p.Outputs = append(p.Outputs, o)
		}
	}
}

func uriOf(ds qgraph.DatasetSpec) string {
	if ds.File != nil {
		return ds.File.URI
	}
	return ds.URI
}

func refOf(ds qgraph.DatasetSpec) registry.DatasetRef {
	return registry.DatasetRef{ID: ds.ID, DatasetType: ds.DatasetType, Run: ds.Run, DataID: ds.DataID}
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Version is the software version recorded in provenance.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
		return "skybutler " + v
	}
	return "skybutler (devel)"
}
