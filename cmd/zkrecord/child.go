package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

// runNoteClient runs a client program that speaks the note protocol on its
// stdin and stdout: "NOTE <text>" becomes a comment and "SEVER" cuts every
// proxied connection, each answered with a line once done, so the program
// only goes on when its comment is in the record; any other line it prints
// is kept as an output comment.
func runNoteClient(ctx context.Context, p *zkrecord.Proxy, rec *zkrecord.Recorder, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "NOTE "):
			rec.Comment("%s", strings.TrimPrefix(line, "NOTE "))
		case line == "SEVER":
			p.Sever()
		default:
			rec.Comment("> %s", line)
			continue
		}
		if _, err := io.WriteString(stdin, "\n"); err != nil {
			break
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, tail(stderr.String(), 3000))
	}
	return nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// outputLines starts cmd with stdout and stderr merged and returns its
// output lines; the channel is closed when the output ends.
func outputLines(cmd *exec.Cmd) (<-chan string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	w.Close()
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, nil
}

// noise reports whether a client output line says nothing about the
// conversation (logging set-up messages, blank lines).
func noise(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "SLF4J:")
}

// waitConnected waits until the server has answered a handshake.
func waitConnected(ctx context.Context, rec *zkrecord.Recorder) error {
	return rec.WaitFor(ctx, func(es []zkrecord.Entry) bool {
		for _, e := range es {
			if e.Frame && e.Dir == zkrecord.FromServer && e.Label == "connect" {
				return true
			}
		}
		return false
	})
}
