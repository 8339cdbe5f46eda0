package sim

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// kvInput and kvOutput are one operation of a client history.
type kvInput struct {
	kind  opKind
	key   uint8
	value string
}

type kvOutput struct {
	value string
}

// kvModel is the sequential specification checked by porcupine, partitioned
// by key (each partition's state is the key's value).
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[uint8][]porcupine.Operation{}
		var keys []uint8
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(kvInput), output.(kvOutput)
		switch in.kind {
		case opPut:
			return true, in.value
		case opAppend:
			return true, s + in.value
		default:
			return out.value == s, s
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		if in.kind == opGet {
			return fmt.Sprintf("get(k%d) -> %q", in.key, out.value)
		}
		return fmt.Sprintf("%s(k%d, %q)", in.kind, in.key, in.value)
	},
}
