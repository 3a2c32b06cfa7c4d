package importers

import (
	"fmt"
	"strconv"
)

// InputError is malformed input: the file, the place in it, and what is
// wrong. Nothing is written when an import returns one.
type InputError struct {
	File  string // the input file
	Line  int    // 1-based line, for line-oriented files; 0 when not known
	Where string // another locator: "annotations[17] (id 42)", "row 5, column 3", "header"; may be empty
	Err   error  // what is wrong
}

func (e *InputError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Where != "" {
		s += ": " + e.Where
	}
	return s + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// inputErr is an *InputError with a formatted message.
func inputErr(file string, line int, where string, format string, args ...any) *InputError {
	return &InputError{File: file, Line: line, Where: where, Err: fmt.Errorf(format, args...)}
}

// ExistsError reports an output that is already there and that the import
// was not told to replace (Force).
type ExistsError struct {
	Path string // the dataset folder or the table
	What string // "is not empty", "exists"
}

func (e *ExistsError) Error() string { return e.Path + " " + e.What }

// SourceError reports annotations that carry confidences (so they are
// predictions) imported without naming their source: they would otherwise
// be labelled ground truth.
type SourceError struct {
	File  string
	Where string // the first annotation with a confidence
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("%s: %s has a confidence, so these annotations are predictions: name their source (a model name)", e.File, e.Where)
}
