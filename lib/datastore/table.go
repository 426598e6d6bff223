package datastore

import (
	"fmt"
)

// Table is a columnar table: the in-memory type of the ArrowTable and
// DataFrame storage classes. Columns have distinct names and equal lengths.
type Table struct {
	Columns []Column
}

// Column is one named column. Values is a []int64, []float64, []string or
// []bool.
type Column struct {
	Name   string
	Values any
}

// Len returns the number of values, or -1 when Values is not one of the
// column types.
func (c Column) Len() int {
	switch v := c.Values.(type) {
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []string:
		return len(v)
	case []bool:
		return len(v)
	}
	return -1
}

// NumRows returns the length of the first column (0 without columns).
func (t *Table) NumRows() int {
	if t == nil || len(t.Columns) == 0 {
		return 0
	}
	return max(t.Columns[0].Len(), 0)
}

// Column returns the column with the given name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Validate checks column names (non-empty, distinct), value types and
// lengths (all equal).
func (t *Table) Validate() error {
	if t == nil {
		return fmt.Errorf("table is nil")
	}
	seen := make(map[string]bool, len(t.Columns))
	for i, c := range t.Columns {
		if c.Name == "" {
			return fmt.Errorf("table column %d has no name", i)
		}
		if seen[c.Name] {
			return fmt.Errorf("table column %q appears twice", c.Name)
		}
		seen[c.Name] = true
		n := c.Len()
		if n < 0 {
			return fmt.Errorf("table column %q has values of type %T (want []int64, []float64, []string or []bool)", c.Name, c.Values)
		}
		if first := t.Columns[0]; n != first.Len() {
			return fmt.Errorf("table column %q has %d rows but column %q has %d", c.Name, n, first.Name, first.Len())
		}
	}
	return nil
}
