package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

func record(t *testing.T, element string, values map[string]any) dimensions.Record {
	t.Helper()
	u := dimensions.Default()
	e, _ := u.Element(element)
	rec, err := e.NewRecord(u, values)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestDimensionRecords(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, objstore.NewMem(), Options{})
	inst := record(t, "instrument", map[string]any{"instrument": "Cam", "detector_max": 4})
	det := record(t, "detector", map[string]any{"instrument": "Cam", "detector": 1, "full_name": "D1"})
	if _, _, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{det}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a detector of an unregistered instrument: error %v, want ErrNotFound", err)
	}
	res, n, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{inst, det})
	if err != nil || n != 2 {
		t.Fatalf("insert: %d, %v", n, err)
	}
	res2, n, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{inst, det})
	if err != nil || n != 0 || !res2.NoOp || res2.Version != res.Version {
		t.Fatalf("identical records again: %+v %d %v, want a no-op", res2, n, err)
	}
	changed := record(t, "detector", map[string]any{"instrument": "Cam", "detector": 1, "full_name": "other"})
	if _, _, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{changed}); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflicting record: error %v, want ErrConflict", err)
	}
	band := record(t, "band", map[string]any{"band": "r"})
	pf := record(t, "physical_filter", map[string]any{"instrument": "Cam", "physical_filter": "r-1", "band": "r"})
	day := record(t, "day_obs", map[string]any{"instrument": "Cam", "day_obs": 20260101})
	grp := record(t, "group", map[string]any{"instrument": "Cam", "group": "g1"})
	begin := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	exp := record(t, "exposure", map[string]any{"instrument": "Cam", "exposure": 7, "physical_filter": "r-1", "day_obs": 20260101, "group": "g1",
		"obs_id": "CAM_7", "observation_type": "science", "exposure_time": 30.0, "timespan_begin": begin, "timespan_end": begin.Add(30 * time.Second)})
	if _, _, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{exp}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("exposure with unregistered implied dimensions: error %v, want ErrNotFound", err)
	}
	if _, _, err := r.InsertRecordSets(ctx, "test", []dimensions.Record{band, pf, day, grp, exp}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := reopen(t, r.Store(), Options{}).Current().LookupRecord("exposure", dimensions.DataID{"instrument": "Cam", "exposure": int64(7)})
	if err != nil || !ok {
		t.Fatalf("lookup: %v %v", ok, err)
	}
	if got.Values["observation_type"] != "science" || got.Values["physical_filter"] != "r-1" {
		t.Fatalf("record %v", got.Values)
	}
	ts, ok := got.Timespan()
	if !ok || !ts.Begin.Equal(begin) || !ts.End.Equal(begin.Add(30*time.Second)) {
		t.Fatalf("timespan %v", ts)
	}
}

func TestDatasetTypes(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, objstore.NewMem(), Options{})
	raw := DatasetType{Name: "raw", Dimensions: []string{"exposure", "detector"}, StorageClass: "ImageF"}
	if _, err := r.RegisterDatasetTypes(ctx, raw); err != nil {
		t.Fatal(err)
	}
	got, err := r.Current().DatasetType(ctx, "raw")
	if err != nil {
		t.Fatal(err)
	}
	if want := "raw(instrument, detector, exposure; ImageF)"; got.String() != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if res, err := r.RegisterDatasetTypes(ctx, raw); err != nil || !res.NoOp {
		t.Fatalf("identical again: %+v %v, want a no-op", res, err)
	}
	tests := []struct {
		name string
		dt   DatasetType
		want error
	}{
		{"another definition under the same name", DatasetType{Name: "raw", Dimensions: []string{"exposure", "detector"}, StorageClass: "Bytes"}, ErrConflict},
		{"an unknown dimension", DatasetType{Name: "x", Dimensions: []string{"detectr"}, StorageClass: "Bytes"}, ErrInvalid},
		{"a bad name", DatasetType{Name: "1x", StorageClass: "Bytes"}, ErrInvalid},
		{"a bad storage class", DatasetType{Name: "x", StorageClass: "no such"}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.RegisterDatasetTypes(ctx, tc.dt); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParquetRoundTripKeepsNullsAndTypes(t *testing.T) {
	s := NewSchema("t", []Column{{"s", String}, {"i", Int}, {"f", Float}, {"b", Bool}, {"ts", Timestamp}})
	ts := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	rows := []Row{{"a", int64(-1), 1.5, true, ts}, {nil, nil, nil, nil, nil}, {"", int64(0), 0.0, false, time.Unix(0, 0).UTC()}}
	data, err := encodeParquet(s, rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeParquet(s, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if !rowsEqual(rows[i], got[i]) {
			t.Fatalf("row %d: got %v, want %v", i, got[i], rows[i])
		}
	}
	wider := NewSchema("t", append(s.Columns, Column{"new", String}))
	got, err = decodeParquet(wider, data)
	if err != nil || got[0][5] != nil || got[0][0] != "a" {
		t.Fatalf("reading with an added column: %v %v", got, err)
	}
}
