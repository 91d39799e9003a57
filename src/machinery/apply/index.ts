// Server-side apply and managedFields, as kube-apiserver's field manager runs them, as pure
// functions over plain JSON objects:
//
// - serverSideApply: a PATCH with application/apply-patch+yaml. Checks the applied object's
//   type, merges it into the live object (or an empty one), removes what the manager applied
//   before and no longer applies when nobody else owns it, fails with a 409 on fields others own
//   that it would change (unless forced), and records the applied set as the manager's.
// - recordUpdate: every other write (create, update, patch) records the fields it changed as
//   its manager's, with operation Update.
//
// The layers of the field manager, outermost first, and where each lives here: the version
// check and the last-applied annotation sync and upgrade for kubectl (serverSideApply), the
// "before-first-apply" owner of an untracked object's fields (applyOnce), the cap of ten Update
// entries (capUpdateManagers), and the structured merge itself (merge.ts).
//
// The server defaults the object serverSideApply returns (Kubernetes defaults after merging, so
// defaulted fields are nobody's), and defaults before recordUpdate (so a create owns them).
import type { KubeObject } from '../../api/types.js';
import { StatusError, badRequest } from '../errors.js';
import { cloneJSON, isJSONObject, jsonEqual } from '../patch/json.js';
import { invalidError } from '../validation.js';
import { FieldSet } from './fieldset.js';
import {
  BEFORE_FIRST_APPLY,
  STRIPPED_FIELDS,
  capUpdateManagers,
  conflictError,
  decodeManagedFields,
  encodeManagedFields,
  fieldManagerErrors,
  fieldNameSet,
  filterComparison,
  goJSONString,
  isResetManagedFields,
  managerIdentifier,
  transferOwnership,
  type Conflict,
  type Managed,
  type ManagerFields,
} from './managedfields.js';
import {
  compareObjects,
  ensureNamedFieldsAreMembers,
  mergeObjects,
  removeItems,
  toFieldSet,
  typerFor,
  validate,
  validationErrorsText,
  type ApplySchema,
  type Typer,
} from './merge.js';

export { FieldSet } from './fieldset.js';
export type { FieldPath, PathElement } from './fieldset.js';
export {
  ANCIENT_CHANGES,
  BEFORE_FIRST_APPLY,
  MAX_UPDATE_MANAGERS,
  decodeManagedFields,
  encodeManagedFields,
  fieldManagerErrors,
  isResetManagedFields,
  managerFromUserAgent,
} from './managedfields.js';
export type { Managed, ManagerFields } from './managedfields.js';
export type { ApplySchema, ApplySchemaNode } from './merge.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** kubectl apply --server-side's default manager; only it syncs and upgrades from client-side apply. */
export const KUBECTL_MANAGER = 'kubectl';
/** Kubernetes' limit on the total size of an object's annotations. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
/** Tracks the current write apart from the managers it takes fields from; never a real identifier. */
const CURRENT_OPERATION = 'current-operation';

export interface ManagedFieldsOptions {
  /** The OpenAPI v2 definitions of the served types (schema.ts's getSchema()). */
  schema: ApplySchema;
  /** The definition of the object's kind: `io.k8s.api.apps.v1.StatefulSet`. */
  definition: string;
  /** The request's group/version: `apps/v1`, `v1`. */
  apiVersion: string;
  /** `status`, `scale`, ... for writes to a subresource. */
  subresource?: string;
  /** RFC 3339 with second precision (nowTimestamp()). */
  now: string;
  /**
   * Fields the write cannot set, which the strategy resets and nobody may own through it:
   * [['status']] for the main resource of a kind with a status subresource, [['spec']] (and
   * what else the status strategy keeps) for its status subresource.
   */
  resetFields?: readonly (readonly string[])[];
}

export interface ApplyOptions extends ManagedFieldsOptions {
  /** The fieldManager query parameter; required. */
  manager: string;
  /** The force query parameter: take over conflicting fields instead of failing. */
  force: boolean;
  /** The name and namespace in the URL, which the result must match. */
  name?: string;
  namespace?: string;
}

