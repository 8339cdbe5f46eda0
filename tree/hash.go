package tree

import "math/bits"

// The digest needs a 64-bit hash that is the same on every machine and in
// every process (hash/maphash is seeded per process), and fast enough to run
// on every write. This is a multiply-mix hash in the style of wyhash: each
// 16-byte block is folded into the state with one 64x64->128 multiply.

// Mixing constants: odd 64-bit values with well-spread bits.
const (
	hk0 = 0xa0761d6478bd642f
	hk1 = 0xe7037ed1a0b428db
	hk2 = 0x8ebc6af09c88c6e3
	hk3 = 0x589965cc75374cc3
)

// mix folds two words into one through a full 128-bit product.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// byteString is a string or a byte slice: hashing and path walking work on
// both without converting (a conversion would copy).
type byteString interface{ ~string | ~[]byte }

// le64 reads 8 little-endian bytes of p at i.
func le64[P byteString](p P, i int) uint64 {
	_ = p[i+7]
	return uint64(p[i]) | uint64(p[i+1])<<8 | uint64(p[i+2])<<16 | uint64(p[i+3])<<24 |
		uint64(p[i+4])<<32 | uint64(p[i+5])<<40 | uint64(p[i+6])<<48 | uint64(p[i+7])<<56
}

// hashBytes returns the hash of p, continuing from seed so that several
// fields can be chained: hashBytes(hashBytes(s, a), b).
func hashBytes[P byteString](seed uint64, p P) uint64 {
	n := len(p)
	h := seed ^ hk0 ^ uint64(n)*hk3
	i := 0
	for ; i+16 <= n; i += 16 {
		h = mix(le64(p, i)^hk1, le64(p, i+8)^h)
	}
	if i+8 <= n {
		h = mix(le64(p, i)^hk2, h^hk1)
		i += 8
	}
	var tail uint64
	for s := 0; i < n; i, s = i+1, s+8 {
		tail |= uint64(p[i]) << s
	}
	return mix(tail^hk3, h^hk2)
}

// hashWords folds integers into a seed.
func hashWords(seed uint64, words ...uint64) uint64 {
	h := seed ^ hk0
	for _, w := range words {
		h = mix(w^hk1, h^hk2)
	}
	return h
}
