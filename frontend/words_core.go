package frontend

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// answerWord writes the answer of a word that reads the core's state; it
// runs on the apply goroutine. st and conns are given for srvr, stat, mntr
// and cons.
func (k *core) answerWord(a *bridge.Apply, word string, st *ServerStats, conns []ConnStats, b *bytes.Buffer) {
	switch word {
	case "srvr":
		WriteSrvr(b, st)
	case "stat":
		WriteStat(b, st, conns)
	case "cons":
		WriteCons(b, conns)
	case "mntr":
		WriteMntr(b, st)
	case "wchs":
		WriteWchs(b, k.registry.Summary())
	case "wchc":
		WriteWchc(b, k.registry, k.sessionOf)
	case "wchp":
		WriteWchp(b, k.registry, k.sessionOf)
	case "hash":
		fmt.Fprintf(b, "%x\n", a.Tree().Digest())
	case "dump":
		k.dump(a, b)
	}
}

// sessionOf maps a watcher (a connection) to its session id, 0 if none.
func (k *core) sessionOf(w WatcherID) int64 {
	if c := k.conns[w]; c != nil && c.sess != nil {
		return c.sess.id
	}
	return 0
}

// coreStats are the figures only the apply goroutine can read.
type coreStats struct {
	mode         string
	zxid         int64
	tree         struct{ znodes, ephemerals, dataSize int64 }
	sessions     int
	watches      WatchSummary
	leaderUptime time.Duration
}

func (k *core) coreStats(a *bridge.Apply) coreStats {
	ts := a.Tree().Stats()
	cs := coreStats{mode: a.Role().String(), zxid: a.Applied(), sessions: ts.Sessions, watches: k.registry.Summary()}
	cs.tree.znodes, cs.tree.ephemerals, cs.tree.dataSize = ts.Znodes, ts.Ephemerals, ts.ApproximateDataSize
	if a.Role() == bridge.RolePrimary {
		cs.leaderUptime = time.Since(k.primarySince)
	}
	return cs
}

// dump lists sessions and their ephemerals, in ZooKeeper's layout.
func (k *core) dump(a *bridge.Apply, b *bytes.Buffer) {
	ids := a.Tree().SessionIDs(nil)
	fmt.Fprintf(b, "SessionTracker dump:\nSession Sets (%d)/(%d):\n", len(ids), len(ids))
	for _, id := range ids {
		fmt.Fprintf(b, "\t0x%x\n", uint64(id))
	}
	fmt.Fprintln(b, "ephemeral nodes dump:")
	eph := k.ephemerals(a, ids)
	var with []int64
	for _, id := range ids {
		if len(eph[id]) > 0 {
			with = append(with, id)
		}
	}
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", len(with))
	for _, id := range with {
		fmt.Fprintf(b, "0x%x:\n", uint64(id))
		for _, p := range eph[id] {
			fmt.Fprintf(b, "\t%s\n", p)
		}
	}
}

// ephemerals returns each session's ephemeral paths.
func (k *core) ephemerals(a *bridge.Apply, ids []int64) map[int64][]string {
	eph := map[int64][]string{}
	for _, id := range ids {
		body, code := a.Tree().GetEphemerals("/", id, nil)
		var resp zkproto.GetEphemeralsResponse
		if code == zkproto.OK && zkproto.Unmarshal(body, &resp) == nil && len(resp.Ephemerals) > 0 {
			eph[id] = resp.Ephemerals
		}
	}
	return eph
}
