package sim

import (
	"fmt"
	"io"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// traceLine is one line of the readable trace, formatted only when printed.
type traceLine struct {
	at   int64
	node int
	what string             // description, or "" for a message
	args []any              // arguments of what, formatted when printed
	env  consensus.Envelope // message delivered, dropped or sent
}

// tracer keeps the last lines of a run in a ring.
type tracer struct {
	lines []traceLine
	next  int
	full  bool
	all   bool // keep everything (replay of one seed)
}

func newTracer(size int, all bool) *tracer {
	return &tracer{lines: make([]traceLine, 0, size), all: all}
}

func (t *tracer) add(l traceLine) {
	if t.all || len(t.lines) < cap(t.lines) {
		t.lines = append(t.lines, l)
		return
	}
	t.lines[t.next] = l
	t.next = (t.next + 1) % len(t.lines)
	t.full = true
}

func (t *tracer) print(w io.Writer) {
	if t.full {
		fmt.Fprintf(w, "  … (earlier lines dropped)\n")
	}
	n := len(t.lines)
	for i := 0; i < n; i++ {
		l := t.lines[(t.next+i)%n]
		tick, frac := l.at/tickUnits, l.at%tickUnits
		if l.what != "" {
			fmt.Fprintf(w, "  t=%d.%d n%d %s\n", tick, frac, l.node, fmt.Sprintf(l.what, l.args...))
		} else {
			fmt.Fprintf(w, "  t=%d.%d n%d <- %s\n", tick, frac, l.node, l.env)
		}
	}
}
