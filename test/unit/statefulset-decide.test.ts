import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decide,
  READINESS_GRACE_MS,
  WAITING_CONDITION,
  type Action,
  type Decision,
} from '../../src/controllers/statefulset/decide.js';
import {
  newPod,
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  REVISION_LABEL,
  type Claim,
  type OwnerReference,
  type Pod,
  type StatefulSet,
} from '../../src/controllers/statefulset/identity.js';
import {
  HASH_LABEL,
  newRevision,
  revisionData,
  revisionHash,
  revisionName,
  type ControllerRevision,
} from '../../src/controllers/statefulset/revision.js';
import { nowTimestamp } from '../../src/machinery/objects.js';

// --- fixtures ----------------------------------------------------------------------------

const NS = 'ns';
const SET_UID = 'uid-web';
/** A whole second, so nowTimestamp() round trips exactly. */
const T0 = Date.parse('2024-05-01T12:00:00Z');
const LONG_AGO = T0 - 3_600_000;

type Spec = NonNullable<StatefulSet['spec']>;
type ClaimTemplate = NonNullable<Spec['volumeClaimTemplates']>[number];

/** A StatefulSet with the defaults the API server applies. */
function makeSet(spec: Partial<Spec> = {}, meta: Partial<StatefulSet['metadata']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: NS, uid: SET_UID, generation: 1, ...meta },
    spec: {
      replicas: 3,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'web' } },
      serviceName: 'nginx',
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] },
      },
      ...spec,
    },
  };
}

function claimTemplate(name = 'data', storage = '1Gi', labels?: Record<string, string>): ClaimTemplate {
  return {
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  };
}

interface PodOpts {
  uid?: string;
  phase?: string;
  ready?: boolean;
  /** When the Ready condition last changed (ms). */
  readySince?: number;
  terminating?: boolean;
}

/** `pod` as the API server and kubelet show it: a uid, a phase and a Ready condition. */
function observe(pod: Pod, o: PodOpts = {}): Pod {
  const p = structuredClone(pod);
  p.metadata.uid = o.uid ?? `uid-${p.metadata.name}`;
  if (o.terminating) p.metadata.deletionTimestamp = nowTimestamp(T0 - 1000);
  const phase = o.phase ?? 'Running';
  const ready = o.ready ?? phase === 'Running';
  p.status = {
    phase,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: nowTimestamp(o.readySince ?? LONG_AGO) }],
  };
  return p;
}

function member(set: StatefulSet, ordinal: number, revision: string, o: PodOpts = {}): Pod {
  return observe(newPod(set, ordinal, revision), o);
}

function observedClaim(name: string, o: { storage?: string; owners?: OwnerReference[]; terminating?: boolean } = {}): Claim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels: { app: 'web' },
      ...(o.owners ? { ownerReferences: o.owners } : {}),
      ...(o.terminating ? { deletionTimestamp: nowTimestamp(T0 - 1000) } : {}),
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.storage ?? '1Gi' } } },
    status: { phase: 'Bound' },
  };
}

const setOwner = (): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: SET_UID });
const podOwner = (name: string, uid = `uid-${name}`): OwnerReference => ({ apiVersion: 'v1', kind: 'Pod', name, uid });

/** The ControllerRevision a set's template gets (collision count 0). */
function revisionOfSet(set: StatefulSet, number: number): ControllerRevision {
  const data = revisionData(set);
  return newRevision(set, data, revisionHash(data, 0), number);
}

function withImage(set: StatefulSet, image: string): StatefulSet {
  const s = structuredClone(set);
  s.spec!.template.spec!.containers[0].image = image;
  s.metadata.generation = (s.metadata.generation ?? 1) + 1;
  return s;
}

interface World {
  set: StatefulSet;
  pods: Pod[];
  claims: Map<string, Claim>;
  revisions: ControllerRevision[];
  now: number;
}

function world(set: StatefulSet, parts: Partial<Omit<World, 'set'>> = {}): World {
  return { set, pods: [], claims: new Map(), revisions: [], now: T0, ...parts };
}

function run(w: World): Decision {
  return decide({ set: w.set, pods: w.pods, claims: w.claims, revisions: w.revisions, now: w.now });
}

function clone(w: World): World {
  return {
    set: structuredClone(w.set),
    pods: w.pods.map((p) => structuredClone(p)),
    claims: new Map([...w.claims].map(([k, v]) => [k, structuredClone(v)])),
    revisions: w.revisions.map((r) => structuredClone(r)),
    now: w.now,
  };
}

let uidSeq = 0;

/**
 * Applies a decision to the world as the actor and the API server would: pods are created Pending,
 * deleted pods vanish (or, with `graceful`, start terminating), the status is written.
 */
function apply(w0: World, d: Decision, o: { graceful?: boolean } = {}): World {
  const w = clone(w0);
  const podNamed = (name: string) => w.pods.find((p) => p.metadata.name === name);
  for (const a of d.actions) {
    switch (a.type) {
      case 'createRevision':
        w.revisions.push(structuredClone(a.revision));
        break;
      case 'renumberRevision':
        w.revisions.find((r) => r.metadata.name === a.name)!.revision = a.revision;
        break;
      case 'deleteRevision':
        w.revisions = w.revisions.filter((r) => r.metadata.name !== a.name);
        break;
      case 'adoptPod': {
        const p = podNamed(a.pod.metadata.name!)!;
        p.metadata.ownerReferences = [
          ...(p.metadata.ownerReferences ?? []),
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: SET_UID, controller: true, blockOwnerDeletion: true },
        ];
        break;
      }
      case 'releasePod': {
        const p = podNamed(a.pod.metadata.name!)!;
        p.metadata.ownerReferences = (p.metadata.ownerReferences ?? []).filter((r) => r.uid !== SET_UID);
        break;
      }
      case 'setClaimOwners':
        w.claims.get(a.claim.metadata.name!)!.metadata.ownerReferences = structuredClone(a.ownerReferences);
        break;
      case 'resizeClaim':
        w.claims.get(a.claim.metadata.name!)!.spec!.resources!.requests!.storage = a.storage;
        break;
      case 'createClaim': {
        const c = structuredClone(a.claim);
        c.metadata.uid = `uid-${c.metadata.name}-${++uidSeq}`;
        c.status = { phase: 'Bound' };
        w.claims.set(c.metadata.name!, c);
        break;
      }
      case 'deletePod':
        if (o.graceful) podNamed(a.pod.metadata.name!)!.metadata.deletionTimestamp = nowTimestamp(w.now);
        else w.pods = w.pods.filter((p) => p.metadata.uid !== a.pod.metadata.uid);
        break;
      case 'createPod': {
        assert.ok(!podNamed(a.pod.metadata.name!), `${a.pod.metadata.name} created while it still exists`);
        const p = structuredClone(a.pod);
        p.metadata.uid = `uid-${p.metadata.name}-${++uidSeq}`;
        p.status = { phase: 'Pending' };
        w.pods.push(p);
        break;
      }
      case 'labelPod': {
        const p = podNamed(a.pod.metadata.name!)!;
        p.metadata.labels = { ...(p.metadata.labels ?? {}), ...a.labels };
        break;
      }
      case 'event':
        break;
    }
  }
  if (d.status) w.set.status = structuredClone(d.status);
  return w;
}

