import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  claimKey,
  decideClaim,
  decideVolume,
  findMatchingVolume,
  type Action,
  type BindAction,
  type Claim,
  type Volume,
} from '../../src/controllers/volume/decide.js';
import type { StorageClass } from '../../src/api/storage/storageclasses.js';

const NOW = Date.parse('2026-01-02T03:04:05Z');
const STAMP = '2026-01-02T03:04:05Z';

interface VolumeOpts {
  size?: string;
  cls?: string;
  modes?: string[];
  phase?: string;
  labels?: Record<string, string>;
  claimRef?: { namespace: string; name: string; uid?: string };
  volumeMode?: string;
  policy?: string;
  annotations?: Record<string, string>;
  nodeAffinity?: Volume['spec'] extends infer S ? (S extends { nodeAffinity?: infer A } ? A : never) : never;
  deleting?: boolean;
}

function pv(name: string, o: VolumeOpts = {}): Volume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      uid: `uid-${name}`,
      resourceVersion: '10',
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: STAMP } : {}),
    },
    spec: {
      capacity: { storage: o.size ?? '1Gi' },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      ...(o.cls ? { storageClassName: o.cls } : {}),
      ...(o.claimRef ? { claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', ...o.claimRef } } : {}),
      ...(o.volumeMode ? { volumeMode: o.volumeMode } : {}),
      persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
      ...(o.nodeAffinity ? { nodeAffinity: o.nodeAffinity } : {}),
      hostPath: { path: `/tmp/${name}` },
    },
    status: { phase: o.phase ?? 'Available' },
  };
}

interface ClaimOpts {
  size?: string;
  cls?: string;
  modes?: string[];
  selector?: NonNullable<Claim['spec']>['selector'];
  volumeMode?: string;
  volumeName?: string;
  annotations?: Record<string, string>;
  phase?: string;
  status?: Claim['status'];
}

function pvc(name: string, o: ClaimOpts = {}): Claim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '20', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: o.size ?? '1Gi' } },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.selector ? { selector: o.selector } : {}),
      ...(o.volumeMode ? { volumeMode: o.volumeMode } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
    status: o.status ?? { phase: o.phase ?? 'Pending' },
  };
}

function sc(name: string, provisioner: string, mode: 'Immediate' | 'WaitForFirstConsumer' = 'Immediate'): StorageClass {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode };
}

const names = (vs: Volume | undefined) => vs?.metadata.name;
const ofType = <T extends Action['type']>(actions: Action[], type: T) =>
  actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
const bindOf = (actions: Action[]): BindAction | undefined => ofType(actions, 'bind')[0];
const events = (actions: Action[]) => ofType(actions, 'event').map((e) => `${e.eventType} ${e.reason}: ${e.message}`);

// --- findMatchingVolume ------------------------------------------------------------

test('the smallest fitting volume wins', () => {
  const vols = [pv('big', { size: '10Gi' }), pv('small', { size: '500Mi' }), pv('fit', { size: '2Gi' }), pv('exact', { size: '1Gi' })];
  assert.equal(names(findMatchingVolume(pvc('c', { size: '1Gi' }), vols)), 'exact');
  assert.equal(names(findMatchingVolume(pvc('c', { size: '1500Mi' }), vols)), 'fit');
  assert.equal(findMatchingVolume(pvc('c', { size: '20Gi' }), vols), undefined);
});

test('among equal sizes the first name wins, whatever the list order', () => {
  const vols = [pv('b'), pv('a'), pv('c')];
  assert.equal(names(findMatchingVolume(pvc('x'), vols)), 'a');
  assert.equal(names(findMatchingVolume(pvc('x'), [...vols].reverse())), 'a');
});

