package shardselect

import (
	"fmt"
	"slices"
)

// Vectors is a row-major matrix of float32 embeddings, Dim values a row.
type Vectors struct {
	Data []float32
	Dim  int
}

// CountRows is a row-major matrix of balancing count rows, Classes values
// a row (spec §7).
type CountRows struct {
	Data    []float64
	Classes int
}

// Rows is the resolved data of some rows of a dataset: a shard, a shard's
// candidates or a set of preselected samples. Row i has the global key
// Index[i] and, for every input the configuration's strategies refer to,
// its vector, weight or count row. Inputs are referred to by position
// (Spec.Input), so every Rows given to one selection has the same inputs.
type Rows struct {
	// Index holds the rows' global keys (dataset rows), strictly
	// increasing: key order is dataset order and decides every tie.
	Index   []int
	Vectors []Vectors   // inputs of Diversity and Deduplication specs
	Weights [][]float64 // inputs of Weights specs, one value a row
	Counts  []CountRows // inputs of Balance specs
}

// Len returns the number of rows.
func (r *Rows) Len() int { return len(r.Index) }

// check verifies the shapes of r against cfg and that Index is strictly
// increasing; what names r in the error.
func (r *Rows) check(cfg *Config, what string) error {
	n := len(r.Index)
	for i := 1; i < n; i++ {
		if r.Index[i] <= r.Index[i-1] {
			return fmt.Errorf("%s: keys not strictly increasing: %d after %d at row %d", what, r.Index[i], r.Index[i-1], i)
		}
	}
	if n > 0 && r.Index[0] < 0 {
		return fmt.Errorf("%s: negative key %d", what, r.Index[0])
	}
	for k, s := range cfg.Specs {
		switch s.Kind {
		case Diversity, Deduplication:
			if s.Input >= len(r.Vectors) {
				return fmt.Errorf("%s: strategy %d uses vectors %d of %d", what, k, s.Input, len(r.Vectors))
			}
			v := r.Vectors[s.Input]
			if v.Dim <= 0 || len(v.Data) != n*v.Dim {
				return fmt.Errorf("%s: vectors %d hold %d values, want %d rows of dimension %d", what, s.Input, len(v.Data), n, v.Dim)
			}
		case Weights:
			if s.Input >= len(r.Weights) {
				return fmt.Errorf("%s: strategy %d uses weights %d of %d", what, k, s.Input, len(r.Weights))
			}
			if len(r.Weights[s.Input]) != n {
				return fmt.Errorf("%s: weights %d hold %d values for %d rows", what, s.Input, len(r.Weights[s.Input]), n)
			}
		case Balance:
			if s.Input >= len(r.Counts) {
				return fmt.Errorf("%s: strategy %d uses counts %d of %d", what, k, s.Input, len(r.Counts))
			}
			c := r.Counts[s.Input]
			if c.Classes != len(s.Target) || len(c.Data) != n*c.Classes {
				return fmt.Errorf("%s: counts %d hold %d values of %d classes, want %d rows of the target's %d classes", what, s.Input, len(c.Data), c.Classes, n, len(s.Target))
			}
		}
	}
	return nil
}

// subset returns the rows at the given positions (increasing), with
// copies of their data.
func (r *Rows) subset(pos []int) Rows {
	out := Rows{Index: make([]int, len(pos))}
	for j, p := range pos {
		out.Index[j] = r.Index[p]
	}
	for _, v := range r.Vectors {
		d := make([]float32, 0, len(pos)*v.Dim)
		for _, p := range pos {
			d = append(d, v.Data[p*v.Dim:(p+1)*v.Dim]...)
		}
		out.Vectors = append(out.Vectors, Vectors{Data: d, Dim: v.Dim})
	}
	for _, w := range r.Weights {
		d := make([]float64, len(pos))
		for j, p := range pos {
			d[j] = w[p]
		}
		out.Weights = append(out.Weights, d)
	}
	for _, c := range r.Counts {
		d := make([]float64, 0, len(pos)*c.Classes)
		for _, p := range pos {
			d = append(d, c.Data[p*c.Classes:(p+1)*c.Classes]...)
		}
		out.Counts = append(out.Counts, CountRows{Data: d, Classes: c.Classes})
	}
	return out
}

// concat returns the rows of parts in key order. Parts must have the same
// inputs; a key found in two parts is an error. One part is returned as it
// is, not copied (its keys are increasing, Rows.check): a caller that
// gathered the union itself passes it whole, and the union is the merge's
// largest allocation.
func concat(parts []Rows) (Rows, error) {
	if len(parts) == 1 {
		return parts[0], nil
	}
	type ref struct{ part, row int }
	var refs []ref
	for p := range parts {
		for i := range parts[p].Index {
			refs = append(refs, ref{p, i})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return parts[a.part].Index[a.row] - parts[b.part].Index[b.row] })
	for j := 1; j < len(refs); j++ {
		a, b := refs[j-1], refs[j]
		if parts[a.part].Index[a.row] == parts[b.part].Index[b.row] {
			return Rows{}, fmt.Errorf("merge: key %d comes from shards %d and %d", parts[b.part].Index[b.row], a.part, b.part)
		}
	}
	var out Rows
	if len(parts) == 0 {
		return out, nil
	}
	first := parts[0]
	out.Index = make([]int, len(refs))
	for j, r := range refs {
		out.Index[j] = parts[r.part].Index[r.row]
	}
	for k, v := range first.Vectors {
		d := make([]float32, 0, len(refs)*v.Dim)
		for _, r := range refs {
			d = append(d, parts[r.part].Vectors[k].Data[r.row*v.Dim:(r.row+1)*v.Dim]...)
		}
		out.Vectors = append(out.Vectors, Vectors{Data: d, Dim: v.Dim})
	}
	for k := range first.Weights {
		d := make([]float64, len(refs))
		for j, r := range refs {
			d[j] = parts[r.part].Weights[k][r.row]
		}
		out.Weights = append(out.Weights, d)
	}
	for k, c := range first.Counts {
		d := make([]float64, 0, len(refs)*c.Classes)
		for _, r := range refs {
			d = append(d, parts[r.part].Counts[k].Data[r.row*c.Classes:(r.row+1)*c.Classes]...)
		}
		out.Counts = append(out.Counts, CountRows{Data: d, Classes: c.Classes})
	}
	return out, nil
}

// sameInputs reports an error when b's inputs differ in number or shape
// from a's.
func sameInputs(a, b *Rows, what string) error {
	if len(a.Vectors) != len(b.Vectors) || len(a.Weights) != len(b.Weights) || len(a.Counts) != len(b.Counts) {
		return fmt.Errorf("%s: inputs differ: %d/%d/%d vectors/weights/counts, want %d/%d/%d", what,
			len(b.Vectors), len(b.Weights), len(b.Counts), len(a.Vectors), len(a.Weights), len(a.Counts))
	}
	for k := range a.Vectors {
		if a.Vectors[k].Dim != b.Vectors[k].Dim {
			return fmt.Errorf("%s: vectors %d have dimension %d, want %d", what, k, b.Vectors[k].Dim, a.Vectors[k].Dim)
		}
	}
	for k := range a.Counts {
		if a.Counts[k].Classes != b.Counts[k].Classes {
			return fmt.Errorf("%s: counts %d have %d classes, want %d", what, k, b.Counts[k].Classes, a.Counts[k].Classes)
		}
	}
	return nil
}
