// node-soap (npm soap@1.13.0) as an operator's or an SM-SR's SOAP stack, built only from the repository's
// WSDLs.
//
//   node peer.js CONFIG client   call the mock SM-SR: sync ES4-GetEIS, async ES4-AuditEIS and
//                                ES4-EnableProfile; the callbacks arrive at a node https server (mutual TLS)
//                                and are parsed by node-soap with wsdl/ES4_Mno.wsdl
//   node peer.js CONFIG notify   post ES4 and ES2 HandleXxxNotification messages to esimgw's CallbackServer
//   node peer.js CONFIG server   an SM-SR from wsdl/ES4_SmSr.wsdl (soap.listen on https, mutual TLS) that
//                                the es4 client calls; it prints each request it got
//
// SOAP 1.2 through forceSoap12Headers. node-soap writes no WS-Addressing headers of its own: they are added
// with addSoapHeader (client) and addSoapHeader on the server (the reply's RelatesTo and Action). Every
// stdout line is one JSON event (see interop.Event).
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');
const crypto = require('crypto');
const soap = require('soap');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const mode = process.argv[3];
const WSA = 'http://www.w3.org/2005/08/addressing';
const key = fs.readFileSync(cfg.client_key), cert = fs.readFileSync(cfg.client_cert), ca = fs.readFileSync(cfg.ca);

function emit(event, o) { console.log(JSON.stringify(Object.assign({ event, peer: 'node-soap' }, o))); }
function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;'); }
function messageID() {
  return `//${cfg.operator_id}/urn:uuid:${crypto.randomUUID()}?TransactionId=urn:uuid:${crypto.randomUUID()}` +
    `&MessageDate=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
}
function invoke(client, op, args) {
  return new Promise((resolve, reject) => client[op](args, (err, res, raw, hdr) => (err ? reject(err) : resolve(res))));
}
// The WSDLs leave WS-Addressing to the stack: node-soap has none, so the headers are added by hand.
function addressing(client, to, action, from, replyTo) {
  client.clearSoapHeaders();
  client.addSoapHeader(`<wsa:From xmlns:wsa="${WSA}"><wsa:Address>${esc(from + '?EntityId=' + cfg.operator_id + '&EntityName=node-soap')}</wsa:Address></wsa:From>`);
  client.addSoapHeader(`<wsa:To xmlns:wsa="${WSA}">${esc(to)}</wsa:To>`);
  client.addSoapHeader(`<wsa:MessageID xmlns:wsa="${WSA}">${esc(messageID())}</wsa:MessageID>`);
  client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}">${esc(action)}</wsa:Action>`);
  if (replyTo) client.addSoapHeader(`<wsa:ReplyTo xmlns:wsa="${WSA}"><wsa:Address>${esc(replyTo)}</wsa:Address></wsa:ReplyTo>`);
}
// actionOf is the soapAction the WSDL gives an operation (equal to its wsa:Action).
function actionOf(client, op) {
  for (const b of Object.values(client.wsdl.definitions.bindings)) {
    if (b.methods[op]) return b.methods[op].soapAction;
  }
  throw new Error('no operation ' + op);
}
function text(v) { return v && typeof v === 'object' && '$value' in v ? v.$value : v; }
function profiles(eis) {
  const list = [].concat((eis && eis.ProfileInfo) || []);
  return Object.fromEntries(list.map((p) => [p.Iccid, p.State]));
}
async function soapClient(wsdl, endpoint) {
  const c = await soap.createClientAsync(path.join(cfg.wsdl_dir, wsdl), { forceSoap12Headers: true });
  c.setEndpoint(endpoint);
  c.setSecurity(new soap.ClientSSLSecurity(key, cert, ca));
  return c;
}

