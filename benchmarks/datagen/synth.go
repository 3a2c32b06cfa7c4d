package datagen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/winnow-data/winnow/columnar"
)

// classNames are the annotation labels, most frequent first.
var classNames = [...]string{
	"person", "car", "bicycle", "dog", "cat", "truck", "bus", "traffic_light", "stop_sign", "bird",
	"motorcycle", "bench", "backpack", "umbrella", "handbag", "horse", "sheep", "cow", "train", "boat",
}

// Classes returns the annotation labels of synthetic datasets, most
// frequent first: label k is drawn with probability proportional to 1/(k+1).
func Classes() []string { return slices.Clone(classNames[:]) }

// Weather values and their shares among samples; the remaining 3% are null.
var (
	weatherValues = []string{"sunny", "rain", "night", "snow", "fog"}
	weatherShares = []float64{0.45, 0.20, 0.15, 0.10, 0.07}
)

// Null shares of the nullable metadata columns.
const (
	weatherNulls    = 0.03
	difficultyNulls = 0.05
	brightnessNulls = 0.02
	reviewedShare   = 0.10
)

// createdBase is the created_at of the first sample, 2023-01-01T00:00:00Z;
// samples are spread over the two years after it in row order.
const (
	createdBase = 1672531200_000000      // µs
	createdSpan = 2 * 365 * 86400_000000 // µs
	createdJit  = 3600_000000            // µs
	zipfS       = 1.0                    // exponent of cluster and class sizes
	minWidth    = 64                     // widths are uniform in [minWidth, maxWidth]
	maxWidth    = 1024                   //
	streamShift = 0x9e3779b97f4a7c15     // golden ratio, separates the random streams
	gtCounts    = "0111111122222333344"  // objects per sample, drawn uniformly: mean 1.95
)

// Random streams: every row draws from its own generator, seeded by
// (Seed, stream, row), so a row's values do not depend on how rows are
// split into row groups, parts or goroutines.
const (
	streamCenters = iota + 1
	streamSample
	streamEmbedding
	streamAnnotation
)

// SamplesSchema is the schema of a synthetic samples table with UUID ids.
func SamplesSchema() *arrow.Schema { return samplesSchema(columnar.UUIDType()) }

func samplesSchema(id arrow.DataType) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: columnar.SampleIDColumn, Type: id},
		{Name: "file_name", Type: arrow.BinaryTypes.String},
		{Name: "width", Type: arrow.PrimitiveTypes.Int64},
		{Name: "height", Type: arrow.PrimitiveTypes.Int64},
		{Name: "created_at", Type: arrow.FixedWidthTypes.Timestamp_us},
		{Name: "cluster", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "split", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "weather", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "difficulty", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "brightness", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "num_objects", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
}

// AnnotationsSchema is the schema of a synthetic annotations table with
// UUID ids.
func AnnotationsSchema() *arrow.Schema { return annotationsSchema(columnar.UUIDType()) }

func annotationsSchema(id arrow.DataType) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "annotation_id", Type: columnar.UUIDType()},
		{Name: columnar.SampleIDColumn, Type: id},
		{Name: columnar.LabelColumn, Type: arrow.BinaryTypes.String},
		{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "y", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "width", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "height", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
}

// TagsSchema is the schema of a synthetic tags table with UUID ids: one
// tag, reviewed.
func TagsSchema() *arrow.Schema { return tagsSchema(columnar.UUIDType()) }

func tagsSchema(id arrow.DataType) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: columnar.SampleIDColumn, Type: id},
		{Name: "reviewed", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
}

// mix is the splitmix64 finaliser: it turns nearby integers into
// unrelated seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rowRand is a reusable generator that is reseeded for every row.
type rowRand struct {
	src  *rand.PCG
	r    *rand.Rand
	seed uint64
}

func newRowRand(seed uint64) *rowRand {
	src := rand.NewPCG(0, 0)
	return &rowRand{src: src, r: rand.New(src), seed: seed}
}

func (g *rowRand) at(stream, row uint64) *rand.Rand {
	g.src.Seed(mix(g.seed^(stream*streamShift)), mix(row))
	return g.r
}

// cdf is a cumulative distribution over 0..len-1 for drawing categories.
type cdf []float64

