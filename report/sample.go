package report

import (
	"math/rand/v2"
	"slices"
)

// Purposes of the deterministic random streams: each sample of a report
// is drawn from its own stream, so changing one section's sizes never
// changes another's draw.
const (
	streamMap uint64 = iota + 1
	streamRandomOrder
	streamCurvePoints
	streamNNCandidates
	streamNNSelection
	streamPCA
)

// newRand returns the random stream of one purpose. The stream depends on
// the seed, the purpose and the size of the set drawn from, nothing else,
// so a report is reproducible on any machine (math/rand/v2's PCG is
// specified bit for bit).
func newRand(seed, purpose uint64, n int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, purpose<<32^uint64(n)))
}

// randomOrder returns m distinct indices of [0, n) in random order (all n
// when m ≥ n): the first m steps of a Fisher–Yates shuffle. Small samples
// of large sets keep the swapped entries in a map instead of an n-element
// permutation; both ways make the same draws and give the same result.
func randomOrder(rng *rand.Rand, n, m int) []int {
	m = max(0, min(m, n))
	out := make([]int, m)
	if m == 0 {
		return out
	}
	if m*8 >= n {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		for i := 0; i < m; i++ {
			j := i + rng.IntN(n-i)
			p[i], p[j] = p[j], p[i]
		}
		copy(out, p[:m])
		return out
	}
	swapped := make(map[int]int, m)
	at := func(i int) int {
		if v, ok := swapped[i]; ok {
			return v
		}
		return i
	}
	for i := 0; i < m; i++ {
		j := i + rng.IntN(n-i)
		vi, vj := at(i), at(j)
		out[i] = vj
		swapped[j] = vi // position i is never read again
	}
	return out
}

// pick returns the elements of set at the given positions.
func pick(set []int, positions []int) []int {
	out := make([]int, len(positions))
	for i, p := range positions {
		out[i] = set[p]
	}
	return out
}

// sortedCopy returns s sorted, leaving s as it is.
func sortedCopy(s []int) []int {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
