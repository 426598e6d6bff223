package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/dimensions"
)

func (a *app) addCreate(root *cobra.Command) {
	var dimConfig string
	var checkpoint int64
	cmd := &cobra.Command{
		Use:   "create REPO",
		Short: "Create an empty repository (a local directory, file:///path or s3://bucket/prefix)",
		Args:  exactArgsUsage(1, "skybutler create REPO [--dimension-config FILE]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u *dimensions.Universe
			if dimConfig != "" {
				data, err := os.ReadFile(dimConfig)
				if err != nil {
					return fmt.Errorf("--dimension-config: %w", err)
				}
				if u, err = dimensions.Load(data); err != nil {
					return fmt.Errorf("--dimension-config %s: %w", dimConfig, err)
				}
			}
			b, err := butler.Create(cmd.Context(), args[0], butler.CreateOptions{Universe: u, CheckpointInterval: checkpoint, Logger: a.logger})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Created repository %s (universe %s v%d).\n", b.URI, b.Registry.Universe().Namespace, b.Registry.Universe().Version)
			return nil
		},
	}
	cmd.Flags().StringVar(&dimConfig, "dimension-config", "", "YAML file of a custom dimension universe (default: schemas/dimensions.yaml)")
	cmd.Flags().Int64Var(&checkpoint, "checkpoint-interval", 100, "write a registry checkpoint every N commits")
	root.AddCommand(cmd)
}
