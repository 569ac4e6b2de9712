"""Python zeep (Debian python3-zeep) as an operator's SOAP stack, built only from the repository's WSDLs.

    peer.py CONFIG client   call the mock SM-SR: sync ES4-GetEIS, async ES4-AuditEIS and ES4-EnableProfile;
                            the callbacks arrive at a small HTTPS server of ours (mutual TLS) and are parsed
                            with the types of wsdl/ES4_Mno.wsdl
    peer.py CONFIG notify   post ES4 and ES2 HandleXxxNotification messages to esimgw's CallbackServer

The only help zeep gets is wsa:From and wsa:ReplyTo as SOAP headers: zeep writes Action, To and MessageID itself,
because the WSDLs give every operation a wsam:Action. Adding WsAddressingPlugin on top writes them twice, which a
JAX-WS gateway (and the strict mock) refuses with wsa:InvalidCardinality. Every line on stdout is one JSON event
(see interop.Event).
"""
import http.server
import json
import os
import queue
import ssl
import sys
import threading
import uuid

import requests
from lxml import etree
from zeep import Client, Settings
from zeep.transports import Transport

NS = '{http://namespaces.gsma.org/esim-messaging/3}'
cfg = json.load(open(sys.argv[1]))
mode = sys.argv[2]


def emit(event, **kw):
    kw.update(event=event, peer='zeep')
    print(json.dumps(kw, default=str), flush=True)


def session():
    s = requests.Session()
    s.trust_env = False  # environment CA variables would override verify
    s.cert = (cfg['client_cert'], cfg['client_key'])
    s.verify = cfg['ca']
    return s


def client(wsdl):
    return Client(os.path.join(cfg['wsdl_dir'], wsdl), transport=Transport(session=session()),
                  settings=Settings(strict=True))


WSA = '{http://www.w3.org/2005/08/addressing}'


def epr(name, address):
    """A wsa endpoint reference header: the WSDLs declare no header parts, so zeep takes the headers it
    does not write itself as elements."""
    el = etree.Element(WSA + name, nsmap={'wsa': WSA[1:-1]})
    etree.SubElement(el, WSA + 'Address').text = address
    return el


def from_header(base):
    return epr('From', base + '?EntityId=' + cfg['operator_id'] + '&EntityName=zeep')


class Callbacks(http.server.BaseHTTPRequestHandler):
    """Receives the mock's callbacks and parses each with zeep, through the operator-side WSDL."""
    inbox = queue.Queue()
    parser = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.send_response(202)
        self.send_header('Content-Length', '0')
        self.end_headers()
        Callbacks.inbox.put((self.headers.get('Content-Type', ''), body))

    def log_message(self, *a):
        pass


def parse_callback(mno, body):
    """Finds the operation of the operator-side WSDL whose input element is the body element and
    deserialises the envelope with it, as a zeep-based server would."""
    env = etree.fromstring(body)
    el = env.find('{http://www.w3.org/2003/05/soap-envelope}Body')[0]
    binding = mno.wsdl.bindings['{http://namespaces.gsma.org/esim-messaging/3}ES4MnoServiceBinding']
    for name, op in binding._operations.items():
        if op.input.body and op.input.body.qname == el.tag:
            hdr = env.find('{http://www.w3.org/2003/05/soap-envelope}Header')
            relates = hdr.find('{http://www.w3.org/2005/08/addressing}RelatesTo')
            return name, op.input.deserialize(env), relates.text if relates is not None else None
    raise RuntimeError('no operation of ES4_Mno.wsdl takes ' + el.tag)


def hexstr(v):
    """zeep gives xs:hexBinary as the hex text it received."""
    return (v.hex() if isinstance(v, bytes) else v).upper()


def run_client():
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Callbacks)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg['server_cert'], cfg['server_key'])
    ctx.load_verify_locations(cfg['ca'])
    ctx.verify_mode = ssl.CERT_REQUIRED  # the mock presents its client certificate
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    reply_to = 'https://localhost:%d/zeep-callbacks' % srv.server_address[1]
    emit('listening', url=reply_to)

    c = client('ES4_SmSr.wsdl')
    svc = c.create_service(NS + 'ES4SmSrServiceBinding', cfg['es4_url'])
    mno = client('ES4_Mno.wsdl')
    hdr = [from_header('https://zeep.example/rsp')]
    async_hdr = hdr + [epr('ReplyTo', reply_to)]

    r = svc['ES4-GetEIS'](FunctionCallIdentifier='zeep-geteis-' + uuid.uuid4().hex, Eid=cfg['eid'], _soapheaders=hdr)
    emit('result', check='GetEIS', values={
        'status': r.FunctionExecutionStatus.Status,
        'eid': hexstr(r.Eis.EumSignedInfo.Eid),
        'profiles': {p.Iccid: p.State for p in r.Eis.ProfileInfo},
    })

    for check, op, args in (
            ('AuditEIS', 'ES4-AuditEIS', {'Eid': cfg['eid']}),
            ('EnableProfile', 'ES4-EnableProfile', {'Eid': cfg['eid'], 'Iccid': cfg['disabled_iccid']})):
        fci = 'zeep-' + check + '-' + uuid.uuid4().hex
        res = svc[op](FunctionCallIdentifier=fci, ValidityPeriod=60, _soapheaders=async_hdr, **args)
        ctype, body = Callbacks.inbox.get(timeout=30)
        name, parsed, relates = parse_callback(mno, body)
        values = {'accepted': res is None, 'operation': name, 'content_type': ctype, 'relates_to': relates,
                  'status': parsed.FunctionExecutionStatus.Status, 'function_call_identifier': fci}
        if check == 'AuditEIS':
            values['profiles'] = {p.Iccid: p.State for p in parsed.Eis.ProfileInfo}
        emit('result', check=check, values=values)
    srv.shutdown()


def run_notify():
    for wsdl, binding, iface in (('ES4_Mno.wsdl', 'ES4MnoServiceBinding', 'ES4'), ('ES2_Mno.wsdl', 'ES2MnoServiceBinding', 'ES2')):
        svc = client(wsdl).create_service(NS + binding, cfg['callback_url'])
        hdr = [from_header('https://zeep-smsr.example/' + iface)]
        for kind, iccid in (('Disabled', cfg['enabled_iccid']), ('Enabled', cfg['disabled_iccid'])):
            op = '%s-HandleProfile%sNotification' % (iface, kind)
            r = svc[op](Eid=cfg['eid'], Iccid=iccid, CompletionTimestamp='2026-12-03T10:00:00Z', _soapheaders=hdr)
            emit('result', check=op, values={'accepted': r is None, 'iccid': iccid})


try:
    {'client': run_client, 'notify': run_notify}[mode]()
except Exception as e:  # noqa: BLE001 - the driver reports it
    emit('error', error='%s: %s' % (type(e).__name__, e))
    sys.exit(1)
