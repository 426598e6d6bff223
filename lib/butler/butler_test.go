package butler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
	"github.com/skybutler/skybutler/lib/registry"
)

func TestMain(m *testing.M) { s3test.Main(m) }

var ctx = context.Background()

// kinds are the repository roots every behaviour is checked on.
var kinds = []struct {
	name string
	uri  func(t *testing.T) string
}{
	{"file", func(t *testing.T) string { return t.TempDir() }},
	{"s3", func(t *testing.T) string {
		srv := s3test.Shared(t)
		for _, kv := range srv.Env() {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		t.Setenv("SKYBUTLER_CACHE_DIR", t.TempDir())
		return "s3://" + srv.NewBucket(t) + "/repo"
	}},
}

// fixture creates a repository with the spherex instrument, one exposure and
// the dataset types the tests use.
func fixture(t *testing.T, uri string) *Butler {
	t.Helper()
	b, err := Create(ctx, uri, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := dimensions.LoadInstrument("spherex")
	if err != nil {
		t.Fatal(err)
	}
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		t.Fatal(err)
	}
	u := b.Registry.Universe()
	recs, err := def.Records(u)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(elem string, v map[string]any) dimensions.Record {
		e, _ := u.Element(elem)
		r, err := e.NewRecord(u, v)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	begin := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	recs = append(recs,
		mk("day_obs", map[string]any{"instrument": "SPHEREx", "day_obs": 20260301}),
		mk("group", map[string]any{"instrument": "SPHEREx", "group": "g1"}),
		mk("exposure", map[string]any{"instrument": "SPHEREx", "exposure": 100, "obs_id": "SPX_100", "physical_filter": "SPHEREx-D1",
			"day_obs": 20260301, "group": "g1", "timespan_begin": begin, "timespan_end": begin.Add(time.Minute)}))
	if _, _, err := b.Registry.InsertRecordSets(ctx, "fixture", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Registry.RegisterDatasetTypes(ctx,
		registry.DatasetType{Name: "calexp", Dimensions: []string{"exposure", "detector"}, StorageClass: "ExposureF"},
		registry.DatasetType{Name: "summary", Dimensions: []string{"exposure"}, StorageClass: "StructuredDataDict"},
		registry.DatasetType{Name: "dark", Dimensions: []string{"detector"}, StorageClass: "ImageF", IsCalibration: true},
		registry.DatasetType{Name: "notes", Dimensions: []string{"detector"}, StorageClass: "Bytes"},
	); err != nil {
		t.Fatal(err)
	}
	for _, c := range []registry.Collection{{Name: "run1", Type: registry.Run}, {Name: "run2", Type: registry.Run}, {Name: "calib", Type: registry.Calibration}} {
		if _, err := b.Registry.RegisterCollections(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func image(v float32) *datastore.Image {
	img := datastore.NewImage(8, 4)
	for i := range img.Pixels {
		img.Pixels[i] = v + float32(i)
	}
	img.Header = datastore.Header{{Key: "OBJECT", Value: "test field"}, {Key: "EXPTIME", Value: 30.5}}
	return img
}

func TestPutThenGetRoundTrips(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			b := fixture(t, k.uri(t))
			id := map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": 3}
			ref, err := b.Put(ctx, image(1), "calexp", id, "run1")
			if err != nil {
				t.Fatal(err)
			}
			if ref.DataID["physical_filter"] != "SPHEREx-D1" || ref.DataID["band"] != "spx1" {
				t.Fatalf("implied values not filled: %v", ref.DataID)
			}
			if _, err := b.Put(ctx, image(2), "calexp", id, "run1"); !errors.Is(err, registry.ErrConflict) {
				t.Fatalf("second put of the same data ID in a run: %v, want ErrConflict", err)
			}
			fresh, err := Open(ctx, b.URI, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, got, err := fresh.Get(ctx, "calexp", id, []string{"run2", "run1"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			img := obj.(*datastore.Image)
			if got.ID != ref.ID || img.Width != 8 || img.Pixels[5] != 6 {
				t.Fatalf("got %v %dx%d %v", got, img.Width, img.Height, img.Pixels[:6])
			}
			if v, _ := img.Header.String("OBJECT"); v != "test field" {
				t.Fatalf("header OBJECT = %q", v)
			}
			if _, err := fresh.Put(ctx, datastore.Dict{"n": "one"}, "summary", map[string]any{"instrument": "SPHEREx", "exposure": 100}, "run2"); err != nil {
				t.Fatal(err)
			}
			obj, _, err = fresh.Get(ctx, "summary", map[string]any{"instrument": "SPHEREx", "exposure": 100}, []string{"run2"}, nil)
			if err != nil || obj.(datastore.Dict)["n"] != "one" {
				t.Fatalf("summary %v %v", obj, err)
			}
		})
	}
}

func TestAFailedPutLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	b := fixture(t, dir)
	if _, err := b.Put(ctx, "not an image", "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": 1}, "run1"); err == nil {
		t.Fatal("put of a string as ExposureF succeeded")
	}
	if _, err := b.Put(ctx, image(1), "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": 1}, "no-such-run"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("put into a missing run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "datastore")); err == nil {
		entries, _ := filepath.Glob(filepath.Join(dir, "datastore", "*", "*", "*"))
		if len(entries) > 0 {
			t.Fatalf("files left behind: %v", entries)
		}
	}
}

// TestTemplateValuesCannotEscapeTheDatastore: a record value with "/" becomes
// "_"; one with ".." path elements is refused; nothing is written outside
// ROOT/datastore either way.
func TestTemplateValuesCannotEscapeTheDatastore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	b := fixture(t, dir)
	u := b.Registry.Universe()
	b.Config.Datastore.Templates.ByDatasetType = map[string]string{"summary": "{run}/{group}/{exposure.obs_id}/{datasetType}_{exposure}"}
	mk := func(elem string, v map[string]any) dimensions.Record {
		e, _ := u.Element(elem)
		r, err := e.NewRecord(u, v)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	recs := []dimensions.Record{
		mk("group", map[string]any{"instrument": "SPHEREx", "group": "a/b"}),
		mk("group", map[string]any{"instrument": "SPHEREx", "group": "../../../../escape"}),
		mk("exposure", map[string]any{"instrument": "SPHEREx", "exposure": 101, "obs_id": "/etc/passwd", "physical_filter": "SPHEREx-D1", "day_obs": 20260301, "group": "a/b"}),
		mk("exposure", map[string]any{"instrument": "SPHEREx", "exposure": 102, "obs_id": "ok", "physical_filter": "SPHEREx-D1", "day_obs": 20260301, "group": "../../../../escape"}),
		mk("exposure", map[string]any{"instrument": "SPHEREx", "exposure": 103, "obs_id": "..", "physical_filter": "SPHEREx-D1", "day_obs": 20260301, "group": "g1"}),
	}
	if _, _, err := b.Registry.InsertRecordSets(ctx, "test", recs); err != nil {
		t.Fatal(err)
	}
	ref, err := b.Put(ctx, datastore.Dict{"a": "b"}, "summary", map[string]any{"instrument": "SPHEREx", "exposure": 101}, "run1")
	if err != nil {
		t.Fatal(err)
	}
	frs, _ := b.Registry.Current().FileRecords(ctx, "summary")
	if uri := frs[ref.ID][0].URI; uri != "run1/a_b/_etc_passwd/summary_101.yaml" {
		t.Fatalf("uri %q, want run1/a_b/_etc_passwd/summary_101.yaml", uri)
	}
	for _, exp := range []int{102, 103} {
		if _, err := b.Put(ctx, datastore.Dict{}, "summary", map[string]any{"instrument": "SPHEREx", "exposure": exp}, "run1"); err == nil || !strings.Contains(err.Error(), "..") {
			t.Fatalf("exposure %d: a '..' value was rendered into a path (err %v)", exp, err)
		}
	}
	if _, err := b.Registry.RegisterCollections(ctx, registry.Collection{Name: "a/../../b", Type: registry.Run}); err == nil {
		if _, err := b.Put(ctx, datastore.Dict{}, "summary", map[string]any{"instrument": "SPHEREx", "exposure": 100}, "a/../../b"); err == nil {
			t.Fatal("a run named a/../../b was rendered into a path")
		}
	}
	var outside []string
	filepath.Walk(filepath.Dir(dir), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.HasPrefix(p, dir+string(os.PathSeparator)) {
			outside = append(outside, p)
		}
		return nil
	})
	if len(outside) > 0 {
		t.Fatalf("files written outside the repository: %v", outside)
	}
}

func TestIngestIsIdempotentAndReportsBadFiles(t *testing.T) {
	dir := t.TempDir()
	b := fixture(t, filepath.Join(dir, "repo"))
	var files []IngestFile
	for d := 1; d <= 4; d++ {
		p := filepath.Join(dir, "notes"+string(rune('0'+d))+".txt")
		os.WriteFile(p, []byte(strings.Repeat("x", d)), 0o644)
		files = append(files, IngestFile{Source: p, DatasetType: "notes", Run: "run1", DataID: map[string]any{"instrument": "SPHEREx", "detector": d}})
	}
	bad := append(files[:2:2], IngestFile{Source: filepath.Join(dir, "missing.txt"), DatasetType: "notes", Run: "run1", DataID: map[string]any{"instrument": "SPHEREx", "detector": 6}},
		IngestFile{Source: files[2].Source, DatasetType: "notes", Run: "run1", DataID: map[string]any{"instrument": "SPHEREx", "detector": 99}})
	res, err := b.Ingest(ctx, bad, IngestOptions{Transfer: TransferCopy, ContinueOnError: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ingested) != 2 || len(res.Failed) != 2 {
		t.Fatalf("ingested %d, failed %v", len(res.Ingested), res.Failed)
	}
	res, err = b.Ingest(ctx, files, IngestOptions{Transfer: TransferCopy})
	if err != nil || len(res.Ingested) != 2 || len(res.Skipped) != 2 {
		t.Fatalf("second ingest: %+v %v", res, err)
	}
	res, err = b.Ingest(ctx, files, IngestOptions{Transfer: TransferCopy})
	if err != nil || len(res.Ingested) != 0 || len(res.Skipped) != 4 {
		t.Fatalf("third ingest: %+v %v", res, err)
	}
	refs, _ := b.Registry.Current().Datasets(ctx, "notes")
	if len(refs) != 4 {
		t.Fatalf("%d datasets, want 4", len(refs))
	}
	if _, err := b.Ingest(ctx, bad, IngestOptions{Transfer: TransferCopy}); err == nil {
		t.Fatal("an ingest with a bad file and no ContinueOnError succeeded")
	}
}

func TestVerifyFindsFlippedBytesAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	b := fixture(t, dir)
	var refs []registry.DatasetRef
	for d := 1; d <= 3; d++ {
		ref, err := b.Put(ctx, image(float32(d)), "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": d}, "run1")
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	snap := b.Registry.Current()
	if probs, n, err := b.Verify(ctx, snap, refs, true); err != nil || len(probs) != 0 || n != 3 {
		t.Fatalf("clean repository: %v %d %v", probs, n, err)
	}
	recs, _ := snap.FileRecords(ctx, "calexp")
	flipped := filepath.Join(dir, "datastore", filepath.FromSlash(recs[refs[0].ID][0].URI))
	data, _ := os.ReadFile(flipped)
	data[len(data)-100] ^= 0x01
	os.WriteFile(flipped, data, 0o644)
	os.Remove(filepath.Join(dir, "datastore", filepath.FromSlash(recs[refs[1].ID][0].URI)))
	probs, _, err := b.Verify(ctx, snap, refs, false)
	if err != nil || len(probs) != 1 || probs[0].Kind != "missing" {
		t.Fatalf("quick verify: %v %v", probs, err)
	}
	probs, _, err = b.Verify(ctx, snap, refs, true)
	if err != nil || len(probs) != 2 {
		t.Fatalf("full verify: %v %v", probs, err)
	}
	kinds := map[string]string{}
	for _, p := range probs {
		kinds[p.DatasetID] = p.Kind
	}
	if kinds[refs[0].ID] != "checksum" || kinds[refs[1].ID] != "missing" {
		t.Fatalf("problems %v", probs)
	}
}

func TestCalibrationsAreFoundByTime(t *testing.T) {
	b := fixture(t, t.TempDir())
	det := map[string]any{"instrument": "SPHEREx", "detector": 2}
	refA, err := b.Put(ctx, image(10), "dark", det, "run1")
	if err != nil {
		t.Fatal(err)
	}
	refB, err := b.Put(ctx, image(20), "dark", det, "run2")
	if err != nil {
		t.Fatal(err)
	}
	jan := dimensions.Timespan{Begin: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	mar := dimensions.Timespan{Begin: jan.End, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		ref  registry.DatasetRef
		span dimensions.Timespan
	}{{refA, jan}, {refB, mar}} {
		if _, err := b.Registry.Commit(ctx, "certify", func(tx *registry.Tx) error {
			_, err := registry.Certify(tx, "calib", []registry.DatasetRef{c.ref}, c.span)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	at := func(tm time.Time) *dimensions.Timespan {
		return &dimensions.Timespan{Begin: tm, End: tm.Add(time.Minute)}
	}
	_, got, err := b.Get(ctx, "dark", det, []string{"calib"}, at(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil || got.ID != refA.ID {
		t.Fatalf("february: %v %v", got, err)
	}
	_, got, err = b.Get(ctx, "dark", det, []string{"calib"}, at(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	if err != nil || got.ID != refB.ID {
		t.Fatalf("march: %v %v", got, err)
	}
	if _, _, err = b.Get(ctx, "dark", det, []string{"calib"}, at(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("outside every range: %v", err)
	}
}

func TestTransferDatasetsBetweenFileAndS3(t *testing.T) {
	src := fixture(t, t.TempDir())
	for d := 1; d <= 3; d++ {
		if _, err := src.Put(ctx, image(float32(d)), "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": d}, "run1"); err != nil {
			t.Fatal(err)
		}
	}
	s3uri := kinds[1].uri(t)
	dst, err := Create(ctx, s3uri, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs, _ := src.Registry.Current().Datasets(ctx, "calexp")
	for range 2 { // the second transfer changes nothing
		n, err := dst.TransferDatasets(ctx, src, refs)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := dst.Registry.Current().Datasets(ctx, "calexp"); len(got) != 3 {
			t.Fatalf("%d datasets in the destination (transferred %d)", len(got), n)
		}
	}
	obj, got, err := dst.Get(ctx, "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": 2}, []string{"run1"}, nil)
	if err != nil || obj.(*datastore.Image).Pixels[0] != 2 || got.DataID["group"] != "g1" {
		t.Fatalf("get from the destination: %v %v", got, err)
	}
	// And back into a fresh local repository.
	back, err := Create(ctx, t.TempDir(), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drefs, _ := dst.Registry.Current().Datasets(ctx, "calexp")
	if n, err := back.TransferDatasets(ctx, dst, drefs); err != nil || n != 3 {
		t.Fatalf("s3 -> file: %d %v", n, err)
	}
}

func TestPruneAndRemoveRunsDeleteFilesAfterTheCommit(t *testing.T) {
	dir := t.TempDir()
	b := fixture(t, dir)
	var refs []registry.DatasetRef
	for d := 1; d <= 3; d++ {
		ref, err := b.Put(ctx, image(1), "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": d}, "run1")
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if _, err := b.Put(ctx, image(1), "calexp", map[string]any{"instrument": "SPHEREx", "exposure": 100, "detector": 1}, "run2"); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		all, _ := objstore.ListAll(ctx, b.Store, DatastorePrefix)
		n = len(all)
		return n
	}
	if count() != 4 {
		t.Fatalf("%d files", count())
	}
	files, err := b.Prune(ctx, refs[:1], PruneOptions{Purge: true})
	if err != nil || len(files) != 1 || count() != 3 {
		t.Fatalf("purge: %v %v, %d files left", files, err, count())
	}
	if _, err := b.Prune(ctx, refs[1:2], PruneOptions{Unstore: true}); err != nil || count() != 2 {
		t.Fatalf("unstore: %v, %d files left", err, count())
	}
	if left, _ := b.Registry.Current().Datasets(ctx, "calexp"); len(left) != 3 {
		t.Fatalf("%d datasets after purge of one (unstore keeps them)", len(left))
	}
	if _, err := b.RemoveRuns(ctx, []string{"run1"}); err != nil || count() != 1 {
		t.Fatalf("remove-runs: %v, %d files left", err, count())
	}
	if _, err := b.Registry.Current().Collection(ctx, "run1"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("run1 still exists: %v", err)
	}
}
