package pipeline

import (
	"fmt"
	"math"

	"github.com/winnow-data/winnow/strategies"
)

// Typicality prefers samples in dense regions of the embedding space.
type Typicality struct {
	Model    string
	Strength *float64
	// Neighbours is how the nearest neighbours are searched: "exact",
	// "approximate" (an IVF index, with its recall measured and
	// reported), or "auto" (or ""): exact unless that is estimated to
	// take more than ExactNeighboursSeconds.
	Neighbours string
}

// Outliers prefers samples in sparse regions: typicality inverted.
type Outliers struct {
	Model      string
	Strength   *float64
	Neighbours string // as for Typicality
}

// ExactNeighboursSeconds is the estimated time of an exact neighbour
// search above which typicality and outliers search approximately in
// "auto" mode. The estimate is rows² · dim multiply-adds at a
// conservative rate per core for the CPU's kernels (40·10⁹ a second with
// AVX-512, 15·10⁹ with AVX2, 10⁹ in portable Go; about half the tile
// kernel's measured rate, for the work around it): on two AVX-512 cores
// a minute is about 98,000 candidates of 512 dimensions, 196,000 of 128.
const ExactNeighboursSeconds = 60

var neighboursField = field{wire: "neighbours", text: []string{"neighbours"}, typ: stringField,
	help: "nearest-neighbour search: auto (default: exact below about a minute of work), exact or approximate"}

var neighbourModes = map[string]strategies.NeighbourMode{
	"": strategies.NeighboursAuto, "auto": strategies.NeighboursAuto,
	"exact": strategies.NeighboursExact, "approximate": strategies.NeighboursApproximate,
}

func init() {
	typ := objective{"typicality", "mean exp(-distance/σ) to the sample's 20 nearest candidates"}
	for _, k := range []struct {
		name, help string
		objective  objective
		make       func(model string, strength *float64, nb string) Strategy
	}{
		{"typicality", "samples in dense regions of the embedding space", typ,
			func(m string, s *float64, nb string) Strategy {
				return Typicality{Model: m, Strength: s, Neighbours: nb}
			}},
		{"outliers", "samples in sparse regions of the embedding space",
			objective{"typicality", typ.help + ", raised to minus the strength (low is picked)"},
			func(m string, s *float64, nb string) Strategy { return Outliers{Model: m, Strength: s, Neighbours: nb} }},
	} {
		register(&kind{name: k.name, help: k.help, objective: k.objective, fields: []field{modelField, neighboursField},
			decode: func(v values) (Strategy, error) {
				m, err := v.str(modelField.wire)
				if err != nil {
					return nil, err
				}
				nb, err := v.str(neighboursField.wire)
				if err != nil {
					return nil, err
				}
				s, _ := v.num("strength")
				st := k.make(m, s, nb)
				return st, checkNeighbours(k.name, nb)
			}})
	}
}

// checkNeighbours refuses an unknown neighbour search mode.
func checkNeighbours(name, mode string) error {
	if _, ok := neighbourModes[mode]; !ok {
		return fmt.Errorf("strategy %q: unknown neighbours %q (auto, exact or approximate)", name, mode)
	}
	return nil
}

func neighbourFields(model, nb string) map[string]any {
	m := map[string]any{modelField.wire: model}
	if nb != "" {
		m[neighboursField.wire] = nb
	}
	return m
}

// Name is "typicality".
func (Typicality) Name() string             { return "typicality" }
func (s Typicality) strength() float64      { return strengthOf(s.Strength) }
func (s Typicality) model() (string, bool)  { return s.Model, true }
func (s Typicality) fields() map[string]any { return neighbourFields(s.Model, s.Neighbours) }
func (s Typicality) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	return typicalityPart(r, u, model, strength, s.Name(), s.Neighbours)
}

// Name is "outliers".
func (Outliers) Name() string             { return "outliers" }
func (s Outliers) strength() float64      { return strengthOf(s.Strength) }
func (s Outliers) model() (string, bool)  { return s.Model, true }
func (s Outliers) fields() map[string]any { return neighbourFields(s.Model, s.Neighbours) }
func (s Outliers) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	return typicalityPart(r, u, model, -strength, s.Name(), s.Neighbours)
}

// NeighbourReport says how typicality's nearest neighbours were found:
// exactly, or approximately with an IVF index whose parameters and
// measured recall it gives.
type NeighbourReport struct {
	Search string `json:"search"` // "exact" or "approximate"
	K      int    `json:"k"`
	Rows   int    `json:"rows"`
	// The IVF index (approximate only): lists, lists probed per row, the
	// k-means sample and iterations, and the recall the probe was tuned
	// for (0 when the probe was given).
	Lists        int     `json:"lists,omitempty"`
	Probe        int     `json:"probe,omitempty"`
	TrainRows    int     `json:"train_rows,omitempty"`
	Iterations   int     `json:"iterations,omitempty"`
	TargetRecall float64 `json:"target_recall,omitempty"`
	// Recall is the measured share of the approximate neighbours no
	// farther than the exact K-th, over RecallQueries sampled rows (1
	// for exact search); RecallQueries 0 in an approximate search means
	// it was not measured (Recall 0).
	Recall        float64 `json:"recall"`
	RecallQueries int     `json:"recall_queries,omitempty"`
}

func neighbourReport(s strategies.NeighbourSearch) *NeighbourReport {
	if !s.Approximate {
		return &NeighbourReport{Search: "exact", K: s.K, Rows: s.Rows, Recall: 1}
	}
	nr := &NeighbourReport{Search: "approximate", K: s.K, Rows: s.Rows, Lists: s.Lists, Probe: s.Probe,
		TrainRows: s.TrainRows, Iterations: s.Iterations, TargetRecall: s.TargetRecall,
		Recall: s.Recall, RecallQueries: s.RecallQueries}
	if math.IsNaN(nr.Recall) { // JSON has no NaN
		nr.Recall, nr.RecallQueries = 0, 0
	}
	return nr
}

// typicalityPart weights the candidates by their typicality, raised to
// strength (negative for outliers), and reports the neighbour search.
func typicalityPart(r *resolver, u *universe, model string, strength float64, name, mode string) (*part, error) {
	if err := checkNeighbours(name, mode); err != nil {
		return nil, err
	}
	opt := strategies.NeighbourOptions{Mode: neighbourModes[mode], ExactSeconds: ExactNeighboursSeconds, Workers: r.opts.Workers,
		Progress: intProgress(r.opts.Progress, PhaseNeighbours, model, "pairs")}
	w, search, err := strategies.TypicalityWeights(r.ctx, r.vectors(model, u), u.candidates, opt)
	if err != nil {
		return nil, err
	}
	p, err := r.weightsPart(padWeights(w, u), strength, u, "typicality")
	if err != nil {
		return nil, err
	}
	nr := neighbourReport(search)
	weights := p.report
	p.report = func(rep *StrategyReport, sel []int) {
		weights(rep, sel)
		rep.Neighbours = nr
	}
	return p, nil
}
