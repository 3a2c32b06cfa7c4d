// DuckDB peer for winnow's embedding load benchmark: a full scan of one
// vector column of a Parquet table, the work winnow's ReadEmbeddings does.
//
//   npm install && node scan.mjs TABLE [COLUMN] [runs] [mode]
//
// TABLE is a file or a glob (read_parquet's syntax). mode "materialize"
// (default) copies the column into a temporary table, as winnow copies it
// into its matrix; "sum" reduces every value with list_sum instead, which
// decodes every value without keeping it. One line per run:
// duckdb mode=M rows=N seconds=S (the query alone, in an open instance).
import { DuckDBInstance } from '@duckdb/node-api';

const [table, column = 'embedding', runs = '5', mode = 'materialize'] = process.argv.slice(2);
if (!table) {
  console.error('usage: node scan.mjs TABLE [COLUMN] [runs] [materialize|sum]');
  process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const src = `read_parquet('${table}')`;
const sql = mode === 'sum'
  ? `SELECT count(*), sum(list_sum("${column}")) FROM ${src}`
  : `CREATE OR REPLACE TEMP TABLE scan AS SELECT "${column}" FROM ${src}`;
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  await con.run(sql);
  const s = (performance.now() - t0) / 1000;
  let rows = '';
  if (mode !== 'sum') {
    const r = await con.runAndReadAll('SELECT count(*) FROM scan');
    rows = String(r.getRows()[0][0]);
    await con.run('DROP TABLE scan');
  }
  console.log(`duckdb mode=${mode} rows=${rows} seconds=${s.toFixed(3)}`);
}
