"""Turns bench/peers.sh's JSON lines into one Markdown table: per peer, scenario and concurrency the
round with the highest throughput (rounds alternate peers, so each keeps its best slot), CPU seconds per
10k calls and peak RSS from /usr/bin/time, and esimgw's throughput ratio to each peer."""
import json, sys

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    k = (r['scenario'], r['concurrency'], r['peer'])
    if k not in rows or r['ops'] > rows[k]['ops']:
        rows[k] = r
order = ['esimgw', 'handwritten', 'gowsdl', 'node-soap', 'zeep']
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
