// Package qgraphtest fills repositories with synthetic SPHEREx-like
// exposures, raws and certified darks, quickly, for the planner's tests and
// benchmarks: records and datasets go in with a few large commits (no
// files are written; raws get plausible datastore records).
package qgraphtest

import (
	"context"
	"fmt"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// Names used by Populate.
const (
	Instrument = "SPHEREx"
	RawRun     = "SPHEREx/raw/all"
	Filter     = "SPHEREx-LVF"
)

// Spec describes the synthetic data.
type Spec struct {
	// Exposures with every detector, then one exposure per entry of
	// Partial with that many detectors (detectors 1..n).
	Exposures int
	Partial   []int
	Detectors int // detectors of full exposures (1..6; default 6)
	// Start is the begin of the first exposure (default 2026-03-01T00:00Z);
	// exposures follow each other every Cadence (default 2 min) and last
	// ExposureTime (default 100 s).
	Start        time.Time
	Cadence      time.Duration
	ExposureTime time.Duration
	// FlatEvery: every FlatEvery-th exposure (the FlatEvery-1'th, 2*FlatEvery-1'th, ...)
	// has observation_type "flat", the others "science" (0: all science).
	FlatEvery int
	// Calibs are CALIBRATION collections of darks to make.
	Calibs []Calib
	// Bulk inserts the raws with plain table inserts (pre-normalized rows)
	// instead of registry.InsertDatasets: the same rows, much faster.
	Bulk bool
}

// Calib is one CALIBRATION collection with one master dark per detector per
// epoch, born in RUN <Collection>/run<epoch>. The epochs split [Begin, End) into
// equal validity ranges; zero Begin and End cover every exposure (the first
// range unbounded below, the last above).
type Calib struct {
	Collection string
	Epochs     int // default 1
	Begin, End time.Time
}

// Info says what Populate made.
type Info struct {
	Exposures []int64 // exposure IDs, in time order
	Raws      int
	Begin     time.Time // begin of the first exposure
	End       time.Time // end of the last exposure
	Cadence   time.Duration
	Darks     map[string][]registry.DatasetRef
}

// ExposureID is the ID of exposure seq (from 1) of a UTC day, as SPHEREx
// numbers them: YYYYMMDD * 100000 + seq.
func ExposureID(day time.Time, seq int) int64 {
	return int64(day.Year()*10000+int(day.Month())*100+day.Day())*100000 + int64(seq)
}

// SpecForQuanta returns the exposures that give n quanta to the three-task
// example pipeline (isr and measure per detector, summarize per exposure:
// 13 per full exposure of 6 detectors, 2k+1 for one of k detectors).
func SpecForQuanta(n int) Spec {
	// Split the remainder into exposures of 1..6 detectors (3, 5, ..., 13
	// quanta), borrowing full exposures when it cannot be.
	for borrow := 0; borrow <= 3 && borrow <= n/13; borrow++ {
		full := n/13 - borrow
		rest := n - full*13
		if parts, ok := splitOdd(rest); ok {
			return Spec{Exposures: full, Partial: parts}
		}
	}
	return Spec{Exposures: n / 13}
}

// splitOdd writes rest as a sum of 2k+1 with k in 1..6, fewest terms.
func splitOdd(rest int) ([]int, bool) {
	best := make([][]int, rest+1)
	ok := make([]bool, rest+1)
	ok[0] = true
	for r := 1; r <= rest; r++ {
		for k := 6; k >= 1; k-- {
			q := 2*k + 1
			if q <= r && ok[r-q] && (!ok[r] || len(best[r-q])+1 < len(best[r])) {
				best[r] = append(append([]int(nil), best[r-q]...), k)
				ok[r] = true
			}
		}
	}
	return best[rest], ok[rest]
}

func mustRecord(u *dimensions.Universe, elem string, v map[string]any) (dimensions.Record, error) {
	e, ok := u.Element(elem)
	if !ok {
		return dimensions.Record{}, fmt.Errorf("no element %s", elem)
	}
	return e.NewRecord(u, v)
}

// Populate registers the SPHEREx instrument, the exposures, raws and darks
// of s into b.
func Populate(ctx context.Context, b *butler.Butler, s Spec) (*Info, error) {
	if s.Detectors == 0 {
		s.Detectors = 6
	}
	if s.Start.IsZero() {
		s.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if s.Cadence == 0 {
		s.Cadence = 2 * time.Minute
	}
	if s.ExposureTime == 0 {
		s.ExposureTime = 100 * time.Second
	}
	u := b.Registry.Universe()
	data, err := dimensions.LoadInstrument("spherex")
	if err != nil {
		return nil, err
	}
	if _, _, _, err := b.RegisterInstrument(ctx, data); err != nil {
		return nil, fmt.Errorf("register instrument: %w", err)
	}
	// Exposures and the day_obs and group records they imply.
	type expo struct {
		id    int64
		day   int64
		group string
		begin time.Time
		dets  int
		kind  string
	}
	n := s.Exposures + len(s.Partial)
	exps := make([]expo, n)
	seq := map[int64]int{}
	var days []dimensions.Record
	var groups []dimensions.Record
	for i := range exps {
		begin := s.Start.Add(time.Duration(i) * s.Cadence)
		dayT := time.Date(begin.Year(), begin.Month(), begin.Day(), 0, 0, 0, 0, time.UTC)
		day := int64(dayT.Year()*10000 + int(dayT.Month())*100 + dayT.Day())
		seq[day]++
		if seq[day] == 1 {
			r, err := mustRecord(u, "day_obs", map[string]any{"instrument": Instrument, "day_obs": day,
				"timespan_begin": dayT, "timespan_end": dayT.Add(24 * time.Hour)})
			if err != nil {
				return nil, err
			}
			days = append(days, r)
		}
		e := expo{id: ExposureID(dayT, seq[day]), day: day, begin: begin, dets: s.Detectors, kind: "science"}
		e.group = fmt.Sprintf("G%d-%03d", day, (seq[day]-1)/10)
		if (seq[day]-1)%10 == 0 {
			r, err := mustRecord(u, "group", map[string]any{"instrument": Instrument, "group": e.group})
			if err != nil {
				return nil, err
			}
			groups = append(groups, r)
		}
		if i >= s.Exposures {
			e.dets = s.Partial[i-s.Exposures]
		}
		if s.FlatEvery > 0 && i%s.FlatEvery == s.FlatEvery-1 {
			e.kind = "flat"
		}
		exps[i] = e
	}
	if _, _, err := b.Registry.InsertRecordSets(ctx, "synthetic-days", append(days, groups...)); err != nil {
		return nil, fmt.Errorf("insert day_obs and group records: %w", err)
	}
	recs := make([]dimensions.Record, 0, n)
	for _, e := range exps {
		r, err := mustRecord(u, "exposure", map[string]any{"instrument": Instrument, "exposure": e.id,
			"obs_id": fmt.Sprintf("SPX-%d", e.id), "physical_filter": Filter, "group": e.group, "day_obs": e.day,
			"exposure_time": s.ExposureTime.Seconds(), "observation_type": e.kind,
			"timespan_begin": e.begin, "timespan_end": e.begin.Add(s.ExposureTime)})
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if _, _, err := b.Registry.InsertRecordSets(ctx, "synthetic-exposures", recs); err != nil {
		return nil, fmt.Errorf("insert exposure records: %w", err)
	}
	info := &Info{Darks: map[string][]registry.DatasetRef{}}
	if n > 0 {
		info.Begin = exps[0].begin
		info.End = exps[n-1].begin.Add(s.ExposureTime)
	}
	info.Cadence = s.Cadence
	for _, e := range exps {
		info.Exposures = append(info.Exposures, e.id)
	}
	// Dataset types and the raw run.
	if _, err := b.Registry.RegisterDatasetTypes(ctx,
		registry.DatasetType{Name: "raw", Dimensions: []string{"instrument", "detector", "exposure"}, StorageClass: "ExposureF"},
		registry.DatasetType{Name: "dark", Dimensions: []string{"instrument", "detector"}, StorageClass: "ImageF", IsCalibration: true},
	); err != nil {
		return nil, err
	}
	if _, err := b.Registry.RegisterCollections(ctx, registry.Collection{Name: RawRun, Type: registry.Run}); err != nil {
		return nil, err
	}
	// Raws.
	dsch, err := b.Registry.Schema(registry.TableDatasets)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	_, err = b.Registry.Commit(ctx, "synthetic-raws", func(tx *registry.Tx) error {
		info.Raws = 0
		var refs []registry.DatasetRef
		var files []registry.FileRecord
		var rows, frows []registry.Row
		for _, e := range exps {
			for det := 1; det <= e.dets; det++ {
				dataID := map[string]any{"instrument": Instrument, "detector": int64(det), "exposure": e.id}
				id := registry.DeterministicID("raw", []string{"instrument", "detector", "exposure"}, dataID, RawRun)
				uri := fmt.Sprintf("%s/raw/%d/raw_SPHEREx_%d_%d.fits", RawRun, e.day, e.id, det)
				f := registry.FileRecord{DatasetID: id, DatasetType: "raw", URI: uri, Formatter: "fits", StorageClass: "ExposureF",
					Size: 23040, Checksum: fmt.Sprintf("sha256:%064x", e.id*10+int64(det))}
				info.Raws++
				if !s.Bulk {
					refs = append(refs, registry.DatasetRef{ID: id, DatasetType: "raw", Run: RawRun, DataID: dataID})
					files = append(files, f)
					continue
				}
				vals := map[string]any{"dataset_id": id, "dataset_type": "raw", "run": RawRun, "ingest_time": now,
					"instrument": Instrument, "detector": int64(det), "exposure": e.id, "physical_filter": Filter,
					"band": "spx", "group": e.group, "day_obs": e.day}
				row := make(registry.Row, len(dsch.Columns))
				for i, c := range dsch.Columns {
					row[i] = vals[c.Name]
				}
				rows = append(rows, row)
				frows = append(frows, registry.Row{f.DatasetID, f.DatasetType, f.URI, f.Formatter, f.StorageClass, nil, f.Size, f.Checksum})
			}
		}
		if !s.Bulk {
			_, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
			return err
		}
		if err := tx.Insert(registry.TableDatasets, rows...); err != nil {
			return err
		}
		return tx.Insert(registry.TableFiles, frows...)
	})
	if err != nil {
		return nil, fmt.Errorf("insert raws: %w", err)
	}
	// Darks.
	for _, c := range s.Calibs {
		refs, err := addDarks(ctx, b, c, info)
		if err != nil {
			return nil, err
		}
		info.Darks[c.Collection] = refs
	}
	return info, nil
}

// addDarks makes the darks of one CALIBRATION collection.
func addDarks(ctx context.Context, b *butler.Butler, c Calib, info *Info) ([]registry.DatasetRef, error) {
	if c.Epochs <= 0 {
		c.Epochs = 1
	}
	colls := []registry.Collection{{Name: c.Collection, Type: registry.Calibration}}
	for ep := range c.Epochs {
		colls = append(colls, registry.Collection{Name: fmt.Sprintf("%s/run%d", c.Collection, ep), Type: registry.Run})
	}
	if _, err := b.Registry.RegisterCollections(ctx, colls...); err != nil {
		return nil, err
	}
	begin, end := c.Begin, c.End
	spanBegin, spanEnd := begin, end
	if begin.IsZero() {
		spanBegin = info.Begin
	}
	if end.IsZero() {
		spanEnd = info.End
	}
	step := spanEnd.Sub(spanBegin) / time.Duration(c.Epochs)
	if begin.IsZero() && end.IsZero() {
		// Epoch boundaries at exposure starts, so no exposure straddles two.
		perEpoch := (len(info.Exposures) + c.Epochs - 1) / c.Epochs
		step = time.Duration(perEpoch) * info.Cadence
	}
	var all []registry.DatasetRef
	_, err := b.Registry.Commit(ctx, "synthetic-darks", func(tx *registry.Tx) error {
		all = nil
		var refs []registry.DatasetRef
		var files []registry.FileRecord
		for ep := range c.Epochs {
			run := fmt.Sprintf("%s/run%d", c.Collection, ep)
			for det := 1; det <= 6; det++ {
				dataID := map[string]any{"instrument": Instrument, "detector": int64(det)}
				id := registry.NewDatasetID()
				refs = append(refs, registry.DatasetRef{ID: id, DatasetType: "dark", Run: run, DataID: dataID})
				files = append(files, registry.FileRecord{DatasetID: id, URI: fmt.Sprintf("%s/dark/dark_%d_%d.fits", run, ep, det),
					Formatter: "fits", StorageClass: "ImageF", Size: 23040, Checksum: fmt.Sprintf("sha256:%064x", ep*10+det)})
			}
		}
		out, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
		all = out
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("insert darks of %s: %w", c.Collection, err)
	}
	for ep := range c.Epochs {
		span := dimensions.Timespan{Begin: spanBegin.Add(time.Duration(ep) * step), End: spanBegin.Add(time.Duration(ep+1) * step)}
		if ep == 0 && begin.IsZero() {
			span.Begin = time.Time{}
		}
		if ep == c.Epochs-1 {
			span.End = end
		}
		part := all[ep*6 : ep*6+6]
		if _, err := b.Registry.Commit(ctx, "certify", func(tx *registry.Tx) error {
			_, err := registry.Certify(tx, c.Collection, part, span)
			return err
		}); err != nil {
			return nil, fmt.Errorf("certify darks into %s: %w", c.Collection, err)
		}
	}
	return all, nil
}
