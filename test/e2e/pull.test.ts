// Pulling from a real registry: Debian's docker-registry (the CNCF distribution server) on
// loopback, with an image pushed by a small pusher here, and a token-auth proxy in front of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullError, nodePlatform } from '../../src/node/images/distribution.js';
import { loadRegistries, pullImage } from '../../src/node/images/pull.js';
import { parseRegistries } from '../../src/node/images/registries.js';
import { ImageStore } from '../../src/node/images/store.js';
import { unpackImage } from '../../src/node/images/unpack.js';
import { fakeBusybox } from '../helpers/images.js';
import { allowOnly, pushImage, startRegistry, startTokenProxy, type After } from '../helpers/registry.js';

function tempDir(t: After): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pull-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('pull from a loopback docker-registry', async (t) => {
  const dir = tempDir(t);
  const base = await startRegistry(t, dir);
  const host = new URL(base).host;
  await pushImage(base, 'test/busybox', '1.0', fakeBusybox());

  const dataDir = join(dir, 'data');
  const store = await ImageStore.open(dataDir);
  allowOnly(dataDir, host);
  const registries = await loadRegistries(dataDir);

  const pulled = await pullImage(store, `${host}/test/busybox:1.0`, { registries });
  assert.equal(pulled.reference, `${host}/test/busybox:1.0`);
  assert.equal(pulled.endpoint, base);
  assert.equal(pulled.fetched.length, 3, 'config and two layers');
  assert.deepEqual(pulled.fetched, [pulled.manifest.config.digest, ...pulled.manifest.layers.map((l) => l.digest)]);
  const listed = await store.list();
  assert.deepEqual(listed.map((i) => i.reference), [`${host}/test/busybox:1.0`]);
  assert.equal(listed[0]!.digest, pulled.digest);
  const config = await store.readJson<{ architecture: string }>(pulled.id);
  assert.equal(config.architecture, nodePlatform().architecture, 'the node platform was chosen from the index');
  const dirs = await unpackImage(store, `${host}/test/busybox:1.0`);
  assert.equal(dirs.length, 2);
  assert.equal(readFileSync(join(dirs[0]!, 'etc', 'passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
  assert.ok(existsSync(join(dirs[1]!, 'etc', 'app', 'new.conf')));

  const again = await pullImage(store, `${host}/test/busybox:1.0`, { registries });
  assert.deepEqual(again.fetched, [], 'every blob was already in the store');
  assert.equal(again.digest, pulled.digest);

  // By digest too: the manifest the index chose.
  const byDigest = await pullImage(store, `${host}/test/busybox@${pulled.digest}`, { registries });
  assert.equal(byDigest.reference, `${host}/test/busybox@${pulled.digest}`);
  assert.deepEqual(byDigest.fetched, []);

  for (const missing of [`${host}/test/nothing:1.0`, `${host}/test/busybox:2.0`]) {
    await assert.rejects(pullImage(store, missing, { registries }), (err: unknown) => {
      assert.ok(err instanceof PullError);
      assert.equal(err.reason, 'NotFound');
      assert.equal(err.message, `failed to pull and unpack image "${missing}": failed to resolve reference "${missing}": ${missing}: not found`);
      return true;
    });
  }

  const started = Date.now();
  await assert.rejects(pullImage(store, 'docker.io/library/busybox', { registries }), (err: unknown) => {
    assert.ok(err instanceof PullError);
    assert.equal(err.reason, 'NotAllowed');
    assert.equal(err.message, 'failed to pull and unpack image "docker.io/library/busybox:latest": registry "docker.io" is not in the allow-list of registries.yaml');
    return true;
  });
  assert.ok(Date.now() - started < 500, 'refused before any request');
});


test('pull with bearer-token auth, through a mirror', async (t) => {
  const dir = tempDir(t);
  const base = await startRegistry(t, dir);
  await pushImage(base, 'test/busybox', '1.0', fakeBusybox());
  const proxy = await startTokenProxy(t, base);
  const store = await ImageStore.open(join(dir, 'data'));
  // The image is named by a registry that does not exist; its only mirror is the proxy.
  const registries = parseRegistries(`allow: ["${proxy}"]\nregistries:\n  registry.invalid:\n    mirrors: ["http://${proxy}"]\n    mirrorsOnly: true\n`);

  await assert.rejects(pullImage(store, 'registry.invalid/test/busybox:1.0', { registries }), (err: unknown) => {
    assert.ok(err instanceof PullError);
    assert.equal(err.reason, 'Unauthorized');
    assert.match(err.message, /pull access denied, repository does not exist or may require authorization: token service .* answered 401: unauthorized: bad credentials$/);
    return true;
  });
  const auth = { [proxy]: { username: 'alice', password: 's3cret' } };
  const pulled = await pullImage(store, 'registry.invalid/test/busybox:1.0', { registries, auth });
  assert.equal(pulled.reference, 'registry.invalid/test/busybox:1.0');
  assert.equal(pulled.endpoint, `http://${proxy}`);
  assert.equal(pulled.fetched.length, 3);
  assert.equal((await unpackImage(store, pulled.reference)).length, 2);
});
