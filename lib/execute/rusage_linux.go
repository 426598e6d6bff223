//go:build linux

package execute

import "syscall"

// usage returns the process's CPU time (user + system, seconds) and peak
// resident set size (bytes).
func usage() (cpu float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	cpu = float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	return cpu, ru.Maxrss * 1024
}
