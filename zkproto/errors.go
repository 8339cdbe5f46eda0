package zkproto

import (
	"errors"
	"fmt"
)

// Code is a ZooKeeper error code (KeeperException.Code) as it travels in a
// ReplyHeader, a MultiHeader or an ErrorResponse. Every non-zero Code is an
// error, so the constants below serve as sentinel errors:
// errors.Is(err, zkproto.ErrNoNode) works on a wrapped Code.
type Code int32

// The error codes of ZooKeeper 3.9 (KeeperException.Code), with their numbers.
const (
	OK                              Code = 0
	ErrSystemError                  Code = -1 // marker: codes below it are server errors
	ErrRuntimeInconsistency         Code = -2
	ErrDataInconsistency            Code = -3
	ErrConnectionLoss               Code = -4
	ErrMarshallingError             Code = -5
	ErrUnimplemented                Code = -6
	ErrOperationTimeout             Code = -7
	ErrBadArguments                 Code = -8
	ErrUnknownSession               Code = -12
	ErrNewConfigNoQuorum            Code = -13
	ErrReconfigInProgress           Code = -14
	ErrAPIError                     Code = -100 // marker: codes below it are API errors
	ErrNoNode                       Code = -101
	ErrNoAuth                       Code = -102
	ErrBadVersion                   Code = -103
	ErrNoChildrenForEphemerals      Code = -108
	ErrNodeExists                   Code = -110
	ErrNotEmpty                     Code = -111
	ErrSessionExpired               Code = -112
	ErrInvalidCallback              Code = -113
	ErrInvalidACL                   Code = -114
	ErrAuthFailed                   Code = -115
	ErrSessionMoved                 Code = -118
	ErrNotReadOnly                  Code = -119
	ErrEphemeralOnLocalSession      Code = -120
	ErrNoWatcher                    Code = -121
	ErrRequestTimeout               Code = -122
	ErrReconfigDisabled             Code = -123
	ErrSessionClosedRequireSASLAuth Code = -124
	ErrQuotaExceeded                Code = -125
	ErrThrottledOp                  Code = -127
)

// codeNames holds ZooKeeper's name for each code (KeeperException.Code) and
// the message its Java client prints for it.
var codeNames = map[Code][2]string{
	OK:                              {"OK", "ok"},
	ErrSystemError:                  {"SYSTEMERROR", "system error"},
	ErrRuntimeInconsistency:         {"RUNTIMEINCONSISTENCY", "runtime inconsistency"},
	ErrDataInconsistency:            {"DATAINCONSISTENCY", "data inconsistency"},
	ErrConnectionLoss:               {"CONNECTIONLOSS", "connection loss"},
	ErrMarshallingError:             {"MARSHALLINGERROR", "marshalling error"},
	ErrUnimplemented:                {"UNIMPLEMENTED", "unimplemented"},
	ErrOperationTimeout:             {"OPERATIONTIMEOUT", "operation timeout"},
	ErrBadArguments:                 {"BADARGUMENTS", "bad arguments"},
	ErrUnknownSession:               {"UNKNOWNSESSION", "unknown session"},
	ErrNewConfigNoQuorum:            {"NEWCONFIGNOQUORUM", "no quorum of new config is connected and up-to-date with the leader of last commmitted config"},
	ErrReconfigInProgress:           {"RECONFIGINPROGRESS", "another reconfiguration is in progress"},
	ErrAPIError:                     {"APIERROR", "api error"},
	ErrNoNode:                       {"NONODE", "no node"},
	ErrNoAuth:                       {"NOAUTH", "not authenticated"},
	ErrBadVersion:                   {"BADVERSION", "bad version"},
	ErrNoChildrenForEphemerals:      {"NOCHILDRENFOREPHEMERALS", "no children for ephemerals"},
	ErrNodeExists:                   {"NODEEXISTS", "node exists"},
	ErrNotEmpty:                     {"NOTEMPTY", "directory not empty"},
	ErrSessionExpired:               {"SESSIONEXPIRED", "session expired"},
	ErrInvalidCallback:              {"INVALIDCALLBACK", "invalid callback"},
	ErrInvalidACL:                   {"INVALIDACL", "invalid ACL"},
	ErrAuthFailed:                   {"AUTHFAILED", "authentication failed"},
	ErrSessionMoved:                 {"SESSIONMOVED", "session moved"},
	ErrNotReadOnly:                  {"NOTREADONLY", "not a read-only call"},
	ErrEphemeralOnLocalSession:      {"EPHEMERALONLOCALSESSION", "ephemeral node on local session"},
	ErrNoWatcher:                    {"NOWATCHER", "no watcher"},
	ErrRequestTimeout:               {"REQUESTTIMEOUT", "request timeout"},
	ErrReconfigDisabled:             {"RECONFIGDISABLED", "reconfig is disabled"},
	ErrSessionClosedRequireSASLAuth: {"SESSIONCLOSEDREQUIRESASLAUTH", "session closed because client failed to authenticate"},
	ErrQuotaExceeded:                {"QUOTAEXCEEDED", "quota has exceeded"},
	ErrThrottledOp:                  {"THROTTLEDOP", "op throttled due to high load"},
}

// Error returns ZooKeeper's name for the code, its number and its meaning,
// for example "NONODE (-101): no node".
func (c Code) Error() string {
	if n, ok := codeNames[c]; ok {
		return fmt.Sprintf("%s (%d): %s", n[0], int32(c), n[1])
	}
	return fmt.Sprintf("unknown error code (%d)", int32(c))
}

// Name returns ZooKeeper's name of the code ("NONODE"), or "" if unknown.
func (c Code) Name() string { return codeNames[c][0] }

// Known reports whether c is one of ZooKeeper's defined codes.
func (c Code) Known() bool {
	_, ok := codeNames[c]
	return ok
}

// Err turns a wire code into a Go error: nil for OK, the Code otherwise.
func (c Code) Err() error {
	if c == OK {
		return nil
	}
	return c
}

// CodeOf returns the wire code for err: OK for nil, the Code found in err's
// chain, and ErrSystemError for any other error (ZooKeeper's answer to a
// failure that has no code of its own).
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var c Code
	if errors.As(err, &c) {
		return c
	}
	return ErrSystemError
}
