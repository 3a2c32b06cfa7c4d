package beamselect

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/beam/rowgroups"
	"github.com/winnow-data/winnow/beam/shardselect"
	"github.com/winnow-data/winnow/columnar"
	"github.com/winnow-data/winnow/strategies"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Prism logs every job's life at INFO; the tests only want problems.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	beam.Init()
	os.Exit(m.Run())
}

// table is a test table in memory and on disk.
type table struct {
	path    string
	ids     []uuid.UUID
	dim     int
	vec     []float32
	weight  []int64
	label   []string // "" is null
	classes []string // first-seen order
}

const (
	tableRows = 2400
	tableDim  = 12
	groupRows = 100 // 24 row groups
)

// newTable writes a clustered table of tableRows rows to dir.
func newTable(t *testing.T, dir string) *table { return newTableOf(t, dir, false) }

// newTableOf writes a clustered table of tableRows rows to dir, its
// embeddings as float16 when f16 is set (tb.vec then holds the float16
// values widened).
func newTableOf(t *testing.T, dir string, f16 bool) *table {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 22))
	tb := &table{path: filepath.Join(dir, "samples.parquet"), dim: tableDim}
	centers := make([]float32, 10*tableDim)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 8)
	}
	names := []string{"cat", "dog", "bird", "fish"}
	seen := map[string]bool{}
	for i := 0; i < tableRows; i++ {
		k := rng.IntN(10)
		tb.ids = append(tb.ids, uuid.NewSHA1(uuid.NameSpaceOID, []byte(strconv.Itoa(i))))
		for d := 0; d < tableDim; d++ {
			v := centers[k*tableDim+d] + float32(rng.NormFloat64())
			if f16 {
				v = float16.New(v).Float32()
			}
			tb.vec = append(tb.vec, v)
		}
		tb.weight = append(tb.weight, int64(rng.IntN(50)))
		l := names[(k+rng.IntN(2))%4]
		if k == 3 && i%2 == 0 {
			l = "fish"
		}
		if rng.IntN(25) == 0 {
			l = "" // null
		}
		tb.label = append(tb.label, l)
		if l != "" && !seen[l] {
			seen[l] = true
			tb.classes = append(tb.classes, l)
		}
	}
	emb := columnar.EmbeddingType(tableDim)
	if f16 {
		emb = arrow.FixedSizeListOfNonNullable(tableDim, arrow.FixedWidthTypes.Float16)
	}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "sample_id", Type: columnar.UUIDType()},
		{Name: "embedding", Type: emb},
		{Name: "weight", Type: arrow.PrimitiveTypes.Int64},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < tableRows; i++ {
		b.Field(0).(*extensions.UUIDBuilder).Append(tb.ids[i])
		lb := b.Field(1).(*array.FixedSizeListBuilder)
		lb.Append(true)
		if f16 {
			vb := lb.ValueBuilder().(*array.Float16Builder)
			for _, v := range tb.vec[i*tableDim : (i+1)*tableDim] {
				vb.Append(float16.New(v))
			}
		} else {
			lb.ValueBuilder().(*array.Float32Builder).AppendValues(tb.vec[i*tableDim:(i+1)*tableDim], nil)
		}
		b.Field(2).(*array.Int64Builder).Append(tb.weight[i])
		if tb.label[i] == "" {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.StringBuilder).Append(tb.label[i])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(tb.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := columnar.NewWriter(f, sc, columnar.WriterOptions{RowGroupRows: groupRows})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *table) job(files []string, n int, strats ...Strategy) Job {
	return Job{Files: files, ID: "sample_id", Vector: "embedding", Weight: "weight", Label: "label", Strategies: strats, N: n}
}

var (
	diversity = Strategy{Kind: "diversity", Strength: 1}
	weights   = Strategy{Kind: "weights", Strength: 1}
	balance   = Strategy{Kind: "balance", Strength: 1, Target: "uniform"}
	dedup     = Strategy{Kind: "deduplication", Strength: 1, MinDistance: 4}
)

// configs are the jobs' strategy lists.
var configs = map[string][]Strategy{
	"diversity":         {diversity},
	"weights":           {weights},
	"deduplication":     {dedup},
	"diversity+weights": {diversity, {Kind: "weights", Strength: 0.5}},
	"diversity+balance": {diversity, balance},
	"weights+balance":   {weights, {Kind: "balance", Strength: 2, Target: "ratios", Ratios: map[string]float64{"fish": 0.5, "cat": 0.2}}},
}

// run plans job into shards, runs it on Prism and reads its output back.
func run(t *testing.T, job Job, shards int) (rows []int64, ids []string, meta map[string]string) {
	t.Helper()
	ctx := context.Background()
	plan, err := Plan(ctx, job, shards)
	if err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, job, plan)
	if _, err := prism.Execute(ctx, p); err != nil {
		t.Fatal(err)
	}
	ids, rows, ranks, meta, err := ReadSelection(ctx, job.Output)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ranks {
		if r != int64(i) {
			t.Fatalf("ranks %v are not 0..n-1", ranks)
		}
	}
	if meta[MetaShards] != strconv.Itoa(len(plan)) {
		t.Fatalf("metadata says %s shards, the plan has %d", meta[MetaShards], len(plan))
	}
	return rows, ids, meta
}