/** Makes pods Running and Ready (all of them, or those named), ready since long ago. */
function markReady(w0: World, names?: string[], since = LONG_AGO): World {
  const w = clone(w0);
  for (const p of w.pods) {
    if (names && !names.includes(p.metadata.name!)) continue;
    if (p.metadata.deletionTimestamp) continue;
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: nowTimestamp(since) }] };
  }
  return w;
}

function removePod(w0: World, name: string): World {
  const w = clone(w0);
  w.pods = w.pods.filter((p) => p.metadata.name !== name);
  return w;
}

function updatePod(w0: World, name: string, fn: (p: Pod) => void): World {
  const w = clone(w0);
  fn(w.pods.find((p) => p.metadata.name === name)!);
  return w;
}

function withSet(w0: World, fn: (s: StatefulSet) => void): World {
  const w = clone(w0);
  fn(w.set);
  return w;
}

const busy = (d: Decision) => d.actions.some((a) => a.type !== 'event');

/** Syncs, applies and makes every pod ready until nothing is left to do. */
function converge(w0: World, maxSteps = 60): World {
  let w = w0;
  for (let i = 0; i < maxSteps; i++) {
    const d = run(w);
    if (!busy(d) && !d.status) return w;
    w = markReady(apply(w, d));
  }
  throw new Error('did not converge');
}

function settled(set: StatefulSet, parts: Partial<Omit<World, 'set'>> = {}): World {
  return converge(world(set, parts));
}

const REVISION_ACTIONS = new Set<Action['type']>(['createRevision', 'renumberRevision', 'deleteRevision']);

function describeAction(a: Action): string {
  switch (a.type) {
    case 'createRevision':
      return `createRevision ${a.revision.metadata.name}`;
    case 'renumberRevision':
      return `renumberRevision ${a.name} ${a.revision}`;
    case 'deleteRevision':
      return `deleteRevision ${a.name}`;
    case 'adoptPod':
    case 'releasePod':
    case 'deletePod':
    case 'createPod':
    case 'labelPod':
      return `${a.type} ${a.pod.metadata.name}`;
    case 'setClaimOwners':
    case 'resizeClaim':
    case 'createClaim':
      return `${a.type} ${a.claim.metadata.name}`;
    case 'event':
      return `event ${a.eventType} ${a.reason}`;
  }
}

/** The pod, claim and ownership actions, in order. */
const ops = (d: Decision) => d.actions.filter((a) => a.type !== 'event' && !REVISION_ACTIONS.has(a.type)).map(describeAction);
const revisionOps = (d: Decision) => d.actions.filter((a) => REVISION_ACTIONS.has(a.type)).map(describeAction);
const events = (d: Decision) => d.actions.filter((a): a is Extract<Action, { type: 'event' }> => a.type === 'event');
const warnings = (d: Decision) => events(d).filter((e) => e.eventType === 'Warning').map((e) => e.reason);
function only<T extends Action['type']>(d: Decision, type: T): Extract<Action, { type: T }>[] {
  return d.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
}
const waiting = (d: Decision) => d.status?.conditions?.find((c) => c.type === WAITING_CONDITION);
const pod = (w: World, name: string) => w.pods.find((p) => p.metadata.name === name);
const names = (w: World) => w.pods.map((p) => p.metadata.name!).sort();

// --- identity ----------------------------------------------------------------------------

test('a new pod is named <set>-<ordinal> and carries the identity, hostname, subdomain and controller ref', () => {
  const d = run(world(makeSet({ replicas: 1 })));
  const [create] = only(d, 'createPod');
  const p = create.pod;
  assert.equal(p.metadata.name, 'web-0');
  assert.equal(p.metadata.namespace, NS);
  assert.deepEqual(p.metadata.labels, {
    app: 'web',
    [POD_NAME_LABEL]: 'web-0',
    [POD_INDEX_LABEL]: '0',
    [REVISION_LABEL]: d.status!.updateRevision,
  });
  assert.equal(p.metadata.labels![REVISION_LABEL], only(d, 'createRevision')[0].revision.metadata.name);
  assert.equal(p.spec!.hostname, 'web-0');
  assert.equal(p.spec!.subdomain, 'nginx');
  assert.deepEqual(p.metadata.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: SET_UID, controller: true, blockOwnerDeletion: true },
  ]);
  assert.deepEqual(p.spec!.containers, [{ name: 'nginx', image: 'nginx:1' }]);
});

test('spec.ordinals.start numbers the pods from start', () => {
  const w = settled(makeSet({ replicas: 2, ordinals: { start: 5 } }));
  assert.deepEqual(names(w), ['web-5', 'web-6']);
  assert.equal(pod(w, 'web-5')!.metadata.labels![POD_INDEX_LABEL], '5');
  assert.equal(pod(w, 'web-6')!.spec!.hostname, 'web-6');
  const first = run(world(makeSet({ replicas: 2, ordinals: { start: 5 } })));
  assert.deepEqual(ops(first), ['createPod web-5']);
});

test('changing spec.ordinals.start creates the new ordinals and condemns those out of range', () => {
  let w = settled(makeSet({ replicas: 2 }));
  assert.deepEqual(names(w), ['web-0', 'web-1']);
  w = withSet(w, (s) => {
    s.spec!.ordinals = { start: 1 };
    s.metadata.generation = 2;
  });
  const d1 = run(w);
  assert.deepEqual(ops(d1), ['createPod web-2'], 'the new ordinal comes first');
  w = markReady(apply(w, d1));
  const d2 = run(w);
  assert.deepEqual(ops(d2), ['deletePod web-0'], 'then the ordinal below start goes');
  w = converge(apply(w, d2));
  assert.deepEqual(names(w), ['web-1', 'web-2']);
});

// --- claims ------------------------------------------------------------------------------

