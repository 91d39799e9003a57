// StatefulSet updates against a real `berth up --runtime simulated`, driven by
// the real kubectl: rolling update and rollback with and without claims,
// canary and phased rollouts with partition, OnDelete, maxUnavailable,
// `kubectl rollout` (status, history, undo, restart), and the three things
// berth does beyond Kubernetes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  claims,
  eventually,
  getSet,
  orderOf,
  pods,
  readyPods,
  recordPodEvents,
  rolloutStatus,
  setManifest,
  setSuite,
  sleep,
  waitingCondition,
} from '../helpers/statefulset.js';

const suite = setSuite('roll');
const namespace = () => suite.namespace();

const setImage = (ns: string, name: string, image: string) => suite.b.k(['set', 'image', `sts/${name}`, `nginx=${image}`, '-n', ns]);
const images = (ns: string, name: string) => pods(suite.b, ns, name).map((p) => `${p.name}=${p.image}`);

describe('StatefulSet updates', () => {
  for (const withClaims of [true, false])
    test(`rolling update from the highest ordinal, then rollback (${withClaims ? 'with' : 'without'} claims)`, async () => {
      const ns = namespace();
      suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3, claims: withClaims }));
      const first = await readyPods(suite.b, ns, 'web', 3);
      const rev1 = getSet(suite.b, ns, 'web').status.updateRevision;
      const claimsBefore = claims(suite.b, ns);
      const rec = recordPodEvents(suite.client, ns);
      await rec.ready;
      setImage(ns, 'web', 'nginx:1.26');
      assert.match(rolloutStatus(suite.b, ns, 'web'), /partitioned roll out complete: 3 new pods have been updated/);
      const updated = await readyPods(suite.b, ns, 'web', 3, 'nginx:1.26');
      const status = getSet(suite.b, ns, 'web').status;
      assert.notEqual(status.updateRevision, rev1);
      assert.equal(status.currentRevision, status.updateRevision);
      assert.ok(updated.every((p) => p.revision === status.updateRevision));
      await rec.settle();
      assert.deepEqual(orderOf(rec.events, 'DELETED'), ['web-2', 'web-1', 'web-0']);
      rec.stop();
      assert.deepEqual(claims(suite.b, ns), claimsBefore, 'claims survive the update');
      assert.ok(updated.every((p, i) => p.uid !== first[i].uid));

      const history = suite.b.k(['rollout', 'history', 'sts/web', '-n', ns]);
      assert.match(history, /REVISION\s+CHANGE-CAUSE\s+1\s+<none>\s+2\s+<none>/);
      suite.b.k(['rollout', 'undo', 'sts/web', '-n', ns]);
      rolloutStatus(suite.b, ns, 'web');
      await readyPods(suite.b, ns, 'web', 3, 'nginx:1.25');
      const back = getSet(suite.b, ns, 'web').status;
      assert.equal(back.updateRevision, rev1, 'a rollback reuses the earlier revision');
      assert.match(suite.b.k(['rollout', 'history', 'sts/web', '-n', ns]), /\s2\s+<none>\s+3\s+<none>/);
      assert.equal(JSON.parse(suite.b.k(['get', 'controllerrevisions', '-n', ns, '-o', 'json'])).items.length, 2);
    });

  test('canary and phased rollout with partition; a deleted pod returns at its ordinal\'s revision', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    await readyPods(suite.b, ns, 'web', 3);
    setImage(ns, 'web', 'nginx:1.26');
    await eventually('canary web-2 updated', () => images(ns, 'web').join() === 'web-0=nginx:1.25,web-1=nginx:1.25,web-2=nginx:1.26' && pods(suite.b, ns, 'web').every((p) => p.ready));
    assert.match(rolloutStatus(suite.b, ns, 'web'), /partitioned roll out complete: 1 new pods have been updated/);
    // Below the partition a deleted pod comes back at the current revision, above it at the update revision.
    suite.b.k(['delete', 'pod', 'web-1', 'web-2', '-n', ns, '--wait=false']);
    await sleep(300);
    await readyPods(suite.b, ns, 'web', 3);
    assert.deepEqual(images(ns, 'web'), ['web-0=nginx:1.25', 'web-1=nginx:1.25', 'web-2=nginx:1.26']);
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}']);
    await eventually('phase 2: web-1 updated', () => images(ns, 'web').join() === 'web-0=nginx:1.25,web-1=nginx:1.26,web-2=nginx:1.26');
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    await readyPods(suite.b, ns, 'web', 3, 'nginx:1.26');
    await eventually('current revision is the update revision', () => {
      const s = getSet(suite.b, ns, 'web').status;
      return s.currentRevision === s.updateRevision && s.currentReplicas === 3;
    });
  });

  test('OnDelete replaces only the pods the user deletes', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3, updateStrategy: { type: 'OnDelete' } }));
    await readyPods(suite.b, ns, 'web', 3);
    setImage(ns, 'web', 'nginx:1.26');
    await sleep(1500);
    assert.deepEqual(images(ns, 'web'), ['web-0=nginx:1.25', 'web-1=nginx:1.25', 'web-2=nginx:1.25']);
    suite.b.k(['delete', 'pod', 'web-1', '-n', ns, '--wait=false']);
    await eventually('web-1 at the new template', () => images(ns, 'web').join() === 'web-0=nginx:1.25,web-1=nginx:1.26,web-2=nginx:1.25' && pods(suite.b, ns, 'web').every((p) => p.ready));
  });

  test('maxUnavailable: two pods are taken down at once', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 4, claims: false, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
    await readyPods(suite.b, ns, 'web', 4);
    const rec = recordPodEvents(suite.client, ns);
    await rec.ready;
    setImage(ns, 'web', 'nginx:1.26');
    await readyPods(suite.b, ns, 'web', 4, 'nginx:1.26');
    await rec.settle();
    rec.stop();
    // The first two deletions come before any replacement is Ready.
    const firstTwo = rec.events.filter((e) => e.type === 'DELETED').slice(0, 2).map((e) => e.name);
    assert.deepEqual(firstTwo.sort(), ['web-2', 'web-3']);
    const secondDelete = rec.events.findIndex((e) => e.type === 'DELETED' && e.name === firstTwo[1]);
    const firstReadyNew = rec.events.findIndex((e) => e.type !== 'DELETED' && e.ready && (e.name === 'web-2' || e.name === 'web-3') && !e.terminating);
    assert.ok(secondDelete < firstReadyNew, 'both went down before either came back');
  });

  test('kubectl rollout restart re-creates every pod', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2 }));
    const before_ = await readyPods(suite.b, ns, 'web', 2);
    suite.b.k(['rollout', 'restart', 'sts/web', '-n', ns]);
    rolloutStatus(suite.b, ns, 'web');
    const after_ = await eventually('both pods re-created', () => {
      const ps = pods(suite.b, ns, 'web');
      return ps.length === 2 && ps.every((p, i) => p.ready && p.uid !== before_[i].uid) && ps;
    });
    assert.equal(after_.length, 2);
  });

  test('berth: a rollout stuck on a broken pod recovers when the template is rolled back', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 3 }));
    await readyPods(suite.b, ns, 'web', 3);
    // The broken template: its pods cannot pull their image.
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '--type=merge', '-p', JSON.stringify({
      spec: { template: { metadata: { annotations: { 'berth.dev/simulate': 'imagepullerror' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:does-not-exist' }] } } },
    })]);
    const cond = await eventually('the set says why it waits', () => {
      const c = waitingCondition(suite.b, ns, 'web');
      return c?.reason === 'ImagePullFailing' && c;
    });
    assert.equal(cond.status, 'True');
    assert.match(cond.message, /web-2/);
    assert.match(suite.b.k(['describe', 'sts', 'web', '-n', ns]), /ImagePullFailing/);
    suite.b.k(['rollout', 'undo', 'sts/web', '-n', ns]);
    // Kubernetes would wait here forever until someone deletes web-2 by hand.
    rolloutStatus(suite.b, ns, 'web');
    await readyPods(suite.b, ns, 'web', 3, 'nginx:1.25');
    await eventually('Waiting condition cleared', () => {
      const c = waitingCondition(suite.b, ns, 'web');
      return c?.status === 'False' && c.reason === 'Converged';
    });
  });

  test('berth: a crash-looping rollout recovers when the template is fixed forward', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2, claims: false }));
    await readyPods(suite.b, ns, 'web', 2);
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '--type=merge', '-p', JSON.stringify({
      spec: { template: { metadata: { annotations: { 'berth.dev/simulate': 'crashloop' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } },
    })]);
    await eventually('CrashLooping', () => waitingCondition(suite.b, ns, 'web')?.reason === 'CrashLooping');
    suite.b.k(['patch', 'sts', 'web', '-n', ns, '--type=merge', '-p', JSON.stringify({
      spec: { template: { metadata: { annotations: { 'berth.dev/simulate': 'ready' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
    })]);
    rolloutStatus(suite.b, ns, 'web');
    await readyPods(suite.b, ns, 'web', 2, 'nginx:1.27');
  });

  test('berth: the set says why it is waiting when a pod cannot be scheduled', async () => {
    const ns = namespace();
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2, claims: false, nodeSelector: { disk: 'ssd' } }));
    const cond = await eventually('PodNotScheduled', () => {
      const c = waitingCondition(suite.b, ns, 'web');
      return c?.reason === 'PodNotScheduled' && c;
    });
    assert.match(cond.message, /pod web-0 cannot be scheduled: 0\/1 nodes are available/);
    assert.match(suite.b.k(['get', 'sts', 'web', '-n', ns, '-o', 'yaml']), /reason: PodNotScheduled/);
  });

  test('berth: volumeClaimTemplates grow, and every claim of the set grows with them', async () => {
    const ns = namespace();
    // Claims grow only in a class that allows expansion (PersistentVolumeClaimResize): berth-loop does.
    suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2, storage: '64Mi', storageClassName: 'berth-loop' }));
    await readyPods(suite.b, ns, 'web', 2);
    await eventually('claims bound', () => {
      const list = JSON.parse(suite.b.k(['get', 'pvc', '-n', ns, '-o', 'json'])).items;
      return list.length === 2 && list.every((c: any) => c.status.phase === 'Bound');
    });
    const grow = (size: string) =>
      suite.b.kubectl(['patch', 'sts', 'web', '-n', ns, '--type=json', '-p', JSON.stringify([
        { op: 'replace', path: '/spec/volumeClaimTemplates/0/spec/resources/requests/storage', value: size },
      ])]);
    const grown = grow('128Mi');
    assert.equal(grown.status, 0, grown.stderr);
    await eventually('claims grown to 128Mi', () => claims(suite.b, ns).every((c) => c.storage === '128Mi'));
    // ... and their volumes with them (the loop provisioner grows image and filesystem).
    await eventually('volumes grown to 128Mi', () =>
      suite.b.k(['get', 'pvc', '-n', ns, '-o', 'jsonpath={.items[*].status.capacity.storage}']) === '128Mi 128Mi',
    );
    const shrink = grow('64Mi');
    assert.notEqual(shrink.status, 0);
    assert.match(shrink.stderr, /spec.volumeClaimTemplates\[0\].spec.resources.requests.storage: Forbidden: may not be decreased/);
    const other = suite.b.kubectl(['patch', 'sts', 'web', '-n', ns, '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/volumeClaimTemplates/0/spec/accessModes', value: ['ReadWriteOncePod'] },
    ])]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /updates to volumeClaimTemplates are forbidden except increasing resources.requests.storage/);
  });
});
