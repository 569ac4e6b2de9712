#!/usr/bin/env bash
# Peer comparison: esimgw against gowsdl's generated client + runtime, node-soap, Python zeep and a minimal
# hand-written encoding/xml + net/http client, and against the transport floor (rawtls: keep-alive mTLS
# POSTs of esimgw's own request bytes with no XML and no correlation, sync and async with a raw callback
# listener; rawhttp: the same through net/http), all against one loopback comparison server
# (bench/cmd/compserver), in one run, peers alternating inside every round. Every esimgw figure is also
# printed as a fraction of the rawtls floor. Installs what it needs
# (npm soap@1.13.0 into bench/node_modules, Debian python3-zeep if it installs), generates gowsdl's client
# into bench/out/ (gitignored), prints one table and writes it to bench/out/results.md.
#
#   bench/peers.sh                     # defaults: 2 rounds, 4 s measured per run, 1 s warm-up
#   ROUNDS=3 DUR=5 bench/peers.sh
#   PEERS="esimgw rawtls rawhttp" bench/peers.sh   # only these peers (default: all)
#   STORE=postgres://postgres@127.0.0.1:5432/test bench/peers.sh   # adds esimgw-pg: async with the
#                                      # operations in PostgreSQL (pgstore, a schema of its own, dropped after)
#
# Loopback only: every server binds 127.0.0.1 and the comparison server posts callbacks to loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
ROUNDS=${ROUNDS:-2}
DUR=${DUR:-4}
WARM=${WARM:-1}
STORE=${STORE:-}
PEERS=${PEERS:-esimgw esimgw-pg rawtls rawhttp handwritten gowsdl node-soap zeep}
want() { [[ " $PEERS " == *" $1 "* ]]; }
mkdir -p "$OUT/bin" "$OUT/pki" "$OUT/raw"
rm -f "$OUT"/raw/*.json

echo "== building Go programs" >&2
go build -o "$OUT/bin/" ./bench/cmd/compserver ./bench/cmd/goclient

if want gowsdl; then
echo "== gowsdl: generating the client from a SOAP 1.1 copy of wsdl/ES4_SmSr.wsdl" >&2
rm -rf "$OUT/gowsdl-src" "$OUT/es4gw" "$OUT/gowsdlclient"
mkdir -p "$OUT/gowsdl-src" "$OUT/gowsdlclient"
cp -r wsdl/xsd wsdl/ES4_SmSr.wsdl "$OUT/gowsdl-src/"
# gowsdl v0.5.0 understands only the SOAP 1.1 binding namespace.
sed -i 's#http://schemas.xmlsoap.org/wsdl/soap12/#http://schemas.xmlsoap.org/wsdl/soap/#' "$OUT/gowsdl-src/ES4_SmSr.wsdl"
go tool gowsdl -o es4gw.go -p es4gw -d "$OUT" "$OUT/gowsdl-src/ES4_SmSr.wsdl" >&2
# Built-ins gowsdl lacks (its issue 170).
printf 'package es4gw\n\ntype NonNegativeInteger uint64\ntype PositiveInteger uint64\n' > "$OUT/es4gw/sidecar.go"
cp bench/gowsdl/main.go.tmpl "$OUT/gowsdlclient/main.go"
go build -o "$OUT/bin/gowsdlclient" ./bench/out/gowsdlclient
fi

echo "== node-soap" >&2
HAVE_NODE=0
if want node-soap && command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d bench/node_modules/soap ]; then
    npm install --prefix "$ROOT/bench" --no-save --no-package-lock --no-audit --no-fund soap@1.13.0 >&2 || true
  fi
  [ -d bench/node_modules/soap ] && HAVE_NODE=1
fi

echo "== zeep" >&2
HAVE_ZEEP=0
if want zeep && ! /usr/bin/python3 -c 'import zeep' 2>/dev/null; then
  (DEBIAN_FRONTEND=noninteractive apt-get install -y python3-zeep >&2 || \
   { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-zeep >&2; }) || true
fi
want zeep && /usr/bin/python3 -c 'import zeep' 2>/dev/null && HAVE_ZEEP=1

echo "== comparison server" >&2
rm -rf "$OUT/pki"; mkdir -p "$OUT/pki"
mkfifo "$OUT/pki/hold"
"$OUT/bin/compserver" -dir "$OUT/pki" < "$OUT/pki/hold" > "$OUT/pki/url" 2> "$OUT/pki/server.log" &
SRV=$!
exec 9> "$OUT/pki/hold"     # closing fd 9 (at exit) stops the server
trap 'exec 9>&-; wait $SRV 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/pki/url" ] && break; sleep 0.2; done
URL=$(head -1 "$OUT/pki/url")
echo "   $URL" >&2

# measure PEER SCENARIO C CMD...: runs CMD under /usr/bin/time, appends a JSON line with cpu and rss.
measure() {
  local peer=$1 scen=$2 c=$3; shift 3
  want "$peer" || return 0
  local tf; tf=$(mktemp)
  local line
  if line=$(/usr/bin/time -f '%U %S %M' -o "$tf" "$@" 2> "$OUT/raw/$peer-$scen-$c.err" | tail -1) && [ -n "$line" ]; then
    read -r u s m < "$tf"
    echo "$line" | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r.update(cpu=$u+$s, rss_kb=$m); print(json.dumps(r))" >> "$OUT/raw/results.jsonl"
    echo "   $peer $scen c=$c: $line" >&2
  else
    echo "   $peer $scen c=$c: FAILED (see $OUT/raw/$peer-$scen-$c.err)" >&2
  fi
  rm -f "$tf"
}

COMMON=(-url "$URL" -dir "$OUT/pki" -d "${DUR}s" -warmup "${WARM}s")
NCOMMON=(--url="$URL" --dir="$OUT/pki" --wsdl="$ROOT/wsdl" --d="$DUR" --warmup="$WARM")
: > "$OUT/raw/results.jsonl"
for round in $(seq "$ROUNDS"); do
  echo "== round $round/$ROUNDS" >&2
  for c in 1 8 64; do
    measure esimgw sync $c "$OUT/bin/goclient" -peer esimgw -scenario sync -c $c "${COMMON[@]}"
    measure rawtls sync $c "$OUT/bin/goclient" -peer rawtls -scenario sync -c $c "${COMMON[@]}"
    measure rawhttp sync $c "$OUT/bin/goclient" -peer rawhttp -scenario sync -c $c "${COMMON[@]}"
    measure handwritten sync $c "$OUT/bin/goclient" -peer handwritten -scenario sync -c $c "${COMMON[@]}"
    measure gowsdl sync $c "$OUT/bin/gowsdlclient" -c $c "${COMMON[@]}"
    [ $HAVE_NODE = 1 ] && measure node-soap sync $c node bench/node/client.js --scenario=sync --c=$c "${NCOMMON[@]}"
    [ $HAVE_ZEEP = 1 ] && measure zeep sync $c /usr/bin/python3 bench/zeep/client.py --c=$c "${NCOMMON[@]}"
  done
  for c in 8 64; do
    measure esimgw async $c "$OUT/bin/goclient" -peer esimgw -scenario async -c $c "${COMMON[@]}"
    [ -n "$STORE" ] && measure esimgw-pg async $c "$OUT/bin/goclient" -peer esimgw -store "$STORE" -scenario async -c $c "${COMMON[@]}"
    measure rawtls async $c "$OUT/bin/goclient" -peer rawtls -scenario async -c $c "${COMMON[@]}"
    measure rawhttp async $c "$OUT/bin/goclient" -peer rawhttp -scenario async -c $c "${COMMON[@]}"
    [ $HAVE_NODE = 1 ] && measure node-soap async $c node bench/node/client.js --scenario=async --c=$c "${NCOMMON[@]}"
  done
done

/usr/bin/python3 bench/table.py "$OUT/raw/results.jsonl" | tee "$OUT/results.md"
