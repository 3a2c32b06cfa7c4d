package strategies

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Outcome is what a selection did with one row.
type Outcome int

const (
	// Picked: a new pick (Rank, Score, Objectives as in Result).
	Picked Outcome = iota
	// Preselected: the row was in S from the start (Rank).
	Preselected
	// NotCandidate: a row beyond the candidates, not preselected.
	NotCandidate
	// Ineligible: at the end of the run some rule excluded the row
	// (Because lists every one that does).
	Ineligible
	// RankedBelow: the row stayed eligible but lost every pick; Score and
	// Objectives are its own at the last pick, Cut the last pick's score.
	RankedBelow
)

func (o Outcome) String() string {
	switch o {
	case Picked:
		return "picked"
	case Preselected:
		return "preselected"
	case NotCandidate:
		return "not a candidate"
	case Ineligible:
		return "ineligible"
	case RankedBelow:
		return "ranked below the cut"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// ExclusionKind is the rule behind an Exclusion.
type ExclusionKind int

const (
	// Deduplicated: within the deduplication's min_distance of the
	// selected row ByRow (the first row of S within reach, at rank By).
	Deduplicated ExclusionKind = iota
	// QuotaFull: the row's group Group already held Max rows of S; the
	// one at rank By (row ByRow) filled it.
	QuotaFull
	// NearExcluded: within the rule's min_distance of excluded vector
	// Excluded (the nearest one), at Distance.
	NearExcluded
	// InExcludedTag: the row carries the excluded tag.
	InExcludedTag
	// Unlabeled: the row's balancing count row is all zero (spec §7).
	Unlabeled
	// OtherRule: a Strategy's or Rule's own eligibility (an
	// implementation outside this package) said no.
	OtherRule
)

func (k ExclusionKind) String() string {
	switch k {
	case Deduplicated:
		return "deduplicated"
	case QuotaFull:
		return "quota full"
	case NearExcluded:
		return "near the excluded tag"
	case InExcludedTag:
		return "in the excluded tag"
	case Unlabeled:
		return "unlabeled for balancing"
	case OtherRule:
		return "excluded by a rule"
	}
	return fmt.Sprintf("ExclusionKind(%d)", int(k))
}

// Exclusion is one rule that makes a row ineligible.
type Exclusion struct {
	Kind ExclusionKind
	// Strategy is the index in Problem.Strategies (Deduplicated,
	// Unlabeled, OtherRule of a strategy), or -1.
	Strategy int
	// Rule is the index in Problem.Rules (QuotaFull, NearExcluded,
	// InExcludedTag, OtherRule of a rule), or -1.
	Rule int
	// By and ByRow are the rank in S and the row of the selected row
	// that made the row ineligible (Deduplicated, QuotaFull), or -1.
	By, ByRow int
	// Distance is the distance to ByRow (Deduplicated) or to the
	// excluded vector (NearExcluded).
	Distance float64
	// MinDistance is the rule's min_distance (Deduplicated,
	// NearExcluded).
	MinDistance float64
	// Excluded is the index of the nearest excluded vector
	// (NearExcluded), or -1.
	Excluded int
	// Member is, for a rule lifted to units by UnitRule, the member
	// sample row that is excluded; -1 otherwise.
	Member int
	// Group is the full group's code as given to the quota and Max its
	// limit (QuotaFull).
	Group int32
	Max   int
}

// Explanation says what a selection did with one row, and why.
type Explanation struct {
	Row     int
	Outcome Outcome
	// Rank is the row's position in S (Picked, Preselected), or -1.
	Rank int
	// Score and Objectives: for Picked the score it won with and its
	// objectives at its pick; for RankedBelow the same at the last pick.
	Score      Score
	Objectives []float64
	// Cut is the last pick's score and CutRow its row (RankedBelow).
	// Tied reports a score within the tie tolerance of the cut: the row
	// lost on its higher index.
	Cut    Score
	CutRow int
	Tied   bool
	// Because lists every rule that excludes the row at the end of the
	// run (Ineligible), in the order of Problem.Strategies, then Rules.
	Because []Exclusion
}

// Explain says why row is or is not in the selection that Select returned
// as res for p (the same Problem, with the same strategies and rules).
// Ineligibility is judged at the end of the run: rules only ever exclude
// more, so a row ineligible then stayed so, and a row still eligible was
// eligible at every pick and lost them all (RankedBelow, with its score
// at the last pick against the last pick's). Selected rows come from res.
// Explain recomputes only what the one row needs: its distances to S, its
// groups' counts, its nearest excluded vector.
func Explain(ctx context.Context, p Problem, res *Result, row int) (*Explanation, error) {
	if row < 0 || row >= p.Rows {
		return nil, fmt.Errorf("explain: row %d outside 0..%d", row, p.Rows-1)
	}
	ex := &Explanation{Row: row, Rank: -1, CutRow: -1}
	if k := slices.Index(p.Preselected, row); k >= 0 {
		ex.Outcome, ex.Rank = Preselected, k
		return ex, nil
	}
	for _, pk := range res.Picks {
		if pk.Row == row {
			ex.Outcome, ex.Rank, ex.Score, ex.Objectives = Picked, pk.Rank, pk.Score, pk.Objectives
			return ex, nil
		}
	}
	if row >= p.Candidates {
		ex.Outcome = NotCandidate
		return ex, nil
	}
	S := slices.Clone(p.Preselected)
	for _, pk := range res.Picks {
		S = append(S, pk.Row)
	}
	because, err := exclusions(ctx, p, S, row)
	if err != nil {
		return nil, err
	}
	if len(because) > 0 {
		ex.Outcome, ex.Because = Ineligible, because
		return ex, nil
	}
	if len(res.Picks) == 0 {
		return nil, fmt.Errorf("explain: row %d is eligible, but the selection made no pick", row)
	}
	last := res.Picks[len(res.Picks)-1]
	sc, obj, err := scoreAt(ctx, p, S[:len(S)-1], row)
	if err != nil {
		return nil, err
	}
	ex.Outcome, ex.Score, ex.Objectives = RankedBelow, sc, obj
	ex.Cut, ex.CutRow = last.Score, last.Row
	ex.Tied = sc.Inf == last.Score.Inf && math.Abs(sc.Log-last.Score.Log) <= tieTol*math.Max(1, math.Abs(last.Score.Log))
	return ex, nil
}

// exclusions lists the rules that exclude row given S.
func exclusions(ctx context.Context, p Problem, S []int, row int) ([]Exclusion, error) {
	var out []Exclusion
	none := Exclusion{Strategy: -1, Rule: -1, By: -1, ByRow: -1, Excluded: -1, Member: -1}
	for k, st := range p.Strategies {
		x := none
		x.Strategy = k
		switch st := st.(type) {
		case *Diversity:
			if !st.dedup {
				continue
			}
			for j, r := range S {
				if d := dist(st.row(row), st.row(r)); d < st.minDist {
					x.Kind, x.By, x.ByRow, x.Distance, x.MinDistance = Deduplicated, j, r, d, st.minDist
					out = append(out, x)
					break
				}
			}
		case *Balance:
			if st.zero[row] && !st.IncludesUnlabeled() {
				x.Kind = Unlabeled
				out = append(out, x)
			}
		case *Weights, *SubpartDiversity:
		default:
			s, err := replay(ctx, p, S, st.Start)
			if err != nil {
				return nil, fmt.Errorf("explain: strategy %d: %w", k, err)
			}
			if !s.Eligible(row) {
				x.Kind = OtherRule
				out = append(out, x)
			}
		}
	}
	for k, r := range p.Rules {
		x := none
		x.Rule = k
		switch r := r.(type) {
		case *Quota:
			for _, g := range r.groupsOf(row) {
				n := 0
				for j, m := range S {
					if slices.Contains(r.groupsOf(m), g) {
						if n++; n == r.max {
							x.Kind, x.By, x.ByRow, x.Group, x.Max = QuotaFull, j, m, r.code(g), r.max
							out = append(out, x)
							break
						}
					}
				}
			}
		case *ExcludeNear:
			if y, ok := r.explain(row); ok {
				y.Rule = k
				out = append(out, y)
			}
			continue
		case unitRule:
			if xn, ok := r.r.(*ExcludeNear); ok {
				for _, m := range r.u.Members(row) {
					if y, ok := xn.explain(m); ok {
						y.Rule, y.Member = k, m
						out = append(out, y)
						break
					}
				}
				continue
			}
		}
		if _, ok := r.(*Quota); ok {
			continue
		}
		s, err := replayRule(ctx, p, S, r)
		if err != nil {
			return nil, fmt.Errorf("explain: rule %d: %w", k, err)
		}
		if !s.Eligible(row) {
			x.Kind = OtherRule
			out = append(out, x)
		}
	}
	return out, nil
}

// explain returns the exclusion of problem row r by x, if any.
func (x *ExcludeNear) explain(r int) (Exclusion, bool) {
	e := Exclusion{Strategy: -1, Rule: -1, By: -1, ByRow: -1, Excluded: -1, Member: -1, MinDistance: x.minDist}
	if x.InTag(r) {
		e.Kind = InExcludedTag
		return e, true
	}
	if x.minDist == 0 {
		return e, false
	}
	j, d := x.Nearest(r)
	if j < 0 || d >= x.minDist {
		return e, false
	}
	e.Kind, e.Excluded, e.Distance = NearExcluded, j, d
	return e, true
}

// replay starts a strategy's state and adds S to it.
func replay(ctx context.Context, p Problem, S []int, start func(rows, candidates int) (State, error)) (State, error) {
	s, err := start(p.Rows, p.Candidates)
	if err != nil {
		return nil, err
	}
	for _, r := range S {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.Add(r)
	}
	return s, nil
}

func replayRule(ctx context.Context, p Problem, S []int, r Rule) (RuleState, error) {
	s, err := r.Start(p.Rows, p.Candidates)
	if err != nil {
		return nil, err
	}
	for _, row := range S {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.Add(row)
	}
	return s, nil
}

// scoreAt returns row's score and objectives given S, summed in the
// engine's order (weights, diversity, object diversity, the first
// balancing strategy, then the others), so that it is bit-identical to the
// score the engine saw.
func scoreAt(ctx context.Context, p Problem, S []int, row int) (Score, []float64, error) {
	obj := make([]float64, len(p.Strategies))
	var sc Score
	type later struct {
		k        int
		strength float64
		log      float64 // for the first balancing strategy: -D
		first    bool
	}
	var rest []later
	firstBal := true
	var divTerms, subTerms []later
	for k, st := range p.Strategies {
		switch st := st.(type) {
		case *Weights:
			obj[k] = st.w[row]
			sc.addObjective(st.strength, obj[k])
		case *Diversity:
			obj[k] = 1
			if len(S) > 0 {
				md := math.Inf(1)
				for _, r := range S {
					md = math.Min(md, dist(st.row(row), st.row(r)))
				}
				obj[k] = md
				divTerms = append(divTerms, later{k: k, strength: st.strength, log: math.Log(md)})
			}
		case *SubpartDiversity:
			obj[k] = st.objectiveAt(S, row)
			subTerms = append(subTerms, later{k: k, strength: st.strength})
		case *Balance:
			s, err := replay(ctx, p, S, st.Start)
			if err != nil {
				return Score{}, nil, err
			}
			bs := s.(*balState)
			obj[k] = bs.Objective(row)
			rest = append(rest, later{k: k, strength: st.strength, log: -bs.imbalance(st.row(row)), first: firstBal})
			firstBal = false
		default:
			s, err := replay(ctx, p, S, st.Start)
			if err != nil {
				return Score{}, nil, err
			}
			obj[k] = s.Objective(row)
			rest = append(rest, later{k: k, strength: st.Strength()})
		}
	}
	for _, t := range divTerms {
		sc.addLog(t.strength, t.log)
	}
	for _, t := range subTerms {
		sc.addObjective(t.strength, obj[t.k])
	}
	for _, t := range rest { // the first balancing strategy first
		if t.first {
			sc.addLog(t.strength, t.log)
		}
	}
	for _, t := range rest {
		if !t.first {
			sc.addObjective(t.strength, obj[t.k])
		}
	}
	return sc, obj, nil
}

// objectiveAt is objective(row | S) computed directly.
func (sd *SubpartDiversity) objectiveAt(S []int, row int) float64 {
	lo, hi := sd.Objects(row)
	if lo == hi {
		return 0
	}
	var B []int
	for _, r := range S {
		a, b := sd.Objects(r)
		for o := a; o < b; o++ {
			B = append(B, o)
		}
	}
	if len(B) == 0 {
		return 1
	}
	m := 0.0
	for a := lo; a < hi; a++ {
		md := math.Inf(1)
		for _, b := range B {
			md = math.Min(md, dist(sd.objects.row(a), sd.objects.row(b)))
		}
		m = math.Max(m, md)
	}
	return m
}
