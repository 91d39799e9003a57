// The storage admission plugins (DefaultStorageClass, PersistentVolumeClaimResize) and the
// generic admission path of ResourceStorage that runs them with read access to other kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmissionContext, KubeObject } from '../../src/api/types.js';
import { defaultStorageClassName, kind as claims, type PersistentVolumeClaim } from '../../src/api/core/persistentvolumeclaims.js';
import { kind as storageclasses, type StorageClass } from '../../src/api/storage/storageclasses.js';
import { berthStorageClasses } from '../../src/cli/storageclasses.js';
import { StatusError } from '../../src/machinery/errors.js';
import { WatchCache } from '../../src/apiserver/cache.js';
import { ResourceStorage, type ResourceDeps, type WriteContext } from '../../src/apiserver/resource.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';

const DEFAULT = 'storageclass.kubernetes.io/is-default-class';
const RESIZE_DENIED =
  'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';

function sc(name: string, o: { isDefault?: boolean; created?: string; expand?: boolean; beta?: boolean } = {}): StorageClass {
  const annotations = o.isDefault ? { [o.beta ? 'storageclass.beta.kubernetes.io/is-default-class' : DEFAULT]: 'true' } : undefined;
  return {
    metadata: { name, annotations, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    provisioner: 'berth.dev/local-path',
    allowVolumeExpansion: o.expand,
  };
}

function claim(o: { storage?: string; className?: string | null; phase?: string; annotations?: Record<string, string> } = {}): PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'default', annotations: o.annotations },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: o.storage ?? '1Gi' } },
      ...(o.className === null ? {} : { storageClassName: o.className ?? 'local-path' }),
    },
    status: { phase: o.phase ?? 'Bound', capacity: { storage: '1Gi' } },
  };
}

/** An admission context over a fixed set of storage classes. */
function classesContext(classes: StorageClass[]): AdmissionContext {
  const fromGroup = (group: string, resource: string) => {
    assert.deepEqual([group, resource], ['storage.k8s.io', 'storageclasses']);
    return classes;
  };
  return {
    get: (group, resource, _ns, name) => fromGroup(group, resource).find((c) => c.metadata.name === name),
    list: (group, resource) => fromGroup(group, resource),
  };
}

const admitCreate = (pvc: PersistentVolumeClaim, classes: StorageClass[]) => {
  claims.mutatingAdmission!(pvc, undefined, classesContext(classes));
  return pvc.spec?.storageClassName;
};

const admitUpdate = (pvc: PersistentVolumeClaim, old: PersistentVolumeClaim, classes: StorageClass[]) =>
  claims.validatingAdmission!(pvc, old, classesContext(classes));

// --- DefaultStorageClass ------------------------------------------------------------

test('a claim without a class gets the default class', () => {
  const classes = [sc('fast'), sc('local-path', { isDefault: true })];
  assert.equal(admitCreate(claim({ className: null }), classes), 'local-path');
  assert.equal(admitCreate(claim({ className: null }), [sc('old', { isDefault: true, beta: true })]), 'old');
});

test('a claim that names a class, even "", or has the beta annotation keeps it', () => {
  const classes = [sc('local-path', { isDefault: true })];
  assert.equal(admitCreate(claim({ className: 'fast' }), classes), 'fast');
  assert.equal(admitCreate(claim({ className: '' }), classes), '');
  const beta = claim({ className: null, annotations: { 'volume.beta.kubernetes.io/storage-class': 'fast' } });
  assert.equal(admitCreate(beta, classes), undefined);
});

test('without a default class the claim stays without one', () => {
  assert.equal(admitCreate(claim({ className: null }), [sc('fast')]), undefined);
  assert.equal(admitCreate(claim({ className: null }), []), undefined);
});

test('of several default classes the newest wins, then the first by name', () => {
  assert.equal(
    defaultStorageClassName([
      sc('a', { isDefault: true, created: '2026-01-01T00:00:00Z' }),
      sc('c', { isDefault: true, created: '2026-01-02T00:00:00Z' }),
      sc('b', { isDefault: true, created: '2026-01-02T00:00:00Z' }),
      sc('z', { created: '2026-01-03T00:00:00Z' }),
    ]),
    'b',
  );
});

test('only creates are defaulted', () => {
  const pvc = claim({ className: null });
  claims.mutatingAdmission!(pvc, claim({ className: null }), classesContext([sc('local-path', { isDefault: true })]));
  assert.equal(pvc.spec?.storageClassName, undefined);
});

// --- PersistentVolumeClaimResize ------------------------------------------------------

