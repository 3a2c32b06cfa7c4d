#!/usr/bin/env bash
# Open + query at 10M rows with UUID, string and int64 sample ids: the
# README's query benchmark (winnow query --count) on datasets that differ
# only in the id column's type, sealed (winnow's tags table) and unsealed
# (no tags table: every sample id decoded and checked unique).
#
#   for t in uuid string int64; do
#     go run ./benchmarks/cmd/gen -n 10000000 -no-embeddings -no-annotations -id-type $t -out benchmarks/data/q10m-$t
#   done
#   benchmarks/idtypes.sh [runs]
#
# Prints the median wall and CPU (user+sys) seconds of each, runs
# alternating between the id types so that load on the machine spreads
# evenly.
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/benchmarks/data
bin=$(mktemp -d)/winnow
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root" && go build -o "$bin" ./cmd/winnow)
sealed='width < 256 and weather in ("rain", "snow") and not tagged("reviewed")'
unsealed='width < 256 and weather in ("rain", "snow")'
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A wall cpu
for _ in $(seq "$runs"); do
	for t in uuid string int64; do
		dir=$data/q10m-$t
		for mode in sealed unsealed; do
			expr=$sealed
			if [[ $mode == unsealed ]]; then
				expr=$unsealed
				mv "$dir/tags.parquet" "$dir/tags.parquet.off"
			fi
			out=$( { /usr/bin/time -f '%e %U %S' "$bin" query "$dir" --count --where "$expr" >/dev/null; } 2>&1 )
			[[ $mode == unsealed ]] && mv "$dir/tags.parquet.off" "$dir/tags.parquet"
			read -r e u s <<<"$out"
			wall[$t-$mode]+="$e "
			cpu[$t-$mode]+="$(awk "BEGIN {print $u + $s}") "
		done
	done
done
for mode in sealed unsealed; do
	for t in uuid string int64; do
		printf '%-8s %-8s wall %ss  cpu %ss\n' "$mode" "$t" \
			"$(tr ' ' '\n' <<<"${wall[$t-$mode]}" | grep . | median)" "$(tr ' ' '\n' <<<"${cpu[$t-$mode]}" | grep . | median)"
	done
done
