package beamselect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/winnow-data/winnow/columnar"
)

// Metadata keys of a selection file.
const (
	MetaJob        = "winnow.beam.job"        // the Job as JSON
	MetaShards     = "winnow.beam.shards"     // shards that contributed
	MetaCandidates = "winnow.beam.candidates" // rows of the union the merge selected from
	MetaBound      = "winnow.beam.bound"      // k-center certificate as JSON {local, union, ratio}
)

// WriteSelection writes sel to path (any registered Beam file system) as a
// Parquet file with one row per pick, in pick order: id (the id column's
// bytes), row (table row), rank, score_inf and score_log (the combined
// score, spec §2) and one objective_<k>_<kind> column per strategy. The
// job, shard count and bound go to the file's metadata. It writes with
// OpenWrite, so on object stores the file appears when complete; unlike
// the CLI's tags commit it is not a crash-safe rename on every file system.
func WriteSelection(ctx context.Context, path string, job *Job, sel *Selection) (err error) {
	fields := []arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.Binary},
		{Name: "row", Type: arrow.PrimitiveTypes.Int64},
		{Name: "rank", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score_inf", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score_log", Type: arrow.PrimitiveTypes.Float64},
	}
	for k, kind := range sel.Kinds {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("objective_%d_%s", k, kind), Type: arrow.PrimitiveTypes.Float64})
	}
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := range sel.Rows {
		b.Field(0).(*array.BinaryBuilder).Append([]byte(sel.IDs[i]))
		b.Field(1).(*array.Int64Builder).Append(sel.Rows[i])
		b.Field(2).(*array.Int64Builder).Append(sel.Ranks[i])
		b.Field(3).(*array.Int64Builder).Append(sel.ScoreInf[i])
		b.Field(4).(*array.Float64Builder).Append(sel.ScoreLog[i])
		for k := range sel.Kinds {
			b.Field(5 + k).(*array.Float64Builder).Append(sel.Objectives[i*len(sel.Kinds)+k])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
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
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	defer fs.Close()
	out, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write selection %s: %w", path, cerr)
		}
	}()
	w, err := columnar.NewWriter(out, sc, columnar.WriterOptions{Metadata: meta})
	if err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write selection %s: %w", path, err)
	}
	return nil
}

// ReadSelection reads a file WriteSelection wrote: the picks' ids, rows
// and ranks in pick order, and the file's metadata.
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
	for tr.Next() {
		r := tr.RecordBatch()
		idc := r.Column(0).(*array.Binary)
		rc := r.Column(1).(*array.Int64)
		kc := r.Column(2).(*array.Int64)
		for i := 0; i < int(r.NumRows()); i++ {
			ids = append(ids, string(idc.Value(i)))
			rows = append(rows, rc.Value(i))
			ranks = append(ranks, kc.Value(i))
		}
	}
	return ids, rows, ranks, meta, nil
}
