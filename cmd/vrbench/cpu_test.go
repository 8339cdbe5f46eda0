package main

import (
	"testing"
	"time"
)

// TestStatCPU reads utime and stime after a command name with spaces and
// parentheses, and nothing from a line cut short.
func TestStatCPU(t *testing.T) {
	line := "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 40 0 100 0 0\n"
	if got, want := statCPU([]byte(line)), 3250*time.Millisecond; got != want {
		t.Fatalf("statCPU = %v, want %v", got, want)
	}
	if got := statCPU([]byte("4242 (java) S 1 2 3")); got != 0 {
		t.Fatalf("statCPU of a short line = %v, want 0", got)
	}
	p := pidsFlag{}
	if err := p.Set("zk=1,22,333"); err != nil || len(p["zk"]) != 3 || p["zk"][2] != 333 {
		t.Fatalf("pids %v, err %v", p, err)
	}
	if err := p.Set("zk=1,x"); err == nil {
		t.Fatal("a bad pid was taken")
	}
}
