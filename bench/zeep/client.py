"""Python zeep (Debian python3-zeep) client for bench/peers.sh: sync GetEIS over mutual TLS through a
requests.Session (trust_env=False, keep-alive), C threads. Prints the loadgen JSON line.

WS-Addressing as interop/zeep/peer.py does it: zeep writes Action, To and MessageID itself (every operation of
our WSDLs has a wsam:Action), so only wsa:From goes in as a SOAP header. zeep's WsAddressingPlugin on top would
write Action, To and MessageID twice, which a JAX-WS gateway refuses (wsa:InvalidCardinality), and so does the
strict mock."""
import json, os, sys, threading, time, uuid

import requests
from zeep import Client, Settings
from zeep.transports import Transport
from lxml import etree

args = dict(a.lstrip('-').split('=', 1) for a in sys.argv[1:])
url, d = args['url'], args['dir']
conc, dur, warm, maxn = int(args.get('c', 8)), float(args.get('d', 5)), float(args.get('warmup', 1)), int(args.get('n', 200000))
EID = '89049032000001000000000000000171'
WSA = '{http://www.w3.org/2005/08/addressing}'
OPERATOR_ID = args.get('operator', '1.3.6.1.4.1.99999.10')


def from_header():
    # The WSDLs declare no header parts, so zeep takes the headers it does not write itself as elements.
    el = etree.Element(WSA + 'From', nsmap={'wsa': WSA[1:-1]})
    etree.SubElement(el, WSA + 'Address').text = 'https://zeep.bench.invalid/rsp?EntityId=' + OPERATOR_ID + '&EntityName=zeep'
    return el


local = threading.local()

def service():
    if not hasattr(local, 'svc'):
        s = requests.Session()
        s.trust_env = False
        s.cert = (os.path.join(d, 'client.crt'), os.path.join(d, 'client.key'))
        s.verify = os.path.join(d, 'ca.pem')
        c = Client(os.path.join(args['wsdl'], 'ES4_SmSr.wsdl'), transport=Transport(session=s),
                   settings=Settings(strict=False))
        local.svc = c.create_service('{http://namespaces.gsma.org/esim-messaging/3}ES4SmSrServiceBinding', url)
    return local.svc

def call():
    r = service()['ES4-GetEIS'](FunctionCallIdentifier=str(uuid.uuid4()), Eid=EID, _soapheaders=[from_header()])
    if r.FunctionExecutionStatus.Status != 'EXECUTED_SUCCESS':
        raise RuntimeError('status %r' % r.FunctionExecutionStatus.Status)

def run(seconds, record):
    end = time.time() + seconds
    lat, errs, first = [], [0], []
    lock = threading.Lock()
    def worker():
        while time.time() < end and (not record or len(lat) < maxn):
            t0 = time.perf_counter()
            try:
                call()
            except Exception as e:  # noqa: BLE001
                with lock:
                    errs[0] += 1
                    first.append(str(e)[:200])
            if record:
                with lock:
                    lat.append((time.perf_counter() - t0) * 1000)
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.time()
    for t in ts: t.start()
    for t in ts: t.join()
    return lat, errs[0], first[:1], time.time() - t0

call()
run(warm, False)
lat, errs, first, secs = run(dur, True)
lat.sort()
n = len(lat)
out = dict(peer='zeep', scenario='sync', concurrency=conc, calls=n, errors=errs, seconds=secs,
           ops=(n - errs) / secs, p50_ms=lat[n // 2] if n else 0, p99_ms=lat[min(n - 1, n * 99 // 100)] if n else 0)
if first: out['first_error'] = first[0]
print(json.dumps(out))
