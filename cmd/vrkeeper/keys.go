package main

import (
	"fmt"
	"strconv"
	"strings"
)

// This file classifies the zoo.cfg keys (and -D properties) ZooKeeper 3.8
// documents that config.go's parseZooCfg does not honour itself:
//
//   - refused: the value asks for something vrkeeper does not do (port
//     unification, Kerberos, quorum SASL, observers, hierarchical quorums,
//     turning fsync off); start
//     fails with a clear error. The harmless value (off, the default) is
//     accepted.
//   - no effect: a tuning knob of ZooKeeper's own machinery that vrkeeper
//     has no counterpart for (its election, its request pipeline, its
//     caches); accepted, and listed once at start.
//
// Any other key is unknown and draws a warning, as in ZooKeeper.

// refusal checks a key's value: nil if vrkeeper can run with it.
type refusal func(value string) error

// refuseUnless refuses every value but the harmless ones (compared without
// case).
func refuseUnless(why string, harmless ...string) refusal {
	return func(v string) error {
		for _, h := range harmless {
			if strings.EqualFold(strings.TrimSpace(v), h) {
				return nil
			}
		}
		return fmt.Errorf("%s", why)
	}
}

// refuseAlways refuses the key whatever its value.
func refuseAlways(why string) refusal {
	return func(string) error { return fmt.Errorf("%s", why) }
}

const (
	noUnification = "vrkeeper serves TLS on secureClientPort only, not on the plain port (no port unification)"
	noSASL        = "vrkeeper does not support Kerberos, nor SASL between servers (their links use sslQuorum's mutual TLS)"
	noObservers   = "vrkeeper has no observers: every server is a voting replica"
)

// refusedKeys are refused unless their value is harmless.
var refusedKeys = map[string]refusal{
	"portUnification":                refuseUnless(noUnification, "false"),
	"client.portUnification":         refuseUnless(noUnification, "false"),
	"observerMasterPort":             refuseAlways(noObservers),
	"peerType":                       refuseUnless(noObservers, "participant"),
	"forceSync":                      refuseUnless("vrkeeper never acknowledges a write before it is on disk: forceSync=no is refused", "yes", "true"),
	"quorum.auth.enableSasl":         refuseUnless(noSASL, "false"),
	"quorum.auth.learnerRequireSasl": refuseUnless(noSASL, "false"),
	"quorum.auth.serverRequireSasl":  refuseUnless(noSASL, "false"),
	"localSessionsEnabled":           refuseUnless("vrkeeper has no local sessions: every session is global", "false"),
	"localSessionsUpgradingEnabled":  refuseUnless("vrkeeper has no local sessions: every session is global", "false"),
	"readonlymode.enabled":           refuseUnless("vrkeeper has no read-only mode: a server without a quorum does not serve", "false"),
	"audit.enable":                   refuseUnless("vrkeeper has no audit log", "false"),
	"multiAddress.enabled":           refuseUnless("vrkeeper takes one address per server", "false"),
	"electionAlg": func(v string) error {
		if strings.TrimSpace(v) != "3" {
			return fmt.Errorf("only electionAlg=3 exists (vrkeeper replaces leader election with view changes)")
		}
		return nil
	},
	"metricsProvider.className": func(v string) error {
		switch metricsProviderKind(v) {
		case "prometheus", "none":
			return nil
		}
		return fmt.Errorf("vrkeeper exports metrics through %s only (or NullMetricsProvider)", prometheusProvider)
	},
}

// refusedPrefixes refuse every key under them unless harmless.
var refusedPrefixes = map[string]refusal{
	"kerberos.": refuseAlways(noSASL),
	"group.":    refuseAlways("vrkeeper has no hierarchical quorums: every server has one vote"),
	"weight.":   refuseAlways("vrkeeper has no hierarchical quorums: every server has one vote"),
}

