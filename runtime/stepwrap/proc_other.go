//go:build !unix

package stepwrap

import (
	"os"
	"os/exec"
	"time"
)

func ownGroup(*exec.Cmd) {}

func stopGroup(p *os.Process, grace time.Duration, done <-chan struct{}) {
	_ = p.Kill()
}

func killGroupNow(*os.Process) {}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	return ps.ExitCode()
}

func killedBy(*os.ProcessState, int) bool { return false }

func usage(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }
