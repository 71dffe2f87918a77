//go:build unix

package stepwrap

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ownGroup puts the program in a process group of its own, so that stopping
// it stops whatever it started too (a shell's children).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stopGroup sends the group SIGTERM, then SIGKILL after grace unless the
// program is done by then.
func stopGroup(p *os.Process, grace time.Duration, done <-chan struct{}) {
	_ = syscall.Kill(-p.Pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

// killGroupNow kills what is left of the group once its leader is reaped.
func killGroupNow(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

// exitCode reports a death by signal as 128+signal, as shells and Docker do.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func killedBy(ps *os.ProcessState, sig int) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && int(ws.Signal()) == sig
}

// usage is the CPU time of the program and the descendants it waited for.
func usage(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }
