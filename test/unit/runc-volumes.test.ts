// The runc runtime's volumes: projection of configMap/secret keys, downwardAPI and projected
// volumes, subPath resolution that never leaves its volume, hostPath type checks and the wait for a
// claim to bind (on temp dirs). Host mounts (loop images, tmpfs) are in runc-volumes-mounts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/core/pods.js';
import { CreateContainerConfigError, formatMap, goQuote } from '../../src/node/runtime/runc/env.js';
import {
  MountError,
  containerMounts,
  downwardFiles,
  preparePodVolumes,
  projectedFiles,
  relativeSegments,
  resolveSubPath,
  secretData,
  type VolumeLookups,
} from '../../src/node/runtime/runc/volumes.js';

const tmp = (t: { after(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const none: VolumeLookups = { configMap: async () => undefined, secret: async () => undefined, claim: async () => undefined, volume: async () => undefined };
const podWith = (volumes: v1.Volume[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: { volumes, containers: [{ name: 'c', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/${v.name}` })) }] },
});

test('relative paths refuse absolute paths and ..', () => {
  assert.deepEqual(relativeSegments('a/./b/'), ['a', 'b']);
  assert.throws(() => relativeSegments('/etc'), CreateContainerConfigError);
  assert.throws(() => relativeSegments('a/../../b'), CreateContainerConfigError);
  assert.throws(() => relativeSegments('.'), CreateContainerConfigError);
});

test('projected files: all keys, or the listed items with their modes', () => {
  const data = new Map([['a', Buffer.from('1')], ['b', Buffer.from('2')]]);
  assert.deepEqual(projectedFiles('configmap', data, {}).map((f) => [f.path, f.mode]), [['a', 0o644], ['b', 0o644]]);
  const items = projectedFiles('configmap', data, { defaultMode: 0o600, items: [{ key: 'b', path: 'x/b' }, { key: 'a', path: 'a', mode: 0o400 }] });
  assert.deepEqual(items.map((f) => [f.path, f.mode, f.content.toString()]), [['x/b', 0o600, '2'], ['a', 0o400, '1']]);
  assert.throws(() => projectedFiles('configmap', data, { items: [{ key: 'zz', path: 'z' }] }), /non-existent config key: zz/);
  assert.deepEqual(projectedFiles('configmap', data, { optional: true, items: [{ key: 'zz', path: 'z' }] }), []);
  assert.equal(secretData({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: Buffer.from('v').toString('base64') } }).get('k')?.toString(), 'v');
});

test('subPath stays within its volume', async (t) => {
  const dir = tmp(t);
  const root = join(dir, 'vol');
  mkdirSync(join(root, 'inside'), { recursive: true });
  mkdirSync(join(dir, 'outside'));
  symlinkSync('../outside', join(root, 'escape'));
  symlinkSync('inside', join(root, 'ok'));
  assert.equal(await resolveSubPath(root, 'new/deeper'), join(root, 'new', 'deeper'));
  assert.ok(statSync(join(root, 'new', 'deeper')).isDirectory(), 'missing subPath directories are made');
  assert.equal(await resolveSubPath(root, 'ok'), join(root, 'inside'));
  await assert.rejects(resolveSubPath(root, 'escape'), /leads outside/);
  await assert.rejects(resolveSubPath(root, 'escape/made'), /leads outside/);
  assert.ok(!existsSync(join(dir, 'outside', 'made')), 'nothing is made through an escaping symlink');
  await assert.rejects(resolveSubPath(root, '../outside'), CreateContainerConfigError);
});

test('configMap, secret and emptyDir volumes are written under the pod dir', async (t) => {
  const dir = tmp(t);
  const lookups: VolumeLookups = {
    ...none,
    configMap: async (ns, name) => (ns === 'ns' && name === 'cm' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } } : undefined),
  };
  const pod = podWith([{ name: 'cfg', configMap: { name: 'cm', defaultMode: 0o640 } }, { name: 'scratch', emptyDir: {} }, { name: 'opt', secret: { secretName: 'nope', optional: true } }]);
  const volumes = await preparePodVolumes(pod, dir, lookups);
  assert.equal(readFileSync(join(dir, 'volumes', 'cfg', 'k'), 'utf8'), 'v');
  assert.equal(statSync(join(dir, 'volumes', 'cfg', 'k')).mode & 0o777, 0o640);
  const mounts = await containerMounts(pod.spec!.containers[0]!, volumes);
  assert.deepEqual(mounts.map((m) => [m.destination, !!m.readOnly]), [['/cfg', true], ['/scratch', false], ['/opt', true]]);
  await assert.rejects(preparePodVolumes(podWith([{ name: 'cfg', configMap: { name: 'missing' } }]), dir, lookups), (e) => e instanceof MountError && /configmap "missing" not found/.test(e.message));
});

test('hostPath types: DirectoryOrCreate makes it, Directory must exist', async (t) => {
  const dir = tmp(t);
  await preparePodVolumes(podWith([{ name: 'h', hostPath: { path: join(dir, 'made'), type: 'DirectoryOrCreate' } }]), dir, none);
  assert.ok(statSync(join(dir, 'made')).isDirectory());
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(preparePodVolumes(podWith([{ name: 'h', hostPath: { path: join(dir, 'file'), type: 'Directory' } }]), dir, none), /is not a directory/);
  await assert.rejects(preparePodVolumes(podWith([{ name: 'h', hostPath: { path: join(dir, 'absent'), type: 'Directory' } }]), dir, none), MountError);
});

test('a claim mounts its bound volume; unbound waits; a missing loop image fails the mount', async (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'pv'));
  let phase = 'Pending';
  let annotations: Record<string, string> = {};
  const lookups: VolumeLookups = {
    ...none,
    claim: async (_ns, name) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { volumeName: phase === 'Bound' ? 'pv1' : undefined }, status: { phase } }),
    volume: async (name) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, annotations }, spec: { local: { path: join(dir, 'pv') } } }),
  };
  const pod = podWith([{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }]);
  await assert.rejects(preparePodVolumes(pod, dir, lookups), (e) => e instanceof MountError && /^Unable to attach or mount volumes: .*ns\/c.*unbound claim/.test(e.message));
  phase = 'Bound';
  assert.equal((await preparePodVolumes(pod, dir, lookups)).get('data')?.path, join(dir, 'pv'));
  annotations = { 'berth.dev/loop-image': join(dir, 'absent.img') };
  await assert.rejects(preparePodVolumes(pod, dir, lookups), (e) => e instanceof MountError && /loop image .*absent\.img does not exist/.test(e.message));
});

test('labels and annotations files: key="value" lines in key order, values quoted as Go %q does', () => {
  assert.equal(formatMap({ b: 'two words', a: 'x"y\\z' }), 'a="x\\"y\\\\z"\nb="two words"');
  assert.equal(goQuote('tab\there\nnl\x00\x7f'), '"tab\\there\\nnl\\x00\\x7f"');
  assert.equal(goQuote('héllo ✓ 😀'), '"héllo ✓ 😀"', 'printable unicode stays');
  assert.equal(goQuote('\u00a0\u2028\u200b'), '"\\u00a0\\u2028\\u200b"', 'non-printable unicode is escaped');
  assert.equal(formatMap(undefined), '');
});

const downwardPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'ns', uid: 'u-1', labels: { app: 'web', 'apps.kubernetes.io/pod-index': '0' }, annotations: { note: 'a "quoted"\nline' } },
  spec: { containers: [{ name: 'c', resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { cpu: '250m' } } }] },
};

test('downwardAPI files: pod fields, labels and annotations, container resources with divisors, modes', () => {
  const files = downwardFiles(downwardPod, {
    defaultMode: 0o600,
    items: [
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
      { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' }, mode: 0o444 },
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'meta/annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } },
      { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
      { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
      { path: 'cpus', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
    ],
  });
  assert.deepEqual(
    files.map((f) => [f.path, f.content.toString(), f.mode]),
    [
      ['name', 'web-0', 0o600],
      ['ns', 'ns', 0o600],
      ['uid', 'u-1', 0o444],
      ['labels', 'app="web"\napps.kubernetes.io/pod-index="0"', 0o600],
      ['meta/annotations', 'note="a \\"quoted\\"\\nline"', 0o600],
      ['app', 'web', 0o600],
      ['mem', '64', 0o600],
      ['cpu', '250', 0o600],
      ['cpus', '1', 0o600], // 500m rounded up to whole cores
    ],
  );
  assert.equal(downwardFiles(downwardPod, { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] })[0]?.mode, 0o644);
  assert.throws(() => downwardFiles(downwardPod, { items: [{ path: '../x', fieldRef: { fieldPath: 'metadata.name' } }] }), CreateContainerConfigError);
});

test('downwardAPI and projected volumes are written under the pod dir, read-only in containers', async (t) => {
  const dir = tmp(t);
  const lookups: VolumeLookups = {
    ...none,
    configMap: async (_ns, name) => (name === 'cm' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'app.conf': 'x=1', other: 'o' } } : undefined),
    secret: async (_ns, name) => (name === 's' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { token: Buffer.from('t0k').toString('base64') } } : undefined),
  };
  const volumes: v1.Volume[] = [
    { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
    {
      name: 'all',
      projected: {
        defaultMode: 0o640,
        sources: [
          { configMap: { name: 'cm', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
          { secret: { name: 's', items: [{ key: 'token', path: 'token', mode: 0o400 }] } },
          { secret: { name: 'absent', optional: true } },
          { downwardAPI: { items: [{ path: 'podname', fieldRef: { fieldPath: 'metadata.name' } }] } },
        ],
      },
    },
  ];
  const pod: Pod = { ...downwardPod, spec: { volumes, containers: [{ name: 'c', volumeMounts: [{ name: 'info', mountPath: '/info' }, { name: 'all', mountPath: '/all' }] }] } };
  const prepared = await preparePodVolumes(pod, dir, lookups);
  const all = join(dir, 'volumes', 'all');
  assert.equal(readFileSync(join(dir, 'volumes', 'info', 'labels'), 'utf8'), 'app="web"\napps.kubernetes.io/pod-index="0"');
  assert.equal(readFileSync(join(all, 'conf', 'app.conf'), 'utf8'), 'x=1');
  assert.equal(statSync(join(all, 'conf', 'app.conf')).mode & 0o777, 0o640);
  assert.equal(readFileSync(join(all, 'token'), 'utf8'), 't0k');
  assert.equal(statSync(join(all, 'token')).mode & 0o777, 0o400);
  assert.equal(readFileSync(join(all, 'podname'), 'utf8'), 'web-0');
  assert.ok(!existsSync(join(all, 'other')), 'only the listed items');
  assert.deepEqual((await containerMounts(pod.spec!.containers[0]!, prepared)).map((m) => [m.destination, m.readOnly]), [['/info', true], ['/all', true]]);

  const missing: v1.Volume = { name: 'all', projected: { sources: [{ configMap: { name: 'nope' } }] } };
  await assert.rejects(preparePodVolumes({ ...pod, spec: { ...pod.spec!, volumes: [missing] } }, dir, lookups), (e) => e instanceof MountError && /configmap "nope" not found/.test(e.message));
  const token: v1.Volume = { name: 'all', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } };
  await assert.rejects(preparePodVolumes({ ...pod, spec: { ...pod.spec!, volumes: [token] } }, dir, lookups), (e) => e instanceof MountError && /serviceAccountToken projections are not supported/.test(e.message));
});
