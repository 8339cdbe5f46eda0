package zkcompare

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

// Kind says what a Difference is about.
type Kind string

// The kinds of differences.
const (
	// KindFailed: the client failed against one server (its record is partial).
	KindFailed Kind = "client failed"
	// KindSteps: the clients made different calls (a driver stopped early).
	KindSteps Kind = "calls"
	// KindFrames: a connection's frames differ (content, order, presence).
	KindFrames Kind = "frames"
	// KindOutput: a client printed something different.
	KindOutput Kind = "output"
	// KindOrder: the same requests under the same labels in another order:
	// the client walked a list of children, which ZooKeeper returns in its
	// hash set's order and vrkeeper sorted (a documented difference). It
	// does not fail a comparison. A server's replies in another order have
	// other labels (xids), and are a KindFrames difference.
	KindOrder Kind = "children order"
	// KindKnown: a difference docs/compat.md documents (Difference.Known
	// names it). It does not fail a comparison; output lines printed during
	// (or right after) the calls it touched are counted as part of it.
	KindKnown Kind = "known difference"
	// KindMoved: the same frames, but one arrived during a different call.
	// Frames of one connection are ordered by the protocol; when a frame
	// arrives relative to another connection's calls is a matter of timing,
	// so these are reported but do not fail a comparison.
	KindMoved Kind = "timing"
)

// Difference is one way two conversations differ.
type Difference struct {
	Kind  Kind
	Known string // the known difference's name (KindKnown)
	Text  string // for a person: what differs, with the frames and calls involved
}

// Fails reports whether the difference fails a comparison.
func (d Difference) Fails() bool {
	return d.Kind != KindMoved && d.Kind != KindOrder && d.Kind != KindKnown
}

// Compare lists how got differs from ref, the reference (ZooKeeper's) run
// of the same scenario.
func Compare(ref, got *Conversation) []Difference {
	var out []Difference
	if ref.Failed || got.Failed {
		out = append(out, Difference{Kind: KindFailed, Text: fmt.Sprintf("reference failed: %v, compared failed: %v", ref.Failed, got.Failed)})
	}
	out = append(out, compareSteps(ref, got)...)
	var frames []Difference
	known := map[int]string{} // calls (by index) touched by a known difference
	for i := 0; i < max(len(ref.Conns), len(got.Conns)); i++ {
		var a, b []Frame
		if i < len(ref.Conns) {
			a = ref.Conns[i].Frames
		}
		if i < len(got.Conns) {
			b = got.Conns[i].Frames
		}
		// Each direction on its own: how the client's requests interleave
		// with the server's answers is timing (a client sends its next
		// request before the last reply when it likes), while the order of
		// each side's frames is the protocol's.
		for _, dir := range []zkrecord.Direction{zkrecord.FromClient, zkrecord.FromServer} {
			frames = append(frames, compareFrames(i+1, ref, got, sent(a, dir), sent(b, dir), known)...)
		}
	}
	out = append(out, compareOutput(ref, got, known)...)
	return append(out, frames...)
}

// sent returns the frames of one direction.
func sent(fs []Frame, dir zkrecord.Direction) []Frame {
	var out []Frame
	for _, f := range fs {
		if f.Dir == dir {
			out = append(out, f)
		}
	}
	return out
}

// compareSteps checks that both clients made the same calls.
func compareSteps(ref, got *Conversation) []Difference {
	var out []Difference
	if len(ref.Steps) != len(got.Steps) {
		out = append(out, Difference{Kind: KindSteps, Text: fmt.Sprintf("%d calls in the reference, %d compared", len(ref.Steps)-1, len(got.Steps)-1)})
	}
	for i := 0; i < min(len(ref.Steps), len(got.Steps)); i++ {
		rs, gs := &ref.Steps[i], &got.Steps[i]
		if rs.Title != gs.Title {
			out = append(out, Difference{Kind: KindSteps, Text: fmt.Sprintf("call %d: reference %q (line %d), compared %q (line %d)",
				i, rs.Title, rs.Line, gs.Title, gs.Line)})
			break // the rest would not line up
		}
	}
	return out
}

