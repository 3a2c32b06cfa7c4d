package report

// Data is a report's content: numbers and text, no images. Build computes
// it from an Input; Plots and WriteHTML draw it.
type Data struct {
	Header     Header
	Strategies []StrategySection
	// Coverage holds one curve per embedding model measured.
	Coverage []Coverage
	// Classes holds one distribution per balancing strategy.
	Classes []Classes
	// Map is the 2-D embedding projection; nil without embeddings.
	Map *Map
	// Distances are the nearest-neighbour histograms; nil without
	// embeddings.
	Distances *Distances
	// Weights holds one distribution per weight-like strategy.
	Weights []Weights
	Picks   Picks
	// Notes say what the report sampled or could not show, in words.
	Notes []string
}

// StrategySection is one strategy as the page lists it.
type StrategySection struct {
	Index    int
	Name     string
	Strength float64
	Model    string
	Detail   string // the strategy's parameters, e.g. `column "ink_fraction"`
	Summary  string // the record's summary of what it achieved, one line
}

// Coverage is the coverage radius (the largest distance from a candidate
// to its nearest selected sample) as the selection grows, for the greedy
// order and for a random order of the candidates.
//
// Index k of both curves is the set of the preselected samples plus the
// first k new picks. NaN marks an undefined value: the radius of an empty
// set, or the neutral objective 1 of a first pick with nothing selected.
type Coverage struct {
	Model string
	// Strategy is the index of the diversity or deduplication strategy
	// whose recorded objectives form Curve; -1 when Curve was measured.
	Strategy int
	// Curve[k] is the diversity objective of new pick k+1 (its distance to
	// the samples selected before it), copied from the record. For
	// diversity alone it is the coverage radius of set k. When Strategy is
	// -1 it is that radius measured over the Measured candidates.
	Curve []float64
	// Random[k] is the coverage radius of the preselected samples plus the
	// first k samples of a random order of the candidates, measured over
	// Measured candidates; len(Curve)+1 values, or none when the
	// candidates are unknown.
	Random []float64
	// Measured is how many candidates (a deterministic sample) the
	// measured curves were taken over; Of is how many there are.
	Measured, Of int
	// Final and FinalRandom are the record's radius of the whole selection
	// and of a random subset of its size; NaN when not recorded.
	Final, FinalRandom float64
	// Elbow is the number of new picks at the curve's elbow (the point
	// farthest below the chord of its running minimum); -1 when the curve
	// has none, or when other strategies shared the score and the curve
	// zigzags with their choices.
	Elbow int
	// Combined is set when other strategies shared the score, so a pick's
	// distance is not the coverage radius.
	Combined bool
}

// Classes compares class shares among the candidates, in the target and
// in the selection for one balancing strategy. Each share slice sums to 1,
// or is all zero when nothing was counted.
type Classes struct {
	Strategy                      int
	Title                         string
	Labels                        []string
	Candidates, Target, Selection []float64
	// Short marks classes whose selection share fell short of the target
	// by more than half a sample: the target could not be reached.
	Short []bool
}

// Map is a 2-D PCA projection of the embeddings: a sample of the
// candidates and every selected sample.
type Map struct {
	Model string
	// Candidates are the drawn candidates that were not selected.
	Candidates []Point
	// Selected are every sample of the result tag with a vector.
	Selected []Point
	// Classes names the colours of Point.Class, in legend order; empty
	// when the points are not coloured.
	Classes []string
	// Drawn is how many candidates were drawn (selected ones included)
	// of Of; Fit is how many the projection was fitted on.
	Drawn, Of, Fit int
	// Variance is the share of the fitted sample's variance along each
	// axis.
	Variance [2]float64
}

// Point is one sample on the map.
type Point struct {
	X, Y        float64
	Class       int // index into Map.Classes, -1 for none
	Preselected bool
}

// Distances compares nearest-neighbour distances within the candidates
// and within the selection.
type Distances struct {
	Model      string
	Candidates NearestNeighbours
	Selection  NearestNeighbours
	// MinDistance is the deduplication threshold; NaN when none.
	MinDistance float64
}

// NearestNeighbours are the distances from Queries samples of a set to
// their nearest other member of a reference sample of Reference of the
// set's Of members.
type NearestNeighbours struct {
	Values                 []float64
	Queries, Reference, Of int
}

// Weights compares one weight over the candidates and the selection.
type Weights struct {
	Strategy int
	Title    string
	// Candidates and Selection share the bins of Candidates' range joined
	// with Selection's; Candidates is nil when the record does not hold
	// the candidates' weights.
	Candidates, Selection *Histogram
	// Means are the record's; NaN when not recorded.
	CandidateMean, SelectionMean float64
}

// Histogram counts values in equal bins from Lo to Hi.
type Histogram struct {
	Lo, Hi float64
	Counts []int
	Total  int // values counted (non-finite values are left out)
}

// Picks are the first new picks, as a table.
type Picks struct {
	Rows []PickRow
	// Columns name the objective columns, one per strategy.
	Columns []string
	// Total is the number of new picks; Preselected the preselected
	// samples, which the table does not list.
	Total, Preselected int
	// Thumbnails is how many rows have a thumbnail.
	Thumbnails int
	// Note says why some rows have no thumbnail, "" when all do.
	Note string
}

// PickRow is one pick.
type PickRow struct {
	Pick       int // 1 for the first new pick
	SampleID   string
	Name       string
	Score      float64
	InfFactors int
	Objectives []float64
	// Thumbnail is a small PNG of the sample's image, nil when none.
	Thumbnail []byte
	// ThumbnailType is its MIME type, image/png or image/jpeg.
	ThumbnailType string
}
