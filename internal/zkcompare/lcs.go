package zkcompare

// diffOp pairs an index of a with one of b (a match), or names an index
// on one side only (the other is -1).
type diffOp struct{ a, b int }

// diffOps aligns a and b by a longest common subsequence of their texts.
// Conversations are a few hundred frames, so the quadratic table is small.
func diffOps(a, b []Frame) []diffOp {
	ta := make([]string, len(a))
	for i := range a {
		ta[i] = a[i].Text()
	}
	tb := make([]string, len(b))
	for i := range b {
		tb[i] = b[i].Text()
	}
	// lcs[i][j] is the LCS length of ta[i:] and tb[j:].
	lcs := make([][]int, len(ta)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(tb)+1)
	}
	for i := len(ta) - 1; i >= 0; i-- {
		for j := len(tb) - 1; j >= 0; j-- {
			if ta[i] == tb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(ta) || j < len(tb) {
		switch {
		case i < len(ta) && j < len(tb) && ta[i] == tb[j]:
			ops = append(ops, diffOp{i, j})
			i, j = i+1, j+1
		case j == len(tb) || (i < len(ta) && lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{i, -1})
			i++
		default:
			ops = append(ops, diffOp{-1, j})
			j++
		}
	}
	return ops
}