test('a volume pre-bound to the claim by claimRef wins over smaller ones, whatever its class, labels or phase', () => {
  const claim = pvc('c', { size: '1Gi', selector: { matchLabels: { tier: 'fast' } } });
  const vols = [
    pv('small', { size: '1Gi', labels: { tier: 'fast' } }),
    pv('mine', { size: '50Gi', cls: 'other', phase: 'Pending', claimRef: { namespace: 'ns', name: 'c' } }),
  ];
  assert.equal(names(findMatchingVolume(claim, vols)), 'mine');
  // With this claim's uid too; another uid (an earlier claim of that name) is someone else's.
  vols[1].spec!.claimRef!.uid = 'uid-c';
  assert.equal(names(findMatchingVolume(claim, vols)), 'mine');
  vols[1].spec!.claimRef!.uid = 'uid-older';
  assert.equal(names(findMatchingVolume(claim, vols)), 'small');
});

test('a pre-bound volume still must hold the request (as Kubernetes)', () => {
  const vols = [pv('mine', { size: '1Gi', claimRef: { namespace: 'ns', name: 'c' } }), pv('other', { size: '5Gi' })];
  assert.equal(names(findMatchingVolume(pvc('c', { size: '2Gi' }), vols)), 'other');
});

test('volumes bound to other claims, not Available, or being deleted are skipped', () => {
  const claim = pvc('c');
  assert.equal(findMatchingVolume(claim, [pv('v', { claimRef: { namespace: 'ns', name: 'other', uid: 'u' } })]), undefined);
  assert.equal(findMatchingVolume(claim, [pv('v', { claimRef: { namespace: 'other', name: 'c' } })]), undefined);
  for (const phase of ['Released', 'Failed', 'Pending', 'Bound']) assert.equal(findMatchingVolume(claim, [pv('v', { phase })]), undefined);
  assert.equal(findMatchingVolume(claim, [pv('v', { deleting: true })]), undefined);
});

test("a claim with class '' never binds a classed volume; a classed claim only its class", () => {
  const vols = [pv('classed', { cls: 'fast', size: '1Gi' }), pv('plain', { size: '5Gi' })];
  assert.equal(names(findMatchingVolume(pvc('c', { cls: '' }), vols)), 'plain');
  assert.equal(names(findMatchingVolume(pvc('c'), vols)), 'plain');
  assert.equal(names(findMatchingVolume(pvc('c', { cls: 'fast' }), vols)), 'classed');
  assert.equal(findMatchingVolume(pvc('c', { cls: 'slow' }), vols), undefined);
  assert.equal(findMatchingVolume(pvc('c', { cls: '' }), [vols[0]]), undefined);
});

