// PersistentVolumeClaim (core/v1): a request for storage. The claim spec's defaulting and
// validation are exported too, for the claims StatefulSets and ephemeral volumes template.
import type * as v1 from 'kubernetes-types/core/v1.js';
import {
  AGE_DESCRIPTION,
  NAME_DESCRIPTION,
  type AdmissionContext,
  type KindDef,
  type KubeObject,
  type Metadata,
  type Mutable,
} from '../types.js';
import { isDefaultClass, type StorageClass } from '../storage/storageclasses.js';
import { age } from '../../machinery/duration.js';
import { forbidden as forbiddenError } from '../../machinery/errors.js';
import { validateLabelSelector } from '../../machinery/selectors.js';
import {
  Path,
  forbidden,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  notSupported,
  required,
  type FieldError,
} from '../../machinery/validation.js';
import {
  canonicalizeResourceList,
  deepEqual,
  isNativeResource,
  nameIsDNSSubdomain,
  parseQuantityValue,
  quantityFormatError,
  specDiff,
  validateBasicResource,
  validateImmutable,
  validatePositiveQuantity,
  validateResourceQuantityValue,
} from './podspec.js';

export type PersistentVolumeClaimSpec = Mutable<v1.PersistentVolumeClaimSpec>;
export type PersistentVolumeClaim = Mutable<Omit<v1.PersistentVolumeClaim, 'metadata'>> & KubeObject;

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const VOLUME_MODES = ['Block', 'Filesystem'];
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

// --- what claims and volumes share ---------------------------------------------------

