#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each (default 30s): ./scripts/fuzz.sh 8s
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-30s}"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
		echo "-- $pkg $target"
		# A failure the fuzzer reproduced names the input it wrote to testdata/fuzz: that fails at once. A
		# failure without one (a worker that stalled on a loaded machine) is run once more before it counts.
		for attempt in 1 2; do
			if out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1); then
				break
			fi
			echo "$out" | tail -60
			if [ "$attempt" = 2 ] || grep -q 'Failing input written to' <<<"$out"; then
				exit 1
			fi
			echo "-- $pkg $target failed without a failing input; running it again"
		done
		echo "$out" | tail -2
	done
done
