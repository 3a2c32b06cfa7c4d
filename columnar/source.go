package columnar

// Where a table's files are: tables as engines write them.
//
// A table path is one Parquet file, a folder of part files, or a glob
// (filepath.Match syntax, one level per path element). A folder is read
// recursively, its files in lexical order of their paths: DuckDB's
// COPY ... (PARTITION_BY), Spark, Hive and pyarrow write a partitioned
// table as nested key=value/ folders, and every key becomes a column
// whose value is the folder's. Hidden and marker files and folders (a
// name starting with "." or "_": _SUCCESS, _temporary, _delta_log) and
// Hadoop's .crc checksums are skipped; a file is a part when its name
// ends in .parquet or .parq, or starts with part- (Spark and Hive write
// parts without an extension).
//
// Partition values are typed as DuckDB types them (its hive_types_autocast,
// which tries DATE, then TIMESTAMP, then BIGINT, and falls back to VARCHAR),
// except that winnow looks at every part's value rather than only the
// first file's, so a key whose first value is 2024 but a later one is
// 2024b is a string rather than a failed cast: a key is a date32 column
// when every value is a date (2024-01-31), else a timestamp[us] column
// when every value is a date and time (2024-01-31 12:00:00, or with a T),
// else an int64 column when every value is a decimal integer, else a
// string column. Values are URL-unescaped (%2F is /); an empty value,
// NULL and Hive's __HIVE_DEFAULT_PARTITION__ are null. When a part also
// holds a column of a key's name, the folder's value wins, as in every
// engine. Every part must sit under the same keys.

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// source is a resolved table path: its part files and their partition
// values.
type source struct {
	path  string     // as given
	files []string   // the part files, in lexical order of their paths
	keys  []hiveKey  // partition keys, outermost first; none for a plain table
	vals  [][]string // vals[i][k]: part i's value of key k
	nulls [][]bool   // nulls[i][k]: part i's value of key k is null
}

// hiveKey is a partition key and the type of its values.
type hiveKey struct {
	name string
	typ  arrow.DataType
}

// isGlob reports whether path holds glob metacharacters.
func isGlob(path string) bool { return strings.ContainsAny(path, "*?[") }

// skipName reports whether a file or folder name is no part of a table:
// hidden, temporary and marker files, and checksums.
func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, ".crc")
}

// isPartName reports whether a file name in a table folder is a part.
func isPartName(name string) bool {
	return strings.HasSuffix(name, ".parquet") || strings.HasSuffix(name, ".parq") || strings.HasPrefix(name, "part-")
}

// resolveSource lists the parts of the table at path and their partition
// keys.
func resolveSource(path string) (*source, error) {
	src := &source{path: path}
	var root string // keys are read from the path below root
	switch st, err := os.Stat(path); {
	case err == nil && !st.IsDir():
		src.files, root = []string{path}, filepath.Dir(path)
	case err == nil:
		root = path
		err := filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == path {
				return nil
			}
			if skipName(e.Name()) {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.IsDir() && isPartName(e.Name()) {
				src.files = append(src.files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(src.files) == 0 {
			return nil, fmt.Errorf("%s: table folder holds no *.parquet part (nor a *.parq or part-* file)", path)
		}
	case isGlob(path):
		matches, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", path, err)
		}
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() && !skipName(filepath.Base(m)) {
				src.files = append(src.files, m)
			}
		}
		if len(src.files) == 0 {
			return nil, fmt.Errorf("table %s: the pattern matches no file", path)
		}
		root = globRoot(path)
	default:
		return nil, err
	}
	slices.Sort(src.files)
	if err := src.readKeys(root); err != nil {
		return nil, err
	}
	return src, nil
}

// globRoot is the folder above a glob's first metacharacter.
func globRoot(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	return filepath.Dir(pattern[:i] + "x")
}

// readKeys reads the key=value folders between root and each part.
func (s *source) readKeys(root string) error {
	var first []string // key names of the first part
	for i, f := range s.files {
		rel, err := filepath.Rel(root, filepath.Dir(f))
		if err != nil {
			rel = ""
		}
		var names, vals []string
		var nulls []bool
		for _, el := range strings.Split(filepath.ToSlash(rel), "/") {
			k, v, ok := strings.Cut(el, "=")
			if !ok || k == "" {
				continue
			}
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			names, vals = append(names, k), append(vals, v)
			nulls = append(nulls, v == "" || strings.EqualFold(v, "NULL") || v == "__HIVE_DEFAULT_PARTITION__")
		}
		if i == 0 {
			first = names
		} else if !slices.Equal(names, first) {
			return fmt.Errorf("%s: partition keys (%s) differ from those of the first part %s (%s)",
				f, strings.Join(names, ", "), s.files[0], strings.Join(first, ", "))
		}
		for k, n := range names {
			if slices.Index(names, n) != k {
				return fmt.Errorf("%s: partition key %q appears twice in the path", f, n)
			}
		}
		s.vals, s.nulls = append(s.vals, vals), append(s.nulls, nulls)
	}
	for k, n := range first {
		s.keys = append(s.keys, hiveKey{name: n, typ: s.keyType(k)})
	}
	return nil
}

// keyType is the type of key k: the first of date, timestamp and int64
// that every non-null value parses as, else string.
func (s *source) keyType(k int) arrow.DataType {
	all := func(ok func(string) bool) bool {
		for i := range s.vals {
			if !s.nulls[i][k] && !ok(s.vals[i][k]) {
				return false
			}
		}
		return true
	}
	some := false
	for i := range s.vals {
		some = some || !s.nulls[i][k]
	}
	switch {
	case !some:
	case all(func(v string) bool { _, err := parseHiveDate(v); return err == nil }):
		return arrow.FixedWidthTypes.Date32
	case all(func(v string) bool { _, err := parseHiveTimestamp(v); return err == nil }):
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case all(func(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil }):
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}

func parseHiveDate(v string) (time.Time, error) { return time.Parse(time.DateOnly, v) }

// parseHiveTimestamp reads a date and time, with a space or a T between
// them and optional fractional seconds, as a time without zone; a date
// alone is its midnight, as DuckDB casts it.
func parseHiveTimestamp(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a timestamp")
}

// keyScalar is part i's value of key k as an Arrow scalar of the key's
// type.
func (s *source) keyScalar(i, k int) scalar.Scalar {
	key := s.keys[k]
	if s.nulls[i][k] {
		return scalar.MakeNullScalar(key.typ)
	}
	v := s.vals[i][k]
	switch key.typ.ID() {
	case arrow.DATE32:
		t, _ := parseHiveDate(v)
		return scalar.NewDate32Scalar(arrow.Date32FromTime(t))
	case arrow.TIMESTAMP:
		t, _ := parseHiveTimestamp(v)
		return scalar.NewTimestampScalar(arrow.Timestamp(t.UnixMicro()), key.typ)
	case arrow.INT64:
		n, _ := strconv.ParseInt(v, 10, 64)
		return scalar.NewInt64Scalar(n)
	}
	return scalar.NewStringScalar(v)
}

// keyIndex returns the index of key name, or -1.
func (s *source) keyIndex(name string) int {
	for k, key := range s.keys {
		if key.name == name {
			return k
		}
	}
	return -1
}
