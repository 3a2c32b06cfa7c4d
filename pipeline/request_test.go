package pipeline

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseRequestLightlyStudio: both generations of LightlyStudio's
// field names, its REST filter, and the fields with no meaning outside its
// database. Before, every field but n_samples_to_select,
// sampling_result_tag_name and strategies was refused.
func TestParseRequestLightlyStudio(t *testing.T) {
	div := `"strategies": [{"strategy_name": "diversity"}]`
	cases := []struct {
		name  string
		req   string
		want  Request // Strategies not compared
		notes []string
	}{
		{"selection config", `{"n_samples_to_select": 7, "selection_result_tag_name": "a", ` + div + `}`, Request{N: 7, Tag: "a"}, nil},
		{"sampling config", `{"n_samples_to_select": 7, "sampling_result_tag_name": "a", "preselected_tag_name": "seen", ` + div + `}`,
			Request{N: 7, Tag: "a", Preselected: "seen"}, nil},
		{"both names agreeing", `{"selection_result_tag_name": "a", "sampling_result_tag_name": "a", ` + div + `}`, Request{Tag: "a"}, nil},
		{"nulls", `{"selection_result_tag_name": null, "preselected_tag_name": null, "selected_sequence_length": null, "collection_id": null, "filter": null, ` + div + `}`, Request{}, nil},
		{"collection id", `{"collection_id": "8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48", ` + div + `}`, Request{},
			[]string{`collection_id "8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48" was ignored: it names a collection of LightlyStudio's database; winnow selects from the dataset folder it is given`}},
		{"sequence length", `{"selected_sequence_length": 8, ` + div + `}`, Request{SequenceLength: 8}, nil},
		{"filter ranges", `{"filter": {"filter_type": "image", "width": {"min": 640}, "height": {"min": 480, "max": 1080.5}}, ` + div + `}`,
			Request{Where: "height >= 480 and height <= 1080.5 and width >= 640"}, nil},
		{"filter video", `{"filter": {"filter_type": "video", "fps": {"min": 24, "max": 60}, "duration_s": {"max": 30}, "frame_annotation_filter": {}}, ` + div + `}`,
			Request{Where: "duration_s <= 30 and fps >= 24 and fps <= 60"},
			[]string{"filter field frame_annotation_filter was ignored: it refers to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the condition as a query (--where) instead"}},
		{"filter metadata", `{"filter": {"sample_filter": {"metadata_filters": [
				{"key": "weather", "op": "in", "value": ["rain", null]},
				{"key": "difficulty", "op": ">=", "value": 0.5},
				{"key": "night", "op": "==", "value": true},
				{"key": "camera", "op": "!=", "value": null}],
				"tag_ids": ["4c0d8a3e-0000-4000-8000-000000000000"], "annotations_filter": {"annotation_label_ids": []}}}, ` + div + `}`,
			Request{Where: `(weather in ("rain") or weather is null) and difficulty >= 0.5 and night == true and camera is not null`},
			[]string{"filter fields sample_filter.annotations_filter, sample_filter.tag_ids were ignored: they refer to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the conditions as a query (--where) instead"}},
		{"filter sample ids", `{"filter": {"sample_filter": {"sample_ids": ["8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48"]}}, ` + div + `}`,
			Request{Where: `sample_id in ("8b6c1f0e-2d4a-4c5e-9f31-7a0d5e2b9c48")`}, nil},
		{"filter of nothing that maps", `{"filter": {"sample_filter": {"has_captions": true}}, ` + div + `}`, Request{},
			[]string{"filter field sample_filter.has_captions was ignored: it refers to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the condition as a query (--where) instead"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(c.req))
			require.NoError(t, err)
			assert.Len(t, req.Strategies, 1)
			assert.Equal(t, c.notes, req.Notes)
			got := *req
			got.Strategies, got.Notes = nil, nil
			assert.Equal(t, c.want, got)
			if got.Where != "" {
				_, err := (&Query{}).Where(got.Where)
				assert.NoError(t, err, "the translated filter parses back")
			}
		})
	}
}

