package pipeline

// Shard-composable selection: a selection over more rows than one machine
// (or one worker) should hold runs as local selections over shards of the
// dataset's rows and one merge over the union of their candidates. This
// file is the plain-Go part of that design; winnow/beam runs it in Beam
// DoFns. Every step resolves rows through the same code as a
// single-machine selection (planRows): embeddings, annotations,
// metadata, the query's candidates, preselected tags, rules.
//
// What the merge guarantees, for a selection with picks n:
//
//   - One shard: the shard's run is the single-machine run asked for
//     k' >= n picks, whose first n are the single-machine picks (greedy
//     picks do not depend on how many more follow), and the merge runs
//     the same engine on a subset holding them, so it returns them again
//     (for similarity see below).
//   - Weights alone (metadata weighting and similarity, no rules, no
//     groups): each shard keeps its top n; the union holds the global top
//     n, so the merge returns exactly the single-machine picks.
//     Similarity's weights exp(−d/μ) are normalised by the mean distance
//     μ over all candidates when GlobalStrategies set it (Similarity.Mean),
//     so every run weighs a row as the single machine does; without it
//     each run uses its own rows' μ (the merge's is the union's), a
//     monotone change that keeps the picks and ranks of similarity alone
//     but not the scores, and makes it inexact combined with others.
//   - Diversity alone: local greedy k-center coresets of k' >= n rows and
//     greedy on their union, the two-round algorithm of Malkomes et al.
//     (NeurIPS 2015), a 4-approximation of the optimal radius; ShardBound
//     gives the a-posteriori certificate of Ceccarello, Pietracaprina and
//     Pucci (VLDB 2019).
//   - Balancing: targets are resolved once over all candidates
//     (GlobalStrategies) and passed to shards and merge as explicit ratios, so
//     every run steers toward the same global target; each shard tops up
//     every class to ceil(o·t_c·(n+|pre|)·ā) rows where it has them.
//   - Everything else (similarity without a global μ combined with others, deduplication,
//     quotas, exclude_near): shards and merge run the same configuration,
//     and the merge enforces every rule over the union exactly as the
//     single machine would on that union. Not exact; the loss is measured
//     in winnow/beam.
//
// Not supported: group selection (Options.Groups), and typicality and
// outliers as given (their weights need neighbours across shards; the
// caller computes them first and passes them as RowWeights).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/winnow-data/winnow/strategies"
)

// Shard is the dataset rows [First, End) of a shard-composable selection.
type Shard struct {
	First, End int
}

// SplitRows cuts rows 0..rows-1 into at most shards contiguous shards of
// near-equal size, in order; shards < 1 means one.
func SplitRows(rows, shards int) []Shard {
	shards = max(1, min(shards, rows))
	out := make([]Shard, 0, shards)
	for k := 0; k < shards; k++ {
		out = append(out, Shard{First: k * rows / shards, End: (k + 1) * rows / shards})
	}
	return out
}

// DefaultOversample is the default ratio k'/n of a shard's local
// candidates to the picks (winnow/beam measured k' = n already within 1.09
// of the single machine's coverage radius; 2n is the margin).
const DefaultOversample = 2

// ShardConfig is one shard-composable selection of Picks new samples.
type ShardConfig struct {
	Picks      int
	Strategies []Strategy
	// Oversample sets a shard's local candidates to k' = ceil(Oversample·n)
	// (>= 1); 0 means DefaultOversample. Weights alone always keep n.
	Oversample float64
}

func (c *ShardConfig) check(o *Options) error {
	if c.Picks < 1 {
		return fmt.Errorf("n must be at least 1, got %d", c.Picks)
	}
	if len(c.Strategies) == 0 {
		return errors.New("no strategy given")
	}
	if x := c.Oversample; x != 0 && (math.IsNaN(x) || math.IsInf(x, 0) || x < 1) {
		return fmt.Errorf("oversample %v must be finite and at least 1", x)
	}
	if o.Groups != nil {
		return errors.New("group selection is not shard-composable")
	}
	for _, s := range c.Strategies {
		switch s.(type) {
		case Typicality, Outliers:
			return fmt.Errorf("strategy %s needs neighbours across shards: compute its weights first and pass them as RowWeights", s.Name())
		}
	}
	return o.checkRules()
}

