import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import { LocalPathProvisioner } from '../../src/volumes/localpath.js';
import { LOOP_IMAGE_ANNOTATION, LoopProvisioner, growFileSystem, loopDevicesAvailable, loopImageBytes } from '../../src/volumes/loop.js';
import { type ProvisionRequest, type ProvisionedVolume, capacityQuantity, checkedVolumeName, isDirectChild } from '../../src/volumes/provisioner.js';

const Mi = 1024n * 1024n;
const claim = { namespace: 'default', name: 'data-web-0', uid: 'uid-1' };

function tempDataDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The PV the controller would write from a provisioner's answer. */
function pvFrom(name: string, v: ProvisionedVolume): v1.PersistentVolume {
  return {
    metadata: { name, annotations: v.annotations },
    spec: { ...v.source, capacity: { storage: v.capacity }, nodeAffinity: v.nodeAffinity, accessModes: ['ReadWriteOnce'] },
  };
}

/** Block count × block size of the ext4 filesystem in an image, read by dumpe2fs. */
function ext4Bytes(image: string): bigint {
  const out = execFileSync('dumpe2fs', ['-h', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out);
    assert.ok(m, `dumpe2fs shows ${name}`);
    return m[1].trim();
  };
  assert.match(field('Filesystem features'), /\bhas_journal\b.*\bextent\b/); // ext4, not ext2
  return BigInt(field('Block count')) * BigInt(field('Block size'));
}

test('pure helpers: names, containment, capacity quantities, image sizes', () => {
  assert.throws(() => checkedVolumeName('../etc'), /cannot name a file/);
  assert.throws(() => checkedVolumeName('..'), /cannot name a file/);
  assert.throws(() => checkedVolumeName('pvc-1.img'), /loop image/);
  assert.equal(checkedVolumeName('pvc-1'), 'pvc-1');
  assert.ok(isDirectChild('/data/volumes', '/data/volumes/pvc-1'));
  assert.ok(!isDirectChild('/data/volumes', '/data/volumes'));
  assert.ok(!isDirectChild('/data/volumes', '/data/volumes/a/b'));
  assert.ok(!isDirectChild('/data/volumes', '/data/volumes/../pvc-1'));
  assert.ok(!isDirectChild('/data/volumes', '/etc'));
  assert.equal(capacityQuantity(64n * Mi), '64Mi');
  assert.equal(capacityQuantity(1000n), '1k'); // as Kubernetes prints a binary quantity not a multiple of 1024
  assert.equal(loopImageBytes(64n * Mi), 64n * Mi);
  assert.equal(loopImageBytes(64n * Mi + 1n), 64n * Mi + 4096n);
  assert.equal(loopImageBytes(1n), 8n * Mi);
});

test('local-path: a 0777 directory per claim, a local PV pinned to the node, deleted with the PV', async (t) => {
  const dataDir = tempDataDir(t);
  const p = new LocalPathProvisioner({ dataDir, nodeName: 'n1' });
  assert.equal(p.name, 'berth.dev/local-path');
  const req: ProvisionRequest = { claim, pvName: 'pvc-uid-1', capacityBytes: 10n * Mi, node: 'box', parameters: {} };
  const v = await p.provision(req);
  const dir = join(dataDir, 'volumes', 'pvc-uid-1');
  assert.deepEqual(v.source, { local: { path: dir } });
  assert.equal(v.capacity, '10Mi');
  assert.equal(v.capacityBytes, 10n * Mi);
  assert.deepEqual(v.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions, [
    { key: 'kubernetes.io/hostname', operator: 'In', values: ['box'] },
  ]);
  assert.ok(statSync(dir).isDirectory());
  assert.equal(statSync(dir).mode & 0o777, 0o777);
  writeFileSync(join(dir, 'data'), 'x');

  // Provisioning again (a retry) is harmless; without a selected node it uses its own.
  const again = await p.provision({ ...req, node: undefined });
  assert.deepEqual(again.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions?.[0].values, ['n1']);

  await p.delete(pvFrom('pvc-uid-1', v));
  assert.ok(!existsSync(dir));
  await p.delete(pvFrom('pvc-uid-1', v)); // already gone: fine
});

