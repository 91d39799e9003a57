import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/api/core/pods.js';
import { nodeNameFromHostname, reconcileNode, newNode, type HostFacts, type NodeConfig } from '../../src/node/nodestatus.js';
import { IPPool } from '../../src/node/runtime/ippool.js';
import { SimulatedRuntime } from '../../src/node/runtime/simulated.js';
import type { ContainerStatus, PodRuntimeState } from '../../src/node/runtime/types.js';
import { podPhase, podStatus } from '../../src/node/status.js';

const NOW = '2026-01-01T00:00:00Z';

const pod = (annotations: Record<string, string> = {}, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'default', uid: 'uid-1', annotations },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], restartPolicy: 'Always', nodeName: 'n1', ...spec },
  status: { phase: 'Pending', qosClass: 'BestEffort' },
});

function runtime(clock = { now: Date.parse(NOW) }) {
  return new SimulatedRuntime({ podCIDR: '10.244.0.0/16', hostIP: '127.0.0.1', now: () => clock.now });
}

test('node names: the host name, lower case, as a DNS-1123 subdomain', () => {
  assert.equal(nodeNameFromHostname('My_Laptop.Local'), 'my-laptop.local');
  assert.equal(nodeNameFromHostname('-box-'), 'box');
  assert.equal(nodeNameFromHostname('...'), 'berth');
});

test('a node registered before keeps its users\' labels and gets the kubelet\'s back', () => {
  const facts: HostFacts = { cpus: 2, memoryBytes: 2 ** 30, arch: 'amd64', osImage: 'Debian', kernelVersion: '6', machineID: 'm', systemUUID: '', bootID: 'b' };
  const config: NodeConfig = { name: 'n1', address: '127.0.0.1', podCIDR: '10.244.0.0/16', runtime: { name: 'simulated', version: '1', maxPods: 10 } };
  const node = newNode(config, facts, NOW);
  assert.equal(node.status?.capacity?.memory, '1048576Ki');
  assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'simulated://1');
  assert.equal(reconcileNode(node, config, facts), undefined);
  const relabelled = { ...node, metadata: { ...node.metadata, labels: { disk: 'ssd' } } };
  assert.deepEqual(reconcileNode(relabelled, config, facts)?.metadata.labels, { ...node.metadata.labels, disk: 'ssd' });
});

test('the pool hands out addresses round the range, skipping network, gateway and broadcast', () => {
  const pool = new IPPool('10.0.0.0/29');
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((o) => pool.allocate(o)), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  assert.throws(() => pool.allocate('f'), /no free addresses/);
  assert.equal(pool.allocate('a'), '10.0.0.2');
  pool.release('c');
  assert.equal(pool.allocate('f'), '10.0.0.4');
  assert.equal(pool.reserve('g', '10.0.0.5'), false);
  assert.equal(pool.reserve('g', '10.0.0.7'), false);
});

test('a ready pod is Running and Ready with every kubelet condition, an address and its events', async () => {
  const rt = runtime();
  const p = pod();
  const { state, events } = await rt.syncPod(p);
  assert.deepEqual(events.map((e) => `${e.reason}: ${e.message}`), [
    'Pulled: Container image "busybox:1.36" already present on machine',
    'Created: Created container: c',
    'Started: Started container c',
  ]);
  const status = podStatus(p, state, '127.0.0.1', NOW);
  assert.equal(status.phase, 'Running');
  assert.equal(status.podIP, '10.244.0.2');
  assert.equal(status.qosClass, 'BestEffort');
  assert.deepEqual(status.conditions?.map((c) => `${c.type}=${c.status}`), [
    'PodReadyToStartContainers=True',
    'Initialized=True',
    'Ready=True',
    'ContainersReady=True',
    'PodScheduled=True',
  ]);
  const c = status.containerStatuses![0];
  assert.match(c.containerID!, /^simulated:\/\/[0-9a-f]{64}$/);
  assert.deepEqual({ ready: c.ready, started: c.started, restartCount: c.restartCount, running: !!c.state?.running }, { ready: true, started: true, restartCount: 0, running: true });
  // Unchanged state, unchanged status: nothing to write.
  const again = await rt.syncPod({ ...p, status });
  assert.deepEqual(again.events, []);
  assert.deepEqual(podStatus({ ...p, status }, again.state, '127.0.0.1', '2026-01-01T00:05:00Z'), status);
});

test('unready: running, not ready, with the kubelet\'s reason and message', async () => {
  const rt = runtime();
  const p = pod({ 'berth.dev/simulate': 'unready' });
  const status = podStatus(p, (await rt.syncPod(p)).state, '127.0.0.1', NOW);
  assert.equal(status.phase, 'Running');
  const ready = status.conditions!.find((c) => c.type === 'Ready')!;
  assert.deepEqual([ready.status, ready.reason, ready.message], ['False', 'ContainersNotReady', 'containers with unready status: [c]']);
});

test('crashloop: waiting in CrashLoopBackOff, restarted after each back-off', async () => {
  const clock = { now: Date.parse(NOW) };
  const rt = runtime(clock);
  const p = pod({ 'berth.dev/simulate': 'crashloop' });
  const first = await rt.syncPod(p);
  let c = first.state.containerStatuses[0];
  assert.equal(c.state?.waiting?.reason, 'CrashLoopBackOff');
  assert.equal(c.state?.waiting?.message, 'back-off 10s restarting failed container=c pod=web-0_default(uid-1)');
  assert.equal(c.restartCount, 1);
  assert.equal(c.lastState?.terminated?.exitCode, 1);
  assert.equal(first.resyncAfterMs, 10_000);
  assert.ok(first.events.some((e) => e.type === 'Warning' && e.reason === 'BackOff'));
  assert.equal(podPhase(p, first.state, false), 'Running');
  clock.now += 10_000;
  const second = await rt.syncPod(p);
  c = second.state.containerStatuses[0];
  assert.equal(c.restartCount, 2);
  assert.match(c.state?.waiting?.message ?? '', /^back-off 20s /);
});

