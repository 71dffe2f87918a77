//go:build !unix

package executor

import (
	"os"
	"os/exec"
)

// Without process groups only the step's own process can be stopped.

func ownGroup(*exec.Cmd) {}

func terminateGroup(p *os.Process) error { return p.Signal(os.Interrupt) }

func killGroup(p *os.Process) error { return p.Kill() }

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
