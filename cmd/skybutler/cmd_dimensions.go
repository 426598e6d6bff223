package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/query"
	"github.com/skybutler/skybutler/lib/registry"
)

func (a *app) addDimensions(root *cobra.Command) {
	root.AddCommand(a.registerInstrumentCmd(), a.queryDimensionRecordsCmd())
}

func (a *app) registerInstrumentCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "register-instrument REPO FILE.yaml|NAME",
		Short: "Register an instrument, its detectors and physical filters from a definition YAML",
		Long: `The definition is a YAML file, or the name of one shipped in
schemas/instruments/ (` + strings.Join(dimensions.Instruments(), ", ") + `).
Registering the same definition again changes nothing; a definition that
disagrees with registered records is refused.`,
		Args: exactArgsUsage(2, "skybutler register-instrument REPO FILE.yaml|NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[1])
			if err != nil {
				var lerr error
				if data, lerr = dimensions.LoadInstrument(args[1]); lerr != nil {
					return fmt.Errorf("instrument definition %s: %w", args[1], err)
				}
			}
			if _, err := dimensions.ParseInstrument(data); err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			res, n, def, err := b.RegisterInstrument(cmd.Context(), data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			if res.NoOp {
				fmt.Fprintf(a.out, "Instrument %s already registered.\n", def.Name)
			} else {
				fmt.Fprintf(a.out, "Registered instrument %s: %d records (version %d).\n", def.Name, n, res.Version)
			}
			return nil
		},
	}
}

func (a *app) queryDimensionRecordsCmd() *cobra.Command {
	var where, format string
	var binds []string
	cmd := &cobra.Command{
		Use:   "query-dimension-records REPO ELEMENT",
		Short: "List the records of one dimension element",
		Args:  exactArgsUsage(2, "skybutler query-dimension-records REPO ELEMENT [--where EXPR]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, err := parseWhere(where, binds)
			if err != nil {
				return err
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			u := b.Registry.Universe()
			elem, ok := u.Element(args[1])
			if !ok {
				return fmt.Errorf("unknown dimension element %q (known: %s)", args[1], strings.Join(u.Names(), ", "))
			}
			res := recordResolver{elem: elem}
			for _, id := range expr.Identifiers() {
				if _, err := res.column(id); err != nil {
					return fmt.Errorf("--where: %w", err)
				}
			}
			recs, err := b.Registry.Current().DimensionRecords(cmd.Context(), elem.Name)
			if err != nil {
				return err
			}
			t := table{}
			for _, c := range elem.Columns() {
				t.cols = append(t.cols, c.Name)
			}
			for _, r := range recs {
				res.rec = r
				ok, err := expr.Eval(res)
				if err != nil {
					return fmt.Errorf("--where: %w", err)
				}
				if !ok {
					continue
				}
				row := make([]any, len(t.cols))
				for i, c := range t.cols {
					row[i] = r.Values[c]
				}
				t.rows = append(t.rows, row)
			}
			return printTable(a.out, format, t)
		},
	}
	cmd.Flags().StringVarP(&where, "where", "d", "", "data-query expression, e.g. \"instrument = 'SPHEREx' AND detector IN (1..3)\"")
	cmd.Flags().StringArrayVar(&binds, "bind", nil, "bind value NAME=VALUE for an identifier in --where (repeatable)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// parseWhere parses a --where expression with its --bind values.
func parseWhere(where string, binds []string) (*query.Expr, error) {
	bind, err := parseBinds(binds)
	if err != nil {
		return nil, err
	}
	expr, err := query.Parse(where, bind)
	if err != nil {
		return nil, fmt.Errorf("--where: %w", err)
	}
	return expr, nil
}

// parseBinds turns NAME=VALUE options into bind values (ints when they parse
// as integers, else strings).
func parseBinds(binds []string) (map[string]any, error) {
	out := map[string]any{}
	for _, kv := range binds {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--bind %q: want NAME=VALUE", kv)
		}
		var i int64
		if _, err := fmt.Sscan(v, &i); err == nil && fmt.Sprint(i) == v {
			out[k] = i
		} else {
			out[k] = v
		}
	}
	return out, nil
}

// recordResolver evaluates --where identifiers against one record: a bare
// dimension name is its key value, "element.field" a field of the queried
// element (its key also as .id/.name), "dim.id"/"dim.name" the key of a
// dimension the record names.
type recordResolver struct {
	elem *dimensions.Element
	rec  dimensions.Record
}

func (r recordResolver) column(id query.Ident) (string, error) {
	cols := map[string]bool{}
	for _, c := range r.elem.Columns() {
		cols[c.Name] = true
	}
	switch {
	case id.Field == "" && cols[id.Element]:
		return id.Element, nil
	case id.Element == r.elem.Name && id.Field == r.elem.Key.Name:
		return r.elem.Name, nil
	case id.Element == r.elem.Name && cols[id.Field] && id.Field != "timespan_begin" && id.Field != "timespan_end":
		return id.Field, nil
	case id.Field == "id" || id.Field == "name":
		if cols[id.Element] && id.Element != r.elem.Name {
			return id.Element, nil
		}
	}
	return "", fmt.Errorf("identifier %q is not a column of %s records: %w", id.String(), r.elem.Name, registry.ErrInvalid)
}

func (r recordResolver) Resolve(id query.Ident) (any, error) {
	c, err := r.column(id)
	if err != nil {
		return nil, err
	}
	return r.rec.Values[c], nil
}
