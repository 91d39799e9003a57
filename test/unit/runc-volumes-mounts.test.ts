// The runc runtime's host mounts, for real (root and loop devices): a claim on a berth.dev/loop
// volume mounted from its image through one loop device shared by the pods using it, an expansion
// finished offline before the mount, tmpfs emptyDirs, and releasePodVolumes leaving no mount or
// loop device behind, also when only the pod dir is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { PersistentVolumeClaim } from '../../src/api/core/persistentvolumeclaims.js';
import type { Pod } from '../../src/api/core/pods.js';
import {
  detachIdleLoopDevices,
  parseMountInfo,
  preparePodVolumes,
  releasePodVolumes,
  removePodDir,
  type VolumeLookups,
} from '../../src/node/runtime/runc/volumes.js';
import { LoopProvisioner, fileSystemBytes, loopDevicesAvailable, loopDevicesBacking } from '../../src/volumes/loop.js';

const Mi = 1024n * 1024n;
const isRoot = process.getuid?.() === 0;
const canLoop = isRoot && (await loopDevicesAvailable());

const mountsUnder = (dir: string) => parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));

/** A temp dir; at the end everything mounted under it is unmounted and its images detached. */
function tmp(t: { after(fn: () => void | Promise<void>): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mounts-'));
  t.after(async () => {
    for (const m of mountsUnder(dir).reverse()) execFileSync('umount', ['-l', m.mountPoint]);
    for (const line of execFileSync('losetup', ['-n', '-O', 'NAME,BACK-FILE', '-l'], { encoding: 'utf8' }).split('\n')) {
      const [device, file] = line.trim().split(/\s+/);
      if (device && file?.startsWith(`${dir}/`)) execFileSync('losetup', ['-d', device]);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const podWith = (name: string, volumes: v1.Volume[], containers?: v1.Container[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { volumes, containers: containers ?? [{ name: 'c', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/${v.name}` })) }] },
});

/** A bound claim on the loop PV the provisioner made, with lookups recording the resize write. */
async function loopClaim(dataDir: string, bytes: bigint) {
  const provisioner = new LoopProvisioner({ dataDir, nodeName: 'n1' });
  const made = await provisioner.provision({ claim: { namespace: 'ns', name: 'data', uid: 'c1' }, pvName: 'pvc-c1', capacityBytes: bytes });
  const pv: v1.PersistentVolume = { metadata: { name: 'pvc-c1', annotations: made.annotations }, spec: { ...made.source, capacity: { storage: made.capacity } } };
  const claim: PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'ns', resourceVersion: '7' },
    spec: { volumeName: 'pvc-c1', resources: { requests: { storage: made.capacity } } },
    status: { phase: 'Bound', capacity: { storage: made.capacity } },
  };
  const resized: [string, bigint][] = [];
  const lookups: VolumeLookups = {
    configMap: async () => undefined,
    secret: async () => undefined,
    claim: async (_ns, name) => (name === 'data' ? claim : undefined),
    volume: async (name) => (name === 'pvc-c1' ? pv : undefined),
    claimResized: async (c, b) => {
      resized.push([c.metadata.name!, b]);
      c.status = { ...c.status, capacity: { storage: `${b / Mi}Mi` }, conditions: (c.status?.conditions ?? []).filter((x) => x.type !== 'FileSystemResizePending') };
    },
  };
  return { provisioner, pv, claim, lookups, resized, image: made.annotations['berth.dev/loop-image']! };
}

const dfBytes = (path: string) => {
  const s = statfsSync(path, { bigint: true });
  return s.blocks * s.bsize;
};

test('mountinfo lines: device, mount point (unescaped), type and source', () => {
  const text = [
    '36 35 98:0 / /mnt/a\\040b rw,noatime master:1 - ext4 /dev/loop3 rw',
    '40 36 0:55 / /pods/p/volumes/cache rw,relatime shared:7 master:2 - tmpfs tmpfs rw,size=1024k',
    '',
  ].join('\n');
  assert.deepEqual(parseMountInfo(text), [
    { device: '98:0', mountPoint: '/mnt/a b', fsType: 'ext4', source: '/dev/loop3' },
    { device: '0:55', mountPoint: '/pods/p/volumes/cache', fsType: 'tmpfs', source: 'tmpfs' },
  ]);
});

test('a loop claim: mounted at the requested size, one device shared by two pods, released by the last', { skip: !canLoop && 'needs root and loop devices' }, async (t) => {
  const dir = tmp(t);
  const { lookups, image } = await loopClaim(join(dir, 'data'), 16n * Mi);
  const volumes: v1.Volume[] = [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }];
  const podA = join(dir, 'pods', 'a');
  const podB = join(dir, 'pods', 'b');

  const a = await preparePodVolumes(podWith('a', volumes), podA, lookups);
  const target = join(podA, 'volumes', 'data');
  assert.equal(a.get('data')?.path, target);
  assert.equal(dfBytes(target), 16n * Mi, 'df shows the claim size');
  writeFileSync(join(target, 'hello'), 'from a');
  const devices = await loopDevicesBacking(image);
  assert.equal(devices.length, 1);
  assert.deepEqual(await preparePodVolumes(podWith('a', volumes), podA, lookups), a, 'a second call finds the mount');
  assert.equal(mountsUnder(podA).length, 1);

  // A second pod on the node: its own mount point, the same device and filesystem.
  const b = await preparePodVolumes(podWith('b', volumes), podB, lookups);
  assert.equal(readFileSync(join(b.get('data')!.path, 'hello'), 'utf8'), 'from a');
  assert.deepEqual(await loopDevicesBacking(image), devices);

  await releasePodVolumes(podA);
  assert.equal(mountsUnder(podA).length, 0);
  assert.deepEqual(await loopDevicesBacking(image), devices, 'pod b still uses the device');
  await releasePodVolumes(podA); // idempotent

  await removePodDir(podB);
  assert.ok(!existsSync(podB));
  assert.deepEqual(await loopDevicesBacking(image), [], 'the last user detached it');
  assert.equal(mountsUnder(dir).length, 0);
});

test('a loop claim grown while in use: the filesystem grows before the next mount, the claim is told', { skip: !canLoop && 'needs root and loop devices' }, async (t) => {
  const dir = tmp(t);
  const { provisioner, pv, claim, lookups, resized, image } = await loopClaim(join(dir, 'data'), 16n * Mi);
  const pod = podWith('a', [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]);
  const podDir = join(dir, 'pods', 'a');
  await preparePodVolumes(pod, podDir, lookups);

  // The volume controller's part while the pod runs: the image grows, the filesystem waits.
  assert.deepEqual(await provisioner.expand(pv, 32n * Mi), { bytes: 32n * Mi, fileSystemResizePending: true });
  claim.spec!.resources!.requests!.storage = '32Mi';
  claim.status = { ...claim.status, allocatedResources: { storage: '32Mi' }, conditions: [{ type: 'FileSystemResizePending', status: 'True' }] };

  // Still mounted by the pod: nothing can grow yet, and the claim stays pending.
  await preparePodVolumes(pod, podDir, lookups);
  assert.deepEqual(resized, []);
  assert.equal(dfBytes(join(podDir, 'volumes', 'data')), 16n * Mi);

  // The pod restarts: released, then set up again, growing the filesystem offline first.
  await releasePodVolumes(podDir);
  await preparePodVolumes(pod, podDir, lookups);
  assert.equal(await fileSystemBytes(image), 32n * Mi);
  assert.equal(dfBytes(join(podDir, 'volumes', 'data')), 32n * Mi);
  assert.deepEqual(resized, [['data', 32n * Mi]]);
  assert.deepEqual(claim.status?.conditions, []);
  assert.deepEqual(claim.status?.capacity, { storage: '32Mi' });

  await releasePodVolumes(podDir);
  assert.deepEqual(await loopDevicesBacking(image), []);
  assert.equal(mountsUnder(dir).length, 0);
});

test('recovery: a device attached but never mounted is detached; an unknown pod dir is cleaned', { skip: !canLoop && 'needs root and loop devices' }, async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  const { lookups, image } = await loopClaim(dataDir, 8n * Mi);
  // What a berth killed between losetup and mount leaves.
  execFileSync('losetup', ['--find', image]);
  const podDir = join(dir, 'pods', 'a');
  const pod = podWith('a', [
    { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'cache', emptyDir: { medium: 'Memory' } },
  ]);
  // The leftover is not reused blindly: unmounted, it is detached and the image attached afresh.
  await preparePodVolumes(pod, podDir, lookups);
  assert.equal((await loopDevicesBacking(image)).length, 1);
  assert.equal(mountsUnder(podDir).length, 2);
  // Only the dir is known (a new berth process): everything under it goes.
  await releasePodVolumes(podDir);
  assert.equal(mountsUnder(podDir).length, 0);
  assert.deepEqual(await loopDevicesBacking(image), []);

  execFileSync('losetup', ['--find', image]); // attached again, mounted nowhere
  assert.equal((await loopDevicesBacking(image)).length, 1);
  assert.equal((await detachIdleLoopDevices(join(dataDir, 'volumes'))).length, 1);
  assert.deepEqual(await loopDevicesBacking(image), []);
});

test('emptyDir medium Memory: a tmpfs of the sizeLimit (else the pod memory limit); plain emptyDir a directory', { skip: !isRoot && 'needs root' }, async (t) => {
  const dir = tmp(t);
  const podDir = join(dir, 'pod');
  const pod = podWith(
    'a',
    [
      { name: 'small', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } },
      { name: 'bylimit', emptyDir: { medium: 'Memory' } },
      { name: 'disk', emptyDir: {} },
    ],
    [{ name: 'c', resources: { limits: { memory: '8Mi' } }, volumeMounts: ['small', 'bylimit', 'disk'].map((name) => ({ name, mountPath: `/${name}` })) }],
  );
  await preparePodVolumes(pod, podDir, { configMap: async () => undefined, secret: async () => undefined, claim: async () => undefined, volume: async () => undefined });
  const mounts = mountsUnder(podDir);
  assert.deepEqual(mounts.map((m) => [m.mountPoint, m.fsType]), [[join(podDir, 'volumes', 'small'), 'tmpfs'], [join(podDir, 'volumes', 'bylimit'), 'tmpfs']]);
  assert.equal(dfBytes(join(podDir, 'volumes', 'small')), 4n * Mi);
  assert.equal(dfBytes(join(podDir, 'volumes', 'bylimit')), 8n * Mi);
  assert.ok(existsSync(join(podDir, 'volumes', 'disk')));
  await removePodDir(podDir);
  assert.equal(mountsUnder(dir).length, 0);
  assert.ok(!existsSync(podDir));
});
