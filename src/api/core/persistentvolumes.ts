// PersistentVolume (core/v1). A new volume starts Pending; the volume binder makes it
// Available and binds it to a claim. Its source is fixed once created.
import type {
  PersistentVolume as PersistentVolumeV1,
  PersistentVolumeSpec,
  SecretReference,
  VolumeNodeAffinity,
} from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { isPlainObject, nowTimestamp } from '../../machinery/objects.js';
import {
  type FieldError,
  Path,
  forbidden,
  invalid,
  isDNS1123Subdomain,
  notSupported,
  required,
} from '../../machinery/validation.js';
import { validateDNS1123Label } from './endpoints.js';
import { VOLUME_MODES, accessModesAsString, storageClassOf, validateAccessModes } from './persistentvolumeclaims.js';
import {
  canonicalizeResourceList,
  deepEqual,
  defaultSharedVolumeSources,
  invalidRendered,
  parseQuantityValue,
  quantityFormatError,
  specDiff,
  validateBasicResource,
  validateCSIDriverName,
  validateHostPathVolumeSource,
  validateNFSVolumeSource,
  validateNodeSelector,
  validatePathNoBacksteps,
  validatePositiveQuantity,
} from './podspec.js';

type Spec = Mutable<PersistentVolumeSpec>;
export type PersistentVolume = Mutable<PersistentVolumeV1> & KubeObject;

const MOUNT_OPTIONS_ANNOTATION = 'volume.beta.kubernetes.io/mount-options';

const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];

/**
 * The volume sources, in the order Kubernetes checks them, with the name its "more than
 * one volume type" error uses (flexVolume is counted but never reported).
 */
const VOLUME_SOURCES: { key: string; errorName?: string }[] = [
  { key: 'hostPath', errorName: 'hostPath' },
  { key: 'gcePersistentDisk', errorName: 'gcePersistentDisk' },
  { key: 'awsElasticBlockStore', errorName: 'awsElasticBlockStore' },
  { key: 'glusterfs', errorName: 'glusterfs' },
  { key: 'flocker', errorName: 'flocker' },
  { key: 'nfs', errorName: 'nfs' },
  { key: 'rbd', errorName: 'rbd' },
  { key: 'quobyte', errorName: 'quobyte' },
  { key: 'cephfs', errorName: 'cephFS' },
  { key: 'iscsi', errorName: 'iscsi' },
  { key: 'cinder', errorName: 'cinder' },
  { key: 'fc', errorName: 'fc' },
  { key: 'flexVolume' },
  { key: 'azureFile', errorName: 'azureFile' },
  { key: 'vsphereVolume', errorName: 'vsphereVolume' },
  { key: 'photonPersistentDisk', errorName: 'photonPersistentDisk' },
  { key: 'portworxVolume', errorName: 'portworxVolume' },
  { key: 'azureDisk', errorName: 'azureDisk' },
  { key: 'scaleIO', errorName: 'scaleIO' },
  { key: 'local', errorName: 'local' },
  { key: 'storageos', errorName: 'storageos' },
  { key: 'csi', errorName: 'csi' },
];

/** Volume types that take mount options (volume/validation checkMountOption). */
const MOUNT_OPTION_SOURCES = [
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'nfs',
  'rbd',
  'quobyte',
  'iscsi',
  'cinder',
  'cephfs',
  'azureFile',
  'vsphereVolume',
  'azureDisk',
  'photonPersistentDisk',
];

/** Node labels whose beta keys may be replaced by their GA keys in a volume's node affinity. */
const BETA_TO_GA_LABELS: Record<string, string> = {
  'failure-domain.beta.kubernetes.io/zone': 'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region': 'topology.kubernetes.io/region',
  'beta.kubernetes.io/os': 'kubernetes.io/os',
  'beta.kubernetes.io/arch': 'kubernetes.io/arch',
  'beta.kubernetes.io/instance-type': 'node.kubernetes.io/instance-type',
};

