package bench

// Shared pieces of the dataset benchmarks: the SPHEREx-like raw data they
// register (exposures of six detectors), the skybutler repository set-up,
// and the sizes read from the environment.

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// detectorsPerExposure: SPHEREx has six detector arrays.
const detectorsPerExposure = 6

// envInt reads a positive integer from the environment, or def.
func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// quietLogger drops registry commit logging.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture names what the benchmarks register: the SPHEREx instrument of
// schemas/instruments, a raw dataset type and its collections.
type fixture struct {
	u            *dimensions.Universe
	instrument   string
	instRecords  []dimensions.Record
	datasetType  registry.DatasetType // normalized
	storageClass string
	formatter    string
	run1, run2   string // RUN collections
	chain        string // CHAINED [run2, run1]
	epoch        time.Time
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	u := dimensions.Default()
	data, err := dimensions.LoadInstrument("spherex")
	if err != nil {
		tb.Fatal(err)
	}
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		tb.Fatal(err)
	}
	recs, err := def.Records(u)
	if err != nil {
		tb.Fatal(err)
	}
	dims, err := u.Required([]string{"exposure", "detector"})
	if err != nil {
		tb.Fatal(err)
	}
	fm, err := datastore.FormatterFor(datastore.StorageClassImageF, "")
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{
		u: u, instrument: def.Name, instRecords: recs,
		datasetType:  registry.DatasetType{Name: "raw", Dimensions: dims, StorageClass: datastore.StorageClassImageF},
		storageClass: datastore.StorageClassImageF, formatter: fm.Name(),
		run1: "SPHEREx/raw/run1", run2: "SPHEREx/raw/run2", chain: "SPHEREx/raw/all",
		epoch: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
}

// expInfo is one exposure: its key, the day_obs and group it implies, its
// record fields.
type expInfo struct {
	id               int64
	dayObs           int64
	dayBegin, dayEnd time.Time
	begin, end       time.Time
	group, obsID     string
	physicalFilter   string
	exposureTime     float64
}

// exposure describes exposure id (1-based): 1000 exposures per UTC day,
// one minute apart; the group is the obs_id (the SPHEREx translation's
// default).
func (fx *fixture) exposure(id int64) expInfo {
	day := fx.epoch.AddDate(0, 0, int((id-1)/1000))
	begin := day.Add(time.Duration((id-1)%1000) * time.Minute)
	dayObs := int64(day.Year()*10000 + int(day.Month())*100 + day.Day())
	obsID := fmt.Sprintf("SPX-%d-%06d", dayObs, id)
	return expInfo{id: id, dayObs: dayObs, dayBegin: day, dayEnd: day.Add(24 * time.Hour), begin: begin, end: begin.Add(50 * time.Second),
		group: obsID, obsID: obsID, physicalFilter: fmt.Sprintf("SPHEREx-D%d", (id-1)%detectorsPerExposure+1), exposureTime: 50}
}

func (fx *fixture) newRecord(element string, values map[string]any) (dimensions.Record, error) {
	e, ok := fx.u.Element(element)
	if !ok {
		return dimensions.Record{}, fmt.Errorf("no element %s", element)
	}
	return e.NewRecord(fx.u, values)
}

// records are the day_obs, group and exposure records of an exposure, in
// dependency order.
func (fx *fixture) records(e expInfo) ([]dimensions.Record, error) {
	day, err := fx.newRecord("day_obs", map[string]any{"instrument": fx.instrument, "day_obs": e.dayObs,
		"timespan_begin": e.dayBegin, "timespan_end": e.dayEnd})
	if err != nil {
		return nil, err
	}
	grp, err := fx.newRecord("group", map[string]any{"instrument": fx.instrument, "group": e.group})
	if err != nil {
		return nil, err
	}
	exp, err := fx.newRecord("exposure", map[string]any{"instrument": fx.instrument, "exposure": e.id,
		"physical_filter": e.physicalFilter, "group": e.group, "day_obs": e.dayObs, "obs_id": e.obsID,
		"exposure_time": e.exposureTime, "dark_time": e.exposureTime, "observation_type": "science",
		"can_see_sky": true, "has_simulated": false, "timespan_begin": e.begin, "timespan_end": e.end})
	if err != nil {
		return nil, err
	}
	return []dimensions.Record{day, grp, exp}, nil
}

// datasetInfo is one raw dataset of a run: data ID, deterministic ID and
// its datastore record.
type datasetInfo struct {
	id                 string
	exposure, detector int64
	uri, checksum      string
	size               int64
}

func (fx *fixture) dataID(exposure, detector int64) dimensions.DataID {
	return dimensions.DataID{"instrument": fx.instrument, "exposure": exposure, "detector": detector}
}

func (fx *fixture) datasetID(run string, exposure, detector int64) string {
	return registry.DeterministicID(fx.datasetType.Name, fx.datasetType.Dimensions, fx.dataID(exposure, detector), run)
}

// nthDataset is dataset k (0-based) of the sequence (exposure 1, detectors
// 1..6), (exposure 2, ...), ...
func nthDataset(k int) (exposure, detector int64) {
	return int64(k/detectorsPerExposure + 1), int64(k%detectorsPerExposure + 1)
}

// newSkyRepo creates a file-store repository at dir with the instrument,
// the raw dataset type, the runs and (when chain is not empty) the chain.
func newSkyRepo(ctx context.Context, dir string, fx *fixture, runs []string, chain []string) (*butler.Butler, error) {
	bt, err := butler.Create(ctx, dir, butler.CreateOptions{Logger: quietLogger})
	if err != nil {
		return nil, err
	}
	reg := bt.Registry
	if _, _, err := reg.InsertRecordSets(ctx, "register-instrument", fx.instRecords); err != nil {
		return nil, err
	}
	if _, err := reg.RegisterDatasetTypes(ctx, fx.datasetType); err != nil {
		return nil, err
	}
	var cs []registry.Collection
	for _, r := range runs {
		cs = append(cs, registry.Collection{Name: r, Type: registry.Run})
	}
	if _, err := reg.RegisterCollections(ctx, cs...); err != nil {
		return nil, err
	}
	if len(chain) > 0 {
		if _, err := reg.SetChain(ctx, fx.chain, chain, registry.ChainRedefine, registry.ChainOptions{}); err != nil {
			return nil, err
		}
	}
	return bt, nil
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }
