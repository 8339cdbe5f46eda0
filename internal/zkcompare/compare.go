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

// compareOutput checks that both clients printed the same (masked) lines.
// Output is compared over the whole conversation, not per call: clients
// print from several threads, and a line printed by one call's callback may
// come out after the next call has started. A line printed during, or just
// after, a call that a known difference touched belongs to it.
func compareOutput(ref, got *Conversation, known map[int]string) []Difference {
	onlyRef, onlyGot := multisetDiff(outputLines(ref), outputLines(got))
	var out []Difference
	report := func(kind Kind, name string, ref, got []outputLine) {
		if len(ref)+len(got) == 0 {
			return
		}
		var b strings.Builder
		b.WriteString("lines printed by one client only:")
		for _, l := range ref {
			fmt.Fprintf(&b, "\n  - %s", l)
		}
		for _, l := range got {
			fmt.Fprintf(&b, "\n  + %s", l)
		}
		out = append(out, Difference{Kind: kind, Known: name, Text: b.String()})
	}
	byName := map[string][2][]outputLine{}
	var names []string
	split := func(ls []outputLine, side int) []outputLine {
		var rest []outputLine
		for _, l := range ls {
			name := known[l.step]
			if name == "" {
				name = known[l.step-1]
			}
			if name == "" {
				rest = append(rest, l)
				continue
			}
			if _, ok := byName[name]; !ok {
				names = append(names, name)
			}
			e := byName[name]
			e[side] = append(e[side], l)
			byName[name] = e
		}
		return rest
	}
	restRef, restGot := split(onlyRef, 0), split(onlyGot, 1)
	restRef, restGot = unmerge(restRef, restGot)
	report(KindOutput, "", restRef, restGot)
	for _, n := range names {
		if n == raceName {
			report(KindMoved, "", byName[n][0], byName[n][1])
		} else {
			report(KindKnown, n, byName[n][0], byName[n][1])
		}
	}
	return out
}

// raceName marks, in compareOutput's map of calls, the calls during which
// a client and a server closing the connection raced (see allUnanswered).
const raceName = "\x00race"

// unmerge drops the lines that two client threads printed into each other
// on one side ("...CONNECTED_STATECreating [/x] node") against the two
// whole lines on the other side.
func unmerge(a, b []outputLine) ([]outputLine, []outputLine) {
	a, b = slices.Clone(a), slices.Clone(b) // matched parts are blanked in place
	for pass := 0; pass < 2; pass++ {
		merged, parts := a, b
		if pass == 1 {
			merged, parts = b, a
		}
		var kept []outputLine
	lines:
		for _, m := range merged {
			for i := range parts {
				for j := range parts {
					if i != j && parts[i].text != "" && parts[j].text != "" && parts[i].text+parts[j].text == m.text {
						parts[i].text, parts[j].text = "", "" // matched: dropped below
						continue lines
					}
				}
			}
			kept = append(kept, m)
		}
		parts = slices.DeleteFunc(parts, func(l outputLine) bool { return l.text == "" })
		if pass == 0 {
			a, b = kept, parts
		} else {
			b, a = kept, parts
		}
	}
	return a, b
}

// outputLines lists every output line of c with the call it was printed
// during.
func outputLines(c *Conversation) []outputLine {
	var out []outputLine
	for i, s := range c.Steps {
		for _, l := range s.Output {
			out = append(out, outputLine{l, i, s.Title})
		}
	}
	return out
}

// outputLine is a masked output line and the call it was printed during.
type outputLine struct {
	text  string
	step  int
	title string
}

func (l outputLine) String() string { return fmt.Sprintf("%s   [during %q]", l.text, l.title) }

// multisetDiff returns the lines of a not in b and of b not in a, counting
// repeats and ignoring order and calls.
func multisetDiff(a, b []outputLine) (onlyA, onlyB []outputLine) {
	count := map[string]int{}
	for _, l := range a {
		count[l.text]++
	}
	for _, l := range b {
		if count[l.text] > 0 {
			count[l.text]--
		} else {
			onlyB = append(onlyB, l)
		}
	}
	for i := len(a) - 1; i >= 0; i-- { // the unmatched ones are the last of each text
		if count[a[i].text] > 0 {
			count[a[i].text]--
			onlyA = append(onlyA, a[i])
		}
	}
	slices.Reverse(onlyA)
	return onlyA, onlyB
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

// diffOp pairs an index of a with one of b (a match), or names an index
// on one side only (the other is -1).
type diffOp struct{ a, b int }

// diffOps aligns a and b by a longest common subsequence of their texts.
// Conversations are a few hundred frames, so the quadratic table is small.
func diffOps(a, b []Frame) []diffOp {
	ta := make([]string, len(a))
	for i := range a {
		ta[i] = a[i].Text()
	}
	tb := make([]string, len(b))
	for i := range b {
		tb[i] = b[i].Text()
	}
	// lcs[i][j] is the LCS length of ta[i:] and tb[j:].
	lcs := make([][]int, len(ta)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(tb)+1)
	}
	for i := len(ta) - 1; i >= 0; i-- {
		for j := len(tb) - 1; j >= 0; j-- {
			if ta[i] == tb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(ta) || j < len(tb) {
		switch {
		case i < len(ta) && j < len(tb) && ta[i] == tb[j]:
			ops = append(ops, diffOp{i, j})
			i, j = i+1, j+1
		case j == len(tb) || (i < len(ta) && lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{i, -1})
			i++
		default:
			ops = append(ops, diffOp{-1, j})
			j++
		}
	}
	return ops
}

// Failing returns the differences that fail a comparison.
func Failing(ds []Difference) []Difference {
	return slices.DeleteFunc(slices.Clone(ds), func(d Difference) bool { return !d.Fails() })
}
