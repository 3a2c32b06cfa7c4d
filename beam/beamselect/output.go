package beamselect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/winnow-data/winnow/beam/rowgroups"
	"github.com/winnow-data/winnow/pipeline"
)

// Metadata keys of a selection file.
const (
	MetaJob        = "winnow.beam.job"        // the Job as JSON
	MetaShards     = "winnow.beam.shards"     // shards that contributed
	MetaCandidates = "winnow.beam.candidates" // rows of the union the merge selected from
	MetaBound      = "winnow.beam.bound"      // k-center certificate as JSON {local, union, ratio}
)

// WriteSelection writes sel to path (any registered Beam file system) as a
// selection file (pipeline.WriteSelectionFile): one row per pick, in pick
// order, with sample_id (the id column's value as text: a 16-byte id as a
// UUID), the table row, rank, score and one objective column per
// strategy, and the record header with the job's strategies in the
// library's terms (Job.LibraryStrategies) in its metadata, beside the job,
// shard count and bound. When the table is a dataset's embeddings table,
// `winnow tags add DIR TAG --record FILE` commits it into that dataset
// like a dataset job's. It writes with OpenWrite, so on object stores the
// file appears when complete; unlike the CLI's tags commit it is not a
// crash-safe rename on every file system.
func WriteSelection(ctx context.Context, path string, job *Job, sel *Selection) error {
	res := &pipeline.Result{Tag: "beam", Candidates: sel.Candidates, Requested: job.N, Selected: len(sel.IDs), Shards: sel.Shards}
	k := len(sel.Kinds)
	for i, id := range sel.IDs {
		res.Picks = append(res.Picks, pipeline.Pick{SampleID: rowgroups.IDText([]byte(id)), Row: int(sel.Rows[i]), Rank: int(sel.Ranks[i]),
			Score: sel.ScoreLog[i], InfFactors: int(sel.ScoreInf[i]), Objectives: sel.Objectives[i*k : (i+1)*k]})
	}
	jb, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("write selection: %w", err)
	}
	meta := map[string]string{
		MetaJob:        string(jb),
		MetaShards:     strconv.Itoa(sel.Shards),
		MetaCandidates: strconv.Itoa(sel.Candidates),
	}
	if sel.HasBound {
		bb, _ := json.Marshal(map[string]float64{"local": sel.BoundLocal, "union": sel.BoundUnion, "ratio": sel.Ratio()})
		meta[MetaBound] = string(bb)
	}
	return writeSelectionFile(ctx, path, res, job.LibraryStrategies(), pipeline.Options{}, meta)
}

// LibraryStrategies returns the job's strategies in the core library's
// terms, for the selection record: the vector column's model is the
// table's name when it is a dataset's embeddings/MODEL.parquet, the
// weight and label columns are metadata columns.
func (j *Job) LibraryStrategies() []pipeline.Strategy {
	model := ""
	if len(j.Files) == 1 {
		dir, name := path.Split(filepath.ToSlash(j.Files[0]))
		if path.Base(path.Clean(dir)) == "embeddings" && strings.HasSuffix(name, ".parquet") {
			model = strings.TrimSuffix(name, ".parquet")
		}
	}
	var out []pipeline.Strategy
	for _, s := range j.Strategies {
		st := pipeline.Strength(s.Strength)
		switch s.Kind {
		case "diversity":
			out = append(out, pipeline.EmbeddingDiversity{Model: model, Strength: st})
		case "deduplication":
			out = append(out, pipeline.Deduplication{Model: model, MinDistance: s.MinDistance, Strength: st})
		case "weights":
			out = append(out, pipeline.MetadataWeighting{Key: j.Weight, Strength: st})
		case "balance":
			t := pipeline.Uniform
			switch s.Target {
			case "input":
				t = pipeline.Input
			case "ratios":
				t = pipeline.Ratios(s.Ratios)
			}
			out = append(out, pipeline.MetadataBalancing{Key: j.Label, Target: t, Strength: st})
		}
	}
	return out
}

// ReadSelection reads a selection file WriteSelection (or a dataset job)
// wrote: the picks' sample ids, rows and ranks in pick order, and the
// file's metadata.
func ReadSelection(ctx context.Context, path string) (ids []string, rows, ranks []int64, meta map[string]string, err error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	data, err := io.ReadAll(rc) // a selection is small: n rows
	rc.Close()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read selection %s: %w", path, err)
	}
	defer pf.Close()
	meta = map[string]string{}
	for _, kv := range pf.MetaData().KeyValueMetadata() {
		if kv.Value != nil {
			meta[kv.Key] = *kv.Value
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read selection %s: %w", path, err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1<<16)
	defer tr.Release()
	col := func(r arrow.RecordBatch, name string) arrow.Array {
		if idx := r.Schema().FieldIndices(name); len(idx) > 0 {
			return r.Column(idx[0])
		}
		return nil
	}
	for tr.Next() {
		r := tr.RecordBatch()
		idc, ok1 := col(r, "sample_id").(*array.String)
		rc, ok2 := col(r, "row").(*array.Int64)
		kc, ok3 := col(r, "rank").(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, nil, nil, fmt.Errorf("read selection %s: not a selection file with sample_id, row and rank", path)
		}
		for i := 0; i < int(r.NumRows()); i++ {
			ids = append(ids, idc.Value(i))
			rows = append(rows, rc.Value(i))
			ranks = append(ranks, kc.Value(i))
		}
	}
	return ids, rows, ranks, meta, nil
}
