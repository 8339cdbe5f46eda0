// Package jsonshape compares two JSON answers by shape: the keys of their
// objects and the types of their values, not the values themselves. The
// tests use it to hold vrkeeper's AdminServer answers against the ones
// Apache ZooKeeper gave for the same state.
package jsonshape

import (
	"fmt"
	"sort"
	"strings"
)

// Type names a decoded JSON value's type (encoding/json into any).
func Type(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Compare returns where ours differs in shape from want, sorted. Objects
// named in dataKeyed have data for keys (ids, paths, times): only their
// entry counts are compared. Arrays are compared by their first elements.
func Compare(path string, want, ours any, dataKeyed map[string]bool) []string {
	var diffs []string
	compare(path, want, ours, dataKeyed, &diffs)
	sort.Strings(diffs)
	return diffs
}

func compare(path string, want, ours any, dataKeyed map[string]bool, diffs *[]string) {
	if Type(want) != Type(ours) {
		*diffs = append(*diffs, fmt.Sprintf("%s: ZooKeeper has a %s, vrkeeper a %s", path, Type(want), Type(ours)))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		o := ours.(map[string]any)
		if dataKeyed[path[strings.LastIndex(path, ".")+1:]] {
			if len(w) != len(o) {
				*diffs = append(*diffs, fmt.Sprintf("%s: ZooKeeper has %d entries, vrkeeper %d", path, len(w), len(o)))
			}
			return
		}
		for k, v := range w {
			ov, ok := o[k]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			compare(path+"."+k, v, ov, dataKeyed, diffs)
		}
		for k := range o {
			if _, ok := w[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: not in ZooKeeper's answer", path, k))
			}
		}
	case []any:
		o := ours.([]any)
		if len(w) > 0 && len(o) > 0 {
			compare(path+"[0]", w[0], o[0], dataKeyed, diffs)
		}
	}
}
