package consensus_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
)

// TestTranscriptViewChangeInParts: a log suffix split in parts crosses a view
// change. n2 misses every Prepare, so the new primary's view change needs
// n0's whole log; with one entry per part the DoViewChange and StartView
// travel in several parts each.
func TestTranscriptViewChangeInParts(t *testing.T) {
	h := newHarnessWith(t, 3, func(c *consensus.Config) { c.MaxPartBytes = 40 }, false)
	h.logf("# parts of 40 bytes: one entry each (a command plus 32 bytes of overhead)")
	h.stabilize()
	h.isolate(2, true)
	for _, c := range []string{"a", "b", "c", "d"} {
		h.propose(1, c)
	}
	h.stabilize()
	h.tickAll(1)
	h.logf("# the primary crashes; n2 never received a Prepare")
	h.crash(1)
	h.isolate(2, false)
	h.tickAll(12)
	h.status()
	h.expectState(0, "a b c d ")
	h.expectState(2, "a b c d ")
	h.golden("view_change_in_parts")
}

// TestBigLogCrossesViewChangeInBoundedMessages: 8 MiB of log crosses a view
// change (the new primary lacks all of it, so the DoViewChange or the
// StartView carries it all) while no message exceeds a part's bound.
func TestBigLogCrossesViewChangeInBoundedMessages(t *testing.T) {
	const part = 100 << 10
	const bound = part + 4<<10 // entries' bytes plus the message's fields
	h := newHarnessWith(t, 3, func(c *consensus.Config) {
		c.MaxPartBytes, c.MaxBatchBytes = part, part
	}, true)
	var largest, suffixParts int
	h.delivered = func(e consensus.Envelope) {
		frame, err := wire.Encode(nil, e.Msg)
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, len(frame))
		if len(frame) > bound {
			t.Fatalf("%s: %d bytes, bound %d", e, len(frame), bound)
		}
		switch e.Msg.(type) {
		case *consensus.DoViewChange, *consensus.StartView:
			if len(wire.EntriesOf(e.Msg)) > 0 {
				suffixParts++
			}
		}
	}
	h.stabilize()
	h.isolate(2, true)
	var want strings.Builder
	for i := 0; i < 256; i++ { // 256 commands of 32 KiB: 8 MiB
		cmd := bytes.Repeat([]byte{byte('a' + i%26)}, 32<<10)
		h.propose(1, string(cmd))
		want.Write(cmd)
		want.WriteByte(' ')
	}
	h.stabilize()
	h.tickAll(1)
	h.crash(1)
	h.isolate(2, false)
	h.tickAll(20)
	for _, id := range []int{0, 2} {
		if h.nodes[id].state != want.String() {
			t.Fatalf("n%d applied %d bytes, want %d", id, len(h.nodes[id].state), want.Len())
		}
	}
	if info := h.nodes[2].r.Info(); info.Op != 256 || info.Status != consensus.StatusNormal {
		t.Fatalf("n2 after the view change: %+v", info)
	}
	if suffixParts < 8<<20/part {
		t.Fatalf("the log crossed in %d view-change parts", suffixParts)
	}
	t.Logf("largest message %d bytes (bound %d), %d view-change parts with entries", largest, bound, suffixParts)
}
