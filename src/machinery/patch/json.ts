// JSON patch (RFC 6902, application/json-patch+json) with the semantics of the library
// kube-apiserver applies it with (gopkg.in/evanphx/json-patch.v4), quirks included:
// `replace` of a missing object key adds it, negative array indices count from the end,
// and `copy` from a missing key copies null.
// Also the small JSON helpers the other patch modules share.
import { StatusError, badRequest } from '../errors.js';

type JSONObject = Record<string, unknown>;

/** kube-apiserver refuses JSON patches with more operations than this. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** How much `copy` operations may grow a document (apiserver's JSONPatchMaxCopyBytes default). */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

export function isJSONObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-property read: keys like "constructor" or "__proto__" in user data must not reach the prototype. */
export function getOwn(obj: JSONObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Own-property write that also stores a "__proto__" key as data instead of changing the prototype. */
export function setOwn(obj: JSONObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

export function cloneJSON<T>(v: T): T {
  if (Array.isArray(v)) return v.map((e) => cloneJSON(e)) as T;
  if (isJSONObject(v)) {
    const out: JSONObject = {};
    for (const [k, e] of Object.entries(v)) setOwn(out, k, cloneJSON(e));
    return out as T;
  }
  return v;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((e, i) => jsonEqual(e, b[i]));
  }
  if (isJSONObject(a) && isJSONObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The JSON kind as Go's encoding/json names it in "cannot unmarshal X into ..." errors. */
export function goJSONKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'object':
      return 'object';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return typeof v;
  }
}

/**
 * The answer kube-apiserver gives when a patch cannot be applied to the object: 422 with a fixed
 * message (the library's own words never reach the client). The reason is kept in `cause` for logs.
 */
export function patchRejected(detail: string): StatusError {
  const err = new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  err.cause = detail;
  return err;
}

/** A failed operation, worded as the Go library words it (pkg/errors wrapping: "context: cause"). */
class OperationError extends Error {}

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

type Container = JSONObject | unknown[];

function isContainer(v: unknown): v is Container {
  return Array.isArray(v) || isJSONObject(v);
}

/** RFC 6901 unescaping in one left-to-right pass, so "~01" becomes "~1". */
function decodeKey(k: string): string {
  return k.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

/** Go's strconv.Atoi: optional sign, decimal digits, 64-bit range. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new OperationError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    throw new OperationError(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return Number(n);
}

function invalidIndex(idx: number): OperationError {
  return new OperationError(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
}

function containerGet(con: Container, key: string): unknown {
  if (!Array.isArray(con)) return getOwn(con, key);
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  if (idx >= con.length) throw invalidIndex(idx);
  return con[idx];
}

function containerAdd(con: Container, key: string, value: unknown): void {
  if (!Array.isArray(con)) {
    setOwn(con, key, value);
    return;
  }
  if (key === '-') {
    con.push(value);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new OperationError(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  const size = con.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  con.splice(idx, 0, value);
}

/** Only used by `replace`, after containerGet has checked the index. */
function containerSet(con: Container, key: string, value: unknown): void {
  if (!Array.isArray(con)) {
    setOwn(con, key, value);
    return;
  }
  let idx = atoi(key);
  if (idx < 0) idx += con.length;
  con[idx] = value;
}

function containerRemove(con: Container, key: string): void {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key)) throw new OperationError(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete con[key];
    return;
  }
  let idx = atoi(key);
  if (idx >= con.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  con.splice(idx, 1);
}

/**
 * The container holding the last path segment, or undefined when an intermediate segment is
 * missing, null or a scalar. Like the Go library, the text before the first "/" is ignored.
 */
function findObject(root: Container, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let doc: Container = root;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = containerGet(doc, decodeKey(part));
    } catch {
      return undefined;
    }
    if (!isContainer(next)) return undefined;
    doc = next;
  }
  return { con: doc, key: decodeKey(split[split.length - 1]!) };
}

type Operation = JSONObject | null;

/** Reads "path" or "from"; the Go library fails on a missing, null or non-string member. */
function readPointer(op: Operation, member: 'path' | 'from'): string {
  const v = op ? getOwn(op, member) : undefined;
  if (v === undefined || v === null) {
    throw new OperationError(member === 'path' ? `operation missing path field: ${MISSING}` : `operation, missing from field: ${MISSING}`);
  }
  if (typeof v !== 'string') throw new OperationError(`json: cannot unmarshal ${goJSONKind(v)} into Go value of type string`);
  return v;
}

/** Reads a pointer, rewording a failure the way each operation does. */
function pointer(op: Operation, member: 'path' | 'from', context: string, keepCause: boolean): string {
  try {
    return readPointer(op, member);
  } catch (e) {
    throw new OperationError(`${context}: ${keepCause ? (e as Error).message : MISSING}`);
  }
}

function opKind(op: Operation): string {
  const v = op ? getOwn(op, 'op') : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

function opValue(op: Operation): { present: boolean; value: unknown } {
  const value = op ? getOwn(op, 'value') : undefined;
  // An absent value is applied as null, as the Go library marshals its nil node.
  return value === undefined ? { present: false, value: null } : { present: true, value };
}

interface PatchState {
  root: Container;
  copied: number;
}

function wrapped<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OperationError) throw new OperationError(`${context}: ${e.message}`);
    throw e;
  }
}

