package registry

import (
	"fmt"
	"time"
)

// ColumnType is the logical type of a registry table column. Every column is
// nullable in the Parquet files (Athena- and DuckDB-friendly flat columns).
type ColumnType string

// Column types.
const (
	String    ColumnType = "string"
	Int       ColumnType = "int"
	Float     ColumnType = "float"
	Bool      ColumnType = "bool"
	Timestamp ColumnType = "timestamp"
)

// Column is one column of a table schema.
type Column struct {
	Name string
	Type ColumnType
}

// Schema describes one registry table: its columns (in order) and the columns
// its files are partitioned by (Hive-style k=v directories).
type Schema struct {
	Name        string
	Columns     []Column
	PartitionBy []string // column names; values taken from the rows
	index       map[string]int
}

// NewSchema builds a schema and its column index.
func NewSchema(name string, cols []Column, partitionBy ...string) *Schema {
	s := &Schema{Name: name, Columns: cols, PartitionBy: partitionBy, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		s.index[c.Name] = i
	}
	return s
}

// Col returns the position of a column, or -1.
func (s *Schema) Col(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// Row is one table row, aligned with its Schema's Columns. Values are nil,
// string, int64, float64, bool or time.Time (UTC).
type Row []any

// Get returns the value of a named column (nil when absent).
func (s *Schema) Get(r Row, name string) any {
	if i := s.Col(name); i >= 0 && i < len(r) {
		return r[i]
	}
	return nil
}

// Str returns a string column value ("" when null).
func (s *Schema) Str(r Row, name string) string {
	v, _ := s.Get(r, name).(string)
	return v
}

// Int returns an int column value (0 when null).
func (s *Schema) Int(r Row, name string) int64 {
	v, _ := s.Get(r, name).(int64)
	return v
}

// Check verifies that a row has the schema's shape and value types.
func (s *Schema) Check(r Row) error {
	if len(r) != len(s.Columns) {
		return fmt.Errorf("table %s: row has %d values, schema has %d columns", s.Name, len(r), len(s.Columns))
	}
	for i, c := range s.Columns {
		if r[i] == nil {
			continue
		}
		ok := false
		switch c.Type {
		case String:
			_, ok = r[i].(string)
		case Int:
			_, ok = r[i].(int64)
		case Float:
			_, ok = r[i].(float64)
		case Bool:
			_, ok = r[i].(bool)
		case Timestamp:
			_, ok = r[i].(time.Time)
		}
		if !ok {
			return fmt.Errorf("table %s: column %s wants %s, got %T", s.Name, c.Name, c.Type, r[i])
		}
	}
	return nil
}
