// `berth up --runtime runc`, as root: a busybox-static image imported with the CLI, a pod run by
// kubectl (its address on the pod network, its output in the CRI log under the pod dir), its
// deletion leaving no runc container, network namespace, mount or cgroup, a StatefulSet becoming
// Ready in order with a claim per replica whose data survives the pods' re-creation, configMap
// volumes, a pod waiting for its claim to bind, and berth's stop removing the bridge, the FORWARD rule and the routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runc } from '../../src/node/runtime/runc/runc.js';
import { bridgeOf, cgroupDirs, forwardRule, linkExists, mountsUnder, netnsNames, podManifest, readyPod, runcFixture, runcSkip, shContainer, statefulSet } from '../helpers/runc.js';
import { eventually, getPod as podOf, isReady, type PodJson } from '../helpers/statefulset.js';

const skip = runcSkip();
const IMAGE = 'berth-test/busybox:1';

test('berth up --runtime runc runs pods', { skip, timeout: 300_000 }, async (t) => {
  const { dir, dataDir, start } = runcFixture(t, 'runc-pods', IMAGE);
  const b = await start();
  const getPod = (name: string) => podOf(b, name);
  assert.ok(forwardRule(bridgeOf(b.dataDir)), 'the FORWARD drop rule is in place while berth runs');
  const runc = new Runc(dataDir);

  await t.test('a pod runs, logs and is removed without a trace', async () => {
    b.k(['apply', '-f', '-'], podManifest('hello', { terminationGracePeriodSeconds: 2, containers: [shContainer(IMAGE, 'echo hello from $(hostname); sleep 3600')] }));
    const pod = await readyPod(b, 'hello');
    const uid = pod.metadata.uid;
    assert.match(pod.status!.podIP!, /^10\.244\.\d+\.\d+$/, 'the pod address is in 10.244.0.0/16');
    assert.notEqual(pod.status!.podIP, '10.244.0.1', 'the gateway is not a pod address');
    const log = join(dataDir, 'pods', `default_hello_${uid}`, 'app', '0.log');
    const content = await eventually('the log line', () => existsSync(log) && readFileSync(log, 'utf8').includes('hello from') && readFileSync(log, 'utf8'), 10_000);
    assert.match(content, /^\S+ stdout F hello from hello\n$/);
    assert.ok(netnsNames().includes(`berth-${uid}`));
    assert.equal((await runc.list()).filter((c) => c.id.startsWith(uid)).length, 1);

    b.k(['delete', 'pod', 'hello', '--timeout=60s']);
    assert.equal(getPod('hello'), undefined);
    await eventually('the pod to be gone from the runtime', () => !netnsNames().includes(`berth-${uid}`), 10_000);
    assert.deepEqual((await runc.list()).filter((c) => c.id.startsWith(uid)), [], 'no runc container remains');
    assert.deepEqual(mountsUnder(join(dataDir, 'containers')).filter((m) => m.includes(uid)), [], 'no mount remains');
    assert.deepEqual(cgroupDirs(`berth/pod${uid}`), [], 'no cgroup remains');
    assert.ok(!existsSync(join(dataDir, 'containers', `${uid}_app`)), 'no container dir remains');
  });

  await t.test('a StatefulSet becomes Ready in order, a claim per replica', async () => {
    const container = {
      name: 'app',
      image: IMAGE,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', 'hostname >> /data/names; sleep 3600'],
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    };
    b.k(['apply', '-f', '-'], JSON.stringify(statefulSet('web', container, { replicas: 2, claims: [{ name: 'data', storage: '1Mi' }] })));
    let web0ReadySeen = false;
    let web1BeforeWeb0Ready = false;
    await eventually('web-0 and web-1 Ready', () => {
      // One list: a consistent snapshot of both pods.
      const items = (JSON.parse(b.k(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: PodJson[] }).items;
      const [w0, w1] = ['web-0', 'web-1'].map((n) => items.find((p) => p.metadata.name === n));
      if (w1 && !web0ReadySeen && !isReady(w0)) web1BeforeWeb0Ready = true;
      web0ReadySeen ||= isReady(w0);
      return web1BeforeWeb0Ready || (isReady(w0) && isReady(w1));
    }, 120_000);
    assert.ok(!web1BeforeWeb0Ready, 'web-1 exists only once web-0 is Ready');
    const ips = ['web-0', 'web-1'].map((n) => getPod(n)!.status!.podIP);
    assert.notEqual(ips[0], ips[1]);
  });

  /** Each replica's claim directory on the host (its PV's spec.local.path) and its content. */
  const claimFiles = () =>
    ['web-0', 'web-1'].map((pod) => {
      const claim = JSON.parse(b.k(['get', 'pvc', `data-${pod}`, '-o', 'json'])) as { spec: { volumeName: string } };
      const pv = JSON.parse(b.k(['get', 'pv', claim.spec.volumeName, '-o', 'json'])) as { spec: { local?: { path: string } } };
      const file = join(pv.spec.local!.path, 'names');
      return { pod, content: existsSync(file) ? readFileSync(file, 'utf8') : '' };
    });

  await t.test('each replica keeps its own claim across re-creation', async () => {
    for (const { pod, content } of claimFiles()) assert.equal(content, `${pod}\n`, `${pod}'s claim holds its name once`);
    const before = new Set(['web-0', 'web-1'].map((n) => getPod(n)!.metadata.uid));
    b.k(['delete', 'pod', '--all', '--wait=false']);
    await eventually('web-0 and web-1 re-created and Ready', () => ['web-0', 'web-1'].every((n) => {
      const p = getPod(n);
      return p && !before.has(p.metadata.uid) && isReady(p);
    }), 120_000);
    for (const { pod, content } of claimFiles()) assert.equal(content, `${pod}\n${pod}\n`, `${pod}'s claim kept its data and got its name again`);
  });

  await t.test('a configMap volume is seen by the container', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default' }, data: { 'hello.txt': 'hello from a configmap', other: 'x' } }));
    b.k(['apply', '-f', '-'], podManifest('cm', {
      volumes: [{ name: 'cfg', configMap: { name: 'greeting', items: [{ key: 'hello.txt', path: 'sub/greeting' }], defaultMode: 0o600 } }],
      containers: [shContainer(IMAGE, 'cat /cfg/sub/greeting; echo; ls /cfg; sleep 3600', { volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] })],
    }));
    await readyPod(b, 'cm');
    const content = await eventually('the configmap content in the log', () => {
      const out = b.kubectl(['logs', 'cm']).stdout;
      return out.includes('sub\n') && out;
    }, 10_000);
    assert.equal(content, 'hello from a configmap\nsub\n', 'the file, then the listing: only the listed item is projected');
    b.k(['delete', 'pod', 'cm', '--timeout=60s']);
  });

  await t.test('a pod waits in ContainerCreating until its claim is bound', async () => {
    const node = b.k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    const hostDir = join(dir, 'pv-manual');
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'manual', namespace: 'default' },
      spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    }));
    // Bound to the node directly: the scheduler would hold a pod with an unbound claim back.
    b.k(['apply', '-f', '-'], podManifest('waiter', {
      nodeName: node,
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'manual' } }],
      containers: [shContainer(IMAGE, 'echo bound > /data/out; sleep 3600', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
    }));
    const waiting = await eventually('ContainerCreating with a message', () => {
      const w = getPod('waiter')?.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ContainerCreating' && !!w.message && w;
    }, 60_000);
    assert.match(waiting.message!, /unbound claim/);
    const events = b.k(['get', 'events', '--field-selector', 'involvedObject.name=waiter,reason=FailedMount', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /Unable to attach or mount volumes: .*unbound claim/);
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'manual-pv' },
      spec: {
        capacity: { storage: '1Mi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: hostDir, type: 'DirectoryOrCreate' },
        claimRef: { namespace: 'default', name: 'manual' },
      },
    }));
    await eventually('pod waiter Ready', () => isReady(getPod('waiter')), 60_000);
    await eventually('the pod to write into the hostPath volume', () => existsSync(join(hostDir, 'out')) && readFileSync(join(hostDir, 'out'), 'utf8') === 'bound\n', 10_000);
    b.k(['delete', 'pod', 'waiter', '--timeout=60s']);
  });

  await t.test('stopping berth removes what it made on the host', async () => {
    const bridge = bridgeOf(b.dataDir);
    // This berth's pods only: other test files' berths may run at the same time.
    const uids = b.k(['get', 'pods', '-A', '-o', 'jsonpath={.items[*].metadata.uid}']).split(' ').filter(Boolean);
    assert.notEqual(uids.length, 0);
    await b.stop();
    assert.ok(!forwardRule(bridge), 'the FORWARD rule is removed');
    assert.ok(!linkExists(bridge), 'the bridge is removed');
    assert.deepEqual(uids.filter((u) => netnsNames().includes(`berth-${u}`)), [], 'no pod network namespace remains');
    assert.deepEqual(await runc.list(), [], 'no runc container remains');
    assert.deepEqual(mountsUnder(dataDir), [], 'no mount remains');
    // Its pods' cgroups: the `berth` parent stays while other berths run.
    assert.deepEqual(uids.flatMap((u) => cgroupDirs(`berth/pod${u}`)), [], 'no pod cgroup remains');
    assert.equal(execFileSync('ip', ['-4', 'route', 'show', 'type', 'unreachable', 'metric', '4000'], { encoding: 'utf8' }).trim(), '', 'the local routes are removed');
  });
});
