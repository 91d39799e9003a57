import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstServiceIP, parseServiceCIDR, ServiceAllocator, NODE_PORT_RANGE } from '../../src/apiserver/allocators.js';
import type { CacheEntry } from '../../src/apiserver/cache.js';
import type { KubeObject } from '../../src/api/types.js';
import { StatusError } from '../../src/machinery/errors.js';

const svc = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec,
});
const entry = (obj: KubeObject): CacheEntry => ({ key: `/s/default/${obj.metadata.name}`, obj, json: JSON.stringify(obj), revision: 1 });

test('the service range and its first address', () => {
  const r = parseServiceCIDR('10.96.0.0/12');
  assert.equal(r.size, 1 << 20);
  assert.equal(firstServiceIP(r), '10.96.0.1');
  assert.throws(() => parseServiceCIDR('10.96.0.0'));
});

test('cluster IPs are allocated once, requested ones checked for range and use', () => {
  const stored: CacheEntry[] = [entry(svc('kubernetes', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] }))];
  const alloc = new ServiceAllocator(parseServiceCIDR('10.96.0.0/28'), () => stored);
  const seen = new Set<string>(['10.96.0.1']);
  const releases: (() => void)[] = [];
  for (let i = 0; i < 13; i++) {
    const s = svc(`s${i}`, { type: 'ClusterIP', ports: [{ port: 80 }] });
    releases.push(alloc.allocate(`/s/default/s${i}`, s));
    const ip = (s.spec as { clusterIP: string }).clusterIP;
    assert.ok(!seen.has(ip), `${ip} handed out twice`);
    seen.add(ip);
  }
  assert.throws(() => alloc.allocate('/s/default/full', svc('full', { type: 'ClusterIP' })), /range is full/);
  const taken = svc('dup', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] });
  assert.throws(() => alloc.allocate('/s/default/dup', taken), (e: unknown) =>
    e instanceof StatusError && e.code === 422 && /provided IP is already allocated/.test(e.message));
  const outside = svc('out', { clusterIP: '10.0.0.5' });
  assert.throws(() => alloc.allocate('/s/default/out', outside), /is not in the valid range. The range of valid IPs is 10.96.0.0\/28/);
  releases.forEach((r) => r());
  // Headless and ExternalName services get no address.
  const headless = svc('h', { clusterIP: 'None' });
  alloc.allocate('/s/default/h', headless);
  assert.equal((headless.spec as { clusterIP: string }).clusterIP, 'None');
});

test('node ports for NodePort services, within the range and unique', () => {
  const alloc = new ServiceAllocator(parseServiceCIDR('10.96.0.0/12'), () => []);
  const s = svc('np', { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] });
  alloc.allocate('/s/default/np', s);
  const ports = (s.spec as { ports: { nodePort: number }[] }).ports.map((p) => p.nodePort);
  assert.equal(new Set(ports).size, 2);
  for (const p of ports) assert.ok(p >= NODE_PORT_RANGE.min && p <= NODE_PORT_RANGE.max);
  const clash = svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] });
  assert.throws(() => alloc.allocate('/s/default/np2', clash), /provided port is already allocated/);
  const low = svc('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] });
  assert.throws(() => alloc.allocate('/s/default/np3', low), /provided port is not in the valid range. The range of valid ports is 30000-32767/);
});
