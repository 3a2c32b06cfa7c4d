package beamselect

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/winnow-data/winnow/beam/rowgroups"
	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/strategies"
)

// shardData is one shard's columns as plain values.
type shardData struct {
	first    int64
	ids      []string
	dim      int
	vec      []float32
	weights  []float64
	labels   []string
	labelled []bool
}

// decodeShard turns a shard's record batches into plain values,
// releasing each batch once decoded, so that a shard's columns are held
// about once, not twice.
func decodeShard(recs []arrow.RecordBatch, first int64, job *Job) (*shardData, error) {
	defer func() {
		for _, r := range recs {
			if r != nil {
				r.Release()
			}
		}
	}()
	d := &shardData{first: first}
	row := first
	cols := job.columns()
	for k, r := range recs {
		for _, c := range cols {
			a := rowgroups.Column(r, c)
			if a == nil {
				return nil, fmt.Errorf("column %q missing", c)
			}
			var err error
			switch c {
			case job.ID:
				var ids [][]byte
				if ids, err = rowgroups.FixedBytes(a, row); err == nil {
					for _, id := range ids {
						d.ids = append(d.ids, string(id))
					}
				}
			case job.Vector:
				var v []float32
				var dim int
				if v, dim, err = rowgroups.Float32Rows(a, row); err == nil {
					if d.dim != 0 && dim != d.dim && a.Len() > 0 {
						err = fmt.Errorf("row %d: embeddings of dimension %d after %d", row, dim, d.dim)
					}
					if a.Len() > 0 {
						d.dim = dim
					}
					d.vec = append(d.vec, v...)
				}
			case job.Weight:
				var w []float64
				if w, err = rowgroups.Float64s(a, row); err == nil {
					d.weights = append(d.weights, w...)
				}
			case job.Label:
				var l []string
				var ok []bool
				if l, ok, err = rowgroups.Strings(a); err == nil {
					d.labels, d.labelled = append(d.labels, l...), append(d.labelled, ok...)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", c, err)
			}
		}
		row += r.NumRows()
		r.Release()
		recs[k] = nil
	}
	return d, nil
}

// inputs returns empty inputs of the shape every Rows of job has:
// vectors 0 when a strategy needs vectors, weights 0, counts 0.
func inputs(job *Job, dim, classes int) ([]shardselect.Vectors, [][]float64, []shardselect.CountRows) {
	var v []shardselect.Vectors
	var w [][]float64
	var c []shardselect.CountRows
	for _, s := range job.Strategies {
		switch s.Kind {
		case "diversity", "deduplication":
			if v == nil {
				v = []shardselect.Vectors{{Dim: max(dim, 1)}}
			}
		case "weights":
			if w == nil {
				w = [][]float64{{}}
			}
		case "balance":
			if c == nil {
				c = []shardselect.CountRows{{Classes: classes}}
			}
		}
	}
	return v, w, c
}

// rows returns the shard's candidates as shardselect rows keyed by table
// row, and their ids. While balancing, unlabelled rows are not candidates
// (spec §7); count rows are one-hot over the target's classes.
func (d *shardData) rows(job *Job, cl Classes, target *strategies.Target) (shardselect.Rows, []string, error) {
	n := len(d.ids)
	nclass := 0
	if target != nil {
		nclass = len(target.Classes)
	}
	var r shardselect.Rows
	r.Vectors, r.Weights, r.Counts = inputs(job, d.dim, nclass)
	class := map[string]int{}
	for c, name := range cl.Names {
		class[name] = c
	}
	var ids []string
	if target == nil && len(r.Vectors) > 0 && len(d.vec) == n*d.dim {
		// Every row is a candidate: the vectors are used in place, not
		// copied row by row (a shard's largest column).
		r.Vectors[0].Data = d.vec
	}
	inPlace := len(r.Vectors) > 0 && r.Vectors[0].Data != nil
	for i := 0; i < n; i++ {
		var col int
		if target != nil {
			if !d.labelled[i] {
				if job.balancing() {
					continue
				}
				col = -1
			} else {
				c, ok := class[d.labels[i]]
				if !ok {
					return r, nil, fmt.Errorf("row %d: label %q is not among the table's classes (the table changed?)", d.first+int64(i), d.labels[i])
				}
				col = target.Column[c]
			}
		}
		r.Index = append(r.Index, int(d.first)+i)
		ids = append(ids, d.ids[i])
		if len(r.Vectors) > 0 && !inPlace {
			r.Vectors[0].Data = append(r.Vectors[0].Data, d.vec[i*d.dim:(i+1)*d.dim]...)
		}
		if len(r.Weights) > 0 {
			r.Weights[0] = append(r.Weights[0], d.weights[i])
		}
		if len(r.Counts) > 0 {
			row := make([]float64, nclass)
			if col >= 0 {
				row[col] = 1
			}
			r.Counts[0].Data = append(r.Counts[0].Data, row...)
		}
	}
	return r, ids, nil
}
