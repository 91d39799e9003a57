// metadata.managedFields: who owns which fields of an object, as kube-apiserver's field manager
// keeps it (k8s.io/apimachinery/pkg/util/managedfields).
//
// One entry per manager and operation: Apply entries are keyed by manager and subresource (the
// apiVersion is that of the last apply), Update entries by manager, apiVersion and subresource.
// An Update takes the fields a write added or changed away from every other manager and gives
// them to the writer; removed fields leave every owner. An Apply makes the applied set the
// applier's, and fails on fields it changes that others own unless forced.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { StatusError } from '../errors.js';
import { Path, invalid, required, tooLong, type FieldError } from '../validation.js';
import { FieldSet, fieldElement, pathString, type FieldPath } from './fieldset.js';
import type { Comparison } from './merge.js';

export const FIELDS_V1 = 'FieldsV1';
/** The Update manager that owns an untracked object's fields when it is first applied to. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';
/** The Update manager the oldest Update entries are folded into past MAX_UPDATE_MANAGERS. */
export const ANCIENT_CHANGES = 'ancient-changes';
export const MAX_UPDATE_MANAGERS = 10;
/** The longest fieldManager kube-apiserver accepts, in bytes. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

export type Operation = 'Apply' | 'Update';

/** One manager's fields. */
export interface ManagerFields {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  /** RFC 3339, second precision; absent when the manager never changed the object. */
  time?: string;
  set: FieldSet;
}

/** Managers keyed by their identifier (see managerIdentifier). */
export type Managed = Map<string, ManagerFields>;

/** Go's encoding/json string escaping, which also escapes <, > and &. */
export function goJSONString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The key a manager's entry is tracked under: the JSON of its entry without fields and time, and
 * without the apiVersion for appliers (so each apply replaces the previous one).
 */