func (c *ShardConfig) oversample() float64 {
	if c.Oversample == 0 {
		return DefaultOversample
	}
	return c.Oversample
}

// weightsOnly reports whether every strategy is a fixed weight per row
// (up to a monotone normalisation) and no rule couples the picks, so the
// union of the shards' top n holds the global top n.
func (c *ShardConfig) weightsOnly(o *Options) bool {
	if len(o.MaxPerGroup) > 0 || o.ExcludeNear != nil || o.Groups != nil {
		return false
	}
	for _, s := range c.Strategies {
		switch x := s.(type) {
		case MetadataWeighting, RowWeights:
		case Similarity:
			if len(c.Strategies) > 1 && x.Mean == nil {
				return false // a run's own μ scales it against the others
			}
		default:
			return false
		}
	}
	return true
}

// kCenter reports whether the configuration is plain greedy k-center: one
// diversity strategy of positive strength and no rules, so a pick's
// objective is its distance to the selection.
func (c *ShardConfig) kCenter(o *Options) bool {
	if len(c.Strategies) != 1 || len(o.MaxPerGroup) > 0 || o.ExcludeNear != nil {
		return false
	}
	d, ok := c.Strategies[0].(EmbeddingDiversity)
	return ok && d.strength() > 0
}

// localPicks is k'.
func (c *ShardConfig) localPicks(o *Options) int {
	if c.weightsOnly(o) {
		return c.Picks
	}
	return max(c.Picks, int(math.Ceil(c.oversample()*float64(c.Picks))))
}

// localStrategies are what a shard runs: deduplication alone runs as
// plain diversity, whose greedy extends deduplication's (the farthest
// candidate is eligible whenever any is), so the merge, which applies
// the minimum distance to the union, also gets rows a shard would have
// dropped as near-duplicates of its own picks.
func (c *ShardConfig) localStrategies() []Strategy {
	if len(c.Strategies) == 1 {
		if d, ok := c.Strategies[0].(Deduplication); ok && d.strength() > 0 {
			return []Strategy{EmbeddingDiversity{Model: d.Model, Strength: d.Strength}}
		}
	}
	return c.Strategies
}

// RowWeights is a weighting by values the caller computed for every
// dataset row (Weights[row]), such as typicality computed across shards
// before they select. It is not part of the request formats.
type RowWeights struct {
	// Kind names what the weights are ("typicality"), in reports.
	Kind     string
	Weights  []float64 // one value per dataset row
	Strength *float64
}

// Name is Kind, or "row_weights".
func (s RowWeights) Name() string {
	if s.Kind == "" {
		return "row_weights"
	}
	return s.Kind
}
func (s RowWeights) strength() float64    { return strengthOf(s.Strength) }
func (RowWeights) model() (string, bool)  { return "", false }
func (RowWeights) fields() map[string]any { return map[string]any{} }
func (s RowWeights) build(r *resolver, u *universe, _ string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	w := make([]float64, len(u.rows))
	for e, row := range u.rows {
		if row >= len(s.Weights) {
			return nil, fmt.Errorf("%s: %d weights, no value for row %d", s.Name(), len(s.Weights), row)
		}
		w[e] = s.Weights[row]
	}
	return r.weightsPart(w, strength, u, s.Name())
}

