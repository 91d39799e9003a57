// The runc runtime's volumes: projection of configMap/secret keys, subPath resolution that never
// leaves its volume, hostPath type checks and the wait for a claim to bind (on temp dirs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/core/pods.js';
import { CreateContainerConfigError } from '../../src/node/runtime/runc/env.js';
import {
  MountError,
  containerMounts,
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

test('a claim mounts its bound volume; unbound waits; loop images are refused', async (t) => {
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
  annotations = { 'berth.dev/loop-image': '/x.img' };
  await assert.rejects(preparePodVolumes(pod, dir, lookups), (e) => e instanceof CreateContainerConfigError && /loop volumes are not mounted yet/.test(e.message));
});
