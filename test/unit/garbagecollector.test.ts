import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type GraphNode, type OwnerState } from '../../src/controllers/garbagecollector/decide.js';

const ref = (name: string, uid = `uid-${name}`) => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name, uid });
const node = (name: string, extra: Partial<GraphNode> = {}): GraphNode => ({
  ref: ref(name),
  owners: [],
  deleting: false,
  finalizers: [],
  ...extra,
});
const owner = (name: string, block = false) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: `uid-${name}`, blockOwnerDeletion: block });
const states = (m: Record<string, OwnerState>) => (uid: string) => m[uid] ?? 'present';

test('an object whose owners are all gone is deleted', () => {
  const pod = node('web-0', { owners: [owner('web')] });
  assert.deepEqual(decide(pod, states({ 'uid-web': 'absent' }), []), [
    { type: 'delete', target: pod.ref, propagationPolicy: 'Background' },
  ]);
});

test('references to some gone owners are removed, the object stays', () => {
  const pod = node('p', { owners: [owner('a'), owner('b')] });
  assert.deepEqual(decide(pod, states({ 'uid-a': 'absent' }), []), [
    { type: 'removeOwnerReferences', target: pod.ref, ownerUids: ['uid-a'] },
  ]);
});

test('objects with live owners, and objects already being deleted, are left alone', () => {
  assert.deepEqual(decide(node('p', { owners: [owner('a')] }), states({}), []), []);
  assert.deepEqual(decide(node('p', { owners: [owner('a')], deleting: true }), states({ 'uid-a': 'absent' }), []), []);
});

test('orphaning removes the owner from dependents before the finalizer goes', () => {
  const sts = node('web', { deleting: true, finalizers: ['orphan'] });
  const dep = node('web-0', { owners: [owner('web')] });
  assert.deepEqual(decide(sts, states({}), [dep]), [
    { type: 'removeOwnerReferences', target: dep.ref, ownerUids: ['uid-web'] },
  ]);
  assert.deepEqual(decide(sts, states({}), []), [{ type: 'removeFinalizer', target: sts.ref, finalizer: 'orphan' }]);
});

test('foreground deletion deletes dependents and waits for the blocking ones', () => {
  const sts = node('web', { ref: { ...ref('web'), uid: 'uid-web' }, deleting: true, finalizers: ['foregroundDeletion'] });
  const blocking = node('web-0', { owners: [owner('web', true)] });
  const loose = node('web-1', { owners: [owner('web', false)] });
  assert.deepEqual(decide(sts, states({}), [blocking, loose]), [
    { type: 'delete', target: blocking.ref, propagationPolicy: 'Foreground' },
    { type: 'delete', target: loose.ref, propagationPolicy: 'Foreground' },
  ]);
  const goingAway = { ...blocking, deleting: true };
  assert.deepEqual(decide(sts, states({}), [goingAway]), []);
  assert.deepEqual(decide(sts, states({}), [{ ...loose, deleting: true }]), [
    { type: 'removeFinalizer', target: sts.ref, finalizer: 'foregroundDeletion' },
  ]);
});
