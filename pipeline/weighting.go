package pipeline

import "fmt"

// MetadataWeighting prefers samples with a large value in the numeric
// metadata column Key.
type MetadataWeighting struct {
	Key      string
	Strength *float64
}

func init() {
	register(&kind{
		name:      "weights",
		help:      "samples with large values of a numeric metadata column",
		objective: objective{"weight", "the sample's value of the metadata column"},
		fields:    []field{keyField},
		decode: func(v values) (Strategy, error) {
			k, err := v.need(keyField.wire)
			s, _ := v.num("strength")
			return MetadataWeighting{Key: k, Strength: s}, err
		},
	})
}

// Name is "weights".
func (MetadataWeighting) Name() string          { return "weights" }
func (s MetadataWeighting) strength() float64   { return strengthOf(s.Strength) }
func (MetadataWeighting) model() (string, bool) { return "", false }
func (s MetadataWeighting) fields() map[string]any {
	return map[string]any{keyField.wire: s.Key}
}

// build reads the column as weights for the universe rows. Nulls among the
// candidates are an error naming the column, how many and the first
// sample; other bad values are reported by the engine's check.
func (s MetadataWeighting) build(r *resolver, u *universe, _ string) (*part, error) {
	strength, err := checkStrength(s)
	if err != nil {
		return nil, err
	}
	col, err := r.ds.cd.NumericColumn(r.ctx, s.Key)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("metadata column %q", s.Key)
	w := make([]float64, len(u.rows))
	nulls, first := 0, -1
	for i, row := range u.rows[:u.candidates] {
		if col.IsNull(row) {
			if nulls++; first < 0 {
				first = row
			}
			continue
		}
		w[i] = col.Values[row]
	}
	if nulls > 0 {
		return nil, &ValueError{What: what, Reason: "null", Count: nulls, Candidates: u.candidates, First: r.ds.cd.SampleName(r.ctx, first)}
	}
	return r.weightsPart(w, strength, u, what)
}