test('imagepullerror: a new pod is Pending in ImagePullBackOff, with a Failed event', async () => {
  const rt = runtime();
  const p = pod({ 'berth.dev/simulate': 'imagepullerror' });
  const { state, events } = await rt.syncPod(p);
  assert.deepEqual(state.containerStatuses[0].state, { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:1.36"' } });
  assert.equal(podStatus(p, state, '127.0.0.1', NOW).phase, 'Pending');
  assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'Failed' && e.message === 'Error: ImagePullBackOff'));
});

test('fail: Failed for good, containers terminated with exit code 1, address released', async () => {
  const rt = runtime();
  const p = pod({ 'berth.dev/simulate': 'fail' });
  const { state } = await rt.syncPod(p);
  assert.equal(state.terminal, true);
  assert.deepEqual([state.containerStatuses[0].state?.terminated?.exitCode, state.containerStatuses[0].state?.terminated?.reason], [1, 'Error']);
  const status = podStatus(p, state, '127.0.0.1', NOW);
  assert.equal(status.phase, 'Failed');
  assert.equal(status.conditions!.find((c) => c.type === 'Ready')?.reason, 'PodFailed');
  // Terminal: the annotation no longer matters, and the phase never goes back.
  const after = await rt.syncPod({ ...pod({ 'berth.dev/simulate': 'ready' }), status });
  assert.equal(podStatus({ ...p, status }, after.state, '127.0.0.1', NOW).phase, 'Failed');
  assert.equal((await rt.syncPod(pod({}, {}))).state.podIP, '10.244.0.2', 'the same uid keeps its sandbox');
  const other = await rt.syncPod({ ...pod(), metadata: { ...pod().metadata, uid: 'uid-2' } });
  assert.equal(other.state.podIP, '10.244.0.3');
});

test('init containers complete before the containers start; Initialized follows them', async () => {
  const rt = runtime();
  const p = pod({}, { initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
  const { state } = await rt.syncPod(p);
  assert.deepEqual(state.initContainerStatuses[0].state?.terminated?.reason, 'Completed');
  const status = podStatus(p, state, '127.0.0.1', NOW);
  assert.equal(status.phase, 'Running');
  assert.equal(status.initContainerStatuses?.[0].ready, true);
  const pending: PodRuntimeState = { ...state, initContainerStatuses: [], containerStatuses: [] };
  const init = podStatus(p, pending, '127.0.0.1', NOW).conditions!.find((c) => c.type === 'Initialized')!;
  assert.deepEqual([init.status, init.reason, init.message], ['False', 'ContainersNotInitialized', 'containers with unknown status: [init]']);
});

test('a killed pod stops its containers with Killing events and finishes', async () => {
  const rt = runtime();
  const p = pod();
  await rt.syncPod(p);
  const { state, events } = await rt.killPod(p, 30);
  assert.deepEqual(events.map((e) => `${e.reason}: ${e.message}`), ['Killing: Stopping container c']);
  const status = podStatus(p, state, '127.0.0.1', NOW);
  assert.equal(status.phase, 'Succeeded');
  assert.equal(status.conditions![0].status, 'False', 'the sandbox is gone');
});

test('after a restart the runtime takes the pods as they were reported', async () => {
  const rt = runtime();
  const p = pod();
  const status = podStatus(p, (await rt.syncPod(p)).state, '127.0.0.1', NOW);
  const restarted = runtime();
  await restarted.recover([{ ...p, status }]);
  const { state, events } = await restarted.syncPod({ ...p, status });
  assert.deepEqual(events, []);
  assert.deepEqual(state.containerStatuses, status.containerStatuses as ContainerStatus[]);
  const next = await restarted.syncPod({ ...pod(), metadata: { ...pod().metadata, uid: 'uid-2' } });
  assert.equal(next.state.podIP, '10.244.0.3', 'the recovered address is not handed out again');
});

test('a sidecar waiting to restart does not hold the pod: Running while the container runs, Succeeded once it is done', () => {
  const spec = { restartPolicy: 'Never', initContainers: [{ name: 'side', image: 'busybox:1.36', restartPolicy: 'Always' }] };
  const crashLooping: ContainerStatus = {
    name: 'side', image: 'busybox:1.36', imageID: '', ready: false, started: false, restartCount: 2,
    state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } },
  };
  const app = (state: ContainerStatus['state']): ContainerStatus => ({ name: 'c', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state });
  const state = (c: ContainerStatus): PodRuntimeState => ({ sandboxReady: true, initContainerStatuses: [crashLooping], containerStatuses: [c], terminal: false });
  assert.equal(podPhase(pod({}, spec), state(app({ running: { startedAt: NOW } })), false), 'Running');
  assert.equal(podPhase(pod({}, spec), state(app({ terminated: { exitCode: 0, reason: 'Completed' } })), false), 'Succeeded');
  const neverStarted: ContainerStatus = { ...crashLooping, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} };
  assert.equal(podPhase(pod({}, spec), { sandboxReady: true, initContainerStatuses: [neverStarted], containerStatuses: [], terminal: false }, false), 'Pending');
});