test('the claim selector filters on volume labels', () => {
  const vols = [pv('a', { labels: { tier: 'slow' } }), pv('b', { size: '2Gi', labels: { tier: 'fast', zone: 'x' } })];
  assert.equal(names(findMatchingVolume(pvc('c', { selector: { matchLabels: { tier: 'fast' } } }), vols)), 'b');
  const expr = { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fast'] }] };
  assert.equal(names(findMatchingVolume(pvc('c', { selector: expr }), vols)), 'a');
  assert.equal(findMatchingVolume(pvc('c', { selector: { matchLabels: { tier: 'gold' } } }), vols), undefined);
  // An empty selector takes every volume.
  assert.equal(names(findMatchingVolume(pvc('c', { selector: {} }), vols)), 'a');
});

test('access modes: the claim’s must all be offered; fewer offered modes are tried first', () => {
  const vols = [pv('rwo', { modes: ['ReadWriteOnce'] }), pv('rwx', { size: '5Gi', modes: ['ReadWriteMany', 'ReadOnlyMany'] })];
  assert.equal(names(findMatchingVolume(pvc('c', { modes: ['ReadWriteMany'] }), vols)), 'rwx');
  assert.equal(findMatchingVolume(pvc('c', { modes: ['ReadWriteOnce', 'ReadWriteMany'] }), vols), undefined);
  // RWO alone beats RWO+ROX even when larger, as the PV controller's access-mode index orders them.
  const ordered = [pv('two', { size: '1Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), pv('one', { size: '3Gi' })];
  assert.equal(names(findMatchingVolume(pvc('c'), ordered)), 'one');
});

test('volumeMode must be equal, Filesystem by default', () => {
  const vols = [pv('fs', { size: '1Gi' }), pv('block', { size: '2Gi', volumeMode: 'Block' })];
  assert.equal(names(findMatchingVolume(pvc('c', { volumeMode: 'Block' }), vols)), 'block');
  assert.equal(names(findMatchingVolume(pvc('c', { volumeMode: 'Filesystem' }), vols)), 'fs');
  assert.equal(names(findMatchingVolume(pvc('c'), [vols[1]])), undefined);
});

test('node affinity with a node: volumes that exclude the node are skipped', () => {
  const on = (host: string) => ({
    required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] },
  });
  const vols = [
    pv('elsewhere', { size: '1Gi', nodeAffinity: on('other') }),
    pv('here', { size: '2Gi', nodeAffinity: on('berth') }),
    pv('anywhere', { size: '3Gi' }),
  ];
  const node = { name: 'berth', labels: { 'kubernetes.io/hostname': 'berth', disk: 'ssd' } };
  assert.equal(names(findMatchingVolume(pvc('c'), vols, { node })), 'here');
  // Without a node affinity is not checked.
  assert.equal(names(findMatchingVolume(pvc('c'), vols)), 'elsewhere');
  const terms = (expr: { key: string; operator: string; values?: string[] }) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [expr] }] } });
  const only = (a: VolumeOpts['nodeAffinity']) => names(findMatchingVolume(pvc('c'), [pv('v', { nodeAffinity: a })], { node }));
  assert.equal(only(terms({ key: 'disk', operator: 'NotIn', values: ['hdd'] })), 'v');
  assert.equal(only(terms({ key: 'disk', operator: 'NotIn', values: ['ssd'] })), undefined);
  assert.equal(only(terms({ key: 'disk', operator: 'Exists' })), 'v');
  assert.equal(only(terms({ key: 'gpu', operator: 'Exists' })), undefined);
  assert.equal(only(terms({ key: 'gpu', operator: 'DoesNotExist' })), 'v');
  assert.equal(only(terms({ key: 'disk', operator: 'DoesNotExist' })), undefined);
  // Terms are ORed; an empty term matches nothing.
  assert.equal(only({ required: { nodeSelectorTerms: [{}] } }), undefined);
  assert.equal(only({ required: { nodeSelectorTerms: [{}, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['berth'] }] }] } }), 'v');
  // A pre-bound volume that excludes the node means no match at all.
  const prebound = pv('mine', { nodeAffinity: on('other'), claimRef: { namespace: 'ns', name: 'c' } });
  assert.equal(findMatchingVolume(pvc('c'), [prebound, pv('free')], { node }), undefined);
});

// --- decideClaim -------------------------------------------------------------------

test('an unbound claim binds to its match: claimRef, phases, annotations and status in one bind', () => {
  const claim = pvc('data', { size: '1Gi' });
  const vol = pv('pv1', { size: '2Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany'] });
  assert.deepEqual(decideClaim(claim, [vol], [], NOW), [
    {
      type: 'bind',
      volume: { kind: 'PersistentVolume', name: 'pv1', uid: 'uid-pv1', resourceVersion: '10' },
      claim: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'uid-data', resourceVersion: '20' },
      volumeUpdate: {
        claimRef: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'uid-data', apiVersion: 'v1', resourceVersion: '20' },
        annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' },
      },
      volumePhase: { phase: 'Bound', lastPhaseTransitionTime: STAMP },
      claimUpdate: {
        volumeName: 'pv1',
        annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes', 'pv.kubernetes.io/bind-completed': 'yes' },
      },
      claimStatus: { phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '2Gi' } },
    },
  ]);
});

