package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

// The dataset-layer tests share one small repository layout: the SPHEREx
// instrument (detectors 1-6, physical filters SPHEREx-D1..D6 with bands
// spx1..spx6), a few exposures, the dataset types below, and the runs runA
// and runB, the TAGGED collection "tagged" and the CALIBRATION collection
// "calib".

const inst = "SPHEREx"

// fixtureExposure describes one exposure record of the fixture.
type fixtureExposure struct {
	id      int
	day     int
	group   string
	filter  string
	obsType string
	begin   time.Time
}

var fixtureExposures = []fixtureExposure{
	{1, 20260110, "g1", "SPHEREx-D1", "science", time.Date(2026, 1, 10, 3, 0, 0, 0, time.UTC)},
	{2, 20260210, "g2", "SPHEREx-D2", "science", time.Date(2026, 2, 10, 3, 0, 0, 0, time.UTC)},
	{3, 20260215, "g2", "SPHEREx-D1", "dark", time.Date(2026, 2, 15, 3, 0, 0, 0, time.UTC)},
}

var fixtureTypes = []DatasetType{
	{Name: "raw", Dimensions: []string{"exposure", "detector"}, StorageClass: "ImageF"},
	{Name: "calexp", Dimensions: []string{"exposure", "detector"}, StorageClass: "ExposureF"},
	{Name: "dark", Dimensions: []string{"detector"}, StorageClass: "ExposureF", IsCalibration: true},
	{Name: "bias", Dimensions: []string{"detector"}, StorageClass: "ExposureF", IsCalibration: true},
	{Name: "summary", Dimensions: []string{"instrument"}, StorageClass: "Json"},
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	store objstore.Store
	r     *Registry
}

// newFixture creates a repository in store with the fixture's records,
// dataset types and collections.
func newFixture(t *testing.T, store objstore.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), store: store, r: newRepo(t, store, Options{})}
	u := f.r.Universe()
	data, err := dimensions.LoadInstrument("spherex")
	if err != nil {
		t.Fatal(err)
	}
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := def.Records(u)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, exposureRecords(t, fixtureExposures...)...)
	if _, _, err := f.r.InsertRecordSets(f.ctx, "test", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.RegisterDatasetTypes(f.ctx, fixtureTypes...); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.RegisterCollections(f.ctx,
		Collection{Name: "runA", Type: Run}, Collection{Name: "runB", Type: Run},
		Collection{Name: "tagged", Type: Tagged}, Collection{Name: "calib", Type: Calibration}); err != nil {
		t.Fatal(err)
	}
	return f
}

// exposureRecords returns the day_obs, group and exposure records of
// exposures, in dependency order (day_obs and group first).
func exposureRecords(t *testing.T, exps ...fixtureExposure) []dimensions.Record {
	t.Helper()
	var days, groups, out []dimensions.Record
	seenDay, seenGroup := map[int]bool{}, map[string]bool{}
	for _, e := range exps {
		if !seenDay[e.day] {
			seenDay[e.day] = true
			days = append(days, record(t, "day_obs", map[string]any{"instrument": inst, "day_obs": e.day}))
		}
		if !seenGroup[e.group] {
			seenGroup[e.group] = true
			groups = append(groups, record(t, "group", map[string]any{"instrument": inst, "group": e.group}))
		}
		out = append(out, record(t, "exposure", map[string]any{
			"instrument": inst, "exposure": e.id, "obs_id": fmt.Sprintf("SPX_%06d", e.id),
			"physical_filter": e.filter, "day_obs": e.day, "group": e.group,
			"observation_type": e.obsType, "exposure_time": 30.0,
			"timespan_begin": e.begin, "timespan_end": e.begin.Add(30 * time.Second),
		}))
	}
	return append(append(days, groups...), out...)
}

// dims returns the registered (normalized) dimensions of a dataset type.
func (f *fixture) dims(datasetType string) []string {
	f.t.Helper()
	dt, err := f.r.Current().DatasetType(f.ctx, datasetType)
	if err != nil {
		f.t.Fatal(err)
	}
	return dt.Dimensions
}

