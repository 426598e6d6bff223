package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/qgraph"
)

func (a *app) addQgraph(root *cobra.Command) {
	root.AddCommand(a.qgraphCmd())
}

func (a *app) qgraphCmd() *cobra.Command {
	var pf pipelineFlags
	var saveQgraph, dotFile, show, format string
	cmd := &cobra.Command{
		Use:   "qgraph REPO -p PIPELINE.yaml -i IN,... (-o OUT | --output-run RUN)",
		Short: "Plan a pipeline: build, store and register a quantum graph (pipetask qgraph)",
		Long: `Builds the quantum graph of a pipeline over the datasets of the input
collections (constrained by -d), writes it under REPO/qgraphs/GRAPH_ID/ (the
compressed whole graph, one manifest per wave, one self-contained object per
batch), then registers the output RUN, the output dataset types and the
output CHAINED collection, following pipetask's rules for -o, --output-run,
--extend-run, --replace-run and --prune-replaced. Prints the graph ID.`,
		Args: exactArgsUsage(1, "skybutler qgraph REPO -p PIPELINE.yaml -i IN,... (-o OUT | --output-run RUN) [-d EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch show {
			case "", "summary", "graph":
			default:
				return fmt.Errorf("--show %q: want summary or graph", show)
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			opts, err := pf.options()
			if err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			g, err := qgraph.PlanGraph(ctx, b, opts)
			if err != nil {
				return err
			}
			if saveQgraph != "" {
				if err := writeFileWith(saveQgraph, func(f *os.File) error { return g.WriteGraph(ctx, f) }); err != nil {
					return err
				}
			}
			if dotFile != "" {
				if err := writeFileWith(dotFile, func(f *os.File) error { return g.WriteDot(ctx, f) }); err != nil {
					return err
				}
			}
			switch show {
			case "summary":
				if err := g.WriteSummary(a.out); err != nil {
					return err
				}
			case "graph":
				if err := g.WriteQuanta(ctx, a.out); err != nil {
					return err
				}
			}
			h := g.Header
			if format == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(h)
			}
			fmt.Fprintln(a.out, planSummary(&h))
			return nil
		},
	}
	pf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&saveQgraph, "save-qgraph", "", "also write the compressed graph to this local file")
	f.StringVar(&dotFile, "qgraph-dot", "", "write the graph in Graphviz DOT to this file")
	f.StringVar(&show, "show", "", "print the graph: summary or graph")
	f.StringVar(&format, "format", "table", "output format of the result: table or json")
	return cmd
}

// planSummary is the one line qgraph and run print about a planned graph.
func planSummary(h *qgraph.Header) string {
	var per []string
	for _, t := range h.TaskQuanta {
		per = append(per, fmt.Sprintf("%s %d", t.Label, t.Quanta))
	}
	skipped := ""
	if h.SkipExisted > 0 {
		skipped = fmt.Sprintf(", %d skipped (outputs exist)", h.SkipExisted)
	}
	return fmt.Sprintf("Planned graph %s: %d quanta (%s)%s in %d waves, %d batches; output run %s",
		h.GraphID, h.Quanta, strings.Join(per, ", "), skipped, h.Waves, h.Batches, h.OutputRun)
}

func splitList(items []string) []string {
	var out []string
	for _, it := range items {
		for _, s := range strings.Split(it, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// writeFileWith creates path and fills it with write.
func writeFileWith(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
