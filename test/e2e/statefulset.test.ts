// The StatefulSet controller against a real `berth up --runtime simulated`,
// driven by the real kubectl, covering what the Kubernetes e2e StatefulSet
// suite checks: identity, storage identity, ordered and parallel scaling,
// failed pods, adoption and release, the scale subresource, retention
// policies and start ordinals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  claims,
  eventually,
  getSet,
  names,
  orderOf,
  pods,
  readyPods,
  recordPodEvents,
  rolloutStatus,
  setManifest,
  setSuite,
  simulate,
  sleep,
  waitingCondition,
} from '../helpers/statefulset.js';

const suite = setSuite('sts');
const namespace = () => suite.namespace();

describe('StatefulSet', () => {
  test('basic identity: names, hostnames, claims, stable across pod deletion', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web'));
    assert.match(rolloutStatus(suite.b, ns, 'web'), /partitioned roll out complete: 3 new pods have been updated/);
    const first = await readyPods(suite.b, ns, 'web', 3);
    assert.deepEqual(names(first), ['web-0', 'web-1', 'web-2']);
    for (const [i, p] of first.entries()) {
      assert.equal(p.hostname, p.name);
      assert.equal(p.subdomain, 'web-svc');
      assert.equal(p.labels['statefulset.kubernetes.io/pod-name'], p.name);
      assert.equal(p.labels['apps.kubernetes.io/pod-index'], String(i));
      assert.equal(p.owner, 'web');
      assert.deepEqual(p.claims, [`www-web-${i}`]);
    }
    const claimsBefore = claims(suite.b, ns);
    assert.deepEqual(names(claimsBefore), ['www-web-0', 'www-web-1', 'www-web-2']);

    suite.b.k(['delete', 'pod', 'web-1', '-n', ns, '--wait=false']);
    const again = await eventually('web-1 re-created and ready', () => {
      const p = pods(suite.b, ns, 'web').find((x) => x.name === 'web-1');
      return p && p.uid !== first[1].uid && p.ready && p;
    });
    assert.deepEqual(again.claims, ['www-web-1']);
    assert.deepEqual(claims(suite.b, ns), claimsBefore, 'the same claims, not new ones');

    const describe = suite.b.k(['describe', 'sts', 'web', '-n', ns]);
    assert.match(describe, /create Claim www-web-0 Pod web-0 in StatefulSet web success/);
    assert.match(describe, /create Pod web-1 in StatefulSet web successful/);
    assert.match(describe, /Pods Status:\s+3 Running/);
    // Claims reach the scheduler no later than their pods: no pod ever waited for one.
    assert.equal(suite.b.k(['get', 'events', '-n', ns, '--field-selector', 'reason=FailedScheduling', '-o', 'name']), '');
  });

  test('OrderedReady: scale up in order, each after its predecessor is Ready; scale down from the highest', async () => {
    const ns = namespace();
    const rec = recordPodEvents(suite.client, ns);
    await rec.ready;
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3 }));
    await readyPods(suite.b, ns, 'web', 3);
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=5']);
    await readyPods(suite.b, ns, 'web', 5);
    await rec.settle();
    assert.deepEqual(orderOf(rec.events, 'ADDED'), ['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
    // Each pod is created only after the one before it was seen Ready.
    for (let i = 1; i < 5; i++) {
      const created = rec.events.findIndex((e) => e.type === 'ADDED' && e.name === `web-${i}`);
      const readyBefore = rec.events.findIndex((e) => e.name === `web-${i - 1}` && e.ready);
      assert.ok(readyBefore >= 0 && readyBefore < created, `web-${i} created before web-${i - 1} was ready`);
    }
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=2']);
    await readyPods(suite.b, ns, 'web', 2);
    await eventually('all three deleted', () => orderOf(rec.events, 'DELETED').length === 3);
    rec.stop();
    assert.deepEqual(orderOf(rec.events, 'DELETED'), ['web-4', 'web-3', 'web-2']);
    assert.equal(getSet(suite.b, ns, 'web').status.replicas, 2);
  });

  test('scaling halts while a pod is unready under OrderedReady, and resumes when it is ready', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3 }));
    await readyPods(suite.b, ns, 'web', 3);
    const unready = async (pod: string) => {
      simulate(suite.b, ns, pod, 'unready');
      await eventually(`${pod} unready`, () => !pods(suite.b, ns, 'web').find((p) => p.name === pod)!.ready);
    };
    await unready('web-1');
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=5']);
    await sleep(1500);
    assert.deepEqual(names(pods(suite.b, ns, 'web')), ['web-0', 'web-1', 'web-2'], 'no pod created while web-1 is unready');
    const cond = waitingCondition(suite.b, ns, 'web');
    assert.equal(cond?.status, 'True');
    assert.match(cond!.message, /web-1/);
    simulate(suite.b, ns, 'web-1', 'ready');
    await readyPods(suite.b, ns, 'web', 5);
    // Scaling down halts too while a pod that stays is unready (as in Kubernetes, an unready pod
    // that is itself scaled away does not block).
    await unready('web-0');
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=2']);
    await sleep(1500);
    assert.equal(pods(suite.b, ns, 'web').length, 5, 'no pod deleted while web-0 is unready');
    simulate(suite.b, ns, 'web-0', 'ready');
    await readyPods(suite.b, ns, 'web', 2);
  });

  test('Parallel: pods are created and deleted without waiting on each other', async () => {
    const ns = namespace();
    const rec = recordPodEvents(suite.client, ns);
    await rec.ready;
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'par', { replicas: 4, policy: 'Parallel', simulate: 'unready' }));
    const all = await eventually('four pods, all unready', () => {
      const ps = pods(suite.b, ns, 'par');
      return ps.length === 4 && ps.every((p) => p.phase === 'Running' && !p.ready) && ps;
    });
    assert.deepEqual(names(all), ['par-0', 'par-1', 'par-2', 'par-3']);
    suite.b.k(['scale', 'sts', 'par', '-n', ns, '--replicas=1']);
    await eventually('scaled down to one while all are unready', () => pods(suite.b, ns, 'par').length === 1);
    await rec.settle();
    rec.stop();
    assert.equal(new Set(orderOf(rec.events, 'DELETED')).size, 3);
  });

  test('no deadlock when a pod\'s predecessor fails', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2 }));
    await readyPods(suite.b, ns, 'web', 2);
    simulate(suite.b, ns, 'web-1', 'unready');
    await eventually('web-1 unready', () => !pods(suite.b, ns, 'web').find((p) => p.name === 'web-1')!.ready);
    const old = pods(suite.b, ns, 'web')[0];
    suite.b.k(['delete', 'pod', 'web-0', '-n', ns, '--wait=false']);
    await eventually('web-0 re-created while web-1 is unready', () => {
      const p = pods(suite.b, ns, 'web').find((x) => x.name === 'web-0');
      return p && p.uid !== old.uid && p.ready;
    });
    simulate(suite.b, ns, 'web-1', 'ready');
    await readyPods(suite.b, ns, 'web', 2);
  });

  test('a Failed pod is deleted and re-created', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2 }));
    const before = await readyPods(suite.b, ns, 'web', 2);
    simulate(suite.b, ns, 'web-0', 'fail');
    await eventually('web-0 re-created', () => {
      const p = pods(suite.b, ns, 'web').find((x) => x.name === 'web-0');
      return p && p.uid !== before[0].uid && p.ready;
    });
    assert.match(suite.b.k(['describe', 'sts', 'web', '-n', ns]), /RecreatingFailedPod .*StatefulSet \S+\/web is recreating failed Pod web-0/s);
  });

  test('adopts matching orphans and releases pods whose labels stop matching', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 1 }));
    const [pod] = await readyPods(suite.b, ns, 'web', 1);
    suite.b.k(['patch', 'pod', 'web-0', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]']);
    await eventually('web-0 re-adopted', () => {
      const p = pods(suite.b, ns, 'web')[0];
      return p.owner === 'web' && p.uid === pod.uid;
    });
    suite.b.k(['label', 'pod', 'web-0', '-n', ns, 'app=released', '--overwrite']);
    await eventually('web-0 released', () => {
      const p = JSON.parse(suite.b.k(['get', 'pod', 'web-0', '-n', ns, '-o', 'json']));
      return (p.metadata.ownerReferences ?? []).length === 0;
    });
    suite.b.k(['label', 'pod', 'web-0', '-n', ns, 'app=web', '--overwrite']);
    await eventually('web-0 adopted again', () => pods(suite.b, ns, 'web')[0]?.owner === 'web');
    assert.equal(pods(suite.b, ns, 'web')[0].uid, pod.uid);
  });

  test('the scale subresource reflects the set', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2, claims: false }));
    await readyPods(suite.b, ns, 'web', 2);
    await eventually('status.replicas 2', () => getSet(suite.b, ns, 'web').status.readyReplicas === 2);
    const scale = JSON.parse(suite.b.k(['get', '--raw', `/apis/apps/v1/namespaces/${ns}/statefulsets/web/scale`]));
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 2);
    assert.equal(scale.status.replicas, 2);
    assert.equal(scale.status.selector, 'app=web');
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":3}}']);
    await readyPods(suite.b, ns, 'web', 3);
  });

  test('retention policy: whenDeleted=Delete and whenScaled=Retain', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3, retention: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
    await readyPods(suite.b, ns, 'web', 3);
    await eventually('claims owned by the set', () => claims(suite.b, ns).every((c) => c.owners.includes('StatefulSet/web')));
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=1']);
    await readyPods(suite.b, ns, 'web', 1);
    await sleep(500);
    assert.deepEqual(names(claims(suite.b, ns)), ['www-web-0', 'www-web-1', 'www-web-2'], 'scaling down keeps the claims');
    suite.b.k(['delete', 'sts', 'web', '-n', ns]);
    await eventually('claims deleted with the set', () => claims(suite.b, ns).length === 0);
  });

  test('retention policy: whenDeleted=Retain and whenScaled=Delete', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3, retention: { whenDeleted: 'Retain', whenScaled: 'Delete' } }));
    await readyPods(suite.b, ns, 'web', 3);
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=1']);
    await readyPods(suite.b, ns, 'web', 1);
    await eventually('claims of scaled-away pods deleted', () => names(claims(suite.b, ns)).join() === 'www-web-0');
    // Scaling up again makes fresh claims.
    suite.b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=2']);
    await readyPods(suite.b, ns, 'web', 2);
    assert.deepEqual(names(claims(suite.b, ns)), ['www-web-0', 'www-web-1']);
    suite.b.k(['delete', 'sts', 'web', '-n', ns]);
    await eventually('pods gone', () => pods(suite.b, ns, 'web').length === 0);
    assert.deepEqual(names(claims(suite.b, ns)), ['www-web-0', 'www-web-1'], 'deleting the set keeps the claims');
  });

  test('a non-zero start ordinal, then changing it', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2, startOrdinal: 5 }));
    assert.deepEqual(names(await readyPods(suite.b, ns, 'web', 2)), ['web-5', 'web-6']);
    assert.deepEqual(names(claims(suite.b, ns)), ['www-web-5', 'www-web-6']);
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"ordinals":{"start":3}}}']);
    await eventually('pods web-3 and web-4', () => names(pods(suite.b, ns, 'web')).join() === 'web-3,web-4' && pods(suite.b, ns, 'web').every((p) => p.ready));
  });
});