func zipf(n int, s float64) cdf {
	c := make(cdf, n)
	sum := 0.0
	for k := range c {
		sum += math.Pow(float64(k+1), -s)
		c[k] = sum
	}
	for k := range c {
		c[k] /= sum
	}
	c[n-1] = 1
	return c
}

func shares(p []float64) cdf {
	c := make(cdf, len(p))
	sum := 0.0
	for k, v := range p {
		sum += v
		c[k] = sum
	}
	return c
}

// draw returns the category of u in [0,1), or len(c) when u lies beyond
// the last share (shares summing to less than 1 leave room for "none").
func (c cdf) draw(u float64) int {
	lo, hi := 0, len(c)
	for lo < hi {
		m := (lo + hi) / 2
		if u < c[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// embeddingSchema is the schema of an embeddings table with ids of type
// id: FixedSizeList<float32, dim>, or of float16 with half.
func embeddingSchema(id arrow.DataType, dim int, half bool) *arrow.Schema {
	typ := columnar.EmbeddingType(dim)
	if half {
		typ = arrow.FixedSizeListOfNonNullable(int32(dim), arrow.FixedWidthTypes.Float16)
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: columnar.SampleIDColumn, Type: id},
		{Name: columnar.EmbeddingColumn, Type: typ},
	}, nil)
}

// appendID appends the id of sample row to b: the UUID id itself, its
// canonical text for string ids, or the row number for integer ids.
func appendID(b array.Builder, id uuid.UUID, row int) {
	switch b := b.(type) {
	case *extensions.UUIDBuilder:
		b.Append(id)
	case *array.StringBuilder:
		b.Append(id.String())
	case *array.Int64Builder:
		b.Append(int64(row))
	default:
		panic(fmt.Sprintf("datagen: id builder %T", b))
	}
}

// randomUUID makes a version-4 UUID from r.
func randomUUID(r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	a, b := r.Uint64(), r.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// model holds what every row generator shares: the mixture and the
// category distributions. It is read-only once built.
type model struct {
	cfg      Config
	centers  []float32 // Clusters × Dim, unit rows
	spread   []float64 // per-cluster noise scale per dimension
	clusters cdf
	classes  cdf
	weather  cdf
}

// newModel draws the mixture: cluster centres uniform on the unit sphere,
// each cluster with its own spread, so that distances within a cluster are
// clearly smaller than between clusters but clusters differ in tightness.
func newModel(cfg Config) *model {
	m := &model{
		cfg:      cfg,
		centers:  make([]float32, cfg.Clusters*cfg.Dim),
		spread:   make([]float64, cfg.Clusters),
		clusters: zipf(cfg.Clusters, zipfS),
		classes:  zipf(len(classNames), zipfS),
		weather:  shares(weatherShares),
	}
	g := newRowRand(cfg.Seed)
	for k := range cfg.Clusters {
		r := g.at(streamCenters, uint64(k))
		c := m.centers[k*cfg.Dim : (k+1)*cfg.Dim]
		norm := 0.0
		for j := range c {
			v := r.NormFloat64()
			c[j] = float32(v)
			norm += v * v
		}
		inv := 1 / math.Sqrt(norm)
		for j := range c {
			c[j] = float32(float64(c[j]) * inv)
		}
		// total noise norm 0.3..0.7 against centre distances of about √2
		m.spread[k] = (0.3 + 0.4*r.Float64()) / math.Sqrt(float64(cfg.Dim))
	}
	return m
}

// piece is the generated content of rows [lo, hi): one record batch per
// table (nil for tables not written) and the cluster of every row.
type piece struct {
	lo, hi                  int
	samples, emb, ann, tags arrow.RecordBatch
	clusterCount            []int64
	tagged                  int64
}

func (p *piece) release() {
	for _, r := range []arrow.RecordBatch{p.samples, p.emb, p.ann, p.tags} {
		if r != nil {
			r.Release()
		}
	}
}

// fileName formats sample i's file_name without fmt, which would dominate
// the cost of the samples table.
func fileName(buf []byte, i int) []byte {
	buf = append(buf[:0], "img_"...)
	s := strconv.Itoa(i)
	for range 9 - len(s) {
		buf = append(buf, '0')
	}
	buf = append(buf, s...)
	return append(buf, ".jpg"...)
}

// generate builds rows [lo, hi).
func (m *model) generate(lo, hi int) *piece {
	cfg := m.cfg
	mem := memory.DefaultAllocator
	g := newRowRand(cfg.Seed)
	p := &piece{lo: lo, hi: hi, clusterCount: make([]int64, cfg.Clusters)}

	sb := array.NewRecordBuilder(mem, samplesSchema(cfg.idType()))
	defer sb.Release()
	sb.Reserve(hi - lo)
	var (
		ids      = sb.Field(0)
		names    = sb.Field(1).(*array.StringBuilder)
		widths   = sb.Field(2).(*array.Int64Builder)
		heights  = sb.Field(3).(*array.Int64Builder)
		created  = sb.Field(4).(*array.TimestampBuilder)
		clusterB = sb.Field(5).(*array.Int64Builder)
		splitB   = sb.Field(6).(*array.StringBuilder)
		weatherB = sb.Field(7).(*array.StringBuilder)
		diffB    = sb.Field(8).(*array.Float64Builder)
		brightB  = sb.Field(9).(*array.Float64Builder)
		objectsB = sb.Field(10).(*array.Int64Builder)
		embIDs   array.Builder
		vecs     []float32
		ab       *array.RecordBuilder
		tb       *array.RecordBuilder
		nameBuf  []byte
	)
	if !cfg.NoEmbeddings {
		embIDs = array.NewBuilder(mem, cfg.idType())
		defer embIDs.Release()
		vecs = make([]float32, 0, (hi-lo)*cfg.Dim)
	}
	if !cfg.NoAnnotations {
		ab = array.NewRecordBuilder(mem, annotationsSchema(cfg.idType()))
		defer ab.Release()
	}
	if !cfg.NoTags {
		tb = array.NewRecordBuilder(mem, tagsSchema(cfg.idType()))
		defer tb.Release()
	}

	for i := lo; i < hi; i++ {
		r := g.at(streamSample, uint64(i))
		id := randomUUID(r)

		k := m.clusters.draw(r.Float64())
		p.clusterCount[k]++
		w := minWidth + r.IntN(maxWidth-minWidth+1)
		aspect := [...]float64{1, 0.75, 0.75, 0.5625, 1.333}[r.IntN(5)]
		h := int64(math.Round(float64(w) * aspect))
		ts := createdBase + int64(float64(i)/float64(cfg.N)*createdSpan) + r.Int64N(createdJit)
		split := "train"
		if u := r.Float64(); u >= 0.9 {
			split = "test"
		} else if u >= 0.8 {
			split = "val"
		}
		weather := m.weather.draw(r.Float64()) // len(weatherValues): null
		diff := r.ExpFloat64() * (0.5 + float64(k)/float64(cfg.Clusters))
		diffNull := r.Float64() < difficultyNulls
		bright := 0.55 + 0.15*r.NormFloat64()
		if weather < len(weatherValues) && weatherValues[weather] == "night" {
			bright = 0.15 + 0.08*r.NormFloat64()
		}
		bright = min(max(bright, 0), 1)
		brightNull := r.Float64() < brightnessNulls
		reviewed := r.Float64() < reviewedShare
		nObj := int64(gtCounts[r.IntN(len(gtCounts))] - '0')

		appendID(ids, id, i)
		nameBuf = fileName(nameBuf, i)
		names.BinaryBuilder.Append(nameBuf)
		widths.Append(int64(w))
		heights.Append(h)
		created.Append(arrow.Timestamp(ts))
		clusterB.Append(int64(k))
		splitB.Append(split)
		if weather < len(weatherValues) {
			weatherB.Append(weatherValues[weather])
		} else {
			weatherB.AppendNull()
		}
		if diffNull {
			diffB.AppendNull()
		} else {
			diffB.Append(diff)
		}
		if brightNull {
			brightB.AppendNull()
		} else {
			brightB.Append(bright)
		}
		objectsB.Append(nObj)

		if tb != nil {
			appendID(tb.Field(0), id, i)
			tb.Field(1).(*array.BooleanBuilder).Append(reviewed)
			if reviewed {
				p.tagged++
			}
		}
		if embIDs != nil {
			r := g.at(streamEmbedding, uint64(i))
			if cfg.MissingEmbeddings == 0 || r.Float64() >= cfg.MissingEmbeddings {
				appendID(embIDs, id, i)
				vecs = m.vector(vecs, r, k)
			}
		}
		if ab != nil {
			m.annotate(ab, g.at(streamAnnotation, uint64(i)), id, i, int(nObj), float64(w), float64(h))
		}
	}
	p.samples = sb.NewRecordBatch()
	if embIDs != nil {
		idArr := embIDs.NewArray()
		embArr := embeddingArray(cfg.Dim, vecs)
		if cfg.Float16 {
			embArr.Release()
			embArr = embeddingArray16(cfg.Dim, vecs)
		}
		p.emb = array.NewRecordBatch(embeddingSchema(cfg.idType(), cfg.Dim, cfg.Float16), []arrow.Array{idArr, embArr}, int64(idArr.Len()))
		idArr.Release()
		embArr.Release()
	}
	if ab != nil {
		p.ann = ab.NewRecordBatch()
	}
	if tb != nil {
		p.tags = tb.NewRecordBatch()
	}
	return p
}

// vector appends a vector of cluster k: the centre plus isotropic
// Gaussian noise, scaled to unit length so that cosine and Euclidean
// distance agree.
func (m *model) vector(dst []float32, r *rand.Rand, k int) []float32 {
	d := m.cfg.Dim
	c := m.centers[k*d : (k+1)*d]
	s := m.spread[k]
	start := len(dst)
	norm := 0.0
	for _, cj := range c {
		v := cj + float32(s*r.NormFloat64())
		dst = append(dst, v)
		norm += float64(v) * float64(v)
	}
	inv := float32(1 / math.Sqrt(norm))
	for j := start; j < len(dst); j++ {
		dst[j] *= inv
	}
	return dst
}

// annotate appends the annotations of one sample: nObj ground-truth
// boxes, a model_v3 detection for most of them (sometimes with the wrong
// class) and now and then a false positive.
func (m *model) annotate(ab *array.RecordBuilder, r *rand.Rand, sample uuid.UUID, row int, nObj int, w, h float64) {
	var (
		annIDs  = ab.Field(0).(*extensions.UUIDBuilder)
		sampleB = ab.Field(1)
		labelB  = ab.Field(2).(*array.StringBuilder)
		sourceB = ab.Field(3).(*array.StringBuilder)
		typeB   = ab.Field(4).(*array.StringBuilder)
		confB   = ab.Field(5).(*array.Float64Builder)
		xB      = ab.Field(6).(*array.Float64Builder)
		yB      = ab.Field(7).(*array.Float64Builder)
		wB      = ab.Field(8).(*array.Float64Builder)
		hB      = ab.Field(9).(*array.Float64Builder)
	)
	add := func(label int, source string, conf, x, y, bw, bh float64) {
		annIDs.Append(randomUUID(r))
		appendID(sampleB, sample, row)
		labelB.Append(classNames[label])
		sourceB.Append(source)
		typeB.Append("object_detection")
		confB.Append(conf)
		xB.Append(x)
		yB.Append(y)
		wB.Append(bw)
		hB.Append(bh)
	}
	box := func() (x, y, bw, bh float64) {
		bw = math.Round(w * (0.05 + 0.45*r.Float64()))
		bh = math.Round(h * (0.05 + 0.45*r.Float64()))
		return math.Round((w - bw) * r.Float64()), math.Round((h - bh) * r.Float64()), bw, bh
	}
	for range nObj {
		label := m.classes.draw(r.Float64())
		x, y, bw, bh := box()
		add(label, "ground_truth", 1, x, y, bw, bh)
		if r.Float64() < 0.8 { // detected
			pred := label
			if r.Float64() < 0.15 {
				pred = m.classes.draw(r.Float64())
			}
			add(pred, "model_v3", 0.3+0.7*r.Float64(), x, y, bw, bh)
		}
	}
	if r.Float64() < 0.3 { // false positive
		label := m.classes.draw(r.Float64())
		x, y, bw, bh := box()
		add(label, "model_v3", 0.05+0.55*r.Float64(), x, y, bw, bh)
	}
}
