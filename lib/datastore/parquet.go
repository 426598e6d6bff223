package datastore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// parquetFormatter stores a Table as a Parquet file: one required column
// per table column, in table order (int64 -> INT64, float64 -> DOUBLE,
// string -> BYTE_ARRAY with the STRING logical type, bool -> BOOLEAN),
// zstd-compressed. Any Parquet, Athena or DuckDB reader can read it.
//
// Reading accepts flat files written by other tools too: INT32 and INT64
// columns (whatever their logical type) become []int64, FLOAT and DOUBLE
// []float64, BYTE_ARRAY []string, BOOLEAN []bool. Nested columns, other
// physical types and null values are errors.
type parquetFormatter struct{}

var _ Formatter = parquetFormatter{}

func (parquetFormatter) Name() string      { return FormatterParquet }
func (parquetFormatter) Extension() string { return ".parquet" }

// parquetBatch is the number of rows handed to the writer or read at once.
const parquetBatch = 1024

func (parquetFormatter) Write(obj any) (data []byte, err error) {
	var t *Table
	switch v := obj.(type) {
	case *Table:
		t = v
	case Table:
		t = &v
	default:
		return nil, wrongType(FormatterParquet, obj, "*datastore.Table or datastore.Table")
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("parquet: write: %w", err)
	}
	if len(t.Columns) == 0 {
		return nil, errors.New("parquet: write: the table has no columns")
	}
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("parquet: write: %v", r)
		}
	}()
	fields := make(orderedGroup, len(t.Columns))
	for i, c := range t.Columns {
		var node parquet.Node
		switch c.Values.(type) {
		case []int64:
			node = parquet.Leaf(parquet.Int64Type)
		case []float64:
			node = parquet.Leaf(parquet.DoubleType)
		case []string:
			node = parquet.String()
		case []bool:
			node = parquet.Leaf(parquet.BooleanType)
		}
		fields[i] = namedNode{Node: node, name: c.Name}
	}
	schema := parquet.NewSchema("table", fields)
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema, parquet.Compression(&parquet.Zstd), parquet.CreatedBy("skybutler", "", ""))
	n := t.NumRows()
	rows := make([]parquet.Row, 0, min(n, parquetBatch))
	for start := 0; start < n; start += parquetBatch {
		rows = rows[:0]
		for r := start; r < min(n, start+parquetBatch); r++ {
			row := make(parquet.Row, len(t.Columns))
			for ci, c := range t.Columns {
				row[ci] = columnValue(c.Values, r).Level(0, 0, ci)
			}
			rows = append(rows, row)
		}
		if _, err := w.WriteRows(rows); err != nil {
			return nil, fmt.Errorf("parquet: write rows: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("parquet: write: %w", err)
	}
	return buf.Bytes(), nil
}

func columnValue(values any, i int) parquet.Value {
	switch v := values.(type) {
	case []int64:
		return parquet.Int64Value(v[i])
	case []float64:
		return parquet.DoubleValue(v[i])
	case []string:
		return parquet.ByteArrayValue([]byte(v[i]))
	case []bool:
		return parquet.BooleanValue(v[i])
	}
	panic(fmt.Sprintf("column type %T", values)) // excluded by Table.Validate
}

func (parquetFormatter) Read(data []byte) (obj any, err error) {
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("parquet: read: malformed file: %v", r)
		}
	}()
	t, err := readParquetTable(data)
	if err != nil {
		return nil, fmt.Errorf("parquet: read: %w", err)
	}
	return t, nil
}