function applyAdd(state: PatchState, op: Operation): void {
  const path = pointer(op, 'path', 'add operation failed to decode path', false);
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
  const value = cloneJSON(opValue(op).value);
  wrapped(`error in add for path: '${path}'`, () => containerAdd(target.con, target.key, value));
}

function applyRemove(state: PatchState, op: Operation): void {
  const path = pointer(op, 'path', 'remove operation failed to decode path', false);
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
  wrapped(`error in remove for path: '${path}'`, () => containerRemove(target.con, target.key));
}

function applyReplace(state: PatchState, op: Operation): void {
  const path = pointer(op, 'path', 'replace operation failed to decode path', true);
  const { value } = opValue(op);
  if (path === '') {
    // The whole document; the Go library silently ignores a value that is not a container.
    if (isContainer(value)) state.root = cloneJSON(value);
    return;
  }
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
  try {
    containerGet(target.con, target.key);
  } catch {
    throw new OperationError(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
  }
  // An object key that does not exist yet is simply set: evanphx v4 only checks array indices here.
  wrapped(`error in remove for path: '${path}'`, () => containerSet(target.con, target.key, cloneJSON(value)));
}

function applyMove(state: PatchState, op: Operation): void {
  const from = pointer(op, 'from', 'move operation failed to decode from', true);
  const source = findObject(state.root, from);
  if (!source) throw new OperationError(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
  const value = wrapped(`error in move for path: '${source.key}'`, () => containerGet(source.con, source.key));
  wrapped(`error in move for path: '${source.key}'`, () => containerRemove(source.con, source.key));
  const path = pointer(op, 'path', 'move operation failed to decode path', true);
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
  wrapped(`error in move for path: '${path}'`, () => containerAdd(target.con, target.key, value ?? null));
}

function applyTest(state: PatchState, op: Operation): void {
  const path = pointer(op, 'path', 'test operation failed to decode path', true);
  const expected = opValue(op);
  const failed = new OperationError(`testing value ${path} failed: test failed`);
  if (path === '') {
    if (!expected.present || !jsonEqual(state.root, expected.value)) throw failed;
    return;
  }
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
  const actual = wrapped(`error in test for path: '${path}'`, () => containerGet(target.con, target.key));
  // A missing member and a null one are the same to the Go library: both match `"value": null`.
  if (actual === undefined || actual === null) {
    if (expected.present && expected.value === null) return;
    throw failed;
  }
  if (!expected.present || !jsonEqual(actual, expected.value)) throw failed;
}

function applyCopy(state: PatchState, op: Operation): void {
  const from = pointer(op, 'from', 'copy operation failed to decode from', true);
  const source = findObject(state.root, from);
  if (!source) throw new OperationError(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
  const value = wrapped(`error in copy for from: '${from}'`, () => containerGet(source.con, source.key));
  const path = pointer(op, 'path', 'copy operation failed to decode path', false);
  const target = findObject(state.root, path);
  if (!target) throw new OperationError(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
  // Copying a missing key copies null and costs nothing, as in the Go library.
  const copy = value === undefined ? null : cloneJSON(value);
  state.copied += value === undefined ? 0 : Buffer.byteLength(JSON.stringify(copy));
  if (state.copied > MAX_JSON_PATCH_COPY_BYTES) {
    throw new OperationError(
      `Unable to complete the copy, the accumulated size increase of copy is ${state.copied}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`,
    );
  }
  wrapped('error while adding value during copy', () => containerAdd(target.con, target.key, copy));
}

function decodePatch(patch: unknown): Operation[] {
  if (patch === undefined) throw badRequest('unexpected end of JSON input');
  if (patch === null) return [];
  if (!Array.isArray(patch)) {
    throw badRequest(`json: cannot unmarshal ${goJSONKind(patch)} into Go value of type jsonpatch.Patch`);
  }
  return patch.map((op: unknown) => {
    if (op === null || isJSONObject(op)) return op;
    throw badRequest(`json: cannot unmarshal ${goJSONKind(op)} into Go value of type jsonpatch.Operation`);
  });
}

/**
 * Applies an RFC 6902 JSON patch as kube-apiserver does. A body that is not a list of operations
 * is a 400, more than 10000 operations a 413, an operation that does not apply a 422.
 * Never mutates `doc` or `patch`.
 */
export function applyJSONPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodePatch(patch);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  const root = cloneJSON(doc);
  if (!isContainer(root)) throw patchRejected(`json: cannot unmarshal ${goJSONKind(root)} into Go value of type jsonpatch.partialDoc`);
  const state: PatchState = { root, copied: 0 };
  for (const op of ops) {
    try {
      switch (opKind(op)) {
        case 'add':
          applyAdd(state, op);
          break;
        case 'remove':
          applyRemove(state, op);
          break;
        case 'replace':
          applyReplace(state, op);
          break;
        case 'move':
          applyMove(state, op);
          break;
        case 'test':
          applyTest(state, op);
          break;
        case 'copy':
          applyCopy(state, op);
          break;
        default:
          throw new OperationError(`Unexpected kind: ${opKind(op)}`);
      }
    } catch (e) {
      if (e instanceof OperationError) throw patchRejected(e.message);
      throw e;
    }
  }
  // kube-apiserver decodes the result into the object's type; anything but an object fails there.
  if (isJSONObject(doc) && !isJSONObject(state.root)) {
    throw patchRejected(`the patched document is a ${goJSONKind(state.root)}, not an object`);
  }
  return state.root;
}
