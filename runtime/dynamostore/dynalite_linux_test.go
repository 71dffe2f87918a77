package dynamostore

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill dynalite when the test binary dies, even
// by a panic that skips TestMain's cleanup.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
