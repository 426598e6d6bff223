package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunWritesRawsAndDarks(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-out", dir, "-exposures", "2", "-start", "2026-03-01T00:00:00", "-darks", "1"}); err != nil {
		t.Fatal(err)
	}
	raws, _ := filepath.Glob(filepath.Join(dir, "raw_SPHEREx_*.fits"))
	darks, _ := filepath.Glob(filepath.Join(dir, "dark_SPHEREx_*.fits"))
	if len(raws) != 12 || len(darks) != 6 {
		t.Fatalf("%d raws and %d darks, want 12 and 6", len(raws), len(darks))
	}
	if _, err := os.Stat(filepath.Join(dir, "raw_SPHEREx_2026030100002_6.fits")); err != nil {
		t.Fatal(err)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no output directory", []string{"-exposures", "1"}, "usage: synth -out DIR"},
		{"a bad start time", []string{"-out", t.TempDir(), "-start", "March"}, `-start "March": want YYYY-MM-DDThh:mm:ss`},
		{"a negative count", []string{"-out", t.TempDir(), "-exposures", "-1"}, "generate raws: negative number of exposures"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
