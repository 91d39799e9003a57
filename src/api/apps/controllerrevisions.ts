// ControllerRevision (apps/v1): an immutable snapshot of a controller's template, which the
// StatefulSet controller keeps as its revision history.
import { AGE_DESCRIPTION, NAME_DESCRIPTION, type KindDef, type KubeObject } from '../types.js';
import { age } from '../../machinery/duration.js';
import { Path, required, type FieldError } from '../../machinery/validation.js';
import { exactEqual, validateImmutable, validateNonnegative } from '../core/podspec.js';

export type ControllerRevision = { data?: unknown; revision?: number } & KubeObject;

/** ValidateControllerRevision: the data is mandatory, the revision not negative. */
function validate(cr: ControllerRevision): FieldError[] {
  const errs: FieldError[] = [];
  if (cr.data === undefined || cr.data === null) errs.push(required(Path.root('data'), 'data is mandatory'));
  errs.push(...validateNonnegative(cr.revision ?? 0, Path.root('revision')));
  return errs;
}

/**
 * The CONTROLLER cell: `statefulset.apps/web` for the controlling owner (lower-cased
 * GroupKind, then the name), `<none>` without one.
 */
export function controllerCell(cr: ControllerRevision): string {
  const ref = (cr.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const parts = (ref.apiVersion ?? '').split('/');
  const group = parts.length === 2 ? parts[0] : '';
  if (!group && !ref.kind) return ref.name;
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

export const kind: KindDef<ControllerRevision> = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  resource: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  defaults(cr) {
    // Go always writes the revision (an int64 without omitempty).
    cr.revision ??= 0;
  },
  validate,
  validateUpdate(cr, old) {
    const errs = validate(cr);
    errs.push(...validateImmutable(cr.data, old.data, Path.root('data'), exactEqual));
    return errs;
  },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
      { name: 'Controller', type: 'string', description: 'Controller of the object', priority: 0 },
      { name: 'Revision', type: 'string', description: 'Revision indicates the revision of the state represented by Data.', priority: 0 },
      { name: 'Age', type: 'string', description: AGE_DESCRIPTION, priority: 0 },
    ],
    row: (cr, now) => [cr.metadata.name, controllerCell(cr), cr.revision ?? 0, age(cr.metadata.creationTimestamp, now)],
  },
};