async function client() {
  // The callback receiver: node's https server; node-soap parses each body with the operator-side WSDL.
  const mno = await soap.createClientAsync(path.join(cfg.wsdl_dir, 'ES4_Mno.wsdl'), { forceSoap12Headers: true });
  const inbox = [];
  let wake = null;
  const srv = https.createServer({ key: fs.readFileSync(cfg.server_key), cert: fs.readFileSync(cfg.server_cert), ca,
    requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      res.writeHead(202); res.end();
      inbox.push({ ctype: req.headers['content-type'], obj: mno.wsdl.xmlToObject(Buffer.concat(chunks).toString('utf8')) });
      if (wake) wake();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const replyTo = `https://localhost:${srv.address().port}/node-callbacks`;
  emit('listening', { url: replyTo });
  const nextCallback = () => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no callback in 30 s')), 30000);
    const take = () => { if (inbox.length) { clearTimeout(t); wake = null; resolve(inbox.shift()); } else wake = take; };
    take();
  });

  const c = await soapClient('ES4_SmSr.wsdl', cfg.es4_url);
  const from = 'https://node-soap.example/rsp';
  addressing(c, cfg.es4_url, actionOf(c, 'ES4-GetEIS'), from);
  const r = await invoke(c, 'ES4-GetEIS', { FunctionCallIdentifier: 'node-soap-geteis-' + crypto.randomUUID(), Eid: cfg.eid });
  emit('result', { check: 'GetEIS', values: { status: r.FunctionExecutionStatus.Status,
    eid: String(r.Eis.EumSignedInfo.Eid).toUpperCase(), profiles: profiles(r.Eis) } });

  for (const [check, op, args] of [['AuditEIS', 'ES4-AuditEIS', { Eid: cfg.eid }],
    ['EnableProfile', 'ES4-EnableProfile', { Eid: cfg.eid, Iccid: cfg.disabled_iccid }]]) {
    const fci = 'node-soap-' + check + '-' + crypto.randomUUID();
    addressing(c, cfg.es4_url, actionOf(c, op), from, replyTo);
    const res = await invoke(c, op, Object.assign({ FunctionCallIdentifier: fci, ValidityPeriod: 60 }, args));
    const cb = await nextCallback();
    const name = Object.keys(cb.obj.Body)[0];
    // Which operation of ES4_Mno.wsdl takes this element (what soap.listen would have dispatched to).
    let operation;
    for (const b of Object.values(mno.wsdl.definitions.bindings)) {
      for (const [m, def] of Object.entries(b.methods)) {
        if (def.input && def.input.$name === name) operation = m;
        if (def.input && def.input.element && def.input.element.$name === name) operation = m;
      }
    }
    const body = cb.obj.Body[name];
    const values = { accepted: res === null || res === undefined || Object.keys(res).length === 0, operation, element: name,
      content_type: cb.ctype, relates_to: text(cb.obj.Header && cb.obj.Header.RelatesTo),
      status: body.FunctionExecutionStatus.Status, function_call_identifier: fci };
    if (check === 'AuditEIS') values.profiles = profiles(body.Eis);
    emit('result', { check, values });
  }
  srv.close();
}

async function notify() {
  for (const [wsdl, iface] of [['ES4_Mno.wsdl', 'ES4'], ['ES2_Mno.wsdl', 'ES2']]) {
    const c = await soapClient(wsdl, cfg.callback_url);
    for (const [kind, iccid] of [['Disabled', cfg.enabled_iccid], ['Enabled', cfg.disabled_iccid]]) {
      const op = `${iface}-HandleProfile${kind}Notification`;
      addressing(c, cfg.callback_url, actionOf(c, op), 'https://node-soap-smsr.example/' + iface);
      const r = await invoke(c, op, { Eid: cfg.eid, Iccid: iccid, CompletionTimestamp: '2026-12-03T10:00:00Z' });
      emit('result', { check: op, values: { accepted: r === null || r === undefined || Object.keys(r).length === 0, iccid } });
    }
  }
}

