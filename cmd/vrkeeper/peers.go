package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
)

// watchPeers reports, once per change, a peer this server should hear from
// (the primary hears every backup, a backup its primary) going silent for
// longer than the failure-detection time, and coming back.
func watchPeers(ctx context.Context, cfg *Config, node *bridge.Node, log hclog.Logger) {
	if len(cfg.Servers) <= 1 {
		return
	}
	timeout := cfg.peerTimeout()
	addr := map[uint64]string{}
	for _, s := range cfg.Servers {
		addr[uint64(s.ID)] = s.PeerAddr
	}
	started := time.Now()
	down := map[uint64]bool{}
	t := time.NewTicker(max(cfg.TickTime/2, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := node.Status()
		now := time.Now()
		for _, p := range st.Peers {
			silent := now.Sub(p.LastHeard)
			if p.LastHeard.IsZero() {
				silent = now.Sub(started)
			}
			unreachable := st.ExpectsToHear(p.ID) && silent > timeout
			switch {
			case unreachable && !down[p.ID]:
				down[p.ID] = true
				log.Warn("peer unreachable", "peer", p.ID, "addr", addr[p.ID], "silent", silent.Round(time.Millisecond))
			case !unreachable && down[p.ID] && !p.LastHeard.IsZero() && now.Sub(p.LastHeard) <= timeout:
				down[p.ID] = false
				log.Info("peer reachable again", "peer", p.ID, "addr", addr[p.ID])
			}
		}
	}
}
