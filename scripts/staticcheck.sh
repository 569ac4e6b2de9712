#!/usr/bin/env bash
# Static analysis beyond go vet: staticcheck (honnef.co/go/tools, pinned as a tool in go.mod), with its default
# checks, unused code (U1000) included, over every package and its tests. Exits non-zero on any finding and
# prints how many there were: bash scripts/staticcheck.sh [packages...]   (default ./...)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go tool staticcheck "${@:-./...}" >"$out" 2>&1 || status=$?
cat "$out"
findings=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: ' "$out" || true)
if [ "$status" -ne 0 ]; then
	echo "staticcheck: $findings finding(s)" >&2
	exit 1
fi
echo "staticcheck: no findings"
