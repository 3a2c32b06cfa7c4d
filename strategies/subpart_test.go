package strategies

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSubpartExamples(t *testing.T) {
	// s0: objects {0}; s1: {1, 10}; s2: none; s3: {5}; s4 (not a
	// candidate): {20}.
	start := []int{0, 1, 3, 3, 4, 5}
	objs := []float32{0, 1, 10, 5, 20}
	tests := []struct {
		name string
		p    Problem
		want []int
		obj  []float64
	}{
		// While no object is selected every sample with objects scores
		// 1 (the lowest index wins); one without scores 0 and comes last.
		{"alone", Problem{Rows: 5, Candidates: 4, Picks: 4}, []int{0, 1, 3, 2}, []float64{1, 10, 4, 0}},
		// A preselected sample outside the candidates counts: with
		// B = {20}, s0 is 20 away; then with B = {20, 0}, s1's object
		// 10 is 10 from both.
		{"preselected outside", Problem{Rows: 5, Candidates: 4, Preselected: []int{4}, Picks: 2}, []int{0, 1}, []float64{20, 10}},
		// A selected sample without objects leaves B empty.
		{"preselected without objects", Problem{Rows: 5, Candidates: 4, Preselected: []int{2}, Picks: 2}, []int{0, 1}, []float64{1, 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Strategies = []Strategy{mustSub(t, start, objs, 1, 1)}
			if got := allPaths(t, tc.p); !slices.Equal(got, tc.want) {
				t.Fatalf("picks %v, want %v", got, tc.want)
			}
			res, err := Select(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			for k, pk := range res.Picks {
				if pk.Objectives[0] != tc.obj[k] {
					t.Errorf("pick %d: objective %v, want %v", k, pk.Objectives[0], tc.obj[k])
				}
			}
		})
	}
	// With weights deciding while B is empty: the sample without objects
	// has the largest weight, but its 0 objective still loses.
	p := Problem{Rows: 5, Candidates: 4, Picks: 2, Strategies: []Strategy{mustSub(t, start, objs, 1, 1), mustW(t, []float64{1, 2, 9, 3}, 1)}}
	if got := allPaths(t, p); !slices.Equal(got, []int{3, 1}) {
		t.Errorf("with weights: %v, want [3 1]", got)
	}
}

func TestSubpartErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start []int
		v     []float32
		want  string
	}{
		{"empty", nil, nil, "subpart diversity: object offsets must start at 0"},
		{"start", []int{1, 2}, []float32{1, 2}, "subpart diversity: object offsets must start at 0"},
		{"decreasing", []int{0, 2, 1, 2}, []float32{1, 2}, "subpart diversity: object offsets decrease at row 1"},
		{"end", []int{0, 1}, []float32{1, 2}, "subpart diversity: object offsets end at 1, but there are 2 object vectors"},
		{"NaN", []int{0, 1}, []float32{float32(math.NaN())}, "subpart diversity: vectors: row 0 is NaN (1 rows affected)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSubpartDiversity(tc.start, tc.v, 1, 1); err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Select(context.Background(), Problem{Rows: 3, Candidates: 3, Picks: 1, Strategies: []Strategy{mustSub(t, []int{0, 1}, []float32{1}, 1, 1)}})
	if want := "select: strategy 0: subpart diversity: objects for 1 rows, need 3"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestSubpartSkipsWork checks that the object distances are kept with the
// skips of sample diversity (a count, not a timing), with the
// straightforward picks.
func TestSubpartSkipsWork(t *testing.T) {
	const n, per, dim, k = 1500, 3, 8, 120
	v := clustered(rand.New(rand.NewPCG(3, 4)), n*per, dim)
	start := make([]int, n+1)
	for i := range start {
		start[i] = i * per
	}
	var res [2]*Result
	for i, straight := range []bool{false, true} {
		var err error
		res[i], err = Select(context.Background(), Problem{Rows: n, Candidates: n, Picks: k, Straightforward: straight,
			Strategies: []Strategy{mustSub(t, start, v, dim, 1)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(rows(res[0]), rows(res[1])) {
		t.Fatal("fast and straightforward picks differ")
	}
	if res[1].Distances != n*per*k*per || res[0].Distances > res[1].Distances/3 {
		t.Errorf("fast update computed %d distances, straightforward %d", res[0].Distances, res[1].Distances)
	}
}