// compareFrames compares one connection's frames in one direction by a
// longest common subsequence, and reports each run of unmatched frames
// with the frame before it, and matched frames that arrived during
// different calls.
func compareFrames(conn int, ref, got *Conversation, a, b []Frame, known map[int]string) []Difference {
	ops := diffOps(a, b)
	var out []Difference
	var prev *Frame // the last matched frame (reference side)
	var onlyA, onlyB []*Frame
	flush := func() {
		if len(onlyA)+len(onlyB) == 0 {
			return
		}
		where := "at its start"
		if prev != nil {
			where = fmt.Sprintf("after %s %s (line %d)", prev.Dir, prev.Label, prev.Line)
		}
		kind, name := KindFrames, ""
		if sameLabelsPermuted(onlyA, onlyB) {
			kind = KindOrder
		} else if allUnanswered(onlyA, onlyB) {
			kind = KindMoved
			for _, f := range append(append([]*Frame(nil), onlyA...), onlyB...) {
				known[f.Step] = raceName // what the client printed then is part of the race
			}
		} else if name = knownAs(onlyA, onlyB); name != "" {
			kind = KindKnown
			for i := range onlyA {
				known[onlyA[i].Step], known[onlyB[i].Step] = name, name
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "connection %d, %s:", conn, where)
		for _, f := range onlyA {
			fmt.Fprintf(&b, "\n  - %s   [line %d, during %q]", f.Text(), f.Line, stepTitle(ref, f.Step))
		}
		for _, f := range onlyB {
			fmt.Fprintf(&b, "\n  + %s   [line %d, during %q]", f.Text(), f.Line, stepTitle(got, f.Step))
		}
		out = append(out, Difference{Kind: kind, Known: name, Text: b.String()})
		onlyA, onlyB = onlyA[:0], onlyB[:0]
	}
	for _, op := range ops {
		switch {
		case op.a >= 0 && op.b >= 0:
			if len(onlyA)+len(onlyB) > 0 && sameLabelsPermuted(onlyA, onlyB) {
				// A permutation may span matched frames (a walk of children
				// that meets the same request twice): wait for its end.
				if fa, fb := &a[op.a], &b[op.b]; fa.Step == fb.Step {
					onlyA, onlyB = append(onlyA, fa), append(onlyB, fb)
					continue
				}
			}
			flush()
			fa, fb := &a[op.a], &b[op.b]
			prev = fa
			if fa.Step != fb.Step {
				out = append(out, Difference{Kind: KindMoved, Text: fmt.Sprintf("connection %d: %s %s arrived during %q in the reference (line %d), during %q compared (line %d)",
					conn, fa.Dir, fa.Label, stepTitle(ref, fa.Step), fa.Line, stepTitle(got, fb.Step), fb.Line)})
			}
		case op.a >= 0:
			onlyA = append(onlyA, &a[op.a])
		default:
			onlyB = append(onlyB, &b[op.b])
		}
	}
	flush()
	return out
}

// allUnanswered reports whether the frames on one side only are all
// requests that no reply answered on their side (sent, or not, before the
// server closed the connection: a race).
func allUnanswered(a, b []*Frame) bool {
	for _, f := range append(append([]*Frame(nil), a...), b...) {
		if !f.Unanswered {
			return false
		}
	}
	return true
}

// sameLabelsPermuted reports whether a and b carry the same labels in the
// same order and the same bodies in some order: requests reordered by a
// client, not replies reordered by a server.
func sameLabelsPermuted(a, b []*Frame) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	bodies := map[string]int{}
	for i := range a {
		if a[i].Dir != zkrecord.FromClient || a[i].Label != b[i].Label {
			return false
		}
		bodies[a[i].Body]++
		bodies[b[i].Body]--
	}
	for _, n := range bodies {
		if n != 0 {
			return false
		}
	}
	return true
}

func stepTitle(c *Conversation, i int) string {
	if i < len(c.Steps) {
		return c.Steps[i].Title
	}
	return "?"
}

// Failing returns the differences that fail a comparison.
func Failing(ds []Difference) []Difference {
	return slices.DeleteFunc(slices.Clone(ds), func(d Difference) bool { return !d.Fails() })
}
