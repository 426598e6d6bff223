package qgraph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/registry"
)

// Options say what to plan and where its outputs go; the names follow
// pipetask's options.
type Options struct {
	Pipeline    *pipeline.Pipeline
	PipelineRef string // the pipeline as given (file#selector), recorded in the header

	// Inputs are the input collections (-i), searched in order; CHAINED
	// collections are expanded.
	Inputs []string
	// Output is the CHAINED output collection (-o): it becomes
	// [OutputRun, inputs...], or gets OutputRun prepended when it exists.
	Output string
	// OutputRun is the RUN outputs are written to (--output-run); with
	// Output alone it defaults to "<Output>/<timestamp>".
	OutputRun string
	// ExtendRun adds to an existing output run (--extend-run): with
	// Output alone, the first child of the output chain.
	ExtendRun bool
	// ReplaceRun replaces the first run of the existing output chain with
	// a new one (--replace-run); PruneReplaced ("unstore" or "purge") says
	// what Plan does to the replaced run's datasets.
	ReplaceRun    bool
	PruneReplaced string

	DataQuery string         // -d: a data query (lib/query) constraining the data IDs
	Bind      map[string]any // values of bound identifiers of DataQuery

	// SkipExistingIn: quanta whose outputs all exist (find-first) in these
	// collections are left out, and their outputs are used as inputs.
	SkipExistingIn []string

	BatchSize     int            // quanta per batch (default DefaultBatchSize)
	TaskBatchSize map[string]int // per task label, overriding BatchSize

	Now time.Time // the planning time (default: now); names the default output run
}

// DefaultBatchSize is the number of quanta per batch when Options give none.
const DefaultBatchSize = 100

// Errors of the output-collection rules, matched with errors.Is.
var (
	ErrOptions = errors.New("invalid options")
	// ErrEmptyGraph: nothing to do (no data IDs match, or every quantum
	// was skipped).
	ErrEmptyGraph = errors.New("empty quantum graph")
	// ErrMissingPrerequisite: a required prerequisite input was not found
	// for some quanta.
	ErrMissingPrerequisite = errors.New("missing prerequisite input")
	// ErrOutputExists: --extend-run onto a run that already holds outputs
	// of quanta that are not skipped.
	ErrOutputExists = errors.New("output dataset exists")
)

func optErr(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrOptions)
}

// collections is the resolved collection side of a plan.
type collections struct {
	run          string
	runExists    bool
	output       string
	outputExists bool
	chain        []string // children of the existing output chain
	inputs       []string // -i flattened
	search       []string // search path for inputs (flattened)
	skipIn       []string // --skip-existing-in flattened
	newChain     []string // the output chain to define (nil: leave it)
	replaced     string   // the run --replace-run drops from the chain
}

