// Writes the DuckDB-made interop fixtures under testdata/duckdb/: small
// datasets in the shapes DuckDB writes, which pipeline/interop_test.go
// selects from and compares with the same data written by winnow in the
// conventional layout. The values follow formulas the Go test computes
// again independently (integer arithmetic over a power of two, exact in
// float32):
//
//   sample i (0..39), dimension j (0..7): ((i*31 + j*17) % 97) / 8
//   w = (i*7) % 10, split = ['train','val','test'][i % 3], label = i % 4
//   no vector where i % 10 == 3 (wide table: NULL; other tables: no row)
//
//   (cd benchmarks/duckdb && npm install && node fixtures.mjs)
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata', 'duckdb');
rmSync(out, { recursive: true, force: true });
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const run = (sql) => con.run(sql);

await run(`CREATE TABLE base AS SELECT i,
  (i * 7) % 10 AS w,
  ['train', 'val', 'test'][i % 3 + 1] AS split,
  i % 4 AS label,
  list_transform(range(8), j -> (((i * 31 + j * 17) % 97) / 8.0)::FLOAT) AS vec
  FROM range(40) t(i)`);

// strings: string ids, a FLOAT[] embeddings table, integer labels.
mkdirSync(join(out, 'strings', 'embeddings'), { recursive: true });
await run(`COPY (SELECT 'img-' || lpad(i::VARCHAR, 3, '0') AS sample_id, w::DOUBLE AS w, split FROM base ORDER BY i)
  TO '${join(out, 'strings', 'samples.parquet')}' (FORMAT parquet)`);
await run(`COPY (SELECT 'img-' || lpad(i::VARCHAR, 3, '0') AS sample_id, vec AS embedding FROM base WHERE i % 10 <> 3 ORDER BY i DESC)
  TO '${join(out, 'strings', 'embeddings', 'm.parquet')}' (FORMAT parquet)`);
await run(`COPY (SELECT 'img-' || lpad(i::VARCHAR, 3, '0') AS sample_id, label FROM base ORDER BY i)
  TO '${join(out, 'strings', 'annotations.parquet')}' (FORMAT parquet)`);

// wide: one table holding integer ids, metadata and the vectors (FLOAT[],
// NULL where there is none) and a fixed-size FLOAT[8] copy.
mkdirSync(join(out, 'wide'), { recursive: true });
await run(`COPY (SELECT i AS sample_id, w, split,
    CASE WHEN i % 10 = 3 THEN NULL ELSE vec END AS vector,
    (CASE WHEN i % 10 = 3 THEN NULL ELSE vec END)::FLOAT[8] AS fixed
  FROM base ORDER BY i)
  TO '${join(out, 'wide', 'samples.parquet')}' (FORMAT parquet)`);

// partitioned: samples partitioned by split (Hive folders), UUID ids, the
// embeddings in a table of their own.
mkdirSync(join(out, 'partitioned', 'embeddings'), { recursive: true });
await run(`COPY (SELECT printf('00000000-0000-4000-8000-%012d', i)::UUID AS sample_id, w, split FROM base ORDER BY i)
  TO '${join(out, 'partitioned', 'samples')}' (FORMAT parquet, PARTITION_BY (split))`);
await run(`COPY (SELECT printf('00000000-0000-4000-8000-%012d', i)::UUID AS sample_id, vec AS embedding FROM base WHERE i % 10 <> 3 ORDER BY i)
  TO '${join(out, 'partitioned', 'embeddings', 'm.parquet')}' (FORMAT parquet)`);

const v = await con.runAndReadAll('SELECT version()');
console.log(`wrote ${out} with DuckDB ${v.getRows()[0][0]}`);