// noEffectKeys have no counterpart in vrkeeper; the value is only checked
// to be of the documented kind.
var noEffectKeys = map[string]string{
	"autopurge.purgeInterval":                               "int",  // likewise
	"reconfigEnabled":                                       "bool", // dynamic reconfiguration requests are refused
	"standaloneEnabled":                                     "bool", // one server is a one-replica cluster either way
	"syncEnabled":                                           "bool", // observers only
	"cnxTimeout":                                            "int",  // leader election's connect timeout
	"quorumCnxnTimeoutMs":                                   "int",
	"electionPortBindRetry":                                 "int",
	"fastleader.minNotificationInterval":                    "int",
	"fastleader.maxNotificationInterval":                    "int",
	"connectToLearnerMasterLimit":                           "int",
	"commitLogCount":                                        "int",
	"snapSizeLimitInKb":                                     "int",
	"txnLogSizeLimitInKb":                                   "int",
	"fsync.warningthresholdms":                              "int",
	"maxResponseCacheSize":                                  "int",
	"maxGetChildrenResponseCacheSize":                       "int",
	"watchManagerName":                                      "",
	"watcherCleanThreadsNum":                                "int",
	"watcherCleanIntervalInSeconds":                         "int",
	"maxInProcessingDeadWatchers":                           "int",
	"digest.enabled":                                        "bool", // vrkeeper always keeps a tree digest (hash)
	"snapshot.trust.empty":                                  "bool",
	"snapshot.compression.method":                           "",
	"jute.maxbuffer.extrasize":                              "int",
	"emulate353TTLNodes":                                    "bool",
	"connectionMaxTokens":                                   "int",
	"connectionTokenFillTime":                               "int",
	"connectionTokenFillCount":                              "int",
	"connectionFreezeTime":                                  "int",
	"connectionDropIncrease":                                "",
	"connectionDropDecrease":                                "",
	"connectionDecreaseRatio":                               "",
	"learner.closeSocketAsync":                              "bool",
	"leader.closeSocketAsync":                               "bool",
	"forward_learner_requests_to_commit_processor_disabled": "bool",
	"serializeLastProcessedZxid.enabled":                    "bool",
	"tcpKeepAlive":                                          "bool",
	"clientTcpKeepAlive":                                    "bool",
	"observer.reconnectDelayMs":                             "int",
	"observer.election.DelayMs":                             "int",
	"multiAddress.reachabilityCheckTimeoutMs":               "int",
	"multiAddress.reachabilityCheckEnabled":                 "bool",
	"clientPortListenBacklog":                               "int",
	"serverCnxnFactory":                                     "",
	"largeRequestMaxBytes":                                  "int",
	"largeRequestThreshold":                                 "int",
	"outstandingHandshake.limit":                            "int",
	"maxConcurrentSnapSyncs":                                "int",
	"maxConcurrentDiffSyncs":                                "int",
	"metricsProvider.exportJvmInfo":                         "bool",
	"znode.container.checkIntervalMs":                       "int",
	"znode.container.maxPerMinute":                          "int",
	"request_throttle_max_requests":                         "int",
	"request_throttle_stall_time":                           "int",
	"request_throttle_drop_stale":                           "bool",
	"nio.numSelectorThreads":                                "int",
	"nio.numWorkerThreads":                                  "int",
	"nio.shutdownTimeout":                                   "int",
	"commitProcessor.numWorkerThreads":                      "int",
	"commitProcessor.maxReadBatchSize":                      "int",
	"commitProcessor.maxCommitBatchSize":                    "int",
	"flushDelay":                                            "int",
	"maxWriteQueuePollTime":                                 "int",
	"maxBatchSize":                                          "int",
	"admin.idleTimeout":                                     "int",
	"admin.portUnification":                                 "bool",
	"client.secure":                                         "bool", // a client's setting
	"netty.server.outboundBuffer.dynamic":                   "bool",
	"leaderConnectDelayDuringRetryMs":                       "int",
}

// checkKind validates a no-effect key's value.
func checkKind(kind, v string) error {
	v = strings.TrimSpace(v)
	switch kind {
	case "int":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("want an integer")
		}
	case "bool":
		switch strings.ToLower(v) {
		case "true", "false", "yes", "no":
		default:
			return fmt.Errorf("want true or false")
		}
	}
	return nil
}

// classify handles a key parseZooCfg does not honour: an error for a
// refused value, noEffect for a key without counterpart, unknown for the
// rest.
func classify(key, value string) (noEffect, unknown bool, err error) {
	if r, ok := refusedKeys[key]; ok {
		return false, false, r(value)
	}
	for prefix, r := range refusedPrefixes {
		if strings.HasPrefix(key, prefix) {
			return false, false, r(value)
		}
	}
	if kind, ok := noEffectKeys[key]; ok {
		return true, false, checkKind(kind, value)
	}
	return false, true, nil
}

// prometheusProvider is ZooKeeper's Prometheus metrics provider class.
const prometheusProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

// metricsProviderKind maps metricsProvider.className to "prometheus",
// "none" or "" (unsupported).
func metricsProviderKind(class string) string {
	switch strings.TrimSpace(class) {
	case prometheusProvider, "PrometheusMetricsProvider":
		return "prometheus"
	case "org.apache.zookeeper.metrics.impl.NullMetricsProvider",
		"org.apache.zookeeper.metrics.impl.DefaultMetricsProvider", "":
		return "none"
	}
	return ""
}