async function server() {
  const wsdlText = fs.readFileSync(path.join(cfg.wsdl_dir, 'ES4_SmSr.wsdl'), 'utf8');
  const eis = (eid) => ({
    EumSignedInfo: { Eid: eid, 'Eum-id': '1.3.6.1.4.1.99999.30', ProductionDate: '2026-01-01T00:00:00Z', PlatformType: 'node',
      PlatformVersion: '1.0.0', 'Isd-p-loadfile-aid': 'A0000005591010', 'Isd-p-module-aid': 'A0000005591010FFFFFFFF8900000100',
      Ecasd: { Aid: 'A0000005591010FFFFFFFF8900000200', Sin: '01', Sdin: '02', Role: 'ECASD', Keyset: [{ Version: 1 }] },
      EuiccCapabilities: { CattpSupport: false, HttpSupport: true, SecurePacketVersion: '1.0.0', RemoteProvisioningVersion: '3.1.0' } },
    EumSignature: {}, RemainingMemory: 4096, AvailableMemoryForProfiles: 2048, 'Smsr-id': cfg.smsr_id || '1.3.6.1.4.1.99999.20',
    ProfileInfo: [{ Iccid: cfg.enabled_iccid, 'Isd-p-aid': 'A0000005591010FFFFFFFF8900001000', 'Mno-id': cfg.operator_id,
      FallbackAttribute: true, SubscriptionAddress: { Imsi: '204049000000001' }, State: 'Enabled', AllocatedMemory: 512, pol2: {} }],
    'Isd-r': { Aid: 'A0000005591010FFFFFFFF8900000100', Sin: '01', Sdin: '02', Role: 'ISD-R', Keyset: [{ Version: 1 }] },
  });
  const ok = (extra) => Object.assign({ ProcessingStart: new Date().toISOString(), ProcessingEnd: new Date().toISOString(),
    FunctionExecutionStatus: { Status: 'EXECUTED_SUCCESS' } }, extra || {});
  const record = (op) => (args, cb, headers) => {
    emit('result', { check: op, values: { function_call_identifier: args.FunctionCallIdentifier, eid: args.Eid,
      message_id: text(headers && headers.MessageID), action: text(headers && headers.Action) } });
    if (op === 'ES4-GetEIS') return ok({ Eis: eis(args.Eid) });
    if (op === 'ES4-UpdatePolicyRules' || op === 'ES4-UpdateSubscriptionAddress') return ok();
    return undefined; // one-way
  };
  const ops = ['ES4-GetEIS', 'ES4-UpdatePolicyRules', 'ES4-UpdateSubscriptionAddress', 'ES4-AuditEIS', 'ES4-EnableProfile',
    'ES4-DisableProfile', 'ES4-DeleteProfile', 'ES4-PrepareSMSRChange', 'ES4-SMSRChange', 'ES4-SetFallBackAttribute'];
  const port = Object.fromEntries(ops.map((op) => [op, record(op)]));
  const srv = https.createServer({ key: fs.readFileSync(cfg.server_key), cert: fs.readFileSync(cfg.server_cert), ca,
    requestCert: true, rejectUnauthorized: true });
  // soap.listen loads the WSDL (and its XSD includes) in the background; a request that comes before it
  // is ready is never answered, so "listening" is printed only once it is.
  let ready;
  const loaded = new Promise((resolve, reject) => { ready = (err) => (err ? reject(err) : resolve()); });
  const s = soap.listen(srv, { path: '/esim-messaging/3/ES4/ES4SmSrService', services: { ES4SmSrService: { SmSrES4Port: port } },
    xml: wsdlText, uri: path.join(cfg.wsdl_dir, 'ES4_SmSr.wsdl'), forceSoap12Headers: true, callback: (err) => ready(err) });
  s.log = (type, data) => { if (type === 'error' || process.env.PEER_DEBUG) console.error('node-soap', type, data); };
  // The reply's addressing headers, which node-soap's server does not write: RelatesTo the request's
  // MessageID, Action the output Action of the WSDL.
  s.addSoapHeader((methodName, args, headers) => {
    const b = Object.values(s.wsdl.definitions.bindings)[0];
    const out = b.methods[methodName] && b.methods[methodName].output;
    const action = out && out.$wsam_Action ? out.$wsam_Action : actionOf({ wsdl: s.wsdl }, methodName).replace(/Request$/, 'Response');
    return `<wsa:MessageID xmlns:wsa="${WSA}">${esc('//' + (cfg.smsr_id || '1.3.6.1.4.1.99999.20') + '/urn:uuid:' + crypto.randomUUID())}</wsa:MessageID>` +
      `<wsa:RelatesTo xmlns:wsa="${WSA}">${esc(text(headers && headers.MessageID) || '')}</wsa:RelatesTo>` +
      `<wsa:Action xmlns:wsa="${WSA}">${esc(action)}</wsa:Action>`;
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  await loaded;
  emit('listening', { url: `https://localhost:${srv.address().port}/esim-messaging/3/ES4/ES4SmSrService` });
  process.on('SIGINT', () => { srv.close(); process.exit(0); });
}

({ client, notify, server }[mode] || (() => Promise.reject(new Error('mode ' + mode))))().catch((e) => {
  emit('error', { error: String((e && e.stack) || e) });
  process.exit(1);
});
