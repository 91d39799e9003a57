import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importArchive } from '../../src/node/images/archive.js';
import { flatten } from '../../src/node/images/flatten.js';
import { layerExtractor, memberPath } from '../../src/node/images/layer.js';
import { normalizeReference } from '../../src/node/images/reference.js';
import { ImageStore } from '../../src/node/images/store.js';
import { unpackImage } from '../../src/node/images/unpack.js';
import { humanSize, imagesTable } from '../../src/cli/images.js';
import { digestOf, dockerSaveArchive, fakeBusybox, ociArchive, tarball, type TarEntry } from '../helpers/images.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeArchive(dir: string, name: string, data: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

function blobCount(store: ImageStore): number {
  return readdirSync(join(store.root, 'blobs', 'sha256')).length;
}

test('references normalize as Docker normalizes them', () => {
  assert.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeReference('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeReference('library/busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeReference('bitnami/redis'), 'docker.io/bitnami/redis:latest');
  assert.equal(normalizeReference('index.docker.io/library/redis:7'), 'docker.io/library/redis:7');
  assert.equal(normalizeReference('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizeReference('quay.io/coreos/etcd:v3.5.0'), 'quay.io/coreos/etcd:v3.5.0');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(normalizeReference(`busybox@${digest}`), `docker.io/library/busybox@${digest}`);
  assert.throws(() => normalizeReference('BusyBox'), /lowercase/);
  assert.throws(() => normalizeReference('busybox:'), /bad tag/);
});

test('a docker save archive imports into an OCI layout, lists, resolves and unpacks', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  assert.deepEqual(JSON.parse(readFileSync(join(store.root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const [lower, upper] = fakeBusybox();
  const result = await importArchive(store, writeArchive(dir, 'busybox.tar', dockerSaveArchive(['busybox:1.36', 'busybox:latest'])));
  assert.deepEqual(
    result.images.map((i) => i.reference),
    ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest'],
  );

  const index = JSON.parse(readFileSync(join(store.root, 'index.json'), 'utf8'));
  assert.deepEqual(
    index.manifests.map((d: { annotations: Record<string, string> }) => d.annotations['org.opencontainers.image.ref.name']),
    ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest'],
  );
  const image = await store.resolve('busybox:1.36');
  assert.equal(image.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(
    image.manifest.layers.map((l) => l.mediaType),
    ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar+gzip'],
  );
  assert.equal(image.manifest.layers[0]!.digest, digestOf(lower!));
  assert.deepEqual(image.config.rootfs.diff_ids, [digestOf(lower!), digestOf(upper!)]);
  // Every blob is stored under its own digest.
  for (const name of readdirSync(join(store.root, 'blobs', 'sha256'))) {
    assert.equal(digestOf(readFileSync(join(store.root, 'blobs', 'sha256', name))), `sha256:${name}`);
  }
  // By image ID prefix, as docker accepts it.
  assert.equal((await store.resolve(image.id.slice(7, 19))).id, image.id);

  const listed = await store.list();
  assert.equal(listed.length, 2);
  const table = imagesTable(listed).split('\n');
  assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.match(table[1]!, new RegExp(`^docker.io/library/busybox\\s+1.36\\s+${image.id.slice(7, 19)}\\s+\\d+(\\.\\d+)?kB$`));

  const layers = await unpackImage(store, 'busybox:1.36');
  assert.equal(layers.length, 2);
  // The upper layer's directory keeps its whiteouts, for an overlay to interpret.
  assert.ok(existsSync(join(layers[1]!, 'etc', '.wh.motd')));
  const rootfs = join(dir, 'rootfs');
  await flatten(layers, rootfs);
  assert.equal(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
  assert.equal(existsSync(join(rootfs, 'etc', 'motd')), false, 'whiteout deletes etc/motd');
  assert.deepEqual(readdirSync(join(rootfs, 'etc', 'app')), ['new.conf'], 'opaque directory hides the lower layer');
  assert.equal(readlinkSync(join(rootfs, 'bin', 'sh')), 'busybox');
  assert.equal(statSync(join(rootfs, 'bin', 'busybox')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(rootfs, 'bin', 'ls')).ino, statSync(join(rootfs, 'bin', 'busybox')).ino, 'hard link kept');
  assert.equal(statSync(join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(join(rootfs, 'root')).mode & 0o7777, 0o700);
  assert.equal(statSync(join(rootfs, 'root', '.profile')).mode & 0o7777, 0o600);
  assert.deepEqual(readdirSync(rootfs).sort(), ['bin', 'etc', 'root', 'tmp']);
  // The flattened copy is independent of the shared layer.
  writeFileSync(join(rootfs, 'bin', 'busybox'), 'changed');
  assert.notEqual(readFileSync(join(layers[0]!, 'bin', 'busybox'), 'utf8'), 'changed');
});

test('layers are unpacked once and shared by diff ID', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  await importArchive(store, writeArchive(dir, 'a.tar', dockerSaveArchive(['app:1'])));
  await importArchive(store, writeArchive(dir, 'b.tar', ociArchive('registry.local/app:2')));
  const a = await unpackImage(store, 'app:1');
  const marker = join(a[0]!, 'marker');
  writeFileSync(marker, '');
  const b = await unpackImage(store, 'registry.local/app:2');
  assert.deepEqual(b, a, 'the same diff IDs map to the same directories');
  assert.ok(existsSync(marker), 'not unpacked again');
});

test('an OCI image-layout archive imports under its containerd name', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  const result = await importArchive(store, writeArchive(dir, 'oci.tar', ociArchive('localhost:5000/tools/busybox:1.36')));
  assert.deepEqual(result.images.map((i) => i.reference), ['localhost:5000/tools/busybox:1.36']);
  const image = await store.resolve('localhost:5000/tools/busybox:1.36');
  assert.deepEqual(
    image.manifest.layers.map((l) => l.mediaType),
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
  );
  const rootfs = join(dir, 'rootfs');
  await flatten(await unpackImage(store, image.reference), rootfs);
  assert.deepEqual(readdirSync(join(rootfs, 'etc')).sort(), ['app', 'passwd']);
});

test('an archive whose blob does not match its digest is refused', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  const [lower, upper] = fakeBusybox();
  // The config names a diff ID the layer does not have.
  const lying = dockerSaveArchive(['bad:1'], [lower!, upper!]).toString('latin1').replace(digestOf(lower!).slice(7), '0'.repeat(64));
  await assert.rejects(importArchive(store, writeArchive(dir, 'bad.tar', Buffer.from(lying, 'latin1'))), /the config says sha256:0{64}/);
  await assert.rejects(store.putBlob('hello', digestOf('other')), /digest mismatch/);
  assert.deepEqual(await store.list(), []);
});

test('a docker save archive whose duplicate layers are symlinks imports', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  const layer = tarball([{ path: 'data/', type: 'Directory' }]);
  const config = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer), digestOf(layer)] } });
  const archive = tarball([
    { path: 'c.json', body: config },
    { path: 'a/layer.tar', body: layer },
    { path: 'b/layer.tar', type: 'SymbolicLink', linkpath: '../a/layer.tar' },
    { path: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['dup:1'], Layers: ['a/layer.tar', 'b/layer.tar'] }]) },
  ]);
  await importArchive(store, writeArchive(dir, 'dup.tar', archive));
  const image = await store.resolve('dup:1');
  assert.deepEqual(image.manifest.layers.map((l) => l.digest), [digestOf(layer), digestOf(layer)]);
  assert.ok(lstatSync(store.blobPath(digestOf(layer))).isFile(), 'the blob is the file, not the link');
  const escaping = tarball([
    { path: 'c.json', body: config },
    { path: 'a/layer.tar', type: 'SymbolicLink', linkpath: '../../../../../../../../etc/passwd' },
    { path: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['a/layer.tar', 'a/layer.tar'] }]) },
  ]);
  await assert.rejects(importArchive(store, writeArchive(dir, 'evil.tar', escaping)), /escapes extraction directory/);
  assert.deepEqual(readdirSync(join(store.root, 'tmp')), [], 'scratch space cleaned up');
});

