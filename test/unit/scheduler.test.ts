import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../src/api/core/nodes.js';
import type { PersistentVolumeClaim } from '../../src/api/core/persistentvolumeclaims.js';
import type { Pod } from '../../src/api/core/pods.js';
import {
  needsScheduling,
  schedule,
  schedulingInputsChanged,
  unschedulableCondition,
  type Snapshot,
} from '../../src/scheduler/decide.js';
import { podRequests, resourceAmounts } from '../../src/scheduler/resources.js';
import { hostPortsConflict, podHostPorts } from '../../src/scheduler/hostports.js';

const readyNode = (
  name: string,
  extra: { labels?: Record<string, string>; spec?: Node['spec']; ready?: string; pods?: string; allocatable?: Record<string, string> } = {},
): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
  spec: extra.spec ?? {},
  status: {
    conditions: [{ type: 'Ready', status: extra.ready ?? 'True' }],
    allocatable: { pods: extra.pods ?? '110', ...extra.allocatable },
  },
});

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, meta: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'default', uid: 'u1', ...meta },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...spec },
  status: { phase: 'Pending' },
});

const snapshot = (nodes: Node[], extra: Partial<Snapshot> = {}): Snapshot => ({ nodes, claims: new Map(), podCounts: new Map(), ...extra });

const unschedulable = (message: string) => ({ type: 'unschedulable', message });

test('a pod goes to the fitting node with the fewest pods, ties broken by name', () => {
  const nodes = [readyNode('b'), readyNode('a'), readyNode('c')];
  assert.deepEqual(schedule(pod(), snapshot(nodes)), { type: 'bind', node: 'a' });
  const counts = new Map([['a', 3], ['b', 1], ['c', 1]]);
  assert.deepEqual(schedule(pod(), snapshot(nodes, { podCounts: counts })), { type: 'bind', node: 'b' });
});

test('without nodes, nothing is available', () => {
  assert.deepEqual(schedule(pod(), snapshot([])), unschedulable('no nodes available to schedule pods'));
});

test('spec.nodeSelector must match the node labels', () => {
  const p = pod({ nodeSelector: { disk: 'ssd' } });
  assert.deepEqual(
    schedule(p, snapshot([readyNode('n1')])),
    unschedulable("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
  );
  assert.deepEqual(schedule(p, snapshot([readyNode('n1'), readyNode('n2', { labels: { disk: 'ssd' } })])), { type: 'bind', node: 'n2' });
});

test('required node affinity: any term, all requirements of a term; matchFields on the node name', () => {
  const affinity = (terms: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } }) as never;
  const nodes = [readyNode('n1', { labels: { zone: 'a', cores: '4' } }), readyNode('n2', { labels: { zone: 'b', cores: '16' } })];
  const bind = (terms: unknown[]) => schedule(pod({ affinity: affinity(terms) }), snapshot(nodes));
  assert.deepEqual(bind([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }]), { type: 'bind', node: 'n2' });
  assert.deepEqual(bind([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }]), { type: 'bind', node: 'n2' });
  assert.deepEqual(bind([{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }]), { type: 'bind', node: 'n2' });
  assert.deepEqual(bind([{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['8'] }] }]), { type: 'bind', node: 'n1' });
  assert.deepEqual(bind([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]), { type: 'bind', node: 'n2' });
  assert.deepEqual(
    bind([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gpu', operator: 'Exists' }] }, { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }]),
    unschedulable("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."),
  );
  // An empty term matches nothing.
  assert.equal(bind([{}]).type, 'unschedulable');
});

test('a cordoned node takes only pods tolerating node.kubernetes.io/unschedulable', () => {
  const nodes = [readyNode('n1', { spec: { unschedulable: true } })];
  assert.deepEqual(schedule(pod(), snapshot(nodes)), unschedulable('0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'));
  const tolerating = pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.deepEqual(schedule(tolerating, snapshot(nodes)), { type: 'bind', node: 'n1' });
});

