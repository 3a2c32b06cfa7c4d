package strategies

import (
	"slices"
	"sort"
)

// static picks when no score changes between picks except the balancing
// term, which is one value per distinct count row: weights and balancing
// without a varying diversity term. Each row's candidates are sorted once
// by score; the tied candidates of a row are then a prefix of its order,
// and a segment tree over the order gives the lowest index still alive in
// that prefix. Many exactly equal scores (boolean weights, balancing alone)
// cost nothing extra, unlike heaps, which would pop every tied entry.
type static struct {
	order [][]int32 // per count row: candidates by descending base score, then index
	tree  [][]int32 // per count row: segment tree of the lowest alive index per range
	row   [][]float64
}

const dead = int32(1<<31 - 1)

func (e *engine) staticOK() bool {
	if e.opt.naive || e.opt.scan || len(e.generic) > 0 {
		return false
	}
	for _, d := range e.divs {
		if d.s.d.strength != 0 {
			return false
		}
	}
	for _, d := range e.subs {
		if d.strength != 0 {
			return false
		}
	}
	return true
}

func (e *engine) buildStatic() {
	id, rows, ok := e.lazyRows()
	if !ok {
		e.opt.scan = true
		return
	}
	st := &static{row: rows}
	ng := max(1, len(rows))
	st.order = make([][]int32, ng)
	for i, g := range id {
		if e.cheapEligible(i) { // the costly rules when a candidate comes first
			st.order[g] = append(st.order[g], int32(i))
		}
	}
	st.tree = make([][]int32, ng)
	for g, o := range st.order {
		slices.SortFunc(o, func(a, b int32) int {
			sa, sb := e.base(int(a)), e.base(int(b))
			switch {
			case sb.Less(sa):
				return -1
			case sa.Less(sb):
				return 1
			}
			return int(a - b)
		})
		n := 1
		for n < len(o) {
			n *= 2
		}
		// A perfect tree: leaves [n, 2n) hold the order, padded dead.
		t := make([]int32, 2*n)
		copy(t[n:], o)
		for k := n + len(o); k < 2*n; k++ {
			t[k] = dead
		}
		for k := n - 1; k >= 1; k-- {
			t[k] = min(t[2*k], t[2*k+1])
		}
		st.tree[g] = t
	}
	e.static = st
}

// lowest returns the position in row g's order of the lowest alive index
// among positions [0, p), or -1.
func (st *static) lowest(g, p int) (int32, int) {
	t := st.tree[g]
	n := len(t) / 2
	best, at := dead, -1
	lo, hi := n, n+p
	for lo < hi {
		if lo&1 == 1 {
			if t[lo] < best {
				best, at = t[lo], lo
			}
			lo++
		}
		if hi&1 == 1 {
			hi--
			if t[hi] < best {
				best, at = t[hi], hi
			}
		}
		lo, hi = lo/2, hi/2
	}
	if at < 0 {
		return dead, -1
	}
	for at < n { // descend to the leaf holding best
		if t[2*at] == best {
			at = 2 * at
		} else {
			at = 2*at + 1
		}
	}
	return best, at - n
}

func (st *static) kill(g, pos int) {
	t := st.tree[g]
	k := len(t)/2 + pos
	t[k] = dead
	for k > 1 {
		k /= 2
		t[k] = min(t[2*k], t[2*k+1])
	}
}

func (st *static) total(e *engine, g int, i int32) Score {
	s := e.base(int(i))
	if e.bal != nil {
		s = e.withBalance(s, st.row[g])
	}
	return s
}

// first returns the first alive, eligible position of row g's order, or
// -1, killing the ineligible entries it passes: picked, deduplicated and
// rule-excluded candidates never become eligible again.
func (st *static) first(e *engine, g int) int {
	for {
		i, pos := st.lowestAlivePos(g)
		if pos < 0 {
			return -1
		}
		if e.eligible(int(i)) {
			return pos
		}
		st.kill(g, pos)
	}
}

// lowestAlivePos returns the alive entry at the smallest position (the best
// score) of row g: the leftmost leaf whose subtree is not all dead.
func (st *static) lowestAlivePos(g int) (int32, int) {
	t := st.tree[g]
	n := len(t) / 2
	if t[1] == dead {
		return dead, -1
	}
	k := 1
	for k < n {
		if t[2*k] != dead {
			k = 2 * k
		} else {
			k = 2*k + 1
		}
	}
	return t[k], k - n
}

func (st *static) best(e *engine) (int, Score) {
	best := Score{Inf: notEligible}
	for g := range st.order {
		if p := st.first(e, g); p >= 0 {
			if s := st.total(e, g, st.order[g][p]); best.Less(s) {
				best = s
			}
		}
	}
	if best.Inf == notEligible {
		return -1, best
	}
	thr := threshold(best.Log)
	win, winScore := -1, best
	for g, o := range st.order {
		// The entries below the tie range are a suffix of the order: the
		// balancing term is the same for the whole row and adding it is
		// monotone. Entries before the tied ones score above best, so
		// they are dead and the tree ignores them.
		p := sort.Search(len(o), func(k int) bool {
			s := st.total(e, g, o[k])
			return s.Inf < best.Inf || s.Inf == best.Inf && s.Log < thr
		})
		for {
			i, pos := st.lowest(g, p)
			if pos < 0 {
				break
			}
			if !e.eligible(int(i)) {
				st.kill(g, pos)
				continue
			}
			if win < 0 || int(i) < win {
				win, winScore = int(i), st.total(e, g, i)
			}
			break
		}
	}
	return win, winScore
}
