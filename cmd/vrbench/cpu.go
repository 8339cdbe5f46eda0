package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// pidsFlag maps a target's name to the processes of its servers
// (--pids name=pid,pid,...), whose CPU time a cell reports per operation.
type pidsFlag map[string][]int

func (p pidsFlag) String() string { return fmt.Sprint(map[string][]int(p)) }

func (p pidsFlag) Set(v string) error {
	name, list, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want name=pid[,pid...], got %q", v)
	}
	for _, s := range strings.Split(list, ",") {
		pid, err := strconv.Atoi(s)
		if err != nil || pid <= 0 {
			return fmt.Errorf("bad pid %q", s)
		}
		p[name] = append(p[name], pid)
	}
	return nil
}

// clockTicks is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on
// Linux everywhere it matters).
const clockTicks = 100

// cpuOf returns a reader of the processes' CPU time so far (user and
// system, every thread); a process that is gone counts nothing.
func cpuOf(pids []int) func() time.Duration {
	return func() time.Duration {
		var total time.Duration
		for _, pid := range pids {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
				total += statCPU(b)
			}
		}
		return total
	}
}

// statCPU returns the user and system time a /proc/<pid>/stat line gives.
// The command name is in parentheses and may hold spaces and parentheses:
// the fields after its last ") " are state first, utime 12th, stime 13th.
func statCPU(stat []byte) time.Duration {
	s := string(stat)
	i := strings.LastIndex(s, ") ")
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// settle waits (at most 20 s) until every target's servers together use
// less than a tenth of a core: a server still busy after the previous cell
// (a JVM collecting, a snapshot being written) would otherwise take CPU
// from the cell that follows, which then measures another target's load.
func settle(pids pidsFlag) {
	var all []int
	for _, ps := range pids {
		all = append(all, ps...)
	}
	if len(all) == 0 {
		return
	}
	cpu := cpuOf(all)
	const window = 250 * time.Millisecond
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		before := cpu()
		time.Sleep(window)
		if cpu()-before < window/10 {
			return
		}
	}
}
