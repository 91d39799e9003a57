// StorageClasses and claims through the real kubectl: the classes `berth up` provides, the
// DefaultStorageClass and PersistentVolumeClaimResize admission plugins.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type Berth } from '../helpers/berth.js';
import { eventually } from '../helpers/statefulset.js';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loopDevicesAvailable } from '../../src/volumes/loop.js';

const loopAvailable = await loopDevicesAvailable();

const claim = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra },
  });

const classOf = (b: Berth, name: string) => b.k(['get', 'pvc', name, '-o', 'jsonpath={.spec.storageClassName}']);

describe('storage classes and claims', { timeout: 180_000 }, () => {
  let b: Berth;
  before(async () => {
    b = await startBerth();
  });
  after(async () => {
    await b?.stop();
  });

  test('berth up provides local-path as the default class, and berth-loop where loop devices work', async () => {
    const out = b.k(['get', 'storageclass']);
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\n/);
    assert.match(out, /\nlocal-path \(default\)\s+berth.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/);
    const loop = /\nberth-loop\s+berth.dev\/loop\s+Delete\s+WaitForFirstConsumer\s+true\s+/;
    if (await loopDevicesAvailable()) assert.match(out, loop);
    else assert.doesNotMatch(out, loop);
  });

  test('a claim without a class gets the default one; one naming "" keeps none', () => {
    b.k(['apply', '-f', '-'], claim('plain'));
    assert.equal(classOf(b, 'plain'), 'local-path');
    assert.match(b.k(['get', 'pvc', 'plain']), /\nplain\s+Pending\s+local-path\s+/);
    b.k(['apply', '-f', '-'], claim('none', { storageClassName: '' }));
    assert.equal(classOf(b, 'none'), '');
  });

  test('a claim grows only when its class allows volume expansion', async () => {
    // Immediate classes, so the claims are provisioned and bound without a pod.
    const sc = (name: string, allowVolumeExpansion: boolean) =>
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name },
        provisioner: 'berth.dev/local-path', allowVolumeExpansion, volumeBindingMode: 'Immediate',
      });
    b.k(['apply', '-f', '-'], sc('fixed-size', false));
    b.k(['apply', '-f', '-'], sc('expandable', true));
    b.k(['apply', '-f', '-'], claim('fixed', { storageClassName: 'fixed-size' }));
    b.k(['apply', '-f', '-'], claim('growing', { storageClassName: 'expandable' }));
    await eventually('both claims bound', () =>
      ['fixed', 'growing'].every((n) => b.k(['get', 'pvc', n, '-o', 'jsonpath={.status.phase}']) === 'Bound'),
    );
    const grow = (name: string) =>
      b.kubectl(['patch', 'pvc', name, '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
    const refused = grow('fixed');
    assert.notEqual(refused.status, 0);
    assert.match(
      refused.stderr,
      /Error from server \(Forbidden\): persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize/,
    );
    const grown = grow('growing');
    assert.equal(grown.status, 0, grown.stderr);
    assert.equal(b.k(['get', 'pvc', 'growing', '-o', 'jsonpath={.spec.resources.requests.storage}']), '2Gi');
  });

  test('a loop-backed claim is an ext4 image of exactly its size, and grows with the claim', { skip: !loopAvailable }, async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'loop-now' },
      provisioner: 'berth.dev/loop', allowVolumeExpansion: true, volumeBindingMode: 'Immediate',
    }));
    b.k(['apply', '-f', '-'], claim('image', { storageClassName: 'loop-now', resources: { requests: { storage: '64Mi' } } }));
    const pv = await eventually('claim bound', () => b.k(['get', 'pvc', 'image', '-o', 'jsonpath={.spec.volumeName}']) || undefined);
    const image = join(b.dataDir, 'volumes', `${pv}.img`);
    // What the host's filesystem tools say about the image: its size, and its ext4 block count and size.
    const fsBytes = () => {
      const out = execFileSync('dumpe2fs', ['-h', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const count = Number(/Block count:\s+(\d+)/.exec(out)![1]);
      const size = Number(/Block size:\s+(\d+)/.exec(out)![1]);
      return count * size;
    };
    assert.equal(statSync(image).size, 64 * 2 ** 20);
    assert.equal(fsBytes(), 64 * 2 ** 20);
    b.k(['patch', 'pvc', 'image', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"96Mi"}}}}']);
    await eventually('claim capacity 96Mi', () => b.k(['get', 'pvc', 'image', '-o', 'jsonpath={.status.capacity.storage}']) === '96Mi');
    assert.equal(b.k(['get', 'pv', pv, '-o', 'jsonpath={.spec.capacity.storage}']), '96Mi');
    assert.equal(statSync(image).size, 96 * 2 ** 20);
    assert.equal(fsBytes(), 96 * 2 ** 20);
    assert.match(b.k(['describe', 'pvc', 'image']), /VolumeResizeSuccessful/);
    b.k(['delete', 'pvc', 'image']);
    await eventually('image removed with its claim', () => !existsSync(image));
  });

  test('a ReadWriteOncePod claim serves one pod; a second waits with a clear event', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'dir-now' },
      provisioner: 'berth.dev/local-path', volumeBindingMode: 'Immediate',
    }));
    b.k(['apply', '-f', '-'], claim('solo', { storageClassName: 'dir-now', accessModes: ['ReadWriteOncePod'] }));
    const user = (name: string) =>
      JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'solo' } }] },
      });
    b.k(['apply', '-f', '-'], user('first'));
    b.k(['wait', '--for=condition=Ready', 'pod/first', '--timeout=30s']);
    b.k(['apply', '-f', '-'], user('second'));
    await eventually('second pod refused', () =>
      /FailedScheduling .*node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode/.test(b.k(['describe', 'pod', 'second'])),
    );
    assert.equal(b.k(['get', 'pod', 'second', '-o', 'jsonpath={.status.phase}']), 'Pending');
    b.k(['delete', 'pod', 'first']);
    b.k(['wait', '--for=condition=Ready', 'pod/second', '--timeout=30s']);
  });

  test('a class of any name works with berth\'s provisioner; one no provisioner serves leaves its claims Pending, saying why', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' },
      provisioner: 'berth.dev/local-path', volumeBindingMode: 'Immediate',
    }));
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'glusterfs' },
      provisioner: 'kubernetes.io/glusterfs', parameters: { resturl: 'http://127.0.0.1:8081' },
    }));
    b.k(['apply', '-f', '-'], claim('std', { storageClassName: 'standard' }));
    b.k(['apply', '-f', '-'], claim('gluster', { storageClassName: 'glusterfs' }));
    await eventually('standard claim bound', () => b.k(['get', 'pvc', 'std', '-o', 'jsonpath={.status.phase}']) === 'Bound');
    await eventually('glusterfs claim says why it waits', () =>
      /ExternalProvisioning .*Waiting for a volume to be created either by the external provisioner 'kubernetes.io\/glusterfs' or manually by the system administrator/s.test(
        b.k(['describe', 'pvc', 'gluster']),
      ),
    );
    assert.equal(b.k(['get', 'pvc', 'gluster', '-o', 'jsonpath={.status.phase}']), 'Pending');
  });

  test('existing classes are left as they are on restart', async () => {
    b.k(['annotate', 'storageclass', 'local-path', 'storageclass.kubernetes.io/is-default-class-']);
    await b.restart();
    assert.match(b.k(['get', 'storageclass', 'local-path']), /\nlocal-path\s+berth.dev\/local-path\s+/);
    b.k(['apply', '-f', '-'], claim('after-restart'));
    assert.equal(classOf(b, 'after-restart'), '');
  });
});

describe('berth up --no-default-storage-class', { timeout: 180_000 }, () => {
  let b: Berth;
  before(async () => {
    b = await startBerth({ args: ['--no-default-storage-class'] });
  });
  after(async () => {
    await b?.stop();
  });

  test('local-path exists but is not the default, so claims without a class get none', () => {
    assert.match(b.k(['get', 'storageclass']), /\nlocal-path\s+berth.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+/);
    b.k(['apply', '-f', '-'], claim('plain'));
    assert.equal(classOf(b, 'plain'), '');
    assert.match(b.k(['get', 'pvc', 'plain']), /\nplain\s+Pending\s+/);
  });
});
