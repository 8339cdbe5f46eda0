// Package frontend is the client-facing side of a vrkeeper server: the TCP
// listener, connections and their sessions' FIFO order, the watch registry,
// four-letter words and the admin endpoints. It decodes requests with
// zkproto and hands them to the bridge, which replicates writes and serves
// reads once they may be served.
package frontend
