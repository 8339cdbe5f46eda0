package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliMTStep is one command typed into the C client's shell cli_mt and the
// lines it prints, masked by maskCliMT, watch events included where they
// come: the C client runs every completion and watcher on one thread in
// the order the server's frames arrive, so an event printed before a reply
// arrived before it.
type cliMTStep struct {
	cmd  string
	want []string
}

var (
	cliMTZxid  = regexp.MustCompile(`(czxid|mzxid)=[0-9a-f]+`)
	cliMTNoise = regexp.MustCompile(`^(time = \d+ msec|Got a new session id: .*|Watcher SESSION_EVENT state = CONNECTED_STATE|Quitting\.\.\.)$`)
)

// maskCliMT masks a cli_mt output line: dates and zxids (printed in
// hexadecimal without 0x) differ between servers and runs. Lines that say
// nothing about the conversation become "".
func maskCliMT(line string) string {
	line = strings.TrimRight(line, " ")
	if cliMTNoise.MatchString(line) || strings.TrimSpace(line) == "" {
		return ""
	}
	return maskIDs(cliMTZxid.ReplaceAllString(line, "$1=#"))
}

// TestCliMT drives the C client (ZooKeeper's C binding, through its shell
// cli_mt) in one session: create and create2 in every mode, the errors
// NODEEXISTS, NONODE, NOCHILDRENFOREPHEMERALS and NOTEMPTY, get/set with
// the watch get sets firing before set's reply, ls/ls2, exists and
// wexists, a watch on a node's creation, delete, sync. The expected lines
// were taken from a run against ZooKeeper 3.8.
func TestCliMT(t *testing.T) {
	needFile(t, cliMTPath, "zookeeper-bin")
	forSizes(t, func(t *testing.T, c *cluster) {
		sh := startInteractive(t, cliMTPath, strings.Join(c.addrs(), ","))
		for _, s := range cliMTSteps {
			sh.send(s.cmd)
			var got []string
			timeout := time.After(20 * time.Second)
			for len(got) < len(s.want) {
				select {
				case l, ok := <-sh.lines:
					if !ok {
						t.Fatalf("cli_mt ended during %q; it printed %q", s.cmd, got)
					}
					if l = maskCliMT(l); l != "" {
						got = append(got, l)
					}
				case <-timeout:
					t.Fatalf("%s: printed %q within 20 s, want %q", s.cmd, got, s.want)
				}
			}
			for i := range got {
				if got[i] != s.want[i] {
					t.Errorf("%s:\n  got  %q\n  want %q", s.cmd, got, s.want)
					break
				}
			}
		}
		sh.send("quit")
		sh.stdin.Close()
		var rest []string
		for l := range sh.lines {
			if l = maskCliMT(l); l != "" {
				rest = append(rest, l)
			}
		}
		if len(rest) > 0 {
			t.Errorf("cli_mt printed more than expected: %q", rest)
		}
	})
}

// cliMTStat is how cli_mt prints a stat (after create2 and set: without
// "Stat:", indented).
func cliMTStat(version int) []string {
	return []string{"\tctime = DATE", "\tczxid=#", "\tmtime=DATE", "\tmzxid=#",
		"\tversion=" + string(rune('0'+version)) + "\taversion=0", "\tephemeralOwner = 0"}
}

func created(path, name string, mode int) []string {
	return []string{"Creating [" + path + "] node (mode: " + string(rune('0'+mode)) + ")", "[" + path + "]: rc = 0", "\tname = " + name}
}

var cliMTSteps = []cliMTStep{
	{"create /ci", created("/ci", "/ci", 0)},
	{"create +e /ci/e", created("/ci/e", "/ci/e", 1)},
	{"create +s /ci/s-", created("/ci/s-", "/ci/s-0000000001", 2)},
	{"create +es /ci/es-", created("/ci/es-", "/ci/es-0000000002", 3)},
	{"create +c /ci/c", created("/ci/c", "/ci/c", 4)},
	{"create +t=60000 /ci/t", created("/ci/t", "/ci/t", 5)},
	{"create2 /ci/c2", append(created("/ci/c2", "/ci/c2", 0), cliMTStat(0)...)},
	{"create2 +s /ci/c2s-", append(created("/ci/c2s-", "/ci/c2s-0000000006", 2), cliMTStat(0)...)},
	{"create /ci", lines("Creating [/ci] node (mode: 0)", "[/ci]: rc = -110")},
	{"create /ci/none/x", lines("Creating [/ci/none/x] node (mode: 0)", "[/ci/none/x]: rc = -101")},
	{"create +e /ci/e/kid", lines("Creating [/ci/e/kid] node (mode: 1)", "[/ci/e/kid]: rc = -108")},
	{"get /ci", append(lines("/ci: rc = 0", " value_len = 3", "new", "Stat:"), cliMTStat(0)...)},
	// cli_mt's get set a watch: its event comes before set's reply.
	{"set /ci hello", append(lines("Watcher CHANGED_EVENT state = CONNECTED_STATE for path /ci", "/ci: rc = 0 Stat:"), cliMTStat(1)...)},
	{"get /ci", append(lines("/ci: rc = 0", " value_len = 5", "hello", "Stat:"), cliMTStat(1)...)},
	{"ls /ci/c", lines("/ci/c: rc = 0")},
	{"ls2 /ci/c", append(lines("/ci/c: rc = 0"), cliMTStat(0)...)},
	{"exists /ci/none", lines("Error -101 for /ci/none")},
	{"wexists /ci/later", lines("Error -101 for /ci/later")},
	{"create /ci/later", append(lines("Creating [/ci/later] node (mode: 0)",
		"Watcher CREATED_EVENT state = CONNECTED_STATE for path /ci/later"), created("/ci/later", "/ci/later", 0)[1:]...)},
	{"delete /ci/c2", lines("/ci/c2: rc = 0")},
	{"delete /ci/none", lines("/ci/none: rc = -101")},
	{"delete /ci", lines("/ci: rc = -111")},
	{"sync /ci", lines("[/ci]: rc = 0", "\tname = /ci")},
	{"get /ci/nothere", lines("/ci/nothere: rc = -101", "Stat:", "null")},
	{"set /ci/nothere x", lines("/ci/nothere: rc = -101 Stat:", "null")},
}
