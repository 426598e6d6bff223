package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

func (a *app) addDatasets(root *cobra.Command) {
	root.AddCommand(a.queryDatasetsCmd(), a.queryDataIDsCmd(), a.ingestFilesCmd(), a.certifyCmd(), a.associateCmd(),
		a.pruneCmd(), a.removeRunsCmd(), a.retrieveCmd(), a.transferCmd(), a.verifyCmd())
}

// selection is the common dataset selection of query-like commands.
type selection struct {
	collections []string
	types       []string
	where       string
	binds       []string
	findFirst   bool
}

func (s *selection) flags(cmd *cobra.Command, withTypes bool) {
	cmd.Flags().StringSliceVar(&s.collections, "collections", nil, "collections to search, in order (comma-separated; default: all)")
	if withTypes {
		cmd.Flags().StringSliceVar(&s.types, "datasets", nil, "dataset types (default: all)")
	}
	cmd.Flags().StringVarP(&s.where, "where", "d", "", "data-query expression on data ID values and dimension record fields")
	cmd.Flags().StringArrayVar(&s.binds, "bind", nil, "bind value NAME=VALUE for --where (repeatable)")
}

func (s *selection) query(b *butler.Butler, snap *registry.Snapshot, cmd *cobra.Command) ([]registry.DatasetRef, error) {
	expr, err := parseWhere(s.where, s.binds)
	if err != nil {
		return nil, err
	}
	return snap.QueryDatasets(cmd.Context(), registry.DatasetQuery{DatasetTypes: s.types, Collections: s.collections, Where: expr, FindFirst: s.findFirst})
}

// refTable renders datasets as a table: type, run, id, then the data ID
// columns of the types shown (universe order).
func refTable(u *dimensions.Universe, refs []registry.DatasetRef, uris map[string]string) table {
	used := map[string]bool{}
	for _, r := range refs {
		for k := range r.DataID {
			used[k] = true
		}
	}
	t := table{cols: []string{"type", "run", "id"}}
	var dims []string
	for _, n := range u.Names() {
		if used[n] {
			dims = append(dims, n)
		}
	}
	t.cols = append(t.cols, dims...)
	if uris != nil {
		t.cols = append(t.cols, "uri")
	}
	for _, r := range refs {
		row := []any{r.DatasetType, r.Run, r.ID}
		for _, d := range dims {
			row = append(row, r.DataID[d])
		}
		if uris != nil {
			row = append(row, uris[r.ID])
		}
		t.rows = append(t.rows, row)
	}
	return t
}

