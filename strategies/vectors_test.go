package strategies

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// halfCopy returns v rounded to float16, and the float32 copy of the
// rounded values.
func halfCopy(v []float32) ([]uint16, []float32) {
	h := make([]uint16, len(v))
	EncodeFloat16(h, v)
	f := make([]float32, len(v))
	DecodeFloat16(f, h)
	return h, f
}

// TestFloat16MatchesFloat32Copy runs every vector strategy on float16 data
// and on the float32 copy of the same values: the picks, their objectives,
// typicality (exact and approximate), similarity and coverage must be
// identical, bit for bit, on every engine path and kernel set.
func TestFloat16MatchesFloat32Copy(t *testing.T) {
	const n, dim = 3000, 2*distBlock + 7
	r := rand.New(rand.NewPCG(41, 42))
	h, f := halfCopy(clustered(r, n, dim))
	vh, vf := Vectors{Dim: dim, F16: h}, Vectors{Dim: dim, F32: f}
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 + r.Float64()
	}
	problems := func(v Vectors) []Problem {
		div, err := NewDiversity(v, 1)
		if err != nil {
			t.Fatal(err)
		}
		dedup, err := NewDeduplication(v, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		return []Problem{
			{Rows: n, Candidates: n - 7, Picks: 200, Strategies: []Strategy{div}},
			{Rows: n, Candidates: n, Picks: 150, Preselected: []int{n - 1, 5}, Strategies: []Strategy{dedup}},
			{Rows: n, Candidates: n, Picks: 150, Strategies: []Strategy{div, mustW(t, w, 0.5)}},
		}
	}
	ph, pf := problems(vh), problems(vf)
	for i := range ph {
		want := allPaths(t, pf[i])
		if got := allPaths(t, ph[i]); !slices.Equal(got, want) {
			t.Fatalf("problem %d: float16 picks %v, float32 copy %v", i, got, want)
		}
		a, err := Select(context.Background(), ph[i])
		if err != nil {
			t.Fatal(err)
		}
		b, err := Select(context.Background(), pf[i])
		if err != nil {
			t.Fatal(err)
		}
		for k := range a.Picks {
			if !slices.Equal(a.Picks[k].Objectives, b.Picks[k].Objectives) {
				t.Fatalf("problem %d pick %d: objectives %v, float32 copy %v", i, k, a.Picks[k].Objectives, b.Picks[k].Objectives)
			}
		}
	}
	for _, mode := range []NeighbourMode{NeighboursExact, NeighboursApproximate} {
		opt := NeighbourOptions{Mode: mode, Lists: 20, Probe: 4, RecallQueries: 100}
		a, ia, err := TypicalityWeights(context.Background(), vh, n, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, ib, err := TypicalityWeights(context.Background(), vf, n, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) || ia.Recall != ib.Recall {
			t.Fatalf("%v typicality differs between float16 and its float32 copy (%v, %v)", mode, ia, ib)
		}
	}
	qh, qf := Vectors{Dim: dim, F16: h[:5*dim]}, Vectors{Dim: dim, F32: f[:5*dim]}
	if a, b := SimilarityWeights(vh, n, qh), SimilarityWeights(vf, n, qf); !slices.Equal(a, b) {
		t.Fatal("similarity differs between float16 and its float32 copy")
	}
	pts, cs := []int{1, 5, 99, 2000, 2999}, []int{0, 7, 1500}
	a, _ := CoverageRadius(context.Background(), vh, pts, cs, 2)
	b, _ := CoverageRadius(context.Background(), vf, pts, cs, 2)
	if a != b || a == 0 {
		t.Fatalf("coverage radius %v on float16, %v on the float32 copy", a, b)
	}
}

func TestVectorsErrors(t *testing.T) {
	inf16, nan16 := ToFloat16(float32(math.Inf(1))), uint16(0x7e01)
	tests := []struct {
		name string
		v    Vectors
		want string
	}{
		{"both", Vectors{Dim: 1, F32: []float32{1}, F16: []uint16{1}}, "diversity: vectors hold both float32 and float16 values"},
		{"half shape", Vectors{Dim: 2, F16: []uint16{1, 2, 3}}, "diversity: 3 values are not a whole number of 2-dimensional vectors"},
		{"half Inf", Vectors{Dim: 2, F16: []uint16{0, 0, 0, inf16, nan16, 0}}, "diversity: vectors: row 1 is +Inf (2 rows affected)"},
		{"float NaN", Vectors{Dim: 1, F32: []float32{0, float32(math.NaN())}}, "diversity: vectors: row 1 is NaN (1 rows affected)"},
	}
	for _, tc := range tests {
		if _, err := NewDiversity(tc.v, 1); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// Finite skips the value check (the caller vouched) but not the shape.
	if _, err := NewDiversity(Vectors{Dim: 1, F32: []float32{float32(math.NaN())}, Finite: true}, 1); err != nil {
		t.Errorf("finite-vouched vectors checked again: %v", err)
	}
	if _, err := NewDiversity(Vectors{Dim: 2, F32: []float32{1}, Finite: true}, 1); err == nil {
		t.Error("finite-vouched vectors of the wrong shape accepted")
	}
	// Many rows, several tasks: the first bad row and the count.
	v := make([]float32, 3*10000)
	for _, i := range []int{3*9000 + 1, 3*123 + 2, 3 * 5000} {
		v[i] = float32(math.Inf(-1))
	}
	err := Vectors{Dim: 3, F32: v}.Check(3)
	if e, ok := err.(*ValueError); !ok || e.Row != 123 || e.Count != 3 || e.Reason != "-Inf" {
		t.Errorf("check: %v", err)
	}
	if _, _, err := TypicalityWeights(context.Background(), Vectors{Dim: 1, F32: []float32{0, float32(math.NaN())}}, 2, NeighbourOptions{}); err == nil ||
		err.Error() != "typicality: vectors: row 1 is NaN (1 rows affected)" {
		t.Errorf("typicality of NaN: %v", err)
	}
}

// TestCoverageChunks: searching the points in chunks gives the radius of
// one search, and both equal a brute-force scan.
func TestCoverageChunks(t *testing.T) {
	const n, dim = 1000, 9
	r := rand.New(rand.NewPCG(7, 8))
	f := make([]float32, n*dim)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	v := Vectors{Dim: dim, F32: f}
	var pts, cs []int
	for i := range n {
		if i%17 == 0 {
			cs = append(cs, i)
		} else {
			pts = append(pts, i)
		}
	}
	want := 0.0
	for _, p := range pts {
		best := math.Inf(1)
		for _, c := range cs {
			d := 0.0
			for k := range dim {
				x := float64(f[p*dim+k]) - float64(f[c*dim+k])
				d += x * x
			}
			best = min(best, d)
		}
		want = max(want, best)
	}
	want = math.Sqrt(want)
	for _, chunk := range []int{1, 7, 64, coverageChunk} {
		got, err := coverageRadius(context.Background(), v, pts, cs, 2, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-9*want {
			t.Fatalf("chunk %d: radius %v, brute force %v", chunk, got, want)
		}
	}
}

// TestCoverageFewCenters: the direct path for a few centers gives the
// tile search's radius bit for bit, on float32 and float16 rows.
func TestCoverageFewCenters(t *testing.T) {
	const n, dim = 3000, 37
	r := rand.New(rand.NewPCG(9, 10))
	f := make([]float32, n*dim)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	h := make([]uint16, len(f))
	for i, x := range f {
		h[i] = ToFloat16(x)
	}
	pts := make([]int32, 0, n)
	for i := range n {
		pts = append(pts, int32(i))
	}
	for _, v := range []Vectors{{Dim: dim, F32: f}, {Dim: dim, F16: h}} {
		for k := 1; k <= fewCenters; k++ {
			cs := make([]int32, k)
			for i := range cs {
				cs[i] = int32(r.IntN(n))
			}
			a := fewCentersRadius(context.Background(), &v, pts, cs, 2, 100)
			b := tileRadius(context.Background(), &v, pts, cs, 2, 1000)
			if a != b || a == 0 {
				t.Fatalf("half %v, %d centers: direct %v, tile %v", v.Half(), k, a, b)
			}
		}
	}
}
