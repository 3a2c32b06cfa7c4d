package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/winnow-data/winnow/bitmap"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
	"github.com/winnow-data/winnow/tags"
)

// Options adjust how a Selection runs. The zero value errors on
// candidates without embeddings, writes the result, and uses every core.
type Options struct {
	// Preselected names a tag whose samples count as already selected:
	// diversity measures distance to them and balancing counts them. They
	// need not be candidates. The result tag holds them and the new picks.
	Preselected string
	// DropMissing drops candidates without a vector for a model that a
	// strategy needs (with a warning) instead of failing.
	DropMissing bool
	// DryRun selects and reports but writes nothing.
	DryRun bool
	// Replace lets the result overwrite an existing tag of the same name,
	// and its selection record, in the same single commit; without it an
	// existing name is an error (ErrTagExists). The name may also be the
	// preselected tag's: the tag then grows by the new picks.
	Replace bool
	// MaxPerGroup limits how many samples of the result (units, under
	// group selection) may share a value of a column (docs/selection.md).
	MaxPerGroup []Quota
	// ExcludeNear, when set, keeps the new picks away from a tag's samples.
	ExcludeNear *ExcludeNear
	// Groups, when set, makes the selection pick groups of samples (or
	// runs of them: video clips) instead of single samples.
	Groups *Groups
	// Precision is the number format the engine computes on: the stored
	// one (the default, exact), or PrecisionFloat16, which rounds float32
	// vectors to float16 as they are loaded (half the memory; approximate,
	// and the result and record say so).
	Precision Precision
	// Workers bounds the goroutines of the engine; 0 means GOMAXPROCS.
	// Picks never depend on it.
	Workers int
	// Progress, when set, is called as the selection's long phases
	// advance: loading embeddings, searching neighbours, picking and
	// writing (see Phase). It is called from one goroutine at a time.
	Progress func(Progress)
	// Now stamps the selection record; nil means time.Now.
	Now func() time.Time
}

// Selection chooses samples from a snapshot of a query's candidates.
type Selection struct {
	ds         *Dataset
	query      string
	candidates []int // dataset rows, in dataset order
	// preRows, when non-nil, are the preselected rows (dataset order)
	// instead of Options.Preselected's tag: a replay takes them from the
	// record, since the tag may have changed since.
	preRows []int
	// Options apply to every method call on the selection.
	Options Options
}

// Selection snapshots the query's candidates: later changes to the
// dataset's tags do not change them.
func (q *Query) Selection() (*Selection, error) {
	return q.SelectionContext(context.Background())
}

// SelectionContext is Selection with a context for cancellation.
func (q *Query) SelectionContext(ctx context.Context) (*Selection, error) {
	bm, err := q.Rows(ctx)
	if err != nil {
		return nil, err
	}
	return &Selection{ds: q.ds, query: q.String(), candidates: bm.Indexes()}, nil
}

// Candidates is the number of samples the selection chooses from.
func (s *Selection) Candidates() int { return len(s.candidates) }

// Diverse selects n samples far apart in the embedding space of model
// ("" for the dataset's only model) and stores them as tag.
func (s *Selection) Diverse(ctx context.Context, n int, tag, model string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{EmbeddingDiversity{Model: model}})
}

// Deduplicate selects up to n diverse samples, none closer than
// minDistance to another selected sample.
func (s *Selection) Deduplicate(ctx context.Context, n int, tag, model string, minDistance float64) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{Deduplication{Model: model, MinDistance: minDistance}})
}

// MetadataWeighting selects the n samples with the largest values of the
// numeric metadata column key.
func (s *Selection) MetadataWeighting(ctx context.Context, n int, tag, key string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{MetadataWeighting{Key: key}})
}

// AnnotationBalancing selects n samples whose annotation labels follow
// target, counting only annotations of source when it is not "".
func (s *Selection) AnnotationBalancing(ctx context.Context, n int, tag string, target Target, source string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{AnnotationBalancing{Target: target, Source: source}})
}

// MetadataBalancing selects n samples whose values of the categorical
// column key follow target.
func (s *Selection) MetadataBalancing(ctx context.Context, n int, tag, key string, target Target) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{MetadataBalancing{Key: key, Target: target}})
}

// Similar selects the n samples closest to those carrying queryTag.
func (s *Selection) Similar(ctx context.Context, n int, tag, queryTag, model string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{Similarity{QueryTag: queryTag, Model: model}})
}

// Typical selects the n samples in the densest regions of the embedding space.
func (s *Selection) Typical(ctx context.Context, n int, tag, model string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{Typicality{Model: model}})
}