test('binding a user pre-bound volume fills in the uid without claiming the binding for the controller', () => {
  const claim = pvc('data');
  const vol = pv('pv1', { phase: 'Available', claimRef: { namespace: 'ns', name: 'data' } });
  const b = bindOf(decideClaim(claim, [vol, pv('smaller', { size: '1Gi' })], [], NOW))!;
  assert.equal(b.volume.name, 'pv1');
  assert.equal(b.volumeUpdate?.claimRef.uid, 'uid-data');
  assert.deepEqual(b.volumeUpdate?.annotations, {});
  assert.equal(b.claimUpdate?.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
});

test('a fully bound pair decides nothing; a half-written bind is completed with only the missing parts', () => {
  const vol = pv('pv1', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'data', uid: 'uid-data' } });
  const bound = pvc('data', {
    volumeName: 'pv1',
    annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
  });
  assert.deepEqual(decideClaim(bound, [vol], [], NOW), []);
  // Capacity is compared as a quantity, not as text.
  bound.status!.capacity = { storage: '1024Mi' };
  assert.deepEqual(decideClaim(bound, [vol], [], NOW), []);
  // The volume's half was written, then the controller stopped.
  const half = pvc('data');
  const b = bindOf(decideClaim(half, [vol], [], NOW))!;
  assert.equal(b.volumeUpdate, undefined);
  assert.equal(b.volumePhase, undefined);
  assert.equal(b.claimUpdate?.volumeName, 'pv1');
  assert.equal(b.claimStatus?.phase, 'Bound');
});

test('two claims decided against the same snapshot pick the same volume: the effect layer’s resourceVersion precondition is what prevents double binding', () => {
  const vols = [pv('only')];
  const a = bindOf(decideClaim(pvc('a'), vols, [], NOW))!;
  const b = bindOf(decideClaim(pvc('b'), vols, [], NOW))!;
  assert.equal(a.volume.name, 'only');
  assert.equal(b.volume.name, 'only');
  // Both carry the snapshot's resourceVersion: the first claimRef write wins, the second conflicts.
  assert.equal(a.volume.resourceVersion, '10');
  assert.equal(b.volume.resourceVersion, '10');
  // After the first write lands, the next decision for b sees the volume taken.
  const taken = pv('only', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'a', uid: 'uid-a' } });
  assert.equal(bindOf(decideClaim(pvc('b'), [taken], [], NOW)), undefined);
});

test('WaitForFirstConsumer without a selected node waits (only a pre-bound volume binds)', () => {
  const classes = [sc('local', 'berth.dev/hostpath', 'WaitForFirstConsumer')];
  const claim = pvc('data', { cls: 'local' });
  const actions = decideClaim(claim, [pv('free', { cls: 'local' })], classes, NOW);
  assert.deepEqual(actions, [
    {
      type: 'event',
      object: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'uid-data', resourceVersion: '20' },
      eventType: 'Normal',
      reason: 'WaitForFirstConsumer',
      message: 'waiting for first consumer to be created before binding',
    },
  ]);
  const prebound = pv('mine', { cls: 'local', claimRef: { namespace: 'ns', name: 'data' } });
  assert.equal(bindOf(decideClaim(claim, [pv('free', { cls: 'local' }), prebound], classes, NOW))?.volume.name, 'mine');
});

test('WaitForFirstConsumer with a selected node binds a volume on that node, or provisions there', () => {
  const classes = [sc('local', 'berth.dev/hostpath', 'WaitForFirstConsumer')];
  const claim = pvc('data', { cls: 'local', annotations: { 'volume.kubernetes.io/selected-node': 'berth' } });
  const affinity = (host: string) => ({
    required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] },
  });
  const nodeLabels = (name: string) => (name === 'berth' ? { 'kubernetes.io/hostname': 'berth' } : undefined);
  const vols = [pv('there', { cls: 'local', nodeAffinity: affinity('other') }), pv('here', { cls: 'local', size: '2Gi', nodeAffinity: affinity('berth') })];
  assert.equal(bindOf(decideClaim(claim, vols, classes, NOW, { nodeLabels }))?.volume.name, 'here');
  const actions = decideClaim(claim, [vols[0]], classes, NOW, { nodeLabels });
  assert.deepEqual(
    ofType(actions, 'provision').map(({ storageClassName, provisioner, selectedNode }) => ({ storageClassName, provisioner, selectedNode })),
    [{ storageClassName: 'local', provisioner: 'berth.dev/hostpath', selectedNode: 'berth' }],
  );
});

