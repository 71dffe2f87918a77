//go:build unix

package executor

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup puts the step in a process group of its own, so that stopping it
// stops whatever it started too (a shell's children, a pipeline).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminateGroup asks the step's group to stop.
func terminateGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// killGroup kills the step's group. After the leader is reaped the group id
// stays reserved while any member lives, so this reaches stragglers and
// nothing else.
func killGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }

// exitCode reports a death by signal as 128+signal, as shells and Docker do.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
