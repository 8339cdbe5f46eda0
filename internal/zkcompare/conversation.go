package zkcompare

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Conversation is a recording made comparable.
type Conversation struct {
	Name   string
	Failed bool   // the client failed: the record is partial (<name>.golden.failed)
	Steps  []Step // Steps[0] holds what comes before the first call
	Conns  []Conn // in connection-number order
}

// Step is one client call: the driver's comment naming it and what the
// client printed while it ran.
type Step struct {
	Title  string
	Line   int
	Output []string // masked (see maskOutput)
}

// Conn is one connection's frames, in the order the proxy saw them.
type Conn struct {
	Number int
	Frames []Frame
}

// Frame is one normalised frame.
type Frame struct {
	Line  int                // line in the record
	Step  int                // index of the step it was recorded in
	Dir   zkrecord.Direction // who sent it
	Label string             // "connect", "<op>#<xid>[:<ERROR>]" or "notification", xid normalised
	Body  string             // the decoded record, normalised
	// Unanswered marks a request no reply answered: the connection closed
	// first. Whether a client still sends one when the server is about to
	// close (after AUTHFAILED, say) is a race between them.
	Unanswered bool
}

// Text is the frame as a comparison sees it.
func (f *Frame) Text() string { return fmt.Sprintf("%s %s %s", f.Dir, f.Label, f.Body) }

// Load reads the recording of scenario name from dir: <name>.golden, or
// <name>.golden.failed when the client failed.
func Load(dir, name string) (*Conversation, error) {
	path := filepath.Join(dir, name+".golden")
	failed := false
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		failed = true
		f, err = os.Open(path + ".failed")
	}
	if err != nil {
		return nil, fmt.Errorf("zkcompare: %w", err)
	}
	defer f.Close()
	entries, err := zkrecord.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("zkcompare: %s: %w", path, err)
	}
	c := Build(name, entries)
	c.Failed = failed
	return c, nil
}

// headerComments start the comments a capture writes before the first
// call; they name the server and are not part of the conversation.
var headerComments = []string{"vrkeeper golden conversation", "client: ", "server: ", "covers: ", "re-capture: "}

// Build normalises a recording's entries.
func Build(name string, entries []zkrecord.Entry) *Conversation {
	c := &Conversation{Name: name, Steps: []Step{{Title: "(start)"}}}
	r := newRenderer()
	conns := map[int]*connDecoder{}
	for _, e := range entries {
		if !e.Frame {
			c.comment(e)
			continue
		}
		d := conns[e.Conn]
		if d == nil {
			d = &connDecoder{r: r, pending: map[int32]zkproto.OpCode{}, unanswered: map[int32]int{}}
			conns[e.Conn] = d
			for len(c.Conns) < e.Conn {
				c.Conns = append(c.Conns, Conn{Number: len(c.Conns) + 1})
			}
		}
		f, keep := d.decode(e)
		if !keep {
			continue
		}
		f.Line, f.Step = e.Line, len(c.Steps)-1
		frames := &c.Conns[e.Conn-1].Frames
		if x, ok := d.request(e); ok {
			d.unanswered[x] = len(*frames)
		}
		*frames = append(*frames, f)
	}
	for n, d := range conns {
		for _, i := range d.unanswered {
			c.Conns[n-1].Frames[i].Unanswered = true
		}
	}
	return c
}

// comment files a comment: a client's output line, a proxy event (left
// out: they depend on timing), a header line, or the title of a new step.
func (c *Conversation) comment(e zkrecord.Entry) {
	text := e.Comment
	switch {
	case strings.HasPrefix(text, "> ") || text == ">": // an empty output line loses its space
		s := &c.Steps[len(c.Steps)-1]
		if line := maskOutput(strings.TrimPrefix(text, ">")); line != "" {
			s.Output = append(s.Output, line)
		}
		return
	case strings.HasPrefix(text, "proxy: "):
		return
	}
	if len(c.Steps) == 1 {
		for _, h := range headerComments {
			if strings.HasPrefix(text, h) {
				return
			}
		}
	}
	c.Steps = append(c.Steps, Step{Title: address.ReplaceAllString(text, "ADDR"), Line: e.Line})
}

// address is a host:port in a step title: the proxy's port differs per run.
var address = regexp.MustCompile(`127\.0\.0\.1:\d+`)

var (
	javaDate = regexp.MustCompile(`\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d( [A-Z]{2,5})? \d{4}\b`)
	hexNum   = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	// bareHex is a hexadecimal number without 0x (the C client prints zxids
	// so): a word of hex digits with at least one decimal digit.
	bareHex = regexp.MustCompile(`\b[0-9a-f]*[0-9][0-9a-f]*\b`)
	decNum  = regexp.MustCompile(`\d+`)
)

// maskOutput masks in a client's output line everything that differs
// between servers and runs: dates, numbers (zxids, times, session ids,
// ports, sequence suffixes) and protected-name GUIDs. What is left (words,
// error names, paths, signs) must be the same.
func maskOutput(line string) string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "SLF4J:") {
		return ""
	}
	line = protectedName.ReplaceAllString(line, "_c_GUID-")
	line = javaDate.ReplaceAllString(line, "DATE")
	line = hexNum.ReplaceAllString(line, "\x00") // put back as 0x# once digits are masked
	line = bareHex.ReplaceAllString(line, "#")
	line = decNum.ReplaceAllString(line, "#")
	line = strings.ReplaceAll(line, "\x00", "0x#")
	return printedList.ReplaceAllStringFunc(line, func(l string) string {
		items := listSeparator.Split(strings.Trim(l, "[]"), -1)
		slices.Sort(items)
		return "[" + strings.Join(items, " ") + "]"
	})
}

