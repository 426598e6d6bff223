package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/registry"
)

func (a *app) addCollections(root *cobra.Command) {
	root.AddCommand(a.registerCollectionCmd(), a.collectionChainCmd(), a.queryCollectionsCmd())
}

func (a *app) registerCollectionCmd() *cobra.Command {
	var typ, doc string
	cmd := &cobra.Command{
		Use:   "register-collection REPO NAME",
		Short: "Register a RUN, TAGGED or CALIBRATION collection",
		Args:  exactArgsUsage(2, "skybutler register-collection REPO NAME --type RUN|TAGGED|CALIBRATION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := registry.ParseCollectionType(typ)
			if err != nil {
				return err
			}
			if t == registry.Chained {
				return fmt.Errorf("use collection-chain to create a CHAINED collection")
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			if _, err := b.Registry.RegisterCollections(cmd.Context(), registry.Collection{Name: args[1], Type: t, Doc: doc}); err != nil {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "RUN", "collection type: RUN, TAGGED or CALIBRATION")
	cmd.Flags().StringVar(&doc, "doc", "", "documentation string")
	return cmd
}

func (a *app) collectionChainCmd() *cobra.Command {
	var mode, doc string
	var flatten bool
	cmd := &cobra.Command{
		Use:   "collection-chain REPO PARENT CHILD...",
		Short: "Define or modify a CHAINED collection (created when missing)",
		Long: `Modes: redefine (replace the children), extend (append), prepend (insert at
the front), remove (drop the named children), pop (drop children by position,
default 0). Children already in the chain move to the new position.`,
		Args: argsUsage(2, "skybutler collection-chain REPO PARENT CHILD... [--mode redefine|extend|prepend|remove|pop]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := registry.ParseChainMode(mode)
			if err != nil {
				return err
			}
			children := args[2:]
			if len(children) == 0 && m != registry.ChainPop && m != registry.ChainRedefine {
				return fmt.Errorf("collection-chain --mode %s needs at least one child", m)
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			chain, err := b.Registry.SetChain(cmd.Context(), args[1], children, m, registry.ChainOptions{Doc: doc, Flatten: flatten})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "[%s]\n", strings.Join(chain, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "redefine", "redefine, extend, prepend, remove or pop")
	cmd.Flags().StringVar(&doc, "doc", "", "documentation of the parent when it is created")
	cmd.Flags().BoolVar(&flatten, "flatten", false, "flatten CHAINED children into their search paths")
	return cmd
}

func (a *app) queryCollectionsCmd() *cobra.Command {
	var chains, format string
	var types []string
	cmd := &cobra.Command{
		Use:   "query-collections REPO [GLOB...]",
		Short: "List collections",
		Args:  argsUsage(1, "skybutler query-collections REPO [GLOB...] [--chains table|tree|flatten|no-children]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			match, err := globMatcher(args[1:])
			if err != nil {
				return err
			}
			want := map[registry.CollectionType]bool{}
			for _, t := range types {
				ct, err := registry.ParseCollectionType(t)
				if err != nil {
					return err
				}
				want[ct] = true
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			snap := b.Registry.Current()
			all, err := snap.Collections(cmd.Context())
			if err != nil {
				return err
			}
			byName := map[string]registry.Collection{}
			var selected []registry.Collection
			for _, c := range all {
				byName[c.Name] = c
				if match(c.Name) && (len(want) == 0 || want[c.Type]) {
					selected = append(selected, c)
				}
			}
			t := table{cols: []string{"Name", "Type"}}
			switch strings.ToLower(chains) {
			case "table", "":
				t.cols = append(t.cols, "Children")
				for _, c := range selected {
					var ch any
					if c.Type == registry.Chained {
						ch = c.Children
						if format != "json" {
							ch = strings.Join(c.Children, " ")
						}
					}
					t.rows = append(t.rows, []any{c.Name, string(c.Type), ch})
				}
			case "no-children":
				for _, c := range selected {
					t.rows = append(t.rows, []any{c.Name, string(c.Type)})
				}
			case "tree":
				var walk func(c registry.Collection, depth int, seen map[string]bool)
				walk = func(c registry.Collection, depth int, seen map[string]bool) {
					t.rows = append(t.rows, []any{strings.Repeat("  ", depth) + c.Name, string(c.Type)})
					if seen[c.Name] {
						return
					}
					seen[c.Name] = true
					for _, ch := range c.Children {
						walk(byName[ch], depth+1, seen)
					}
					delete(seen, c.Name)
				}
				for _, c := range selected {
					walk(c, 0, map[string]bool{})
				}
			case "flatten":
				seen := map[string]bool{}
				for _, c := range selected {
					flat, err := snap.Flatten(cmd.Context(), []string{c.Name})
					if err != nil {
						return err
					}
					for _, n := range flat {
						if !seen[n] {
							seen[n] = true
							t.rows = append(t.rows, []any{n, string(byName[n].Type)})
						}
					}
				}
			default:
				return fmt.Errorf("--chains %q: want table, tree, flatten or no-children", chains)
			}
			return printTable(a.out, format, t)
		},
	}
	cmd.Flags().StringVar(&chains, "chains", "table", "how to show CHAINED collections: table, tree, flatten or no-children")
	cmd.Flags().StringSliceVar(&types, "collection-type", nil, "only collections of these types")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}
