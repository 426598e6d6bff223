package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/delta"
	"github.com/skybutler/skybutler/lib/registry"
)

func (a *app) addCompact(root *cobra.Command) {
	var tables []string
	var checkpoint, noDelta bool
	cmd := &cobra.Command{
		Use:   "compact REPO",
		Short: "Rewrite the small files of each registry table partition into one (no data change)",
		Args:  exactArgsUsage(1, "skybutler compact REPO [--table T...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			res, st, err := b.Registry.Compact(cmd.Context(), registry.CompactOptions{Tables: tables})
			if err != nil {
				return err
			}
			if res.NoOp {
				fmt.Fprintln(a.out, "Nothing to compact.")
			} else {
				fmt.Fprintf(a.out, "Compacted %d partitions: %d files into %d (version %d).\n", st.Partitions, st.FilesRemoved, st.FilesAdded, res.Version)
			}
			if checkpoint {
				snap := b.Registry.Current()
				if err := b.Registry.WriteCheckpoint(cmd.Context(), snap); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Checkpoint written at version %d.\n", snap.Version)
			}
			if noDelta {
				return nil
			}
			pst, err := delta.Publish(cmd.Context(), b.Store, b.Registry)
			if err != nil {
				return fmt.Errorf("compacted, but publishing the Delta logs failed (run skybutler publish-delta): %w", err)
			}
			fmt.Fprintln(a.out, describePublish(pst))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&tables, "table", nil, "only these tables")
	cmd.Flags().BoolVar(&checkpoint, "checkpoint", false, "also write a checkpoint of the resulting version")
	cmd.Flags().BoolVar(&noDelta, "no-delta", false, "do not publish the Delta Lake logs afterwards")
	root.AddCommand(cmd)
}
