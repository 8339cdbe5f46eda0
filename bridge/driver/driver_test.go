package driver

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/consensus/wire"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

func storageOn(fs *faultfs.FS) storage.Options {
	return storage.Options{DataDir: "data", FS: fs, WAL: storage.WALOptions{SegmentSize: 16 << 10, ManualSync: true, Preallocate: storage.PreallocNone}}
}

// recorder is a Transport and Applier that records what the driver did, in
// order, together with what was durable at that moment.
type recorder struct {
	fs      *faultfs.FS
	d       *Driver
	events  []string
	applied []consensus.Entry
	fetched []uint64 // ops of the snapshots the driver asked to fetch
}

func (r *recorder) Fetch(from uint64, meta storage.SnapshotMeta) {
	r.fetched = append(r.fetched, meta.Op)
}

func (r *recorder) Send(to uint64, frame []byte) error {
	_, m, err := DecodeFrame(frame)
	if err != nil {
		return err
	}
	st := r.d.SavedState()
	r.events = append(r.events, fmt.Sprintf("send %s durable-lnv=%d", m, st.LastNormalView))
	return nil
}

func (r *recorder) Apply(b Batch) error {
	r.applied = append(r.applied, b.Entries...)
	return nil
}

// newDriver opens a driver for replica self of ids over fs.
func newDriver(t *testing.T, fs *faultfs.FS, ids []uint64, self int) (*Driver, *recorder) {
	t.Helper()
	o, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: ids[self], Members: ids})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Store.Close() })
	r, err := consensus.New(consensus.Config{ID: consensus.ReplicaID(self), Replicas: len(ids), Epoch: 0,
		Rand: rand.New(rand.NewPCG(1, 2))}, o.Boot)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{fs: fs}
	d := New(Options{IDs: ids, Self: consensus.ReplicaID(self), Store: o.Store, Transport: rec, Applier: rec, Fetcher: rec}, r, o)
	rec.d = d
	return d, rec
}

// untilPrimary runs a single server's driver until it leads its cluster.
func untilPrimary(t *testing.T, d *Driver) {
	t.Helper()
	for i := 0; i < 20 && !d.Replica().Info().IsPrimary; i++ {
		settle(t, d)
		d.Tick()
	}
}