test('a claim <template>-<set>-<ordinal> is created before its pod, with the selector labels', () => {
  const set = makeSet({ replicas: 1, volumeClaimTemplates: [claimTemplate('data', '1Gi', { tier: 'db' })] });
  const d = run(world(set));
  assert.deepEqual(ops(d), ['createClaim data-web-0', 'createPod web-0']);
  const [create] = only(d, 'createClaim');
  assert.equal(create.pod, 'web-0');
  assert.equal(create.claim.metadata.namespace, NS);
  assert.deepEqual(create.claim.metadata.labels, { tier: 'db', app: 'web' });
  assert.deepEqual(create.claim.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  assert.equal(create.claim.metadata.ownerReferences, undefined, 'Retain/Retain: no owners');
});

test('an existing claim is reused', () => {
  const set = makeSet({ replicas: 1, volumeClaimTemplates: [claimTemplate()] });
  const d = run(world(set, { claims: new Map([['data-web-0', observedClaim('data-web-0')]]) }));
  assert.deepEqual(ops(d), ['createPod web-0']);
});

test("the pod's volume references its claim and replaces a template volume of the same name", () => {
  const set = makeSet({ replicas: 1, volumeClaimTemplates: [claimTemplate()] });
  set.spec!.template.spec!.volumes = [
    { name: 'data', emptyDir: {} },
    { name: 'config', configMap: { name: 'cfg' } },
  ];
  const [create] = only(run(world(set)), 'createPod');
  const volumes = create.pod.spec!.volumes!;
  assert.equal(volumes.length, 2);
  assert.deepEqual(
    volumes.find((v) => v.name === 'data'),
    { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } },
  );
  assert.deepEqual(
    volumes.find((v) => v.name === 'config'),
    { name: 'config', configMap: { name: 'cfg' } },
  );
});

test('a Pending pod gets the claims it lacks', () => {
  const set = makeSet({ replicas: 1, volumeClaimTemplates: [claimTemplate()] });
  const rev = revisionOfSet(set, 1);
  const w = world(set, { revisions: [rev], pods: [member(set, 0, rev.metadata.name!, { phase: 'Pending' })] });
  assert.deepEqual(ops(run(w)), ['createClaim data-web-0']);
});

test('a claim being deleted blocks its pod (Waiting ClaimTerminating)', () => {
  const set = makeSet({ replicas: 2, volumeClaimTemplates: [claimTemplate()] });
  const w = world(set, { claims: new Map([['data-web-0', observedClaim('data-web-0', { terminating: true })]]) });
  const d = run(w);
  assert.deepEqual(ops(d), [], 'neither the pod nor a claim is created');
  const cond = waiting(d)!;
  assert.equal(cond.status, 'True');
  assert.equal(cond.reason, 'ClaimTerminating');
  assert.match(cond.message!, /\bweb-0\b/);
  assert.match(cond.message!, /data-web-0/);
});

test('a stale claim (owned by an earlier pod of the same name) blocks pod creation', () => {
  const set = makeSet({
    replicas: 1,
    volumeClaimTemplates: [claimTemplate()],
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
  });
  const stale = observedClaim('data-web-0', { owners: [podOwner('web-0', 'uid-of-an-earlier-web-0')] });
  const d = run(world(set, { claims: new Map([['data-web-0', stale]]) }));
  assert.deepEqual(ops(d), []);
  assert.equal(waiting(d)!.reason, 'ClaimTerminating');
  assert.match(waiting(d)!.message!, /\bweb-0\b/);
  // Once the garbage collector has deleted it, the pod and a fresh claim are created.
  assert.deepEqual(ops(run(world(set))), ['createClaim data-web-0', 'createPod web-0']);
});

// --- retention policy --------------------------------------------------------------------

test('whenDeleted=Delete makes the set an owner of new and existing claims', () => {
  const set = makeSet({
    replicas: 2,
    volumeClaimTemplates: [claimTemplate()],
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
  });
  const [create] = only(run(world(set)), 'createClaim');
  assert.deepEqual(create.claim.metadata.ownerReferences, [setOwner()]);

  // A claim from before the policy changed gets the reference once its pod is up.
  const rev = revisionOfSet(set, 1);
  const w = world(set, {
    revisions: [rev],
    pods: [member(set, 0, rev.metadata.name!), member(set, 1, rev.metadata.name!)],
    claims: new Map([
      ['data-web-0', observedClaim('data-web-0')],
      ['data-web-1', observedClaim('data-web-1', { owners: [setOwner()] })],
    ]),
  });
  const d = run(w);
  assert.deepEqual(ops(d), ['setClaimOwners data-web-0']);
  assert.deepEqual(only(d, 'setClaimOwners')[0].ownerReferences, [setOwner()]);
});

