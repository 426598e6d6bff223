package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/merge"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
)

// pipelineFlags are pipetask's planning options, shared by run.
type pipelineFlags struct {
	pipeline       string
	inputs         []string
	output         string
	outputRun      string
	extendRun      bool
	replaceRun     bool
	pruneReplaced  string
	dataQuery      string
	binds          []string
	skipExistingIn []string
	batchSize      int
	taskBatch      []string
	configs        []string
}

func (f *pipelineFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.pipeline, "pipeline", "p", "", "pipeline YAML (file.yaml or file.yaml#label,subset)")
	cmd.Flags().StringSliceVarP(&f.inputs, "input", "i", nil, "input collections, searched in order (comma-separated)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "CHAINED output collection ([RUN, inputs...])")
	cmd.Flags().StringVar(&f.outputRun, "output-run", "", "RUN to write outputs to (default <output>/<timestamp>)")
	cmd.Flags().BoolVar(&f.extendRun, "extend-run", false, "add to an existing output run")
	cmd.Flags().BoolVar(&f.replaceRun, "replace-run", false, "replace the first run of the output chain with a new one")
	cmd.Flags().StringVar(&f.pruneReplaced, "prune-replaced", "", "with --replace-run: unstore or purge the replaced run")
	cmd.Flags().StringVarP(&f.dataQuery, "data-query", "d", "", "data query constraining the data IDs")
	cmd.Flags().StringArrayVar(&f.binds, "bind", nil, "bind value NAME=VALUE for -d (repeatable)")
	cmd.Flags().StringSliceVar(&f.skipExistingIn, "skip-existing-in", nil, "leave out quanta whose outputs all exist in these collections")
	cmd.Flags().IntVar(&f.batchSize, "batch-size", qgraph.DefaultBatchSize, "quanta per batch")
	cmd.Flags().StringArrayVar(&f.taskBatch, "task-batch-size", nil, "LABEL=N: quanta per batch for one task (repeatable)")
	cmd.Flags().StringArrayVarP(&f.configs, "config", "c", nil, "config override LABEL:FIELD=VALUE (repeatable)")
}

// options loads the pipeline and builds the planning options.
func (f *pipelineFlags) options() (qgraph.Options, error) {
	if err := pipelines.Register(); err != nil {
		return qgraph.Options{}, err
	}
	if f.pipeline == "" {
		return qgraph.Options{}, fmt.Errorf("give the pipeline with -p FILE[#LABELS]")
	}
	perTask := map[string]int{}
	for _, kv := range f.taskBatch {
		label, n, ok := strings.Cut(kv, "=")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size <= 0 {
			return qgraph.Options{}, fmt.Errorf("--task-batch-size %q: want LABEL=N with N > 0", kv)
		}
		perTask[label] = size
	}
	p, err := pipeline.Load(f.pipeline)
	if err != nil {
		return qgraph.Options{}, err
	}
	for _, c := range f.configs {
		label, kv, ok1 := strings.Cut(c, ":")
		key, val, ok2 := strings.Cut(kv, "=")
		if !ok1 || !ok2 {
			return qgraph.Options{}, fmt.Errorf("-c %q: want LABEL:FIELD=VALUE", c)
		}
		if p, err = p.Override(label, key, parseScalar(val)); err != nil {
			return qgraph.Options{}, err
		}
	}
	bind, err := parseBinds(f.binds)
	if err != nil {
		return qgraph.Options{}, err
	}
	return qgraph.Options{Pipeline: p, PipelineRef: f.pipeline, Inputs: splitList(f.inputs), Output: f.output, OutputRun: f.outputRun,
		ExtendRun: f.extendRun, ReplaceRun: f.replaceRun, PruneReplaced: f.pruneReplaced, DataQuery: f.dataQuery, Bind: bind,
		SkipExistingIn: splitList(f.skipExistingIn), BatchSize: f.batchSize, TaskBatchSize: perTask}, nil
}