test('rm removes the name and the blobs no other image uses', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  await importArchive(store, writeArchive(dir, 'a.tar', dockerSaveArchive(['busybox:1.36', 'busybox:latest'])));
  const blobs = blobCount(store); // two layers, config, manifest
  assert.equal(blobs, 4);
  const other = tarball([{ path: 'only-here', body: 'x' }]);
  await importArchive(store, writeArchive(dir, 'b.tar', dockerSaveArchive(['other:1'], [fakeBusybox()[0]!, other])));
  assert.equal(blobCount(store), 7, 'shares the lower layer');

  assert.deepEqual(await store.remove('busybox:latest'), ['docker.io/library/busybox:latest']);
  assert.equal(blobCount(store), 7, 'busybox:1.36 still uses every blob');
  await store.remove('busybox:1.36');
  assert.equal(blobCount(store), 4, 'the shared layer stays for other:1');
  await assert.rejects(store.remove('busybox:1.36'), /not found/);
  const id = (await store.resolve('other:1')).id;
  assert.deepEqual(await store.remove(id.slice(7, 19)), ['docker.io/library/other:1']);
  assert.equal(blobCount(store), 0);
  assert.deepEqual((await store.readIndex()).manifests, []);
});

test('concurrent imports and removals keep index.json whole', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  const archive = writeArchive(dir, 'a.tar', dockerSaveArchive(['busybox:1.36']));
  // Two stores on one directory stand for two processes; each import takes the lock to tag.
  const other = await ImageStore.open(join(dir, 'data'));
  const names = Array.from({ length: 8 }, (_, i) => `app${i}:1`);
  await Promise.all(names.map((n, i) => importArchive(i % 2 ? store : other, writeArchive(dir, `${n}.tar`, dockerSaveArchive([n])))));
  await importArchive(store, archive);
  assert.equal((await store.list()).length, 9);
  await Promise.all(names.map((n, i) => (i % 2 ? store : other).remove(n)));
  assert.deepEqual((await store.list()).map((i) => i.reference), ['docker.io/library/busybox:1.36']);
  assert.equal(blobCount(store), 4);
  assert.equal(existsSync(join(store.root, 'index.json.lock')), false);
});