// Outliers selects the n samples in the sparsest regions of the embedding space.
func (s *Selection) Outliers(ctx context.Context, n int, tag, model string) (*Result, error) {
	return s.MultiStrategies(ctx, n, tag, []Strategy{Outliers{Model: model}})
}

// Result describes a finished selection.
type Result struct {
	Tag         string           `json:"tag"`
	Query       string           `json:"query,omitempty"`
	Candidates  int              `json:"candidates"`
	Requested   int              `json:"requested"`
	Selected    int              `json:"selected"`
	Preselected int              `json:"preselected"`
	DryRun      bool             `json:"dry_run,omitempty"`
	Strategies  []StrategyReport `json:"strategies"`
	Rules       []RuleReport     `json:"rules,omitempty"`
	Picks       []Pick           `json:"picks"`
	Warnings    []string         `json:"warnings,omitempty"`
	// Precision is the number format the engine computed on when it was
	// not the stored one ("float16": approximate, see Options.Precision).
	Precision Precision `json:"precision,omitempty"`
	Record    string    `json:"record,omitempty"` // path of the selection record
	// Shards is the number of shards of a distributed selection, whose
	// merge ran on the candidates the shards proposed (Candidates counts
	// those); the caller of MergeShards sets it. 0 for one made here.
	Shards int `json:"shards,omitempty"`
}

// Pick is one sample of the result tag: preselected samples first (with
// Preselected set and no score), then new picks in pick order.
type Pick struct {
	SampleID    string `json:"sample_id"`
	Row         int    `json:"row"`
	Rank        int    `json:"rank"`
	Preselected bool   `json:"preselected,omitempty"`
	// Score is the combined log score when picked; InfFactors counts the
	// +inf factors minus the -inf ones (spec §2).
	Score      float64   `json:"score"`
	InfFactors int       `json:"inf_factors,omitempty"`
	Objectives []float64 `json:"objectives"`
}

