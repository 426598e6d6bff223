package synth

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fitsverify returns the path of the fitsverify binary; without it the test
// is skipped, except under CI=true, where it fails.
func fitsverify(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("fitsverify")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fitsverify is not installed (Debian package fitsverify)")
		}
		t.Skip("fitsverify is not installed")
	}
	return p
}

func TestGenerateRawsWritesSixDetectorsPerExposure(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 1, 23, 57, 0, 0, time.UTC)
	files, err := GenerateRaws(dir, Options{Exposures: 3, Start: start, DarkEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 18 {
		t.Fatalf("%d files, want 18", len(files))
	}
	for _, tc := range []struct {
		name     string
		file     FileInfo
		path     string
		exposure int64
		det      int
		obsType  string
		begin    time.Time
	}{
		{"the first file is exposure 1 of the day, detector 1", files[0], "raw_SPHEREx_2026030100001_1.fits", 2026030100001, 1, "SCIENCE", start},
		{"the second exposure is a dark", files[11], "raw_SPHEREx_2026030100002_6.fits", 2026030100002, 6, "DARK", start.Add(120 * time.Second)},
		{"sequence numbers restart on a new UTC day", files[12], "raw_SPHEREx_2026030200001_1.fits", 2026030200001, 1, "SCIENCE", start.Add(240 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.file
			if f.Path != filepath.Join(dir, tc.path) || f.Exposure != tc.exposure || f.Detector != tc.det ||
				f.ObsType != tc.obsType || !f.Begin.Equal(tc.begin) || !f.End.Equal(tc.begin.Add(112*time.Second)) || f.Kind != "raw" {
				t.Fatalf("file %+v", f)
			}
			if _, err := os.Stat(f.Path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := GenerateRaws(dir, Options{Exposures: 2, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		if _, err := GenerateDarks(dir, Options{Exposures: 2, Seed: 7, Darks: 2}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(a)
	if len(entries) != 24 {
		t.Fatalf("%d files, want 24", len(entries))
	}
	for _, e := range entries {
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, _ := os.ReadFile(filepath.Join(b, e.Name()))
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two runs", e.Name())
		}
	}
	other := t.TempDir()
	files, _ := GenerateRaws(other, Options{Exposures: 1, Seed: 8, Detectors: []int{1}})
	x, _ := os.ReadFile(files[0].Path)
	y, _ := os.ReadFile(filepath.Join(a, filepath.Base(files[0].Path)))
	if bytes.Equal(x, y) {
		t.Fatal("another seed gives the same pixels")
	}
}

func TestGeneratedFilesPassFitsverify(t *testing.T) {
	bin := fitsverify(t)
	dir := t.TempDir()
	raws, err := GenerateRaws(dir, Options{Exposures: 2, DarkEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	darks, err := GenerateDarks(dir, Options{Exposures: 2, Darks: 1})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-q"}
	for _, f := range append(raws, darks...) {
		args = append(args, f.Path)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || strings.Count(string(out), "verification OK") != len(args)-1 {
		t.Fatalf("fitsverify: %v\n%s", err, out)
	}

	bad := filepath.Join(dir, "corrupt.fits")
	if err := WriteCorrupt(bad); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-q", bad).CombinedOutput(); err == nil && !strings.Contains(string(out), "FAILED") {
		t.Fatalf("fitsverify accepts the corrupt file:\n%s", out)
	}
}

func TestFortyExposuresMake240Raws(t *testing.T) {
	files, err := GenerateRaws(t.TempDir(), Options{Exposures: 40})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 240 {
		t.Fatalf("%d files, want 240", len(files))
	}
}

// BenchmarkGenerateRaws: the generator's speed (target: 240 files well
// under 2 s); a benchmark, not a timed test.
func BenchmarkGenerateRaws(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := GenerateRaws(dir, Options{Exposures: 40}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(240*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

func TestDarkEpochsSplitTheRawTimeRange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		epochs int
		step   time.Duration
	}{
		{"one epoch covers at least an hour", Options{Exposures: 2}, 1, time.Hour},
		{"three epochs split 100 exposures (11992 s) to the second", Options{Exposures: 100, Darks: 3}, 3, 3998 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eps := DarkEpochs(tc.opts)
			if len(eps) != tc.epochs {
				t.Fatalf("%d epochs", len(eps))
			}
			for i, ep := range eps {
				if ep[1].Sub(ep[0]) != tc.step || (i > 0 && !eps[i-1][1].Equal(ep[0])) {
					t.Fatalf("epochs %v", eps)
				}
			}
		})
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []Options{{Exposures: -1}, {Detectors: []int{7}}, {Size: 100000}} {
		if _, err := GenerateRaws(t.TempDir(), o); err == nil || !strings.HasPrefix(err.Error(), "generate raws: ") {
			t.Errorf("%+v: error %v", o, err)
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateRaws(filepath.Join(file, "sub"), Options{Exposures: 1}); err == nil {
		t.Error("a directory under a file must fail")
	}
}
