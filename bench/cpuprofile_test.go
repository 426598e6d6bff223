package bench

import (
	"os"
	"runtime/pprof"
	"strings"
	"testing"
)

// startCPUProfile profiles the timed part of a benchmark into
// $SKYBUTLER_BENCH_CPUPROFILE.NAME when that is set (go test -cpuprofile
// would profile the fixture set-up too); call the returned function to
// stop. Read with: go tool pprof -top bench.test FILE.
func startCPUProfile(b *testing.B, name string) func() {
	base := os.Getenv("SKYBUTLER_BENCH_CPUPROFILE")
	if base == "" {
		return func() {}
	}
	f, err := os.Create(base + "." + strings.NewReplacer("/", "-", "=", "").Replace(name))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
