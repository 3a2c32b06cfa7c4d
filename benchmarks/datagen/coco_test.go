package datagen

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteCOCOShape: the generated file is valid JSON with the counts of
// its shape, and the same seed gives the same bytes.
func TestWriteCOCOShape(t *testing.T) {
	s := COCOShape{Images: 50, Annotations: 400, Unannotated: 3, CrowdEvery: 10, Points: 8}
	var a, b bytes.Buffer
	require.NoError(t, WriteCOCO(&a, s, 7))
	require.NoError(t, WriteCOCO(&b, s, 7))
	require.Equal(t, a.Bytes(), b.Bytes())
	var doc struct {
		Images []struct {
			ID int `json:"id"`
		} `json:"images"`
		Annotations []struct {
			ImageID int `json:"image_id"`
			IsCrowd int `json:"iscrowd"`
		} `json:"annotations"`
		Categories []any `json:"categories"`
	}
	require.NoError(t, json.Unmarshal(a.Bytes(), &doc))
	require.Len(t, doc.Images, 50)
	require.Len(t, doc.Annotations, 400)
	require.Len(t, doc.Categories, 80)
	annotated, crowd := map[int]bool{}, 0
	for _, x := range doc.Annotations {
		annotated[x.ImageID] = true
		crowd += x.IsCrowd
	}
	require.Len(t, annotated, 47)
	require.Equal(t, 40, crowd)
}
