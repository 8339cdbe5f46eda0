package sim

import (
	"fmt"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// record is one write of a node's simulated storage, in the order the driver
// issued it (one append-only file: a record is durable only with every record
// before it).
type record struct {
	snap    *consensus.Snapshot // peer snapshot install: supersedes the whole log
	logFrom uint64              // 0: none; else drop entries ≥ logFrom, append entries
	entries []consensus.Entry
	hard    *consensus.HardState
}

// disk is a node's simulated storage: what survived every sync, and the
// records written since (lost or torn by a crash). Snapshots the driver takes
// itself are written atomically and synchronously (temp file, fsync, rename).
type disk struct {
	hard    consensus.HardState
	snap    *consensus.Snapshot
	log     []consensus.Entry // consecutive ops
	pending []record
}

func (d *disk) write(rec record) { d.pending = append(d.pending, rec) }

// sync makes every pending record durable.
func (d *disk) sync() {
	for _, rec := range d.pending {
		d.applyRecord(rec)
	}
	d.pending = d.pending[:0]
}

func (d *disk) applyRecord(rec record) {
	if rec.snap != nil {
		d.snap = rec.snap
		d.log = nil
	}
	if rec.logFrom != 0 {
		k := 0
		for k < len(d.log) && d.log[k].Op < rec.logFrom {
			k++
		}
		d.log = append(d.log[:k], rec.entries...) // d.log is never shared (boot copies it)
	}
	if rec.hard != nil {
		d.hard = *rec.hard
	}
}

// crash keeps the first keep pending records (the page cache flushed them)
// and loses the rest; a torn record is detected by its checksum and dropped
// with everything after it.
func (d *disk) crash(keep int) {
	for _, rec := range d.pending[:keep] {
		d.applyRecord(rec)
	}
	d.pending = nil
}

// compact drops entries ≤ op (a durable snapshot covers them).
func (d *disk) compact(op uint64) {
	k := 0
	for k < len(d.log) && d.log[k].Op <= op {
		k++
	}
	if k > 0 {
		d.log = append([]consensus.Entry(nil), d.log[k:]...)
	}
}

// boot returns what a restarted replica loads.
func (d *disk) boot() consensus.Boot {
	b := consensus.Boot{Hard: d.hard, Snapshot: d.snap}
	var start uint64
	if d.snap != nil {
		start = d.snap.Op
	}
	es := d.log
	for len(es) > 0 && es[0].Op <= start {
		es = es[1:]
	}
	if len(es) > 0 && es[0].Op != start+1 {
		panic(fmt.Sprintf("sim: disk holds a gap: snapshot %d, log from %d", start, es[0].Op))
	}
	b.Entries = append([]consensus.Entry(nil), es...)
	return b
}
