package columnar

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TableStat describes a table from its Parquet footers alone, without
// reading any column data.
type TableStat struct {
	Path   string        // the file, or the folder of part files
	Parts  int           // number of Parquet files
	Rows   int64         // rows in all parts
	Bytes  int64         // size on disk
	Schema *arrow.Schema // Arrow schema of the first part
}

// Stat reads the footers of the table at path (a .parquet file or a folder
// of part files).
func Stat(path string) (*TableStat, error) {
	parts, err := statTableParts(path)
	if err != nil {
		return nil, err
	}
	st := &TableStat{Path: path, Parts: len(parts)}
	for i, p := range parts {
		if err := statPart(p, st, i == 0); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func statPart(path string, st *TableStat, first bool) (err error) {
	defer func() {
		// arrow-go can panic on malformed footers; a bad file is an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: corrupt parquet footer: %v", path, r)
		}
	}()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Errorf("%s: not a readable parquet file: %w", path, err)
	}
	defer rdr.Close()
	st.Rows += rdr.NumRows()
	if fi, err := os.Stat(path); err == nil {
		st.Bytes += fi.Size()
	}
	if first {
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if st.Schema, err = fr.Schema(); err != nil {
			return fmt.Errorf("%s: schema: %w", path, err)
		}
	}
	return nil
}

// statTableParts lists the Parquet files of a table: the file itself, or the
// *.parquet files of a folder in lexical order.
func statTableParts(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	parts, err := filepath.Glob(filepath.Join(path, "*.parquet"))
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s: folder holds no .parquet files", path)
	}
	sort.Strings(parts)
	return parts, nil
}
