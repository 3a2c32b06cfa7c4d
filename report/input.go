package report

import "time"

// Input is what Build reads: a selection record and the parts of its
// dataset a report draws, in plain Go values. Load fills it from a dataset
// folder; tests build it by hand.
//
// Rows are dataset rows (positions in the samples table). Every slice
// indexed by row covers the whole dataset.
type Input struct {
	Header Header
	// Strategies are the record's strategies, in request order; pick i's
	// Objectives[j] belongs to Strategies[j].
	Strategies []StrategyInput
	// Picks are the result tag's samples in record order: the preselected
	// samples first, then the new picks in the order they were picked.
	Picks []PickInput
	// Candidates are the rows the selection chose from, in dataset order,
	// as recomputed from the record's query; nil when they are unknown
	// (Header.Changed then says why).
	Candidates []int
	// Embeddings holds the vectors of the models the report uses, by name.
	Embeddings map[string]*Vectors
	// MapModel names the model of the embedding map and the distance
	// histograms; "" draws neither.
	MapModel string
	// Notes are facts about how the input was gathered that the page
	// should state (for example which model the map uses and why).
	Notes []string
}

// Header is the record's configuration and outcome.
type Header struct {
	Tag     string
	Dataset string // the dataset folder
	Query   string // the candidates' query, "" for every sample
	Version string // winnow's version that made the selection
	// Time is when the selection was stored; zero when not recorded.
	Time time.Time
	// Elapsed is how long the selection took; zero when not recorded.
	Elapsed     time.Duration
	Candidates  int
	Requested   int
	Selected    int // new picks
	Preselected int
	PreTag      string // the preselected tag, "" for none
	DropMissing bool
	// Config is the strategies in LightlyStudio's request format (JSON).
	Config string
	// Warnings are the run's warnings, as the record holds them.
	Warnings []string
	// Changed lists how the dataset differs from the one the selection
	// was made on; empty when every check passed.
	Changed []string
}

// StrategyInput is one strategy of the record and the dataset values a
// report needs for it.
type StrategyInput struct {
	Name     string // name in LightlyStudio's format: diversity, balance, ...
	Strength float64
	Model    string // embedding model, "" for none
	// Key is the metadata column of weights and metadata_balance.
	Key string
	// Source is the annotation source of balance, "" for all.
	Source string
	// QueryTag is similarity's query tag.
	QueryTag string
	// MinDistance is deduplication's threshold; NaN for other strategies.
	MinDistance float64
	// Summaries from the record; at most one is set.
	Coverage *CoverageSummary
	Balance  *BalanceSummary
	Weights  *WeightSummary
	// RowClass is, for a balancing strategy, each row's class as an index
	// into Balance.Classes (-1 for none); nil when unknown. It colours the
	// embedding map.
	RowClass []int32
	// CandidateWeights are the weights of Input.Candidates, in the same
	// order, when the dataset holds them (metadata weighting); nil
	// otherwise.
	CandidateWeights []float64
}

// CoverageSummary is the record's coverage radius of the selection and of
// a random subset of the same size, measured over Measured candidates.
type CoverageSummary struct {
	Selection, Random float64
	Measured          int
}

// BalanceSummary is the record's class shares among the candidates, in
// the target and in the selection, in one class order.
type BalanceSummary struct {
	Classes                       []string
	Candidates, Target, Selection []float64
}

// WeightSummary is the record's mean weight over candidates and selection.
type WeightSummary struct {
	Candidates, Selection float64
}

// PickInput is one sample of the result tag.
type PickInput struct {
	SampleID string
	// Row is the sample's dataset row, -1 when it is no longer in the
	// dataset.
	Row         int
	Rank        int // position in the record, preselected samples first
	Preselected bool
	// Score, InfFactors and Objectives are as recorded; preselected
	// samples have none.
	Score      float64
	InfFactors int
	Objectives []float64
	// Name and Path are the sample's file_name and file_path, "" when the
	// dataset has no such column or the value is null.
	Name, Path string
}

// Vectors are one model's embeddings by dataset row.
type Vectors struct {
	Dim  int
	Data []float32 // row-major, Dim floats a row; rows without a vector hold anything
	// Has reports whether a row has a vector; nil means every row has one.
	Has func(row int) bool
}

// Row returns row r's vector, sharing memory with Data.
func (v *Vectors) Row(r int) []float32 { return v.Data[r*v.Dim : (r+1)*v.Dim : (r+1)*v.Dim] }

// present reports whether row r has a vector.
func (v *Vectors) present(r int) bool {
	if r < 0 || (r+1)*v.Dim > len(v.Data) {
		return false
	}
	return v.Has == nil || v.Has(r)
}