test('whenScaled=Delete makes a condemned pod the owner of its claims before the pod is deleted', () => {
  const set = makeSet({
    replicas: 3,
    volumeClaimTemplates: [claimTemplate()],
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
  });
  let w = settled(set);
  assert.deepEqual([...w.claims.keys()].sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
  w = withSet(w, (s) => (s.spec!.replicas = 2));
  const d = run(w);
  assert.deepEqual(ops(d), ['setClaimOwners data-web-2', 'deletePod web-2']);
  const web2 = pod(w, 'web-2')!;
  assert.deepEqual(only(d, 'setClaimOwners')[0].ownerReferences, [podOwner('web-2', web2.metadata.uid)]);
});

test('Retain/Retain removes retention owner references and keeps other owners', () => {
  const set = makeSet({ replicas: 2, volumeClaimTemplates: [claimTemplate()] });
  const rev = revisionOfSet(set, 1);
  const other: OwnerReference = { apiVersion: 'example.com/v1', kind: 'Backup', name: 'nightly', uid: 'uid-backup' };
  const w = world(set, {
    revisions: [rev],
    pods: [member(set, 0, rev.metadata.name!), member(set, 1, rev.metadata.name!), member(set, 2, rev.metadata.name!)],
    claims: new Map([
      ['data-web-0', observedClaim('data-web-0', { owners: [setOwner(), other] })],
      ['data-web-1', observedClaim('data-web-1')],
      ['data-web-2', observedClaim('data-web-2', { owners: [podOwner('web-2')] })],
    ]),
  });
  const d = run(w);
  assert.deepEqual(ops(d), ['setClaimOwners data-web-0', 'setClaimOwners data-web-2', 'deletePod web-2']);
  const [own0, own2] = only(d, 'setClaimOwners');
  assert.deepEqual(own0.ownerReferences, [other]);
  assert.deepEqual(own2.ownerReferences, []);
});

test('both Delete: claims in range belong to the set, a condemned pod\'s claims to the pod alone', () => {
  const set = makeSet({
    replicas: 3,
    volumeClaimTemplates: [claimTemplate()],
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
  });
  let w = settled(set);
  for (const c of w.claims.values()) assert.deepEqual(c.metadata.ownerReferences, [setOwner()]);
  w = withSet(w, (s) => (s.spec!.replicas = 2));
  const d = run(w);
  assert.deepEqual(ops(d), ['setClaimOwners data-web-2', 'deletePod web-2']);
  assert.deepEqual(only(d, 'setClaimOwners')[0].ownerReferences, [podOwner('web-2', pod(w, 'web-2')!.metadata.uid)]);
});

// --- OrderedReady ------------------------------------------------------------------------

test('OrderedReady creates only web-0 first', () => {
  const d = run(world(makeSet({ replicas: 3 })));
  assert.deepEqual(ops(d), ['createPod web-0']);
  assert.equal(d.status!.replicas, 0);
});

test('OrderedReady creates web-1 only once web-0 is Running and Ready', () => {
  let w = apply(world(makeSet({ replicas: 3 })), run(world(makeSet({ replicas: 3 }))));
  assert.deepEqual(names(w), ['web-0']);
  assert.deepEqual(ops(run(w)), [], 'web-0 is Pending');
  w = updatePod(w, 'web-0', (p) => (p.status = observe(p, { phase: 'Running', ready: false, readySince: T0 }).status));
  assert.deepEqual(ops(run(w)), [], 'web-0 is Running but not Ready');
  w = markReady(w);
  assert.deepEqual(ops(run(w)), ['createPod web-1']);
});

test('OrderedReady with minReadySeconds waits for availability and requeues', () => {
  const set = makeSet({ replicas: 2, minReadySeconds: 30 });
  const rev = revisionOfSet(set, 1);
  const w = world(set, { revisions: [rev], pods: [member(set, 0, rev.metadata.name!, { readySince: T0 - 10_000 })] });
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.equal(d.requeueAfterMs, 20_000);
  assert.equal(d.status!.readyReplicas, 1);
  assert.equal(d.status!.availableReplicas, 0);
  assert.equal(waiting(d)!.reason, 'WaitingForAvailability');
  const later = run({ ...w, now: T0 + 20_000 });
  assert.deepEqual(ops(later), ['createPod web-1']);
  assert.equal(later.status!.availableReplicas, 1);
});

test('OrderedReady scales down from the highest ordinal, one pod at a time', () => {
  let w = settled(makeSet({ replicas: 4 }));
  w = withSet(w, (s) => (s.spec!.replicas = 2));
  const d1 = run(w);
  assert.deepEqual(ops(d1), ['deletePod web-3']);
  w = apply(w, d1, { graceful: true });
  const d2 = run(w);
  assert.deepEqual(ops(d2), [], 'waits for web-3 to terminate');
  assert.equal(waiting(d2)!.reason, 'PodTerminating');
  assert.match(waiting(d2)!.message!, /web-3/);
  w = removePod(w, 'web-3');
  assert.deepEqual(ops(run(w)), ['deletePod web-2']);
});

test('OrderedReady does not scale down while a remaining pod is unhealthy', () => {
  let w = settled(makeSet({ replicas: 3 }));
  w = withSet(w, (s) => (s.spec!.replicas = 2));
  w = updatePod(w, 'web-0', (p) => (p.status = observe(p, { ready: false }).status));
  assert.deepEqual(ops(run(w)), []);
  w = markReady(w);
  assert.deepEqual(ops(run(w)), ['deletePod web-2']);
});

test('OrderedReady deletes an unhealthy condemned pod when it is the first unhealthy one', () => {
  let w = settled(makeSet({ replicas: 3 }));
  w = withSet(w, (s) => (s.spec!.replicas = 2));
  w = updatePod(w, 'web-2', (p) => (p.status = observe(p, { ready: false }).status));
  assert.deepEqual(ops(run(w)), ['deletePod web-2']);
});

test('OrderedReady: a terminating pod blocks progress', () => {
  const set = makeSet({ replicas: 2 });
  const rev = revisionOfSet(set, 1);
  const w = world(set, { revisions: [rev], pods: [member(set, 0, rev.metadata.name!, { terminating: true })] });
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.equal(waiting(d)!.reason, 'PodTerminating');
  assert.match(waiting(d)!.message!, /web-0/);
});

test('a Failed pod is deleted and recreated, with Kubernetes\' RecreatingFailedPod event', () => {
  let w = settled(makeSet({ replicas: 2 }));
  const old = pod(w, 'web-0')!;
  w = updatePod(w, 'web-0', (p) => (p.status = { ...p.status, phase: 'Failed' }));
  const d = run(w);
  const ev = events(d).find((e) => e.reason === 'RecreatingFailedPod');
  assert.deepEqual(ev, {
    type: 'event',
    eventType: 'Warning',
    reason: 'RecreatingFailedPod',
    message: 'StatefulSet ns/web is recreating failed Pod web-0',
  });
  const del = only(d, 'deletePod');
  assert.equal(del.length, 1);
  assert.equal(del[0].pod.metadata.uid, old.metadata.uid, 'the failed pod itself (its uid) is deleted');
  assert.ok(!ops(d).includes('deletePod web-1'));
  // The pod comes back (in this sync, after the deletion, or in the next one).
  const o = ops(d);
  if (o.includes('createPod web-0')) assert.ok(o.indexOf('deletePod web-0') < o.indexOf('createPod web-0'));
  w = apply(w, { actions: only(d, 'deletePod') });
  const recreated = o.includes('createPod web-0') ? d : run(w);
  const [create] = only(recreated, 'createPod');
  assert.equal(create.pod.metadata.name, 'web-0');
  assert.equal(create.pod.metadata.labels![REVISION_LABEL], w.set.status!.updateRevision);
});

test(
  'a Succeeded pod is recreated with a Normal RecreatingTerminatedPod event',
  () => {
    let w = settled(makeSet({ replicas: 1 }));
    w = updatePod(w, 'web-0', (p) => (p.status = { ...p.status, phase: 'Succeeded' }));
    const d = run(w);
    assert.ok(ops(d).includes('deletePod web-0'));
    assert.deepEqual(
      events(d).find((e) => e.reason === 'RecreatingTerminatedPod'),
      { type: 'event', eventType: 'Normal', reason: 'RecreatingTerminatedPod', message: 'StatefulSet ns/web is recreating terminated Pod web-0' },
    );
  },
);

test('no deadlock when a predecessor fails: with web-0 gone and web-1 unready, web-0 is recreated', () => {
  let w = settled(makeSet({ replicas: 2 }));
  w = removePod(w, 'web-0');
  w = updatePod(w, 'web-1', (p) => (p.status = observe(p, { ready: false }).status));
  assert.deepEqual(ops(run(w)), ['createPod web-0']);
});

// --- Parallel ----------------------------------------------------------------------------

test('Parallel creates every missing pod in one decision', () => {
  const set = makeSet({ replicas: 3, podManagementPolicy: 'Parallel', volumeClaimTemplates: [claimTemplate()] });
  const o = ops(run(world(set)));
  assert.deepEqual(o.filter((x) => x.startsWith('createPod')), ['createPod web-0', 'createPod web-1', 'createPod web-2']);
  for (const i of [0, 1, 2]) assert.ok(o.indexOf(`createClaim data-web-${i}`) < o.indexOf(`createPod web-${i}`));
});

test('Parallel scales down every condemned pod at once', () => {
  let w = settled(makeSet({ replicas: 4, podManagementPolicy: 'Parallel' }));
  w = withSet(w, (s) => (s.spec!.replicas = 1));
  assert.deepEqual(ops(run(w)), ['deletePod web-3', 'deletePod web-2', 'deletePod web-1']);
});

test('Parallel does not wait on unready or terminating pods', () => {
  const set = makeSet({ replicas: 4, podManagementPolicy: 'Parallel' });
  const rev = revisionOfSet(set, 1).metadata.name!;
  const w = world(set, {
    revisions: [revisionOfSet(set, 1)],
    pods: [member(set, 0, rev, { phase: 'Pending' }), member(set, 1, rev, { ready: false }), member(set, 2, rev, { terminating: true })],
  });
  assert.deepEqual(ops(run(w)), ['createPod web-3']);
  // and scales down even while pods are unready
  const down = withSet(w, (s) => (s.spec!.replicas = 1));
  assert.deepEqual(ops(run(down)), ['deletePod web-1']);
});

// --- revisions ---------------------------------------------------------------------------

test('the first sync creates revision 1, named <set>-<hash>, labelled and owned by the set', () => {
  const set = makeSet({ replicas: 1 });
  const d = run(world(set));
  const creates = only(d, 'createRevision');
  assert.equal(creates.length, 1);
  const r = creates[0].revision;
  const hash = revisionHash(revisionData(set), 0);
  assert.equal(r.metadata.name, `web-${hash}`);
  assert.equal(r.metadata.name, revisionName(set, hash));
  assert.equal(r.metadata.namespace, NS);
  assert.equal(r.revision, 1);
  assert.deepEqual(r.metadata.labels, { app: 'web', [HASH_LABEL]: hash });
  assert.deepEqual(r.metadata.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: SET_UID, controller: true, blockOwnerDeletion: true },
  ]);
  assert.deepEqual(r.data, { spec: { template: { ...set.spec!.template, $patch: 'replace' } } });
  assert.equal(d.status!.currentRevision, r.metadata.name);
  assert.equal(d.status!.updateRevision, r.metadata.name);
  assert.equal(d.status!.collisionCount, 0);
});

