package tree

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The golden tests run scripted sessions against the tree and compare every
// answer, stat and watch event with what a real ZooKeeper 3.8 answered to
// the same script. The real answers live in testdata/golden/<script>.golden;
// tree/testdata/zk-record.sh re-records them (go test -record -zk addr),
// restarting a private ZooKeeper before each script so each starts from a
// fresh tree as New does. Answers are normalised before comparison: zxids
// become the step that produced them (@7), times the step whose zxid they
// belong to (T@7, checked to be one time per zxid and never decreasing),
// session ids the session's name.

var (
	record    = flag.Bool("record", false, "record the golden files from a real ZooKeeper (see -zk)")
	zkAddr    = flag.String("zk", "127.0.0.1:22181", "ZooKeeper to record from")
	zkRestart = flag.String("zk-restart", "testdata/zk-record.sh start", "command that starts a fresh ZooKeeper before each script")
)

func TestGolden(t *testing.T) {
	for _, sc := range goldenScripts() {
		t.Run(sc.name, func(t *testing.T) {
			file := filepath.Join("testdata", "golden", sc.name+".golden")
			if *record {
				restartZK(t)
				ex := newZKExec(t, *zkAddr)
				defer ex.shutdown()
				got := runScript(t, sc, ex)
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("no golden file (record with tree/testdata/zk-record.sh): %v", err)
			}
			got := runScript(t, sc, newTreeExec(t))
			if got != string(want) {
				t.Errorf("answers differ from ZooKeeper's (%s):\n%s", file, lineDiff(string(want), got))
			}
		})
	}
}

func restartZK(t *testing.T) {
	t.Helper()
	args := strings.Fields(*zkRestart)
	cmd := exec.Command(args[0], args[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restarting ZooKeeper: %v\n%s", err, out)
	}
}

// lineDiff shows the first differing lines of two texts with context.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			if shown == 0 && i > 0 {
				fmt.Fprintf(&b, "  %4d   %s\n", i, w[i-1])
			}
			fmt.Fprintf(&b, "  %4d - %s\n  %4d + %s\n", i+1, wl, i+1, gl)
			shown++
		}
	}
	return b.String()
}

// executor runs script steps against ZooKeeper or the tree.
type executor interface {
	// open opens a session called name and returns the zxid it consumed.
	open(name string) int64
	// closeSession closes a session and returns its reply.
	closeSession(name string) reply
	// auth adds an identity to a session.
	auth(name, scheme string, data []byte) zkproto.Code
	// call sends a request and returns the reply.
	call(name string, op zkproto.OpCode, req zkproto.Record) reply
	// setWatches re-sends watches with the zxid of step relStep.
	setWatches(name string, rel int64, sw *zkproto.SetWatches2)
	// addWatch adds a persistent or persistent-recursive watch.
	addWatch(name, path string, mode zkproto.AddWatchMode) reply
	// sleep lets time pass.
	sleep(ms int64)
	// awaitGone waits until path is gone (container and TTL clean-up,
	// session expiry) and returns the zxid of the removal.
	awaitGone(path string) int64
	// expire lets a session expire and waits until path (one of its
	// ephemerals) is gone; it returns the zxid of the expiry.
	expire(name, path string) int64
	// events returns the watch events a session received since last asked.
	events(name string) []zkproto.WatcherEvent
	// sessionName names a session id ("" if unknown).
	sessionName(id int64) string
}

// reply is one answer: its header's zxid and code and the raw body.
type reply struct {
	zxid int64
	code zkproto.Code
	body []byte
}

// runScript runs sc on ex and returns the normalised transcript.
func runScript(t *testing.T, sc script, ex executor) string {
	t.Helper()
	n := newNormalizer(ex)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n", sc.name, sc.about)
	var open []string
	for i, st := range append([]step{sess(monitor).open()}, sc.steps...) {
		idx := i // step 0 opens the monitor session
		fmt.Fprintf(&b, "%d %s\n", idx, st.describe())
		res := st.run(ex, n, idx)
		if res.zxid != 0 {
			n.label(res.zxid, idx)
		}
		if res.text != "" {
			fmt.Fprintf(&b, "  = %s\n", res.text)
		}
		switch st.kind {
		case stepOpen:
			open = append(open, st.session)
		case stepClose, stepExpire:
			open = without(open, st.session)
		}
		for _, s := range open {
			evs := ex.events(s)
			if len(evs) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  ! %s %s\n", s, formatEvents(evs, st.kind.unordered()))
		}
	}
	return b.String()
}

// without returns list without x, reusing its storage.
func without[T comparable](list []T, x T) []T {
	out := list[:0]
	for _, y := range list {
		if y != x {
			out = append(out, y)
		}
	}
	return out
}

// monitor is the session every script opens first; the ZooKeeper executor
// uses it to learn zxids and to poll.
const monitor = "_"

func formatEvents(evs []zkproto.WatcherEvent, unordered bool) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = eventName(e.Type) + " " + e.Path
	}
	if unordered {
		sortStrings(parts)
	}
	return strings.Join(parts, "; ")
}

func eventName(t zkproto.EventType) string {
	switch t {
	case zkproto.EventNodeCreated:
		return "NodeCreated"
	case zkproto.EventNodeDeleted:
		return "NodeDeleted"
	case zkproto.EventNodeDataChanged:
		return "NodeDataChanged"
	case zkproto.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return fmt.Sprintf("Event(%d)", t)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// quote shows data: null, or a Go-quoted string.
func quote(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("%q", b)
}
