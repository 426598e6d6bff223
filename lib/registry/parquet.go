package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// parquetSchema maps a table schema onto a Parquet schema of optional leaf
// columns, plus the leaf index of each table column in the Parquet file
// (parquet-go orders group fields by name).
func parquetSchema(s *Schema) (*parquet.Schema, []int) {
	g := parquet.Group{}
	for _, c := range s.Columns {
		var n parquet.Node
		switch c.Type {
		case String:
			n = parquet.String()
		case Int:
			n = parquet.Int(64)
		case Float:
			n = parquet.Leaf(parquet.DoubleType)
		case Bool:
			n = parquet.Leaf(parquet.BooleanType)
		case Timestamp:
			n = parquet.Timestamp(parquet.Microsecond)
		default:
			panic(fmt.Sprintf("table %s: column %s has unknown type %q", s.Name, c.Name, c.Type))
		}
		g[c.Name] = parquet.Optional(n)
	}
	ps := parquet.NewSchema(s.Name, g)
	leaf := make([]int, len(s.Columns))
	pos := map[string]int{}
	for i, f := range ps.Fields() {
		pos[f.Name()] = i
	}
	for i, c := range s.Columns {
		leaf[i] = pos[c.Name]
	}
	return ps, leaf
}

// encodeParquet writes rows as one zstd-compressed Parquet file.
func encodeParquet(s *Schema, rows []Row) ([]byte, error) {
	ps, leaf := parquetSchema(s)
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, ps, parquet.Compression(&zstd.Codec{}), parquet.CreatedBy("skybutler", "0", ""))
	batch := make([]parquet.Row, 0, 1024)
	flush := func() error {
		if _, err := w.WriteRows(batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	for _, r := range rows {
		if err := s.Check(r); err != nil {
			return nil, err
		}
		pr := make(parquet.Row, len(s.Columns))
		for i, v := range r {
			col := leaf[i]
			var pv parquet.Value
			switch x := v.(type) {
			case nil:
				pr[col] = parquet.NullValue().Level(0, 0, col)
				continue
			case string:
				pv = parquet.ByteArrayValue([]byte(x))
			case int64:
				pv = parquet.Int64Value(x)
			case float64:
				pv = parquet.DoubleValue(x)
			case bool:
				pv = parquet.BooleanValue(x)
			case time.Time:
				pv = parquet.Int64Value(x.UnixMicro())
			}
			pr[col] = pv.Level(0, 1, col)
		}
		batch = append(batch, pr)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("encode %s: %w", s.Name, err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// decodeParquet reads a Parquet file into rows of schema s. Columns are
// matched by name: a column the file lacks reads as null (schema evolution,
// e.g. a dimension added to the universe); a file column the schema lacks is
// ignored. A column whose physical type disagrees is an error.
func decodeParquet(s *Schema, data []byte) ([]Row, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Name, err)
	}
	fileCols := f.Schema().Fields()
	target := make([]int, len(fileCols)) // file leaf -> schema column, or -1
	for i, fc := range fileCols {
		target[i] = s.Col(fc.Name())
		if target[i] >= 0 && !fc.Leaf() {
			return nil, fmt.Errorf("decode %s: column %s is not a leaf", s.Name, fc.Name())
		}
	}
	out := make([]Row, 0, f.NumRows())
	r := parquet.NewReader(f)
	defer r.Close()
	buf := make([]parquet.Row, 256)
	for {
		n, err := r.ReadRows(buf)
		for _, pr := range buf[:n] {
			row := make(Row, len(s.Columns))
			for _, v := range pr {
				c := v.Column()
				if c < 0 || c >= len(target) || target[c] < 0 || v.IsNull() {
					continue
				}
				ci := target[c]
				val, verr := fromParquet(s.Columns[ci].Type, v)
				if verr != nil {
					return nil, fmt.Errorf("decode %s: column %s: %w", s.Name, s.Columns[ci].Name, verr)
				}
				row[ci] = val
			}
			out = append(out, row)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("decode %s: %w", s.Name, err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}

func fromParquet(t ColumnType, v parquet.Value) (any, error) {
	k := v.Kind()
	switch t {
	case String:
		if k == parquet.ByteArray {
			return string(v.ByteArray()), nil
		}
	case Int:
		if k == parquet.Int64 {
			return v.Int64(), nil
		}
		if k == parquet.Int32 {
			return int64(v.Int32()), nil
		}
	case Float:
		if k == parquet.Double {
			return v.Double(), nil
		}
		if k == parquet.Float {
			return float64(v.Float()), nil
		}
	case Bool:
		if k == parquet.Boolean {
			return v.Boolean(), nil
		}
	case Timestamp:
		if k == parquet.Int64 {
			return time.UnixMicro(v.Int64()).UTC(), nil
		}
	}
	return nil, fmt.Errorf("stored as %s, want %s", k, t)
}
