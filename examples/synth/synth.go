package synth

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/astrogo/fitsio"
)

// Options configure the generators. Zero fields take the defaults noted.
type Options struct {
	Exposures    int           // raw exposures to write (each one file per detector)
	Darks        int           // dark epochs for GenerateDarks; 0: 1
	Start        time.Time     // start of the first exposure; zero: 2026-03-01T00:00:00Z
	Seed         uint64        // seeds pointings and noise; 0 is a valid seed
	ExposureTime float64       // seconds; 0: 112
	Gap          time.Duration // between the end of one exposure and the next start; 0: 8s
	GroupSize    int           // exposures per group; 0: 4
	DarkEvery    int           // every DarkEvery-th exposure is IMGTYPE DARK; 0: none
	Size         int           // image side in pixels; 0: 64
	Detectors    []int         // detectors to write; nil: 1..6
}

// FileInfo describes one written file.
type FileInfo struct {
	Path     string
	Kind     string // "raw" or "dark" (a master dark calibration frame)
	Exposure int64  // EXPID; 0 for darks
	Detector int
	ObsType  string    // IMGTYPE: SCIENCE or DARK
	ObsID    string    // OBSID; "" for darks
	Begin    time.Time // exposure start, or validity start for darks
	End      time.Time // exposure end, or validity end for darks
}

// Instrument is the INSTRUME value the files carry.
const Instrument = "SPHEREx"

func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC()
	if o.ExposureTime == 0 {
		o.ExposureTime = 112
	}
	if o.Gap == 0 {
		o.Gap = 8 * time.Second
	}
	if o.GroupSize <= 0 {
		o.GroupSize = 4
	}
	if o.Size <= 0 {
		o.Size = 64
	}
	if o.Darks <= 0 {
		o.Darks = 1
	}
	if o.Detectors == nil {
		o.Detectors = []int{1, 2, 3, 4, 5, 6}
	}
	return o
}

func (o Options) check() error {
	switch {
	case o.Exposures < 0:
		return fmt.Errorf("negative number of exposures %d", o.Exposures)
	case o.ExposureTime < 0 || o.ExposureTime > 1e5:
		return fmt.Errorf("exposure time %g s out of range", o.ExposureTime)
	case o.Size > 4096:
		return fmt.Errorf("image size %d too large (at most 4096)", o.Size)
	}
	for _, d := range o.Detectors {
		if d < 1 || d > 6 {
			return fmt.Errorf("detector %d is not one of 1..6", d)
		}
	}
	return nil
}

// exposure is the plan of one exposure.
type exposure struct {
	id      int64
	dayObs  int
	seq     int
	obsID   string
	group   string
	imgType string
	begin   time.Time
	end     time.Time
	ra, dec float64
	field   string
}

func (o Options) exposureLength() time.Duration {
	return time.Duration(math.Round(o.ExposureTime * 1e9))
}

// plan returns the exposures o describes, in time order.
func (o Options) plan() []exposure {
	exps := make([]exposure, 0, o.Exposures)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e1ec7))
	t := o.Start
	seq, day := 0, 0
	var ra, dec float64
	var field string
	for i := 0; i < o.Exposures; i++ {
		d := t.Year()*10000 + int(t.Month())*100 + t.Day()
		if d != day {
			day, seq = d, 0
		}
		seq++
		if (seq-1)%o.GroupSize == 0 {
			ra = round3(rng.Float64() * 360)
			dec = round3(math.Asin(2*rng.Float64()-1) * 180 / math.Pi)
			field = fmt.Sprintf("SPX-FIELD-%04d", rng.IntN(10000))
		}
		e := exposure{
			id:      int64(day)*100000 + int64(seq),
			dayObs:  day,
			seq:     seq,
			obsID:   fmt.Sprintf("SPX-%08d-%05d", day, seq),
			group:   fmt.Sprintf("SPX-%08d-G%04d", day, (seq-1)/o.GroupSize+1),
			imgType: "SCIENCE",
			begin:   t,
			end:     t.Add(o.exposureLength()),
			ra:      round3(ra + (rng.Float64()-0.5)*0.01),
			dec:     round3(dec + (rng.Float64()-0.5)*0.01),
			field:   field,
		}
		if o.DarkEvery > 0 && (i+1)%o.DarkEvery == 0 {
			e.imgType = "DARK"
		}
		exps = append(exps, e)
		t = e.end.Add(o.Gap)
	}
	return exps
}

