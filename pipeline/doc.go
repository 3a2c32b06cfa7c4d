// Package pipeline is winnow's user-facing Go API: open a dataset, narrow it
// with a query, and run selections whose result is stored as a tag.
package pipeline
