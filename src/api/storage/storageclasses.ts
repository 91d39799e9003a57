// StorageClass (storage.k8s.io/v1): how volumes for claims of this class are provisioned.
import type { StorageClass as StorageClassV1 } from 'kubernetes-types/storage/v1.js';
import type { TopologySelectorTerm } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { deepEqual } from '../../machinery/objects.js';
import {
  type FieldError,
  Path,
  duplicate,
  forbidden,
  invalid,
  isQualifiedName,
  notSupported,
  required,
  tooLong,
} from '../../machinery/validation.js';

export type StorageClass = Mutable<StorageClassV1> & KubeObject;

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;
const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

/** storageutil.IsDefaultAnnotation: the class claims without a class name get. */
export function isDefaultClass(sc: StorageClass): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

function validateParameters(params: Record<string, string> | undefined, path: Path): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PARAMETERS) return [tooLong(path, MAX_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (!k) errs.push(invalid(path, k, 'field can not be empty.'));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(tooLong(path, MAX_PARAMETERS_SIZE));
  return errs;
}

function validateAllowedTopologies(terms: Mutable<TopologySelectorTerm>[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const seenTerms: Map<string, Set<string>>[] = [];
  (terms ?? []).forEach((term, i) => {
    const exprPath = path.index(i).child('matchLabelExpressions');
    const byKey = new Map<string, Set<string>>();
    (term.matchLabelExpressions ?? []).forEach((req, j) => {
      const p = exprPath.index(j);
      const values = new Set<string>();
      if (!req.values?.length) errs.push(required(p.child('values')));
      (req.values ?? []).forEach((v, k) => {
        if (values.has(v)) errs.push(duplicate(p.child('values').index(k), v));
        values.add(v);
      });
      for (const m of isQualifiedName(req.key)) errs.push(invalid(p.child('key'), req.key, m));
      if (byKey.has(req.key)) errs.push(duplicate(p.child('key'), req.key));
      byKey.set(req.key, values);
    });
    if (seenTerms.some((t) => sameTerm(t, byKey))) errs.push(duplicate(exprPath, ''));
    seenTerms.push(byKey);
  });
  return errs;
}

function sameTerm(a: Map<string, Set<string>>, b: Map<string, Set<string>>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (!vb || va.size !== vb.size || [...va].some((v) => !vb.has(v))) return false;
  }
  return true;
}

function validateStorageClass(sc: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = Path.root('provisioner');
  if (!sc.provisioner) errs.push(required(provisioner));
  else for (const m of isQualifiedName(sc.provisioner.toLowerCase())) errs.push(invalid(provisioner, sc.provisioner.toLowerCase(), m));
  errs.push(...validateParameters(sc.parameters, Path.root('parameters')));
  if (sc.reclaimPolicy && !RECLAIM_POLICIES.includes(sc.reclaimPolicy))
    errs.push(notSupported(Path.root('reclaimPolicy'), sc.reclaimPolicy, RECLAIM_POLICIES));
  const mode = Path.root('volumeBindingMode');
  if (sc.volumeBindingMode === undefined) errs.push(required(mode));
  else if (!BINDING_MODES.includes(sc.volumeBindingMode)) errs.push(notSupported(mode, sc.volumeBindingMode, BINDING_MODES));
  errs.push(...validateAllowedTopologies(sc.allowedTopologies, Path.root('allowedTopologies')));
  return errs;
}

/** Only metadata, mountOptions, allowVolumeExpansion and allowedTopologies may change. */
function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs = validateStorageClass(sc);
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {}))
    errs.push(forbidden(Path.root('parameters'), 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(forbidden(Path.root('provisioner'), 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy)
    errs.push(forbidden(Path.root('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
  if (sc.volumeBindingMode !== old.volumeBindingMode)
    errs.push(invalid(Path.root('volumeBindingMode'), sc.volumeBindingMode ?? null, 'field is immutable'));
  return errs;
}

export const kind: KindDef<StorageClass> = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  resource: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],

  defaults(sc) {
    sc.reclaimPolicy ??= 'Delete';
    sc.volumeBindingMode ??= 'Immediate';
  },

  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Provisioner', type: 'string', description: 'The volume plugin that provisions volumes.', priority: 0 },
      { name: 'ReclaimPolicy', type: 'string', description: 'What happens to a volume when its claim is deleted.', priority: 0 },
      { name: 'VolumeBindingMode', type: 'string', description: 'When volumes are bound and provisioned.', priority: 0 },
      { name: 'AllowVolumeExpansion', type: 'string', description: 'Whether claims may grow.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (sc, now) => [
      isDefaultClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name,
      sc.provisioner,
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(sc.metadata.creationTimestamp, now),
    ],
  },
};
