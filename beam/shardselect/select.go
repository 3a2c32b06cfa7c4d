package shardselect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/winnow-data/winnow/strategies"
)

// Kind is the type of a strategy in a Config.
type Kind int

// The strategy kinds, each built with the strategies constructor of the same
// name. Similarity, typicality and outliers are Weights whose values the
// caller computed over all candidates.
const (
	Diversity     Kind = iota + 1 // strategies.NewDiversity over Rows.Vectors[Input]
	Deduplication                 // strategies.NewDeduplication over Rows.Vectors[Input]
	Weights                       // strategies.NewWeights over Rows.Weights[Input]
	Balance                       // strategies.NewBalance over Rows.Counts[Input]
)

func (k Kind) String() string {
	switch k {
	case Diversity:
		return "diversity"
	case Deduplication:
		return "deduplication"
	case Weights:
		return "weights"
	case Balance:
		return "balance"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Spec is one strategy of a Config.
type Spec struct {
	Kind  Kind
	Input int // position of the strategy's input in Rows.Vectors, Weights or Counts
	// Strength is the exponent of spec §2, used as given: a Spec has no
	// default, so the caller writes 1 for the usual strength.
	Strength    float64
	MinDistance float64 // Deduplication: the minimum distance to S
	// Target is a Balance strategy's resolved target over the count
	// columns (strategies.ResolveTarget over all candidates), normalised
	// by the engine.
	Target []float64
	// MeanRowSum is a Balance strategy's mean count-row sum over all
	// candidates (annotations per sample), used to size the shards' class
	// top-ups; 0 means 1.
	MeanRowSum float64
}

// DefaultOversample is the default ratio of local candidates to picks
// (k' = 2n). On the clustered and MNIST data of cmd/coreset-quality k' = n
// already kept the distributed coverage radius within 1.09 of the single
// machine's at 8 and 32 shards; 2n is a margin (it lowered the worst
// ratios of n = 1000 on 8 shards and the certified ratio) that doubles the
// merge's input, and gives the balancing top-ups room.
const DefaultOversample = 2

// Config is one shard-composable selection.
type Config struct {
	Specs []Spec
	// Picks is the number n of new picks, >= 1.
	Picks int
	// Oversample sets the shards' local candidates to k' = ceil(Oversample·n)
	// (>= n, so >= 1); 0 means DefaultOversample. Weights-only
	// configurations always keep exactly n: more cannot change the result.
	Oversample float64
	// Workers bounds each engine run's goroutines; 0 means GOMAXPROCS.
	Workers int
}

func (cfg *Config) check() error {
	if cfg.Picks < 1 {
		return fmt.Errorf("select: n = %d new picks, must be at least 1", cfg.Picks)
	}
	if len(cfg.Specs) == 0 {
		return errors.New("select: no strategy")
	}
	if o := cfg.Oversample; o != 0 && (math.IsNaN(o) || math.IsInf(o, 0) || o < 1) {
		return fmt.Errorf("select: oversample %v must be finite and >= 1", o)
	}
	for k, s := range cfg.Specs {
		if s.Kind < Diversity || s.Kind > Balance {
			return fmt.Errorf("select: strategy %d has unknown kind %d", k, int(s.Kind))
		}
		if s.Input < 0 {
			return fmt.Errorf("select: strategy %d (%v) has input %d", k, s.Kind, s.Input)
		}
		if m := s.MeanRowSum; math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
			return fmt.Errorf("select: strategy %d (%v): mean row sum %v must be finite and >= 0", k, s.Kind, m)
		}
	}
	return nil
}

// weightsOnly reports whether every strategy is a constant weight, so the
// union of the shards' top n holds the global top n.
func (cfg *Config) weightsOnly() bool {
	for _, s := range cfg.Specs {
		if s.Kind != Weights {
			return false
		}
	}
	return true
}

// kCenter reports whether the configuration is plain greedy k-center (one
// diversity strategy with a positive strength), for which picks'
// objectives are distances to S and Bound applies.
func (cfg *Config) kCenter() bool {
	return len(cfg.Specs) == 1 && cfg.Specs[0].Kind == Diversity && cfg.Specs[0].Strength > 0
}

// emptyBound is the Bound of a merge that has yet to see a shard: a new
// one for plain k-center configurations, else nil.
func (cfg *Config) emptyBound() *Bound {
	if cfg.kCenter() {
		return &Bound{}
	}
	return nil
}

// localSpecs are the strategies a shard runs. Deduplication alone runs as
// plain diversity: deduplication's greedy is diversity's greedy stopped
// once the farthest candidate is nearer than the minimum distance (the
// farthest candidate is eligible whenever any is), so the k' diversity
// picks extend the shard's deduplicated picks, and the merge, which
// applies the rule to the whole union, gets candidates that a shard would
// have dropped as near-duplicates of its own picks, where no global pick
// may be near them.
func (cfg *Config) localSpecs() []Spec {
	if len(cfg.Specs) == 1 && cfg.Specs[0].Kind == Deduplication && cfg.Specs[0].Strength > 0 {
		s := cfg.Specs[0]
		s.Kind = Diversity
		return []Spec{s}
	}
	return cfg.Specs
}

// localPicks is k', the number of candidates a shard keeps before top-ups.
func (cfg *Config) localPicks() int {
	if cfg.weightsOnly() {
		return cfg.Picks
	}
	o := cfg.Oversample
	if o == 0 {
		o = DefaultOversample
	}
	return max(cfg.Picks, int(math.Ceil(o*float64(cfg.Picks))))
}

// Candidates is what one shard contributes to the merge.
type Candidates struct {
	Rows Rows // the shard's local candidates with their data, in key order
	// Radius is, for a plain k-center configuration, the coreset's
	// covering radius: the largest distance from any candidate of the
	// shard to Rows or the preselected samples (0 when the shard kept all
	// its rows). It is NaN for other configurations.
	Radius float64
}

// Pick is one new sample of a merged selection.
type Pick struct {
	Index      int // global key of the picked row
	Rank       int // position in S, counting the preselected samples
	Score      strategies.Score
	Objectives []float64 // per Spec, at the moment of the pick
}

// Result is a merged selection.
type Result struct {
	Picks      []Pick
	Candidates int    // rows in the union the merge selected from
	Bound      *Bound // plain k-center configurations only, else nil
}

// Bound is the a-posteriori quality certificate of a distributed greedy
// k-center selection. With the picks S (and preselected samples P):
//
//	radius(all candidates, S ∪ P) <= Local + Union
//	OPT >= Union / 2
//
// where OPT is the optimal radius of n new centers added to P. The first
// holds because every candidate is within Local of its shard's coreset and
// every coreset row within Union of S ∪ P; the second because the n picks
// and the union's farthest row are pairwise at least Union apart and at
// least Union from P (greedy's invariant), so an optimal solution covers
// two of them with one center or one with a row of P.
type Bound struct {
	Local float64 // the largest coreset covering radius over the shards
	Union float64 // the picks' covering radius of the union
}

// Ratio returns the certified upper bound on radius/OPT: the better of
// the a-posteriori 2 + 2·Local/Union and the a-priori 4 (Local <= 2·OPT
// and Union <= 2·OPT, since greedy's n picks and next row lie in the data
// and are pairwise Local or Union apart). It is 1 when Local and Union are
// both 0: every candidate was picked or preselected.
func (b Bound) Ratio() float64 {
	if b.Union == 0 {
		if b.Local == 0 {
			return 1
		}
		return 4
	}
	return math.Min(4, 2+2*b.Local/b.Union)
}

// Radius returns the certified upper bound on the selection's covering
// radius over all candidates, Local + Union.
func (b Bound) Radius() float64 { return b.Local + b.Union }

// Local picks one shard's candidates: the engine over the shard's rows with
// the whole configuration for k' picks, then the balancing top-ups (see the
// package documentation). pre holds the preselected samples with the same
// inputs; they count on every shard.
func Local(ctx context.Context, cfg Config, shard, pre Rows) (*Candidates, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := shard.check(&cfg, "shard"); err != nil {
		return nil, err
	}
	if pre.Len() == 0 {
		pre = emptyLike(shard) // no preselection: the zero Rows will do
	}
	if err := pre.check(&cfg, "preselected"); err != nil {
		return nil, err
	}
	if err := sameInputs(&shard, &pre, "preselected"); err != nil {
		return nil, err
	}
	cands := withoutKeys(shard, pre.Index)
	out := &Candidates{Radius: math.NaN()}
	if cands.Len() == 0 {
		out.Rows = cands
		if cfg.kCenter() {
			out.Radius = 0
		}
		return out, nil
	}
	k := cfg.localPicks()
	want := k
	if cfg.kCenter() {
		want++ // the (k'+1)-th objective is the coreset's radius
	}
	all := make([]int, cands.Len())
	for i := range all {
		all[i] = i
	}
	picks, err := run(ctx, cfg.localSpecs(), cfg.Workers, &cands, all, []*Rows{&pre}, want)
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	if cfg.kCenter() {
		out.Radius = 0
		if len(picks) == want {
			out.Radius = picks[k].Objectives[0]
			picks = picks[:k]
		}
	}
	chosen := make([]bool, cands.Len())
	for _, p := range picks {
		chosen[p.Row] = true
	}
	if err := topUp(ctx, &cfg, &cands, &pre, chosen); err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	var pos []int
	for i, c := range chosen {
		if c {
			pos = append(pos, i)
		}
	}
	out.Rows = cands.subset(pos)
	return out, nil
}

// topUp adds, for every class of every balancing target, rows holding that
// class until the chosen rows hold need_c of them or the shard has none
// left. Classes go in spec then column order, so the result is
// deterministic.
func topUp(ctx context.Context, cfg *Config, cands, pre *Rows, chosen []bool) error {
	for _, s := range cfg.Specs {
		if s.Kind != Balance || s.Strength == 0 {
			continue
		}
		sum := 0.0
		for _, t := range s.Target {
			sum += t
		}
		if sum <= 0 {
			continue // NewBalance reports it when the engine runs
		}
		meanRow := s.MeanRowSum
		if meanRow == 0 {
			meanRow = 1
		}
		o := cfg.Oversample
		if o == 0 {
			o = DefaultOversample
		}
		counts := cands.Counts[s.Input]
		for c, t := range s.Target {
			if t <= 0 {
				continue
			}
			need := int(math.Ceil(o * t / sum * float64(cfg.Picks+pre.Len()) * meanRow))
			have := 0
			var avail []int
			for i := 0; i < cands.Len(); i++ {
				if counts.Data[i*counts.Classes+c] <= 0 {
					continue
				}
				if chosen[i] {
					have++
				} else {
					avail = append(avail, i)
				}
			}
			if have >= need || len(avail) == 0 {
				continue
			}
			var sel []int
			for i, ch := range chosen {
				if ch {
					sel = append(sel, i)
				}
			}
			in := cands.subset(sel)
			picks, err := run(ctx, cfg.Specs, cfg.Workers, cands, avail, []*Rows{pre, &in}, need-have)
			if err != nil {
				return fmt.Errorf("top-up of class %d: %w", c, err)
			}
			for _, p := range picks {
				chosen[avail[p.Row]] = true
			}
		}
	}
	return nil
}

// Merge selects n new samples from the union of the shards' candidates,
// running the engine with the whole configuration on the union in key
// order. The order of parts does not matter; a key in two parts is an
// error. A caller that gathered the union into one part (keys increasing,
// Radius the largest of the shards') passes that: it is used in place.
func Merge(ctx context.Context, cfg Config, parts []Candidates, pre Rows) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if pre.Len() == 0 {
		if len(parts) == 0 {
			return &Result{Bound: cfg.emptyBound()}, nil
		}
		pre = emptyLike(parts[0].Rows) // no preselection: the zero Rows will do
	}
	if err := pre.check(&cfg, "preselected"); err != nil {
		return nil, err
	}
	rows := make([]Rows, len(parts))
	for p := range parts {
		if err := parts[p].Rows.check(&cfg, fmt.Sprintf("shard %d", p)); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if err := sameInputs(&pre, &parts[p].Rows, fmt.Sprintf("merge: shard %d", p)); err != nil {
			return nil, err
		}
		rows[p] = parts[p].Rows
	}
	union, err := concat(rows)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		union = emptyLike(pre)
	}
	union = withoutKeys(union, pre.Index)
	res := &Result{Candidates: union.Len(), Bound: cfg.emptyBound()}
	if res.Bound != nil {
		for p := range parts {
			r := parts[p].Radius
			if math.IsNaN(r) {
				return nil, fmt.Errorf("merge: shard %d has no coreset radius", p)
			}
			res.Bound.Local = math.Max(res.Bound.Local, r)
		}
	}
	if union.Len() == 0 {
		return res, nil
	}
	want := cfg.Picks
	if cfg.kCenter() {
		want++
	}
	all := make([]int, union.Len())
	for i := range all {
		all[i] = i
	}
	picks, err := run(ctx, cfg.Specs, cfg.Workers, &union, all, []*Rows{&pre}, want)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if cfg.kCenter() && len(picks) == want {
		res.Bound.Union = picks[cfg.Picks].Objectives[0]
		picks = picks[:cfg.Picks]
	}
	for _, p := range picks {
		res.Picks = append(res.Picks, Pick{Index: union.Index[p.Row], Rank: p.Rank, Score: p.Score, Objectives: p.Objectives})
	}
	return res, nil
}

