package datagen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/winnow-data/winnow/columnar"
)

// Config describes a synthetic dataset. The zero value of every optional
// field gives the full dataset: samples, embeddings, annotations and tags
// in single zstd files.
type Config struct {
	N        int    // number of samples, at least 1
	Dim      int    // embedding dimension, at least 1
	Clusters int    // mixture components, at least 1; their sizes follow Zipf's law (exponent 1)
	Seed     uint64 // the same Config gives the same rows
	Model    string // embedding model name; default "synthetic"
	// IDType is the type of the sample ids: "uuid" (default), "string"
	// (the UUIDs' canonical text) or "int64" (the row numbers).
	IDType string

	// Float16 stores the vectors as FixedSizeList<float16, Dim>, the
	// values rounded to float16.
	Float16 bool
	// Compression is "zstd" (default), "snappy" or "none".
	Compression string
	// RowGroupRows is the number of samples per row group and per unit of
	// work held in memory; default 65536.
	RowGroupRows int
	// Parts, when above 1, writes every table except tags as a folder of
	// Parts files holding consecutive samples, to exercise multi-part
	// reading. Tags stay one file, the way winnow writes them.
	Parts int
	// MissingEmbeddings is the share of samples without a vector, in [0, 1).
	MissingEmbeddings float64

	NoEmbeddings  bool // write no embeddings table
	NoAnnotations bool // write no annotations table
	NoTags        bool // write no tags.parquet
	// Overwrite removes the tables a previous run left in the folder;
	// without it the folder must not hold any of them.
	Overwrite bool

	// Progress, if not nil, receives a line about once a second: rows
	// written, rate and estimated time left.
	Progress io.Writer
}

// idType is the Arrow type of the sample ids.
func (c Config) idType() arrow.DataType {
	switch c.IDType {
	case "string":
		return arrow.BinaryTypes.String
	case "int64":
		return arrow.PrimitiveTypes.Int64
	}
	return columnar.UUIDType()
}

