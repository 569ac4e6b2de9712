// node-soap (npm soap@1.13.0) client for bench/peers.sh: sync GetEIS, or the async EnableProfile round
// trip (request, 202, callback received by node-soap's own server on the operator-side WSDL, correlated
// by RelatesTo). SOAP 1.2 through forceSoap12Headers, keep-alive through ClientSSLSecurity {forever: true},
// WS-Addressing headers through addSoapHeader (set right before each call: node runs one call's
// synchronous envelope building at a time). Prints the loadgen JSON line.
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');
const crypto = require('crypto');
const soap = require('soap');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--?/, '').split('=')));
const url = args.url, dir = args.dir, scenario = args.scenario || 'sync';
const conc = +(args.c || 8), durMs = +(args.d || 5) * 1000, warmMs = +(args.warmup || 1) * 1000, maxCalls = +(args.n || 200000);
const wsdlDir = args.wsdl;
const OPERATOR = '1.3.6.1.4.1.99999.10', EID = '89049032000001000000000000000171', ICCID = '89310410000000000027';
const WSA = 'http://www.w3.org/2005/08/addressing';
const key = fs.readFileSync(path.join(dir, 'client.key')), cert = fs.readFileSync(path.join(dir, 'client.crt'));
const ca = fs.readFileSync(path.join(dir, 'ca.pem'));

function messageID() {
  return `//${OPERATOR}/urn:uuid:${crypto.randomUUID()}?TransactionId=urn:uuid:${crypto.randomUUID()}&MessageDate=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
}
function invoke(client, op, args) {
  return new Promise((resolve, reject) => client[op](args, (err, res) => (err ? reject(err) : resolve(res))));
}
function esc(s) { return s.replace(/&/g, '&amp;').replace(/</g, '&lt;'); }
function headers(client, action, mid, replyTo) {
  client.clearSoapHeaders();
  client.addSoapHeader(`<wsa:From xmlns:wsa="${WSA}"><wsa:Address>${esc('http://localhost?EntityId=' + OPERATOR)}</wsa:Address></wsa:From>`);
  client.addSoapHeader(`<wsa:To xmlns:wsa="${WSA}">${esc(url)}</wsa:To>`);
  client.addSoapHeader(`<wsa:MessageID xmlns:wsa="${WSA}">${esc(mid)}</wsa:MessageID>`);
  client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}">${action}</wsa:Action>`);
  if (replyTo) client.addSoapHeader(`<wsa:ReplyTo xmlns:wsa="${WSA}"><wsa:Address>${esc(replyTo)}</wsa:Address></wsa:ReplyTo>`);
}

async function main() {
  const client = await soap.createClientAsync(path.join(wsdlDir, 'ES4_SmSr.wsdl'), { forceSoap12Headers: true });
  client.setEndpoint(url);
  client.setSecurity(new soap.ClientSSLSecurity(key, cert, ca, { forever: true, minVersion: 'TLSv1.3' }));
  let call;
  if (scenario === 'sync') {
    call = async () => {
      const mid = messageID();
      headers(client, 'http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest', mid);
      const res = await invoke(client, 'ES4-GetEIS', { FunctionCallIdentifier: mid, Eid: EID });
      const st = res && res.FunctionExecutionStatus && res.FunctionExecutionStatus.Status;
      if (st !== 'EXECUTED_SUCCESS') throw new Error('status ' + JSON.stringify(st));
    };
  } else {
    // The callback receiver: a node https server (mutual TLS, keep-alive) whose bodies are parsed by
    // node-soap's own parser for the operator-side WSDL (wsdl.xmlToObject). node-soap's soap.listen cannot
    // bind ES4_Mno.wsdl's SOAP 1.2 port ("Failed to bind to WSDL"), so the parse is node-soap's, the
    // routing ours: correlation by wsa:RelatesTo, then 202.
    const pending = new Map();
    const mno = await soap.createClientAsync(path.join(wsdlDir, 'ES4_Mno.wsdl'), { forceSoap12Headers: true });
    const srv = https.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')),
      ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', keepAliveTimeout: 120000 }, (req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        let obj;
        try { obj = mno.wsdl.xmlToObject(Buffer.concat(chunks).toString('utf8')); } catch (e) { res.writeHead(400); res.end(String(e)); return; }
        const h = obj.Header || {};
        const rel = h.RelatesTo && (typeof h.RelatesTo === 'object' ? h.RelatesTo.$value : h.RelatesTo);
        const body = obj.Body || {};
        const resp = body['ES4-EnableProfileResponse'] || body[Object.keys(body)[0]];
        const p = pending.get(rel);
        if (p) { pending.delete(rel); p(resp); }
        if (process.env.BENCH_DEBUG && !p) console.error('unmatched', JSON.stringify(obj).slice(0, 500));
        res.writeHead(202); res.end();
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const replyTo = `https://localhost:${srv.address().port}/callbacks`;
    call = () => new Promise((resolve, reject) => {
      const mid = messageID();
      const timer = setTimeout(() => { pending.delete(mid); reject(new Error('callback timeout')); }, 30000);
      pending.set(mid, (res) => {
        clearTimeout(timer);
        const st = res && res.FunctionExecutionStatus && res.FunctionExecutionStatus.Status;
        if (st !== 'EXECUTED_SUCCESS') reject(new Error('status ' + JSON.stringify(st))); else resolve();
      });
      headers(client, 'http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile', mid, replyTo);
      invoke(client, 'ES4-EnableProfile', { FunctionCallIdentifier: mid, Eid: EID, Iccid: ICCID }).catch((e) => {
        clearTimeout(timer); pending.delete(mid); reject(e);
      });
    });
    call.server = srv;
  }
  await call();
  // warm-up, then measured run
  const runFor = async (ms, record) => {
    const end = Date.now() + ms;
    let started = 0, errors = 0, firstError;
    const lat = [];
    const worker = async () => {
      while (Date.now() < end && (!record || started < maxCalls)) {
        started++;
        const t0 = process.hrtime.bigint();
        try { await call(); } catch (e) { errors++; if (!firstError) firstError = String(e && e.message || e); }
        if (record) lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: conc }, worker));
    return { lat, errors, firstError, seconds: (Date.now() - t0) / 1000 };
  };
  await runFor(warmMs, false);
  const r = await runFor(durMs, true);
  r.lat.sort((a, b) => a - b);
  const n = r.lat.length;
  const out = { peer: 'node-soap', scenario, concurrency: conc, calls: n, errors: r.errors, seconds: r.seconds,
    ops: (n - r.errors) / r.seconds, p50_ms: n ? r.lat[Math.floor(n / 2)] : 0, p99_ms: n ? r.lat[Math.min(n - 1, Math.floor(n * 0.99))] : 0 };
  if (r.firstError) out.first_error = r.firstError;
  console.log(JSON.stringify(out));
  process.exit(0);
}
main().catch((e) => { console.error('node client:', e); process.exit(1); });
