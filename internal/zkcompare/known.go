package zkcompare

import "regexp"

// knownDifference is a difference between ZooKeeper and vrkeeper that
// docs/compat.md documents as not closed. A run of differing frames is one
// when, pair by pair, the frames carry the same labels, some reference
// frame shows the signature, and the bodies compare equal once normalise
// has been applied to both sides.
type knownDifference struct {
	name      string
	signature *regexp.Regexp
	normalise func(body string) string
}

var (
	quotaStats   = regexp.MustCompile(`Data:"count=-?\d+,bytes=-?\d+"`)
	configData   = regexp.MustCompile(`GetDataResponse\{Data:"(server\.[^"]*)?" Stat:Stat\{[^}]*\}\}`)
	configMember = regexp.MustCompile(`Data:"server\.`)
)

// knownDifferences are the documented differences (docs/compat.md,
// "Known differences").
var knownDifferences = []knownDifference{
	{
		// ZooKeeper keeps the zookeeper_stats node of a quota up to date
		// with the subtree's node count and bytes; vrkeeper stores what the
		// client wrote.
		name:      "quota stats",
		signature: quotaStats,
		normalise: func(b string) string { return quotaStats.ReplaceAllString(b, `Data:"count=#,bytes=#"`) },
	},
	{
		// A ZooKeeper ensemble publishes its members in /zookeeper/config
		// (version -1, mtime its start); vrkeeper's stays empty.
		name:      "ensemble config",
		signature: configMember,
		normalise: func(b string) string { return configData.ReplaceAllString(b, "GetDataResponse{CONFIG}") },
	},
}

// knownAs returns the name of the known difference that explains a run of
// differing frames, or "".
func knownAs(onlyA, onlyB []*Frame) string {
	if len(onlyA) != len(onlyB) || len(onlyA) == 0 {
		return ""
	}
next:
	for _, k := range knownDifferences {
		seen := false
		for i := range onlyA {
			a, b := onlyA[i], onlyB[i]
			if a.Dir != b.Dir || a.Label != b.Label || k.normalise(a.Body) != k.normalise(b.Body) {
				continue next
			}
			seen = seen || k.signature.MatchString(a.Body)
		}
		if seen {
			return k.name
		}
	}
	return ""
}