// MultiStrategies selects n new samples scored by every strategy in list
// and stores them, with any preselected samples, as the new tag. It
// checks the tag name, n and every strategy's data before the engine runs,
// and on any error writes nothing.
func (s *Selection) MultiStrategies(ctx context.Context, n int, tag string, list []Strategy) (*Result, error) {
	if n < 1 {
		return nil, fmt.Errorf("n must be at least 1, got %d", n)
	}
	if len(list) == 0 {
		return nil, errors.New("no strategy given")
	}
	check := tags.CheckName
	if s.Options.Replace {
		check = tags.CheckReplace
	}
	if err := check(s.ds.cd, tag); err != nil {
		return nil, err
	}
	if _, err := ParsePrecision(string(s.Options.Precision)); err != nil {
		return nil, err
	}
	res := &Result{Tag: tag, Query: s.query, Requested: n, DryRun: s.Options.DryRun, Precision: s.Options.Precision}
	rn, err := s.plan(ctx, n, list, res)
	if err != nil {
		return nil, err
	}
	if err := rn.run(ctx, s.Options, tag); err != nil {
		return nil, err
	}
	sel, err := s.fillPicks(ctx, res, rn)
	if err != nil {
		return nil, err
	}
	res.Selected = len(res.Picks) - len(rn.u.pre)
	rn.warn(res, list)
	res.Strategies = reports(list, rn.models, rn.parts, sel)
	for _, rp := range rn.rules {
		res.Rules = append(res.Rules, rp.report(sel))
	}
	if rn.units != nil {
		res.Rules = append(res.Rules, unitsReport(rn.units, rn.picked(), len(sel)))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.Options.DryRun {
		return res, nil
	}
	if err := s.store(ctx, res, list); err != nil {
		return nil, err
	}
	return res, nil
}

// run is one selection resolved into an engine problem, and its outcome.
type run struct {
	u      *universe
	units  *strategies.Units // nil without group selection
	models []string
	parts  []*part
	rules  []*rulePart
	// picks is the number of new picks asked of the engine (units under
	// group selection), after clamping to what is available.
	picks   int
	problem strategies.Problem
	result  *strategies.Result // nil when no pick was asked for
}

// plan resolves the selection of n with list into an engine problem,
// adding warnings to res as it drops candidates or clamps n.
func (s *Selection) plan(ctx context.Context, n int, list []Strategy, res *Result) (*run, error) {
	if err := s.Options.checkRules(); err != nil {
		return nil, err
	}
	pre, err := s.preselected()
	if err != nil {
		return nil, err
	}
	return s.planRows(s.newResolver(ctx), n, list, s.candidates, pre, res)
}

func (s *Selection) newResolver(ctx context.Context) *resolver {
	return &resolver{ctx: ctx, ds: s.ds, opts: &s.Options, matrices: map[string]*columnar.Matrix{}}
}

// planRows is plan over the candidate rows cands (dataset order) with the
// preselected rows pre, resolving through r (whose matrices several plans
// of one shard share, see shard.go).
func (s *Selection) planRows(r *resolver, n int, list []Strategy, cands, pre []int, res *Result) (*run, error) {
	models, cands, err := r.models(list, cands, pre, res)
	if err != nil {
		return nil, err
	}
	excludeModel := ""
	if x := s.Options.ExcludeNear; x != nil {
		if excludeModel, cands, err = r.requireModel(x.Model, cands, pre, res); err != nil {
			return nil, fmt.Errorf("exclude_near: %w", err)
		}
	}
	if cands, err = r.filter(list, cands, res); err != nil {
		return nil, err
	}
	res.Candidates = len(cands)
	res.Preselected = len(pre)
	rn := &run{u: newUniverse(cands, pre), models: models, parts: make([]*part, len(list))}
	for i, st := range list {
		p, err := st.build(r, rn.u, models[i])
		if err != nil {
			return nil, fmt.Errorf("strategy %s: %w", st.Name(), err)
		}
		rn.parts[i] = p
	}
	if rn.rules, err = r.rules(rn.u, excludeModel); err != nil {
		return nil, err
	}
	if g := s.Options.Groups; g != nil {
		if rn.units, err = r.units(g, rn.u); err != nil {
			return nil, err
		}
	}
	if err := rn.assemble(n, s.Options, res); err != nil {
		return nil, err
	}
	return rn, nil
}

// assemble builds the engine problem over samples or, with groups, over
// units, and clamps n to the candidates available.
func (rn *run) assemble(n int, opts Options, res *Result) error {
	p := strategies.Problem{Workers: opts.Workers, Progress: intProgress(opts.Progress, PhaseSelect, "", "picks")}
	avail, what := len(rn.u.rows[:rn.u.candidates])-rn.u.preInCandidates, "candidates"
	if rn.units == nil {
		p.Rows, p.Candidates, p.Preselected = len(rn.u.rows), rn.u.candidates, rn.u.pre
		for _, pt := range rn.parts {
			p.Strategies = append(p.Strategies, pt.engine)
		}
		for _, rp := range rn.rules {
			p.Rules = append(p.Rules, rp.rule)
		}
	} else {
		us := rn.units
		p.Rows, p.Candidates, p.Preselected = us.Len(), us.Candidates(), us.Preselected()
		for i, pt := range rn.parts {
			if pt.lift == nil {
				return fmt.Errorf("strategy %d cannot select groups", i)
			}
			st, err := pt.lift(us)
			if err != nil {
				return fmt.Errorf("group selection: %w", err)
			}
			p.Strategies = append(p.Strategies, st)
		}
		for _, rp := range rn.rules {
			rule, err := rp.lift(us)
			if err != nil {
				return fmt.Errorf("group selection: %w", err)
			}
			p.Rules = append(p.Rules, rule)
		}
		avail, what = us.Candidates(), "units"
		for _, k := range us.Preselected() {
			if k < us.Candidates() {
				avail--
			}
		}
	}
	rn.picks = n
	switch {
	case rn.u.candidates == 0:
		res.Warnings = append(res.Warnings, "the query matched no candidates; the tag holds only the preselected samples")
		rn.picks = 0
	case n > avail:
		res.Warnings = append(res.Warnings, fmt.Sprintf("asked for %d samples but only %d %s are available; selecting %d", n, avail, what, max(avail, 0)))
		rn.picks = max(avail, 0)
	}
	p.Picks = rn.picks
	rn.problem = p
	return nil
}

// run runs the engine, unless there is nothing to pick.
func (rn *run) run(ctx context.Context, opts Options, tag string) error {
	if rn.picks == 0 {
		return nil
	}
	res, err := strategies.Select(ctx, rn.problem)
	if err != nil {
		return fmt.Errorf("select %q: %w", tag, err)
	}
	rn.result = res
	return nil
}

// picked is the number of new engine picks (units under group selection).
func (rn *run) picked() int {
	if rn.result == nil {
		return 0
	}
	return len(rn.result.Picks)
}

// warn adds the warnings of the outcome to res.
func (rn *run) warn(res *Result, list []Strategy) {
	if rn.result == nil {
		return
	}
	if u := rn.result.Unlabeled; u > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("balancing left out %d candidates without an annotation of the counted classes (include_unlabeled keeps them)", u))
	}
	if rn.picked() < rn.picks {
		var why []string
		if slices.ContainsFunc(list, func(s Strategy) bool { _, ok := s.(Deduplication); return ok }) {
			why = append(why, "deduplication's minimum distance")
		}
		for _, rp := range rn.rules {
			why = append(why, rp.report(nil).Rule)
		}
		if rn.result.Unlabeled > 0 {
			why = append(why, "balancing's unlabeled candidates")
		}
		why = slices.Compact(why)
		res.Warnings = append(res.Warnings, fmt.Sprintf("stopped after %d of %d picks: no eligible candidate was left (%s)", rn.picked(), rn.picks, strings.Join(why, ", ")))
	}
}

