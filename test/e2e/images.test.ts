// `berth image import|ls|rm` against a temp data dir, as a user runs them (no server needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BERTH } from '../helpers/berth.js';
import { dockerSaveArchive, ociArchive } from '../helpers/images.js';

function berth(args: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; status: number | null } {
  return spawnSync(BERTH, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
}

test('berth image import, ls and rm', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-image-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const saved = join(dir, 'busybox.tar.gz');
  writeFileSync(saved, gzipSync(dockerSaveArchive(['busybox:1.36'])));
  const oci = join(dir, 'etcd-oci.tar');
  writeFileSync(oci, ociArchive('quay.io/coreos/etcd:v3.5.0'));

  let r = berth(['image', 'import', saved, '--data-dir', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: docker.io/library/busybox:1.36\n');
  // The data dir also comes from $BERTH_DATA_DIR, as for `berth up`.
  r = berth(['image', 'import', oci], { BERTH_DATA_DIR: dataDir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: quay.io/coreos/etcd:v3.5.0\n');

  r = berth(['image', 'ls', '--data-dir', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^docker\.io\/library\/busybox\s+1\.36\s+[0-9a-f]{12}\s+\d+(\.\d+)?kB$/);
  assert.match(lines[2]!, /^quay\.io\/coreos\/etcd\s+v3\.5\.0\s+[0-9a-f]{12}\s+\d+(\.\d+)?kB$/);
  // Columns line up under their headers.
  assert.equal(lines[1]!.indexOf('1.36'), lines[0]!.indexOf('TAG'));

  r = berth(['image', 'rm', 'busybox:1.36', '--data-dir', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Untagged: docker.io/library/busybox:1.36\n');
  r = berth(['image', 'rm', 'busybox:1.36', '--data-dir', dataDir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /image "busybox:1.36" not found/);
  r = berth(['image', 'rm', 'quay.io/coreos/etcd:v3.5.0', '--data-dir', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dataDir, 'images', 'blobs', 'sha256')), [], 'rm removed every blob');
  r = berth(['image', 'ls', '--data-dir', dataDir]);
  assert.equal(r.stdout.trimEnd(), 'REPOSITORY   TAG   IMAGE ID   SIZE');

  writeFileSync(join(dir, 'junk.tar'), 'not a tar');
  r = berth(['image', 'import', join(dir, 'junk.tar'), '--data-dir', dataDir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^berth: /);
});
