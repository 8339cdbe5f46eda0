package integration

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests of this file's family drive ZooKeeper's own clients, as users
// run them, against the servers: zkCli.sh, the C client's cli_mt,
// ZooKeeper's Java client and Curator, and kazoo. They install nothing:
// scripts/test installs their Debian packages (need_apt there), and a test
// whose client is missing fails, naming the package.

// Where Debian's packages put the clients.
const (
	zkCliPath   = "/usr/share/zookeeper/bin/zkCli.sh" // zookeeper
	cliMTPath   = "/usr/lib/zookeeper/bin/cli_mt"     // zookeeper-bin
	systemPy    = "/usr/bin/python3"                  // python3-kazoo imports only here
	javaLibPath = "/usr/share/java"                   // libzookeeper-java, libcurator-*-java
)

// needFile fails the test if a client's file is missing.
func needFile(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: install Debian's %s (scripts/test does)", path, pkg)
	}
}

// clientTimeout bounds one client program's run.
const clientTimeout = 90 * time.Second

// runClient runs a client program to its end and returns its standard
// output; a non-zero exit fails the test with the program's error output.
func runClient(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr (last 3000 bytes):\n%s", name, strings.Join(args, " "), err,
			out, tail([]byte(stderr.String()), 3000))
	}
	return string(out)
}

// observations parses "name: value" lines, in order. Lines without ": "
// are kept whole.
func observations(out string) []string {
	var obs []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line = strings.TrimRight(line, " \r"); line != "" {
			obs = append(obs, line)
		}
	}
	return obs
}

// checkObservations compares a client's observations with the expected
// ones line by line and reports every mismatch.
func checkObservations(t *testing.T, got, want []string) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("observation %d:\n  got  %q\n  want %q", i+1, g, w)
		}
	}
}

var (
	maskedHex  = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	maskedDate = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d( [A-Z]{2,5})? \d{4}`)
	maskedMs   = regexp.MustCompile(`\b1\d{12}\b`) // milliseconds since the epoch, 2001 to 2286
)

// maskIDs replaces what differs between servers and runs in a client's
// printed line: hexadecimal numbers (zxids, session ids), dates and
// millisecond times.
func maskIDs(line string) string {
	line = maskedHex.ReplaceAllString(line, "0x#")
	line = maskedDate.ReplaceAllString(line, "DATE")
	return maskedMs.ReplaceAllString(line, "MS")
}

// interactive is a client shell fed commands on its standard input, whose
// merged output is read line by line.
type interactive struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startInteractive(t *testing.T, name string, args ...string) *interactive {
	t.Helper()
	return startInteractiveEnv(t, nil, name, args...)
}

// startInteractiveEnv is startInteractive with more environment.
func startInteractiveEnv(t *testing.T, env []string, name string, args ...string) *interactive {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	w.Close()
	sh := &interactive{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(sh.lines)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			sh.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return sh
}

// send writes one line to the shell.
func (sh *interactive) send(line string) {
	sh.t.Helper()
	if _, err := io.WriteString(sh.stdin, line+"\n"); err != nil {
		sh.t.Fatalf("write %q: %v", line, err)
	}
}

// readUntil returns the lines before the first one that done accepts (which
// is consumed too), failing the test if the output ends first.
func (sh *interactive) readUntil(what string, done func(string) bool) []string {
	sh.t.Helper()
	var out []string
	for line := range sh.lines {
		if done(line) {
			return out
		}
		out = append(out, line)
	}
	sh.t.Fatalf("output ended before %s; it was:\n%s", what, strings.Join(out, "\n"))
	return nil
}
