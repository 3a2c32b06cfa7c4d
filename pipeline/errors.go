package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/tags"
)

// Errors a caller can test with errors.Is. A name the dataset lacks is a
// *NameError (errors.As gives the name and the known ones) of one of the
// four Unknown kinds.
var (
	ErrUnknownTag    = columnar.ErrUnknownTag
	ErrUnknownColumn = columnar.ErrUnknownColumn
	ErrUnknownModel  = columnar.ErrUnknownModel
	ErrUnknownSource = columnar.ErrUnknownSource
	// ErrTagExists reports a result tag name already in use.
	ErrTagExists = tags.ErrExists
	// ErrNoEmbeddings reports a strategy that needs embeddings on a
	// dataset without any.
	ErrNoEmbeddings = errors.New("the dataset has no embeddings (no embeddings/ folder)")
	// ErrNoRecord reports a tag made without a selection.
	ErrNoRecord = tags.ErrNoRecord
)

// NameError reports a name that the dataset does not have.
type NameError = columnar.NameError

// ColumnTypeError reports a column whose type does not suit its use.
type ColumnTypeError = columnar.ColumnTypeError

// AmbiguousModelError reports a strategy that names no embedding model on
// a dataset with several.
type AmbiguousModelError struct {
	Models []string
}

func (e *AmbiguousModelError) Error() string {
	return fmt.Sprintf("the dataset has several embedding models (%s): name one", strings.Join(e.Models, ", "))
}

// MissingEmbeddingsError reports candidates without a vector for a model
// a strategy needs (Options.DropMissing drops them instead).
type MissingEmbeddingsError struct {
	Model      string
	Missing    int    // candidates without a vector
	Candidates int    // candidates in all
	First      string // the first such sample, by id
}

func (e *MissingEmbeddingsError) Error() string {
	return fmt.Sprintf("%d of %d candidates have no embedding for model %q (first: sample %s)", e.Missing, e.Candidates, e.Model, e.First)
}

// ValueError reports candidates whose value for a strategy is unusable: a
// null, NaN, infinite or negative weight.
type ValueError struct {
	What       string // the input, e.g. `metadata column "difficulty"`
	Reason     string // "null", "NaN", "+Inf", "-Inf" or "negative"
	Count      int    // candidates affected
	Candidates int
	First      string // the first affected sample, by id
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s: %d of %d candidates have a %s weight (first: sample %s)", e.What, e.Count, e.Candidates, e.Reason, e.First)
}

// PredictionError reports candidates whose predictions give no
// uncertainty: none of the source, or a confidence that is null, NaN or
// outside [0, 1] (Options.DropMissing drops them instead).
type PredictionError struct {
	Source     string
	Reason     string // e.g. "no prediction", "a null confidence"
	Count      int
	Candidates int
	First      string // the first such sample, by id
}

func (e *PredictionError) Error() string {
	return fmt.Sprintf("predictions of source %q: %d of %d candidates have %s (first: sample %s)", e.Source, e.Count, e.Candidates, e.Reason, e.First)
}