// GlobalStrategies returns list with every strategy whose objective
// depends on all the selection's candidates resolved over all of them
// (after the same dropping of candidates a selection does), so that
// shards and merge given the result weigh every row as the single
// machine does:
//
//   - a balancing strategy's "uniform" or "input" target becomes explicit
//     ratios over all of the dataset's classes, from the class counts of
//     all candidates (explicit ratios pass through unchanged);
//   - a similarity strategy gets its μ (Similarity.Mean): the mean
//     distance of all candidates to the query tag, which makes its
//     objective a fixed weight per row on every shard.
func (s *Selection) GlobalStrategies(ctx context.Context, list []Strategy) ([]Strategy, error) {
	var global []int
	for i, st := range list {
		switch x := st.(type) {
		case balancer:
			if x.target().Kind() != "ratios" {
				global = append(global, i)
			}
		case Similarity:
			if x.Mean == nil {
				global = append(global, i)
			}
		}
	}
	out := slices.Clone(list)
	if len(global) == 0 {
		return out, nil
	}
	r, u, models, err := s.resolvedCandidates(ctx, list)
	if err != nil {
		return nil, err
	}
	for _, i := range global {
		switch x := list[i].(type) {
		case balancer:
			bd, err := r.resolvedBalance(x, u)
			if err != nil {
				return nil, err
			}
			ratios := make(map[string]float64, len(bd.classes))
			for c, name := range bd.classes {
				ratios[name] = bd.target[c]
			}
			out[i] = x.withTarget(Ratios(ratios))
		case Similarity:
			d, err := x.distances(r, u, models[i])
			if err != nil {
				return nil, fmt.Errorf("strategy %s: %w", x.Name(), err)
			}
			mu := strategies.MeanDistance(d)
			x.Mean = &mu
			out[i] = x
		}
	}
	return out, nil
}

// resolvedCandidates returns the universe of the selection's candidates
// that a single-machine selection with list would select from (those
// kept by every model's and strategy's filter), with its resolver.
func (s *Selection) resolvedCandidates(ctx context.Context, list []Strategy) (*resolver, *universe, []string, error) {
	pre, err := s.preselected()
	if err != nil {
		return nil, nil, nil, err
	}
	r := s.newResolver(ctx)
	var res Result
	models, cands, err := r.models(list, s.candidates, pre, &res)
	if err != nil {
		return nil, nil, nil, err
	}
	if x := s.Options.ExcludeNear; x != nil {
		if _, cands, err = r.requireModel(x.Model, cands, pre, &res); err != nil {
			return nil, nil, nil, fmt.Errorf("exclude_near: %w", err)
		}
	}
	if cands, err = r.filter(list, cands, &res); err != nil {
		return nil, nil, nil, err
	}
	return r, newUniverse(cands, pre), models, nil
}

// Dataset returns the dataset the selection selects from.
func (s *Selection) Dataset() *Dataset { return s.ds }

// CandidateVectors returns the candidates a selection with list selects
// from that lie in shard sh, as dataset rows in order, with their vectors
// of model ("" for the dataset's only one) as float32, row-major: the
// input of a typicality stage computed across shards.
func (s *Selection) CandidateVectors(ctx context.Context, list []Strategy, model string, sh Shard) (rows []int, vec []float32, dim int, err error) {
	r, u, _, err := s.resolvedCandidates(ctx, list)
	if err != nil {
		return nil, nil, 0, err
	}
	name, err := r.modelName(model)
	if err != nil {
		return nil, nil, 0, err
	}
	m, err := r.matrix(name)
	if err != nil {
		return nil, nil, 0, err
	}
	// The vectors go out as float32 (a float16 matrix is widened, exactly,
	// row by row: the caller's kernels take float32).
	mv, buf := matrixVectors(m), make([]float32, m.Dim)
	for _, row := range u.rows[:u.candidates] {
		if row >= sh.First && row < sh.End && m.Present.Get(row) {
			rows = append(rows, row)
			vec = append(vec, mv.Row(row, buf)...)
		}
	}
	return rows, vec, m.Dim, nil
}

