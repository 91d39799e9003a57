// The scheduler and the node agent with the simulated runtime, against a real
// `berth up --runtime simulated`, driven by the real kubectl (and berth's client
// for many pods at once): what a user sees of nodes, pods and their events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, startBerth, type Berth } from '../helpers/berth.js';
import { eventually } from '../helpers/statefulset.js';
import type { Client } from '../../src/client/client.js';
import type { Pod } from '../../src/api/core/pods.js';

const NODE = 'node-1';

let b: Berth;
let client: Client;
let closeClient: () => void;

before(async () => {
  b = await startBerth({ args: ['--node-name', NODE] });
  ({ client, close: closeClient } = adminClient(b));
});
after(async () => {
  closeClient?.();
  await b?.stop();
});

const podManifest = (name: string, extra: { annotations?: Record<string, string>; spec?: Record<string, unknown> } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: extra.annotations },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }], ...extra.spec },
  });

/** The row of `kubectl get pod` as NAME, READY, STATUS, RESTARTS. */
function row(name: string): string[] {
  return b.k(['get', 'pod', name, '--no-headers']).trim().split(/\s{2,}/).slice(0, 4);
}

function podJSON(name: string): Pod {
  return JSON.parse(b.k(['get', 'pod', name, '-o', 'json']));
}

const condition = (pod: Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type);

/** Waits until `kubectl get pod` shows READY and STATUS. */
function shows(name: string, ready: string, status: string): Promise<string[]> {
  return eventually(`${name} shows ${ready} ${status}`, () => {
    const r = row(name);
    return r[1] === ready && r[2] === status && r;
  }, 15_000);
}

describe('nodes', () => {
  test('kubectl get nodes shows the node Ready, with its version, address and runtime', () => {
    const out = b.k(['get', 'nodes']);
    assert.match(out, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    assert.match(out, new RegExp(`\\n?${NODE}\\s+Ready\\s+<none>\\s+\\d+s\\s+v1\\.32\\.0\\+berth\\n`));
    const wide = b.k(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, /INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME\n/);
    assert.match(wide, new RegExp(`${NODE}\\s+Ready\\s+.*\\s127\\.0\\.0\\.1\\s+<none>\\s+.+\\s+simulated://1\\n`));
    const node = JSON.parse(b.k(['get', 'node', NODE, '-o', 'json']));
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.ok(node.metadata.labels['kubernetes.io/arch']);
    assert.equal(node.spec.podCIDR, '10.244.0.0/16');
    assert.deepEqual(
      node.status.conditions.map((c: any) => `${c.type}=${c.status} ${c.reason}`),
      ['MemoryPressure=False KubeletHasSufficientMemory', 'DiskPressure=False KubeletHasNoDiskPressure', 'PIDPressure=False KubeletHasSufficientPID', 'Ready=True KubeletReady'],
    );
    assert.equal(node.status.capacity.pods, '10k');
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
    assert.match(b.k(['describe', 'node', NODE]), /Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status/);
  });

  test('the node heartbeats through its Lease in kube-node-lease', async () => {
    const lease = () => JSON.parse(b.k(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'json']));
    const first = lease();
    assert.equal(first.spec.holderIdentity, NODE);
    assert.equal(first.spec.leaseDurationSeconds, 40);
    assert.deepEqual(first.metadata.ownerReferences.map((r: any) => `${r.kind}/${r.name}`), [`Node/${NODE}`]);
    await eventually('the lease renewed', () => lease().spec.renewTime !== first.spec.renewTime, 15_000);
  });
});