test(
  "a new revision carries the set's annotations (kubectl rollout history's CHANGE-CAUSE)",
  () => {
    const set = makeSet({ replicas: 1 }, { annotations: { 'kubernetes.io/change-cause': 'kubectl set image' } });
    const [create] = only(run(world(set)), 'createRevision');
    assert.equal(create.revision.metadata.annotations?.['kubernetes.io/change-cause'], 'kubectl set image');
  },
);

test('the same template makes no new revision', () => {
  const w = settled(makeSet({ replicas: 2 }));
  assert.equal(w.revisions.length, 1);
  const d = run(withSet(w, (s) => (s.spec!.replicas = 3)));
  assert.deepEqual(revisionOps(d), []);
  assert.deepEqual(ops(d), ['createPod web-2']);
});

test('a changed template makes revision 2, the update revision', () => {
  const w = settled(makeSet({ replicas: 2 }));
  const first = w.revisions[0];
  const set2 = withImage(w.set, 'nginx:2');
  const d = run({ ...w, set: set2 });
  const [create] = only(d, 'createRevision');
  assert.equal(create.revision.revision, 2);
  assert.equal(create.revision.metadata.name, revisionName(set2, revisionHash(revisionData(set2), 0)));
  assert.notEqual(create.revision.metadata.name, first.metadata.name);
  assert.equal(d.status!.updateRevision, create.revision.metadata.name);
  assert.equal(d.status!.currentRevision, first.metadata.name);
  assert.equal(d.status!.observedGeneration, set2.metadata.generation);
});

test('going back to an earlier template renumbers its revision (a rollback) instead of creating one', () => {
  let w = settled(makeSet({ replicas: 2 }));
  const r1 = w.revisions[0].metadata.name!;
  w = converge({ ...w, set: withImage(w.set, 'nginx:2') });
  assert.equal(w.revisions.length, 2);
  const r2 = w.set.status!.updateRevision!;
  assert.equal(w.set.status!.currentRevision, r2);
  const back = withImage(w.set, 'nginx:1');
  const d = run({ ...w, set: back });
  assert.deepEqual(revisionOps(d), [`renumberRevision ${r1} 3`]);
  assert.equal(d.status!.updateRevision, r1);
  assert.equal(d.status!.currentRevision, r2);
  assert.deepEqual(ops(d), ['deletePod web-1'], 'and the rollout back starts');
});

test('a hash collision (same name, other data) bumps collisionCount', () => {
  const set = makeSet({ replicas: 1 });
  const data = revisionData(set);
  const squatter = newRevision(withImage(set, 'other:1'), revisionData(withImage(set, 'other:1')), revisionHash(data, 0), 1);
  assert.equal(squatter.metadata.name, revisionName(set, revisionHash(data, 0)));
  const d = run(world(set, { revisions: [squatter] }));
  const [create] = only(d, 'createRevision');
  assert.equal(create.revision.metadata.name, revisionName(set, revisionHash(data, 1)));
  assert.equal(create.revision.revision, 2);
  assert.equal(d.status!.collisionCount, 1);
  assert.equal(d.status!.updateRevision, create.revision.metadata.name);
});

test('revisionHistoryLimit prunes the oldest unused revisions, never the current, update or a pod\'s', () => {
  const base = makeSet({ replicas: 1, revisionHistoryLimit: 1 });
  const revs = [1, 2, 3, 4, 5].map((n) => revisionOfSet(withImage(base, `nginx:${n}`), n));
  const set = withImage(base, 'nginx:5');
  set.status = { replicas: 1, currentRevision: revs[3].metadata.name };
  const w = world(set, {
    revisions: revs,
    pods: [member(withImage(base, 'nginx:1'), 0, revs[0].metadata.name!)],
  });
  const d = run(w);
  assert.equal(d.status!.updateRevision, revs[4].metadata.name);
  // unused: 2 and 3; one may stay: the oldest (2) goes.
  assert.deepEqual(revisionOps(d), [`deleteRevision ${revs[1].metadata.name}`]);
  const none = run({ ...w, set: { ...set, spec: { ...set.spec!, revisionHistoryLimit: 0 } } });
  assert.deepEqual(revisionOps(none), [`deleteRevision ${revs[1].metadata.name}`, `deleteRevision ${revs[2].metadata.name}`]);
});

// --- rolling update ----------------------------------------------------------------------

test('a rolling update replaces the highest outdated pod first, one at a time, waiting for each', () => {
  let w = settled(makeSet({ replicas: 3 }));
  const r1 = w.set.status!.currentRevision!;
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d1 = run(w);
  assert.deepEqual(ops(d1), ['deletePod web-2']);
  const r2 = d1.status!.updateRevision!;
  w = apply(w, d1, { graceful: true });
  assert.deepEqual(ops(run(w)), [], 'web-2 is terminating');
  w = removePod(w, 'web-2');
  const d3 = run(w);
  assert.deepEqual(ops(d3), ['createPod web-2']);
  const created = only(d3, 'createPod')[0].pod;
  assert.equal(created.metadata.labels![REVISION_LABEL], r2);
  assert.equal(created.spec!.containers[0].image, 'nginx:2');
  w = apply(w, d3);
  assert.deepEqual(ops(run(w)), [], 'waits for the new web-2 to be healthy');
  w = markReady(w);
  const d5 = run(w);
  assert.deepEqual(ops(d5), ['deletePod web-1']);
  assert.equal(d5.status!.currentRevision, r1);
  w = converge(apply(w, d5));
  for (const p of w.pods) {
    assert.equal(p.metadata.labels![REVISION_LABEL], r2);
    assert.equal(p.spec!.containers[0].image, 'nginx:2');
  }
  assert.equal(w.set.status!.currentRevision, r2);
  assert.equal(w.set.status!.currentReplicas, 3);
});

