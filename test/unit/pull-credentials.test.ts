import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from '../../src/api/core/secrets.js';
import { pullSecretCredentials, registryHost } from '../../src/node/images/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, type: string, key: string, value: object): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default' },
  type,
  data: { [key]: b64(JSON.stringify(value)) },
});

test('registry hosts: URLs and Docker Hub names', () => {
  assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(registryHost('registry-1.docker.io'), 'docker.io');
  assert.equal(registryHost('LOCALHOST:5000/team'), 'localhost:5000');
  assert.equal(registryHost('http://127.0.0.1:5000'), '127.0.0.1:5000');
});

test('dockerconfigjson and dockercfg secrets give credentials per host; the first secret wins', () => {
  const creds = pullSecretCredentials([
    secret('a', 'kubernetes.io/dockerconfigjson', '.dockerconfigjson', {
      auths: { '127.0.0.1:5000': { username: 'u', password: 'p:w' }, 'https://index.docker.io/v1/': { auth: b64('hub:secret:x') } },
    }),
    secret('b', 'kubernetes.io/dockercfg', '.dockercfg', { '127.0.0.1:5000': { auth: b64('other:pw') }, 'quay.io': { auth: b64('q:r') } }),
    secret('c', 'Opaque', 'x', {}),
  ]);
  assert.deepEqual(creds, {
    '127.0.0.1:5000': { username: 'u', password: 'p:w' },
    'docker.io': { username: 'hub', password: 'secret:x' },
    'quay.io': { username: 'q', password: 'r' },
  });
});

test('unreadable secrets and entries are skipped', () => {
  const broken: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{not json') } };
  const noAuth = secret('y', 'kubernetes.io/dockerconfigjson', '.dockerconfigjson', { auths: { 'a.io': { email: 'e' }, 'b.io': { auth: b64('nocolon') } } });
  assert.deepEqual(pullSecretCredentials([broken, noAuth]), {});
});