export function managerIdentifier(m: { manager: string; operation: Operation; apiVersion: string; subresource?: string }): string {
  const parts: string[] = [];
  if (m.manager) parts.push(`"manager":${goJSONString(m.manager)}`);
  parts.push(`"operation":${goJSONString(m.operation)}`);
  if (m.operation === 'Update' && m.apiVersion) parts.push(`"apiVersion":${goJSONString(m.apiVersion)}`);
  if (m.subresource) parts.push(`"subresource":${goJSONString(m.subresource)}`);
  return `{${parts.join(',')}}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes metadata.managedFields; throws an Error on an entry kube-apiserver would not decode
 * (unknown operation, no apiVersion, no or unknown fieldsType, bad FieldsV1).
 */
export function decodeManagedFields(entries: unknown): Managed {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e, i) => {
    if (!isObject(e)) throw new Error(`managed fields entry ${i} is not an object`);
    const operation = e.operation;
    if (operation !== 'Apply' && operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    const apiVersion = typeof e.apiVersion === 'string' ? e.apiVersion : '';
    if (apiVersion === '') throw new Error('apiVersion must not be empty');
    const fieldsType = typeof e.fieldsType === 'string' ? e.fieldsType : '';
    if (fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== FIELDS_V1) throw new Error(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const manager = typeof e.manager === 'string' ? e.manager : '';
    const subresource = typeof e.subresource === 'string' && e.subresource ? e.subresource : undefined;
    const set = e.fieldsV1 === undefined || e.fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(e.fieldsV1);
    const time = typeof e.time === 'string' && e.time ? e.time : undefined;
    const entry: ManagerFields = { manager, operation, apiVersion, set };
    if (subresource) entry.subresource = subresource;
    if (time) entry.time = time;
    managed.set(managerIdentifier(entry), entry);
  });
  return managed;
}

/** `[]` or `[{}]`: how a client asks for managedFields to be dropped. */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1 || !isObject(entries[0])) return false;
  return Object.values(entries[0]).every((v) => v === undefined || v === null || v === '');
}

function seconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Go's string ordering is byte-wise; for the ASCII names in practice, code units agree. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The managedFields of `managed`, ordered as kube-apiserver orders them: Apply before Update,
 * then oldest first, then by manager, apiVersion and subresource. Undefined when empty.
 */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.size === 0) return undefined;
  const entries = [...managed.values()].sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries.map((m) => {
    const e: ManagedFieldsEntry = {};
    if (m.manager) e.manager = m.manager;
    e.operation = m.operation;
    e.apiVersion = m.apiVersion;
    if (m.time) e.time = m.time;
    e.fieldsType = FIELDS_V1;
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

const meta = (name: string): FieldPath => [fieldElement('metadata'), fieldElement(name)];

/** What the field manager never records as owned: type and object identity, and system fields. */
export const STRIPPED_FIELDS = FieldSet.of(
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  meta('name'),
  meta('namespace'),
  meta('creationTimestamp'),
  meta('selfLink'),
  meta('uid'),
  meta('clusterName'),
  meta('generation'),
  meta('managedFields'),
  meta('resourceVersion'),
);

/** A set of top-level (or deeper) field-name paths, e.g. [['status']]. */
export function fieldNameSet(paths: readonly (readonly string[])[] | undefined): FieldSet | undefined {
  if (!paths || paths.length === 0) return undefined;
  return FieldSet.of(...paths.map((p) => p.map(fieldElement)));
}

/** The comparison without the fields a strategy resets (and everything below them). */
export function filterComparison(c: Comparison, reset: FieldSet | undefined): Comparison {
  if (!reset) return c;
  return {
    added: c.added.recursiveDifference(reset),
    modified: c.modified.recursiveDifference(reset),
    removed: c.removed.recursiveDifference(reset),
  };
}

export interface Conflict {
  /** The identifier of the manager that owns the field. */
  manager: string;
  path: FieldPath;
}

/**
 * Applies a change to every manager but `workflow`: the fields it added or modified conflict
 * with their owners (returned, in a stable order, when not forced, leaving `managed` as it was);
 * otherwise owners lose them, every owner loses the removed fields, and empty managers go.
 */
export function transferOwnership(managed: Managed, workflow: string, change: Comparison, force: boolean): Conflict[] {
  const changed = change.modified.union(change.added);
  const conflicts: Conflict[] = [];
  const lost = new Map<string, FieldSet>();
  for (const id of [...managed.keys()].sort(cmp)) {
    if (id === workflow) continue;
    const c = managed.get(id)!.set.intersection(changed);
    if (c.empty) continue;
    lost.set(id, c);
    for (const path of c.paths()) conflicts.push({ manager: id, path });
  }
  if (!force && conflicts.length > 0) return conflicts;
  for (const [id, m] of managed) {
    if (id === workflow) continue;
    const c = lost.get(id);
    let set = c ? m.set.difference(c) : m.set;
    if (!change.removed.empty) set = set.difference(change.removed);
    m.set = set;
  }
  for (const [id, m] of [...managed]) if (m.set.empty) managed.delete(id);
  return [];
}

/**
 * Folds the oldest Update entries into per-apiVersion "ancient-changes" entries until at most
 * `max` Update entries remain.
 */
export function capUpdateManagers(managed: Managed, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managed.entries()].filter(([, m]) => m.operation === 'Update').map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => seconds(managed.get(a)!.time) - seconds(managed.get(b)!.time) || cmp(a, b));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const m = managed.get(id)!;
    const bucketId = managerIdentifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion });
    const first = firstByVersion.get(m.apiVersion);
    if (first === undefined) {
      firstByVersion.set(m.apiVersion, id);
      continue;
    }
    // The bucket itself, when something older already goes into it, stays as it is.
    if (id === bucketId) continue;
    let bucket = managed.get(bucketId);
    if (!bucket) {
      const f = managed.get(first)!;
      managed.delete(first);
      bucket = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: f.apiVersion, set: f.set };
      managed.set(bucketId, bucket);
    }
    bucket.set = m.set.union(bucket.set);
    bucket.apiVersion = m.apiVersion;
    if (m.time) bucket.time = m.time;
    else delete bucket.time;
    managed.delete(id);
    length--;
  }
}

/** A manager as conflict messages name it: `"kubectl-client-side-apply" using apps/v1`. */
export function printManager(id: string): string {
  let e: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(id);
    if (!isObject(parsed)) return JSON.stringify(id);
    e = parsed;
  } catch {
    return JSON.stringify(id);
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  let out = JSON.stringify(str(e.manager));
  if (str(e.subresource)) out = `${out} with subresource ${JSON.stringify(str(e.subresource))}`;
  // Identifiers carry no time, so Kubernetes' "at <time>" form never shows.
  return e.operation === 'Update' ? `${out} using ${str(e.apiVersion)}` : out;
}

/** The 409 an apply with conflicts fails with, worded as kube-apiserver words it. */
export function conflictError(conflicts: Conflict[]): StatusError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, FieldPath[]>();
    for (const c of conflicts) {
      const list = byManager.get(c.manager) ?? [];
      list.push(c.path);
      byManager.set(c.manager, list);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort(cmp)) {
      lines.push(`conflicts with ${printManager(id)}:`);
      for (const p of byManager.get(id)!) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

function isPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * The problems with a request's fieldManager (PatchOptions, CreateOptions, UpdateOptions):
 * required for apply, at most 128 bytes, printable characters only.
 */
export function fieldManagerErrors(fieldManager: string | undefined, apply: boolean): FieldError[] {
  const path = Path.root('fieldManager');
  const fm = fieldManager ?? '';
  const errs: FieldError[] = [];
  if (apply && fm === '') errs.push(required(path, 'is required for apply patch'));
  if (Buffer.byteLength(fm, 'utf8') > FIELD_MANAGER_MAX_LENGTH) errs.push(tooLong(path, FIELD_MANAGER_MAX_LENGTH));
  let offset = 0;
  for (const ch of fm) {
    if (!isPrintable(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errs.push(invalid(path, fm, `invalid character U+${code} (at position ${offset})`));
    }
    offset += Buffer.byteLength(ch, 'utf8');
  }
  return errs;
}

/**
 * The manager a write without fieldManager is recorded under: the User-Agent up to its first
 * "/", without unprintable characters, cut to 128 bytes (kubectl/v1.30.0 ... -> "kubectl").
 */
export function managerFromUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]!) {
    if (!isPrintable(ch)) continue;
    if (Buffer.byteLength(out + ch, 'utf8') > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}
