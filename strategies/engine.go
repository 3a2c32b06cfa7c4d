package strategies

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Problem is one greedy selection (spec §2). Rows 0..Rows-1 all carry data
// (vectors, weights, count rows). Rows 0..Candidates-1 are the candidates,
// in dataset order: they are the pickable rows and "lowest index" in tie
// breaking refers to them. Rows Candidates..Rows-1 exist only so that
// preselected samples outside the candidate list can count.
type Problem struct {
	Rows        int
	Candidates  int
	Preselected []int // rows already in S, in order (the front of S); no repeats
	// Picks is the number n of new picks, >= 1. When fewer eligible
	// candidates remain, Select returns fewer picks: the caller compares
	// len(Result.Picks) with Picks to warn.
	Picks      int
	Strategies []Strategy
	// Rules are eligibility rules (spec §10) that hold besides the
	// strategies' own (deduplication, balancing's unlabeled candidates).
	Rules []Rule
	// Workers bounds the goroutines used; 0 means runtime.GOMAXPROCS.
	// Results never depend on it.
	Workers int
	// Progress, when set, is called after every pick with the number of
	// picks made and Picks, from the goroutine that called Select.
	Progress func(done, total int)
	// Straightforward disables the fast paths: every pick measures every
	// candidate's distance to the new sample and scans all scores. The
	// picks are identical; it exists to verify that and to measure the
	// speed-up.
	Straightforward bool
}

// Pick is one new sample.
type Pick struct {
	Row int // candidate index
	// Rank is the pick's position in S, counting from 0 and including the
	// preselected samples: the first new pick has Rank len(Preselected).
	Rank int
	// Score is the combined score the pick won with.
	Score Score
	// Objectives[s] is strategy s's objective(Row | S) at the moment of the
	// pick (diversity: the distance to S, or 1 while S was empty).
	Objectives []float64
}

// Result is the outcome of Select.
type Result struct {
	Picks []Pick // the new picks only, in pick order
	// Distances is the number of vector distances the diversity
	// strategies computed (preselection included; object-level diversity
	// counts its object distances): a measure of the work the fast path
	// saved against Candidates per sample added to S.
	Distances int64
	// Unlabeled is the number of candidates, preselected ones not
	// counted, that a balancing strategy made ineligible because their
	// count row is all zero (spec §7); the caller warns when it is > 0.
	Unlabeled int
}

// options switch the engine's paths; tests use them to compare the fast
// paths with the straightforward one.
type options struct {
	naive bool // straightforward diversity update and full scan every pick
	scan  bool // fast diversity update but a full scan for the argmax
	// stream forces the fast diversity update to walk the candidates in
	// row order (1) or group by group (-1); 0 chooses per update.
	stream int
	// eager applies every new center at once (no deferred batches).
	eager bool
	// park is the number of entries a heap keeps when it parks the rest
	// (park.go); 0 means parkTarget. Tests set it small, so that their
	// heaps park.
	park int
}

// Select runs the greedy selection of spec §2–§8. It honours ctx between
// picks and returns ctx's error when cancelled.
//
// Each pick normally takes the arg-max from lazy max-heaps: diversity
// objectives with strength >= 0 only shrink and weights are constant, so a
// cached score bounds the current one from above and only heap tops are
// re-evaluated. Balancing depends on a candidate only through its count
// row, so there is one heap per distinct count row and the balancing term
// is added per heap. Where that bound does not hold (a negative diversity
// strength, several balancing strategies, strategies of other types, many
// distinct count rows, no diversity term) the engine scans every candidate;
// both paths return identical picks.
func Select(ctx context.Context, p Problem) (*Result, error) {
	return selectWith(ctx, p, options{naive: p.Straightforward})
}

type divRef struct {
	s  *divState
	at int // strategy index
}

type subRef struct {
	s        *subState
	strength float64
}

type engine struct {
	p       Problem
	opt     options
	workers int
	states  []State
	konst   []Score // summed weight terms per candidate, nil without weights
	divs    []divRef
	subs    []subRef
	bal     *balState
	balS    float64
	generic []int       // indices of strategies handled through State only
	rules   []RuleState // cheap rules, asked before any score
	costly  []RuleState // costly rules, asked only about would-be winners
	inS     bitset      // candidates in S
	empty   bool

	heaps  *heaps
	static *static
}

