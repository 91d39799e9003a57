// Namespace (core/v1). A namespace is deleted in two steps: the delete marks it
// Terminating, and it goes once the namespace controller has emptied it and removed
// the `kubernetes` entry from spec.finalizers.
import type { Namespace as NamespaceV1 } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { type FieldError, Path, invalid, isDNS1123Label, isQualifiedName } from '../../machinery/validation.js';

export type Namespace = Mutable<NamespaceV1> & KubeObject;

/** The finalizer every namespace starts with; the namespace controller removes it. */
const KUBERNETES_FINALIZER = 'kubernetes';
/** Label set on every namespace so that namespace selectors can pick namespaces by name. */
const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

const STANDARD_FINALIZERS = [KUBERNETES_FINALIZER, 'orphan', 'foregroundDeletion'];

function validateFinalizerName(name: string, path: Path): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name))
    errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  return errs;
}

function validateNamespace(ns: Namespace): FieldError[] {
  // Kubernetes reports every entry at spec.finalizers, without an index.
  const path = Path.root('spec').child('finalizers');
  return (ns.spec?.finalizers ?? []).flatMap((f) => validateFinalizerName(f, path));
}

/** Updates validate finalizers as the finalize subresource does (indexed), because berth's
 *  finalize goes through the regular update path. */
function validateNamespaceUpdate(ns: Namespace): FieldError[] {
  const path = Path.root('spec').child('finalizers');
  return (ns.spec?.finalizers ?? []).flatMap((f, i) => validateFinalizerName(f, path.index(i)));
}

export const kind: KindDef<Namespace> = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  resource: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  statusSubresource: true,
  nameValidation: isDNS1123Label,

  defaults(ns) {
    if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, [METADATA_NAME_LABEL]: ns.metadata.name };
    // The status may be the stored object's: replace it rather than change it.
    if (!ns.status?.phase) ns.status = { ...ns.status, phase: 'Active' };
  },

  prepareForCreate(ns) {
    ns.status = { phase: 'Active' };
    // Required on create; not a default, because the namespace controller removes it later.
    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(KUBERNETES_FINALIZER)) ns.spec = { ...ns.spec, finalizers: [...finalizers, KUBERNETES_FINALIZER] };
  },

  validate: validateNamespace,
  validateUpdate: validateNamespaceUpdate,

  validateStatusUpdate(ns) {
    const path = Path.root('status').child('Phase');
    const phase = ns.status?.phase ?? '';
    if (!ns.metadata.deletionTimestamp) {
      if (phase !== 'Active') return [invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty")];
    } else if (phase !== 'Terminating') {
      return [invalid(path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
    }
    return [];
  },

  pendingFinalization: (ns) => (ns.spec?.finalizers?.length ?? 0) > 0,

  prepareForDeletion(ns) {
    ns.status = { ...ns.status, phase: 'Terminating' };
  },

  fieldSelectors: {
    'status.phase': (ns) => ns.status?.phase ?? '',
    // Kubernetes keeps this unprefixed name for compatibility.
    name: (ns) => ns.metadata.name,
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Status', type: 'string', description: 'The phase of the namespace.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? '', age(ns.metadata.creationTimestamp, now)],
  },
};
