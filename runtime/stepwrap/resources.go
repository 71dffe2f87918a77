package stepwrap

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sample is the program's resource use at one moment.
type Sample struct {
	// Wall is the time since the wrapper started.
	Wall time.Duration `json:"wall"`
	// CPU is the CPU time used since the program started.
	CPU time.Duration `json:"cpu"`
	// Memory is the memory in use now, MemoryPeak the most seen, in bytes.
	Memory     int64 `json:"memory_bytes"`
	MemoryPeak int64 `json:"memory_peak_bytes"`
	// Source says where the figures come from: "cgroup2", "cgroup1" or
	// "proc".
	Source string `json:"source"`
}

// Resource sources.
const (
	SourceCgroup2 = "cgroup2"
	SourceCgroup1 = "cgroup1"
	SourceProc    = "proc"
)

// ResourceSource says where CPU and memory are read. The zero value detects
// it: the container's own cgroup (v2, else v1) when the wrapper runs in a
// container, else /proc (a local process shares its cgroup with the rest
// of the session, so a cgroup's figures would not be the program's).
type ResourceSource struct {
	// Kind is SourceCgroup2, SourceCgroup1, SourceProc or "" (detect).
	Kind string
	// Dir is the cgroup folder: for v2 the group's folder (with
	// memory.current, cpu.stat, memory.events), for v1 the hierarchy's root
	// (with memory/ and cpuacct/). Default /sys/fs/cgroup.
	Dir string
	// Proc is the proc file system's root (default /proc).
	Proc string
}

// monitor samples one program's resource use.
type monitor struct {
	src      ResourceSource
	pid      int
	cpuStart time.Duration
	peak     int64
}

func newMonitor(src ResourceSource) *monitor {
	if src.Dir == "" {
		src.Dir = "/sys/fs/cgroup"
	}
	if src.Proc == "" {
		src.Proc = "/proc"
	}
	if src.Kind == "" {
		src.Kind = detect(src)
	}
	m := &monitor{src: src}
	m.cpuStart, _ = m.cpu()
	return m
}

// detect picks the resource source for this process.
func detect(src ResourceSource) string {
	data, err := os.ReadFile(filepath.Join(src.Proc, "self", "cgroup"))
	if err != nil {
		return SourceProc
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// "0::/" is cgroup v2 seen from a private cgroup namespace: a
		// container, whose whole group is the wrapper and its program.
		if line == "0::/" && exists(filepath.Join(src.Dir, "cgroup.controllers")) && exists(filepath.Join(src.Dir, "memory.current")) {
			return SourceCgroup2
		}
	}
	if exists("/.dockerenv") && exists(filepath.Join(src.Dir, "memory", "memory.usage_in_bytes")) {
		return SourceCgroup1
	}
	return SourceProc
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func (m *monitor) kind() string { return m.src.Kind }

// sample reads the figures now.
func (m *monitor) sample(wall time.Duration) Sample {
	s := Sample{Wall: wall, Source: m.src.Kind}
	if cpu, ok := m.cpu(); ok {
		s.CPU = max(cpu-m.cpuStart, 0)
	}
	var peak int64
	switch m.src.Kind {
	case SourceCgroup2:
		s.Memory = readInt(filepath.Join(m.src.Dir, "memory.current"))
		peak = readInt(filepath.Join(m.src.Dir, "memory.peak"))
	case SourceCgroup1:
		s.Memory = readInt(filepath.Join(m.src.Dir, "memory", "memory.usage_in_bytes"))
		peak = readInt(filepath.Join(m.src.Dir, "memory", "memory.max_usage_in_bytes"))
	default:
		_, s.Memory = m.procGroup()
	}
	m.peak = max(m.peak, peak, s.Memory)
	s.MemoryPeak = m.peak
	return s
}

// final is the last sample, completed with the CPU time the kernel reports
// of the reaped program (rusage), which a sample between two ticks can miss.
func (m *monitor) final(ps *os.ProcessState, wall time.Duration) Sample {
	s := m.sample(wall)
	if ps == nil {
		return s
	}
	// rusage's peak memory is not used: Go starts programs with vfork, so
	// the child's high-water mark begins at the wrapper's own.
	s.CPU = max(s.CPU, usage(ps))
	return s
}

// cpu is the CPU time used so far by the group (cgroup) or the program's
// process group (proc).
func (m *monitor) cpu() (time.Duration, bool) {
	switch m.src.Kind {
	case SourceCgroup2:
		v, ok := readKey(filepath.Join(m.src.Dir, "cpu.stat"), "usage_usec")
		return time.Duration(v) * time.Microsecond, ok
	case SourceCgroup1:
		for _, d := range []string{"cpuacct", "cpu,cpuacct", "cpu"} {
			p := filepath.Join(m.src.Dir, d, "cpuacct.usage")
			if exists(p) {
				return time.Duration(readInt(p)), true
			}
		}
		return 0, false
	}
	if m.pid == 0 {
		return 0, true
	}
	cpu, _ := m.procGroup()
	return cpu, true
}

// oomKills is the group's count of processes killed for memory (cgroup
// only; 0 elsewhere).
func (m *monitor) oomKills() int64 {
	switch m.src.Kind {
	case SourceCgroup2:
		v, _ := readKey(filepath.Join(m.src.Dir, "memory.events"), "oom_kill")
		return v
	case SourceCgroup1:
		v, _ := readKey(filepath.Join(m.src.Dir, "memory", "memory.oom_control"), "oom_kill")
		return v
	}
	return 0
}

// clockTicks is USER_HZ, 100 on every Linux the wrapper runs on.
const clockTicks = 100

// procGroup sums the CPU time and resident memory of the processes in the
// program's process group, from /proc/PID/stat.
func (m *monitor) procGroup() (cpu time.Duration, rss int64) {
	if m.pid == 0 {
		return 0, 0
	}
	entries, err := os.ReadDir(m.src.Proc)
	if err != nil {
		return 0, 0
	}
	page := int64(os.Getpagesize())
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(m.src.Proc, e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: fields are
		// counted after its closing parenthesis.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		// After ")": state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ... rss(24).
		if len(f) < 22 {
			continue
		}
		if pgrp, _ := strconv.Atoi(f[2]); pgrp != m.pid {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		pages, _ := strconv.ParseInt(f[21], 10, 64)
		cpu += time.Duration(ut+st) * time.Second / clockTicks
		rss += pages * page
	}
	return cpu, rss
}

// readInt reads a file holding one number ("max" and errors read as 0).
func readInt(p string) int64 {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n
}

// readKey reads "key value" lines (cpu.stat, memory.events).
func readKey(p, key string) (int64, bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
