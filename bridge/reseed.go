package bridge

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/storage"
)

// Reseed makes this (stopped) server the sole source of its cluster's
// state after a majority of the cluster's disks was lost: see
// driver.Reseed. With apply false it only reports what the server holds.
func Reseed(opts Options, apply bool, log hclog.Logger) (driver.ReseedReport, error) {
	opts.fill()
	ids := make([]uint64, 0, len(opts.Peers))
	for id := range opts.Peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Contains(ids, opts.ID) {
		return driver.ReseedReport{}, fmt.Errorf("bridge: server id %d is not among the peers", opts.ID)
	}
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return driver.ReseedReport{}, fmt.Errorf("bridge: reseed: random cluster id: %w", err)
	}
	cluster := binary.BigEndian.Uint64(b[:]) | 1
	return driver.Reseed(driver.OpenOptions{
		Storage:  storage.Options{DataDir: opts.DataDir, LogDir: opts.LogDir, WAL: opts.WAL, FS: opts.FS},
		Log:      log,
		ServerID: opts.ID,
		Members:  ids,
	}, cluster, binary.BigEndian.Uint64(b[8:]), apply)
}