async function extract(t: { after(fn: () => void): void }, entries: TarEntry[]): Promise<string> {
  const root = join(tempDir(t), 'layer');
  mkdirSync(root);
  const x = layerExtractor(root);
  await x.write(tarball(entries));
  await x.end();
  return root;
}

test('layer members may not escape the layer directory', async (t) => {
  assert.equal(memberPath('./etc/passwd'), 'etc/passwd');
  assert.equal(memberPath('./'), '');
  assert.throws(() => memberPath('/etc/passwd'), /absolute/);
  assert.throws(() => memberPath('etc/../../x'), /"\.\."/);

  const outside = tempDir(t);
  await assert.rejects(extract(t, [{ path: '../escape', body: 'x' }]), /"\.\."/);
  await assert.rejects(extract(t, [{ path: 'a/../../escape', body: 'x' }]), /"\.\."/);
  await assert.rejects(extract(t, [{ path: '/abs', body: 'x' }]), /absolute/);
  // Through a symlink the layer itself made, to a directory outside.
  await assert.rejects(
    extract(t, [
      { path: 'link', type: 'SymbolicLink', linkpath: outside },
      { path: 'link/pwned', body: 'x' },
    ]),
    /goes through the symlink "link"/,
  );
  await assert.rejects(
    extract(t, [
      { path: 'rel', type: 'SymbolicLink', linkpath: '../..' },
      { path: 'rel/pwned', body: 'x' },
    ]),
    /symlink/,
  );
  await assert.rejects(extract(t, [{ path: 'hard', type: 'Link', linkpath: '../../etc/passwd' }]), /"\.\."/);
  await assert.rejects(extract(t, [{ path: 'hard', type: 'Link', linkpath: '/etc/passwd' }]), /absolute/);
  assert.deepEqual(readdirSync(outside), [], 'nothing written outside');
  // A symlink pointing anywhere is itself fine: it is resolved inside the container.
  const root = await extract(t, [{ path: 'etc/mtab', type: 'SymbolicLink', linkpath: '/proc/mounts' }]);
  assert.equal(readlinkSync(join(root, 'etc', 'mtab')), '/proc/mounts');
  assert.ok(lstatSync(join(root, 'etc', 'mtab')).isSymbolicLink());
});

test('an archive member outside the archive is refused', async (t) => {
  const dir = tempDir(t);
  const store = await ImageStore.open(join(dir, 'data'));
  const evil = tarball([{ path: 'manifest.json', body: JSON.stringify([{ Config: '../../../etc/passwd', RepoTags: ['x:1'], Layers: [] }]) }]);
  await assert.rejects(importArchive(store, writeArchive(dir, 'evil.tar', evil)), /outside the archive/);
  const dotdot = tarball([{ path: '../escape', body: 'x' }]);
  await assert.rejects(importArchive(store, writeArchive(dir, 'dotdot.tar', dotdot)));
  assert.equal(existsSync(join(store.root, '..', '..', 'escape')), false);
  assert.deepEqual(readdirSync(join(store.root, 'tmp')), [], 'scratch space cleaned up');
});

test('sizes print as docker prints them', () => {
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(4_261_000), '4.26MB');
  assert.equal(humanSize(1_200), '1.2kB');
  assert.equal(humanSize(2_000_000_000), '2GB');
});
