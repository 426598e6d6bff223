package qgraph

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// WriteDot writes the graph in Graphviz DOT: quanta are boxes (task label
// and data ID), datasets ellipses (dataset type and data ID; existing
// inputs filled grey), edges run from inputs to quanta and from quanta to
// outputs. Render it with `dot -Tsvg`.
func (g *Graph) WriteDot(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "digraph %s {\n", dotQuote("qgraph "+g.Header.GraphID))
	fmt.Fprintln(bw, "  rankdir=LR;")
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=10];`)
	seen := map[string]bool{}
	dsNode := func(id string, ds DatasetSpec) string {
		name := "d_" + strings.ReplaceAll(id, "-", "")
		if !seen[name] {
			seen[name] = true
			style := ""
			if ds.File != nil {
				style = `, style=filled, fillcolor="#e8e8e8"`
			}
			fmt.Fprintf(bw, "  %s [shape=ellipse, label=%s%s];\n", name, dotQuote(ds.DatasetType+"\n"+formatDataID(ds.DataID)), style)
		}
		return name
	}
	for i := range g.NumBatches() {
		b, err := g.Batch(ctx, i)
		if err != nil {
			return err
		}
		for _, q := range b.Quanta {
			qn := "q_" + strings.ReplaceAll(q.ID, "-", "")
			fmt.Fprintf(bw, "  %s [shape=box, style=rounded, label=%s];\n", qn, dotQuote(q.Task+"\n"+formatDataID(q.DataID)))
			for _, m := range []map[string][]string{q.Inputs, q.Prerequisites, q.InitInputs} {
				for _, conn := range sortedConns(m) {
					for _, id := range m[conn] {
						fmt.Fprintf(bw, "  %s -> %s;\n", dsNode(id, b.Datasets[id]), qn)
					}
				}
			}
			for _, conn := range sortedConns(q.Outputs) {
				for _, id := range q.Outputs[conn] {
					fmt.Fprintf(bw, "  %s -> %s;\n", qn, dsNode(id, b.Datasets[id]))
				}
			}
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

func sortedConns(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func formatDataID(id map[string]any) string {
	return dimensions.Default().FormatDataID(dimensions.DataID(id))
}

// WriteSummary writes what pipetask's --show summary does: the number of
// quanta per task.
func (g *Graph) WriteSummary(w io.Writer) error {
	h := g.Header
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "QuantumGraph %s: %d quanta for %d tasks in %d waves, %d batches\n", h.GraphID, h.Quanta, len(h.TaskQuanta), h.Waves, h.Batches)
	fmt.Fprintf(bw, "Output run: %s\n", h.OutputRun)
	if h.Output != "" {
		fmt.Fprintf(bw, "Output collection: %s\n", h.Output)
	}
	if h.SkipExisted > 0 {
		fmt.Fprintf(bw, "Skipped (outputs exist): %d quanta\n", h.SkipExisted)
	}
	width := len("Tasks")
	for _, t := range h.TaskQuanta {
		width = max(width, len(t.Label))
	}
	fmt.Fprintf(bw, "%-*s %8s  %s\n", width, "Tasks", "Quanta", "Class")
	fmt.Fprintf(bw, "%s %s  %s\n", strings.Repeat("-", width), strings.Repeat("-", 8), strings.Repeat("-", 5))
	for _, t := range h.TaskQuanta {
		fmt.Fprintf(bw, "%-*s %8d  %s\n", width, t.Label, t.Quanta, t.Class)
	}
	return bw.Flush()
}

// WriteQuanta writes what pipetask's --show graph does: every quantum with
// its data ID, inputs and outputs.
func (g *Graph) WriteQuanta(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i := range g.NumBatches() {
		b, err := g.Batch(ctx, i)
		if err != nil {
			return err
		}
		for _, q := range b.Quanta {
			fmt.Fprintf(bw, "Quantum %s: %s (wave %d, batch %s)\n", q.ID, q.Task, q.Wave, b.Batch)
			fmt.Fprintf(bw, "  DataId: %s\n", formatDataID(q.DataID))
			for _, sec := range []struct {
				name string
				m    map[string][]string
			}{{"Input", q.Inputs}, {"Prerequisite", q.Prerequisites}, {"InitInput", q.InitInputs}, {"Output", q.Outputs}} {
				for _, conn := range sortedConns(sec.m) {
					for _, id := range sec.m[conn] {
						ds := b.Datasets[id]
						fmt.Fprintf(bw, "  %s %s: %s %s (%s)\n", sec.name, conn, ds.DatasetType, formatDataID(ds.DataID), ds.Run)
					}
				}
			}
		}
	}
	return bw.Flush()
}