test('NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule is not a filter', () => {
  const tainted = readyNode('n1', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
  assert.deepEqual(schedule(pod(), snapshot([tainted])), unschedulable('0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'));
  for (const toleration of [
    { key: 'dedicated', operator: 'Equal', value: 'db' },
    { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' },
    { operator: 'Exists' },
  ])
    assert.deepEqual(schedule(pod({ tolerations: [toleration] }), snapshot([tainted])), { type: 'bind', node: 'n1' }, JSON.stringify(toleration));
  assert.equal(schedule(pod({ tolerations: [{ key: 'dedicated', value: 'web' }] }), snapshot([tainted])).type, 'unschedulable');
  assert.equal(schedule(pod({ tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] }), snapshot([tainted])).type, 'unschedulable');
  const preferred = readyNode('n1', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'PreferNoSchedule' }] } });
  assert.deepEqual(schedule(pod(), snapshot([preferred])), { type: 'bind', node: 'n1' });
});

test('a node that is not Ready is treated as tainted not-ready (or unreachable when Unknown)', () => {
  assert.deepEqual(
    schedule(pod(), snapshot([readyNode('n1', { ready: 'False' })])),
    unschedulable('0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
  );
  assert.deepEqual(
    schedule(pod(), snapshot([readyNode('n1', { ready: 'Unknown' })])),
    unschedulable('0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
  );
});

test('reasons are counted per node and sorted', () => {
  const nodes = [
    readyNode('n1', { spec: { unschedulable: true } }),
    readyNode('n2'),
    readyNode('n3'),
    readyNode('n4', { pods: '2' }),
  ];
  const p = pod({ nodeSelector: { disk: 'ssd' } });
  assert.deepEqual(
    schedule(p, snapshot(nodes)),
    unschedulable("0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."),
  );
  const full = [readyNode('n1', { pods: '2' })];
  assert.deepEqual(schedule(pod(), snapshot(full, { podCounts: new Map([['n1', 2]]) })), unschedulable('0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'));
});

test('every claim the pod names must exist and not be terminating', () => {
  const p = pod({ volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }] });
  const nodes = [readyNode('n1')];
  assert.deepEqual(schedule(p, snapshot(nodes)), unschedulable('0/1 nodes are available: persistentvolumeclaim "www-web-0" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'));
  const claim: PersistentVolumeClaim = { metadata: { name: 'www-web-0', namespace: 'default' }, spec: {} };
  assert.deepEqual(schedule(p, snapshot(nodes, { claims: new Map([['www-web-0', claim]]) })), { type: 'bind', node: 'n1' });
  const deleting = { ...claim, metadata: { ...claim.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
  assert.deepEqual(
    schedule(p, snapshot(nodes, { claims: new Map([['www-web-0', deleting]]) })),
    unschedulable('0/1 nodes are available: persistentvolumeclaim "www-web-0" is being deleted. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
  );
  const ephemeral = pod({ volumes: [{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } }] });
  assert.deepEqual(
    schedule(ephemeral, snapshot(nodes)),
    unschedulable('0/1 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim "web-0-scratch". preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
  );
});

test('the scheduler takes unbound, live, ungated pods that name it or no scheduler', () => {
  assert.equal(needsScheduling(pod()), true);
  assert.equal(needsScheduling(pod({ schedulerName: 'default-scheduler' })), true);
  assert.equal(needsScheduling(pod({ schedulerName: 'other' })), false);
  assert.equal(needsScheduling(pod({ nodeName: 'n1' })), false);
  assert.equal(needsScheduling(pod({ schedulingGates: [{ name: 'wait' }] })), false);
  assert.equal(needsScheduling(pod({}, { deletionTimestamp: '2026-01-01T00:00:00Z' })), false);
  assert.equal(needsScheduling({ ...pod(), status: { phase: 'Failed' } }), false);
});

test('PodScheduled=False is written once per message, keeping its transition time', () => {
  const first = unschedulableCondition(pod(), 'no nodes available to schedule pods', '2026-01-01T00:00:00Z');
  assert.deepEqual(first, {
    type: 'PodScheduled',
    status: 'False',
    reason: 'Unschedulable',
    message: 'no nodes available to schedule pods',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  });
  const marked = { ...pod(), status: { phase: 'Pending', conditions: [first!] } };
  assert.equal(unschedulableCondition(marked, 'no nodes available to schedule pods', '2026-01-01T00:01:00Z'), undefined);
  assert.equal(unschedulableCondition(marked, 'other', '2026-01-01T00:01:00Z')?.lastTransitionTime, '2026-01-01T00:00:00Z');
});

test('only changes outside status bring a pod back to the scheduler', () => {
  const p = pod();
  assert.equal(schedulingInputsChanged(p, { ...p, metadata: { ...p.metadata, resourceVersion: '9' }, status: { phase: 'Pending', conditions: [] } }), false);
  assert.equal(schedulingInputsChanged(p, { ...p, spec: { ...p.spec!, nodeSelector: { a: 'b' } } }), true);
});

test('VolumeBinding: unbound immediate claims wait; WaitForFirstConsumer claims get the chosen node first', () => {
  const p = pod({ volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }] });
  const nodes = [readyNode('n1')];
  const claim = (storageClassName: string, bound = false): PersistentVolumeClaim => ({
    metadata: { name: 'www-web-0', namespace: 'default' },
    spec: { storageClassName, ...(bound ? { volumeName: 'pv-1' } : {}) },
    status: { phase: bound ? 'Bound' : 'Pending' },
  });
  const classes = new Map([
    ['fast', { metadata: { name: 'fast' }, provisioner: 'berth.dev/local-path', volumeBindingMode: 'Immediate' }],
    ['wffc', { metadata: { name: 'wffc' }, provisioner: 'berth.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' }],
  ]) as unknown as Snapshot['classes'];
  const volumes = new Map([
    ['pv-1', { metadata: { name: 'pv-1' }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } } } }],
  ]) as unknown as Snapshot['volumes'];
  const with_ = (c: PersistentVolumeClaim) => snapshot(nodes, { claims: new Map([['www-web-0', c]]), classes, volumes });
  assert.deepEqual(schedule(p, with_(claim('fast'))), unschedulable('0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'));
  assert.deepEqual(schedule(p, with_(claim('wffc'))), { type: 'bindVolumes', node: 'n1', claims: ['www-web-0'] });
  assert.deepEqual(schedule(p, with_(claim('fast', true))), unschedulable('0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'));
  assert.deepEqual(schedule(p, snapshot([readyNode('n2')], { claims: new Map([['www-web-0', claim('fast', true)]]), classes, volumes })), { type: 'bind', node: 'n2' });
});