const sourceOf = (spec: Spec, key: string): Record<string, unknown> | undefined =>
  (spec as Record<string, unknown>)[key] as Record<string, unknown> | undefined;

/** The volume source part of the spec: what may not change after creation. */
function volumeSource(spec: Spec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key } of VOLUME_SOURCES) if (sourceOf(spec, key) != null) out[key] = sourceOf(spec, key);
  return out;
}

// --- defaulting ---------------------------------------------------------------

function defaultPersistentVolume(pv: PersistentVolume): void {
  const spec = (pv.spec ??= {});
  // The status may be the stored object's: replace it rather than change it.
  if (!pv.status?.phase) pv.status = { ...pv.status, phase: 'Pending' };
  spec.persistentVolumeReclaimPolicy ||= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(spec.capacity);
  if (spec.hostPath) spec.hostPath.type ??= '';
  defaultSharedVolumeSources(spec);
}

/** VolumeAttributesClass is a beta feature Kubernetes 1.32 leaves off: the field is dropped
 *  unless the stored volume already has it. */
function dropDisabledFields(pv: PersistentVolume, old?: PersistentVolume): void {
  if (pv.spec?.volumeAttributesClassName !== undefined && old?.spec?.volumeAttributesClassName === undefined)
    delete pv.spec.volumeAttributesClassName;
}

// --- validation ---------------------------------------------------------------

function validateSecretReference(ref: Mutable<SecretReference>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref.name) errs.push(required(path.child('name')));
  else errs.push(...isDNS1123Subdomain(ref.name).map((m) => invalid(path.child('name'), ref.name, m)));
  if (!ref.namespace) errs.push(required(path.child('namespace')));
  else errs.push(...validateDNS1123Label(ref.namespace, path.child('namespace')));
  return errs;
}

/** The checks for the sources berth can mount (hostPath, nfs and csi as for a pod's volumes);
 *  the others are only counted. */
function validateSource(spec: Spec, key: string, path: Path): FieldError[] {
  switch (key) {
    case 'hostPath':
      return validateHostPathVolumeSource(spec.hostPath!, path);
    case 'local': {
      const local = spec.local!;
      return local.path ? validatePathNoBacksteps(local.path, path.child('path')) : [required(path.child('path'))];
    }
    case 'nfs':
      return validateNFSVolumeSource(spec.nfs!, path);
    case 'csi': {
      const csi = spec.csi!;
      const errs = validateCSIDriverName(csi.driver ?? '', path.child('driver'));
      if (!csi.volumeHandle) errs.push(required(path.child('volumeHandle')));
      for (const ref of [
        'controllerPublishSecretRef',
        'controllerExpandSecretRef',
        'nodePublishSecretRef',
        'nodeExpandSecretRef',
      ] as const) {
        const value = csi[ref];
        if (value) errs.push(...validateSecretReference(value, path.child(ref)));
      }
      return errs;
    }
  }
  return [];
}

function validateNodeAffinity(affinity: Mutable<VolumeNodeAffinity>, path: Path): FieldError[] {
  if (!affinity.required) return [required(path.child('required'), 'must specify required node constraints')];
  return validateNodeSelector(affinity.required, true, path.child('required'));
}

