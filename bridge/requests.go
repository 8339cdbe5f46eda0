package bridge

import "github.com/vrkeeper/vrkeeper/tree"

// The request-level door to replication: the frontend says what a client
// asked for, and bridge turns it into the replicated command, stamped with
// this server's clock (the primary stamps its own over it when it prepares
// the command: the replicated state knows the primary's clock only). Each
// method returns replication's refusal (ErrCommandTooLarge and the like,
// see Propose); the outcome of an accepted command arrives through
// Handler.Applied, or never if a view change lost it (Handler.RoleChanged).

// Write proposes a client's write request and returns its command, which
// the caller keeps to propose again after a view change (Repropose).
func (a *Apply) Write(w *tree.ClientWrite) ([]byte, error) {
	w.Time = a.Now()
	cmd := tree.AppendClientWrite(make([]byte, 0, tree.ClientWriteSize(w)), w)
	return cmd, a.Propose(cmd)
}

// Repropose proposes again a command a view change may have lost.
func (a *Apply) Repropose(cmd []byte) error { return a.Propose(cmd) }

// OpenSession proposes a new session with the negotiated timeout (ms), the
// password drawn for it, owned by the connection named owner.
func (a *Apply) OpenSession(timeout int32, passwd []byte, owner int64) error {
	return a.Propose(tree.AppendOwnedOpenSession(nil, a.Now(), timeout, passwd, owner))
}

// AttachSession proposes that the connection named owner resumes session
// id (it becomes the session's owner).
func (a *Apply) AttachSession(id, owner int64) error {
	return a.Propose(tree.AppendAttachSession(nil, a.Now(), id, owner))
}

// RenewSessions proposes that the listed sessions were alive now.
func (a *Apply) RenewSessions(ids []int64) error {
	return a.Propose(tree.AppendRenewSessions(nil, a.Now(), ids))
}

// ExpireSessions proposes the end of the listed sessions, applied to those
// that have gone a whole timeout without renewal by the command's time.
func (a *Apply) ExpireSessions(ids []int64) error {
	return a.Propose(tree.AppendExpireSessions(nil, a.Now(), ids))
}

// Cleanup proposes the removal of the containers and TTL nodes that
// qualify now, never-used containers older than maxNeverUsed (ms; 0:
// never) among them: this server's znode.container.maxNeverUsedIntervalMs,
// which the command carries to every replica.
func (a *Apply) Cleanup(maxNeverUsed int64) error {
	return a.Propose(tree.AppendCleanup(nil, a.Now(), maxNeverUsed))
}
