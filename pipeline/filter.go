package pipeline

// LightlyStudio's REST sampling request narrows the candidates with a
// "filter": an ImageFilter or VideoFilter of its database, e.g.
//
//	{"filter_type": "image", "width": {"min": 640}, "height": {"max": 1080},
//	 "sample_filter": {"metadata_filters": [{"key": "weather", "op": "in", "value": ["rain", "snow"]}],
//	                   "tag_ids": ["4c0d..."]}}
//
// The parts that speak of a sample's own columns (width and height, a
// video's fps and duration_s, metadata comparisons, sample ids) are the
// same conditions in winnow's query language, and become the request's
// Where. The rest (tag, annotation-label and region ids, captions,
// confusion cells, query expressions over its tables) name rows of
// LightlyStudio's database and mean nothing in a dataset folder: they are
// left out, and a note says which.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/winnow-data/winnow/query"
)

// translateFilter turns a LightlyStudio filter into a match expression
// (nil when nothing of it maps) and notes naming the parts left out.
func translateFilter(raw json.RawMessage) (query.Expr, []string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, nil, fmt.Errorf("field \"filter\": %w", plainJSONError(err))
	}
	var conds []query.Expr
	var ignored []string
	for _, k := range slices.Sorted(maps.Keys(top)) {
		v := top[k]
		if isNull(v) {
			continue
		}
		switch k {
		case "filter_type":
			var t string
			if err := json.Unmarshal(v, &t); err != nil || (t != "image" && t != "video" && t != "sample") {
				return nil, nil, fmt.Errorf("field \"filter\": filter_type must be \"image\", \"video\" or \"sample\", got %s", v)
			}
		case "width", "height", "fps", "duration_s":
			c, err := rangeConds(k, v)
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, c...)
		case "sample_filter":
			c, ign, err := sampleFilterConds(v)
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, c...)
			ignored = append(ignored, ign...)
		default:
			ignored = append(ignored, k)
		}
	}
	var notes []string
	if len(ignored) > 0 {
		what := "filter field %s was ignored: it refers to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the condition as a query (--where) instead"
		if len(ignored) > 1 {
			what = "filter fields %s were ignored: they refer to rows of LightlyStudio's database (tags, labels, regions by id), not to this dataset's columns; give the conditions as a query (--where) instead"
		}
		notes = append(notes, fmt.Sprintf(what, strings.Join(ignored, ", ")))
	}
	if len(conds) == 0 {
		return nil, notes, nil
	}
	return query.And(conds...), notes, nil
}

func isNull(v json.RawMessage) bool {
	return len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null"
}

// rangeConds reads {"min": x, "max": y} (either may be absent) as bounds
// on column col.
func rangeConds(col string, v json.RawMessage) ([]query.Expr, error) {
	var r struct {
		Min, Max *json.Number
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("field \"filter\": %s must be an object {\"min\": number, \"max\": number}: %w", col, plainJSONError(err))
	}
	var out []query.Expr
	if r.Min != nil {
		out = append(out, query.Field(col).Ge(number(*r.Min)))
	}
	if r.Max != nil {
		out = append(out, query.Field(col).Le(number(*r.Max)))
	}
	return out, nil
}

// number is a JSON number as an int64 when it is one, else a float64.
func number(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// sampleFilterConds translates a SampleFilter: its metadata filters and
// sample ids; the names of the other fields come back as ignored.
func sampleFilterConds(raw json.RawMessage) ([]query.Expr, []string, error) {
	var sf map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sf); err != nil {
		return nil, nil, fmt.Errorf("field \"filter\": sample_filter: %w", plainJSONError(err))
	}
	var conds []query.Expr
	var ignored []string
	for _, k := range slices.Sorted(maps.Keys(sf)) {
		v := sf[k]
		if isNull(v) {
			continue
		}
		switch k {
		case "filter_type":
		case "metadata_filters":
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, nil, fmt.Errorf("field \"filter\": sample_filter.metadata_filters must be a list: %w", plainJSONError(err))
			}
			for i, m := range list {
				c, err := metadataCond(m)
				if err != nil {
					return nil, nil, fmt.Errorf("field \"filter\": sample_filter.metadata_filters[%d]: %w", i, err)
				}
				conds = append(conds, c)
			}
		case "sample_ids":
			var ids []string
			if err := json.Unmarshal(v, &ids); err != nil {
				return nil, nil, fmt.Errorf("field \"filter\": sample_filter.sample_ids must be a list of ids: %w", plainJSONError(err))
			}
			vals := make([]any, len(ids))
			for i, id := range ids {
				vals[i] = id
			}
			conds = append(conds, query.Field("sample_id").In(vals...))
		default:
			ignored = append(ignored, "sample_filter."+k)
		}
	}
	return conds, ignored, nil
}

// metadataCond translates one MetadataFilter {"key", "op", "value"}.
func metadataCond(raw json.RawMessage) (query.Expr, error) {
	var m struct {
		Key   string          `json:"key"`
		Op    string          `json:"op"`
		Value json.RawMessage `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("want {\"key\", \"op\", \"value\"}: %w", plainJSONError(err))
	}
	if m.Key == "" {
		return nil, fmt.Errorf("no key")
	}
	col := query.Field(m.Key)
	if m.Op == "in" {
		var vals []json.RawMessage
		if err := json.Unmarshal(m.Value, &vals); err != nil || len(vals) == 0 {
			return nil, fmt.Errorf("op \"in\" needs a non-empty list of values, got %s", m.Value)
		}
		var set []any
		null := false
		for _, v := range vals {
			if isNull(v) {
				null = true
				continue
			}
			x, err := scalar(v)
			if err != nil {
				return nil, err
			}
			set = append(set, x)
		}
		var parts []query.Expr
		if len(set) > 0 {
			parts = append(parts, col.In(set...))
		}
		if null {
			parts = append(parts, col.IsNull())
		}
		return query.Or(parts...), nil
	}
	if isNull(m.Value) {
		switch m.Op {
		case "==":
			return col.IsNull(), nil
		case "!=":
			return col.IsNotNull(), nil
		}
		return nil, fmt.Errorf("op %q cannot compare with null", m.Op)
	}
	x, err := scalar(m.Value)
	if err != nil {
		return nil, err
	}
	switch m.Op {
	case ">":
		return col.Gt(x), nil
	case ">=":
		return col.Ge(x), nil
	case "<":
		return col.Lt(x), nil
	case "<=":
		return col.Le(x), nil
	case "==":
		return col.Eq(x), nil
	case "!=":
		return col.Ne(x), nil
	}
	return nil, fmt.Errorf("unknown op %q (one of >, >=, <, <=, ==, !=, in)", m.Op)
}

// scalar reads a JSON string, number or boolean as a query literal value.
func scalar(v json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case string, bool:
		return x, nil
	case json.Number:
		return number(x), nil
	}
	return nil, fmt.Errorf("value %s is not a string, number or boolean", v)
}
