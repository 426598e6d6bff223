package s3test

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the server when the thread that
// started it exits; a safety net for test binaries that never call Stop.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