test('a classed claim with no match is provisioned: the claim is annotated with its provisioner', () => {
  const classes = [sc('standard', 'berth.dev/hostpath')];
  const claim = pvc('data', { cls: 'standard' });
  const actions = decideClaim(claim, [pv('plain')], classes, NOW);
  assert.deepEqual(
    actions.map((a) => a.type),
    ['annotateClaim', 'provision', 'event'],
  );
  assert.deepEqual(ofType(actions, 'annotateClaim')[0].annotations, {
    'volume.kubernetes.io/storage-provisioner': 'berth.dev/hostpath',
    'volume.beta.kubernetes.io/storage-provisioner': 'berth.dev/hostpath',
  });
  const p = ofType(actions, 'provision')[0];
  assert.equal(p.provisioner, 'berth.dev/hostpath');
  assert.equal(p.selectedNode, undefined);
  assert.deepEqual(events(actions), [
    "Normal ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'berth.dev/hostpath' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
  ]);
  // Already annotated: no second annotate.
  const annotated = pvc('data', {
    cls: 'standard',
    annotations: { 'volume.kubernetes.io/storage-provisioner': 'berth.dev/hostpath', 'volume.beta.kubernetes.io/storage-provisioner': 'berth.dev/hostpath' },
  });
  assert.deepEqual(
    decideClaim(annotated, [], classes, NOW).map((a) => a.type),
    ['provision', 'event'],
  );
});

test('no class and no volume: FailedBinding; a missing class or no-provisioner: ProvisioningFailed', () => {
  assert.deepEqual(events(decideClaim(pvc('data', { cls: '' }), [], [], NOW)), [
    'Normal FailedBinding: no persistent volumes available for this claim and no storage class is set',
  ]);
  assert.deepEqual(events(decideClaim(pvc('data', { cls: 'gone' }), [], [], NOW)), [
    'Warning ProvisioningFailed: storageclass.storage.k8s.io "gone" not found',
  ]);
  const local = [sc('local', 'kubernetes.io/no-provisioner')];
  const actions = decideClaim(pvc('data', { cls: 'local' }), [], local, NOW);
  assert.deepEqual(events(actions), ['Warning ProvisioningFailed: no volume plugin matched name: kubernetes.io/no-provisioner']);
  assert.equal(ofType(actions, 'provision').length, 0);
  // A claim that is not Pending is set back to Pending.
  assert.deepEqual(ofType(decideClaim(pvc('data', { cls: '', phase: 'Lost' }), [], [], NOW), 'setClaimPhase').map((a) => a.phase), ['Pending']);
});

test('a claim naming a volume binds to it when compatible, waits when it is missing, mismatched or taken', () => {
  const claim = pvc('data', { volumeName: 'pv1', size: '1Gi' });
  const b = bindOf(decideClaim(claim, [pv('pv1', { size: '5Gi' }), pv('smaller')], [], NOW))!;
  assert.equal(b.volume.name, 'pv1');
  // The user wrote volumeName: the claim is not marked bound-by-controller, the volume is.
  assert.deepEqual(b.claimUpdate, { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } });
  assert.deepEqual(b.volumeUpdate?.annotations, { 'pv.kubernetes.io/bound-by-controller': 'yes' });

  assert.deepEqual(decideClaim(claim, [], [], NOW), []);
  assert.deepEqual(events(decideClaim(claim, [pv('pv1', { size: '500Mi' })], [], NOW)), ['Warning VolumeMismatch: requested PV is too small']);
  assert.deepEqual(events(decideClaim(claim, [pv('pv1', { cls: 'fast' })], [], NOW)), ['Warning VolumeMismatch: storageClassName does not match']);
  assert.deepEqual(events(decideClaim(claim, [pv('pv1', { volumeMode: 'Block' })], [], NOW)), ['Warning VolumeMismatch: incompatible volumeMode']);
  assert.deepEqual(events(decideClaim(claim, [pv('pv1', { modes: ['ReadOnlyMany'] })], [], NOW)), ['Warning VolumeMismatch: incompatible accessMode']);
  const taken = pv('pv1', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'other', uid: 'u' } });
  assert.deepEqual(events(decideClaim(claim, [taken], [], NOW)), ['Warning FailedBinding: volume "pv1" already bound to a different claim.']);
});

