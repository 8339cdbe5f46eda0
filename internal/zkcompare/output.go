package zkcompare

import (
	"fmt"
	"slices"
	"strings"
)

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