func selectWith(ctx context.Context, p Problem, opt options) (*Result, error) {
	if p.Picks < 1 {
		return nil, fmt.Errorf("select: n = %d new picks, must be at least 1", p.Picks)
	}
	if p.Candidates < 0 || p.Rows < p.Candidates {
		return nil, fmt.Errorf("select: %d candidates among %d rows", p.Candidates, p.Rows)
	}
	if len(p.Strategies) == 0 {
		return nil, errors.New("select: no strategy")
	}
	e := &engine{p: p, opt: opt, workers: workerCount(p.Workers), inS: newBitset(p.Candidates), empty: true}
	seen := make(map[int]bool, len(p.Preselected))
	for _, r := range p.Preselected {
		if r < 0 || r >= p.Rows {
			return nil, fmt.Errorf("select: preselected row %d outside 0..%d", r, p.Rows-1)
		}
		if seen[r] {
			return nil, fmt.Errorf("select: preselected row %d listed twice", r)
		}
		seen[r] = true
	}
	var weights []int
	nbal := 0
	for k, st := range p.Strategies {
		if st == nil {
			return nil, fmt.Errorf("select: strategy %d is nil", k)
		}
		if err := checkStrength(st.Strength()); err != nil {
			return nil, fmt.Errorf("select: strategy %d: %w", k, err)
		}
		s, err := st.Start(p.Rows, p.Candidates)
		if err != nil {
			return nil, fmt.Errorf("select: strategy %d: %w", k, err)
		}
		e.states = append(e.states, s)
		switch s := s.(type) {
		case *divState:
			e.initDiv(ctx, s)
			e.divs = append(e.divs, divRef{s, k})
		case *subState:
			e.initDiv(ctx, s.div)
			e.subs = append(e.subs, subRef{s, st.Strength()})
		case wState:
			weights = append(weights, k)
		case *balState:
			nbal++
			if nbal == 1 {
				e.bal, e.balS = s, st.Strength()
				continue
			}
			e.generic = append(e.generic, k)
		default:
			e.generic = append(e.generic, k)
		}
	}
	for k, r := range p.Rules {
		if r == nil {
			return nil, fmt.Errorf("select: rule %d is nil", k)
		}
		s, err := r.Start(p.Rows, p.Candidates)
		if err != nil {
			return nil, fmt.Errorf("select: rule %d: %w", k, err)
		}
		if nr, ok := s.(naiveRule); ok {
			nr.setNaive(opt.naive)
		}
		if _, ok := s.(costlyRule); ok {
			e.costly = append(e.costly, s)
		} else {
			e.rules = append(e.rules, s)
		}
	}
	if len(e.divs) < len(p.Strategies) {
		// Other strategies keep per-candidate state too: the diversity
		// strategies' copies of center rows get a smaller share.
		for _, d := range e.divs {
			d.s.cfBudget = sharedCenterBudget
		}
	}
	if len(weights) > 0 {
		e.konst = make([]Score, p.Candidates)
		const size = 4096
		parallel(e.workers, chunks(p.Candidates, size), func(t int) {
			for i := t * size; i < min((t+1)*size, p.Candidates); i++ {
				for _, k := range weights {
					e.konst[i].addObjective(p.Strategies[k].Strength(), e.states[k].Objective(i))
				}
			}
		})
	}
	for _, r := range p.Preselected {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.add(r)
	}
	res := &Result{Unlabeled: e.unlabeled()}
	for len(res.Picks) < p.Picks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var w int
		var sc Score
		if !e.empty && e.heaps == nil && e.lazyOK() {
			e.buildHeaps() // may decide that scanning is cheaper
		}
		if e.static == nil && e.staticOK() {
			e.buildStatic() // may decide that scanning is cheaper
		}
		switch {
		case e.heaps != nil && e.lazyOK():
			w, sc = e.heaps.best(e)
		case e.static != nil && e.staticOK():
			w, sc = e.static.best(e)
		default:
			w, sc = e.scan()
		}
		if w < 0 {
			break
		}
		pk := Pick{Row: w, Rank: len(p.Preselected) + len(res.Picks), Score: sc, Objectives: make([]float64, len(e.states))}
		for k, s := range e.states {
			pk.Objectives[k] = s.Objective(w)
		}
		res.Picks = append(res.Picks, pk)
		e.add(w)
		if p.Progress != nil {
			p.Progress(len(res.Picks), p.Picks)
		}
	}
	for _, d := range e.divs {
		res.Distances += d.s.distances()
	}
	for _, d := range e.subs {
		res.Distances += d.s.div.distances()
	}
	return res, nil
}

// initDiv sets up a diversity state (of a Diversity or of the objects of
// a SubpartDiversity) for the engine's paths.
func (e *engine) initDiv(ctx context.Context, s *divState) {
	s.workers, s.naive, s.stream, s.ctx = e.workers, e.opt.naive, e.opt.stream, ctx
	if !e.opt.naive && !e.opt.eager {
		s.def = &deferred{done: make([]uint8, s.cand)}
	}
}

func (e *engine) add(row int) {
	for _, s := range e.states {
		s.Add(row)
	}
	for _, r := range e.rules {
		r.Add(row)
	}
	for _, r := range e.costly {
		r.Add(row)
	}
	if row < e.p.Candidates {
		e.inS.add(row)
	}
	e.empty = false
}