func readParquetTable(data []byte) (*Table, error) {
	if err := checkParquetFrame(data); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	fields := f.Schema().Fields()
	// Preallocate for the declared row count, but not beyond what a
	// corrupt footer could make us allocate for nothing.
	capacity := int(min(max(f.NumRows(), 0), 1<<16))
	t := &Table{Columns: make([]Column, len(fields))}
	kinds := make([]parquet.Kind, len(fields))
	for i, fl := range fields {
		if !fl.Leaf() || fl.Repeated() {
			return nil, fmt.Errorf("column %q is nested or repeated (only flat tables are supported)", fl.Name())
		}
		kinds[i] = fl.Type().Kind()
		var values any
		switch kinds[i] {
		case parquet.Int32, parquet.Int64:
			values = make([]int64, 0, capacity)
		case parquet.Float, parquet.Double:
			values = make([]float64, 0, capacity)
		case parquet.ByteArray:
			values = make([]string, 0, capacity)
		case parquet.Boolean:
			values = make([]bool, 0, capacity)
		default:
			return nil, fmt.Errorf("column %q has the unsupported physical type %s", fl.Name(), kinds[i])
		}
		t.Columns[i] = Column{Name: fl.Name(), Values: values}
	}
	buf := make([]parquet.Row, parquetBatch)
	rowIndex := 0
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				if err := appendRow(t, kinds, row, rowIndex); err != nil {
					rows.Close()
					return nil, err
				}
				rowIndex++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return nil, err
			}
			if n == 0 {
				rows.Close()
				return nil, errors.New("reader made no progress")
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// checkParquetFrame checks the magic numbers and the footer length before
// parquet-go sees the file: it allocates the declared footer length
// without checking it against the file size.
func checkParquetFrame(data []byte) error {
	const magic = "PAR1"
	if len(data) < 12 || string(data[:4]) != magic || string(data[len(data)-4:]) != magic {
		return errors.New("not a Parquet file (no PAR1 magic at both ends)")
	}
	footer := binary.LittleEndian.Uint32(data[len(data)-8:])
	if int64(footer) > int64(len(data)-12) {
		return fmt.Errorf("footer length %d exceeds the file size %d", footer, len(data))
	}
	return nil
}

func appendRow(t *Table, kinds []parquet.Kind, row parquet.Row, rowIndex int) error {
	seen := 0
	for _, v := range row {
		ci := v.Column()
		if ci < 0 || ci >= len(t.Columns) {
			return fmt.Errorf("row %d: value for unknown column %d", rowIndex, ci)
		}
		c := &t.Columns[ci]
		if v.IsNull() {
			return fmt.Errorf("column %q: null at row %d (null values are not supported)", c.Name, rowIndex)
		}
		switch vals := c.Values.(type) {
		case []int64:
			if kinds[ci] == parquet.Int32 {
				c.Values = append(vals, int64(v.Int32()))
			} else {
				c.Values = append(vals, v.Int64())
			}
		case []float64:
			if kinds[ci] == parquet.Float {
				c.Values = append(vals, float64(v.Float()))
			} else {
				c.Values = append(vals, v.Double())
			}
		case []string:
			c.Values = append(vals, string(v.ByteArray()))
		case []bool:
			c.Values = append(vals, v.Boolean())
		}
		seen++
	}
	if seen != len(t.Columns) {
		return fmt.Errorf("row %d has %d values for %d columns", rowIndex, seen, len(t.Columns))
	}
	return nil
}

// orderedGroup is a Parquet group node whose fields keep the given order
// (parquet.Group sorts them by name), so files list columns in table order.
type orderedGroup []parquet.Field

var _ parquet.Node = orderedGroup(nil)

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return g.group().String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return g.group().GoType() }
func (g orderedGroup) group() parquet.Group {
	m := make(parquet.Group, len(g))
	for _, f := range g {
		m[f.Name()] = f
	}
	return m
}

// namedNode is a field of an orderedGroup.
type namedNode struct {
	parquet.Node
	name string
}

var _ parquet.Field = namedNode{}

func (f namedNode) Name() string { return f.name }

// Value returns the field of a struct or map row (used only by
// reflection-based writers, which this package does not use).
func (f namedNode) Value(base reflect.Value) reflect.Value {
	switch base.Kind() {
	case reflect.Map:
		return base.MapIndex(reflect.ValueOf(f.name))
	case reflect.Struct:
		return base.FieldByName(f.name)
	}
	return reflect.Value{}
}
