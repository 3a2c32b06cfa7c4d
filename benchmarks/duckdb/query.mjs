// DuckDB peer for winnow's query benchmark: the same predicate as
//   winnow query DIR --count --where 'width < 256 and weather in ("rain", "snow") and not tagged("reviewed")'
// over the same files. tags.parquet rows are in samples order (winnow writes
// them so), so a positional join is DuckDB's cheapest equivalent.
//
//   npm install && node query.mjs DIR [runs]
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, runs = '5'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node query.mjs DIR [runs]');
  process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const sql = `SELECT count(*) FROM read_parquet('${dir}/samples.parquet') s
  POSITIONAL JOIN read_parquet('${dir}/tags.parquet') t
  WHERE s.width < 256 AND s.weather IN ('rain', 'snow') AND NOT t.reviewed`;
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  const r = await con.runAndReadAll(sql);
  const s = (performance.now() - t0) / 1000;
  console.log(`duckdb count=${r.getRows()[0][0]} seconds=${s.toFixed(3)}`);
}