func (a *app) queryDatasetsCmd() *cobra.Command {
	var sel selection
	var format string
	var showURI bool
	cmd := &cobra.Command{
		Use:   "query-datasets REPO [TYPE...]",
		Short: "List datasets by type, collection and data query",
		Args:  argsUsage(1, "skybutler query-datasets REPO [TYPE...] [--collections C,...] [--where EXPR] [--find-first]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			sel.types = args[1:]
			snap := b.Registry.Current()
			refs, err := sel.query(b, snap, cmd)
			if err != nil {
				return err
			}
			var uris map[string]string
			if showURI {
				uris = map[string]string{}
				for _, dt := range uniqueTypes(refs) {
					recs, err := snap.FileRecords(cmd.Context(), dt)
					if err != nil {
						return err
					}
					for id, fs := range recs {
						if len(fs) > 0 {
							uris[id] = fileURI(b, fs[0].URI)
						}
					}
				}
			}
			return printTable(a.out, format, refTable(b.Registry.Universe(), refs, uris))
		},
	}
	sel.flags(cmd, false)
	cmd.Flags().BoolVar(&sel.findFirst, "find-first", false, "per data ID, only the first match along --collections")
	cmd.Flags().BoolVar(&showURI, "show-uri", false, "show the URI of each dataset's file")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func fileURI(b *butler.Butler, uri string) string {
	if butler.IsAbsoluteURI(uri) {
		return uri
	}
	return strings.TrimSuffix(b.URI, "/") + "/" + butler.DatastorePrefix + uri
}

func uniqueTypes(refs []registry.DatasetRef) []string {
	var out []string
	for _, r := range refs {
		if !slices.Contains(out, r.DatasetType) {
			out = append(out, r.DatasetType)
		}
	}
	return out
}

func (a *app) queryDataIDsCmd() *cobra.Command {
	var sel selection
	var format string
	cmd := &cobra.Command{
		Use:   "query-data-ids REPO DIMENSION...",
		Short: "List the distinct data IDs of datasets (with --datasets) or of dimension records",
		Args:  argsUsage(2, "skybutler query-data-ids REPO DIMENSION... [--datasets T] [--collections C] [--where EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			u := b.Registry.Universe()
			dims, err := u.Required(args[1:])
			if err != nil {
				return err
			}
			expr, err := parseWhere(sel.where, sel.binds)
			if err != nil {
				return err
			}
			snap := b.Registry.Current()
			ids, err := snap.QueryDataIDs(cmd.Context(), dims, sel.types, sel.collections, expr)
			if err != nil {
				return err
			}
			t := table{cols: dims}
			for _, id := range ids {
				row := make([]any, len(dims))
				for i, d := range dims {
					row[i] = id[d]
				}
				t.rows = append(t.rows, row)
			}
			return printTable(a.out, format, t)
		},
	}
	sel.flags(cmd, true)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func (a *app) ingestFilesCmd() *cobra.Command {
	var dataID []string
	var transfer string
	cmd := &cobra.Command{
		Use:   "ingest-files REPO TYPE RUN FILE...",
		Short: "Ingest existing files as datasets of one type into a RUN",
		Long: `Each FILE is a file (local path or s3:// URI), or a CSV table whose first
column is the file and whose other columns are data ID values (header row:
file,DIM,...). --data-id values apply to every file. The RUN is created when
missing. Re-ingesting a file is a no-op (dataset IDs are deterministic).`,
		Args: argsUsage(4, "skybutler ingest-files REPO TYPE RUN FILE... [--data-id k=v] [--transfer copy|move|link|symlink|direct|auto]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := butler.ParseTransfer(transfer)
			if err != nil {
				return err
			}
			common, err := parseBinds(dataID)
			if err != nil {
				return fmt.Errorf("--data-id: %w", err)
			}
			var files []butler.IngestFile
			for _, f := range args[3:] {
				if strings.HasSuffix(strings.ToLower(f), ".csv") {
					rows, err := readIngestTable(f)
					if err != nil {
						return err
					}
					for _, r := range rows {
						for k, v := range common {
							r.DataID[k] = v
						}
						r.DatasetType, r.Run = args[1], args[2]
						files = append(files, r)
					}
					continue
				}
				id := map[string]any{}
				for k, v := range common {
					id[k] = v
				}
				files = append(files, butler.IngestFile{Source: f, DatasetType: args[1], Run: args[2], DataID: id})
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			if err := ensureRun(cmd, b, args[2]); err != nil {
				return err
			}
			res, err := b.Ingest(cmd.Context(), files, butler.IngestOptions{Transfer: mode})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Ingested %d datasets (%d already present) into %s.\n", len(res.Ingested), len(res.Skipped), args[2])
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dataID, "data-id", nil, "data ID value k=v for every file (repeatable)")
	cmd.Flags().StringVar(&transfer, "transfer", "auto", "copy, move, link, symlink, direct or auto")
	return cmd
}

// ensureRun registers a RUN collection unless it exists (as a RUN).
func ensureRun(cmd *cobra.Command, b *butler.Butler, run string) error {
	_, err := b.Registry.Commit(cmd.Context(), "register-collection", func(tx *registry.Tx) error {
		c, err := tx.Snapshot().Collection(cmd.Context(), run)
		if err == nil {
			if c.Type != registry.Run {
				return registry.Errorf(registry.ErrConflict, "collection %q is %s, not RUN", run, c.Type)
			}
			return nil
		}
		return registry.RegisterCollection(tx, registry.Collection{Name: run, Type: registry.Run})
	})
	return err
}

func readIngestTable(path string) ([]butler.IngestFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 1 || len(rows[0]) < 1 {
		return nil, fmt.Errorf("%s: empty table", path)
	}
	head := rows[0]
	var out []butler.IngestFile
	for i, r := range rows[1:] {
		if len(r) != len(head) {
			return nil, fmt.Errorf("%s: row %d has %d columns, header has %d", path, i+2, len(r), len(head))
		}
		id := map[string]any{}
		for j := 1; j < len(r); j++ {
			id[strings.TrimSpace(head[j])] = strings.TrimSpace(r[j])
		}
		out = append(out, butler.IngestFile{Source: strings.TrimSpace(r[0]), DataID: id})
	}
	return out, nil
}

func (a *app) certifyCmd() *cobra.Command {
	var begin, end string
	var searchAll bool
	cmd := &cobra.Command{
		Use:   "certify-calibrations REPO INPUT_RUN CALIB_COLLECTION TYPE",
		Short: "Certify the calibrations of a RUN into a CALIBRATION collection for a validity range",
		Args:  exactArgsUsage(4, "skybutler certify-calibrations REPO INPUT_RUN CALIB_COLLECTION TYPE --begin-date T --end-date T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var span dimensions.Timespan
			var err error
			if begin != "" {
				if span.Begin, err = dimensions.ParseTime(begin); err != nil {
					return fmt.Errorf("--begin-date: %w", err)
				}
			}
			if end != "" {
				if span.End, err = dimensions.ParseTime(end); err != nil {
					return fmt.Errorf("--end-date: %w", err)
				}
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			n := 0
			res, err := b.Registry.Commit(ctx, "certify-calibrations", func(tx *registry.Tx) error {
				snap := tx.Snapshot()
				if _, err := snap.Collection(ctx, args[2]); err != nil {
					if err := registry.RegisterCollection(tx, registry.Collection{Name: args[2], Type: registry.Calibration}); err != nil {
						return err
					}
				}
				colls := []string{args[1]}
				refs, err := snap.QueryDatasets(ctx, registry.DatasetQuery{DatasetTypes: []string{args[3]}, Collections: colls, FindFirst: !searchAll})
				if err != nil {
					return err
				}
				if len(refs) == 0 {
					return registry.Errorf(registry.ErrNotFound, "no %s datasets in %s", args[3], args[1])
				}
				n, err = registry.Certify(tx, args[2], refs, span)
				tx.Summarize("certified", n)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Certified %d %s datasets into %s for %s (version %d).\n", n, args[3], args[2], span, res.Version)
			return nil
		},
	}
	cmd.Flags().StringVar(&begin, "begin-date", "", "start of validity (ISO time, UTC; default unbounded)")
	cmd.Flags().StringVar(&end, "end-date", "", "end of validity, exclusive (ISO time, UTC; default unbounded)")
	cmd.Flags().BoolVar(&searchAll, "search-all-inputs", false, "certify every matching dataset, not only the first per data ID")
	return cmd
}

func (a *app) associateCmd() *cobra.Command {
	var sel selection
	cmd := &cobra.Command{
		Use:   "associate REPO COLLECTION",
		Short: "Add datasets to a TAGGED collection (created when missing)",
		Args:  exactArgsUsage(2, "skybutler associate REPO COLLECTION --collections C [--datasets T] [--where EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			n := 0
			_, err = b.Registry.Commit(ctx, "associate", func(tx *registry.Tx) error {
				if _, err := tx.Snapshot().Collection(ctx, args[1]); err != nil {
					if err := registry.RegisterCollection(tx, registry.Collection{Name: args[1], Type: registry.Tagged}); err != nil {
						return err
					}
				}
				refs, err := sel.query(b, tx.Snapshot(), cmd)
				if err != nil {
					return err
				}
				n, err = registry.Associate(tx, args[1], refs)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Associated %d datasets with %s.\n", n, args[1])
			return nil
		},
	}
	sel.flags(cmd, true)
	sel.findFirst = true
	return cmd
}

func (a *app) pruneCmd() *cobra.Command {
	var sel selection
	var unstore, purge, dryRun bool
	var disassociate []string
	cmd := &cobra.Command{
		Use:   "prune-datasets REPO [COLLECTION...]",
		Short: "Remove datasets: --unstore (files), --disassociate (tags), --purge (everything)",
		Args:  argsUsage(1, "skybutler prune-datasets REPO [COLLECTION...] [--datasets T] [--where EXPR] (--unstore | --disassociate C | --purge) [--dry-run]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !unstore && !purge && len(disassociate) == 0 {
				return fmt.Errorf("prune-datasets: say what to do: --unstore, --disassociate COLLECTION or --purge")
			}
			sel.collections = append(sel.collections, args[1:]...)
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			refs, err := sel.query(b, b.Registry.Current(), cmd)
			if err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintf(a.out, "Would prune %d datasets:\n", len(refs))
				return printTable(a.out, "table", refTable(b.Registry.Universe(), refs, nil))
			}
			files, err := b.Prune(cmd.Context(), refs, butler.PruneOptions{Unstore: unstore, Purge: purge, Disassociate: disassociate})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Pruned %d datasets (%d files deleted).\n", len(refs), len(files))
			return nil
		},
	}
	sel.flags(cmd, true)
	cmd.Flags().BoolVar(&unstore, "unstore", false, "delete the files and datastore records, keep the datasets registered")
	cmd.Flags().BoolVar(&purge, "purge", false, "remove the datasets entirely: registry rows and files")
	cmd.Flags().StringSliceVar(&disassociate, "disassociate", nil, "remove from these TAGGED/CALIBRATION collections ('*': all)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list what would be pruned")
	return cmd
}

func (a *app) removeRunsCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "remove-runs REPO GLOB...",
		Short: "Remove RUN collections with their datasets and files (bad or test runs)",
		Args:  argsUsage(2, "skybutler remove-runs REPO GLOB... [--dry-run]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			match, err := globMatcher(args[1:])
			if err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			cs, err := b.Registry.Current().Collections(cmd.Context())
			if err != nil {
				return err
			}
			var runs []string
			for _, c := range cs {
				if c.Type == registry.Run && match(c.Name) {
					runs = append(runs, c.Name)
				}
			}
			if len(runs) == 0 {
				return registry.Errorf(registry.ErrNotFound, "no RUN collection matches %s", strings.Join(args[1:], " "))
			}
			if dryRun {
				fmt.Fprintf(a.out, "Would remove %d runs: %s\n", len(runs), strings.Join(runs, ", "))
				return nil
			}
			files, err := b.RemoveRuns(cmd.Context(), runs)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Removed %d runs (%d files deleted): %s\n", len(runs), len(files), strings.Join(runs, ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list the runs that would be removed")
	return cmd
}

func (a *app) retrieveCmd() *cobra.Command {
	var sel selection
	var preserve bool
	cmd := &cobra.Command{
		Use:   "retrieve-artifacts REPO DEST",
		Short: "Copy the files of datasets into a local directory",
		Args:  exactArgsUsage(2, "skybutler retrieve-artifacts REPO DEST --collections C [--datasets T] [--where EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			snap := b.Registry.Current()
			refs, err := sel.query(b, snap, cmd)
			if err != nil {
				return err
			}
			paths, err := b.RetrieveArtifacts(cmd.Context(), snap, refs, args[1], preserve)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Retrieved %d files into %s.\n", len(paths), args[1])
			return nil
		},
	}
	sel.flags(cmd, true)
	cmd.Flags().BoolVar(&preserve, "preserve-path", true, "keep the datastore directory structure")
	return cmd
}

func (a *app) transferCmd() *cobra.Command {
	var sel selection
	cmd := &cobra.Command{
		Use:   "transfer-datasets SRC DEST",
		Short: "Copy datasets, their files and what they need from one repository to another",
		Args:  exactArgsUsage(2, "skybutler transfer-datasets SRC DEST --collections C [--datasets T] [--where EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			dst, err := a.open(cmd, args[1])
			if err != nil {
				return err
			}
			refs, err := sel.query(src, src.Registry.Current(), cmd)
			if err != nil {
				return err
			}
			n, err := dst.TransferDatasets(cmd.Context(), src, refs)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Transferred %d datasets (%d selected) from %s to %s.\n", n, len(refs), src.URI, dst.URI)
			return nil
		},
	}
	sel.flags(cmd, true)
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	var sel selection
	var full bool
	var format string
	cmd := &cobra.Command{
		Use:   "verify REPO",
		Short: "Check that every dataset file exists with its recorded size (and, with --full, checksum)",
		Args:  exactArgsUsage(1, "skybutler verify REPO [--collections C] [--full]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			snap := b.Registry.Current()
			refs, err := sel.query(b, snap, cmd)
			if err != nil {
				return err
			}
			start := time.Now()
			problems, checked, err := b.Verify(cmd.Context(), snap, refs, full)
			if err != nil {
				return err
			}
			if len(problems) == 0 {
				fmt.Fprintf(a.out, "Verified %d files: no problems (%s).\n", checked, time.Since(start).Round(time.Millisecond))
				return nil
			}
			t := table{cols: []string{"problem", "dataset_type", "dataset_id", "uri", "detail"}}
			for _, p := range problems {
				t.rows = append(t.rows, []any{p.Kind, p.DatasetType, p.DatasetID, p.URI, p.Detail})
			}
			if err := printTable(a.out, format, t); err != nil {
				return err
			}
			return fmt.Errorf("verify: %d of %d files have problems", len(problems), checked)
		},
	}
	sel.flags(cmd, true)
	cmd.Flags().BoolVar(&full, "full", false, "also read every file and compare its checksum (finds bit rot)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}
