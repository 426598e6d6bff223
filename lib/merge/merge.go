package merge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/registry"
)

// Options tune a merge.
type Options struct {
	ChunkSize      int  // quanta per commit (default 5000)
	Parallel       int  // concurrent provenance reads and output checks (default 32)
	VerifyChecksum bool // read every output and compare its checksum, not only its size
	Logger         *slog.Logger
}

// Result reports a merge.
type Result struct {
	GraphID   string         `json:"graph_id"`
	Run       string         `json:"run"`
	Documents int            `json:"documents"`
	Merged    int            `json:"quanta_merged"`  // quanta committed by this merge
	Already   int            `json:"quanta_already"` // quanta an earlier merge committed
	Datasets  int            `json:"datasets"`       // datasets registered by this merge
	Statuses  map[string]int `json:"statuses"`
	Rejected  []string       `json:"rejected,omitempty"` // quanta whose reported outputs did not check out
	Commits   int            `json:"commits"`
}

// ReadHeader loads the manifest of a graph.
func ReadHeader(ctx context.Context, store objstore.Store, graphID string) (*qgraph.Header, error) {
	data, err := store.Get(ctx, qgraph.ManifestKey(graphID))
	if err != nil {
		return nil, fmt.Errorf("graph %s: %w", graphID, err)
	}
	var h qgraph.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("graph %s manifest: %w", graphID, err)
	}
	return &h, nil
}

// ReadProvenance reads the documents of one graph from its RUN in parallel.
func ReadProvenance(ctx context.Context, store objstore.Store, h *qgraph.Header, parallel int) ([]*execute.Provenance, error) {
	objs, err := objstore.ListAll(ctx, store, "provenance/"+h.OutputRun+"/")
	if err != nil {
		return nil, err
	}
	docs := make([]*execute.Provenance, len(objs))
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(parallel, 1))
	for i, o := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			data, err := store.Get(ctx, o.Key)
			if err != nil {
				errs[i] = err
				return
			}
			docs[i], errs[i] = execute.DecodeProvenance(o.Key, data)
		}()
	}
	wg.Wait()
	var out []*execute.Provenance
	for i, d := range docs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if d.GraphID == h.GraphID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QuantumID < out[j].QuantumID })
	return out, nil
}

// Merge commits the results of a graph. See the package documentation.
func Merge(ctx context.Context, b *butler.Butler, graphID string, opts Options) (*Result, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 5000
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 32
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	h, err := ReadHeader(ctx, b.Store, graphID)
	if err != nil {
		return nil, err
	}
	log = log.With("graph", graphID, "run", h.OutputRun)
	docs, err := ReadProvenance(ctx, b.Store, h, opts.Parallel)
	if err != nil {
		return nil, err
	}
	res := &Result{GraphID: graphID, Run: h.OutputRun, Documents: len(docs), Statuses: map[string]int{}}
	for _, d := range docs {
		res.Statuses[d.Status]++
	}
	// Quanta an earlier merge committed need no output check.
	snap, err := b.Registry.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	var fresh []*execute.Provenance
	for _, d := range docs {
		done, err := snap.HasTxn(ctx, txnKey(graphID, d.QuantumID))
		if err != nil {
			return nil, err
		}
		if !done {
			fresh = append(fresh, d)
		}
	}
	rejected := checkOutputs(ctx, b, fresh, opts)
	for id := range rejected {
		res.Rejected = append(res.Rejected, id)
	}
	sort.Strings(res.Rejected)
	if err := mergeConfigs(ctx, b, h); err != nil {
		return nil, err
	}
	for start := 0; start < len(docs); start += opts.ChunkSize {
		chunk := docs[min(start, len(docs)):min(start+opts.ChunkSize, len(docs))]
		merged, already, datasets, noop, err := commitChunk(ctx, b, graphID, chunk, rejected)
		if err != nil {
			return res, err
		}
		res.Merged += merged
		res.Already += already
		res.Datasets += datasets
		if !noop {
			res.Commits++
		}
		log.Info("merge chunk committed", "quanta", merged, "already", already, "datasets", datasets)
	}
	if h.Output != "" {
		if err := updateChain(ctx, b, h); err != nil {
			return res, err
		}
	}
	return res, nil
}

