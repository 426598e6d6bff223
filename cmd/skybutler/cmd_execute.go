package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/merge"
	"github.com/skybutler/skybutler/lib/qgraph"
)

func (a *app) addExecute(root *cobra.Command) {
	root.AddCommand(a.runBatchCmd(), a.mergeCmd(), a.reportCmd())
}

func (a *app) runBatchCmd() *cobra.Command {
	var rerun bool
	cmd := &cobra.Command{
		Use:   "run-batch REPO GRAPH_ID BATCH",
		Short: "Execute one batch of a planned graph (what one Step Functions map item does)",
		Args:  exactArgsUsage(3, "skybutler run-batch REPO GRAPH_ID BATCH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			key := args[2]
			if !strings.Contains(key, "/") {
				key = qgraph.BatchKey(args[1], key)
			}
			docs, err := execute.RunBatch(cmd.Context(), b.Store, key, execute.Options{Logger: a.logger, Rerun: rerun})
			if err != nil {
				return err
			}
			s := execute.Summarize(docs)
			fmt.Fprintf(a.out, "Batch %s: %d quanta: %d succeeded, %d failed, %d blocked, %d no_work.\n", args[2], s.Quanta, s.Succeeded, s.Failed, s.Blocked, s.NoWork)
			return nil
		},
	}
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run quanta again even if they already succeeded")
	return cmd
}

func (a *app) mergeCmd() *cobra.Command {
	var opts merge.Options
	var format string
	cmd := &cobra.Command{
		Use:   "merge REPO GRAPH_ID",
		Short: "Register the outputs and provenance of an executed graph (idempotent)",
		Args:  exactArgsUsage(2, "skybutler merge REPO GRAPH_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			opts.Logger = a.logger
			res, err := merge.Merge(cmd.Context(), b, args[1], opts)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(a.out, "Merged graph %s into %s: %d quanta (%d merged before), %d datasets, %d commits. Statuses: %v\n",
				res.GraphID, res.Run, res.Merged, res.Already, res.Datasets, res.Commits, res.Statuses)
			if len(res.Rejected) > 0 {
				fmt.Fprintf(a.out, "Rejected (outputs did not check out): %s\n", strings.Join(res.Rejected, ", "))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&opts.ChunkSize, "chunk-size", 5000, "quanta per commit")
	cmd.Flags().BoolVar(&opts.VerifyChecksum, "verify-checksums", false, "read every output and compare its checksum (default: size only)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func (a *app) reportCmd() *cobra.Command {
	var html, format string
	cmd := &cobra.Command{
		Use:   "report REPO GRAPH_ID",
		Short: "Per-task quantum statuses, the failures with their errors, and an HTML timeline",
		Args:  exactArgsUsage(2, "skybutler report REPO GRAPH_ID [--html FILE]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			h, err := merge.ReadHeader(cmd.Context(), b.Store, args[1])
			if err != nil {
				return err
			}
			docs, err := merge.ReadProvenance(cmd.Context(), b.Store, h, 32)
			if err != nil {
				return err
			}
			rep := execute.NewReport(h, docs)
			if html != "" {
				page, err := rep.HTML()
				if err != nil {
					return err
				}
				if err := os.WriteFile(html, page, 0o644); err != nil {
					return err
				}
			}
			if format == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			t := table{cols: []string{"task", "quanta", "succeeded", "failed", "blocked", "no_work", "not_run"}}
			for _, ts := range rep.Tasks {
				t.rows = append(t.rows, []any{ts.Label, ts.Planned, ts.Succeeded, ts.Failed, ts.Blocked, ts.NoWork, ts.NotRun})
			}
			if err := printTable(a.out, "table", t); err != nil {
				return err
			}
			if len(rep.Failures) > 0 {
				fmt.Fprintln(a.out)
				ft := table{cols: []string{"task", "data_id", "error"}}
				for _, f := range rep.Failures {
					ft.rows = append(ft.rows, []any{f.Task, f.DataID, f.Error})
				}
				return printTable(a.out, "table", ft)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&html, "html", "", "also write a self-contained HTML page (status and execution timeline)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}