test('VolumeRestrictions: a ReadWriteOncePod claim serves one pod', () => {
  const p = pod({ volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'solo' } }] });
  const claim: PersistentVolumeClaim = { metadata: { name: 'solo', namespace: 'default' }, spec: { accessModes: ['ReadWriteOncePod'] } };
  const claims = new Map([['solo', claim]]);
  assert.deepEqual(schedule(p, snapshot([readyNode('n1')], { claims, claimInUse: () => false })), { type: 'bind', node: 'n1' });
  assert.deepEqual(
    schedule(p, snapshot([readyNode('n1')], { claims, claimInUse: () => true })),
    unschedulable('0/1 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'),
  );
});

const NO_VICTIMS = (n: number) => `preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`;
const requesting = (requests: Record<string, string>, spec: Partial<NonNullable<Pod['spec']>> = {}) =>
  pod({ containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests } }], ...spec });

test('PodRequests: containers summed, the largest init step if more, sidecars alongside, plus overhead', () => {
  const c = (name: string, requests: Record<string, string>, restartPolicy?: string) => ({ name, image: 'i', resources: { requests }, ...(restartPolicy && { restartPolicy }) });
  const asObject = (p: Pod) => Object.fromEntries(podRequests(p));
  assert.deepEqual(asObject(pod({ containers: [c('a', { cpu: '500m', memory: '1Gi' }), c('b', { cpu: '0.25', memory: '512Mi', storage: '1Gi' })] })), {
    cpu: 750n,
    memory: 1610612736n,
  });
  // An init container needing more than the containers sets the request.
  assert.deepEqual(asObject(pod({ initContainers: [c('i', { cpu: '2' })], containers: [c('a', { cpu: '1', memory: '1Mi' })] })), { cpu: 2000n, memory: 1048576n });
  // A sidecar (restartPolicy Always) runs with the later init containers and with the containers.
  assert.deepEqual(
    asObject(pod({ initContainers: [c('s', { cpu: '1' }, 'Always'), c('i', { cpu: '2' })], containers: [c('a', { cpu: '1' })], overhead: { cpu: '100m' } })),
    { cpu: 3100n },
  );
  assert.deepEqual(Object.fromEntries(resourceAmounts({ 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi', pods: '3', 'ephemeral-storage': '1k' })), {
    'example.com/gpu': 2n,
    'hugepages-2Mi': 4194304n,
    'ephemeral-storage': 1000n,
  });
});

test('NodeResourcesFit: requests plus what the node already holds must fit its allocatable, every shortfall a reason', () => {
  const node = readyNode('n1', { allocatable: { cpu: '2', memory: '1Gi', 'ephemeral-storage': '10Gi' } });
  assert.deepEqual(schedule(requesting({ cpu: '2', memory: '1Gi' }), snapshot([node])), { type: 'bind', node: 'n1' });
  assert.deepEqual(schedule(requesting({ cpu: '3' }), snapshot([node])), unschedulable(`0/1 nodes are available: 1 Insufficient cpu. ${NO_VICTIMS(1)}`));
  const requested = new Map([['n1', new Map([['cpu', 1500n], ['memory', 1n << 29n]])]]);
  assert.deepEqual(
    schedule(requesting({ cpu: '600m', memory: '768Mi', 'ephemeral-storage': '1Gi' }), snapshot([node], { requested })),
    unschedulable(`0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. ${NO_VICTIMS(1)}`),
  );
  assert.deepEqual(schedule(requesting({ cpu: '500m' }), snapshot([node], { requested })), { type: 'bind', node: 'n1' });
  // An extended resource the node does not have, and a pod without requests on a full node.
  assert.deepEqual(schedule(requesting({ 'example.com/gpu': '1' }), snapshot([node])), unschedulable(`0/1 nodes are available: 1 Insufficient example.com/gpu. ${NO_VICTIMS(1)}`));
  const full = new Map([['n1', new Map([['cpu', 2000n]])]]);
  assert.deepEqual(schedule(pod(), snapshot([node], { requested: full })), { type: 'bind', node: 'n1' });
  // The pod count is NodeResourcesFit's too.
  assert.deepEqual(
    schedule(requesting({ cpu: '3' }), snapshot([readyNode('n1', { pods: '1', allocatable: { cpu: '2' } })], { podCounts: new Map([['n1', 1]]) })),
    unschedulable(`0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods. ${NO_VICTIMS(1)}`),
  );
});

test('the preemption verdict: resources may be freed by preemption, taints and affinity may not; preemptionPolicy Never', () => {
  const nodes = [readyNode('n1', { allocatable: { cpu: '1' } }), readyNode('n2', { allocatable: { cpu: '8' }, spec: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] } })];
  assert.deepEqual(
    schedule(requesting({ cpu: '2' }), snapshot(nodes)),
    unschedulable(
      '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: yes}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    ),
  );
  assert.deepEqual(
    schedule(requesting({ cpu: '2' }, { preemptionPolicy: 'Never' }), snapshot(nodes)),
    unschedulable('0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: yes}. preemption: not eligible due to preemptionPolicy=Never.'),
  );
  assert.deepEqual(schedule(requesting({ cpu: '2' }, { tolerations: [{ key: 'gpu', operator: 'Exists' }] }), snapshot(nodes)), { type: 'bind', node: 'n2' });
});

test('NodePorts: a host port held on the node (same protocol and port, same or any address) keeps the pod off', () => {
  const node = readyNode('n1');
  const wanting = (port: number, hostIP?: string, protocol?: string) =>
    pod({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: port, ...(hostIP && { hostIP }), ...(protocol && { protocol }) }] }] });
  const holding = (...keys: string[]) => snapshot([node], { hostPorts: new Map([['n1', new Map(keys.map((k) => [k, 1]))]]) });
  assert.deepEqual(podHostPorts(wanting(8080, '127.0.0.1', 'UDP')), ['UDP/127.0.0.1/8080']);
  const clash = unschedulable(`0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. ${NO_VICTIMS(1)}`);
  assert.deepEqual(schedule(wanting(8080), holding('TCP/0.0.0.0/8080')), clash);
  assert.deepEqual(schedule(wanting(8080), holding('TCP/10.0.0.1/8080')), clash, 'all addresses include that one');
  assert.deepEqual(schedule(wanting(8080, '10.0.0.1'), holding('TCP/0.0.0.0/8080')), clash);
  assert.deepEqual(schedule(wanting(8080, '10.0.0.2'), holding('TCP/10.0.0.1/8080')), { type: 'bind', node: 'n1' }, 'another address');
  assert.deepEqual(schedule(wanting(8080, undefined, 'UDP'), holding('TCP/0.0.0.0/8080')), { type: 'bind', node: 'n1' }, 'another protocol');
  assert.deepEqual(schedule(wanting(8081), holding('TCP/0.0.0.0/8080')), { type: 'bind', node: 'n1' });
  assert.equal(hostPortsConflict([], undefined), false);
});