// ref builds a dataset ref with a deterministic ID. dataID holds the keys
// beyond the instrument: exposure and detector for raw and calexp, detector
// for the calibrations.
func (f *fixture) ref(datasetType, run string, dataID map[string]any) DatasetRef {
	f.t.Helper()
	id := dimensions.DataID{"instrument": inst}
	for k, v := range dataID {
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		id[k] = v
	}
	return DatasetRef{ID: DeterministicID(datasetType, f.dims(datasetType), id, run), DatasetType: datasetType, Run: run, DataID: id}
}

func (f *fixture) raw(run string, exposure, detector int) DatasetRef {
	return f.ref("raw", run, map[string]any{"exposure": exposure, "detector": detector})
}

func (f *fixture) calib(datasetType, run string, detector int) DatasetRef {
	return f.ref(datasetType, run, map[string]any{"detector": detector})
}

// file is a datastore record for ref.
func file(ref DatasetRef) FileRecord {
	return FileRecord{DatasetID: ref.ID, URI: fmt.Sprintf("%s/%s/%s.fits", ref.Run, ref.DatasetType, ref.ID),
		Formatter: "fits", StorageClass: "ImageF", Size: int64(len(ref.ID)), Checksum: "sha256:" + ref.ID}
}

func (f *fixture) commit(fn func(tx *Tx) error) (Result, error) {
	return f.r.Commit(f.ctx, "test", fn)
}

// insert inserts refs, each with one file record, in one commit.
func (f *fixture) insert(opts InsertOptions, refs ...DatasetRef) ([]DatasetRef, Result, error) {
	var files []FileRecord
	for _, r := range refs {
		files = append(files, file(r))
	}
	var out []DatasetRef
	res, err := f.commit(func(tx *Tx) error {
		var err error
		out, err = InsertDatasets(tx, refs, files, opts)
		return err
	})
	return out, res, err
}

func (f *fixture) mustInsert(refs ...DatasetRef) []DatasetRef {
	f.t.Helper()
	out, _, err := f.insert(InsertOptions{}, refs...)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) mustAssociate(collection string, refs ...DatasetRef) {
	f.t.Helper()
	if _, err := f.commit(func(tx *Tx) error { _, err := Associate(tx, collection, refs); return err }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mustCertify(collection string, span dimensions.Timespan, refs ...DatasetRef) {
	f.t.Helper()
	if _, err := f.commit(func(tx *Tx) error { _, err := Certify(tx, collection, refs, span); return err }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mustChain(parent string, children ...string) {
	f.t.Helper()
	mustChain(f.t, f.r, parent, ChainRedefine, children...)
}

// datasets returns every dataset of a type in the current snapshot.
func (f *fixture) datasets(datasetType string) []DatasetRef {
	f.t.Helper()
	refs, err := f.r.Current().Datasets(f.ctx, datasetType)
	if err != nil {
		f.t.Fatal(err)
	}
	return refs
}

// label names a ref compactly for comparisons: "raw runA e1 d2",
// "dark runA d3", "summary runA".
func label(ref DatasetRef) string {
	s := ref.DatasetType + " " + ref.Run
	if v, ok := ref.DataID["exposure"]; ok {
		s += fmt.Sprintf(" e%v", v)
	}
	if v, ok := ref.DataID["detector"]; ok {
		s += fmt.Sprintf(" d%v", v)
	}
	return s
}

func labels(refs []DatasetRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = label(r)
	}
	return out
}

func sortedLabels(refs []DatasetRef) []string {
	out := labels(refs)
	slices.Sort(out)
	return out
}

// tableRows returns every row of a table as sorted text, for comparing
// states before and after an edit.
func tableRows(t *testing.T, snap *Snapshot, table string) []string {
	t.Helper()
	rows, err := snap.Rows(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r)
	}
	slices.Sort(out)
	return out
}

// rowsWithout returns rows minus those containing any of the strings in drop.
func rowsWithout(rows []string, drop ...string) []string {
	var out []string
	for _, r := range rows {
		if !slices.ContainsFunc(drop, func(d string) bool { return strings.Contains(r, d) }) {
			out = append(out, r)
		}
	}
	return out
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// at is the one-second timespan starting at t (a lookup "instant").
func at(t time.Time) *dimensions.Timespan {
	return &dimensions.Timespan{Begin: t, End: t.Add(time.Second)}
}
