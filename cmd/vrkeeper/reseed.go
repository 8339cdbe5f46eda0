package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
)

// reseedUsage explains the disaster-recovery command.
const reseedUsage = `vrkeeper reseed [--yes] [serve flags, e.g. --config zoo.cfg]

When a majority of a cluster's disks was lost, the committed writes may
exist on no surviving server, and the cluster refuses to serve (the servers
with empty data directories wait for a majority that holds the data).
reseed makes one stopped survivor the sole source of the cluster's state:

  1. Stop every server. Choose the survivor with the most data (the one
     whose report below shows the highest last op).
  2. Run 'vrkeeper reseed' with that server's configuration: it reports
     what the server holds and changes nothing. Writes acknowledged after
     its last op may be lost for good.
  3. Run it again with --yes: the server joins a new cluster id and is
     marked seeded.
  4. Empty the data directory (and dataLogDir) of every other server; a
     server that still holds the old cluster's data is refused by the others.
  5. Start every server with its usual configuration. The seeded server
     leads at once; the emptied ones rebuild their state from it.
`

// reseed runs the reseed command.
func reseed(args []string, stdout, stderr io.Writer) error {
	yes := false
	var rest []string
	for _, a := range args {
		switch a {
		case "--yes", "-yes":
			yes = true
		case "-h", "--help", "-help":
			fmt.Fprint(stdout, reseedUsage)
			return nil
		default:
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(rest, stdout, stderr, os.Getenv)
	if err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	peers := map[uint64]string{}
	for _, s := range cfg.Servers {
		peers[uint64(s.ID)] = s.PeerAddr
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "vrkeeper", Output: stderr, Level: hclog.Warn})
	rep, err := bridge.Reseed(bridge.Options{ID: uint64(cfg.ID), Peers: peers, DataDir: cfg.DataDir, LogDir: cfg.DataLogDir}, yes, log)
	if err != nil {
		return fmt.Errorf("reseed: %w (is the server stopped?)", err)
	}
	fmt.Fprintf(stdout, "server %d, data directory %s\n", cfg.ID, cfg.DataDir)
	fmt.Fprintf(stdout, "  cluster            %016x\n", rep.OldCluster)
	fmt.Fprintf(stdout, "  view               %d (last normal view %d)\n", rep.View, rep.LastNormalView)
	fmt.Fprintf(stdout, "  last op (zxid)     %d (0x%x)\n", rep.LastOp, rep.LastOp)
	fmt.Fprintf(stdout, "  known committed    %d\n", rep.Committed)
	fmt.Fprintf(stdout, "  newest snapshot    %d\n", rep.SnapshotOp)
	fmt.Fprintf(stdout, "Writes acknowledged after op %d, and any write this server did not receive, may be lost.\n", rep.LastOp)
	if !yes {
		fmt.Fprintln(stdout, "Nothing was changed. Run again with --yes to make this server the seed of a new cluster.")
		return nil
	}
	fmt.Fprintf(stdout, "Seeded: this server now belongs to cluster %016x and will lead it when started.\n", rep.NewCluster)
	fmt.Fprintln(stdout, "Next: empty the data directory (and dataLogDir) of every other server, then start all servers.")
	return nil
}
