package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/registry"
)

// TestDatasetBenchPeersAgree keeps the dataset benchmarks honest on a small
// fixture: skybutler and the SQLite peer hold the same datasets and answer
// every benchmark query with the same rows (ID, run, full data ID), and
// both ingest paths register the same datasets.
func TestDatasetBenchPeersAgree(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	sz := newSizes(600)
	dir := t.TempDir()
	if _, err := buildSky(ctx, filepath.Join(dir, "repo"), fx, sz, 250); err != nil {
		t.Fatal(err)
	}
	p, _, err := buildPeer(ctx, filepath.Join(dir, "gen3.sqlite3"), fx, sz, 250)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	reg, err := openSky(ctx, filepath.Join(dir, "repo"), fx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range sz.queries(fx) {
		refs, err := skyQuery(ctx, reg.Current(), fx, q)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		prefs, err := peerQueryDatasets(ctx, p.db, peerDatasetTypeID, q.peer)
		if err != nil {
			t.Fatalf("%s: peer: %v", q.name, err)
		}
		if len(refs) != q.want || len(prefs) != q.want {
			t.Fatalf("%s: skybutler %d rows, peer %d, want %d", q.name, len(refs), len(prefs), q.want)
		}
		got, want := skyRows(refs), peerRows(prefs)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: results differ:\nskybutler %v\npeer      %v", q.name, got[:min(3, len(got))], want[:min(3, len(want))])
		}
		if q.findFirst {
			fromRun2 := 0
			for _, r := range refs {
				if r.Run == fx.run2 {
					fromRun2++
				}
			}
			if want := sz.count(sz.lo, sz.hi); fromRun2 != want {
				t.Fatalf("find-first: %d datasets from %s, want %d", fromRun2, fx.run2, want)
			}
		}
	}

	// Ingest: two batches of 30 files through both paths.
	src := &sourceFiles{dir: filepath.Join(dir, "src"), batch: 30}
	if err := src.ensure(2); err != nil {
		t.Fatal(err)
	}
	batches, err := ingestBatches(fx, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := newSkyRepo(ctx, filepath.Join(dir, "ingest"), fx, []string{fx.run1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := createPeer(ctx, filepath.Join(dir, "ingest.sqlite3"), fx, []string{fx.run1}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ip.close()
	for _, batch := range batches {
		res, err := bt.Ingest(ctx, batch, butler.IngestOptions{Transfer: butler.TransferDirect})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Ingested) != len(batch) {
			t.Fatalf("ingested %d of %d", len(res.Ingested), len(batch))
		}
		if err := peerIngest(ctx, ip, fx, batch); err != nil {
			t.Fatal(err)
		}
	}
	all := benchQuery{where: "instrument = 'SPHEREx'", collections: []string{fx.run1},
		peer: peerQuery{collections: []string{fx.run1}, where: "t.instrument = ?", args: []any{fx.instrument}}}
	refs, err := skyQuery(ctx, bt.Registry.Current(), fx, all)
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := peerQueryDatasets(ctx, ip.db, peerDatasetTypeID, all.peer)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := skyRows(refs), peerRows(prefs); len(got) != 60 || !slices.Equal(got, want) {
		t.Fatalf("ingested datasets differ: skybutler %d, peer %d", len(got), len(want))
	}
	recs, err := bt.Registry.Current().FileRecords(ctx, fx.datasetType.Name)
	if err != nil {
		t.Fatal(err)
	}
	var sizes int64
	for _, fs := range recs {
		for _, f := range fs {
			sizes += f.Size
		}
	}
	if len(recs) != 60 || sizes != 60*80 {
		t.Fatalf("file records: %d datasets, %d bytes; want 60 and %d", len(recs), sizes, 60*80)
	}
}

func skyRows(refs []registry.DatasetRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		id := r.DataID
		out[i] = fmt.Sprintf("%s %s %v/%v/%v %v %v %v", r.ID, r.Run, id["instrument"], id["exposure"], id["detector"],
			id["physical_filter"], id["group"], id["day_obs"])
	}
	slices.Sort(out)
	return out
}

func peerRows(refs []peerRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		id := r.id[:8] + "-" + r.id[8:12] + "-" + r.id[12:16] + "-" + r.id[16:20] + "-" + r.id[20:]
		out[i] = fmt.Sprintf("%s %s %v/%v/%v %v %v %v", id, r.run, r.instrument, r.exposure, r.detector,
			r.physicalFilter, r.group, r.dayObs)
	}
	slices.Sort(out)
	return out
}
