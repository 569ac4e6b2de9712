#!/usr/bin/env bash
# Prints the path of a Chromium for the web view's browser test (campaign/campaignweb), installing Debian's
# chromium when none is found and this runs as root on Debian, as scripts/postgres.sh does for PostgreSQL.
# ESIMGW_CHROMIUM wins. Fails, saying why, when there is none and it cannot install one: the test then
# fails too (it never skips).
set -euo pipefail

find_chromium() {
	if [ -n "${ESIMGW_CHROMIUM:-}" ]; then
		echo "$ESIMGW_CHROMIUM"
		return 0
	fi
	for name in chromium chromium-browser google-chrome headless_shell; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "error: no Chromium found and this script can install one only as root on Debian;" >&2
	echo "       install chromium or set ESIMGW_CHROMIUM to a Chromium or Chrome binary" >&2
	exit 1
fi
echo "installing Debian's chromium for the web view's browser test" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
if ! find_chromium; then
	echo "error: chromium was installed but is not on PATH" >&2
	exit 1
fi