// ShardCandidates is what one shard contributes to the merge.
type ShardCandidates struct {
	Rows []int // dataset rows, increasing
	// Radius is, for plain diversity, the largest distance from a
	// candidate of the shard to Rows or the preselected samples: the
	// coreset's covering radius (0 when the shard kept all its rows). NaN
	// for other configurations.
	Radius float64
}

// SelectShard picks the local candidates of shard sh: the selection's
// candidates in [sh.First, sh.End), selected with the configuration for
// k' picks by the engine, as the single machine would select from them,
// then topped up for balancing. Preselected samples (Options.Preselected)
// count on every shard. Nothing is written.
func (s *Selection) SelectShard(ctx context.Context, sh Shard, cfg ShardConfig) (*ShardCandidates, error) {
	if err := cfg.check(&s.Options); err != nil {
		return nil, err
	}
	if sh.First < 0 || sh.End < sh.First || sh.End > s.ds.Len() {
		return nil, fmt.Errorf("shard rows [%d, %d) outside the dataset's %d rows", sh.First, sh.End, s.ds.Len())
	}
	lo, _ := slices.BinarySearch(s.candidates, sh.First)
	hi, _ := slices.BinarySearch(s.candidates, sh.End)
	cands := s.candidates[lo:hi]
	pre, err := s.preselected()
	if err != nil {
		return nil, err
	}
	out := &ShardCandidates{Radius: math.NaN()}
	kc := cfg.kCenter(&s.Options)
	if kc {
		out.Radius = 0
	}
	k := cfg.localPicks(&s.Options)
	want := k
	if kc {
		want++ // the (k'+1)-th pick's objective is the coreset's radius
	}
	r := s.newResolver(ctx)
	opts := s.Options
	opts.Progress = nil
	var res Result
	rn, err := s.planRows(r, want, cfg.localStrategies(), cands, pre, &res)
	if err != nil {
		return nil, err
	}
	if err := rn.run(ctx, opts, "shard"); err != nil {
		return nil, err
	}
	chosen := map[int]bool{}
	if rn.result != nil {
		picks := rn.result.Picks
		if kc && len(picks) == want {
			out.Radius = picks[k].Objectives[0]
			picks = picks[:k]
		}
		for _, p := range picks {
			chosen[rn.u.rows[p.Row]] = true
		}
	}
	if err := s.topUp(r, &cfg, rn.u, cands, pre, chosen); err != nil {
		return nil, err
	}
	for row := range chosen {
		out.Rows = append(out.Rows, row)
	}
	slices.Sort(out.Rows)
	return out, nil
}

// topUp adds, for every class c of every balancing strategy, rows of the
// shard holding c until the chosen rows hold need_c = ceil(o·t_c·(n +
// |pre|)·ā) of them (ā the shard's mean count-row sum over its labelled
// candidates, 1 for one label a sample) or none is left, each batch picked
// by the same engine with the chosen rows counted as preselected. Classes
// go in strategy then class order, so the result is deterministic.
func (s *Selection) topUp(r *resolver, cfg *ShardConfig, u *universe, cands, pre []int, chosen map[int]bool) error {
	for _, st := range cfg.Strategies {
		b, ok := st.(balancer)
		if !ok || st.strength() == 0 {
			continue
		}
		bd, err := r.resolvedBalance(b, u)
		if err != nil {
			return err
		}
		kk := len(bd.classes)
		sum, rowSum, labelled := 0.0, 0.0, 0
		for _, x := range bd.target {
			sum += x
		}
		for e := 0; e < u.candidates; e++ {
			rs := 0.0
			for c := 0; c < kk; c++ {
				rs += bd.counts[e*kk+c]
			}
			if rs > 0 {
				rowSum += rs
				labelled++
			}
		}
		mean := 1.0
		if labelled > 0 {
			mean = rowSum / float64(labelled)
		}
		for c, tc := range bd.target {
			if tc <= 0 || sum <= 0 {
				continue
			}
			need := int(math.Ceil(cfg.oversample() * tc / sum * float64(cfg.Picks+len(pre)) * mean))
			have := 0
			var avail []int
			for e := 0; e < u.candidates; e++ {
				if bd.counts[e*kk+c] <= 0 {
					continue
				}
				if chosen[u.rows[e]] {
					have++
				} else {
					avail = append(avail, u.rows[e])
				}
			}
			if have >= need || len(avail) == 0 {
				continue
			}
			counted := slices.Clone(pre)
			for row := range chosen {
				counted = append(counted, row)
			}
			slices.Sort(counted)
			counted = slices.Compact(counted)
			var res Result
			rn, err := s.planRows(r, need-have, cfg.Strategies, avail, counted, &res)
			if err != nil {
				return fmt.Errorf("top-up of class %q: %w", bd.classes[c], err)
			}
			if err := rn.run(r.ctx, s.Options, "shard"); err != nil {
				return fmt.Errorf("top-up of class %q: %w", bd.classes[c], err)
			}
			if rn.result != nil {
				for _, p := range rn.result.Picks {
					chosen[rn.u.rows[p.Row]] = true
				}
			}
		}
	}
	return nil
}

