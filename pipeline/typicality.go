package pipeline

import "winnow/strategies"

// Typicality prefers samples in dense regions of the embedding space.
type Typicality struct {
	Model    string
	Strength *float64
}

// Outliers prefers samples in sparse regions: typicality inverted.
type Outliers struct {
	Model    string
	Strength *float64
}

func init() {
	typ := objective{"typicality", "mean exp(-distance/σ) to the sample's 20 nearest candidates"}
	for _, k := range []struct {
		name, help string
		objective  objective
		make       func(model string, strength *float64) Strategy
	}{
		{"typicality", "samples in dense regions of the embedding space", typ,
			func(m string, s *float64) Strategy { return Typicality{Model: m, Strength: s} }},
		{"outliers", "samples in sparse regions of the embedding space",
			objective{"typicality", typ.help + ", raised to minus the strength (low is picked)"},
			func(m string, s *float64) Strategy { return Outliers{Model: m, Strength: s} }},
	} {
		register(&kind{name: k.name, help: k.help, objective: k.objective, fields: []field{modelField},
			decode: func(v values) (Strategy, error) {
				m, err := v.str(modelField.wire)
				s, _ := v.num("strength")
				return k.make(m, s), err
			}})
	}
}

// Name is "typicality".
func (Typicality) Name() string             { return "typicality" }
func (s Typicality) strength() float64      { return strengthOf(s.Strength) }
func (s Typicality) model() (string, bool)  { return s.Model, true }
func (s Typicality) fields() map[string]any { return map[string]any{modelField.wire: s.Model} }
func (s Typicality) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	return typicalityPart(r, u, model, strength)
}

// Name is "outliers".
func (Outliers) Name() string             { return "outliers" }
func (s Outliers) strength() float64      { return strengthOf(s.Strength) }
func (s Outliers) model() (string, bool)  { return s.Model, true }
func (s Outliers) fields() map[string]any { return map[string]any{modelField.wire: s.Model} }
func (s Outliers) build(r *resolver, u *universe, model string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	return typicalityPart(r, u, model, -strength)
}

// typicalityPart weights the candidates by their typicality, raised to
// strength (negative for outliers).
func typicalityPart(r *resolver, u *universe, model string, strength float64) (*part, error) {
	vec, dim := r.vectors(model, u)
	w, err := strategies.TypicalityWeights(r.ctx, vec[:u.candidates*dim], dim, u.candidates, r.opts.Workers)
	if err != nil {
		return nil, err
	}
	return r.weightsPart(padWeights(w, u), strength, u, "typicality")
}
