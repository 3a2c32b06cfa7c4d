#!/usr/bin/env bash
# End-to-end query benchmark: winnow against DuckDB on the same files.
#
#   go run ./benchmarks/cmd/gen -n 10000000 -no-embeddings -no-annotations -out benchmarks/data/q10m
#   (cd benchmarks/duckdb && npm install)
#   benchmarks/query.sh benchmarks/data/q10m [runs]
#
# Runs `winnow query DIR --count --where EXPR` and DuckDB's count(*) of the
# same predicate (benchmarks/duckdb/query.mjs) alternately, each in a fresh
# process with the files in the page cache, and prints the medians: winnow's
# process, DuckDB's process (node start-up included) and DuckDB's query
# alone in its open instance.
set -euo pipefail
dir=$(cd "${1:?usage: benchmarks/query.sh DIR [runs]}" && pwd)
runs=${2:-9}
root=$(cd "$(dirname "$0")/.." && pwd)
expr='width < 256 and weather in ("rain", "snow") and not tagged("reviewed")'
bin=$(mktemp -d)/winnow
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root" && go build -o "$bin" ./cmd/winnow)
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
w=() d=() q=()
"$bin" query "$dir" --count --where "$expr" >/dev/null # warm the page cache
for _ in $(seq "$runs"); do
	t0=$(now)
	n=$("$bin" query "$dir" --count --where "$expr")
	t1=$(now)
	out=$(cd "$root/benchmarks/duckdb" && node query.mjs "$dir" 1)
	t2=$(now)
	w+=("$(awk "BEGIN {print $t1 - $t0}")") d+=("$(awk "BEGIN {print $t2 - $t1}")")
	q+=("$(sed 's/.*seconds=//' <<<"$out")")
	[[ $out == *"count=$n "* ]] || { echo "counts differ: winnow $n, $out" >&2; exit 1; }
done
printf 'matches %s, medians of %d runs (s): winnow %s, duckdb process %s, duckdb query %s\n' \
	"$n" "$runs" "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${d[@]}" | median)" "$(printf '%s\n' "${q[@]}" | median)"