// reference selects on one machine with the engine directly: every row a
// candidate except unlabelled ones while balancing.
func (tb *table) reference(t *testing.T, job Job) []int64 {
	t.Helper()
	bal := job.balancing()
	var cand []int
	for i := range tb.ids {
		if bal && tb.label[i] == "" {
			continue
		}
		cand = append(cand, i)
	}
	var sts []strategies.Strategy
	for _, s := range job.Strategies {
		var st strategies.Strategy
		var err error
		switch s.Kind {
		case "diversity", "deduplication":
			v := make([]float32, 0, len(cand)*tb.dim)
			for _, i := range cand {
				v = append(v, tb.vec[i*tb.dim:(i+1)*tb.dim]...)
			}
			if s.Kind == "diversity" {
				st, err = strategies.NewDiversity(strategies.Vectors{Dim: tb.dim, F32: v}, s.Strength)
			} else {
				st, err = strategies.NewDeduplication(strategies.Vectors{Dim: tb.dim, F32: v}, s.MinDistance, s.Strength)
			}
		case "weights":
			w := make([]float64, len(cand))
			for j, i := range cand {
				w[j] = float64(tb.weight[i])
			}
			st, err = strategies.NewWeights(w, s.Strength)
		case "balance":
			counts := make([]float64, len(cand)*len(tb.classes))
			total := make([]float64, len(tb.classes))
			for j, i := range cand {
				if c := slices.Index(tb.classes, tb.label[i]); c >= 0 {
					counts[j*len(tb.classes)+c] = 1
					total[c]++
				}
			}
			spec, _ := s.targetSpec()
			tg, terr := strategies.ResolveTarget(tb.classes, total, spec)
			if terr != nil {
				t.Fatal(terr)
			}
			st, err = strategies.NewBalance(tg.Remap(counts), len(tg.Classes), tg.Ratio, s.Strength)
		}
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	res, err := strategies.Select(context.Background(), strategies.Problem{Rows: len(cand), Candidates: len(cand), Picks: job.N, Strategies: sts})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(res.Picks))
	for k, p := range res.Picks {
		out[k] = int64(cand[p.Row])
	}
	return out
}

// TestOneShardEqualsEngine: on Prism, one shard gives the single-machine
// engine's picks for every configuration, and the ids match the rows.
func TestOneShardEqualsEngine(t *testing.T) {
	dir := t.TempDir()
	tb := newTable(t, dir)
	for name, strats := range configs {
		t.Run(name, func(t *testing.T) {
			job := tb.job([]string{tb.path}, 37, strats...)
			job.Output = filepath.Join(dir, name+".parquet")
			rows, ids, _ := run(t, job, 1)
			if want := tb.reference(t, job); !slices.Equal(rows, want) {
				t.Fatalf("picks %v\nengine %v", rows, want)
			}
			for k, r := range rows {
				if ids[k] != tb.ids[r].String() {
					t.Fatalf("pick %d: id %x is not row %d's", k, ids[k], r)
				}
			}
		})
	}
}

