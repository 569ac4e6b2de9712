#!/usr/bin/env bash
# Instructions per operation of one Go benchmark, counted by valgrind's cachegrind: a figure that, unlike
# ns/op, does not move when other work shares the machine. It runs the benchmark for N iterations and for 1,
# and divides the difference by N-1, so that set-up is not counted. GOGC=off and GOMAXPROCS=1 keep the
# garbage collector's and the scheduler's variable work out of the count (allocation itself stays in).
#
#   bench/instructions.sh ./soap 'Envelope/sync_response/decode_into$' [N]
#
# Needs valgrind (Debian: apt-get install valgrind). Compare two builds by running it in each tree.
set -euo pipefail
pkg=$1 bench=$2 n=${3:-1000}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/pkg.test" "$pkg"
cd "$(go list -f '{{.Dir}}' "$pkg")"
count() {
	GODEBUG=asyncpreemptoff=1 GOGC=off GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
		--cachegrind-out-file="$tmp/cg.$1" "$tmp/pkg.test" -test.run '^$' -test.bench "$bench" -test.benchtime="$1x" >/dev/null 2>&1
	cg_annotate "$tmp/cg.$1" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
big=$(count "$n")
small=$(count 1)
echo "$bench: $(( (big - small) / (n - 1) )) instructions/op"
