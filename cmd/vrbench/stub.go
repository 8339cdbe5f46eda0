package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The stub is the benchmark's ceiling: a server that speaks just enough of
// ZooKeeper's protocol to answer every request of the loads at once, from
// the connection's reader, with a reply of the right shape (a getData gets
// size bytes of data and a stat) and no state. What a client reaches against
// it is what the client, the loopback and the machine allow; a real server
// can only come close.

// runStub serves the stub on addr until the process is signalled.
func runStub(addr string, size int) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("stub: listen on %s: %w", addr, err)
	}
	fmt.Fprintf(os.Stderr, "stub serving on %s\n", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		ln.Close()
	}()
	data := bytes.Repeat([]byte("x"), size)
	var sessions atomic.Int64
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("stub: accept: %w", err)
		}
		go stubConn(nc, data, sessions.Add(1))
	}
}

// stubConn answers one connection: the handshake, then every request as
// soon as it is read; replies to requests read together leave together.
func stubConn(nc net.Conn, data []byte, session int64) {
	defer nc.Close()
	fr := zkproto.NewFrameReader(nc, zkproto.DefaultMaxPacketSize)
	payload, word, err := fr.ReadFirst()
	if err != nil {
		return
	}
	if word != "" {
		// scripts/bench asks srvr whether a server is up.
		io.WriteString(nc, "Zookeeper version: stub\nMode: standalone\n")
		return
	}
	var req zkproto.ConnectRequest
	if zkproto.Unmarshal(payload, &req) != nil {
		return
	}
	resp := zkproto.ConnectResponse{TimeOut: req.TimeOut, SessionID: session, Passwd: make([]byte, zkproto.PasswordSize)}
	if _, err := nc.Write(zkproto.AppendRecordFrame(nil, &resp)); err != nil {
		return
	}
	var (
		out  []byte
		h    zkproto.RequestHeader
		d    zkproto.Decoder
		zxid int64
	)
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			return
		}
		d.Reset(frame)
		if h.Decode(&d) != nil {
			return
		}
		zxid++
		rh := zkproto.ReplyHeader{Xid: h.Xid, Zxid: zxid}
		var start int
		out, start = zkproto.StartFrame(out)
		out = rh.Append(out)
		stat := zkproto.Stat{DataLength: int32(len(data))}
		switch h.Type {
		case zkproto.OpPing:
			rh.Xid = zkproto.PingXid
			out = rh.Append(out[:start+4])
		case zkproto.OpGetData:
			out = stat.Append(zkproto.AppendBuffer(out, data))
		case zkproto.OpExists, zkproto.OpSetData:
			out = stat.Append(out)
		case zkproto.OpCreate, zkproto.OpSync:
			out = zkproto.AppendBuffer(out, d.BytesView()) // the path, echoed
		case zkproto.OpCreate2:
			out = stat.Append(zkproto.AppendBuffer(out, d.BytesView()))
		case zkproto.OpGetChildren:
			out = zkproto.AppendInt32(out, 0)
		case zkproto.OpGetChildren2:
			out = stat.Append(zkproto.AppendInt32(out, 0))
		}
		out = zkproto.FinishFrame(out, start)
		if fr.Buffered() > 0 {
			continue // more requests read already: answer them together
		}
		if _, err := nc.Write(out); err != nil {
			return
		}
		out = out[:0]
		if h.Type == zkproto.OpCloseSession {
			return
		}
	}
}
