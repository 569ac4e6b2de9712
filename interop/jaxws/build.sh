#!/usr/bin/env bash
# Builds the JAX-WS peer into OUT (default interop/jaxws/out): wsimport from the repository's WSDLs, then
# javac. Prints the classpath to run it with.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-interop/jaxws/out}
rm -rf "$OUT" && mkdir -p "$OUT/src" "$OUT/classes"
J=/usr/share/java
CP="$J/jaxws-rt.jar:$J/jaxws-api.jar:$J/jaxb-api.jar:$J/jaxb-impl.jar:$J/jaxb-core.jar:$J/javax.activation.jar:$J/istack-commons-runtime.jar:$J/jws-api.jar:$J/javax.xml.soap-api.jar:$J/saaj-impl.jar:$J/geronimo-annotation-1.3-spec.jar"
# -extension: our WSDLs bind SOAP 1.2, which the JAX-WS 2.x tools call an extension.
wsimport -extension -quiet -Xnocompile -s "$OUT/src" -p es4smsr wsdl/ES4_SmSr.wsdl >&2
wsimport -extension -quiet -Xnocompile -s "$OUT/src" -p es4mno wsdl/ES4_Mno.wsdl >&2
wsimport -extension -quiet -Xnocompile -s "$OUT/src" -p es2mno wsdl/ES2_Mno.wsdl >&2
javac -nowarn -encoding UTF-8 -cp "$CP" -d "$OUT/classes" $(find "$OUT/src" interop/jaxws/src -name '*.java') >&2
echo "$OUT/classes:$CP"