test('a claim grows only when its class allows volume expansion', () => {
  const old = claim();
  assert.doesNotThrow(() => admitUpdate(claim({ storage: '2Gi' }), old, [sc('local-path', { expand: true })]));
  for (const classes of [[sc('local-path')], [sc('local-path', { expand: false })], []]) {
    assert.throws(() => admitUpdate(claim({ storage: '2Gi' }), old, classes), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 403);
      assert.equal(err.reason, 'Forbidden');
      assert.equal(err.message, RESIZE_DENIED);
      return true;
    });
  }
});

test('a claim without a class, or one changing class, cannot grow', () => {
  const classes = [sc('local-path', { expand: true }), sc('', { expand: true })];
  assert.throws(() => admitUpdate(claim({ storage: '2Gi', className: null }), claim({ className: null }), classes), /must support resize/);
  assert.throws(() => admitUpdate(claim({ storage: '2Gi', className: '' }), claim({ className: '' }), classes), /must support resize/);
});

test('unchanged and smaller requests are not resizes', () => {
  const old = claim({ storage: '2Gi' });
  assert.doesNotThrow(() => admitUpdate(claim({ storage: '2Gi' }), old, []));
  assert.doesNotThrow(() => admitUpdate(claim({ storage: '2048Mi' }), old, []));
  assert.doesNotThrow(() => admitUpdate(claim({ storage: '1Gi' }), old, []));
});

// --- berth's classes -------------------------------------------------------------------

test('berth up provides local-path as the default class, and berth-loop where loop devices work', () => {
  const [local, loop] = berthStorageClasses({ defaultClass: true, loop: true });
  assert.equal(local.metadata.name, 'local-path');
  assert.equal(local.provisioner, 'berth.dev/local-path');
  assert.equal(local.metadata.annotations?.[DEFAULT], 'true');
  assert.equal(local.volumeBindingMode, 'WaitForFirstConsumer');
  assert.equal(local.allowVolumeExpansion, undefined);
  assert.equal(loop.metadata.name, 'berth-loop');
  assert.equal(loop.provisioner, 'berth.dev/loop');
  assert.equal(loop.allowVolumeExpansion, true);
  assert.equal(loop.metadata.annotations, undefined);
  const plain = berthStorageClasses({ defaultClass: false, loop: false });
  assert.deepEqual(plain.map((c) => [c.metadata.name, c.metadata.annotations]), [['local-path', undefined]]);
  for (const c of [local, loop]) assert.deepEqual(storageclasses.validate!(c), []);
});

// --- the generic admission path ---------------------------------------------------------

test('ResourceStorage runs admission on creates and updates of the object, not of its status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-admission-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const caches: WatchCache[] = [];
  try {
    const storage = async (def: typeof claims | typeof storageclasses, deps: ResourceDeps) => {
      const cache = await WatchCache.start(store, ResourceStorage.prefixFor(def));
      caches.push(cache);
      return new ResourceStorage(def as never, store, cache, deps);
    };
    let classStorage: ResourceStorage | undefined;
    const deps: ResourceDeps = {
      admitNamespace: () => {},
      unknownFields: () => [],
      allocate: () => () => {},
      admission: {
        get: (_g, _r, ns, name) => classStorage!.tryGet(ns, name)?.obj,
        list: () => classStorage!.cache.list().map((e) => e.obj),
      },
    };
    classStorage = await storage(storageclasses, deps);
    const claimStorage = await storage(claims, deps);
    const ctx = (): WriteContext => ({ dryRun: false, fieldValidation: 'Ignore', warnings: [], manager: 'test' });

    await classStorage.create(undefined, { ...sc('local-path', { isDefault: true }), volumeBindingMode: 'WaitForFirstConsumer' }, ctx());
    const created = await claimStorage.create('default', claim({ className: null }), ctx());
    assert.equal((created.obj as PersistentVolumeClaim).spec?.storageClassName, 'local-path');

    // Status writes are not admitted: the claim is marked Bound, then its growth is refused.
    await claimStorage.modify('default', 'data', (cur) => ({ ...cur, status: { phase: 'Bound', capacity: { storage: '1Gi' } } }), ctx(), 'status');
    const grow = (size: string) =>
      claimStorage.modify('default', 'data', (cur: KubeObject) => {
        (cur as PersistentVolumeClaim).spec!.resources!.requests = { storage: size };
        return cur;
      }, ctx());
    await assert.rejects(grow('2Gi'), (err: unknown) => err instanceof StatusError && err.code === 403 && err.message === RESIZE_DENIED);
  } finally {
    for (const c of caches) c.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