test('partition: ordinals below it keep the current revision', () => {
  let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  const r1 = w.set.status!.currentRevision!;
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d = run(w);
  assert.deepEqual(ops(d), ['deletePod web-2']);
  const r2 = d.status!.updateRevision!;
  w = converge(apply(w, d));
  assert.deepEqual(
    w.pods.map((p) => [p.metadata.name, p.metadata.labels![REVISION_LABEL]]).sort(),
    [['web-0', r1], ['web-1', r1], ['web-2', r2]],
  );
  assert.equal(w.set.status!.currentRevision, r1);
  assert.equal(w.set.status!.currentReplicas, 2);
  assert.equal(w.set.status!.updatedReplicas, 1);
});

test('partition: a pod recreated below it gets the current revision', () => {
  let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  const r1 = w.set.status!.currentRevision!;
  w = converge({ ...w, set: withImage(w.set, 'nginx:2') });
  w = removePod(w, 'web-0');
  const [create] = only(run(w), 'createPod');
  assert.equal(create.pod.metadata.name, 'web-0');
  assert.equal(create.pod.metadata.labels![REVISION_LABEL], r1);
});

test(
  "partition: a pod recreated below it gets the current revision's template",
  () => {
    let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    w = converge({ ...w, set: withImage(w.set, 'nginx:2') });
    w = removePod(w, 'web-0');
    const [create] = only(run(w), 'createPod');
    assert.equal(create.pod.spec!.containers[0].image, 'nginx:1');
  },
);

test('OnDelete deletes nothing, but a deleted pod comes back at the update revision', () => {
  let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'OnDelete' } }));
  const r1 = w.set.status!.currentRevision!;
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d = run(w);
  assert.deepEqual(ops(d), []);
  const r2 = d.status!.updateRevision!;
  assert.notEqual(r2, r1);
  w = removePod(apply(w, d), 'web-1');
  const [create] = only(run(w), 'createPod');
  assert.equal(create.pod.metadata.name, 'web-1');
  assert.equal(create.pod.metadata.labels![REVISION_LABEL], r2);
  assert.equal(create.pod.spec!.containers[0].image, 'nginx:2');
  w = converge(w);
  assert.equal(w.set.status!.updatedReplicas, 1);
  assert.equal(w.set.status!.currentRevision, r1, 'OnDelete never completes a rolling update');
});

test('maxUnavailable=2 replaces two pods at once', () => {
  let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }));
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d = run(w);
  assert.deepEqual(ops(d), ['deletePod web-2', 'deletePod web-1']);
  w = apply(w, d, { graceful: true });
  assert.deepEqual(ops(run(w)), []);
  // A percentage is scaled and rounded up: 50% of 3 is 2.
  let p = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } } }));
  p = { ...p, set: withImage(p.set, 'nginx:2') };
  assert.deepEqual(ops(run(p)), ['deletePod web-2', 'deletePod web-1']);
});

test('status.currentRevision becomes the update revision once all replicas are updated and ready', () => {
  const set1 = makeSet({ replicas: 2 });
  const r1 = revisionOfSet(set1, 1);
  const set2 = withImage(set1, 'nginx:2');
  const r2 = revisionOfSet(set2, 2);
  set2.status = { replicas: 2, currentRevision: r1.metadata.name, updateRevision: r2.metadata.name };
  const pods = [member(set2, 0, r2.metadata.name!), member(set2, 1, r2.metadata.name!, { ready: false })];
  const w = world(set2, { revisions: [r1, r2], pods });
  const notYet = run(w);
  assert.equal(notYet.status!.currentRevision, r1.metadata.name);
  assert.equal(notYet.status!.currentReplicas, 0);
  const done = run(markReady(w));
  assert.equal(done.status!.currentRevision, r2.metadata.name);
  assert.equal(done.status!.currentReplicas, 2);
  assert.equal(done.status!.updatedReplicas, 2);
});

// --- status ------------------------------------------------------------------------------

test('status counts replicas, ready, available, current and updated pods', () => {
  const set1 = makeSet({ replicas: 4, minReadySeconds: 10, podManagementPolicy: 'Parallel' });
  const r1 = revisionOfSet(set1, 1);
  const set2 = withImage(set1, 'nginx:2');
  set2.metadata.generation = 7;
  const r2 = revisionOfSet(set2, 2);
  set2.status = { replicas: 4, currentRevision: r1.metadata.name, updateRevision: r2.metadata.name };
  const w = world(set2, {
    revisions: [r1, r2],
    pods: [
      member(set1, 0, r1.metadata.name!), // ready and available, current
      member(set2, 1, r2.metadata.name!, { readySince: T0 - 5_000 }), // ready, not yet available
      member(set2, 2, r2.metadata.name!, { phase: 'Pending' }),
      member(set1, 3, r1.metadata.name!, { terminating: true }), // counted, but neither current nor updated
    ],
  });
  const s = run(w).status!;
  assert.equal(s.observedGeneration, 7);
  assert.equal(s.replicas, 4);
  assert.equal(s.readyReplicas, 3);
  assert.equal(s.availableReplicas, 2);
  assert.equal(s.currentReplicas, 1);
  assert.equal(s.updatedReplicas, 2);
  assert.equal(s.currentRevision, r1.metadata.name);
  assert.equal(s.updateRevision, r2.metadata.name);
  assert.equal(s.collisionCount, 0);
});

test('status is undefined (nothing to write) when nothing changed', () => {
  const w = settled(makeSet({ replicas: 3 }));
  const d = run(w);
  assert.equal(d.status, undefined);
  assert.deepEqual(d.actions, []);
  const bumped = run(withSet(w, (s) => (s.metadata.generation = 2)));
  assert.equal(bumped.status!.observedGeneration, 2);
});

test('status is undefined when the stored status lists its fields in another order', () => {
  const w = settled(makeSet({ replicas: 2 }));
  const reordered = withSet(w, (s) => {
    const st = s.status!;
    s.status = Object.fromEntries(Object.entries(st).reverse()) as typeof st;
  });
  assert.equal(run(reordered).status, undefined);
});

test(
  'status is undefined when the stored Waiting condition lists its fields in another order',
  () => {
    const w = settled(makeSet({ replicas: 2 }));
    const reordered = withSet(w, (s) => {
      s.status!.conditions = s.status!.conditions!.map((c) => Object.fromEntries(Object.entries(c).reverse()) as typeof c);
    });
    assert.equal(run(reordered).status, undefined);
  },
);