test('a bound claim whose volume is gone is Lost, once', () => {
  const bound = pvc('data', { volumeName: 'pv1', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' }, phase: 'Bound' });
  const actions = decideClaim(bound, [], [], NOW);
  assert.deepEqual(ofType(actions, 'setClaimPhase').map((a) => a.phase), ['Lost']);
  assert.deepEqual(events(actions), ['Warning ClaimLost: Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
  const lost = pvc('data', { volumeName: 'pv1', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' }, phase: 'Lost' });
  assert.deepEqual(decideClaim(lost, [], [], NOW), []);
  // A volume now bound to another claim makes it Lost too.
  const other = pv('pv1', { phase: 'Bound', claimRef: { namespace: 'ns', name: 'data', uid: 'uid-newer' } });
  assert.deepEqual(events(decideClaim(bound, [other], [], NOW)), [
    'Warning ClaimMisbound: Two claims are bound to the same volume, this one is bound incorrectly',
  ]);
  // A bound claim whose volume lost its claimRef gets it back.
  assert.equal(bindOf(decideClaim(bound, [pv('pv1', { phase: 'Available' })], [], NOW))?.volumeUpdate?.claimRef.uid, 'uid-data');
});

// --- decideVolume ------------------------------------------------------------------

const claimsOf = (...cs: Claim[]) => new Map(cs.map((c) => [claimKey(c.metadata.namespace, c.metadata.name), c]));

test('a volume without a claimRef, or pre-bound without a uid, is Available', () => {
  assert.deepEqual(decideVolume(pv('v', { phase: 'Pending' }), claimsOf(), NOW), [
    { type: 'setVolumePhase', volume: { kind: 'PersistentVolume', name: 'v', uid: 'uid-v', resourceVersion: '10' }, phase: 'Available', message: '', lastPhaseTransitionTime: STAMP },
  ]);
  assert.deepEqual(decideVolume(pv('v'), claimsOf(), NOW), []);
  assert.deepEqual(decideVolume(pv('v', { phase: 'Pending', claimRef: { namespace: 'ns', name: 'c' } }), claimsOf(), NOW).map((a) => a.type), ['setVolumePhase']);
});

test('Released + Retain: the volume is Released and stays', () => {
  const vol = pv('v', { phase: 'Bound', policy: 'Retain', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
  const actions = decideVolume(vol, claimsOf(), NOW);
  assert.deepEqual(actions, [
    { type: 'setVolumePhase', volume: { kind: 'PersistentVolume', name: 'v', uid: 'uid-v', resourceVersion: '10' }, phase: 'Released', message: '', lastPhaseTransitionTime: STAMP },
  ]);
  // A claim of the same name with another uid is a new claim: still Released.
  const recreated = pvc('c', { volumeName: 'v' });
  recreated.metadata.uid = 'uid-recreated';
  assert.deepEqual(decideVolume(vol, claimsOf(recreated), NOW).map((a) => a.type), ['setVolumePhase']);
  assert.deepEqual(decideVolume({ ...vol, status: { phase: 'Released' } }, claimsOf(), NOW), []);
});

test('Released + Delete: the provisioner that made the volume deletes it', () => {
  const vol = pv('v', {
    phase: 'Bound',
    policy: 'Delete',
    annotations: { 'pv.kubernetes.io/provisioned-by': 'berth.dev/hostpath' },
    claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' },
  });
  const target = { kind: 'PersistentVolume', name: 'v', uid: 'uid-v', resourceVersion: '10' };
  assert.deepEqual(decideVolume(vol, claimsOf(), NOW), [
    { type: 'setVolumePhase', volume: target, phase: 'Released', message: '', lastPhaseTransitionTime: STAMP },
    { type: 'deleteVolume', volume: target, provisioner: 'berth.dev/hostpath' },
  ]);
  // Already Released: the delete is asked again until the volume is gone.
  assert.deepEqual(decideVolume({ ...vol, status: { phase: 'Released' } }, claimsOf(), NOW), [
    { type: 'deleteVolume', volume: target, provisioner: 'berth.dev/hostpath' },
  ]);
  // Nobody provisioned it: nobody can delete its storage, so it fails.
  const manual = pv('m', { phase: 'Released', policy: 'Delete', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
  const actions = decideVolume(manual, claimsOf(), NOW);
  assert.deepEqual(ofType(actions, 'setVolumePhase').map((a) => [a.phase, a.message]), [
    ['Failed', 'error getting deleter volume plugin for volume "m": no deletable volume plugin matched'],
  ]);
  assert.deepEqual(events(actions), ['Warning VolumeFailedDelete: error getting deleter volume plugin for volume "m": no deletable volume plugin matched']);
  assert.deepEqual(decideVolume({ ...manual, status: { phase: 'Failed' } }, claimsOf(), NOW), []);
});

test('Released + Recycle (deprecated): Released, then Failed with a message', () => {
  const vol = pv('v', { phase: 'Bound', policy: 'Recycle', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
  const actions = decideVolume(vol, claimsOf(), NOW);
  assert.deepEqual(ofType(actions, 'setVolumePhase').map((a) => a.phase), ['Released', 'Failed']);
  assert.deepEqual(events(actions), ['Warning VolumeFailedRecycle: No recycler plugin found for the volume!']);
});

test('a volume whose claim exists: Bound when the claim names it, the claim synced when it does not yet', () => {
  const vol = pv('v', { phase: 'Available', claimRef: { namespace: 'ns', name: 'c', uid: 'uid-c' } });
  assert.deepEqual(decideVolume(vol, claimsOf(pvc('c', { volumeName: 'v' })), NOW).map((a) => a.type === 'setVolumePhase' && a.phase), ['Bound']);
  assert.deepEqual(decideVolume(vol, claimsOf(pvc('c')), NOW), [
    { type: 'syncClaim', claim: { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c', uid: 'uid-c', resourceVersion: '20' } },
  ]);
  assert.deepEqual(
    events(decideVolume(vol, claimsOf(pvc('c', { volumeMode: 'Block' })), NOW)),
    [
      'Warning VolumeMismatch: Cannot bind PersistentVolume to requested PersistentVolumeClaim "c" due to incompatible volumeMode.',
      'Warning VolumeMismatch: Cannot bind PersistentVolume "v" to requested PersistentVolumeClaim due to incompatible volumeMode.',
    ],
  );
});

test('a volume whose claim bound elsewhere is handed back, or released when provisioned for it', () => {
  const ref = { namespace: 'ns', name: 'c', uid: 'uid-c' };
  const claims = claimsOf(pvc('c', { volumeName: 'winner' }));
  const byController = pv('v', { phase: 'Bound', claimRef: ref, annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } });
  assert.deepEqual(decideVolume(byController, claims, NOW).map((a) => (a.type === 'unbindVolume' ? `unbind ${a.clearClaimRef}` : a.type)), [
    'unbind true',
    'setVolumePhase',
  ]);
  const byUser = pv('v', { phase: 'Bound', claimRef: ref });
  assert.deepEqual(ofType(decideVolume(byUser, claims, NOW), 'unbindVolume').map((a) => a.clearClaimRef), [false]);
  const provisioned = pv('v', { phase: 'Bound', claimRef: ref, policy: 'Delete', annotations: { 'pv.kubernetes.io/provisioned-by': 'p' } });
  assert.deepEqual(decideVolume(provisioned, claims, NOW).map((a) => a.type), ['setVolumePhase', 'deleteVolume']);
});
