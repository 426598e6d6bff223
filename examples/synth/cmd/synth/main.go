// Command synth writes synthetic SPHEREx-like raw FITS files and master
// darks (see package examples/synth):
//
//	synth -out DIR -exposures N -start 2026-03-01T00:00:00 [-darks M] [-seed S]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/skybutler/skybutler/examples/synth"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	out := fs.String("out", "", "output directory (required)")
	exposures := fs.Int("exposures", 1, "number of exposures (6 raw files each)")
	start := fs.String("start", "2026-03-01T00:00:00", "start of the first exposure, UTC (YYYY-MM-DDThh:mm:ss or RFC 3339)")
	darks := fs.Int("darks", 0, "number of dark epochs (6 master darks each); 0 writes none")
	darkEvery := fs.Int("dark-every", 0, "make every Nth exposure a dark exposure (IMGTYPE=DARK)")
	seed := fs.Uint64("seed", 1, "random seed")
	size := fs.Int("size", 64, "image side in pixels")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("usage: synth -out DIR [-exposures N] [-start TIME] [-darks M]")
	}
	t, err := time.Parse("2006-01-02T15:04:05", *start)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, *start); err != nil {
			return fmt.Errorf("-start %q: want YYYY-MM-DDThh:mm:ss (UTC) or RFC 3339", *start)
		}
	}
	opts := synth.Options{Exposures: *exposures, Darks: *darks, Start: t, Seed: *seed, Size: *size, DarkEvery: *darkEvery}
	raws, err := synth.GenerateRaws(*out, opts)
	if err != nil {
		return err
	}
	var nd int
	if *darks > 0 {
		ds, err := synth.GenerateDarks(*out, opts)
		if err != nil {
			return err
		}
		nd = len(ds)
	}
	fmt.Printf("wrote %d raw files and %d master darks to %s\n", len(raws), nd, *out)
	return nil
}
