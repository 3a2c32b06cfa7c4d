package pipeline

// Fuzzing the strategies config: the JSON request (ParseRequest) and the
// --strategy flag form (ParseStrategy). No input may panic; whatever
// parses must be valid (finite strengths, non-negative finite target
// ratios) and must survive a round trip through the JSON form that
// selection records store, unchanged.
//
//	go test -run '^$' -fuzz '^FuzzParseRequest$' -fuzztime 60s ./pipeline/
//	go test -run '^$' -fuzz '^FuzzParseStrategy$' -fuzztime 60s ./pipeline/

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// fzCheckStrategy checks one parsed strategy and its round trip.
func fzCheckStrategy(t *testing.T, s Strategy) {
	t.Helper()
	if x := s.strength(); math.IsNaN(x) || math.IsInf(x, 0) {
		t.Fatalf("%s: strength %v accepted", s.Name(), x)
	}
	var target *Target
	switch s := s.(type) {
	case AnnotationBalancing:
		target = &s.Target
	case MetadataBalancing:
		target = &s.Target
	case Deduplication:
		if math.IsNaN(s.MinDistance) || math.IsInf(s.MinDistance, 0) {
			t.Fatalf("deduplication: minimum distance %v accepted", s.MinDistance)
		}
	}
	if target != nil {
		switch target.Kind() {
		case "uniform", "input":
		case "ratios":
			for k, v := range target.Map() {
				if !(v >= 0) || math.IsInf(v, 0) {
					t.Fatalf("target ratio %q = %v accepted", k, v)
				}
			}
		default:
			t.Fatalf("target of kind %q", target.Kind())
		}
	}
	// Records store toWire's JSON; reading it back must give the same
	// strategy, or a record would misdescribe its selection.
	raw, err := json.Marshal(encodeStrategy(s))
	if err != nil {
		t.Fatalf("%#v: marshal: %v", s, err)
	}
	back, err := decodeStrategy(raw)
	if err != nil {
		t.Fatalf("record form %s does not parse: %v", raw, err)
	}
	raw2, err := json.Marshal(encodeStrategy(back))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(raw2) {
		t.Fatalf("round trip changed the strategy:\n%s\n%s", raw, raw2)
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		`{"n_samples_to_select": 100, "sampling_result_tag_name": "mix", "strategies": [
		  {"strategy_name": "diversity", "embedding_model_name": "pixels", "strength": 1.0},
		  {"strategy_name": "balance", "target_distribution": "uniform", "annotation_source": "ground_truth"},
		  {"strategy_name": "weights", "metadata_key": "ink_fraction", "strength": 0.5}]}`,
		`{"strategies": [{"strategy_name": "deduplication", "stopping_condition_minimum_distance": 0.3}]}`,
		`{"strategies": [{"strategy_name": "metadata_balance", "metadata_key": "weather", "target_distribution": {"sunny": 0.5, "rain": 0.5}}]}`,
		`{"strategies": [{"strategy_name": "similarity", "query_tag_name": "q", "strength": -1}]}`,
		`{"strategies": [{"strategy_name": "typicality"}, {"strategy_name": "outliers", "strength": 0}]}`,
		`{"strategies": [{"strategy_name": "balance", "target_distribution": "input"}]}`,
		`{"strategies": [{"strategy_name": "balance", "target_distribution": {"a": -1}}]}`,
		`{"strategies": [{"strategy_name": "diversity", "strength": 1e400}]}`,
		`{"strategies": [{"strategy_name": "diversity", "colour": 1}]}`,
		`{"strategies": []}`, `{"strategies": null}`, `{"strategies": [null]}`, `{"strategies": [[]]}`,
		`{"n_samples_to_select": -5, "strategies": [{"strategy_name": "diversity"}]}`,
		`{"n_samples_to_select": 1e30, "strategies": [{"strategy_name": "diversity"}]}`,
		`{"strategies": [{"strategy_name": "diversity"}], "strategies": []}`,
		`{"selection_result_tag_name": "a", "preselected_tag_name": "p", "collection_id": "c", "selected_sequence_length": 4, "strategies": [{"strategy_name": "diversity"}]}`,
		`{"filter": {"filter_type": "image", "width": {"min": 1, "max": 2}, "sample_filter": {"metadata_filters": [{"key": "k", "op": "in", "value": ["a", null, true]}], "tag_ids": []}}, "strategies": [{"strategy_name": "diversity"}]}`,
		`{"strategies": [{"strategy_name": "balance", "annotation_source_id": "s", "annotation_source": "s"}]}`,
		`[]`, `null`, `"x"`, `{`, ``, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "strategies config") {
				t.Fatalf("error %q does not say it is about the strategies config", err)
			}
			return
		}
		if len(req.Strategies) == 0 {
			t.Fatal("a request without strategies was accepted")
		}
		for _, s := range req.Strategies {
			fzCheckStrategy(t, s)
		}
	})
}

func FuzzParseStrategy(f *testing.F) {
	for _, seed := range []string{
		"diversity", "diversity:model=pixels,strength=1",
		"weights:key=difficulty", "weights:metadata-key=w,strength=-0.5",
		"balance:target=cat=0.5,dog=0.3,source=ground_truth",
		"balance:target=uniform", "balance:target=input,source=x",
		"metadata_balance:key=weather,target=sunny=1;rain=2",
		"deduplication:min_distance=0.25,model=m", "deduplication:min-distance=NaN",
		"similarity:query_tag=q,strength=-2", "typicality", "outliers:strength=0",
		"diversity:strength=NaN", "diversity:strength=Inf", "diversity:strength=1e400",
		"balance:target=", "balance:target==", "balance:target=a=1,a=2", "balance:target=a=-1",
		"weights:key=", "magic", ":", "", ",,,", "diversity:model", "diversity:=x",
		"balance:source=s,target=a=1,b=2", "similarity:query_tag=a,b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseStrategy(text)
		if err != nil {
			if !strings.Contains(err.Error(), "strategy") && !strings.Contains(err.Error(), "target") {
				t.Fatalf("error %q does not say which strategy or target is wrong", err)
			}
			return
		}
		fzCheckStrategy(t, s)
	})
}