// lazyOK reports whether the heaps apply: cached scores bound current ones
// from above, and some diversity term keeps scores apart. Without one
// (weights and balancing only) whole heaps can be exactly tied, and popping
// every tied entry each pick would cost more than a scan.
func (e *engine) lazyOK() bool {
	if e.opt.naive || e.opt.scan || len(e.generic) > 0 {
		return false
	}
	varying := false
	for _, d := range e.divs {
		if d.s.d.strength < 0 {
			return false
		}
		varying = varying || d.s.d.strength > 0
	}
	for _, d := range e.subs {
		// While no object is selected the objective is 1 and then
		// jumps to a distance, which may be larger: no bound yet.
		if d.strength < 0 || d.strength > 0 && d.s.empty {
			return false
		}
		varying = varying || d.strength > 0
	}
	return varying
}

// base is the score of candidate i without balancing and generic terms:
// weights, then diversity strategies in order. Together with total it is
// the one formula both paths use, so they see bit-identical scores.
func (e *engine) base(i int) Score {
	var s Score
	if e.konst != nil {
		s = e.konst[i]
	}
	for _, d := range e.divs {
		if !d.s.empty {
			s.addLog(d.s.d.strength, math.Log(d.s.current(i)))
		}
	}
	for _, d := range e.subs {
		if d.strength != 0 {
			s.addObjective(d.strength, d.s.Objective(i))
		}
	}
	return s
}

// withBalance adds the balancing term for count row x.
func (e *engine) withBalance(s Score, x []float64) Score {
	s.addLog(e.balS, -e.bal.imbalance(x))
	return s
}

// total is candidate i's full score.
func (e *engine) total(i int) Score {
	s := e.base(i)
	if e.bal != nil {
		s = e.withBalance(s, e.bal.b.row(i))
	}
	for _, k := range e.generic {
		s.addObjective(e.p.Strategies[k].Strength(), e.states[k].Objective(i))
	}
	return s
}

// eligible reports whether candidate i may be picked.
func (e *engine) eligible(i int) bool {
	return e.cheapEligible(i) && e.costlyEligible(i)
}

// cheapEligible asks everything but the costly rules: selected, the
// cheap rules, balancing's unlabeled candidates, deduplication and the
// strategies' own rules.
func (e *engine) cheapEligible(i int) bool {
	if e.inS.has(i) {
		return false
	}
	for _, r := range e.rules {
		if !r.Eligible(i) {
			return false
		}
	}
	if e.bal != nil && !e.bal.Eligible(i) {
		return false
	}
	for _, d := range e.divs {
		if !d.s.Eligible(i) {
			return false
		}
	}
	for _, k := range e.generic {
		if !e.states[k].Eligible(i) {
			return false
		}
	}
	return true
}

// costlyEligible asks the costly rules; callers ask it last, and only
// about a candidate that passed cheapEligible and would win otherwise.
func (e *engine) costlyEligible(i int) bool {
	for _, r := range e.costly {
		if !r.Eligible(i) {
			return false
		}
	}
	return true
}

// unlabeled counts the candidates outside S that a balancing strategy
// makes ineligible (spec §7).
func (e *engine) unlabeled() int {
	var bals []*balState
	for _, s := range e.states {
		if b, ok := s.(*balState); ok && b.excludes() {
			bals = append(bals, b)
		}
	}
	if len(bals) == 0 {
		return 0
	}
	n := 0
	for i := 0; i < e.p.Candidates; i++ {
		if e.inS.has(i) {
			continue
		}
		for _, b := range bals {
			if !b.Eligible(i) {
				n++
				break
			}
		}
	}
	return n
}

// notEligible marks a skipped candidate in the scan scratch.
const notEligible = math.MinInt

// scan scores every candidate and returns the winner (lowest index among
// the tied best) or -1. It keeps no per-candidate scratch: the chunk that
// holds the lowest tied index is the first chunk whose own best is tied, and
// only that chunk is scored again.
func (e *engine) scan() (int, Score) {
	n := e.p.Candidates
	const size = 4096
	nt := chunks(n, size)
	bests := make([]Score, nt)
	parallel(e.workers, nt, func(t int) {
		b := Score{Inf: notEligible}
		for i := t * size; i < min((t+1)*size, n); i++ {
			if e.cheapEligible(i) {
				// The costly rules only for a candidate that would
				// raise the chunk's best: the rest cannot change it.
				if s := e.total(i); b.Less(s) && e.costlyEligible(i) {
					b = s
				}
			}
		}
		bests[t] = b
	})
	best := Score{Inf: notEligible}
	for _, b := range bests {
		if best.Less(b) {
			best = b
		}
	}
	if best.Inf == notEligible {
		return -1, best
	}
	thr := threshold(best.Log)
	for t, b := range bests {
		if !tied(b, best, thr) {
			continue
		}
		for i := t * size; i < min((t+1)*size, n); i++ {
			if e.cheapEligible(i) {
				if s := e.total(i); tied(s, best, thr) && e.costlyEligible(i) {
					return i, s
				}
			}
		}
	}
	panic("strategies: best score lost") // unreachable: best came from a chunk
}

// bitset is a set of candidates, a bit each: the engine's state is
// counted in bytes a candidate (a []bool took one). It is written only
// between picks, so parallel readers need no synchronisation.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

func (b bitset) add(i int) { b[i>>6] |= 1 << (uint(i) & 63) }
