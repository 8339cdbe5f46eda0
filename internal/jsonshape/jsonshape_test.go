package jsonshape

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompare(t *testing.T) {
	tests := []struct {
		want, ours string
		diffs      []string
	}{
		{`{"a":1,"b":"x"}`, `{"b":"y","a":2}`, nil},
		{`{"a":1}`, `{"a":"1"}`, []string{"c.a: ZooKeeper has a number, vrkeeper a string"}},
		{`{"a":1}`, `{}`, []string{"c.a: missing"}},
		{`{}`, `{"z":null}`, []string{"c.z: not in ZooKeeper's answer"}},
		{`{"l":[{"x":1}]}`, `{"l":[{"x":1,"y":2}]}`, []string{"c.l[0].y: not in ZooKeeper's answer"}},
		{`{"l":[]}`, `{"l":[{"x":1}]}`, nil},
		{`{"ids":{"1":[1]}}`, `{"ids":{"7":[1],"8":[2]}}`, []string{"c.ids: ZooKeeper has 1 entries, vrkeeper 2"}},
		{`{"ids":{"1":[1]}}`, `{"ids":{"7":["x"]}}`, nil},
	}
	for _, tc := range tests {
		got := Compare("c", decode(t, tc.want), decode(t, tc.ours), map[string]bool{"ids": true})
		if strings.Join(got, "|") != strings.Join(tc.diffs, "|") {
			t.Errorf("%s vs %s: %q, want %q", tc.want, tc.ours, got, tc.diffs)
		}
	}
}
