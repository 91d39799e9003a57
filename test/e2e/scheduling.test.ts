// The scheduler's resource fit, taints and cordons against a real `berth up --runtime simulated`,
// driven by the real kubectl as a user would: what stays Pending, why, and what lets it on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.js';
import { eventually } from '../helpers/statefulset.js';
import type { Pod } from '../../src/api/core/pods.js';
import type { Node } from '../../src/api/core/nodes.js';

const NODE = 'node-1';
let b: Berth;

before(async () => {
  b = await startBerth({ args: ['--node-name', NODE] });
});
after(async () => {
  await b?.stop();
});

const podManifest = (name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], ...(requests && { resources: { requests } }) }], ...spec },
  });

const podJSON = (name: string): Pod => JSON.parse(b.k(['get', 'pod', name, '-o', 'json']));
const scheduledCondition = (name: string) => podJSON(name).status?.conditions?.find((c) => c.type === 'PodScheduled');

/** Waits for PodScheduled=False and returns its message. */
const unschedulable = (name: string) =>
  eventually(`${name} unschedulable`, () => {
    const c = scheduledCondition(name);
    return c?.status === 'False' && c.reason === 'Unschedulable' && c.message;
  });

const escape = (s: string) => s.replace(/[.()/{}\\[\]*+?^$|]/g, '\\$&');

test('a pod requesting more cpu than the node has stays Pending with FailedScheduling; one that fits runs', async () => {
  const node: Node = JSON.parse(b.k(['get', 'node', NODE, '-o', 'json']));
  const cpus = Number(node.status?.allocatable?.cpu);
  assert.ok(cpus > 0, 'the node reports its cpus');
  b.k(['apply', '-f', '-'], podManifest('greedy', {}, { cpu: String(cpus + 1) }));
  const message = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
  assert.equal(await unschedulable('greedy'), message);
  assert.equal(podJSON('greedy').spec?.nodeName, undefined);
  assert.match(b.k(['describe', 'pod', 'greedy']), new RegExp(`Warning\\s+FailedScheduling\\s+.*default-scheduler\\s+${escape(message)}`));

  // Half the node each: the first two fit, the third waits until one of them goes.
  const half = `${Math.floor((cpus * 1000) / 2)}m`;
  for (const name of ['half-1', 'half-2', 'half-3']) b.k(['apply', '-f', '-'], podManifest(name, {}, { cpu: half }));
  const halves = ['half-1', 'half-2', 'half-3'];
  const { waiting, bound } = await eventually('two half pods bound, one waiting', () => {
    const pending = halves.filter((n) => scheduledCondition(n)?.status === 'False');
    const bound = halves.filter((n) => podJSON(n).spec?.nodeName === NODE);
    return pending.length === 1 && bound.length === 2 && { waiting: pending[0]!, bound };
  });
  assert.match((await unschedulable(waiting)) as string, /^0\/1 nodes are available: 1 Insufficient cpu\./);
  // A pod leaving the node makes room.
  b.k(['delete', 'pod', bound[0]!]);
  b.k(['wait', '--for=condition=Ready', `pod/${waiting}`, '--timeout=30s']);
  b.k(['delete', 'pod', 'greedy', 'half-1', 'half-2', 'half-3', '--ignore-not-found', '--wait=false']);
});

test('kubectl taint keeps new pods off the node; a toleration lets them on; the taint removed lets all on', async () => {
  b.k(['taint', 'nodes', NODE, 'dedicated=db:NoSchedule']);
  try {
    b.k(['apply', '-f', '-'], podManifest('plain'));
    b.k(['apply', '-f', '-'], podManifest('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }));
    assert.equal(
      await unschedulable('plain'),
      '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    b.k(['wait', '--for=condition=Ready', 'pod/tolerant', '--timeout=30s']);
    assert.equal(podJSON('plain').spec?.nodeName, undefined);
  } finally {
    b.k(['taint', 'nodes', NODE, 'dedicated=db:NoSchedule-']);
  }
  b.k(['wait', '--for=condition=Ready', 'pod/plain', '--timeout=30s']);
  b.k(['delete', 'pod', 'plain', 'tolerant', '--wait=false']);
});

test('kubectl cordon keeps new pods off the node, except those tolerating it; uncordon lets them on', async () => {
  b.k(['cordon', NODE]);
  try {
    b.k(['apply', '-f', '-'], podManifest('after-cordon'));
    b.k(['apply', '-f', '-'], podManifest('cordon-tolerant', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }));
    assert.equal(
      await unschedulable('after-cordon'),
      '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    b.k(['wait', '--for=condition=Ready', 'pod/cordon-tolerant', '--timeout=30s']);
  } finally {
    b.k(['uncordon', NODE]);
  }
  b.k(['wait', '--for=condition=Ready', 'pod/after-cordon', '--timeout=30s']);
  b.k(['delete', 'pod', 'after-cordon', 'cordon-tolerant', '--wait=false']);
});