// settle drains the driver over its manual-sync log until nothing waits
// for the disk: the log syncs whatever pipelined Readies wrote.
func settle(t *testing.T, d *Driver) {
	t.Helper()
	for {
		if err := d.Drain(); err != nil {
			t.Fatal(err)
		}
		if !d.Pending() {
			return
		}
		if err := d.store.WAL.SyncPending(); err != nil {
			t.Fatal(err)
		}
		if err := d.Synced(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSingleServerIdentityAndRestart: a single server with an empty
// directory starts a cluster of its own, commits, and after a restart finds
// its identity, its log and its committed entries again.
func TestSingleServerIdentityAndRestart(t *testing.T) {
	fs := faultfs.New()
	d, rec := newDriver(t, fs, []uint64{7}, 0)
	untilPrimary(t, d)
	if err := d.Propose([]byte("a")); err != nil {
		t.Fatal(err)
	}
	settle(t, d)
	if len(rec.applied) != 1 || string(rec.applied[0].Cmd) != "a" {
		t.Fatalf("applied %v", rec.applied)
	}
	cluster := d.SavedState().Cluster
	if cluster == 0 || d.SavedState().Incarnation == 0 {
		t.Fatalf("no durable identity: %+v", d.SavedState())
	}
	d.store.Close()
	fs2 := fs.Reboot(faultfs.LoseUnsynced, nil)
	o, err := Open(OpenOptions{Storage: storageOn(fs2), ServerID: 7, Members: []uint64{7}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Store.Close()
	if o.Boot.Hard.Cluster != cluster || len(o.Boot.Entries) != 1 || string(o.Boot.Entries[0].Cmd) != "a" {
		t.Fatalf("after restart: hard %+v, %d entries", o.Boot.Hard, len(o.Boot.Entries))
	}
}

// TestOpenRefusesForeignOrInconsistentDirectories: a directory written for
// another server id or membership, or a log without a replica state, is
// refused at start with advice; an empty one starts without identity.
func TestOpenRefusesForeignOrInconsistentDirectories(t *testing.T) {
	fs := faultfs.New()
	d, _ := newDriver(t, fs, []uint64{1, 2, 3}, 0)
	// Save an identity as a member of {1,2,3}.
	d.saved.Cluster = 5
	st := storage.HardState{Cluster: 5, Incarnation: 1, View: 1, LastNormalView: 1, Config: d.membership}
	if err := d.store.State.Save(st); err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.WAL.Append([]storage.Entry{{Op: 1, View: 1, Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if err := d.store.WAL.SyncPending(); err != nil {
		t.Fatal(err)
	}
	d.store.Close()

	for _, tc := range []struct {
		name    string
		id      uint64
		members []uint64
		want    error
	}{
		{"another server id", 2, []uint64{1, 2, 3}, storage.ErrForeign},
		{"another membership", 1, []uint64{1, 2, 3, 4, 5}, storage.ErrForeign},
	} {
		_, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: tc.id, Members: tc.members})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "move its data directory") {
			t.Errorf("%s: %v, want %v with advice", tc.name, err, tc.want)
		}
	}
	o, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: 1, Members: []uint64{3, 2, 1}})
	if err != nil {
		t.Fatalf("its own directory: %v", err)
	}
	if o.Boot.Hard.Cluster != 5 || len(o.Boot.Entries) != 1 {
		t.Fatalf("boot %+v", o.Boot)
	}
	o.Store.Close()

	// A log without a state file: refused, never taken for an empty disk.
	fs.WriteFile("data/replica-state", nil)
	fs.Remove("data/replica-state")
	if _, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: 1, Members: []uint64{1, 2, 3}}); !errors.Is(err, storage.ErrInconsistent) {
		t.Fatalf("log without replica state: %v, want ErrInconsistent", err)
	}

	// An empty directory: no identity, no snapshot restored.
	restored := false
	o, err = Open(OpenOptions{Storage: storageOn(faultfs.New()), ServerID: 1, Members: []uint64{1, 2, 3},
		Restore: func(storage.SnapshotMeta, io.Reader) error { restored = true; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Store.Close()
	if o.Boot.Hard.Cluster != 0 || restored {
		t.Fatalf("empty directory boots %+v (restored %v)", o.Boot.Hard, restored)
	}
}

// backupOfView1 starts server 1 of cluster 9 (servers 1, 2, 3) as a backup
// durably normal in view 1 with an empty log.
func backupOfView1(t *testing.T) (*Driver, *recorder) {
	t.Helper()
	fs := faultfs.New()
	ids := []uint64{1, 2, 3}
	st := storage.HardState{Cluster: 9, Incarnation: 3, View: 1, LastNormalView: 1, Config: encodeMembership(1, ids)}
	{
		o, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: 1, Members: ids})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Store.State.Save(st); err != nil {
			t.Fatal(err)
		}
		o.Store.Close()
	}
	d, rec := newDriver(t, fs, ids, 0)
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	return d, rec
}

// TestAckLeavesAfterItsStateIsDurable drives a backup through the driver:
// a Prepare's acknowledgement leaves only once the log is synced, never
// from Process; the Prepare's Ready is pipelined (the replica takes input
// meanwhile) and its acknowledgement is held until Synced.
func TestAckLeavesAfterItsStateIsDurable(t *testing.T) {
	d, rec := backupOfView1(t)
	hdr := consensus.Header{View: 1}
	d.Deliver(9, consensus.Envelope{From: 1, To: 0, Msg: &consensus.Prepare{Header: hdr,
		Entries: []consensus.Entry{{Op: 1, View: 1, Cmd: []byte("a")}}}})
	seq, wait, err := d.Process()
	if err != nil || wait || seq != 0 || !d.Pending() {
		t.Fatalf("Process: seq %d wait %v err %v pending %v: want the Prepare's Ready pipelined", seq, wait, err, d.Pending())
	}
	noAck := func(when string) {
		t.Helper()
		for _, e := range rec.events {
			if strings.Contains(e, "PrepareOk") {
				t.Fatalf("acknowledged %s: %v", when, rec.events)
			}
		}
	}
	noAck("before the entry was durable")
	// Input meanwhile reaches the replica; the commit of an op not durable
	// here is not applied, and what it asks for does not leave either.
	d.Deliver(9, consensus.Envelope{From: 1, To: 0, Msg: &consensus.Commit{Header: hdr, Commit: 1}})
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	noAck("before the entry was durable, after a Commit")
	if len(rec.applied) != 0 {
		t.Fatalf("applied %v before it was durable here", rec.applied)
	}
	if err := d.Synced(); err != nil { // the log has not synced: nothing changes
		t.Fatal(err)
	}
	noAck("on a Synced that found nothing durable")
	if d.store.WAL.Durable().Seq > 0 && d.Replica().Info().StableOp > 0 {
		t.Fatal("the manual-sync log synced by itself")
	}
	if err := d.store.WAL.SyncPending(); err != nil {
		t.Fatal(err)
	}
	if err := d.Synced(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	acks := 0
	for _, e := range rec.events {
		if strings.Contains(e, "PrepareOk") {
			acks++
		}
	}
	if acks == 0 {
		t.Fatalf("no acknowledgement after the entry became durable: %v", rec.events)
	}
	if len(rec.applied) != 1 || d.Pending() {
		t.Fatalf("applied %v, pending %v after the sync", rec.applied, d.Pending())
	}
	// A message from another cluster never reaches the replica.
	d.Deliver(4, consensus.Envelope{From: 1, To: 0, Msg: &consensus.StartViewChange{Header: consensus.Header{View: 9}}})
	if v := d.Replica().Info().View; v != 1 {
		t.Fatalf("a foreign cluster's StartViewChange moved the replica to view %d", v)
	}
}

// TestRecoveringReplicaFetchesOnlyWhatItTakes: a replica without durable
// state recovers; the snapshot a NewState names is not fetched (the core
// drops a NewState while it recovers, and a fetched snapshot could push the
// one its recovery needs out of the store), the one the primary's
// RecoveryResponse names is.
func TestRecoveringReplicaFetchesOnlyWhatItTakes(t *testing.T) {
	fs := faultfs.New()
	d, rec := newDriver(t, fs, []uint64{1, 2, 3}, 2)
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	if s := d.r.SoftState().Status; s != consensus.StatusRecovering {
		t.Fatalf("a replica without state is %v, want recovering", s)
	}
	snap := func(op uint64) *consensus.Snapshot {
		return &consensus.Snapshot{Op: op, View: 1, Data: wire.SnapshotRef{Op: op, View: 1}}
	}
	d.Deliver(9, consensus.Envelope{From: 0, To: 2, Msg: &consensus.NewState{Header: consensus.Header{View: 3},
		Snapshot: snap(43), Op: 43, Commit: 43, After: 43}})
	if len(rec.fetched) != 0 {
		t.Fatalf("fetched %v for a NewState while recovering", rec.fetched)
	}
	d.Deliver(9, consensus.Envelope{From: 0, To: 2, Msg: &consensus.RecoveryResponse{Header: consensus.Header{View: 3},
		Nonce: 7, Primary: true, Cluster: 9, Snapshot: snap(31), Op: 31, Commit: 31, After: 31}})
	if len(rec.fetched) != 1 || rec.fetched[0] != 31 {
		t.Fatalf("fetched %v, want the RecoveryResponse's snapshot 31", rec.fetched)
	}
}

// TestHeldMessageOutlastsNewerSnapshots: the message a fetch began for
// stays held while the sender names newer snapshots (each is asked for;
// the transfer decides whether to switch), so the snapshot being fetched is
// used when it arrives; once that fetch is given up, the next message is
// held in its place.
func TestHeldMessageOutlastsNewerSnapshots(t *testing.T) {
	fs := faultfs.New()
	d, rec := newDriver(t, fs, []uint64{1, 2, 3}, 2)
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	resp := func(op uint64) consensus.Envelope {
		return consensus.Envelope{From: 0, To: 2, Msg: &consensus.RecoveryResponse{Header: consensus.Header{View: 3},
			Nonce: 7, Primary: true, Cluster: 9, Op: op, Commit: op, After: op,
			Snapshot: &consensus.Snapshot{Op: op, View: 1, Data: wire.SnapshotRef{Op: op, View: 1}}}}
	}
	heldOp := func() uint64 {
		h, ok := d.held[0]
		if !ok {
			return 0
		}
		return namedSnapshot(h.envs[0].Msg).Op
	}
	d.Deliver(9, resp(31))
	d.Deliver(9, resp(40))
	if heldOp() != 31 || fmt.Sprint(rec.fetched) != "[31 40]" {
		t.Fatalf("held %d, fetched %v: want 31 held and both asked for", heldOp(), rec.fetched)
	}
	d.SnapshotAbandoned(storage.SnapshotMeta{Op: 31})
	if heldOp() != 0 {
		t.Fatalf("held %d after its fetch was given up", heldOp())
	}
	d.Deliver(9, resp(40))
	if heldOp() != 40 {
		t.Fatalf("held %d, want the next message's 40", heldOp())
	}
	d.SnapshotFetched(storage.SnapshotMeta{Op: 45})
	if heldOp() != 0 {
		t.Fatalf("held %d after a newer snapshot arrived", heldOp())
	}
}

// TestPromiseLengthKeptAcrossRestarts: the replica state records the
// longest promise length any incarnation had, durably before the replica
// runs (a crash right after Open keeps it), and each start hands the core
// the longest before it; a shorter configuration never lowers the record.
func TestPromiseLengthKeptAcrossRestarts(t *testing.T) {
	fs := faultfs.New()
	d, _ := newDriver(t, fs, []uint64{7}, 0)
	untilPrimary(t, d)
	if d.SavedState().Cluster == 0 {
		t.Fatal("no durable identity")
	}
	d.store.Close()
	for _, step := range []struct{ own, wantBoot, wantStored int64 }{
		{5e9, 0, 5e9}, // first start with a promise: none before
		{2e9, 5e9, 5e9},
		{8e9, 5e9, 8e9},
		{1e9, 8e9, 8e9},
	} {
		fs = fs.Reboot(faultfs.LoseUnsynced, nil)
		o, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: 7, Members: []uint64{7}, PromiseNanos: step.own})
		if err != nil {
			t.Fatal(err)
		}
		o.Store.Close()
		if o.Boot.Promised != step.wantBoot || storedPromise(o.Saved.Extra) != step.wantStored {
			t.Fatalf("start with %d: boot promised %d (want %d), stored %d (want %d)", step.own,
				o.Boot.Promised, step.wantBoot, storedPromise(o.Saved.Extra), step.wantStored)
		}
	}
	// What was recorded survived the crashes that followed each start.
	fs = fs.Reboot(faultfs.LoseUnsynced, nil)
	o, err := Open(OpenOptions{Storage: storageOn(fs), ServerID: 7, Members: []uint64{7}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Store.Close()
	if o.Boot.Promised != 8e9 {
		t.Fatalf("after crashes: boot promised %d, want 8e9", o.Boot.Promised)
	}
}

// TestHeldAckDroppedAfterViewChange: a backup's acknowledgement held for a
// pipelined Ready never leaves once the backup moved to a later view
// before the sync: it would vouch for a view it no longer stands in.
func TestHeldAckDroppedAfterViewChange(t *testing.T) {
	d, rec := backupOfView1(t)
	d.Deliver(9, consensus.Envelope{From: 1, To: 0, Msg: &consensus.Prepare{Header: consensus.Header{View: 1},
		Entries: []consensus.Entry{{Op: 1, View: 1, Cmd: []byte("a")}}}})
	if _, wait, err := d.Process(); err != nil || wait || !d.Pending() {
		t.Fatalf("the Prepare's Ready: wait %v err %v pending %v", wait, err, d.Pending())
	}
	// Another backup moves to view 2: this one follows before its sync.
	d.Deliver(9, consensus.Envelope{From: 2, To: 0, Msg: &consensus.StartViewChange{Header: consensus.Header{View: 2}}})
	seq, wait, err := d.Process()
	if err != nil || !wait {
		t.Fatalf("the view change's Ready: seq %d wait %v err %v: want it to wait for the disk", seq, wait, err)
	}
	if err := d.store.WAL.SyncPending(); err != nil {
		t.Fatal(err)
	}
	if err := d.Resume(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Process(); err != nil {
		t.Fatal(err)
	}
	if v := d.Replica().Info().View; v != 2 {
		t.Fatalf("view %d, want 2", v)
	}
	for _, e := range rec.events {
		if strings.Contains(e, "PrepareOk") {
			t.Fatalf("a view-1 acknowledgement left after the move to view 2: %v", rec.events)
		}
	}
}