// MergeShards selects cfg.Picks new samples from the union rows of the
// shards' candidates (any order; rows that are not candidates of the
// selection are ignored) and stores them as tag exactly as
// MultiStrategies does (Options.DryRun writes nothing): the engine runs
// with the whole configuration on the union in dataset order.
// Result.Candidates counts the union; the caller sets Result.Shards (the
// selection record keeps it, so that ExplainSample does not replay the
// merge as a selection over every candidate).
func (s *Selection) MergeShards(ctx context.Context, tag string, cfg ShardConfig, rows []int) (*Result, error) {
	if err := cfg.check(&s.Options); err != nil {
		return nil, err
	}
	union := slices.Clone(rows)
	slices.Sort(union)
	union = slices.Compact(union)
	var cands []int
	for _, row := range union {
		if _, ok := slices.BinarySearch(s.candidates, row); ok {
			cands = append(cands, row)
		}
	}
	m := *s
	m.candidates = cands
	return m.MultiStrategies(ctx, cfg.Picks, tag, cfg.Strategies)
}

// ShardBound is the a-posteriori certificate of a distributed greedy
// k-center selection (Ceccarello, Pietracaprina and Pucci, VLDB 2019).
// With Local the largest coreset radius over the shards and Union the
// picks' covering radius of the union: radius <= Local + Union and
// OPT >= Union/2.
type ShardBound struct {
	Local, Union float64
}

// Ratio is the certified bound on radius/OPT: min(4, 2 + 2·Local/Union),
// 1 when both are 0 (every candidate picked or preselected).
func (b ShardBound) Ratio() float64 {
	if b.Union == 0 {
		if b.Local == 0 {
			return 1
		}
		return 4
	}
	return math.Min(4, 2+2*b.Local/b.Union)
}

// MarshalStrategies encodes list as the JSON array of a request's
// "strategies", which UnmarshalStrategies (and ParseRequest) read back:
// how a launcher hands strategies to its workers. RowWeights cannot be
// encoded.
func MarshalStrategies(list []Strategy) ([]byte, error) {
	out := make([]map[string]any, len(list))
	for i, s := range list {
		if _, ok := s.(RowWeights); ok {
			return nil, fmt.Errorf("strategy %d (%s): row weights have no request form", i, s.Name())
		}
		out[i] = encodeStrategy(s)
	}
	return json.Marshal(out)
}

// UnmarshalStrategies reads what MarshalStrategies writes.
func UnmarshalStrategies(data []byte) ([]Strategy, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("strategies: %w", err)
	}
	out := make([]Strategy, len(raw))
	for i, r := range raw {
		s, err := decodeStrategy(r)
		if err != nil {
			return nil, fmt.Errorf("strategies[%d]: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}
