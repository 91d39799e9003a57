import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullError, nodePlatform, parseChallenge, selectPlatform } from '../../src/node/images/distribution.js';
import { decidePull, defaultPullPolicy } from '../../src/node/images/policy.js';
import { pullImage } from '../../src/node/images/pull.js';
import { PullNotAllowedError, endpointsFor, parseRegistries, planEndpoints } from '../../src/node/images/registries.js';
import { ImageStore } from '../../src/node/images/store.js';

const YAML = `
allow: [mirror.example, "127.0.0.1:5000", quay.io]
registries:
  docker.io:
    mirrors: ["https://mirror.example/v2", "other.example:8443"]
  quay.io:
    mirrors: [http://127.0.0.1:5000]
    mirrorsOnly: true
  127.0.0.1:5000:
    insecure: true
`;

test('registries.yaml: mirrors in order, then the registry itself unless mirrorsOnly', () => {
  const config = parseRegistries(YAML);
  assert.deepEqual(
    endpointsFor(config, 'docker.io').map((e) => [e.url, e.mirror]),
    [
      ['https://mirror.example', true],
      ['https://other.example:8443', true],
      // Docker Hub's API lives elsewhere than its name.
      ['https://registry-1.docker.io', false],
    ],
  );
  assert.deepEqual(endpointsFor(config, 'quay.io').map((e) => e.url), ['http://127.0.0.1:5000']);
  assert.deepEqual(endpointsFor(config, '127.0.0.1:5000').map((e) => e.url), ['http://127.0.0.1:5000']);
  assert.deepEqual(endpointsFor(config, 'ghcr.io').map((e) => e.url), ['https://ghcr.io']);
  assert.deepEqual(parseRegistries(''), { registries: {} });
});

test('registries.yaml: the allow-list filters endpoints and refuses a pull with none left', () => {
  const config = parseRegistries(YAML);
  // other.example is not allowed; registry-1.docker.io is not either (docker.io is not listed).
  assert.deepEqual(planEndpoints(config, 'docker.io').map((e) => e.host), ['mirror.example']);
  assert.deepEqual(planEndpoints(config, 'quay.io').map((e) => e.host), ['127.0.0.1:5000']);
  assert.throws(() => planEndpoints(config, 'ghcr.io'), PullNotAllowedError);
  // A registry named in the allow-list allows its own endpoint, wherever its API lives.
  assert.deepEqual(planEndpoints(parseRegistries('allow: [docker.io]'), 'docker.io').map((e) => e.url), ['https://registry-1.docker.io']);
  // No allow-list: anything goes.
  assert.equal(planEndpoints(parseRegistries(''), 'ghcr.io').length, 1);
});

test('registries.yaml: mistakes are reported', () => {
  assert.throws(() => parseRegistries('mirrors: []'), /unknown field\(s\) mirrors/);
  assert.throws(() => parseRegistries('registries: {docker.io: {mirror: [x]}}'), /registries.docker.io: unknown field/);
  assert.throws(() => parseRegistries('registries: {docker.io: {mirrorsOnly: true}}'), /mirrorsOnly without mirrors/);
  assert.throws(() => parseRegistries('registries: {docker.io: {mirrors: ["ftp://x"]}}'), /only http and https/);
  assert.throws(() => parseRegistries('allow: docker.io'), /allow must be a list/);
});

/** A loopback listener counting connections, to show a refused pull sends nothing. */
async function listener(t: { after(fn: () => Promise<void> | void): void }): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, connections: () => n };
}

test('a pull outside the allow-list fails at once, with no connection made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registries-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await ImageStore.open(dir);
  const target = await listener(t);
  const registries = parseRegistries(`allow: ["127.0.0.1:1"]\nregistries: {"127.0.0.1:${target.port}": {insecure: true}}`);
  const started = Date.now();
  await assert.rejects(pullImage(store, `127.0.0.1:${target.port}/app:1`, { registries }), (err: unknown) => {
    assert.ok(err instanceof PullError);
    assert.equal(err.reason, 'NotAllowed');
    assert.equal(
      err.message,
      `failed to pull and unpack image "127.0.0.1:${target.port}/app:1": registry "127.0.0.1:${target.port}" is not in the allow-list of registries.yaml`,
    );
    return true;
  });
  assert.ok(Date.now() - started < 1000);
  // Give a stray connection time to land, then check there was none.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(target.connections(), 0);
});

test('a disallowed mirror is skipped: only allowed endpoints are contacted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registries-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await ImageStore.open(dir);
  const banned = await listener(t);
  const allowed = await listener(t);
  const registries = parseRegistries(
    `allow: ["127.0.0.1:${allowed.port}"]\nregistries: {example.com: {mirrors: ["http://127.0.0.1:${banned.port}", "http://127.0.0.1:${allowed.port}"]}}`,
  );
  await assert.rejects(pullImage(store, 'example.com/app:1', { registries, timeoutMs: 2000 }), (err: unknown) => {
    assert.ok(err instanceof PullError);
    assert.equal(err.reason, 'Failed');
    assert.match(err.message, /^failed to pull and unpack image "example.com\/app:1": failed to resolve reference "example.com\/app:1": failed to do request/);
    return true;
  });
  assert.equal(banned.connections(), 0);
  assert.equal(allowed.connections(), 1);
});

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(parseChallenge('Bearer realm=http://x/token, error="insufficient_scope"'), {
    scheme: 'bearer',
    params: { realm: 'http://x/token', error: 'insufficient_scope' },
  });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
});

test('an index resolves to the node platform', () => {
  const d = (architecture: string, variant?: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${architecture}${variant ?? ''}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const index = { schemaVersion: 2 as const, manifests: [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), d('s390x')] };
  assert.equal(selectPlatform(index, nodePlatform('x64'))?.digest, 'sha256:amd64');
  assert.equal(selectPlatform(index, nodePlatform('arm64'))?.digest, 'sha256:arm64v8');
  assert.equal(selectPlatform(index, nodePlatform('arm'))?.digest, 'sha256:armv7');
  // arm64 images often name no variant; armv7 runs armv6 images.
  assert.equal(selectPlatform({ schemaVersion: 2, manifests: [d('arm64')] }, nodePlatform('arm64'))?.digest, 'sha256:arm64');
  assert.equal(selectPlatform({ schemaVersion: 2, manifests: [d('arm', 'v6'), d('arm', 'v8')] }, nodePlatform('arm'))?.digest, 'sha256:armv6');
  assert.equal(selectPlatform({ schemaVersion: 2, manifests: [d('amd64')] }, nodePlatform('ppc64')), undefined);
});

test('imagePullPolicy: defaults and decisions', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
  assert.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`busybox@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
  assert.deepEqual(decidePull('busybox', undefined, true), { action: 'pull' });
  assert.deepEqual(decidePull('busybox:1.36', undefined, true), { action: 'use' });
  assert.deepEqual(decidePull('busybox:1.36', undefined, false), { action: 'pull' });
  assert.deepEqual(decidePull('busybox:1.36', 'Always', true), { action: 'pull' });
  assert.deepEqual(decidePull('busybox', 'IfNotPresent', true), { action: 'use' });
  assert.deepEqual(decidePull('busybox:1.36', 'Never', true), { action: 'use' });
  assert.deepEqual(decidePull('busybox:1.36', 'Never', false), {
    action: 'fail',
    reason: 'ErrImageNeverPull',
    message: 'Container image "busybox:1.36" is not present with pull policy of Never',
  });
});