/** The access modes of a claim or a volume: known ones, and ReadWriteOncePod only alone. */
export function validateAccessModes(modes: readonly string[], path: Path): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const mode of modes) {
    if (!ACCESS_MODES.includes(mode)) errs.push(notSupported(path, mode, ACCESS_MODES));
    else if (mode === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** helper.GetPersistentVolumeClaimClass and GetPersistentVolumeClass: the beta annotation wins over the field. */
export function storageClassOf(obj: { metadata: Metadata; spec?: { storageClassName?: string } }): string {
  const ann = obj.metadata.annotations ?? {};
  if (BETA_STORAGE_CLASS_ANNOTATION in ann) return ann[BETA_STORAGE_CLASS_ANNOTATION];
  return obj.spec?.storageClassName ?? '';
}

// --- the claim spec ----------------------------------------------------------------

/** SetDefaults_PersistentVolumeClaimSpec, plus the canonical form of its quantities. */
export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  spec.volumeMode ??= 'Filesystem';
  // VolumeResourceRequirements is a struct, so Kubernetes always writes `resources`.
  spec.resources ??= {};
  const r = spec.resources as { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  canonicalizeResourceList(r.limits);
  canonicalizeResourceList(r.requests);
}

function validateDataSource(
  ds: { apiGroup?: string; kind?: string; name?: string; namespace?: string },
  path: Path,
  isRef: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!ds.name) errs.push(required(path.child('name')));
  if (!ds.kind) errs.push(required(path.child('kind')));
  const group = ds.apiGroup ?? '';
  if (!group && ds.kind !== 'PersistentVolumeClaim')
    errs.push(invalid(path, ds.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(invalid(path.child('apiGroup'), group, m));
  // Namespace names are DNS labels (ValidateNamespaceName).
  if (isRef && ds.namespace) for (const m of isDNS1123Label(ds.namespace)) errs.push(invalid(path.child('namespace'), ds.namespace, m));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec. `path` is where the spec sits. */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const modes = spec.accessModes ?? [];
  if (modes.length === 0) errs.push(required(path.child('accessModes'), 'at least 1 access mode is required'));
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, path.child('selector')));
  errs.push(...validateAccessModes(modes, path.child('accessModes')));

  const storagePath = path.child('resources').key('storage');
  const requests = (spec.resources?.requests ?? {}) as Record<string, unknown>;
  if (!('storage' in requests)) {
    errs.push(required(storagePath));
  } else {
    const q = parseQuantityValue(requests.storage);
    if (!q) errs.push(quantityFormatError(storagePath, requests.storage));
    else {
      const positive = validatePositiveQuantity(q, storagePath);
      errs.push(...(positive.length ? positive : validateResourceQuantityValue('storage', q, storagePath)));
    }
  }
  if (spec.storageClassName)
    for (const m of nameIsDNSSubdomain(spec.storageClassName)) errs.push(invalid(path.child('storageClassName'), spec.storageClassName, m));
  if (spec.volumeMode != null && !VOLUME_MODES.includes(spec.volumeMode))
    errs.push(notSupported(path.child('volumeMode'), spec.volumeMode, VOLUME_MODES));
  if (spec.dataSource) errs.push(...validateDataSource(spec.dataSource, path.child('dataSource'), false));
  if (spec.dataSourceRef) errs.push(...validateDataSource(spec.dataSourceRef, path.child('dataSourceRef'), true));
  if (spec.dataSourceRef?.namespace) {
    if (spec.dataSource) errs.push(invalid(path, String(path.child('dataSource')), 'may not be specified when dataSourceRef.namespace is specified'));
  } else if (spec.dataSource && spec.dataSourceRef) {
    const a = spec.dataSource;
    const b = spec.dataSourceRef;
    if ((a.apiGroup ?? null) !== (b.apiGroup ?? null) || a.kind !== b.kind || a.name !== b.name)
      errs.push(invalid(path, String(path.child('dataSource')), 'must match dataSourceRef'));
  }
  if (spec.volumeAttributesClassName)
    for (const m of nameIsDNSSubdomain(spec.volumeAttributesClassName))
      errs.push(invalid(path.child('volumeAttributesClassName'), spec.volumeAttributesClassName, m));
  return errs;
}

// --- the claim ---------------------------------------------------------------------

function defaults(pvc: PersistentVolumeClaim): void {
  pvc.spec ??= {};
  defaultPersistentVolumeClaimSpec(pvc.spec);
  if (pvc.status) {
    // SetDefaults_PersistentVolumeClaim: a claim without a phase is Pending.
    pvc.status.phase ||= 'Pending';
    canonicalizeResourceList(pvc.status.capacity as Record<string, unknown> | undefined);
    canonicalizeResourceList(pvc.status.allocatedResources as Record<string, unknown> | undefined);
  }
}

function storageRequest(pvc: PersistentVolumeClaim): unknown {
  return (pvc.spec?.resources?.requests as Record<string, unknown> | undefined)?.storage;
}

/** validateStorageClassUpgradeFromAnnotation: the field may take over the beta annotation's value. */
function storageClassFromAnnotation(newPvc: PersistentVolumeClaim, oldPvc: PersistentVolumeClaim): boolean {
  const oldAnn = oldPvc.metadata.annotations ?? {};
  const newAnn = newPvc.metadata.annotations ?? {};
  const newSC = newPvc.spec?.storageClassName;
  if (!(BETA_STORAGE_CLASS_ANNOTATION in oldAnn) || oldPvc.spec?.storageClassName != null || newSC == null) return false;
  const oldValue = oldAnn[BETA_STORAGE_CLASS_ANNOTATION];
  return newSC === oldValue && (!(BETA_STORAGE_CLASS_ANNOTATION in newAnn) || newAnn[BETA_STORAGE_CLASS_ANNOTATION] === oldValue);
}

/** validateStorageClassUpgradeFromNil: an unset class may be set once (to the annotation's value, if any). */
function storageClassFromNil(newPvc: PersistentVolumeClaim, oldPvc: PersistentVolumeClaim): boolean {
  const oldAnn = oldPvc.metadata.annotations ?? {};
  const newSC = newPvc.spec?.storageClassName;
  return (
    newSC != null &&
    oldPvc.spec?.storageClassName == null &&
    (!(BETA_STORAGE_CLASS_ANNOTATION in oldAnn) || newSC === oldAnn[BETA_STORAGE_CLASS_ANNOTATION])
  );
}

function validateUpdate(newPvc: PersistentVolumeClaim, oldPvc: PersistentVolumeClaim): FieldError[] {
  const errs = validatePersistentVolumeClaimSpec(newPvc.spec ?? {}, Path.root('spec'));
  const newSpec = structuredClone(newPvc.spec ?? {}) as PersistentVolumeClaimSpec & Record<string, unknown>;
  const oldSpec = structuredClone(oldPvc.spec ?? {}) as PersistentVolumeClaimSpec & Record<string, unknown>;
  // The volume binder sets volumeName once.
  if (!oldSpec.volumeName) {
    if (newSpec.volumeName === undefined) delete oldSpec.volumeName;
    else oldSpec.volumeName = newSpec.volumeName;
  }
  if (storageClassFromAnnotation(newPvc, oldPvc)) {
    delete newSpec.storageClassName;
  } else {
    const newAnn = newPvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
    const oldAnn = oldPvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
    if (newAnn !== oldAnn)
      errs.push(invalid(Path.root('metadata').child('annotations').child(BETA_STORAGE_CLASS_ANNOTATION), newAnn, 'field is immutable'));
    if (storageClassFromNil(newPvc, oldPvc)) delete newSpec.storageClassName;
  }
  // A bound claim may grow its storage and change its attributes class.
  const bound = newPvc.status?.phase === 'Bound';
  if (bound && newSpec.resources?.requests) {
    const oldStorage = storageRequest(oldPvc);
    if (oldStorage === undefined) delete newSpec.resources.requests.storage;
    else newSpec.resources.requests.storage = oldStorage as string;
  }
  if (bound && newSpec.volumeAttributesClassName != null) {
    if (oldSpec.volumeAttributesClassName === undefined) delete newSpec.volumeAttributesClassName;
    else newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }
  if (!deepEqual(newSpec, oldSpec))
    errs.push(
      forbidden(
        Path.root('spec'),
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff('core.PersistentVolumeClaimSpec', oldSpec, newSpec)}`,
      ),
    );
  const newSize = parseQuantityValue(storageRequest(newPvc));
  const oldSize = parseQuantityValue(storageRequest(oldPvc)) ?? parseQuantityValue('0')!;
  const statusSize = parseQuantityValue((oldPvc.status?.capacity as Record<string, unknown> | undefined)?.storage) ?? parseQuantityValue('0')!;
  // RecoverVolumeExpansionFailure: shrinking back is allowed down to what the volume has.
  if (newSize && newSize.cmp(oldSize) < 0 && newSize.cmp(statusSize) <= 0)
    errs.push(forbidden(Path.root('spec').child('resources').child('requests').child('storage'), 'field can not be less than status.capacity'));
  errs.push(...validateImmutable(newPvc.spec?.volumeMode, oldPvc.spec?.volumeMode, Path.root('volumeMode')));
  const oldVAC = oldPvc.spec?.volumeAttributesClassName;
  const newVAC = newPvc.spec?.volumeAttributesClassName;
  if (oldVAC != null && newVAC !== oldVAC) {
    const p = Path.root('spec').child('volumeAttributesClassName');
    if (newVAC == null) errs.push(forbidden(p, 'update from non-nil value to nil is forbidden'));
    else if (newVAC === '') errs.push(forbidden(p, 'update from non-nil value to an empty string is forbidden'));
  }
  return errs;
}

const RESIZE_STATUSES = [
  'ControllerResizeInProgress',
  'ControllerResizeInfeasible',
  'NodeResizeInProgress',
  'NodeResizeInfeasible',
  'NodeResizePending',
];

function validateClaimResourceKey(key: string, path: Path): FieldError[] {
  const errs = isQualifiedName(key).map((m) => invalid(path, key, m));
  if (errs.length) return errs;
  if (isNativeResource(key) && key !== 'storage') return [notSupported(path, key, ['storage'])];
  return [];
}

function validateStatusUpdate(newPvc: PersistentVolumeClaim, _old: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  if ((newPvc.spec?.accessModes ?? []).length === 0) errs.push(required(Path.root('Spec').child('accessModes')));
  const status = newPvc.status ?? {};
  const capPath = Path.root('status').child('capacity');
  for (const [r, v] of Object.entries((status.capacity ?? {}) as Record<string, unknown>)) {
    const q = parseQuantityValue(v);
    if (!q) errs.push(quantityFormatError(capPath.key(r), v));
    else errs.push(...validateBasicResource(q, capPath.key(r)));
  }
  const statusPath = Path.root('status').child('allocatedResourceStatus');
  for (const [k, v] of Object.entries(status.allocatedResourceStatuses ?? {})) {
    errs.push(...validateClaimResourceKey(k, statusPath));
    if (!RESIZE_STATUSES.includes(v)) errs.push(notSupported(statusPath, k, RESIZE_STATUSES));
  }
  const allocPath = Path.root('status').child('allocatedResources');
  for (const [k, v] of Object.entries((status.allocatedResources ?? {}) as Record<string, unknown>)) {
    const keyErrs = validateClaimResourceKey(k, allocPath);
    if (keyErrs.length) {
      errs.push(...keyErrs);
      continue;
    }
    const p = allocPath.key(k);
    const q = parseQuantityValue(v);
    if (!q) {
      errs.push(quantityFormatError(p, v));
      continue;
    }
    const basic = validateBasicResource(q, p);
    errs.push(...(basic.length ? basic : validateResourceQuantityValue('storage', q, p)));
  }
  return errs;
}

// --- admission ---------------------------------------------------------------------

const CLAIMS = { group: '', resource: 'persistentvolumeclaims' };

/** storageutil.GetDefaultClass: of the classes marked default, the newest (then the first by name). */
export function defaultStorageClassName(classes: readonly StorageClass[]): string | undefined {
  const created = (sc: StorageClass) => Date.parse(sc.metadata.creationTimestamp ?? '') || 0;
  const defaults = classes.filter(isDefaultClass);
  defaults.sort((a, b) => created(b) - created(a) || (a.metadata.name! < b.metadata.name! ? -1 : 1));
  return defaults[0]?.metadata.name;
}

/** The DefaultStorageClass admission plugin: a claim that names no class (not even "") gets the default one. */
function defaultStorageClass(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim | undefined, ctx: AdmissionContext): void {
  if (old || pvc.spec?.storageClassName != null) return;
  if (BETA_STORAGE_CLASS_ANNOTATION in (pvc.metadata.annotations ?? {})) return;
  const name = defaultStorageClassName(ctx.list('storage.k8s.io', 'storageclasses') as StorageClass[]);
  if (name) (pvc.spec ??= {}).storageClassName = name;
}

/** The PersistentVolumeClaimResize admission plugin: a claim grows only when its class allows expansion. */
function admitResize(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim | undefined, ctx: AdmissionContext): void {
  if (!old) return;
  const zero = parseQuantityValue('0')!;
  const newSize = parseQuantityValue(storageRequest(pvc)) ?? zero;
  const oldSize = parseQuantityValue(storageRequest(old)) ?? zero;
  if (newSize.cmp(oldSize) <= 0) return;
  const name = storageClassOf(pvc);
  const sc = name && name === storageClassOf(old) ? (ctx.get('storage.k8s.io', 'storageclasses', undefined, name) as StorageClass | undefined) : undefined;
  if (sc?.allowVolumeExpansion !== true)
    throw forbiddenError(
      CLAIMS,
      pvc.metadata.name ?? '',
      'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
}

// --- table ---------------------------------------------------------------------------

/** helper.GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order, duplicates dropped. */
export function accessModesAsString(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

export const kind: KindDef<PersistentVolumeClaim> = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  resource: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  statusSubresource: true,
  defaults,
  prepareForCreate(pvc) {
    pvc.status = { phase: 'Pending' };
  },
  validate: (pvc) => validatePersistentVolumeClaimSpec(pvc.spec ?? {}, Path.root('spec')),
  validateUpdate,
  validateStatusUpdate,
  mutatingAdmission: defaultStorageClass,
  validatingAdmission: admitResize,
  // Kubernetes keeps a bare `name` field selector for claims, for backward compatibility.
  fieldSelectors: { name: (pvc) => pvc.metadata.name },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
      { name: 'Status', type: 'string', description: 'phase represents the current phase of PersistentVolumeClaim.', priority: 0 },
      { name: 'Volume', type: 'string', description: 'volumeName is the binding reference to the PersistentVolume backing this claim.', priority: 0 },
      { name: 'Capacity', type: 'string', description: 'capacity represents the actual resources of the underlying volume.', priority: 0 },
      {
        name: 'Access Modes',
        type: 'string',
        description:
          'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1',
        priority: 0,
      },
      { name: 'StorageClass', type: 'string', description: 'StorageClass of the pvc', priority: 0 },
      { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pvc', priority: 0 },
      { name: 'Age', type: 'string', description: AGE_DESCRIPTION, priority: 0 },
      {
        name: 'VolumeMode',
        type: 'string',
        description: 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
        priority: 1,
      },
    ],
    row(pvc, now) {
      const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
      const volumeName = pvc.spec?.volumeName ?? '';
      let capacity = '';
      let accessModes = '';
      if (volumeName) {
        accessModes = accessModesAsString(pvc.status?.accessModes);
        const storage = (pvc.status?.capacity as Record<string, unknown> | undefined)?.storage;
        capacity = parseQuantityValue(storage)?.toString() ?? '0';
      }
      return [
        pvc.metadata.name,
        phase,
        volumeName,
        capacity,
        accessModes,
        storageClassOf(pvc),
        pvc.spec?.volumeAttributesClassName ?? '<unset>',
        age(pvc.metadata.creationTimestamp, now),
        pvc.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
};