// --- adoption and release ----------------------------------------------------------------

test('an orphan pod named web-1 with matching labels is adopted', () => {
  const set = makeSet({ replicas: 2 });
  const rev = revisionOfSet(set, 1).metadata.name!;
  const orphan = member(set, 1, rev);
  delete orphan.metadata.ownerReferences;
  const w = world(set, { revisions: [revisionOfSet(set, 1)], pods: [member(set, 0, rev), orphan] });
  const d = run(w);
  assert.deepEqual(ops(d), ['adoptPod web-1']);
  assert.equal(only(d, 'adoptPod')[0].pod.metadata.uid, orphan.metadata.uid);
  assert.equal(d.status!.replicas, 2);
});

test('an adopted pod lacking identity labels gets them', () => {
  const set = makeSet({ replicas: 1 });
  const rev = revisionOfSet(set, 1);
  const orphan = member(set, 0, rev.metadata.name!);
  delete orphan.metadata.ownerReferences;
  delete orphan.metadata.labels![POD_INDEX_LABEL];
  const d = run(world(set, { revisions: [rev], pods: [orphan] }));
  assert.deepEqual(ops(d), ['adoptPod web-0', 'labelPod web-0']);
  assert.deepEqual(only(d, 'labelPod')[0].labels, { [POD_INDEX_LABEL]: '0' });
});

test('an owned pod whose labels no longer match the selector is released', () => {
  const set = makeSet({ replicas: 1 });
  const rev = revisionOfSet(set, 1);
  const p = member(set, 0, rev.metadata.name!);
  p.metadata.labels!.app = 'debugging';
  const d = run(world(set, { revisions: [rev], pods: [p] }));
  assert.ok(ops(d).includes('releasePod web-0'));
  assert.equal(d.status!.replicas, 0);
});

test('a pod owned by another controller is ignored', () => {
  const set = makeSet({ replicas: 2 });
  const rev = revisionOfSet(set, 1).metadata.name!;
  const foreign = member(set, 1, rev);
  foreign.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs', controller: true }];
  const d = run(world(set, { revisions: [revisionOfSet(set, 1)], pods: [member(set, 0, rev), foreign] }));
  assert.ok(!d.actions.some((a) => (a.type === 'adoptPod' || a.type === 'releasePod' || a.type === 'deletePod') && a.pod.metadata.name === 'web-1'));
  assert.equal(d.status!.replicas, 1);
});

test('a pod named other-0 is not adopted', () => {
  const set = makeSet({ replicas: 1 });
  const rev = revisionOfSet(set, 1);
  const stranger = observe({ ...newPod(set, 0, rev.metadata.name!), metadata: { name: 'other-0', namespace: NS, labels: { app: 'web' } } });
  const d = run(world(set, { revisions: [rev], pods: [stranger] }));
  assert.deepEqual(ops(d), ['createPod web-0']);
  assert.equal(d.status!.replicas, 0);
});

// --- berth differences -------------------------------------------------------------------

test('berth: after a template change, an unready outdated pod is replaced even under OrderedReady', () => {
  let w = settled(makeSet({ replicas: 3 }));
  w = updatePod(w, 'web-1', (p) => (p.status = observe(p, { ready: false }).status));
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d = run(w);
  assert.deepEqual(ops(d), ['deletePod web-1'], 'ready outdated pods (web-0, web-2) are left to the rolling order');
  const ev = events(d).find((e) => e.reason === 'ReplacingUnreadyPod')!;
  assert.equal(ev.eventType, 'Normal');
  assert.match(ev.message, /web-1/);
  // web-1 comes back at the update revision; the rollout then goes on from the top.
  w = apply(w, d);
  const d2 = run(w);
  assert.deepEqual(ops(d2), ['createPod web-1']);
  assert.equal(only(d2, 'createPod')[0].pod.metadata.labels![REVISION_LABEL], d.status!.updateRevision);
  w = markReady(apply(w, d2));
  assert.deepEqual(ops(run(w)), ['deletePod web-2']);
});

test(
  'berth: under Parallel, a pod replaced in step 1 is not deleted a second time by the rolling update',
  () => {
    const parallel = (extra: { maxUnavailable?: number } = {}) =>
      settled(makeSet({ replicas: 3, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, ...extra } } }));
    let w = updatePod(parallel(), 'web-2', (p) => (p.status = observe(p, { ready: false }).status));
    w = { ...w, set: withImage(w.set, 'nginx:2') };
    assert.deepEqual(ops(run(w)), ['deletePod web-2']);

    let f = updatePod(parallel(), 'web-2', (p) => (p.status = { ...p.status, phase: 'Failed' }));
    f = { ...f, set: withImage(f.set, 'nginx:2') };
    assert.equal(ops(run(f)).filter((x) => x === 'deletePod web-2').length, 1);

    let m = updatePod(parallel({ maxUnavailable: 2 }), 'web-2', (p) => (p.status = observe(p, { ready: false }).status));
    m = { ...m, set: withImage(m.set, 'nginx:2') };
    assert.equal(ops(run(m)).filter((x) => x === 'deletePod web-2').length, 1);
  },
);

test('berth: an unready pod is not replaced while the template is unchanged', () => {
  let w = settled(makeSet({ replicas: 3 }));
  w = updatePod(w, 'web-1', (p) => (p.status = observe(p, { ready: false }).status));
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.ok(!events(d).some((e) => e.reason === 'ReplacingUnreadyPod'));
});

test('berth: an unready outdated pod below the partition is not replaced', () => {
  let w = settled(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  w = updatePod(w, 'web-1', (p) => (p.status = observe(p, { ready: false }).status));
  w = { ...w, set: withImage(w.set, 'nginx:2') };
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.ok(!events(d).some((e) => e.reason === 'ReplacingUnreadyPod'));
  assert.equal(waiting(d)!.reason, 'ReadinessFailing');
});

test('berth: a claim smaller than its grown template is resized', () => {
  const set = makeSet({ replicas: 2, volumeClaimTemplates: [claimTemplate('data', '2Gi')] });
  const rev = revisionOfSet(set, 1);
  const w = world(set, {
    revisions: [rev],
    pods: [member(set, 0, rev.metadata.name!), member(set, 1, rev.metadata.name!)],
    claims: new Map([
      ['data-web-0', observedClaim('data-web-0', { storage: '1Gi' })],
      ['data-web-1', observedClaim('data-web-1', { storage: '4Gi' })],
    ]),
  });
  const d = run(w);
  assert.deepEqual(ops(d), ['resizeClaim data-web-0'], 'a larger claim is never shrunk');
  const [resize] = only(d, 'resizeClaim');
  assert.equal(resize.storage, '2Gi');
  assert.equal(resize.pod, 'web-0');
});

/** A settled two-replica set whose web-1 is then changed by `fn`. */
function blockedOnWeb1(fn: (p: Pod) => void): World {
  return updatePod(settled(makeSet({ replicas: 2 })), 'web-1', fn);
}

test('Waiting: PodNotScheduled', () => {
  const w = blockedOnWeb1((p) => {
    p.status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }],
    };
  });
  const d = run(w);
  const c = waiting(d)!;
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'PodNotScheduled');
  assert.match(c.message!, /web-1/);
  assert.match(c.message!, /Insufficient memory/);
  assert.deepEqual(warnings(d), ['PodNotScheduled']);
});

