"""Turns bench/peers.sh's JSON lines into Markdown tables: per peer, scenario and concurrency the round
with the highest throughput (rounds alternate peers, so each keeps its best slot), CPU seconds per 10k
calls and peak RSS from /usr/bin/time, and esimgw's throughput ratio to each peer; then every esimgw
figure as a fraction of the rawtls transport floor (issue 21's targets: sync >= 70% of the sync floor,
async >= 70% of half the sync floor, an async operation being two exchanges)."""
import json, sys

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    k = (r['scenario'], r['concurrency'], r['peer'])
    if k not in rows or r['ops'] > rows[k]['ops']:
        rows[k] = r
order = ['esimgw', 'esimgw-pg', 'rawtls', 'rawhttp', 'handwritten', 'gowsdl', 'node-soap', 'zeep']
print('| scenario | callers | peer | ops/s | p50 ms | p99 ms | CPU s / 10k calls | peak RSS MiB | errors | esimgw / peer |')
print('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|')
for scen in ('sync', 'async'):
    for c in sorted({k[1] for k in rows if k[0] == scen}):
        ref = rows.get((scen, c, 'esimgw'))
        for peer in order:
            r = rows.get((scen, c, peer))
            if not r:
                continue
            cpu10k = r['cpu'] / max(r['calls'], 1) * 10000 if 'cpu' in r else float('nan')
            ratio = '%.2fx' % (ref['ops'] / r['ops']) if ref and r['ops'] > 0 and peer != 'esimgw' else '-'
            print('| %s | %d | %s | %.0f | %.2f | %.2f | %.2f | %.1f | %d | %s |' % (
                scen, c, peer, r['ops'], r['p50_ms'], r['p99_ms'], cpu10k, r.get('rss_kb', 0) / 1024, r['errors'], ratio))
print()
print('CPU and RSS are the client process only (its callback server included for async); warm-up calls count')
print('in CPU, so CPU per 10k calls slightly overstates every peer alike.')

floor = [(scen, c) for scen in ('sync', 'async') for c in sorted({k[1] for k in rows if k[0] == scen})
         if (scen, c, 'esimgw') in rows and (scen, c, 'rawtls') in rows]
if floor:
    print()
    print('| scenario | callers | esimgw ops/s | rawtls floor ops/s | esimgw / floor | rawhttp / floor | esimgw / (sync floor / 2) | client CPU us/call esimgw / rawtls | esimgw allocs/call |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for scen, c in floor:
        e, f = rows[(scen, c, 'esimgw')]['ops'], rows[(scen, c, 'rawtls')]['ops']
        h = rows.get((scen, c, 'rawhttp'))
        hf = '%.0f%%' % (100 * h['ops'] / f) if h and f > 0 else '-'
        half = '-'
        s = rows.get(('sync', c, 'rawtls'))
        if scen == 'async' and s and s['ops'] > 0:
            half = '%.0f%%' % (100 * e / (s['ops'] / 2))
        er, fr = rows[(scen, c, 'esimgw')], rows[(scen, c, 'rawtls')]
        cpu = '%.1f / %.1f' % (er.get('cpu_us_per_call', 0), fr.get('cpu_us_per_call', 0))
        print('| %s | %d | %.0f | %.0f | %.0f%% | %s | %s | %s | %.1f |' % (scen, c, e, f, 100 * e / f if f > 0 else 0, hf, half,
                                                             cpu, er.get('allocs_per_call', 0)))
    print()
    print('rawtls: keep-alive mTLS, one connection per caller, esimgw\'s request bytes prebuilt, only status, headers and')
    print('Content-Length read; async adds the server\'s callback to a raw listener answering a prebuilt 202. The server')
    print('(compserver) is the same for every peer, and its CPU counts against every peer alike on a shared machine.')
    print('Client CPU and allocations per call are measured inside the client process over the measured window only.')

pg = [c for c in sorted({k[1] for k in rows if k[0] == 'async'}) if ('async', c, 'esimgw-pg') in rows and ('async', c, 'esimgw') in rows]
if pg:
    print()
    print('| callers | esimgw-pg ops/s | esimgw (memory) ops/s | pgstore / memory | esimgw-pg / rawtls floor | esimgw-pg p50 / p99 ms |')
    print('|---:|---:|---:|---:|---:|---:|')
    for c in pg:
        p, m = rows[('async', c, 'esimgw-pg')], rows[('async', c, 'esimgw')]
        f = rows.get(('async', c, 'rawtls'))
        ff = '%.0f%%' % (100 * p['ops'] / f['ops']) if f and f['ops'] > 0 else '-'
        print('| %d | %.0f | %.0f | %.0f%% | %s | %.2f / %.2f |' % (c, p['ops'], m['ops'], 100 * p['ops'] / m['ops'] if m['ops'] > 0 else 0, ff,
                                                          p['p50_ms'], p['p99_ms']))
    print()
    print('esimgw-pg: the async peer with its operations in PostgreSQL (pgstore; the database on the same machine, so its')
    print('CPU counts against the peer): RegisterOperation before each request, the result committed before each')
    print('callback is acknowledged. The issue 14 target is pgstore >= 30% of memory.')
