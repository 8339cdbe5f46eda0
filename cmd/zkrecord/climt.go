package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os/exec"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// cliMTPath is the C client's command-line shell from Debian's zookeeper-bin.
const cliMTPath = "/usr/lib/zookeeper/bin/cli_mt"

// runCliMT runs the C client's shell through the proxy. Its commands are
// asynchronous and print no end marker, but each sends exactly one request,
// so the driver waits for one more reply before the next command. Output
// lines are kept as comments where they happen to arrive.
func runCliMT(ctx context.Context, p *zkrecord.Proxy, rec *zkrecord.Recorder, commands []string) error {
	cmd := exec.CommandContext(ctx, cliMTPath, p.Addr())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	rec.Comment("cli_mt <proxy>: connect")
	lines, err := outputLines(cmd)
	if err != nil {
		return err
	}
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		for line := range lines {
			if !noise(line) {
				rec.Comment("> %s", line)
			}
		}
	}()
	if err := waitConnected(ctx, rec); err != nil {
		return err
	}
	for _, c := range commands {
		before := answered(rec.Entries())
		rec.Comment("cli_mt: %s", c)
		if _, err := io.WriteString(stdin, c+"\n"); err != nil {
			return fmt.Errorf("cli_mt stdin: %w", err)
		}
		err := rec.WaitFor(ctx, func(es []zkrecord.Entry) bool { return answered(es) > before })
		if err != nil {
			return fmt.Errorf("cli_mt %q: %w", c, err)
		}
	}
	rec.Comment("cli_mt: quit (closeSession)")
	io.WriteString(stdin, "quit\n")
	stdin.Close()
	<-outDone
	return cmd.Wait()
}

// answered counts the server's replies to requests, leaving out the
// handshake, notifications and pings.
func answered(es []zkrecord.Entry) int {
	n := 0
	for _, e := range es {
		if !e.Frame || e.Dir != zkrecord.FromServer || e.Label == "connect" || len(e.Payload) < 4 {
			continue
		}
		xid := int32(binary.BigEndian.Uint32(e.Payload))
		if xid != zkproto.NotificationXid && xid != zkproto.PingXid {
			n++
		}
	}
	return n
}
