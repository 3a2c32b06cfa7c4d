package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInit guesses a manifest for tables with names that are not
// winnow's, writes it, and a query then runs through it.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	images := arrow.NewSchema([]arrow.Field{{Name: "image_id", Type: arrow.PrimitiveTypes.Int64}, {Name: "w", Type: arrow.PrimitiveTypes.Int64},
		{Name: "vector", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)}}, nil)
	relWriteJSON(t, filepath.Join(dir, "images.parquet"), images, `[{"image_id": 7, "w": 1, "vector": [1, 0]}, {"image_id": 9, "w": 5, "vector": [0, 1]}]`)
	labels := arrow.NewSchema([]arrow.Field{{Name: "image_id", Type: arrow.PrimitiveTypes.Int64}, {Name: "category", Type: arrow.PrimitiveTypes.Int64}}, nil)
	relWriteJSON(t, filepath.Join(dir, "labels.parquet"), labels, `[{"image_id": 9, "category": 3}]`)

	out := ok(t, "init", dir)
	for _, want := range []string{"samples.id", "image_id", "annotations.label", "category", "wrote " + filepath.Join(dir, "winnow.yaml")} {
		assert.Contains(t, out, want)
	}
	text, err := os.ReadFile(filepath.Join(dir, "winnow.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(text), "path: images.parquet")
	assert.Equal(t, "9\n", ok(t, "query", dir, "--where", "w > 2", "--ids"))

	code, _, errs := winnow(t, "", "init", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "winnow.yaml exists; use --force to replace it")
	printed := ok(t, "init", dir, "--print")
	assert.True(t, strings.HasPrefix(printed, "# winnow dataset manifest"), printed)

	// A manifest is also named by its path, in place of DIR: several
	// mappings of one folder side by side.
	require.NoError(t, os.Rename(filepath.Join(dir, "winnow.yaml"), filepath.Join(dir, "images.yaml")))
	assert.Equal(t, "9\n", ok(t, "query", filepath.Join(dir, "images.yaml"), "--where", "w > 2", "--ids"))
	assert.Contains(t, ok(t, "select", "weighted", filepath.Join(dir, "images.yaml"), "--n", "1", "--tag", "top", "--metadata-key", "w"), `into tag "top"`)
}