// parseScalar reads a -c value: true/false, an integer, a float, else a string.
func parseScalar(s string) any {
	switch s {
	case "true", "True":
		return true
	case "false", "False":
		return false
	}
	var i int64
	if _, err := fmt.Sscan(s, &i); err == nil && fmt.Sprint(i) == s {
		return i
	}
	var f float64
	if _, err := fmt.Sscan(s, &f); err == nil {
		return f
	}
	return s
}

func (a *app) addRun(root *cobra.Command) {
	var pf pipelineFlags
	var graphID string
	var workers int
	var noMerge, rerun bool
	cmd := &cobra.Command{
		Use:   "run REPO (-p PIPELINE -i IN,... -o OUT | -g GRAPH_ID) [-j N]",
		Short: "Plan (unless -g), execute locally in dependency order with N workers, and merge",
		Long: `Plans the pipeline like qgraph (same options), runs every quantum with a
quantum-backed butler (-j workers; a quantum starts as soon as its inputs are
done), then merges outputs and provenance into the registry. With -g an
already planned graph is run; quanta that already succeeded are skipped, so
an interrupted run can be resumed.`,
		Args: exactArgsUsage(1, "skybutler run REPO (-p PIPELINE -i IN,... -o OUT | -g GRAPH_ID) [-j N]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := pipelines.Register(); err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			if graphID == "" {
				opts, err := pf.options()
				if err != nil {
					return err
				}
				h, err := qgraph.Plan(ctx, b, opts)
				if err != nil {
					return err
				}
				graphID = h.GraphID
				fmt.Fprintln(a.out, planSummary(h))
			} else if pf.pipeline != "" {
				return fmt.Errorf("run: give -p (plan and run) or -g (run a planned graph), not both")
			}
			var progress *os.File
			if f, ok := a.errOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				progress = f
			}
			opts := execute.Options{Logger: a.logger, Rerun: rerun}
			var docs []*execute.Provenance
			if progress != nil {
				docs, err = execute.RunLocal(ctx, b.Store, graphID, workers, opts, progress)
			} else {
				docs, err = execute.RunLocal(ctx, b.Store, graphID, workers, opts, nil)
			}
			if err != nil {
				return err
			}
			s := execute.Summarize(docs)
			fmt.Fprintf(a.out, "Executed %d quanta: %d succeeded, %d failed, %d blocked, %d no_work.\n", s.Quanta, s.Succeeded, s.Failed, s.Blocked, s.NoWork)
			if noMerge {
				return nil
			}
			res, err := merge.Merge(ctx, b, graphID, merge.Options{Logger: a.logger})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Merged: %d datasets registered in %s (%d commits).\n", res.Datasets, res.Run, res.Commits)
			if err := printRunSummary(a, cmd, b, res.Run); err != nil {
				return err
			}
			if s.Failed > 0 {
				return fmt.Errorf("run: %d quanta failed (%d blocked); see skybutler report %s %s", s.Failed, s.Blocked, args[0], graphID)
			}
			return nil
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVarP(&graphID, "qgraph-id", "g", "", "run this planned graph instead of planning")
	cmd.Flags().IntVarP(&workers, "processes", "j", 1, "quanta run at once")
	cmd.Flags().BoolVar(&noMerge, "no-merge", false, "execute only; merge later with skybutler merge")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run quanta again even if they already succeeded")
	root.AddCommand(cmd)
}

// printRunSummary prints datasets per type in a run.
func printRunSummary(a *app, cmd *cobra.Command, b *butler.Butler, run string) error {
	snap, err := b.Registry.Refresh(cmd.Context())
	if err != nil {
		return err
	}
	dts, err := snap.DatasetTypes(cmd.Context())
	if err != nil {
		return err
	}
	t := table{cols: []string{"dataset_type", "datasets"}}
	for _, dt := range dts {
		refs, err := snap.Datasets(cmd.Context(), dt.Name)
		if err != nil {
			return err
		}
		n := 0
		for _, r := range refs {
			if r.Run == run {
				n++
			}
		}
		if n > 0 {
			t.rows = append(t.rows, []any{dt.Name, n})
		}
	}
	return printTable(a.out, "table", t)
}
