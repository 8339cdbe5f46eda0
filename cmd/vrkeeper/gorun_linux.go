package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// stopWithGoRun makes a server started by `go run` get SIGTERM when the go
// command exits: `go run` dies of a SIGTERM sent to it without passing it
// on, which would leave the server running. Only under `go run`: a server
// started by a shell, systemd or zkServer.sh must outlive its parent.
func stopWithGoRun() {
	ppid := os.Getppid()
	cmdline, err := os.ReadFile("/proc/" + itoa(ppid) + "/cmdline")
	if err != nil {
		return
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 || filepath.Base(args[0]) != "go" || args[1] != "run" {
		return
	}
	const prSetPdeathsig = 1
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() != ppid { // the go command exited before the call
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
