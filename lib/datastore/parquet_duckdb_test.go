package datastore_test

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/skybutler/skybutler/lib/datastore"
)

// TestParquetIsReadableByDuckDB writes a table with the parquet formatter
// and reads it back with DuckDB: row count, sums, column names and types.
func TestParquetIsReadableByDuckDB(t *testing.T) {
	const rows = 3000
	x := make([]int64, rows)
	y := make([]float64, rows)
	name := make([]string, rows)
	flag := make([]bool, rows)
	var sumX int64
	var sumY float64
	trues := 0
	for i := range rows {
		x[i] = int64(i*i) - 1000
		y[i] = float64(i) / 8
		name[i] = string(rune('a' + i%26))
		flag[i] = i%4 == 0
		sumX += x[i]
		sumY += y[i]
		if flag[i] {
			trues++
		}
	}
	tbl := &datastore.Table{Columns: []datastore.Column{
		{Name: "x", Values: x}, {Name: "y", Values: y}, {Name: "name", Values: name}, {Name: "flag", Values: flag},
	}}
	f, err := datastore.FormatterFor(datastore.StorageClassDataFrame, "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.Write(tbl)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "table"+f.Extension())
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var count, gotSumX, gotTrues, distinctNames int64
	var gotSumY float64
	err = db.QueryRow(`SELECT count(*), sum(x), sum(y), count(*) FILTER (WHERE flag), count(DISTINCT name) FROM read_parquet(?)`, path).
		Scan(&count, &gotSumX, &gotSumY, &gotTrues, &distinctNames)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if count != rows || gotSumX != sumX || math.Abs(gotSumY-sumY) > 1e-9 || gotTrues != int64(trues) || distinctNames != 26 {
		t.Errorf("DuckDB: count %d sum(x) %d sum(y) %v trues %d names %d; want %d %d %v %d 26",
			count, gotSumX, gotSumY, gotTrues, distinctNames, rows, sumX, sumY, trues)
	}

	rs, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	defer rs.Close()
	var got [][2]string
	for rs.Next() {
		var n, ty string
		if err := rs.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		got = append(got, [2]string{n, ty})
	}
	want := [][2]string{{"x", "BIGINT"}, {"y", "DOUBLE"}, {"name", "VARCHAR"}, {"flag", "BOOLEAN"}}
	if len(got) != len(want) {
		t.Fatalf("DuckDB columns %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("DuckDB column %d = %v, want %v", i, got[i], want[i])
		}
	}
}