export interface UpdateOptions extends ManagedFieldsOptions {
  /** The fieldManager, or the one derived from the User-Agent (managerFromUserAgent). */
  manager: string;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return undefined;
}

function gvkOf(obj: Record<string, unknown>): GroupVersionKind {
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const gv = parseGroupVersion(typeof obj.apiVersion === 'string' ? obj.apiVersion : '');
  return gv ? { ...gv, kind } : { group: '', version: '', kind };
}

function gvkString(g: GroupVersionKind): string {
  return `${g.group}/${g.version}, Kind=${g.kind}`;
}

/** The kind served at `definition` in `apiVersion`. */
function expectedGVK(typer: Typer, definition: string, apiVersion: string): GroupVersionKind {
  const gv = parseGroupVersion(apiVersion) ?? { group: '', version: '' };
  const declared = typer.schema.definitions[definition]?.['x-kubernetes-group-version-kind'];
  if (Array.isArray(declared)) {
    for (const d of declared) {
      if (isJSONObject(d) && d.group === gv.group && d.version === gv.version && typeof d.kind === 'string') {
        return { ...gv, kind: d.kind };
      }
    }
  }
  return { ...gv, kind: definition.slice(definition.lastIndexOf('.') + 1) };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A shallow copy without metadata.managedFields, for comparisons and merges. */
function withoutManagedFields(obj: KubeObject): KubeObject {
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

/**
 * Records an Update by `who`: every other manager loses the fields the change added or
 * modified, every manager loses the removed fields, and `who` gains the added and modified ones
 * (with the time of the change) unless the change touched nothing it may own.
 */
function recordChange(
  typer: Typer,
  old: unknown,
  next: unknown,
  managed: Managed,
  who: { manager: string; apiVersion: string; subresource?: string },
  definition: string,
  reset: FieldSet | undefined,
  now: string,
): void {
  const change = filterComparison(compareObjects(typer, old, next, definition), reset);
  transferOwnership(managed, CURRENT_OPERATION, change, true);
  const taken = change.modified.union(change.added).difference(STRIPPED_FIELDS);
  if (taken.empty) return;
  const entry: ManagerFields = { manager: who.manager, operation: 'Update', apiVersion: who.apiVersion, set: taken, time: now };
  if (who.subresource) entry.subresource = who.subresource;
  const id = managerIdentifier(entry);
  const previous = managed.get(id);
  if (previous) entry.set = previous.set.union(taken);
  managed.set(id, entry);
}

/**
 * Updates next.metadata.managedFields for a create (old undefined), update or non-apply patch
 * by opts.manager. managedFields the request itself carries are taken as given (that is how
 * clients rewrite them, kubectl's upgrade from client-side apply among them); `[]` or `[{}]`
 * drops them; otherwise the stored ones are carried over. An existing object whose managedFields
 * are empty stays untracked until it is applied to.
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, opts: UpdateOptions): void {
  const typer = typerFor(opts.schema);
  const meta = next.metadata ?? (next.metadata = {});
  const stored = (): Managed => {
    try {
      return decodeManagedFields(old?.metadata?.managedFields);
    } catch {
      return new Map();
    }
  };
  let managed: Managed;
  if (opts.subresource) {
    managed = stored();
  } else if (isResetManagedFields(meta.managedFields)) {
    managed = new Map();
  } else {
    try {
      managed = decodeManagedFields(meta.managedFields);
    } catch {
      managed = new Map();
    }
    if (managed.size === 0) managed = stored();
  }
  delete meta.managedFields;
  if (managed.size === 0 && old?.metadata?.uid) return;
  const who = { manager: opts.manager, apiVersion: opts.apiVersion, subresource: opts.subresource };
  recordChange(typer, old ? withoutManagedFields(old) : {}, next, managed, who, opts.definition, fieldNameSet(opts.resetFields), opts.now);
  capUpdateManagers(managed);
  const encoded = encodeManagedFields(managed);
  if (encoded) meta.managedFields = encoded;
}

/**
 * Removes what the applier applied last time and not this time, unless a manager (the applier's
 * new set included) owns it; fields under a removed struct that nobody owns go with it.
 */
function prune(typer: Typer, merged: unknown, managed: Managed, last: FieldSet, definition: string): unknown {
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(typer, s, definition);
  const fieldsOf = (v: unknown): FieldSet => named(toFieldSet(typer, v, definition));
  const lastNamed = named(last);
  let owned = new FieldSet();
  for (const m of managed.values()) owned = owned.union(m.set);
  const mergedSet = fieldsOf(merged);
  // Remove all the applier had, then put back what anyone owns; of what stays removed, only
  // fields the applier had really go.
  const withoutLast = fieldsOf(removeItems(typer, merged, lastNamed, definition));
  const unowned = mergedSet.difference(withoutLast.union(named(owned)));
  const withoutUnowned = fieldsOf(removeItems(typer, merged, unowned, definition));
  return removeItems(typer, merged, mergedSet.difference(withoutUnowned).intersection(lastNamed), definition);
}

interface ApplyOutcome {
  object?: KubeObject;
  managed: Managed;
  conflicts?: Conflict[];
}

function applyOnce(
  typer: Typer,
  live: KubeObject | undefined,
  base: KubeObject | Record<string, unknown>,
  config: Record<string, unknown>,
  opts: ApplyOptions,
  reset: FieldSet | undefined,
  force: boolean,
): ApplyOutcome {
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (e) {
    throw new StatusError(500, '', `failed to decode managed fields: ${e instanceof Error ? e.message : String(e)}`);
  }
  // An object nobody tracked yet: what it has belongs to "before-first-apply", so the first apply
  // conflicts on what it would change.
  if (managed.size === 0) {
    const who = { manager: BEFORE_FIRST_APPLY, apiVersion: opts.apiVersion, subresource: opts.subresource };
    recordChange(typer, {}, base, managed, who, opts.definition, reset, opts.now);
  }
  const applier: ManagerFields = { manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion, set: new FieldSet() };
  if (opts.subresource) applier.subresource = opts.subresource;
  const id = managerIdentifier(applier);
  const last = managed.get(id);
  if (last?.time) applier.time = last.time;
  const applied = toFieldSet(typer, config, opts.definition);
  applier.set = reset ? applied.recursiveDifference(reset) : applied;
  managed.set(id, applier);

  let merged = mergeObjects(typer, base, config, opts.definition);
  if (last && !last.set.empty) merged = prune(typer, merged, managed, last.set, opts.definition);
  const change = filterComparison(compareObjects(typer, base, merged, opts.definition), reset);
  const conflicts = transferOwnership(managed, id, change, force);
  if (conflicts.length > 0) return { managed, conflicts };

  const changed = !jsonEqual(base, merged);
  const mine = managed.get(id);
  if (mine) {
    mine.set = mine.set.difference(STRIPPED_FIELDS);
    if (mine.set.empty) managed.delete(id);
    else if (changed) mine.time = opts.now;
  }
  capUpdateManagers(managed);
  return { object: cloneJSON((changed ? merged : base) as KubeObject), managed };
}

/**
 * The fields kubectl's client-side apply set (its last-applied annotation) that still hold
 * their values: kubectl's first server-side apply may take these over without conflict.
 */
function allowedFromLastApplied(typer: Typer, live: KubeObject | undefined, base: unknown, opts: ApplyOptions): FieldSet | undefined {
  const raw = live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || raw === '') return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isJSONObject(last) || last.apiVersion !== opts.apiVersion) return undefined;
  if (validate(typer, last, opts.definition).length > 0) return undefined;
  const c = compareObjects(typer, last, base, opts.definition);
  return toFieldSet(typer, last, opts.definition).difference(c.modified).difference(c.added).difference(c.removed);
}