// checkOutputs stats every reported output of the quanta to be registered;
// a quantum with a missing or mis-sized output is rejected whole.
func checkOutputs(ctx context.Context, b *butler.Butler, docs []*execute.Provenance, opts Options) map[string]string {
	var mu sync.Mutex
	rejected := map[string]string{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, opts.Parallel)
	for _, d := range docs {
		if !registers(d) {
			continue
		}
		for _, o := range d.Outputs {
			if !o.Actual {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				key := butler.DatastorePrefix + o.URI
				var problem string
				if opts.VerifyChecksum {
					data, err := b.Store.Get(ctx, key)
					switch {
					case err != nil:
						problem = err.Error()
					case int64(len(data)) != o.Size:
						problem = fmt.Sprintf("%s has %d bytes, provenance says %d", key, len(data), o.Size)
					default:
						if err := datastore.VerifyChecksum(data, o.Checksum); err != nil {
							problem = fmt.Sprintf("%s: %v", key, err)
						}
					}
				} else {
					info, err := b.Store.Stat(ctx, key)
					switch {
					case err != nil:
						problem = err.Error()
					case info.Size != o.Size:
						problem = fmt.Sprintf("%s has %d bytes, provenance says %d", key, info.Size, o.Size)
					}
				}
				if problem != "" {
					mu.Lock()
					rejected[d.QuantumID] = problem
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return rejected
}

// registers says whether a quantum's outputs are registered: succeeded and
// no_work quanta (whose written outputs, e.g. metadata, are real); never
// failed or blocked ones.
func registers(d *execute.Provenance) bool {
	return d.Status == execute.Succeeded || d.Status == execute.NoWork
}

func txnKey(graphID, quantumID string) string { return "merge:" + graphID + "/" + quantumID }

// commitChunk commits the quanta of one chunk that no earlier merge did.
func commitChunk(ctx context.Context, b *butler.Butler, graphID string, chunk []*execute.Provenance, rejected map[string]string) (merged, already, datasets int, noop bool, err error) {
	res, err := b.Registry.Commit(ctx, "merge", func(tx *registry.Tx) error {
		merged, already, datasets = 0, 0, 0
		var refs []registry.DatasetRef
		var files []registry.FileRecord
		var qrows []registry.QuantumRow
		var irows []registry.QuantumInputRow
		var orows []registry.QuantumOutputRow
		for _, d := range chunk {
			fresh, err := tx.AddTxn(txnKey(graphID, d.QuantumID))
			if err != nil {
				return err
			}
			if !fresh {
				already++
				continue
			}
			merged++
			status, errType, errMsg := d.Status, d.ErrorType, d.ErrorMessage
			if problem, bad := rejected[d.QuantumID]; bad {
				status, errType, errMsg = execute.Failed, "output_check", "merge: "+problem
			}
			qrows = append(qrows, registry.QuantumRow{QuantumID: d.QuantumID, GraphID: d.GraphID, TaskLabel: d.TaskLabel, TaskClass: d.TaskClass,
				Run: d.Run, Status: status, Start: d.Start, End: d.End, Host: d.Host, LambdaRequestID: d.LambdaRequestID, MaxRSS: d.MaxRSS,
				CPUTime: d.CPUTime, SoftwareVersion: d.SoftwareVersion, ErrorType: errType, Error: errMsg, Attempt: int64(d.Attempt), DataID: d.DataID})
			for _, in := range d.Inputs {
				irows = append(irows, registry.QuantumInputRow{QuantumID: d.QuantumID, DatasetID: in.DatasetID, DatasetType: in.DatasetType,
					Connection: in.Connection, Kind: in.Kind, Available: in.Available, Actual: in.Actual, URI: in.URI})
			}
			register := registers(d) && rejected[d.QuantumID] == ""
			for _, o := range d.Outputs {
				orows = append(orows, registry.QuantumOutputRow{QuantumID: d.QuantumID, DatasetID: o.DatasetID, DatasetType: o.DatasetType,
					Connection: o.Connection, Actual: o.Actual && register, URI: o.URI})
				if !o.Actual || !register {
					continue
				}
				refs = append(refs, registry.DatasetRef{ID: o.DatasetID, DatasetType: o.DatasetType, Run: d.Run, DataID: o.DataID})
				files = append(files, registry.FileRecord{DatasetID: o.DatasetID, DatasetType: o.DatasetType, URI: o.URI,
					Formatter: o.Formatter, StorageClass: o.StorageClass, Size: o.Size, Checksum: o.Checksum})
			}
		}
		if merged == 0 {
			tx.Summarize("graph", graphID)
			return nil // every txn key committed already: a no-op
		}
		ins, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{SkipExisting: true})
		if err != nil {
			return err
		}
		datasets = len(ins)
		if err := registry.InsertQuanta(tx, qrows, irows, orows); err != nil {
			return err
		}
		tx.Summarize("graph", graphID)
		tx.Summarize("quanta", merged)
		tx.Summarize("datasets", datasets)
		return nil
	})
	return merged, already, datasets, res.NoOp, err
}

// mergeConfigs registers the <label>_config init-outputs of the graph's
// tasks in its RUN (once; the same config again is a no-op).
func mergeConfigs(ctx context.Context, b *butler.Butler, h *qgraph.Header) error {
	for _, t := range h.TaskQuanta {
		name := t.Label + "_config"
		snap, err := b.Registry.Refresh(ctx)
		if err != nil {
			return err
		}
		if _, err := snap.DatasetType(ctx, name); err != nil {
			continue // the planner did not register it: nothing to merge
		}
		if _, ok, err := snap.FindDataset(ctx, name, map[string]any{}, []string{h.OutputRun}, nil); err != nil || ok {
			continue
		}
		cfg := datastore.Dict(t.Config)
		if t.Config == nil { // a graph planned before the header carried configs
			if cfg, err = taskConfig(ctx, b, h, t.Label); err != nil || cfg == nil {
				continue
			}
		}
		if _, err := b.Put(ctx, cfg, name, map[string]any{}, h.OutputRun); err != nil && !errors.Is(err, registry.ErrConflict) {
			return fmt.Errorf("merge %s: %w", name, err)
		}
	}
	return nil
}

// taskConfig finds a task's config in the graph's first batch holding it.
func taskConfig(ctx context.Context, b *butler.Butler, h *qgraph.Header, label string) (datastore.Dict, error) {
	for w := range h.Waves {
		data, err := b.Store.Get(ctx, qgraph.WaveKey(h.GraphID, w))
		if err != nil {
			return nil, err
		}
		var items []qgraph.BatchItem
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			bt, err := execute.ReadBatch(ctx, b.Store, it.Key)
			if err != nil {
				return nil, err
			}
			if spec, ok := bt.Tasks[label]; ok {
				return datastore.Dict(spec.Config), nil
			}
		}
	}
	return nil, nil
}

// updateChain prepends the RUN to the CHAINED output collection, creating
// it as [RUN, inputs...] (pipetask's -o).
func updateChain(ctx context.Context, b *butler.Butler, h *qgraph.Header) error {
	_, err := b.Registry.Commit(ctx, "merge-output-chain", func(tx *registry.Tx) error {
		c, err := tx.Snapshot().Collection(ctx, h.Output)
		children := []string{h.OutputRun}
		if errors.Is(err, registry.ErrNotFound) {
			for _, in := range h.Inputs {
				for _, part := range strings.Split(in, ",") {
					if part != "" && part != h.OutputRun {
						children = append(children, part)
					}
				}
			}
			_, err = registry.UpdateChain(tx, h.Output, children, registry.ChainRedefine, registry.ChainOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if len(c.Children) > 0 && c.Children[0] == h.OutputRun {
			return nil
		}
		_, err = registry.UpdateChain(tx, h.Output, children, registry.ChainPrepend, registry.ChainOptions{})
		return err
	})
	return err
}