describe('pods', () => {
  test('a pod becomes Running and Ready with an address from the pod range, and describe shows its events', () => {
    b.k(['apply', '-f', '-'], podManifest('web'));
    assert.match(b.k(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']), /condition met/);
    assert.deepEqual(row('web'), ['web', '1/1', 'Running', '0']);
    const wide = b.k(['get', 'pod', 'web', '-o', 'wide', '--no-headers']).trim().split(/\s+/);
    assert.match(wide[5], /^10\.244\.\d+\.\d+$/);
    assert.equal(wide[6], NODE);
    const pod = podJSON('web');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.hostIP, '127.0.0.1');
    assert.equal(pod.status?.qosClass, 'BestEffort');
    assert.ok(pod.status?.startTime);
    assert.deepEqual(
      pod.status?.conditions?.map((c) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    const cs = pod.status!.containerStatuses![0];
    assert.match(cs.containerID!, /^simulated:\/\/[0-9a-f]+$/);
    assert.equal(cs.image, 'busybox:1.36');
    assert.ok(cs.state?.running?.startedAt);
    assert.deepEqual([cs.ready, cs.started, cs.restartCount], [true, true, 0]);
    const describe = b.k(['describe', 'pod', 'web']);
    for (const line of [
      new RegExp(`Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned default/web to ${NODE}`),
      /Normal\s+Pulled\s+\S+\s+kubelet\s+Container image "busybox:1.36" already present on machine/,
      /Normal\s+Created\s+\S+\s+kubelet\s+Created container: c/,
      /Normal\s+Started\s+\S+\s+kubelet\s+Started container c/,
    ])
      assert.match(describe, line);
    assert.match(describe, new RegExp(`Node:\\s+${NODE}/127\\.0\\.0\\.1`));
  });

  test('berth.dev/simulate: unready, fail, crashloop and imagepullerror show as Kubernetes shows them', async () => {
    for (const [name, state] of [['unready', 'unready'], ['failed', 'fail'], ['crashing', 'crashloop'], ['nopull', 'imagepullerror']])
      b.k(['apply', '-f', '-'], podManifest(name, { annotations: { 'berth.dev/simulate': state } }));

    await shows('unready', '0/1', 'Running');
    const unready = podJSON('unready');
    assert.equal(unready.status?.phase, 'Running');
    assert.ok(unready.status?.containerStatuses?.[0].state?.running);
    for (const type of ['Ready', 'ContainersReady']) {
      const c = condition(unready, type)!;
      assert.deepEqual([c.status, c.reason, c.message], ['False', 'ContainersNotReady', 'containers with unready status: [c]']);
    }

    await shows('failed', '0/1', 'Error');
    const failed = podJSON('failed');
    assert.equal(failed.status?.phase, 'Failed');
    assert.deepEqual(
      [failed.status?.containerStatuses?.[0].state?.terminated?.exitCode, failed.status?.containerStatuses?.[0].state?.terminated?.reason],
      [1, 'Error'],
    );

    await shows('crashing', '0/1', 'CrashLoopBackOff');
    const crashing = podJSON('crashing');
    const cs = crashing.status!.containerStatuses![0];
    assert.equal(crashing.status?.phase, 'Running');
    assert.ok(cs.restartCount >= 1);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.state?.waiting?.message, `back-off 10s restarting failed container=c pod=crashing_default(${crashing.metadata.uid})`);
    assert.match(b.k(['describe', 'pod', 'crashing']), /Warning\s+BackOff\s+.*Back-off restarting failed container c in pod crashing_default/);

    await shows('nopull', '0/1', 'ImagePullBackOff');
    const nopull = podJSON('nopull');
    assert.equal(nopull.status?.phase, 'Pending');
    assert.equal(nopull.status?.containerStatuses?.[0].state?.waiting?.message, 'Back-off pulling image "busybox:1.36"');
    assert.match(b.k(['describe', 'pod', 'nopull']), /Warning\s+Failed\s+.*Error: ImagePullBackOff/);
  });

  test('changing the annotation moves a pod between states, but never out of Failed', async () => {
    b.k(['apply', '-f', '-'], podManifest('moving'));
    await shows('moving', '1/1', 'Running');
    const annotate = (pod: string, state: string) => b.k(['annotate', 'pod', pod, `berth.dev/simulate=${state}`, '--overwrite']);
    annotate('moving', 'unready');
    await shows('moving', '0/1', 'Running');
    annotate('moving', 'crashloop');
    await shows('moving', '0/1', 'CrashLoopBackOff');
    annotate('moving', 'ready');
    const [, , , restarts] = await shows('moving', '1/1', 'Running');
    assert.match(restarts, /^[1-9]\d* \(.* ago\)$/, 'the restarts stay counted');
    annotate('moving', 'imagepullerror');
    await shows('moving', '0/1', 'ImagePullBackOff');
    annotate('moving', 'fail');
    await shows('moving', '0/1', 'Error');
    annotate('moving', 'ready');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(row('moving').slice(1, 3), ['0/1', 'Error']);
    assert.equal(podJSON('moving').status?.phase, 'Failed');
  });

  test('kubectl delete pod returns promptly, the pod is stopped and gone', () => {
    b.k(['apply', '-f', '-'], podManifest('short'));
    b.k(['wait', '--for=condition=Ready', 'pod/short', '--timeout=30s']);
    const started = Date.now();
    assert.match(b.k(['delete', 'pod', 'short']), /pod "short" deleted/);
    assert.ok(Date.now() - started < 5000, `kubectl delete took ${Date.now() - started} ms`);
    const gone = b.kubectl(['get', 'pod', 'short']);
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, /pods "short" not found/);
    assert.match(b.k(['get', 'events', '--field-selector', 'involvedObject.name=short']), /Killing\s+pod\/short\s+Stopping container c/);
  });

  test('a pod no node fits stays Pending with PodScheduled False, until the node is labelled', async () => {
    b.k(['apply', '-f', '-'], podManifest('picky', { spec: { nodeSelector: { disk: 'ssd' } } }));
    const message = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    const scheduled = await eventually('PodScheduled False', () => {
      const c = condition(podJSON('picky'), 'PodScheduled');
      return c?.status === 'False' && c;
    });
    assert.deepEqual([scheduled.reason, scheduled.message], ['Unschedulable', message]);
    assert.deepEqual(row('picky').slice(1, 3), ['0/1', 'Pending']);
    assert.match(b.k(['describe', 'pod', 'picky']), new RegExp(`Warning\\s+FailedScheduling\\s+.*default-scheduler\\s+${message.replace(/[.()/]/g, '\\$&')}`));
    b.k(['label', 'node', NODE, 'disk=ssd']);
    try {
      b.k(['wait', '--for=condition=Ready', 'pod/picky', '--timeout=15s']);
      assert.equal(podJSON('picky').spec?.nodeName, NODE);
      assert.equal(condition(podJSON('picky'), 'PodScheduled')?.status, 'True');
    } finally {
      b.k(['label', 'node', NODE, 'disk-']);
    }
  });

  test('a pod naming a missing claim waits, and is scheduled once the claim exists', async () => {
    b.k(['apply', '-f', '-'], podManifest('claimed', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } }));
    await eventually('waiting for its claim', () => condition(podJSON('claimed'), 'PodScheduled')?.message === '0/1 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
    assert.equal(podJSON('claimed').spec?.nodeName, undefined);
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }));
    b.k(['wait', '--for=condition=Ready', 'pod/claimed', '--timeout=15s']);
  });

  test('200 pods created at once all become Running and Ready, each with its own address', async () => {
    b.k(['create', 'namespace', 'many']);
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'many' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } }),
      ),
    );
    const ready = await eventually('200 ready pods', async () => {
      const list = await pods.list('many');
      const all = list.items.filter((p) => p.status?.phase === 'Running' && condition(p, 'Ready')?.status === 'True');
      return all.length === 200 && all;
    });
    assert.equal(new Set(ready.map((p) => p.status?.podIP)).size, 200);
  });

  test('after a restart, pods keep their addresses and containers, and new pods get other addresses', async () => {
    const before = podJSON('web');
    await b.restart();
    closeClient();
    ({ client, close: closeClient } = adminClient(b));
    assert.match(b.k(['get', 'node', NODE, '--no-headers']), /\sReady\s/);
    b.k(['apply', '-f', '-'], podManifest('fresh'));
    b.k(['wait', '--for=condition=Ready', 'pod/fresh', '--timeout=30s']);
    const web = podJSON('web');
    assert.equal(web.status?.podIP, before.status?.podIP);
    assert.deepEqual(web.status?.containerStatuses, before.status?.containerStatuses);
    // Finished pods gave their addresses back; running ones hold theirs.
    const running = (JSON.parse(b.k(['get', 'pods', '-A', '-o', 'json'])).items as Pod[]).filter((p) => p.status?.phase === 'Running');
    const ip = podJSON('fresh').status?.podIP;
    assert.equal(running.filter((p) => p.status?.podIP === ip).length, 1);
  });
});