// Summary reports what Generate wrote.
type Summary struct {
	Samples      int64
	Embeddings   int64   // rows of the embeddings table
	Annotations  int64   // rows of the annotations table
	Tagged       int64   // samples tagged reviewed
	ClusterSizes []int64 // samples per cluster, cluster 0 the largest in expectation
	Bytes        int64   // total size of the files written
	Elapsed      time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Model == "" {
		c.Model = "synthetic"
	}
	if c.Compression == "" {
		c.Compression = "zstd"
	}
	if c.RowGroupRows == 0 {
		c.RowGroupRows = 64 * 1024
	}
	if c.Parts == 0 {
		c.Parts = 1
	}
	switch {
	case c.N < 1:
		return c, fmt.Errorf("number of samples %d: want at least 1", c.N)
	case c.Dim < 1:
		return c, fmt.Errorf("embedding dimension %d: want at least 1", c.Dim)
	case c.Clusters < 1:
		return c, fmt.Errorf("number of clusters %d: want at least 1", c.Clusters)
	case c.RowGroupRows < 1:
		return c, fmt.Errorf("row group size %d: want at least 1", c.RowGroupRows)
	case c.Parts < 1 || c.Parts > c.N:
		return c, fmt.Errorf("number of parts %d: want 1 to %d (the number of samples)", c.Parts, c.N)
	case !(c.MissingEmbeddings >= 0 && c.MissingEmbeddings < 1):
		return c, fmt.Errorf("share of missing embeddings %v: want 0 <= share < 1", c.MissingEmbeddings)
	case c.Model == "." || c.Model == ".." || strings.ContainsAny(c.Model, `/\`):
		return c, fmt.Errorf("model name %q: want a plain file name", c.Model)
	case c.IDType != "" && c.IDType != "uuid" && c.IDType != "string" && c.IDType != "int64":
		return c, fmt.Errorf("id type %q: want uuid, string or int64", c.IDType)
	}
	if _, _, err := codec(c.Compression); err != nil {
		return c, err
	}
	return c, nil
}

func codec(name string) (compress.Compression, bool, error) {
	switch name {
	case "zstd":
		return compress.Codecs.Zstd, false, nil
	case "snappy":
		return compress.Codecs.Snappy, false, nil
	case "none":
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("compression %q: want zstd, snappy or none", name)
}

// tablePaths are the paths of a dataset's tables in both forms, file and
// folder, relative to the dataset folder.
func (c Config) tablePaths() []string {
	return []string{"samples.parquet", "samples", "annotations.parquet", "annotations",
		filepath.Join("embeddings", c.Model+".parquet"), filepath.Join("embeddings", c.Model), "tags.parquet"}
}

// tablePath is where part p of a table is written.
func (c Config) tablePath(dir, table string, p int) string {
	if c.Parts == 1 {
		return filepath.Join(dir, table+".parquet")
	}
	return filepath.Join(dir, table, fmt.Sprintf("part-%05d.parquet", p))
}

// Generate writes a synthetic dataset into dir, creating it if needed.
// Rows are generated and written one row group at a time, so memory stays
// bounded by a few row groups whatever N is; the embedding vectors of a
// row group are generated on all CPUs while the previous one is
// compressed. Every row draws from its own seeded generator, so the
// content does not depend on RowGroupRows, Parts or the number of CPUs.
// The bytes depend on those, on the arrow-go version and the platform, and
// are identical between runs only while no column chunk falls back from
// dictionary encoding (see the package documentation): small datasets,
// not large ones.
//
// Samples (SamplesSchema) hold a random sample_id, file_name img_%09d.jpg,
// width uniform in 64..1024, height from a few aspect ratios, created_at
// spread over 2023-2024, the sample's cluster, split (train 80%, val,
// test), weather (sunny 45%, rain 20%, night 15%, snow 10%, fog 7%, null
// 3%), difficulty (exponential, larger in rarer clusters, 5% null),
// brightness in [0,1] (darker at night, 2% null) and num_objects (0..4).
// Embeddings are unit vectors: a cluster centre plus Gaussian noise.
// Annotations (AnnotationsSchema) are object_detection boxes: num_objects
// ground_truth ones with Zipf-distributed classes, a model_v3 detection for
// 80% of them and a model_v3 false positive for 30% of samples. Tags mark
// 10% of samples reviewed.
func Generate(ctx context.Context, dir string, cfg Config) (*Summary, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("generate dataset %q: %w", dir, err)
	}
	if err := prepare(dir, cfg); err != nil {
		return nil, fmt.Errorf("generate dataset %q: %w", dir, err)
	}
	sum, err := run(ctx, dir, cfg)
	if err == nil && !cfg.NoTags {
		err = seal(ctx, dir)
	}
	if err != nil {
		// Leave no torn table behind for a reader to trip on: prepare made
		// sure none of these paths existed before this run.
		for _, p := range cfg.tablePaths() {
			os.RemoveAll(filepath.Join(dir, p))
		}
		os.Remove(filepath.Join(dir, "embeddings")) // only if empty
		return nil, fmt.Errorf("generate dataset %q: %w", dir, err)
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// seal rewrites the generated tags table the way winnow writes one, with
// a seal for the samples (see columnar.Dataset.WriteTags), after Open has
// validated the whole dataset: datasets in use got their tags from winnow,
// so benchmarks should open them as winnow does.
func seal(ctx context.Context, dir string) error {
	ds, err := columnar.Open(ctx, dir)
	if err != nil {
		return err
	}
	names, bits, meta, err := ds.ReadTagColumns(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "tags.parquet")
	f, err := os.CreateTemp(dir, ".tags.parquet.tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := ds.WriteTags(ctx, f, names, bits, meta); err != nil {
		return fmt.Errorf("seal tags: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func prepare(dir string, cfg Config) error {
	for _, p := range cfg.tablePaths() {
		path := filepath.Join(dir, p)
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if !cfg.Overwrite {
			return fmt.Errorf("%s already exists (overwrite to replace it)", path)
		}
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !cfg.NoEmbeddings {
		if err := os.MkdirAll(filepath.Join(dir, "embeddings"), 0o755); err != nil {
			return err
		}
	}
	if cfg.Parts > 1 {
		for _, t := range []string{"samples", "annotations", filepath.Join("embeddings", cfg.Model)} {
			if (t == "annotations" && cfg.NoAnnotations) || (t != "samples" && t != "annotations" && cfg.NoEmbeddings) {
				continue
			}
			if err := os.MkdirAll(filepath.Join(dir, t), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// countingWriter counts the bytes written through it, for progress.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// tableFile is one Parquet file being written.
type tableFile struct {
	path   string
	f      *os.File
	cw     *countingWriter
	w      *columnar.Writer
	groups int // row groups started, to start a new one per unit of work
}

func openTable(path string, schema *arrow.Schema, cfg Config) (*tableFile, error) {
	comp, none, _ := codec(cfg.Compression)
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: f}
	w, err := columnar.NewWriter(cw, schema, columnar.WriterOptions{
		Compression:  comp,
		Uncompressed: none,
		RowGroupRows: int64(cfg.RowGroupRows),
		Metadata: map[string]string{"winnow.datagen": fmt.Sprintf("n=%d dim=%d clusters=%d seed=%d model=%s missing_embeddings=%v",
			cfg.N, cfg.Dim, cfg.Clusters, cfg.Seed, cfg.Model, cfg.MissingEmbeddings)},
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &tableFile{path: path, f: f, cw: cw, w: w}, nil
}

// write appends recs; with newGroup they start a row group of their own.
func (t *tableFile) write(newGroup bool, recs ...arrow.RecordBatch) error {
	if newGroup && t.groups > 0 {
		if err := t.w.NewRowGroup(); err != nil {
			return fmt.Errorf("write %s: %w", t.path, err)
		}
	}
	t.groups++
	for _, r := range recs {
		if err := t.w.Write(r); err != nil {
			return fmt.Errorf("write %s: %w", t.path, err)
		}
	}
	return nil
}

func (t *tableFile) close() error {
	err := t.w.Close()
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}

// abort closes the file after a failure, keeping the first error.
func (t *tableFile) abort() {
	if t != nil {
		t.w.Close()
		t.f.Close()
	}
}

// unit is one row group's worth of samples, generated as one piece per CPU.
type unit struct {
	part   int
	pieces []*piece
}

func (u *unit) release() {
	for _, p := range u.pieces {
		p.release()
	}
}

// units lists the row ranges of the work: part p holds samples
// [p*N/Parts, (p+1)*N/Parts), cut into row groups of RowGroupRows.
func (c Config) units() (parts []int, ranges [][2]int) {
	for p := range c.Parts {
		lo, hi := p*c.N/c.Parts, (p+1)*c.N/c.Parts
		for s := lo; s < hi; s += c.RowGroupRows {
			parts = append(parts, p)
			ranges = append(ranges, [2]int{s, min(s+c.RowGroupRows, hi)})
		}
	}
	return parts, ranges
}

func run(ctx context.Context, dir string, cfg Config) (*Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(cfg)
	parts, ranges := cfg.units()
	workers := runtime.GOMAXPROCS(0)

	// The producer generates the next unit while the consumer compresses
	// and writes the current one; the channel holds one more, so at most
	// three units are in memory.
	ch := make(chan *unit, 1)
	go func() {
		defer close(ch)
		for i, rg := range ranges {
			if ctx.Err() != nil {
				return
			}
			u := &unit{part: parts[i]}
			n := rg[1] - rg[0]
			w := max(1, min(workers, n/1024))
			u.pieces = make([]*piece, w)
			var wg sync.WaitGroup
			for j := range w {
				wg.Go(func() {
					u.pieces[j] = m.generate(rg[0]+j*n/w, rg[0]+(j+1)*n/w)
				})
			}
			wg.Wait()
			select {
			case ch <- u:
			case <-ctx.Done():
				u.release()
				return
			}
		}
	}()
	drain := func() {
		cancel()
		for u := range ch {
			u.release()
		}
	}

	sum := &Summary{ClusterSizes: make([]int64, cfg.Clusters)}
	var (
		samples, emb, ann, tags *tableFile
		err                     error
		part                    = -1
		closed                  int64 // bytes of files already closed
		prog                    = newProgress(cfg.Progress, cfg.N)
	)
	abortAll := func() {
		for _, t := range []*tableFile{samples, emb, ann, tags} {
			t.abort()
		}
	}
	closePart := func() error {
		for _, t := range []*tableFile{samples, emb, ann} {
			if t == nil {
				continue
			}
			if err := t.close(); err != nil {
				return err
			}
			closed += t.cw.n
		}
		samples, emb, ann = nil, nil, nil
		return nil
	}
	written := func() int64 {
		n := closed
		for _, t := range []*tableFile{samples, emb, ann, tags} {
			if t != nil {
				n += t.cw.n
			}
		}
		return n
	}
	fail := func(err error) (*Summary, error) {
		drain()
		abortAll()
		return nil, err
	}
	if !cfg.NoTags {
		if tags, err = openTable(filepath.Join(dir, "tags.parquet"), tagsSchema(cfg.idType()), cfg); err != nil {
			return fail(err)
		}
	}
	for u := range ch {
		if u.part != part {
			if err := closePart(); err != nil {
				u.release()
				return fail(err)
			}
			part = u.part
			if samples, err = openTable(cfg.tablePath(dir, "samples", part), samplesSchema(cfg.idType()), cfg); err != nil {
				u.release()
				return fail(err)
			}
			if !cfg.NoEmbeddings {
				if emb, err = openTable(cfg.tablePath(dir, filepath.Join("embeddings", cfg.Model), part), embeddingSchema(cfg.idType(), cfg.Dim, cfg.Float16), cfg); err != nil {
					u.release()
					return fail(err)
				}
			}
			if !cfg.NoAnnotations {
				if ann, err = openTable(cfg.tablePath(dir, "annotations", part), annotationsSchema(cfg.idType()), cfg); err != nil {
					u.release()
					return fail(err)
				}
			}
		}
		if err := writeUnit(u, samples, emb, ann, tags, sum); err != nil {
			u.release()
			return fail(err)
		}
		u.release()
		prog.update(sum.Samples, written())
	}
	if err := ctx.Err(); err != nil {
		abortAll()
		return nil, err
	}
	if err := closePart(); err != nil {
		abortAll()
		return nil, err
	}
	if tags != nil {
		err := tags.close()
		closed += tags.cw.n
		tags = nil
		if err != nil {
			return nil, err
		}
	}
	sum.Bytes = closed
	prog.done(sum.Samples, sum.Bytes)
	return sum, nil
}

// writeUnit writes one unit's pieces, in row order, to each table; the
// samples, embeddings and tags of a unit form one row group, while
// annotations, several per sample, fill row groups of RowGroupRows rows.
func writeUnit(u *unit, samples, emb, ann, tags *tableFile, sum *Summary) error {
	collect := func(f func(*piece) arrow.RecordBatch) []arrow.RecordBatch {
		out := make([]arrow.RecordBatch, len(u.pieces))
		for i, p := range u.pieces {
			out[i] = f(p)
		}
		return out
	}
	// The tables are independent files: compress them concurrently, which
	// matters because embeddings dominate and the others would wait.
	jobs := []struct {
		t        *tableFile
		newGroup bool
		recs     []arrow.RecordBatch
	}{
		{samples, true, collect(func(p *piece) arrow.RecordBatch { return p.samples })},
		{emb, true, collect(func(p *piece) arrow.RecordBatch { return p.emb })},
		{ann, false, collect(func(p *piece) arrow.RecordBatch { return p.ann })},
		{tags, true, collect(func(p *piece) arrow.RecordBatch { return p.tags })},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if j.t != nil {
			wg.Go(func() { errs[i] = j.t.write(j.newGroup, j.recs...) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, p := range u.pieces {
		sum.Samples += p.samples.NumRows()
		if p.emb != nil {
			sum.Embeddings += p.emb.NumRows()
		}
		if p.ann != nil {
			sum.Annotations += p.ann.NumRows()
		}
		sum.Tagged += p.tagged
		for k, n := range p.clusterCount {
			sum.ClusterSizes[k] += n
		}
	}
	return nil
}

// progress prints rows written and rates at most once a second.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	now := time.Now()
	return &progress{w: w, total: total, start: now, last: now}
}

func (p *progress) update(rows, bytes int64) {
	if p.w == nil || time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(rows) / el
	eta := time.Duration(float64(int64(p.total)-rows)/rate) * time.Second
	fmt.Fprintf(p.w, "%d/%d samples (%.1f%%), %.0f samples/s, %.1f MB/s, %s left\n",
		rows, p.total, 100*float64(rows)/float64(p.total), rate, float64(bytes)/el/1e6, eta.Round(time.Second))
}

func (p *progress) done(rows, bytes int64) {
	if p.w == nil {
		return
	}
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "%d samples, %.1f MB in %s (%.0f samples/s)\n", rows, float64(bytes)/1e6, el.Round(time.Millisecond), float64(rows)/el.Seconds())
}