test('Waiting: ImagePullFailing', () => {
  const w = blockedOnWeb1((p) => {
    p.spec!.nodeName = 'node-1';
    p.status = {
      phase: 'Pending',
      containerStatuses: [
        { name: 'nginx', image: 'nginx:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:1"' } } },
      ],
    };
  });
  const d = run(w);
  assert.equal(waiting(d)!.reason, 'ImagePullFailing');
  assert.match(waiting(d)!.message!, /web-1/);
  assert.deepEqual(warnings(d), ['ImagePullFailing']);
});

test('Waiting: CrashLooping', () => {
  const w = blockedOnWeb1((p) => {
    p.spec!.nodeName = 'node-1';
    p.status = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: nowTimestamp(LONG_AGO) }],
      containerStatuses: [
        { name: 'nginx', image: 'nginx:1', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container' } } },
      ],
    };
  });
  const d = run(w);
  assert.equal(waiting(d)!.reason, 'CrashLooping');
  assert.match(waiting(d)!.message!, /web-1/);
  assert.deepEqual(warnings(d), ['CrashLooping']);
});

test('Waiting: ReadinessFailing once a Running pod stays unready past READINESS_GRACE_MS', () => {
  const w = blockedOnWeb1((p) => (p.status = observe(p, { ready: false, readySince: T0 - READINESS_GRACE_MS - 1000 }).status));
  const d = run(w);
  assert.equal(waiting(d)!.status, 'True');
  assert.equal(waiting(d)!.reason, 'ReadinessFailing');
  assert.match(waiting(d)!.message!, /web-1/);
  assert.deepEqual(warnings(d), ['ReadinessFailing']);
});

test('Waiting: PodStarting before READINESS_GRACE_MS, with a requeue at the deadline', () => {
  const w = blockedOnWeb1((p) => (p.status = observe(p, { ready: false, readySince: T0 - 3_000 }).status));
  const d = run(w);
  assert.equal(waiting(d)!.reason, 'PodStarting');
  assert.match(waiting(d)!.message!, /web-1/);
  assert.equal(d.requeueAfterMs, READINESS_GRACE_MS - 3_000);
  assert.deepEqual(warnings(d), [], 'starting is not a problem');
});

test(
  'Waiting: a pod that only just started running after a slow image pull is PodStarting, not ReadinessFailing',
  () => {
    const w = blockedOnWeb1((p) => {
      p.spec!.nodeName = 'node-1';
      p.status = {
        phase: 'Running',
        startTime: nowTimestamp(T0 - 60_000),
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: nowTimestamp(T0 - 60_000) }],
        containerStatuses: [
          { name: 'nginx', image: 'nginx:1', imageID: 'sha256:1', ready: false, restartCount: 0, started: true, state: { running: { startedAt: nowTimestamp(T0 - 2_000) } } },
        ],
      };
    });
    const d = run(w);
    assert.equal(waiting(d)!.reason, 'PodStarting');
    assert.deepEqual(warnings(d), []);
  },
);

test('Waiting: PodFailed', () => {
  const w = blockedOnWeb1((p) => (p.status = { ...p.status, phase: 'Failed', message: 'OOMKilled' }));
  const d = run(w);
  assert.equal(waiting(d)!.reason, 'PodFailed');
  assert.match(waiting(d)!.message!, /web-1/);
  assert.ok(warnings(d).includes('PodFailed'));
});

test('Waiting: ClaimTerminating names the pod, with a Warning event', () => {
  let w = settled(makeSet({ replicas: 2, volumeClaimTemplates: [claimTemplate()] }));
  w = removePod(w, 'web-1');
  w.claims.get('data-web-1')!.metadata.deletionTimestamp = nowTimestamp(T0);
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.equal(waiting(d)!.reason, 'ClaimTerminating');
  assert.match(waiting(d)!.message!, /pod web-1/);
  assert.deepEqual(
    events(d).map((e) => [e.eventType, e.reason, e.message]),
    [['Warning', 'ClaimTerminating', waiting(d)!.message]],
  );
});

test('Waiting: the Warning event is emitted only when the condition changes', () => {
  let w = blockedOnWeb1((p) => (p.status = observe(p, { ready: false }).status));
  const d1 = run(w);
  assert.deepEqual(warnings(d1), ['ReadinessFailing']);
  const since = waiting(d1)!.lastTransitionTime;
  w = apply({ ...w, now: T0 + 60_000 }, d1);
  const d2 = run(w);
  assert.deepEqual(warnings(d2), []);
  assert.equal(d2.status, undefined, 'the condition and its lastTransitionTime stay');
  // A different blocker is a change.
  w = updatePod(w, 'web-1', (p) => (p.status = { ...p.status, phase: 'Failed' }));
  assert.ok(warnings(run(w)).includes('PodFailed'));
  assert.equal(since, nowTimestamp(T0));
});

test('Waiting: False/Converged when every replica is ready at the update revision', () => {
  const w = settled(makeSet({ replicas: 2 }));
  const c = w.set.status!.conditions!.find((x) => x.type === WAITING_CONDITION)!;
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'Converged');
  // During a rollout it is not Converged.
  const d = run({ ...w, set: withImage(w.set, 'nginx:2') });
  assert.notEqual(waiting(d)!.reason, 'Converged');
});

// --- a set being deleted -----------------------------------------------------------------

test('a set being deleted only gets its status', () => {
  let w = settled(makeSet({ replicas: 3, volumeClaimTemplates: [claimTemplate()] }));
  w = withSet(w, (s) => {
    s.metadata.deletionTimestamp = nowTimestamp(T0);
    s.spec!.replicas = 4; // would create web-3
  });
  w = removePod(w, 'web-0'); // would recreate web-0
  w = updatePod(w, 'web-1', (p) => (p.status = { ...p.status, phase: 'Failed' })); // would replace web-1
  const orphan = member(w.set, 5, w.set.status!.updateRevision!);
  delete orphan.metadata.ownerReferences;
  w.pods.push(orphan); // would be adopted
  const d = run(w);
  assert.deepEqual(ops(d), []);
  assert.deepEqual(revisionOps(d), []);
  assert.equal(d.status!.replicas, 2);
});

test(
  'a set being deleted does not release pods that stopped matching',
  () => {
    let w = settled(makeSet({ replicas: 2 }));
    w = withSet(w, (s) => (s.metadata.deletionTimestamp = nowTimestamp(T0)));
    w = updatePod(w, 'web-1', (p) => (p.metadata.labels!.app = 'debugging'));
    assert.deepEqual(ops(run(w)), []);
  },
);