function validateSpec(pv: PersistentVolume): FieldError[] {
  const errs: FieldError[] = [];
  const spec = pv.spec ?? {};
  const path = Path.root('spec');

  const modes = spec.accessModes ?? [];
  if (!modes.length) errs.push(required(path.child('accessModes')));
  errs.push(...validateAccessModes(modes, path.child('accessModes')));

  const capPath = path.child('capacity');
  const capacity = spec.capacity ?? {};
  const resources = Object.keys(capacity);
  if (!resources.length) errs.push(required(capPath));
  if (!resources.includes('storage') || resources.length > 1)
    errs.push(invalidNotSupported(capPath, goResourceList(spec.capacity), ['storage']));
  for (const [name, value] of Object.entries(capacity)) {
    const p = capPath.key(name);
    const q = parseQuantityValue(value);
    if (!q) {
      errs.push(quantityFormatError(p, value));
      continue;
    }
    errs.push(...validateBasicResource(q, p));
    errs.push(...validatePositiveQuantity(q, p));
  }

  if (spec.persistentVolumeReclaimPolicy && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy))
    errs.push(notSupported(path.child('persistentVolumeReclaimPolicy'), spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));

  if (spec.nodeAffinity) errs.push(...validateNodeAffinity(spec.nodeAffinity, path.child('nodeAffinity')));

  let volumes = 0;
  for (const { key, errorName } of VOLUME_SOURCES) {
    if (sourceOf(spec, key) == null) continue;
    if (volumes > 0 && errorName) {
      errs.push(forbidden(path.child(errorName), 'may not specify more than 1 volume type'));
      continue;
    }
    volumes++;
    errs.push(...validateSource(spec, key, path.child(key)));
    if (key === 'local' && !spec.nodeAffinity) errs.push(required(path.child('nodeAffinity'), 'Local volume requires node affinity'));
  }
  if (volumes === 0) errs.push(required(path, 'must specify a volume type'));

  const hostPath = spec.hostPath?.path;
  if (hostPath !== undefined && isRoot(hostPath) && spec.persistentVolumeReclaimPolicy === 'Recycle')
    errs.push(forbidden(path.child('persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"));

  if (spec.storageClassName)
    errs.push(...isDNS1123Subdomain(spec.storageClassName).map((m) => invalid(path.child('storageClassName'), spec.storageClassName, m)));
  if (spec.volumeMode !== undefined && !VOLUME_MODES.includes(spec.volumeMode))
    errs.push(notSupported(path.child('volumeMode'), spec.volumeMode, VOLUME_MODES));

  // Mount options only reach volume types that can use them.
  const annotations = pv.metadata.annotations ?? {};
  if (MOUNT_OPTIONS_ANNOTATION in annotations && !MOUNT_OPTION_SOURCES.some((k) => sourceOf(spec, k) != null))
    errs.push(
      forbidden(
        Path.root('metadata').child('annotations').child(MOUNT_OPTIONS_ANNOTATION),
        'may not specify mount options for this volume type',
      ),
    );
  return errs;
}

/** A resource list as %#v shows it, with each quantity as its text (Go adds its internals). */
function goResourceList(list: Record<string, unknown> | undefined): string {
  if (!list) return 'core.ResourceList(nil)';
  const entries = Object.keys(list)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(list[k]))}`);
  return `core.ResourceList{${entries.join(', ')}}`;
}

/** An Unsupported error whose value is already rendered. */
function invalidNotSupported(path: Path, rendered: string, supported: string[]): FieldError {
  return {
    type: 'FieldValueNotSupported',
    field: String(path),
    message: `Unsupported value: ${rendered}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  };
}

/** path.Clean(p) == "/". */
function isRoot(p: string): boolean {
  return p.startsWith('/') && p.split('/').every((part) => part === '' || part === '.');
}

/** Node affinities are equal but for requirement keys moved from a beta node label to its GA one. */
function sameAffinityModuloGA(next: unknown, prev: unknown): boolean {
  if (Array.isArray(next) && Array.isArray(prev))
    return next.length === prev.length && next.every((v, i) => sameAffinityModuloGA(v, prev[i]));
  if (!isPlainObject(next) || !isPlainObject(prev)) return deepEqual(next, prev);
  for (const k of new Set([...Object.keys(next), ...Object.keys(prev)])) {
    const requirementKey = k === 'key' && typeof next.operator === 'string' && typeof prev.key === 'string';
    if (requirementKey && next.key !== prev.key) {
      if (BETA_TO_GA_LABELS[prev.key as string] !== next.key) return false;
    } else if (!sameAffinityModuloGA(next[k], prev[k])) {
      return false;
    }
  }
  return true;
}

function validateUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = validateSpec(pv);
  const spec = pv.spec ?? {};
  const oldSpec = old.spec ?? {};
  const next = volumeSource(spec);
  const prev = volumeSource(oldSpec);
  // A CSI volume may gain an expand secret after creation.
  const csi = next.csi as Spec['csi'];
  const oldCSI = prev.csi as Spec['csi'];
  if (csi?.controllerExpandSecretRef && oldCSI && !oldCSI.controllerExpandSecretRef) {
    const { controllerExpandSecretRef: _added, ...rest } = csi;
    next.csi = rest;
  }
  if (!deepEqual(next, prev))
    errs.push(
      forbidden(
        Path.root('spec').child('persistentvolumesource'),
        `spec.persistentvolumesource is immutable after creation\n${specDiff('core.PersistentVolumeSource', prev, next)}`,
      ),
    );
  // Kubernetes reports these two without the spec prefix.
  if (spec.volumeMode !== oldSpec.volumeMode)
    errs.push(invalid(Path.root('volumeMode'), spec.volumeMode ?? null, 'field is immutable'));
  if (oldSpec.nodeAffinity && !sameAffinityModuloGA(spec.nodeAffinity, oldSpec.nodeAffinity))
    errs.push(
      invalidRendered(
        Path.root('nodeAffinity'),
        JSON.stringify(spec.nodeAffinity ?? null),
        'field is immutable, except for updating from beta label to GA',
      ),
    );
  if (spec.volumeAttributesClassName !== oldSpec.volumeAttributesClassName)
    errs.push(
      forbidden(
        Path.root('spec').child('volumeAttributesClassName'),
        'update is forbidden when the VolumeAttributesClass feature gate is disabled',
      ),
    );
  return errs;
}

export const kind: KindDef<PersistentVolume> = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  resource: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  statusSubresource: true,

  defaults: defaultPersistentVolume,

  prepareForCreate(pv) {
    pv.status = { phase: 'Pending', lastPhaseTransitionTime: nowTimestamp() };
    dropDisabledFields(pv);
  },

  prepareForUpdate: (pv, old) => dropDisabledFields(pv, old),

  validate: validateSpec,
  validateUpdate,

  fieldSelectors: {
    // Kubernetes keeps this unprefixed name for compatibility.
    name: (pv) => pv.metadata.name,
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Capacity', type: 'string', description: 'The size of the volume.', priority: 0 },
      { name: 'Access Modes', type: 'string', description: 'How the volume can be mounted.', priority: 0 },
      { name: 'Reclaim Policy', type: 'string', description: 'What happens to the volume when its claim goes.', priority: 0 },
      { name: 'Status', type: 'string', description: 'The phase of the volume.', priority: 0 },
      { name: 'Claim', type: 'string', description: 'The claim the volume is bound to.', priority: 0 },
      { name: 'StorageClass', type: 'string', description: 'StorageClass of the pv', priority: 0 },
      { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pv', priority: 0 },
      { name: 'Reason', type: 'string', description: 'Why the volume is in its phase.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
      { name: 'VolumeMode', type: 'string', description: 'Whether the volume holds a filesystem or is a block device.', priority: 1 },
    ],
    row: (pv, now) => {
      const spec = pv.spec ?? {};
      const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
      return [
        pv.metadata.name,
        parseQuantityValue(spec.capacity?.storage)?.toString() ?? '0',
        accessModesAsString(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? '',
        pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? ''),
        claim,
        storageClassOf(pv),
        spec.volumeAttributesClassName ?? '<unset>',
        pv.status?.reason ?? '',
        age(pv.metadata.creationTimestamp, now),
        spec.volumeMode ?? '<unset>',
      ];
    },
  },
};