// preselected returns the rows of the preselected tag in dataset order.
func (s *Selection) preselected() ([]int, error) {
	if s.preRows != nil {
		return s.preRows, nil
	}
	if s.Options.Preselected == "" {
		return nil, nil
	}
	bm, err := s.ds.cd.Tag(s.Options.Preselected)
	if err != nil {
		return nil, fmt.Errorf("preselected tag: %w", err)
	}
	return bm.Indexes(), nil
}

// universe maps engine rows to dataset rows: the candidates first, then
// preselected samples that are not candidates (they count, but cannot be
// picked).
type universe struct {
	rows            []int // engine row -> dataset row
	candidates      int
	pre             []int // preselected, as engine rows, in tag order
	preInCandidates int
}

func newUniverse(cands, pre []int) *universe {
	u := &universe{rows: slices.Clone(cands), candidates: len(cands)}
	for _, r := range pre {
		if i, ok := slices.BinarySearch(cands, r); ok { // cands are in dataset order
			u.pre = append(u.pre, i)
			u.preInCandidates++
			continue
		}
		u.pre = append(u.pre, len(u.rows))
		u.rows = append(u.rows, r)
	}
	return u
}

// identity reports whether engine rows are exactly the dataset rows
// 0..n-1, so a matrix can be used without copying.
func (u *universe) identity(n int) bool {
	if len(u.rows) != n {
		return false
	}
	for i, r := range u.rows {
		if i != r {
			return false
		}
	}
	return true
}

// fillPicks lists the result tag's samples in res.Picks and returns their
// engine rows, in the same order.
func (s *Selection) fillPicks(ctx context.Context, res *Result, rn *run) ([]int, error) {
	u := rn.u
	type entry struct {
		e    int // universe row
		rank int
		pick *strategies.Pick
	}
	var entries []entry
	for i, p := range u.pre {
		entries = append(entries, entry{p, i, nil})
	}
	if rn.result != nil {
		for k := range rn.result.Picks {
			ep := &rn.result.Picks[k]
			if rn.units == nil {
				entries = append(entries, entry{ep.Row, ep.Rank, ep})
				continue
			}
			// Every member of a picked unit, with the unit's rank.
			for _, m := range rn.units.Members(ep.Row) {
				entries = append(entries, entry{m, ep.Rank, ep})
			}
		}
	}
	sel := make([]int, len(entries))
	rows := make([]int, len(entries))
	for i, en := range entries {
		sel[i], rows[i] = en.e, u.rows[en.e]
	}
	ids, err := s.ds.cd.IDStrings(ctx, rows)
	if err != nil {
		return nil, err
	}
	for i, en := range entries {
		p := Pick{SampleID: ids[i], Row: rows[i], Rank: en.rank, Preselected: en.pick == nil}
		if en.pick != nil {
			p.Score, p.InfFactors, p.Objectives = en.pick.Score.Log, en.pick.Score.Inf, en.pick.Objectives
		}
		res.Picks = append(res.Picks, p)
	}
	return sel, nil
}

// store commits the result tag with its selection record, in one commit
// of package tags: the record and the tag land together or not at all.
func (s *Selection) store(ctx context.Context, res *Result, list []Strategy) error {
	rows := bitmap.New(s.ds.Len())
	for _, p := range res.Picks {
		rows.Set(p.Row)
	}
	rec, err := newRecord(res, list, s.Options)
	if err != nil {
		return err
	}
	commit := tags.Add
	if s.Options.Replace {
		commit = tags.Replace
	}
	report := progressFunc(s.Options.Progress, PhaseWrite, res.Tag, "steps")
	if report != nil {
		report(0, 1)
	}
	if err := commit(ctx, s.ds.cd, res.Tag, rows, rec); err != nil {
		return err
	}
	if report != nil {
		report(1, 1)
	}
	res.Record = tags.RecordPath(s.ds.cd, res.Tag)
	return nil
}
