package datastore

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func testTable(rows int) *Table {
	ids := make([]int64, rows)
	flux := make([]float64, rows)
	names := make([]string, rows)
	good := make([]bool, rows)
	for i := range rows {
		ids[i] = int64(i*7 - 3)
		flux[i] = float64(i) * 0.5
		names[i] = fmt.Sprintf("src-%d ✓", i)
		good[i] = i%3 == 0
	}
	if rows > 2 {
		flux[1] = math.Inf(-1)
		names[2] = ""
		ids[0] = math.MinInt64
	}
	// Columns deliberately not in alphabetical order.
	return &Table{Columns: []Column{
		{Name: "z_id", Values: ids},
		{Name: "flux", Values: flux},
		{Name: "name", Values: names},
		{Name: "good", Values: good},
	}}
}

func TestParquetRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		tbl  *Table
	}{
		{"a small table keeps its values and column order", testTable(5)},
		{"a table of several batches round-trips", testTable(2500)},
		{"an empty table keeps its columns", testTable(0)},
		{"a table value (not a pointer) is written", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FormatterFor(StorageClassArrowTable, "")
			if err != nil {
				t.Fatal(err)
			}
			want := tc.tbl
			var obj any = want
			if want == nil {
				want = testTable(3)
				obj = *want
			}
			data, err := f.Write(obj)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := f.Read(data)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip\n got %#v\nwant %#v", got, want)
			}
			file, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, rg := range file.Metadata().RowGroups {
				for _, c := range rg.Columns {
					if c.MetaData.Codec.String() != "ZSTD" {
						t.Errorf("column %v uses codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
					}
				}
			}
		})
	}
}

func TestParquetWriteRejectsBadTables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obj     any
		wantErr string
	}{
		{"columns of different lengths are refused", &Table{Columns: []Column{{Name: "a", Values: []int64{1}}, {Name: "b", Values: []int64{1, 2}}}}, "has 2 rows but column \"a\" has 1"},
		{"a duplicate column is refused", &Table{Columns: []Column{{Name: "a", Values: []int64{1}}, {Name: "a", Values: []int64{1}}}}, "appears twice"},
		{"an unnamed column is refused", &Table{Columns: []Column{{Values: []int64{1}}}}, "has no name"},
		{"an unsupported column type is refused", &Table{Columns: []Column{{Name: "a", Values: []int32{1}}}}, "[]int32"},
		{"a table without columns is refused", &Table{}, "no columns"},
		{"an image is refused", NewImage(1, 1), "formatter parquet writes *datastore.Table or datastore.Table, got *datastore.Image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parquetFormatter{}.Write(tc.obj)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Write = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestParquetReadsOtherWriters reads a file written by parquet-go from a
// struct, with INT32, FLOAT and optional columns.
func TestParquetReadsOtherWriters(t *testing.T) {
	type row struct {
		A int32   `parquet:"a"`
		B float32 `parquet:"b"`
		C *string `parquet:"c,optional"`
	}
	s := "x"
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []row{{1, 1.5, &s}, {2, 2.5, &s}}); err != nil {
		t.Fatal(err)
	}
	got, err := parquetFormatter{}.Read(buf.Bytes())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := &Table{Columns: []Column{
		{Name: "a", Values: []int64{1, 2}}, {Name: "b", Values: []float64{1.5, 2.5}}, {Name: "c", Values: []string{"x", "x"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}

	buf.Reset()
	if err := parquet.Write(&buf, []row{{1, 1.5, nil}}); err != nil {
		t.Fatal(err)
	}
	if _, err := (parquetFormatter{}).Read(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "null") {
		t.Fatalf("Read of a null = %v, want an error about nulls", err)
	}
}

func TestParquetReadRejectsMalformedFiles(t *testing.T) {
	good, err := parquetFormatter{}.Write(testTable(10))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good)
	for i := 100; i < len(corrupt)-100; i++ {
		corrupt[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty data are refused", nil},
		{"text is refused", []byte("not a parquet file")},
		{"a truncated file is refused", good[:len(good)/2]},
		{"a corrupted file is refused", corrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := (parquetFormatter{}).Read(tc.data); err == nil || !strings.HasPrefix(err.Error(), "parquet: read") {
				t.Fatalf("Read = %v, want a parquet read error", err)
			}
		})
	}
}

func TestTableHelpers(t *testing.T) {
	tbl := testTable(4)
	if n := tbl.NumRows(); n != 4 {
		t.Errorf("NumRows = %d", n)
	}
	if c, ok := tbl.Column("name"); !ok || c.Len() != 4 {
		t.Errorf("Column(name) = %v, %v", c, ok)
	}
	if _, ok := tbl.Column("nope"); ok {
		t.Error("Column found a missing column")
	}
	if n := (&Table{}).NumRows(); n != 0 {
		t.Errorf("NumRows of an empty table = %d", n)
	}
	if n := (Column{Values: []int32{1}}).Len(); n != -1 {
		t.Errorf("Len of a bad column = %d", n)
	}
}
