package zkrecord

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Direction says which peer sent a frame.
type Direction byte

// The two directions, as they are written in a golden file.
const (
	FromClient Direction = 'C' // client to server
	FromServer Direction = 'S' // server to client
)

// String returns "C" or "S".
func (d Direction) String() string { return string(rune(d)) }

// Entry is one line of a record: a frame, or a comment when Frame is false.
type Entry struct {
	Line    int       // 1-based line in the golden file; 0 for an entry not read from a file
	Comment string    // the comment's text after "# " (comments only)
	Frame   bool      // true for a frame, false for a comment
	Conn    int       // connection number, from 1, in the order connections were accepted
	Dir     Direction // who sent the frame
	Label   string    // "connect", "<op>#<xid>", "<op>#<xid>:<ERROR>" or "notification"
	Payload []byte    // the frame's bytes after its 4-byte length
}

// Write writes entries in the golden text format: a comment as "# text", a
// frame as "<dir><conn> <label> <hex payload>".
func Write(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		if !e.Frame {
			fmt.Fprintf(bw, "# %s\n", e.Comment)
			continue
		}
		fmt.Fprintf(bw, "%s%d %s %s\n", e.Dir, e.Conn, e.Label, hex.EncodeToString(e.Payload))
	}
	return bw.Flush()
}

// maxGoldenLine bounds one line of a golden file (a frame of 1 MiB in hex).
const maxGoldenLine = 2<<20 + 1024

// Parse reads a golden file written by Write (or by hand). Blank lines are
// skipped; a line that is neither a comment nor a well-formed frame is an
// error naming its line number.
func Parse(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxGoldenLine)
	var entries []Entry
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			text := strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
			entries = append(entries, Entry{Line: n, Comment: text})
			continue
		}
		e, err := parseFrame(line)
		if err != nil {
			return nil, fmt.Errorf("zkrecord: golden line %d: %w", n, err)
		}
		e.Line = n
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("zkrecord: read golden file: %w", err)
	}
	return entries, nil
}

// parseFrame parses "<dir><conn> <label> <hex>"; the hex may be absent for
// an empty payload.
func parseFrame(line string) (Entry, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 || len(fields) > 3 {
		return Entry{}, fmt.Errorf("want \"<dir><conn> <label> <hex>\", got %d fields", len(fields))
	}
	tag := fields[0]
	dir := Direction(tag[0])
	if dir != FromClient && dir != FromServer {
		return Entry{}, fmt.Errorf("direction %q is neither C nor S", tag[:1])
	}
	conn, err := strconv.Atoi(tag[1:])
	if err != nil || conn < 1 {
		return Entry{}, fmt.Errorf("bad connection number in %q", tag)
	}
	var payload []byte
	if len(fields) == 3 {
		if payload, err = hex.DecodeString(fields[2]); err != nil {
			return Entry{}, fmt.Errorf("payload: %w", err)
		}
	}
	return Entry{Frame: true, Conn: conn, Dir: dir, Label: fields[1], Payload: payload}, nil
}