// direct runs the same shards through shardselect without Beam.
func (tb *table) direct(t *testing.T, job Job, plan []rowgroups.Shard) []int64 {
	t.Helper()
	ctx := context.Background()
	fs, err := filesystem.New(ctx, tb.path)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	var all []*shardData
	counts := map[string]float64{}
	for _, sh := range plan {
		d, err := readShard(ctx, &job, sh)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
		for i, l := range d.labels {
			if d.labelled[i] {
				counts[l]++
			}
		}
	}
	cl := Classes{Names: tb.classes}
	for _, c := range tb.classes {
		cl.Counts = append(cl.Counts, counts[c])
	}
	cfg, target, err := job.config(cl)
	if err != nil {
		t.Fatal(err)
	}
	var parts []shardselect.Candidates
	for _, d := range all {
		rows, _, err := d.rows(&job, cl, target)
		if err != nil {
			t.Fatal(err)
		}
		c, err := shardselect.Local(ctx, cfg, rows, shardselect.Rows{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, *c)
	}
	res, err := shardselect.Merge(ctx, cfg, parts, shardselect.Rows{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(res.Picks))
	for k, p := range res.Picks {
		out[k] = int64(p.Index)
	}
	return out
}

// TestManyShards: on 8 shards the pipeline returns exactly what
// shardselect returns on the same shards without Beam, and for weights
// alone exactly the single-machine picks.
func TestManyShards(t *testing.T) {
	dir := t.TempDir()
	tb := newTable(t, dir)
	for name, strats := range configs {
		t.Run(name, func(t *testing.T) {
			job := tb.job([]string{tb.path}, 37, strats...)
			job.Output = filepath.Join(dir, name+".parquet")
			plan, err := Plan(context.Background(), job, 8)
			if err != nil || len(plan) != 8 {
				t.Fatalf("plan: %d shards, %v", len(plan), err)
			}
			rows, _, meta := run(t, job, 8)
			if want := tb.direct(t, job, plan); !slices.Equal(rows, want) {
				t.Fatalf("pipeline %v\ndirect   %v", rows, want)
			}
			if name == "weights" {
				if want := tb.reference(t, job); !slices.Equal(rows, want) {
					t.Fatalf("weights on 8 shards %v\nsingle machine %v", rows, want)
				}
			}
			if name == "diversity" && meta[MetaBound] == "" {
				t.Fatal("no k-center bound in the metadata")
			}
		})
	}
}

// TestFloat16Table: a table of float16 embeddings selects, on one shard
// and on eight, what the engine and the shards select over the same
// values widened: float16 is read exactly, and the merge's re-read of the
// candidates' vectors finds the same values as the shards.
func TestFloat16Table(t *testing.T) {
	dir := t.TempDir()
	tb := newTableOf(t, dir, true)
	job := tb.job([]string{tb.path}, 37, diversity)
	job.Output = filepath.Join(dir, "picks.parquet")
	if rows, _, _ := run(t, job, 1); !slices.Equal(rows, tb.reference(t, job)) {
		t.Fatalf("one shard %v\nengine %v", rows, tb.reference(t, job))
	}
	plan, err := Plan(context.Background(), job, 8)
	if err != nil {
		t.Fatal(err)
	}
	if rows, _, _ := run(t, job, 8); !slices.Equal(rows, tb.direct(t, job, plan)) {
		t.Fatalf("8 shards %v\ndirect %v", rows, tb.direct(t, job, plan))
	}
}

// TestMemFS: the same job with its input and output on Beam's in-memory
// file system picks what it picks on local files.
func TestMemFS(t *testing.T) {
	dir := t.TempDir()
	tb := newTable(t, dir)
	ctx := context.Background()
	raw, err := os.ReadFile(tb.path)
	if err != nil {
		t.Fatal(err)
	}
	mem := "memfs://winnow-test/samples.parquet"
	fs, err := filesystem.New(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fs.OpenWrite(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// memfs's OpenRead is a plain stream: the stream path is exercised.
	rc, err := fs.OpenRead(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rc.(io.ReaderAt); ok {
		t.Fatal("memfs now offers random access: this test no longer covers the stream path")
	}
	rc.Close()
	for _, name := range []string{"diversity+balance", "weights"} {
		job := tb.job([]string{tb.path}, 25, configs[name]...)
		job.Output = filepath.Join(dir, "local-"+name+".parquet")
		local, _, _ := run(t, job, 6)
		job.Files = []string{mem}
		job.Output = "memfs://winnow-test/out-" + name + ".parquet"
		inMem, ids, _ := run(t, job, 6)
		if !slices.Equal(local, inMem) {
			t.Fatalf("%s: memfs picks %v\nlocal picks %v", name, inMem, local)
		}
		if ids[0] != tb.ids[inMem[0]].String() {
			t.Fatalf("%s: memfs ids do not match rows", name)
		}
	}
}

// TestTwoFiles: a table of two files keys its rows across both, in file
// order: with the same rows in each, weights alone pick every tied row of
// the first file before its copy in the second.
func TestTwoFiles(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, b := newTable(t, dirA), newTable(t, dirB) // the same rows twice
	job := a.job([]string{a.path, b.path}, 30, weights)
	job.Output = filepath.Join(dirA, "out.parquet")
	rows, _, _ := run(t, job, 4)
	all := make([]int64, 2*tableRows)
	for i := range all {
		all[i] = int64(i)
	}
	slices.SortStableFunc(all, func(x, y int64) int { return int(a.weight[y%tableRows] - a.weight[x%tableRows]) })
	if !slices.Equal(rows, all[:30]) {
		t.Fatalf("picks %v\nwant  %v", rows, all[:30])
	}
}

func TestJobErrors(t *testing.T) {
	good := Job{Files: []string{"x"}, ID: "id", Vector: "v", Weight: "w", Label: "l", N: 1, Strategies: []Strategy{diversity}}
	for _, tc := range []struct {
		name string
		edit func(*Job)
		want string
	}{
		{"files", func(j *Job) { j.Files = nil }, "job: no input files"},
		{"id", func(j *Job) { j.ID = "" }, "job: no id column"},
		{"n", func(j *Job) { j.N = 0 }, "job: n = 0, must be at least 1"},
		{"strategies", func(j *Job) { j.Strategies = nil }, "job: no strategy"},
		{"kind", func(j *Job) { j.Strategies = []Strategy{{Kind: "magic"}} }, `job: strategy 0: unknown kind "magic" (diversity, deduplication, weights, balance)`},
		{"vector", func(j *Job) { j.Vector = "" }, "job: strategy 0 (diversity) needs a vector column"},
		{"weight", func(j *Job) { j.Weight = ""; j.Strategies = []Strategy{weights} }, "job: strategy 0 (weights) needs a weight column"},
		{"label", func(j *Job) { j.Label = ""; j.Strategies = []Strategy{balance} }, "job: strategy 0 (balance) needs a label column"},
		{"target", func(j *Job) { j.Strategies = []Strategy{{Kind: "balance", Target: "even"}} }, `job: strategy 0 (balance): unknown target "even" (uniform, input, ratios)`},
		{"strength", func(j *Job) { j.Strategies = []Strategy{{Kind: "weights", Strength: math.Inf(1)}} }, "job: strategy 0 (weights): strength +Inf must be finite"},
	} {
		j := good
		tc.edit(&j)
		if err := j.Check(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cl := Classes{Names: []string{"cat", "dog"}, Counts: []float64{3, 1}}
	two := Job{N: 1, Strategies: []Strategy{balance, {Kind: "balance", Strength: 1, Target: "input"}}}
	if _, _, err := two.config(cl); err == nil || err.Error() != "strategy 1 (balance): only one balancing target per job is supported" {
		t.Errorf("two targets: %v", err)
	}
	missing := Job{N: 1, Strategies: []Strategy{{Kind: "balance", Strength: 1, Target: "ratios", Ratios: map[string]float64{"cow": 1}}}}
	if _, _, err := missing.config(cl); err == nil || err.Error() != `strategy 0 (balance): target: class "cow" does not exist in the dataset (classes: [cat dog])` {
		t.Errorf("unknown class: %v", err)
	}
}

// TestUnionReadsShards: the merge's matrix holds every candidate's
// vector from its own shard (the shards read concurrently, each into its
// range), and shards whose table no longer matches the candidates are an
// error naming each.
func TestUnionReadsShards(t *testing.T) {
	ctx := context.Background()
	tb := newTable(t, t.TempDir())
	job := tb.job([]string{tb.path}, 10, diversity)
	plan, err := Plan(ctx, job, 6)
	if err != nil {
		t.Fatal(err)
	}
	var wires []Cands
	var want []float32
	for p, sh := range plan {
		w := Cands{Ordinal: p, Shard: sh, Dim: tableDim, Radius: float64(p)}
		for r := sh.FirstRow + int64(p); r < sh.FirstRow+sh.Rows; r += 7 {
			w.Index = append(w.Index, r)
			want = append(want, tb.vec[r*tableDim:(r+1)*tableDim]...)
		}
		wires = append(wires, w)
	}
	c, err := union(ctx, &job, wires, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Rows.Vectors[0].Data; !slices.Equal(got, want) {
		t.Fatalf("union of %d shards: %d values, not the candidates' rows (%d)", len(plan), len(got), len(want))
	}
	if c.Radius != float64(len(plan)-1) || len(c.Rows.Index) != len(want)/tableDim {
		t.Fatalf("union: radius %v, %d rows", c.Radius, len(c.Rows.Index))
	}
	// The candidates say 13 dimensions, the table has 12: every shard
	// read fails, each error naming its shard.
	for p := range wires {
		wires[p].Dim = tableDim + 1
	}
	_, err = union(ctx, &job, wires, 0)
	for p := range wires {
		want := fmt.Sprintf("merge: shard %d (%s row groups %v): embeddings of dimension %d, the shard's candidates had %d (the table changed?)",
			p, tb.path, plan[p].RowGroups, tableDim, tableDim+1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("changed table: error %v, want it to hold %q", err, want)
		}
	}
}
