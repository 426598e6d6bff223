package registry

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

// TestDuckDBReadsTheTables: every table file is plain Parquet that DuckDB
// reads, also with Hive partitioning on (the dataset tables are partitioned
// by dataset_type and carry the column too), and the rows agree with ours.
func TestDuckDBReadsTheTables(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := objstore.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t, store, Options{})
	for i := range 5 {
		if _, err := r.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("run%d", i), Type: Run}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := dimensions.LoadInstrument("spherex")
	def, _ := dimensions.ParseInstrument(data)
	recs, err := def.Records(r.Universe())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.InsertRecordSets(ctx, "test", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RegisterDatasetTypes(ctx, DatasetType{Name: "flat", Dimensions: []string{"detector"}, StorageClass: "ImageF"},
		DatasetType{Name: "bias", Dimensions: []string{"detector"}, StorageClass: "ImageF"}); err != nil {
		t.Fatal(err)
	}
	for _, dt := range []string{"flat", "bias"} {
		if _, err := r.Commit(ctx, "test", func(tx *Tx) error {
			var refs []DatasetRef
			for d := 1; d <= 6; d++ {
				refs = append(refs, DatasetRef{ID: NewDatasetID(), DatasetType: dt, Run: "run1", DataID: map[string]any{"instrument": "SPHEREx", "detector": d}})
			}
			_, err := InsertDatasets(tx, refs, nil, InsertOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		name, query string
		want        int64
	}{
		{"collections", "SELECT count(*) FROM read_parquet('%s/registry/tables/collections/*.parquet')", 5},
		{"detectors", "SELECT count(*) FROM read_parquet('%s/registry/tables/dimension_detector/*.parquet') WHERE instrument = 'SPHEREx'", 6},
		{"datasets per type with hive partitioning", "SELECT count(*) FROM read_parquet('%s/registry/tables/datasets/*/*.parquet', hive_partitioning = true) WHERE dataset_type = 'flat' AND detector > 3", 3},
		{"datasets without hive partitioning", "SELECT count(DISTINCT dataset_id) FROM read_parquet('%s/registry/tables/datasets/*/*.parquet')", 12},
		{"timestamps are timestamps", "SELECT count(*) FROM read_parquet('%s/registry/tables/datasets/*/*.parquet') WHERE ingest_time > TIMESTAMP '2020-01-01'", 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n int64
			if err := db.QueryRow(fmt.Sprintf(tc.query, filepath.ToSlash(dir))).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Fatalf("%d rows, want %d", n, tc.want)
			}
		})
	}
}