test('local-path: refuses to delete anything outside its volumes directory', async (t) => {
  const dataDir = tempDataDir(t);
  const p = new LocalPathProvisioner({ dataDir, nodeName: 'n1' });
  const outside = join(dataDir, 'precious');
  mkdirSync(outside);
  for (const path of [outside, join(dataDir, 'volumes'), join(dataDir, 'volumes', '..', 'precious'), '/']) {
    await assert.rejects(p.delete({ metadata: { name: 'pv' }, spec: { hostPath: { path } } }), /refusing to delete/);
  }
  await assert.rejects(p.delete({ metadata: { name: 'pv' }, spec: {} }), /no local or hostPath source/);
  await assert.rejects(p.provision({ claim, pvName: '../precious', capacityBytes: Mi }), /cannot name a file/);
  assert.ok(existsSync(outside));
});

test('loop: a sparse ext4 image of exactly the request, grown offline, never shrunk, deleted', async (t) => {
  const dataDir = tempDataDir(t);
  const p = new LoopProvisioner({ dataDir, nodeName: 'n1' });
  assert.equal(p.name, 'berth.dev/loop');
  const v = await p.provision({ claim, pvName: 'pvc-uid-2', capacityBytes: 64n * Mi });
  const image = join(dataDir, 'volumes', 'pvc-uid-2.img');
  assert.equal(v.annotations[LOOP_IMAGE_ANNOTATION], image);
  assert.deepEqual(v.source, { local: { path: join(dataDir, 'volumes', 'pvc-uid-2') } });
  assert.equal(v.capacity, '64Mi');
  assert.equal(v.capacityBytes, 64n * Mi);
  assert.ok(v.nodeAffinity);

  const st = statSync(image, { bigint: true });
  assert.equal(st.size, 67108864n);
  assert.ok(st.blocks * 512n < st.size, 'the image is sparse');
  assert.equal(ext4Bytes(image), 67108864n);
  assert.ok(!existsSync(`${image}.tmp`));

  const pv = pvFrom('pvc-uid-2', v);
  assert.deepEqual(await p.expand(pv, 96n * Mi), { bytes: 96n * Mi, fileSystemResizePending: false });
  assert.equal(statSync(image).size, 100663296);
  assert.equal(ext4Bytes(image), 100663296n);

  await assert.rejects(p.expand(pv, 64n * Mi), /cannot shrink/);
  assert.equal(statSync(image).size, 100663296);
  assert.deepEqual(await p.expand(pv, 96n * Mi), { bytes: 96n * Mi, fileSystemResizePending: false }); // same size: a no-op

  // In use (attached to a loop device): the image grows, the filesystem waits for the node agent.
  if (await loopDevicesAvailable()) {
    const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
    try {
      assert.deepEqual(await p.expand(pv, 128n * Mi), { bytes: 128n * Mi, fileSystemResizePending: true });
      assert.equal(statSync(image).size, 128 * 2 ** 20);
      assert.equal(ext4Bytes(image), 100663296n);
    } finally {
      execFileSync('losetup', ['-d', device]);
    }
    await growFileSystem(image);
    assert.equal(ext4Bytes(image), 128n * Mi);
  } else t.diagnostic('no loop devices: growth in use not checked');

  await p.delete(pv);
  assert.ok(!existsSync(image));
  assert.ok(!existsSync(join(dataDir, 'volumes', 'pvc-uid-2')));
  await p.delete(pv); // already gone: fine
});

test('loop: a retry reuses its own image; images outside the volumes directory are refused', async (t) => {
  const dataDir = tempDataDir(t);
  const p = new LoopProvisioner({ dataDir, nodeName: 'n1' });
  const req: ProvisionRequest = { claim, pvName: 'pvc-uid-3', capacityBytes: 8n * Mi };
  const first = await p.provision(req);
  assert.deepEqual(await p.provision(req), first);
  await assert.rejects(p.provision({ ...req, capacityBytes: 16n * Mi }), /already exists/);

  const forged = (image: string): v1.PersistentVolume => ({ metadata: { name: 'pv', annotations: { [LOOP_IMAGE_ANNOTATION]: image } }, spec: {} });
  const outside = join(dataDir, 'other.img');
  writeFileSync(outside, 'x');
  await assert.rejects(p.delete(forged(outside)), /refusing to touch/);
  await assert.rejects(p.expand(forged(outside), 16n * Mi), /refusing to touch/);
  await assert.rejects(p.delete(forged(join(dataDir, 'volumes', 'pvc-uid-3'))), /refusing to touch/);
  await assert.rejects(p.delete({ metadata: { name: 'pv' }, spec: {} }), /no berth.dev\/loop-image annotation/);
  assert.ok(existsSync(outside));
});
