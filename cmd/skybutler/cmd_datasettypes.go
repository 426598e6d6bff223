package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/registry"
)

func (a *app) addDatasetTypes(root *cobra.Command) {
	var isCalib bool
	reg := &cobra.Command{
		Use:   "register-dataset-type REPO NAME STORAGECLASS [DIMENSION...]",
		Short: "Register a dataset type (registering an identical one again is a no-op)",
		Args:  argsUsage(3, "skybutler register-dataset-type REPO NAME STORAGECLASS [DIMENSION...] [--is-calibration]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := datastore.LookupStorageClass(args[2]); err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			dt := registry.DatasetType{Name: args[1], StorageClass: args[2], Dimensions: args[3:], IsCalibration: isCalib}
			res, err := b.Registry.RegisterDatasetTypes(cmd.Context(), dt)
			if err != nil {
				return err
			}
			if res.NoOp {
				fmt.Fprintf(a.out, "Dataset type %s already registered.\n", dt.Name)
			}
			return nil
		},
	}
	reg.Flags().BoolVar(&isCalib, "is-calibration", false, "the dataset type is a calibration (certified into CALIBRATION collections)")

	var format string
	query := &cobra.Command{
		Use:   "query-dataset-types REPO [GLOB...]",
		Short: "List dataset types",
		Args:  argsUsage(1, "skybutler query-dataset-types REPO [GLOB...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			match, err := globMatcher(args[1:])
			if err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			dts, err := b.Registry.Current().DatasetTypes(cmd.Context())
			if err != nil {
				return err
			}
			t := table{cols: []string{"name", "dimensions", "storage_class", "is_calibration"}}
			for _, d := range dts {
				if !match(d.Name) {
					continue
				}
				var dims any = d.Dimensions
				if format != "json" {
					dims = "(" + strings.Join(d.Dimensions, ", ") + ")"
				}
				t.rows = append(t.rows, []any{d.Name, dims, d.StorageClass, d.IsCalibration})
			}
			return printTable(a.out, format, t)
		},
	}
	query.Flags().StringVar(&format, "format", "table", "output format: table or json")
	root.AddCommand(reg, query)
}