// GenerateRaws writes the raw files of opts.Exposures exposures into dir
// (created if needed) and returns them ordered by exposure, then detector.
func GenerateRaws(dir string, opts Options) ([]FileInfo, error) {
	o := opts.withDefaults()
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("generate raws: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("generate raws: %w", err)
	}
	var out []FileInfo
	for _, e := range o.plan() {
		for _, det := range o.Detectors {
			path := filepath.Join(dir, fmt.Sprintf("raw_%s_%d_%d.fits", Instrument, e.id, det))
			if err := writeFITS(path, rawCards(o, e, det), rawPixels(o, e, det)); err != nil {
				return nil, fmt.Errorf("generate raws: %w", err)
			}
			out = append(out, FileInfo{Path: path, Kind: "raw", Exposure: e.id, Detector: det,
				ObsType: e.imgType, ObsID: e.obsID, Begin: e.begin, End: e.end})
		}
	}
	return out, nil
}

// DarkEpochs returns the validity ranges of the dark epochs: the time from
// the start of the first exposure to the end of the last (at least an
// hour) split into opts.Darks equal parts, to the second.
func DarkEpochs(opts Options) [][2]time.Time {
	o := opts.withDefaults()
	span := time.Hour
	if n := time.Duration(o.Exposures); n > 0 {
		if s := n*o.exposureLength() + (n-1)*o.Gap; s > span {
			span = s
		}
	}
	step := (span/time.Duration(o.Darks) + time.Second - 1).Truncate(time.Second)
	epochs := make([][2]time.Time, o.Darks)
	for k := range epochs {
		epochs[k] = [2]time.Time{o.Start.Add(time.Duration(k) * step), o.Start.Add(time.Duration(k+1) * step)}
	}
	return epochs
}

// GenerateDarks writes one master dark per detector per dark epoch (see
// DarkEpochs) into dir, ordered by epoch, then detector.
func GenerateDarks(dir string, opts Options) ([]FileInfo, error) {
	o := opts.withDefaults()
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("generate darks: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("generate darks: %w", err)
	}
	var out []FileInfo
	for k, ep := range DarkEpochs(o) {
		for _, det := range o.Detectors {
			path := filepath.Join(dir, fmt.Sprintf("dark_%s_%03d_%d.fits", Instrument, k+1, det))
			if err := writeFITS(path, darkCards(o, k+1, ep, det), darkPixels(o, k+1, det)); err != nil {
				return nil, fmt.Errorf("generate darks: %w", err)
			}
			out = append(out, FileInfo{Path: path, Kind: "dark", Detector: det, ObsType: "DARK", Begin: ep[0], End: ep[1]})
		}
	}
	return out, nil
}

// WriteCorrupt writes a file that is not a readable FITS file: the first
// 1000 bytes of a valid raw header (it starts with a proper SIMPLE card, but
// the header ends without an END card).
func WriteCorrupt(path string) error {
	o := Options{Exposures: 1}.withDefaults()
	tmp, err := os.MkdirTemp("", "synth-corrupt-")
	if err != nil {
		return fmt.Errorf("write corrupt file: %w", err)
	}
	defer os.RemoveAll(tmp)
	full := filepath.Join(tmp, "raw.fits")
	e := o.plan()[0]
	if err := writeFITS(full, rawCards(o, e, 1), rawPixels(o, e, 1)); err != nil {
		return fmt.Errorf("write corrupt file: %w", err)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return fmt.Errorf("write corrupt file: %w", err)
	}
	if err := os.WriteFile(path, data[:1000], 0o644); err != nil {
		return fmt.Errorf("write corrupt file: %w", err)
	}
	return nil
}

// writeFITS writes a primary-HDU float32 image with the given cards.
func writeFITS(path string, cards []fitsio.Card, img image) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	ff, err := fitsio.Create(w)
	if err != nil {
		return err
	}
	defer ff.Close()
	hdu := fitsio.NewImage(-32, []int{img.size, img.size})
	if err := hdu.Header().Append(cards...); err != nil {
		return err
	}
	if err := hdu.Write(img.pix); err != nil {
		return err
	}
	if err := ff.Write(hdu); err != nil {
		return err
	}
	return w.Flush()
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
