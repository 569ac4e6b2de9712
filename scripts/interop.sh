#!/usr/bin/env bash
# The interop suite (package interop, build tag interop): Python zeep, node-soap and the JAX-WS RI (Metro),
# each built from wsdl/*.wsdl, against the mock gateway, the CallbackServer and the es4 client. Installs
# what it needs from Debian and npm (CI reaches those and the Go proxy only) and caches nothing outside the
# repository's ignored folders (interop/node/node_modules). About a minute once the packages are there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "interop: missing $*, and this is no root on Debian: install them and run again" >&2
		exit 1
	fi
	echo "interop: installing $* (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

# Python zeep: Debian's package, for Debian's interpreter (/usr/bin/python3).
/usr/bin/python3 -c 'import zeep' 2>/dev/null || apt_install python3-zeep
# JAX-WS RI (wsimport, Metro runtime) on the machine's OpenJDK.
{ command -v wsimport >/dev/null && [ -f /usr/share/java/jaxws-rt.jar ] && command -v javac >/dev/null; } ||
	apt_install default-jdk-headless jaxws libjaxws-java
# node-soap, pinned, into the ignored interop/node/node_modules.
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
if [ ! -f interop/node/node_modules/soap/package.json ]; then
	echo "interop: installing soap@1.13.0 (npm)"
	npm install --prefix interop/node --no-save --no-package-lock --no-audit --no-fund --loglevel=error soap@1.13.0 >/dev/null
fi

go test -tags interop -count=1 -timeout 10m ./interop/ "$@"
