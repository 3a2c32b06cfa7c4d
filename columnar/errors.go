package columnar

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of NameError, for errors.Is: the dataset has no tag, column,
// embedding model or annotation source of the name asked for.
var (
	ErrUnknownTag    = errors.New("unknown tag")
	ErrUnknownColumn = errors.New("unknown column")
	ErrUnknownModel  = errors.New("unknown embedding model")
	ErrUnknownSource = errors.New("unknown annotation source")
)

// NameError reports a name that the dataset does not have, with the names
// it has. errors.Is(err, ErrUnknownTag) (or the other kinds) tests it.
type NameError struct {
	Kind  error    // ErrUnknownTag, ErrUnknownColumn, ErrUnknownModel or ErrUnknownSource
	Name  string   // the name asked for
	Known []string // the names the dataset has, in its order
	msg   string
}

func (e *NameError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("%v %q; known %s: %s", e.Kind, e.Name, pluralOf(e.Kind), knownList(e.Known))
}

// pluralOf names the things of a kind in messages.
func pluralOf(kind error) string {
	switch kind {
	case ErrUnknownTag:
		return "tags"
	case ErrUnknownModel:
		return "models"
	case ErrUnknownSource:
		return "sources"
	}
	return "columns"
}

// Is reports whether target is e's kind.
func (e *NameError) Is(target error) bool { return target == e.Kind }

// nameError builds a NameError whose message is format's.
func nameError(kind error, name string, known []string, format string, args ...any) *NameError {
	return &NameError{Kind: kind, Name: name, Known: known, msg: fmt.Sprintf(format, args...)}
}

// ColumnTypeError reports a column whose type does not suit its use: a
// string column asked for as weights, a float column as categories.
type ColumnTypeError struct {
	Table  string // the table's path
	Scope  string // "metadata" (a samples column) or "annotation"
	Column string
	Type   string // the column's type as the table declares it
	Want   string // what the use needs, in words
}

func (e *ColumnTypeError) Error() string {
	return fmt.Sprintf("%s column %q is %s; %s", e.Scope, e.Column, e.Type, e.Want)
}

// knownList formats names for "unknown X" errors.
func knownList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
