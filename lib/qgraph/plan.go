package qgraph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/registry"
)

// Plan builds a graph, saves it, then registers what its outputs need:
// the output RUN (unless --extend-run), the dataset types of every output
// (with <label>_config, <label>_metadata and <label>_log) and the CHAINED
// output collection, defined as pipetask does ([run, inputs...], or the
// run prepended to the existing chain; --replace-run drops the chain's
// first run, and --prune-replaced then unstores or purges it). The
// registration is one commit, checked again against the newest registry
// state.
func Plan(ctx context.Context, b *butler.Butler, opts Options) (*Header, error) {
	g, err := PlanGraph(ctx, b, opts)
	if err != nil {
		return nil, err
	}
	h := g.Header
	return &h, nil
}

// PlanGraph is Plan returning the graph.
func PlanGraph(ctx context.Context, b *butler.Butler, opts Options) (*Graph, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC()
	g, err := Build(ctx, b, opts)
	if err != nil {
		return nil, err
	}
	if err := g.Save(ctx, b); err != nil {
		return nil, err
	}
	if err := register(ctx, b, g, opts); err != nil {
		return nil, fmt.Errorf("register the outputs of graph %s: %w", g.Header.GraphID, err)
	}
	return g, nil
}

// OutputDatasetTypes returns the dataset types a pipeline writes, as the
// registry defines them (canonical dimensions), sorted by name.
func OutputDatasetTypes(p *pipeline.Pipeline, b *butler.Butler) ([]registry.DatasetType, error) {
	_, _, intermediates, outputs, initOutputs, err := p.DatasetTypes()
	if err != nil {
		return nil, err
	}
	var out []registry.DatasetType
	for _, list := range [][]pipeline.DatasetTypeNode{intermediates, outputs, initOutputs} {
		for _, n := range list {
			dt, err := b.Registry.NormalizeDatasetType(registry.DatasetType{Name: n.Name, Dimensions: n.Dimensions, StorageClass: n.StorageClass})
			if err != nil {
				return nil, err
			}
			out = append(out, dt)
		}
	}
	slices.SortFunc(out, func(a, b registry.DatasetType) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

func register(ctx context.Context, b *butler.Butler, g *Graph, opts Options) error {
	types, err := OutputDatasetTypes(opts.Pipeline, b)
	if err != nil {
		return err
	}
	var replaced string
	_, err = b.Registry.Commit(ctx, "plan", func(tx *registry.Tx) error {
		replaced = ""
		if added, err := tx.AddTxn("plan:" + g.Header.GraphID); err != nil || !added {
			return err // a retry of a commit that landed
		}
		cols, err := resolveCollections(ctx, tx.Snapshot(), opts)
		if err != nil {
			return err
		}
		if !slices.Equal(cols.search, g.pl.cols.search) || cols.run != g.Header.OutputRun {
			return fmt.Errorf("the collections changed while planning (search path [%v], now [%v]); plan again", g.pl.cols.search, cols.search)
		}
		if !opts.ExtendRun {
			if err := registry.RegisterCollection(tx, registry.Collection{Name: cols.run, Type: registry.Run,
				Doc: "outputs of quantum graph " + g.Header.GraphID}); err != nil {
				return err
			}
		}
		for _, dt := range types {
			if _, err := registry.RegisterDatasetType(tx, dt); err != nil {
				return err
			}
		}
		if cols.newChain != nil {
			if _, err := registry.UpdateChain(tx, opts.Output, cols.newChain, registry.ChainRedefine, registry.ChainOptions{}); err != nil {
				return err
			}
		}
		replaced = cols.replaced
		tx.Summarize("graph", g.Header.GraphID)
		tx.Summarize("run", cols.run)
		if opts.Output != "" {
			tx.Summarize("output", opts.Output)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if replaced == "" || opts.PruneReplaced == "" {
		return nil
	}
	switch opts.PruneReplaced {
	case "purge":
		if _, err := b.RemoveRuns(ctx, []string{replaced}); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("purge replaced run %s: %w", replaced, err)
		}
	case "unstore":
		snap, err := b.Registry.Refresh(ctx)
		if err != nil {
			return err
		}
		// The regular outputs of the pipeline's tasks; init-outputs
		// (configs) stay, as with pipetask.
		var names []string
		for _, t := range opts.Pipeline.Tasks {
			for _, c := range t.Connections {
				if c.Kind == pipeline.Output {
					if _, err := snap.DatasetType(ctx, c.DatasetType); err == nil {
						names = append(names, c.DatasetType)
					}
				}
			}
		}
		if len(names) == 0 {
			return nil
		}
		refs, err := snap.QueryDatasets(ctx, registry.DatasetQuery{DatasetTypes: names, Collections: []string{replaced}})
		if err != nil {
			return fmt.Errorf("unstore replaced run %s: %w", replaced, err)
		}
		if len(refs) > 0 {
			if _, err := b.Prune(ctx, refs, butler.PruneOptions{Unstore: true}); err != nil {
				return fmt.Errorf("unstore replaced run %s: %w", replaced, err)
			}
		}
	}
	return nil
}