// printedList is a list a client printed ("[a, b]", "['a', 'b']", "[a b]"):
// lists of children come in ZooKeeper's hash set order, which is not even
// the same from one run to the next, so their items are sorted.
var (
	printedList   = regexp.MustCompile(`\[[^\[\]]*\]`)
	listSeparator = regexp.MustCompile(`,? +`)
)

// connDecoder decodes one connection's frames in order.
type connDecoder struct {
	r         *renderer
	handshake [2]bool // client, server handshake seen
	pending   map[int32]zkproto.OpCode
	// unanswered maps the xids of requests not answered yet to their
	// frame's index on the connection.
	unanswered map[int32]int
	xidBase    int32 // subtracted from positive xids
	sawXid     bool
}

// clockXids is where the xids of a client that starts them from the clock
// (the C client: the time in seconds) begin; other clients start at 1.
const clockXids = 1 << 20

// xid normalises a positive xid.
func (d *connDecoder) xid(x int32) int32 {
	if x <= 0 {
		return x
	}
	if !d.sawXid {
		d.sawXid = true
		if x > clockXids {
			d.xidBase = x - 1
		}
	}
	return x - d.xidBase
}

// decode normalises one frame; keep is false for pings.
func (d *connDecoder) decode(e zkrecord.Entry) (f Frame, keep bool) {
	f.Dir = e.Dir
	side := 0
	if e.Dir == zkrecord.FromServer {
		side = 1
	}
	dec := zkproto.NewDecoder(e.Payload)
	var body any
	if !d.handshake[side] {
		d.handshake[side] = true
		f.Label = "connect"
		if side == 0 {
			body = &zkproto.ConnectRequest{}
		} else {
			body = &zkproto.ConnectResponse{}
		}
		err := body.(zkproto.Record).Decode(dec)
		f.Body = d.finish(dec, err, e.Payload, d.r.render(body))
		return f, true
	}
	if side == 0 {
		var h zkproto.RequestHeader
		if err := h.Decode(dec); err != nil {
			f.Label, f.Body = "request", fmt.Sprintf("undecodable: %v: %x", err, e.Payload)
			return f, true
		}
		if h.Type == zkproto.OpPing {
			return f, false
		}
		d.pending[h.Xid] = h.Type
		f.Label = fmt.Sprintf("%v#%d", h.Type, d.xid(h.Xid))
		req := zkproto.NewRequest(h.Type)
		if req == nil {
			f.Body = fmt.Sprintf("unknown op: %x", e.Payload[zkproto.RequestHeaderSize:])
			return f, true
		}
		err := req.Decode(dec)
		f.Body = d.finish(dec, err, e.Payload, d.r.render(req))
		return f, true
	}
	var h zkproto.ReplyHeader
	if err := h.Decode(dec); err != nil {
		f.Label, f.Body = "reply", fmt.Sprintf("undecodable: %v: %x", err, e.Payload)
		return f, true
	}
	zxid := "zxid=" + anyNonZero(h.Zxid, "z")
	if h.Xid == zkproto.NotificationXid {
		var ev zkproto.WatcherEvent
		err := ev.Decode(dec)
		f.Label = "notification"
		f.Body = d.finish(dec, err, e.Payload, zxid+" "+d.r.render(&ev))
		return f, true
	}
	if h.Xid == zkproto.PingXid {
		return f, false
	}
	op, known := d.pending[h.Xid]
	delete(d.pending, h.Xid)
	delete(d.unanswered, h.Xid)
	name := "unknown"
	if known {
		name = op.String()
	}
	f.Label = fmt.Sprintf("%s#%d", name, d.xid(h.Xid))
	if h.Err != zkproto.OK {
		f.Label += ":" + d.r.render(h.Err)
	}
	var resp zkproto.Record
	if known && h.Err == zkproto.OK {
		resp, _ = zkproto.NewResponse(op)
	}
	var err error
	if resp != nil {
		err = resp.Decode(dec)
	}
	f.Body = d.finish(dec, err, e.Payload, zxid+" "+d.r.render(resp))
	return f, true
}

// request returns the xid of a decoded client request frame (not the
// handshake, not a ping).
func (d *connDecoder) request(e zkrecord.Entry) (int32, bool) {
	if e.Dir != zkrecord.FromClient || len(e.Payload) < zkproto.RequestHeaderSize {
		return 0, false
	}
	var h zkproto.RequestHeader
	if zkproto.Unmarshal(e.Payload[:zkproto.RequestHeaderSize], &h) != nil || h.Type == zkproto.OpPing {
		return 0, false
	}
	if _, pending := d.pending[h.Xid]; !pending {
		return 0, false // the handshake
	}
	return h.Xid, true
}

// finish adds to a rendering what decoding left over or failed on.
func (d *connDecoder) finish(dec *zkproto.Decoder, err error, payload []byte, text string) string {
	if err != nil {
		return fmt.Sprintf("undecodable: %v: %x", err, payload)
	}
	if n := dec.Remaining(); n > 0 {
		return fmt.Sprintf("%s +%d bytes left over: %x", text, n, payload[len(payload)-n:])
	}
	return text
}