// run builds the engine problem whose candidates are rows cand (increasing
// positions) of c and whose preselected samples are all rows of extra, and
// selects picks new rows with the strategies of specs; a Pick's Row is a
// position in cand.
func run(ctx context.Context, specs []Spec, workers int, c *Rows, cand []int, extra []*Rows, picks int) ([]strategies.Pick, error) {
	sub := *c
	if len(cand) != c.Len() {
		sub = c.subset(cand) // cand is increasing: all of c when as long
	}
	parts := append([]*Rows{&sub}, extra...)
	rows := 0
	for _, p := range parts {
		rows += p.Len()
	}
	var sts []strategies.Strategy
	for k, s := range specs {
		var st strategies.Strategy
		var err error
		switch s.Kind {
		case Diversity, Deduplication:
			// One part (no preselected or already chosen rows) is used in
			// place: on a shard it is the shard's whole matrix, and a copy
			// would double the shard's memory.
			v := sub.Vectors[s.Input].Data
			if rows > sub.Len() {
				v = nil
				for _, p := range parts {
					v = append(v, p.Vectors[s.Input].Data...)
				}
			}
			dim := c.Vectors[s.Input].Dim
			if s.Kind == Diversity {
				st, err = strategies.NewDiversity(strategies.Vectors{Dim: dim, F32: v}, s.Strength)
			} else {
				st, err = strategies.NewDeduplication(strategies.Vectors{Dim: dim, F32: v}, s.MinDistance, s.Strength)
			}
		case Weights:
			var w []float64
			for _, p := range parts {
				w = append(w, p.Weights[s.Input]...)
			}
			st, err = strategies.NewWeights(w, s.Strength)
		case Balance:
			var x []float64
			for _, p := range parts {
				x = append(x, p.Counts[s.Input].Data...)
			}
			st, err = strategies.NewBalance(x, c.Counts[s.Input].Classes, s.Target, s.Strength)
		}
		if err != nil {
			return nil, fmt.Errorf("strategy %d (%v): %w", k, s.Kind, err)
		}
		sts = append(sts, st)
	}
	pre := make([]int, 0, rows-sub.Len())
	for r := sub.Len(); r < rows; r++ {
		pre = append(pre, r)
	}
	res, err := strategies.Select(ctx, strategies.Problem{
		Rows: rows, Candidates: sub.Len(), Preselected: pre, Picks: picks,
		Strategies: sts, Workers: workers,
	})
	if err != nil {
		return nil, err
	}
	return res.Picks, nil
}

// withoutKeys returns r without the rows whose key is in keys (sorted).
func withoutKeys(r Rows, keys []int) Rows {
	if len(keys) == 0 {
		return r
	}
	pos := make([]int, 0, r.Len())
	for i, k := range r.Index {
		if _, found := slices.BinarySearch(keys, k); !found {
			pos = append(pos, i)
		}
	}
	if len(pos) == r.Len() {
		return r
	}
	return r.subset(pos)
}

// emptyLike returns zero rows with the inputs of r.
func emptyLike(r Rows) Rows { return r.subset(nil) }
