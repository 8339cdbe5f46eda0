package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

// zkCliPath is zkCli.sh of Debian's zookeeper package.
const zkCliPath = "/usr/share/zookeeper/bin/zkCli.sh"

// zkCliSentinel is a zkCli command that needs no server and prints a line
// we can wait for: zkCli runs commands one at a time and each waits for its
// replies, so once this line is out, every frame of the command before it
// has passed the proxy.
const zkCliSentinel = "printwatches"

// runZkCli runs zkCli.sh through the proxy and feeds it commands one at a
// time, writing each as a comment before its frames and its output after.
func runZkCli(ctx context.Context, p *zkrecord.Proxy, rec *zkrecord.Recorder, commands []string) error {
	cmd := exec.CommandContext(ctx, zkCliPath, "-server", p.Addr())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	rec.Comment("zkCli.sh -server <proxy>: connect")
	lines, err := outputLines(cmd)
	if err != nil {
		return err
	}
	if err := waitConnected(ctx, rec); err != nil {
		return err
	}
	for _, c := range commands {
		rec.Comment("zkCli: %s", c)
		if _, err := io.WriteString(stdin, c+"\n"+zkCliSentinel+"\n"); err != nil {
			return fmt.Errorf("zkCli stdin: %w", err)
		}
		if err := copyOutputUntilSentinel(ctx, rec, lines); err != nil {
			return fmt.Errorf("zkCli %q: %w", c, err)
		}
	}
	rec.Comment("zkCli: quit (closeSession)")
	io.WriteString(stdin, "quit\n")
	stdin.Close()
	for line := range lines {
		if !noise(line) {
			rec.Comment("> %s", line)
		}
	}
	return cmd.Wait()
}

func copyOutputUntilSentinel(ctx context.Context, rec *zkrecord.Recorder, lines <-chan string) error {
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return fmt.Errorf("zkCli exited")
			}
			if strings.HasPrefix(line, "printwatches is ") {
				return nil
			}
			if !noise(line) {
				rec.Comment("> %s", line)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
