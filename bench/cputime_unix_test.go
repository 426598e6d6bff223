//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime is the user+system CPU time this process has used so far: on a
// busy machine it tells how much of a wall-clock time was work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