// TestParseRequestLightlyStudioErrors: what of LightlyStudio's fields
// cannot be right is an error naming it.
func TestParseRequestLightlyStudioErrors(t *testing.T) {
	div := `"strategies": [{"strategy_name": "diversity"}]`
	for _, c := range []struct{ req, msg string }{
		{`{"selection_result_tag_name": "a", "sampling_result_tag_name": "b", ` + div + `}`,
			`strategies config: sampling_result_tag_name and selection_result_tag_name name different tags ("b", "a"); give one`},
		{`{"selected_sequence_length": 1, ` + div + `}`, `strategies config: field "selected_sequence_length": a sequence is at least 2 frames, got 1`},
		{`{"selected_sequence_length": "8", ` + div + `}`, `strategies config: field "selected_sequence_length": must be a whole number, got string`},
		{`{"preselected_tag_name": 3, ` + div + `}`, `strategies config: field "preselected_tag_name": must be a string, got number`},
		{`{"filter": {"filter_type": "audio"}, ` + div + `}`, `strategies config: field "filter": filter_type must be "image", "video" or "sample", got "audio"`},
		{`{"filter": {"width": {"min": "wide"}}, ` + div + `}`, `strategies config: field "filter": width must be an object {"min": number, "max": number}`},
		{`{"filter": {"sample_filter": {"metadata_filters": [{"key": "w", "op": "~", "value": 1}]}}, ` + div + `}`,
			`strategies config: field "filter": sample_filter.metadata_filters[0]: unknown op "~" (one of >, >=, <, <=, ==, !=, in)`},
		{`{"filter": {"sample_filter": {"metadata_filters": [{"key": "w", "op": "in", "value": []}]}}, ` + div + `}`,
			`sample_filter.metadata_filters[0]: op "in" needs a non-empty list of values, got []`},
		{`{"filter": {"sample_filter": {"metadata_filters": [{"key": "w", "op": ">", "value": null}]}}, ` + div + `}`,
			`sample_filter.metadata_filters[0]: op ">" cannot compare with null`},
		{`{"filter": {"sample_filter": {"metadata_filters": [{"key": "w", "op": ">", "value": {"a": 1}}]}}, ` + div + `}`,
			`sample_filter.metadata_filters[0]: value {"a": 1} is not a string, number or boolean`},
		{`{"strategies": [{"strategy_name": "balance", "annotation_source": "a", "annotation_source_id": "b"}]}`,
			`strategies config: strategies[0]: strategy "balance": annotation_source "a" and annotation_source_id "b" name different sources; give one`},
		{`{"n_samples_to_select": 3, "colour": 1, ` + div + `}`, `strategies config: unknown field "colour" (known: n_samples_to_select, sampling_result_tag_name, selection_result_tag_name, preselected_tag_name, selected_sequence_length, sequence_length, group_by, order_by, max_per_group, exclude_near, collection_id, filter, strategies)`},
	} {
		_, err := ParseRequest([]byte(c.req))
		if assert.Error(t, err, c.req) {
			assert.Contains(t, err.Error(), c.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "strategies config"), err.Error())
		}
	}
}

// TestAnnotationSourceID: LightlyStudio's annotation_source_id names the
// source like annotation_source; the record keeps annotation_source.
func TestAnnotationSourceID(t *testing.T) {
	req, err := ParseRequest([]byte(`{"strategies": [{"strategy_name": "balance", "target_distribution": "uniform", "annotation_source_id": "ground_truth"}]}`))
	require.NoError(t, err)
	assert.Equal(t, AnnotationBalancing{Target: Uniform, Source: "ground_truth"}, req.Strategies[0])
	s, err := ParseStrategy("balance:source_id=gt")
	require.NoError(t, err)
	assert.Equal(t, "gt", s.(AnnotationBalancing).Source)
}

// TestStrategiesNameTheirObjective: every kind says what it scores by.
func TestStrategiesNameTheirObjective(t *testing.T) {
	for _, s := range Strategies() {
		assert.NotEmpty(t, s.Objective, s.Name)
		assert.NotEmpty(t, s.ObjectiveHelp, s.Name)
		assert.Equal(t, s.Objective, ObjectiveOf(s.Name))
	}
	assert.Equal(t, "distance", ObjectiveOf("diversity"))
	assert.Equal(t, "", ObjectiveOf("nope"))
}
