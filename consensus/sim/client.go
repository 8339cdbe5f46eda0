package sim

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// A client runs one operation at a time against a random replica and retries
// on another replica when it hears nothing for clientTimeout ticks (writes
// keep their id, so a retry is never applied twice).
type client struct {
	w    *World
	id   int
	seq  uint32
	done int
	cur  *clientOp
}

type clientOp struct {
	in       kvInput
	cmd      []byte
	call     int64
	deadline int64
}

const clientTimeout = 30 * tickUnits

func (c *client) wake() {
	w := c.w
	if c.cur == nil {
		if c.done < w.opts.OpsPerClient {
			c.issue()
		}
		return
	}
	if w.now >= c.cur.deadline {
		deadline := w.now + clientTimeout
		c.cur.deadline = deadline
		w.schedule(event{at: deadline, kind: evClient, client: c.id})
		c.send() // may complete the operation at once
	}
}

func (c *client) issue() {
	w := c.w
	c.seq++
	in := kvInput{key: uint8(w.rng.IntN(3))}
	switch x := w.rng.IntN(4); {
	case x < 2:
		in.kind = opGet
	case x == 2:
		in.kind = opPut
		in.value = fmt.Sprintf("%d.%d ", c.id, c.seq)
	default:
		in.kind = opAppend
		in.value = fmt.Sprintf("%d.%d ", c.id, c.seq)
	}
	op := &clientOp{in: in, call: w.now, deadline: w.now + clientTimeout}
	if in.kind != opGet {
		op.cmd = command{client: uint32(c.id), seq: c.seq, kind: in.kind, key: in.key, value: in.value}.encode()
	}
	c.cur = op
	w.schedule(event{at: op.deadline, kind: evClient, client: c.id})
	c.send() // may complete the operation at once
}

// send submits the current operation to a random live replica.
func (c *client) send() {
	w := c.w
	nd := w.nodes[w.rng.IntN(len(w.nodes))]
	if !nd.up {
		return
	}
	if c.cur.in.kind == opGet {
		nd.read(c.id, c.seq, c.cur.in.key)
	} else {
		nd.propose(uint32(c.id), c.seq, c.cur.cmd)
	}
}

func (c *client) respond(seq uint32, value string) {
	w := c.w
	if c.cur == nil || seq != c.seq {
		return
	}
	w.history = append(w.history, porcupine.Operation{
		ClientId: c.id, Input: c.cur.in, Call: c.cur.call, Output: kvOutput{value: value}, Return: w.now,
	})
	c.cur = nil
	c.done++
	w.schedule(event{at: w.now + w.rng.Int64N(2*tickUnits), kind: evClient, client: c.id})
}
