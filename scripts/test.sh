#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then vets and runs every test
# with the race detector. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# xmllint validates our golden envelopes against our own XSDs (wsdl/rps tests).
if ! command -v xmllint >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing libxml2-utils (xmllint) for the schema validation tests"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null
	else
		echo "warning: xmllint is missing and cannot be installed here; the XSD validation tests will skip" >&2
	fi
fi

# PostgreSQL for the store and campaign tests (internal/pgtest). ESIMGW_TEST_DATABASE_URL wins; otherwise a
# server on 127.0.0.1:5432 is used, and when none answers Debian's postgresql is installed and started. The
# tests never skip: with no database they fail and say why.
if [ -z "${ESIMGW_TEST_DATABASE_URL:-}" ]; then
	bash scripts/postgres.sh
	export ESIMGW_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
fi

# Chromium for the web view's browser test (campaign/campaignweb): found, or installed from Debian. The
# test fails, never skips, without it.
ESIMGW_CHROMIUM="$(bash scripts/chromium.sh)"
export ESIMGW_CHROMIUM

go vet ./...
go test -race -count=1 -timeout 15m ./...

# The fleet run at full size (100k EIDs on the mock, about 20 s): under -race above it runs 10k, since the
# race detector makes the full run take minutes.
go test -count=1 -timeout 5m -run 'TestFleetFallback' ./internal/reliability

# The campaign tests at full size (10k EIDs over two worker processes, one killed; 1M EIDs created from a
# file with flat memory; about 2.5 min): under -race above they run 600 and 20k.
go test -count=1 -timeout 10m -run 'TestCreateMillion|TestKillWorker' ./campaign
