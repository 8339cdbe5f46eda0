package frontend

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// answerWord writes the answer of a word that reads the core's state; it
// runs on the apply goroutine.
func (k *core) answerWord(a *bridge.Apply, word string, conns []ConnStats, b *bytes.Buffer) {
	st := k.serverStats(a, conns)
	sessionOf := func(w WatcherID) int64 {
		if c := k.conns[w]; c != nil && c.sess != nil {
			return c.sess.id
		}
		return 0
	}
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
		WriteWchc(b, k.registry, sessionOf)
	case "wchp":
		WriteWchp(b, k.registry, sessionOf)
	case "isro":
		b.WriteString("rw")
	case "hash":
		fmt.Fprintf(b, "%x\n", a.Tree().Digest())
	case "dump":
		k.dump(a, b)
	}
}

func (k *core) serverStats(a *bridge.Apply, conns []ConnStats) *ServerStats {
	var outstanding int
	for _, c := range conns {
		outstanding += c.Queued
	}
	ts := a.Tree().Stats()
	st := &ServerStats{
		Mode:         a.Role().String(),
		Zxid:         a.Applied(),
		NodeCount:    int(ts.Znodes),
		Ephemerals:   int(ts.Ephemerals),
		ApproxData:   ts.ApproximateDataSize,
		Connections:  len(conns),
		Outstanding:  outstanding,
		MinLatencyMs: k.stats.minLat,
		MaxLatencyMs: k.stats.maxLat,
		Watches:      k.registry.Summary(),
		Sessions:     ts.Sessions,
		Uptime:       time.Since(k.s.start),
	}
	if k.stats.count > 0 {
		st.AvgLatencyMs = float64(k.stats.totalLat) / float64(k.stats.count)
	}
	for _, c := range conns {
		st.Received += c.Received
		st.Sent += c.Sent
	}
	return st
}

// dump lists sessions and their ephemerals, in ZooKeeper's layout.
func (k *core) dump(a *bridge.Apply, b *bytes.Buffer) {
	ids := a.Tree().SessionIDs(nil)
	fmt.Fprintf(b, "SessionTracker dump:\nSession Sets (%d)/(%d):\n", len(ids), len(ids))
	for _, id := range ids {
		fmt.Fprintf(b, "\t0x%x\n", uint64(id))
	}
	fmt.Fprintln(b, "ephemeral nodes dump:")
	var with []int64
	eph := map[int64][]string{}
	for _, id := range ids {
		body, code := a.Tree().GetEphemerals("/", id, nil)
		var resp zkproto.GetEphemeralsResponse
		if code == zkproto.OK && zkproto.Unmarshal(body, &resp) == nil && len(resp.Ephemerals) > 0 {
			with = append(with, id)
			eph[id] = resp.Ephemerals
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