// RunTimestamp formats t as pipetask names output runs:
// <output>/20060102T150405Z.
func RunTimestamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// resolveCollections applies pipetask's rules for -i, -o, --output-run,
// --extend-run, --replace-run and --prune-replaced.
func resolveCollections(ctx context.Context, snap *registry.Snapshot, o Options) (*collections, error) {
	c := &collections{output: o.Output}
	lookup := func(name string) (registry.Collection, bool, error) {
		col, err := snap.Collection(ctx, name)
		if errors.Is(err, registry.ErrNotFound) {
			return col, false, nil
		}
		return col, err == nil, err
	}
	if o.ExtendRun && o.ReplaceRun {
		return nil, optErr("--extend-run and --replace-run cannot be used together")
	}
	switch o.PruneReplaced {
	case "", "unstore", "purge":
	default:
		return nil, optErr("--prune-replaced %q: want unstore or purge", o.PruneReplaced)
	}
	if o.Output != "" {
		if err := registry.ValidateCollectionName(o.Output); err != nil {
			return nil, fmt.Errorf("--output: %w", err)
		}
		col, ok, err := lookup(o.Output)
		if err != nil {
			return nil, err
		}
		if ok {
			if col.Type != registry.Chained {
				return nil, optErr("output collection %q exists but has type %s, not CHAINED", o.Output, col.Type)
			}
			c.outputExists, c.chain = true, col.Children
		}
	}
	switch {
	case o.OutputRun != "":
		c.run = o.OutputRun
	case o.Output != "":
		if o.ExtendRun {
			if len(c.chain) == 0 {
				return nil, optErr("cannot use --extend-run with a non-existing or empty output chain %q", o.Output)
			}
			c.run = c.chain[0]
		} else {
			now := o.Now
			if now.IsZero() {
				now = time.Now()
			}
			c.run = o.Output + "/" + RunTimestamp(now)
		}
	default:
		return nil, optErr("give --output or --output-run: the plan needs somewhere to write")
	}
	if err := registry.ValidateCollectionName(c.run); err != nil {
		return nil, fmt.Errorf("output run: %w", err)
	}
	if col, ok, err := lookup(c.run); err != nil {
		return nil, err
	} else if ok {
		if col.Type != registry.Run {
			return nil, optErr("output run %q exists but has type %s, not RUN", c.run, col.Type)
		}
		c.runExists = true
	}
	if len(o.Inputs) > 0 {
		flat, err := snap.Flatten(ctx, o.Inputs)
		if err != nil {
			return nil, fmt.Errorf("input collections: %w", err)
		}
		c.inputs = flat
	}
	// pipetask's ButlerFactory.check.
	if len(c.inputs) > 0 && c.outputExists && !containsRun(c.chain, c.inputs) {
		flatChain, err := snap.Flatten(ctx, c.chain)
		if err != nil {
			return nil, fmt.Errorf("output chain %s: %w", o.Output, err)
		}
		if !containsRun(flatChain, c.inputs) {
			return nil, optErr("output CHAINED collection %q exists and does not include the same sequence of (flattened) input collections [%s] as a contiguous subsequence (its children are [%s])",
				o.Output, strings.Join(c.inputs, " "), strings.Join(c.chain, " "))
		}
	}
	if o.ExtendRun && !c.runExists {
		return nil, optErr("cannot --extend-run: output run %q does not exist", c.run)
	}
	if !o.ExtendRun && c.runExists {
		return nil, optErr("output run %q already exists, but --extend-run was not given", c.run)
	}
	if o.PruneReplaced != "" && !o.ReplaceRun {
		return nil, optErr("--prune-replaced requires --replace-run")
	}
	if o.ReplaceRun && !c.outputExists {
		return nil, optErr("--output must point to an existing CHAINED collection for --replace-run")
	}
	// The search path of the inputs.
	var search []string
	switch {
	case c.outputExists && o.ReplaceRun:
		search = slices.Clone(c.chain[1:])
	case c.outputExists:
		search = []string{o.Output}
	default:
		search = slices.Clone(c.inputs)
	}
	if o.ExtendRun {
		search = append([]string{c.run}, search...)
	}
	flat, err := snap.Flatten(ctx, search)
	if err != nil {
		return nil, fmt.Errorf("input search path: %w", err)
	}
	if len(flat) == 0 {
		return nil, optErr("no input collections: give -i")
	}
	c.search = flat
	if len(o.SkipExistingIn) > 0 {
		// A skip collection that does not exist yet (the output run of
		// this plan, say) holds nothing to skip.
		var known []string
		for _, name := range o.SkipExistingIn {
			if _, ok, err := lookup(name); err != nil {
				return nil, err
			} else if ok {
				known = append(known, name)
			}
		}
		if c.skipIn, err = snap.Flatten(ctx, known); err != nil {
			return nil, fmt.Errorf("--skip-existing-in: %w", err)
		}
	}
	// The output chain to define (ButlerFactory.make_write_butler).
	if o.Output != "" {
		base := c.inputs
		if c.outputExists {
			if base, err = snap.Flatten(ctx, c.chain); err != nil {
				return nil, fmt.Errorf("output chain %s: %w", o.Output, err)
			}
		}
		def := slices.Clone(base)
		if o.ReplaceRun && len(def) > 0 {
			c.replaced, def = def[0], def[1:]
		}
		if !o.ExtendRun || !c.outputExists {
			def = append([]string{c.run}, slices.DeleteFunc(def, func(s string) bool { return s == c.run })...)
			c.newChain = def
		}
	}
	return c, nil
}

// containsRun reports whether seq appears in list as a contiguous run.
func containsRun(list, seq []string) bool {
	for i := 0; i+len(seq) <= len(list); i++ {
		if slices.Equal(list[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}