/** JSON as Go encodes a decoded object: keys sorted, <, > and & escaped. */
function goJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (isJSONObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${goJSONString(k)}:${goJSON(v[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goJSONString(v);
  return JSON.stringify(v ?? null);
}

/** The applied configuration as the last-applied annotation holds it. */
function lastAppliedValue(config: Record<string, unknown>): string {
  const copy = cloneJSON(config);
  const meta = copy.metadata;
  if (isJSONObject(meta) && isJSONObject(meta.annotations)) delete meta.annotations[LAST_APPLIED_ANNOTATION];
  return `${goJSON(copy)}\n`;
}

function setLastApplied(obj: KubeObject, value: string): void {
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: value };
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
  obj.metadata.annotations = annotations;
}

/** The URL's name and namespace must be the object's, as the patch handler checks them. */
function checkName(obj: KubeObject, opts: ApplyOptions): void {
  const name = str(obj.metadata?.name);
  const urlName = opts.name ?? name;
  if (name === '') {
    throw badRequest(`the name of the object (${urlName} based on URL) was undeterminable: name must be provided`);
  }
  if (name !== urlName) {
    throw badRequest(`the name of the object (${name}) does not match the name on the URL (${urlName})`);
  }
  const namespace = str(obj.metadata?.namespace);
  if (opts.namespace && namespace && namespace !== opts.namespace) {
    throw badRequest(`the namespace of the object (${namespace}) does not match the namespace on the URL (${opts.namespace})`);
  }
}

/**
 * Server-side apply of `applied` (the decoded apply-patch body) by opts.manager to `live` (or
 * to a new object). Returns the object to store, with metadata.managedFields updated; the
 * inputs are not modified. Throws a StatusError: 422 without a fieldManager, 400 for an object
 * of another type (or without apiVersion and kind), with managedFields, or whose name is not the
 * URL's; 500 for an object the schema rejects, as kube-apiserver does; 409 on conflicts.
 */
export function serverSideApply(live: KubeObject | undefined, applied: unknown, opts: ApplyOptions): KubeObject {
  const fmErrors = fieldManagerErrors(opts.manager, true);
  if (fmErrors.length > 0) throw invalidError('meta.k8s.io', 'PatchOptions', '', fmErrors);
  const typer = typerFor(opts.schema);
  const config = isJSONObject(applied) ? applied : {};
  const got = gvkOf(config);
  const want = expectedGVK(typer, opts.definition, opts.apiVersion);
  if (got.group !== want.group || got.version !== want.version || got.kind !== want.kind) {
    throw badRequest(`invalid object type: ${gvkString(got)}`);
  }
  const configMeta = isJSONObject(config.metadata) ? config.metadata : {};
  if (Array.isArray(configMeta.managedFields)) throw badRequest('metadata.managedFields must be nil');
  const errors = validate(typer, config, opts.definition);
  if (errors.length > 0) {
    const which = `${str(configMeta.namespace)}/${str(configMeta.name)}; ${gvkString(got)}`;
    throw new StatusError(500, '', `failed to create typed patch object (${which}): ${validationErrorsText(errors)}`);
  }

  const base: KubeObject | Record<string, unknown> = live ? withoutManagedFields(live) : {};
  const reset = fieldNameSet(opts.resetFields);
  let outcome = applyOnce(typer, live, base, config, opts, reset, opts.force);
  if (outcome.conflicts && opts.manager === KUBECTL_MANAGER) {
    // kubectl's first server-side apply over its client-side applies takes over the fields its
    // last-applied configuration set, as long as they still hold those values.
    const allowed = allowedFromLastApplied(typer, live, base, opts);
    if (allowed) {
      const remaining = outcome.conflicts.filter((c) => !allowed.has(c.path));
      outcome = remaining.length === 0 ? applyOnce(typer, live, base, config, opts, reset, true) : { ...outcome, conflicts: remaining };
    }
  }
  if (outcome.conflicts) throw conflictError(outcome.conflicts);

  const result = outcome.object!;
  result.metadata ??= {};
  if (opts.manager === KUBECTL_MANAGER && str(result.metadata.annotations?.[LAST_APPLIED_ANNOTATION]) !== '') {
    setLastApplied(result, lastAppliedValue(config));
  }
  const encoded = encodeManagedFields(outcome.managed);
  if (encoded) result.metadata.managedFields = encoded;
  else delete result.metadata.managedFields;
  checkName(result, opts);
  return result;
}
