// Strategic merge patch (application/strategic-merge-patch+json) as k8s.io/apimachinery's
// strategicpatch applies it server-side, with the patch metadata read from OpenAPI v2 definitions
// (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key) instead of Go struct tags.
//
// Errors map to HTTP as kube-apiserver maps them: malformed directives are 400 BadRequest, lists of
// lists 422, and everything else the library reports (missing merge key, unknown $patch value, ...)
// reaches the client as a 500 with the library's message and no reason.
//
// kube-apiserver decodes the merged map into the typed object, which silently drops leftover
// directive keys and null members of values the patch inserts. berth stores JSON, so values taken
// from the patch are cleaned the same way when they are inserted.
import { StatusError, badRequest, internalError } from '../errors.js';
import { cloneJSON, getOwn, goJSONKind, isJSONObject, jsonEqual, patchRejected, setOwn } from './json.js';

type JSONObject = Record<string, unknown>;

/** The parts of an OpenAPI schema object that strategic merge patch reads. */
export interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  additionalProperties?: SchemaObject | boolean;
  $ref?: string;
  allOf?: SchemaObject[];
  /** Comma-separated: "merge", "replace", "retainKeys", "merge,retainKeys". */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
}

/** OpenAPI v2 `definitions`, keyed like "io.k8s.api.core.v1.PodSpec". */
export interface PatchSchema {
  definitions: Record<string, SchemaObject>;
}

const DIRECTIVE_MARKER = '$patch';
const DELETE_DIRECTIVE = 'delete';
const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

// The sentinel errors of k8s.io/apimachinery/pkg/util/mergepatch that the apiserver answers with 400.
const ERR_BAD_JSON_DOC = 'invalid JSON document';
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = 'invalid patch format of setElementOrder list';

// ---------------------------------------------------------------------------------------------
// Errors and Go-style formatting (the library's messages embed Go's %v of the values).

/** Any error the library returns that is not one of its sentinels: a 500 with no reason. */
function failure(message: string): StatusError {
  return new StatusError(500, '', message);
}

function errNoListOfLists(): StatusError {
  return patchRejected('lists of lists are not supported');
}

function formatGoNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // %v of a float64: shortest digits, exponent form below 1e-4 or from 1e+06 (two-digit exponent).
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** fmt's %v of a decoded JSON value. */
function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatGoNumber(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isJSONObject(v)) {
    const entries = Object.keys(v)
      .sort()
      .map((k) => `${k}:${goFormat(v[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(v);
}

/** The Go type a decoded value has (the apiserver decodes patches preserving integers). */
function goType(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isJSONObject(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

function goTypeName(v: unknown): string {
  switch (goType(v)) {
    case 'nil':
      return '%!s(<nil>)';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    default:
      return goType(v);
  }
}

/** fmt's %s of a value that should have been a string. */
function goFormatS(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (typeof v === 'number' || typeof v === 'boolean') return `%!s(${goType(v)}=${goFormat(v)})`;
  return goFormat(v);
}

function errBadArgType(expected: 'map' | 'slice', actual: unknown): StatusError {
  const want = expected === 'map' ? 'map[string]interface {}' : '[]interface {}';
  return failure(`expected a ${want}, but received a ${goTypeName(actual)}`);
}

function errNoMergeKey(m: JSONObject, key: string): StatusError {
  return failure(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

function errBadPatchType(directive: unknown, m: JSONObject): StatusError {
  return failure(`unknown patch type: ${goFormatS(directive)} in map: ${goFormat(m)}`);
}

// ---------------------------------------------------------------------------------------------
// Patch metadata from the schema.

interface FieldMeta {
  /** Schema of the field's value (for lists: of the elements); undefined when not described. */
  schema: Cursor;
  retainKeys: boolean;
  /** "merge", "replace" or "" (lists replace, maps merge). */
  strategy: string;
  mergeKey: string;
}

/** A position in the schema. A field the schema does not describe merges as a plain map or list. */
class Cursor {
  constructor(
    private readonly schema: PatchSchema,
    private readonly node: SchemaObject | undefined,
  ) {}

  private resolve(node: SchemaObject | undefined): SchemaObject | undefined {
    // Bounded, since a $ref chain in a hand-written schema may loop.
    for (let hops = 0; node && hops < 64; hops++) {
      if (typeof node.$ref === 'string') {
        const name = node.$ref.slice(node.$ref.lastIndexOf('/') + 1);
        node = Object.hasOwn(this.schema.definitions, name) ? this.schema.definitions[name] : undefined;
      } else if (Array.isArray(node.allOf) && node.allOf.length > 0) {
        node = node.allOf[0];
      } else {
        return node;
      }
    }
    return undefined;
  }

  /** The metadata of `key` in this object; for lists the returned schema is the element's. */
  field(key: string, list: boolean): FieldMeta {
    const here = this.resolve(this.node);
    let prop: SchemaObject | undefined;
    if (here?.properties && Object.hasOwn(here.properties, key)) prop = here.properties[key];
    else if (isJSONObject(here?.additionalProperties)) prop = here.additionalProperties as SchemaObject;
    const resolved = this.resolve(prop);
    const strategies = (prop?.['x-kubernetes-patch-strategy'] ?? resolved?.['x-kubernetes-patch-strategy'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const { retainKeys, strategy } = extractRetainKeysPatchStrategy(strategies);
    return {
      schema: new Cursor(this.schema, list ? resolved?.items : prop),
      retainKeys,
      strategy,
      mergeKey: prop?.['x-kubernetes-patch-merge-key'] ?? resolved?.['x-kubernetes-patch-merge-key'] ?? '',
    };
  }
}

function extractRetainKeysPatchStrategy(strategies: string[]): { retainKeys: boolean; strategy: string } {
  switch (strategies.length) {
    case 0:
      return { retainKeys: false, strategy: '' };
    case 1:
      return strategies[0] === RETAIN_KEYS_STRATEGY
        ? { retainKeys: true, strategy: '' }
        : { retainKeys: false, strategy: strategies[0]! };
    case 2:
      if (strategies[0] === RETAIN_KEYS_STRATEGY) return { retainKeys: true, strategy: strategies[1]! };
      if (strategies[1] === RETAIN_KEYS_STRATEGY) return { retainKeys: true, strategy: strategies[0]! };
  }
  throw failure(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

function rootCursor(schema: PatchSchema, rootDefinition: string): Cursor {
  if (!Object.hasOwn(schema.definitions, rootDefinition)) {
    throw internalError(new Error(`no OpenAPI definition ${JSON.stringify(rootDefinition)} for strategic merge patch`));
  }
  return new Cursor(schema, { $ref: `#/definitions/${rootDefinition}` });
}

// ---------------------------------------------------------------------------------------------
// Shared list helpers.

/** The single Go type of all elements; lists of lists are refused. */
function sliceElementType(slices: unknown[][], typeOf: (v: unknown) => string = goType): string {
  let prev: string | undefined;
  for (const s of slices) {
    for (const v of s) {
      const t = typeOf(v);
      if (prev === undefined) {
        if (t === 'slice') throw errNoListOfLists();
        prev = t;
      } else if (prev !== t) {
        throw failure(`list element types are not identical: ${goFormat(slices)}`);
      }
    }
  }
  if (prev === undefined) throw failure('no elements in any of the given slices');
  // The Go code dereferences a nil type here; answer with words instead of a panic.
  if (prev === 'nil') throw failure(`list elements must not be null: ${goFormat(slices)}`);
  return prev;
}

/** Go's in-place deduplication, which moves the last element into each duplicate's slot. */
function deduplicateScalars(input: unknown[]): unknown[] {
  const s = [...input];
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

function sortScalars(s: unknown[]): unknown[] {
  return [...s].sort((a, b) => compareStrings(goFormat(a), goFormat(b)));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requireMap(v: unknown): JSONObject {
  if (!isJSONObject(v)) throw errBadArgType('map', v);
  return v;
}

/** The element whose merge key equals `value` (Go ==, so object values never match). */
function findByMergeKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isJSONObject(item)) throw failure(`value for key ${i} is not a map`);
    if (Object.hasOwn(item, mergeKey) && item[mergeKey] === value && (typeof value !== 'object' || value === null)) return i;
  }
  return -1;
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return left === right && (typeof left !== 'object' || left === null);
  const l = requireMap(left);
  const r = requireMap(right);
  if (!Object.hasOwn(l, mergeKey)) throw errNoMergeKey(l, mergeKey);
  if (!Object.hasOwn(r, mergeKey)) throw errNoMergeKey(r, mergeKey);
  return l[mergeKey] === r[mergeKey] && (typeof l[mergeKey] !== 'object' || l[mergeKey] === null);
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      const m = requireMap(item);
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    }
  }
}

/** Splits off the `$patch: delete` elements. */
function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const remove: unknown[] = [];
  for (const v of list) {
    const m = requireMap(v);
    if (getOwn(m, DIRECTIVE_MARKER) === DELETE_DIRECTIVE) remove.push(v);
    else keep.push(v);
  }
  return [keep, remove];
}

/** Position of `item` in `list`: by merge key value for maps, by value otherwise. */
function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: string): number {
  const key = (v: unknown): unknown => (kind === 'map' ? (isJSONObject(v) ? (getOwn(v, mergeKey) ?? null) : null) : v);
  const wanted = key(item);
  if (typeof wanted === 'object' && wanted !== null) return -1;
  return list.findIndex((v) => key(v) === wanted);
}

/** Sorts `toSort` by position in `order`; `$patch: delete` elements go last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: string): unknown[] {
  let keep = toSort;
  let remove: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [keep, remove] = extractToDeleteItems(toSort);
  }
  const position = (v: unknown): number => {
    const i = indexIn(order, v, mergeKey, kind);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const sorted = keep
    .map((v) => ({ v, p: position(v) }))
    .sort((a, b) => a.p - b.p)
    .map((e) => e.v);
  return [...sorted, ...remove];
}

/**
 * Interleaves the server-only elements (`left`, in live order) with the patch's (`right`):
 * a server-only element goes first only when both are in the live list and it came earlier there,
 * so elements new to the list end up before the server-only ones that follow them.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: string,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/** Splits `list` into elements present in `by` and the rest (primitives, compared by value). */
function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  // Go keys a map by these values, which panics for maps and lists.
  for (const v of [...by, ...list]) {
    if (typeof v === 'object' && v !== null) throw failure(`runtime error: hash of unhashable type ${goTypeName(v)}`);
  }
  const present = new Set(by);
  return [list.filter((v) => present.has(v)), list.filter((v) => !present.has(v))];
}

function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    const m = requireMap(v);
    if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    if (findByMergeKey(by, mergeKey, m[mergeKey]) >= 0) inPatch.push(v);
    else serverOnly.push(v);
  }
  return [inPatch, serverOnly];
}

function partitionByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  return mergeKey === '' ? partitionPrimitivesByPresentInList(list, by) : partitionMapsByPresentInList(list, by, mergeKey);
}

/** "$setElementOrder/containers" → "containers"; a malformed key is the prefix's 400. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badRequest(
      prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX ? ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST : ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST,
    );
  }
  return key.slice(slash + 1);
}

function isDirectiveKey(key: string): boolean {
  return (
    key === DIRECTIVE_MARKER ||
    key === RETAIN_KEYS_DIRECTIVE ||
    key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) ||
    key.startsWith(SET_ELEMENT_ORDER_PREFIX)
  );
}

const DROPPED = Symbol('dropped');

/**
 * A value from the patch as it ends up in the object: directive keys and null members gone.
 * With `dropDirectiveMaps`, maps carrying `$patch` vanish entirely, as strategicpatch's
 * removeDirectives does where a patch value is taken without merging.
 */
function sanitize(v: unknown, dropDirectiveMaps: boolean): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const e of v) {
      const r = sanitize(e, dropDirectiveMaps);
      if (r !== DROPPED) out.push(r);
    }
    return out;
  }
  if (isJSONObject(v)) {
    if (dropDirectiveMaps && Object.hasOwn(v, DIRECTIVE_MARKER)) return DROPPED;
    const out: JSONObject = {};
    for (const [k, e] of Object.entries(v)) {
      if (e === null || e === undefined || isDirectiveKey(k)) continue;
      const r = sanitize(e, dropDirectiveMaps);
      if (r !== DROPPED) setOwn(out, k, r);
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Applying a patch (server side: parallel lists are merged, unmatched nulls ignored).

function handleDirectiveInMergeMap(directive: unknown, patch: JSONObject): JSONObject {
  if (directive === REPLACE_DIRECTIVE) {
    delete patch[DIRECTIVE_MARKER];
    return sanitize(patch, false) as JSONObject;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

/** `$retainKeys: [...]` clears every member of the original not listed; the patch may only set listed ones. */
function applyRetainKeysDirective(original: JSONObject, patch: JSONObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retain = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retain)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.startsWith(SET_ELEMENT_ORDER_PREFIX)) {
      continue;
    }
    if (!keep.has(k)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Every non-directive element of the patch list must appear in `$setElementOrder`, in the same order. */
function validatePatchWithSetOrderList(patchList: unknown[], setOrderList: unknown[], mergeKey: string): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrderList.length) {
    const item = nonDelete[p];
    if (isJSONObject(item) && Object.hasOwn(item, DIRECTIVE_MARKER)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrderList[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrderList.length) {
    throw failure(
      `the order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goFormat(setOrderList)}`,
    );
  }
}

/**
 * Handles every `$setElementOrder/<field>` with its list: merges the list, then orders the
 * result by the directive, keeping server-only elements where they were relative to the others.
 */
function mergePatchIntoOriginal(original: JSONObject, patch: JSONObject, cursor: Cursor): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType('slice', setOrder);
    const field = extractKey(key, SET_ELEMENT_ORDER_PREFIX);

    const foundOriginal = Object.hasOwn(original, field);
    const foundPatch = Object.hasOwn(patch, field);
    const originalList = foundOriginal ? original[field] : undefined;
    const patchList = foundPatch ? patch[field] : undefined;
    if (foundOriginal && !Array.isArray(originalList)) throw errBadArgType('slice', originalList);
    if (foundPatch && !Array.isArray(patchList)) throw errBadArgType('slice', patchList);
    const originalItems = (originalList ?? []) as unknown[];
    const patchItems = (patchList ?? []) as unknown[];

    const meta = cursor.field(field, true);
    validatePatchWithSetOrderList(patchItems, setOrder, meta.mergeKey);

    let merged: unknown[];
    if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalItems, patchItems, meta, false);
    else if (foundOriginal) merged = originalItems;
    else if (foundPatch) merged = sanitize(patchItems, true) as unknown[];
    else continue;

    const [ordered, serverOnly] = partitionByPresentInList(merged, setOrder, meta.mergeKey);
    const kind = sliceElementType([originalItems, patchItems]);
    setOwn(original, field, normalizeElementOrder(ordered, serverOnly, setOrder, originalItems, meta.mergeKey, kind));
    delete patch[field];
  }
}

function mergeMap(original: JSONObject | undefined, patch: JSONObject, cursor: Cursor): JSONObject {
  if (Object.hasOwn(patch, DIRECTIVE_MARKER)) return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);
  const result = original ?? {};
  applyRetainKeysDirective(result, patch);
  mergePatchIntoOriginal(result, patch, cursor);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    if (patchValue === undefined) continue;
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    }

    // null deletes; upstream does this for a deletion list's null too, dropping the whole list.
    if (patchValue === null) {
      delete result[key];
      continue;
    }

    const current = getOwn(result, key);
    if (current === undefined || goType(current) !== goType(patchValue)) {
      // Nothing to merge with: take the patch value (a deletion list has nothing to delete from).
      if (!isDeleteList) {
        const value = sanitize(patchValue, true);
        if (value === DROPPED) delete result[key];
        else setOwn(result, key, value);
      }
      continue;
    }

    if (isJSONObject(current)) {
      const meta = cursor.field(key, false);
      setOwn(
        result,
        key,
        meta.strategy === REPLACE_DIRECTIVE ? sanitize(patchValue, false) : mergeMap(current, patchValue as JSONObject, meta.schema),
      );
    } else if (Array.isArray(current)) {
      setOwn(result, key, mergeSliceHandler(current, patchValue as unknown[], cursor.field(key, true), isDeleteList));
    } else {
      setOwn(result, key, patchValue);
    }
  }
  return result;
}

function mergeSliceHandler(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
  // Deletion lists apply whatever the field's strategy.
  if (meta.strategy === MERGE_DIRECTIVE || isDeleteList) return mergeSlice(original, patch, meta, isDeleteList);
  return sanitize(patch, false) as unknown[];
}

function mergeSlice(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementType([original, patch]);
  const { mergeKey } = meta;

  let live = original;
  let patchItems = patch;
  let merged: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) {
      const remove = new Set(patch);
      return original.filter((v) => !remove.has(v));
    }
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') throw failure('cannot merge lists without merge key for struct');
    [live, patchItems] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(live, patchItems, mergeKey, meta.schema);
  }

  const [inPatch, serverOnly] = partitionByPresentInList(merged, patchItems, mergeKey);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, live, mergeKey, kind);
}

/**
 * Applies the `$patch` elements of a merging list: `delete` removes every element with that merge
 * key, `replace` makes the other patch elements the whole list. Returns the live list to merge
 * into and the patch elements left to merge.
 */
function mergeSliceWithSpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  let live = original;
  const rest: unknown[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JSONObject;
    if (!Object.hasOwn(item, DIRECTIVE_MARKER)) {
      rest.push(v);
      continue;
    }
    const directive = item[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey];
      for (let i = findByMergeKey(live, mergeKey, value); i >= 0; i = findByMergeKey(live, mergeKey, value)) {
        live = [...live.slice(0, i), ...live.slice(i + 1)];
      }
    } else if (directive === REPLACE_DIRECTIVE) {
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw failure('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  if (replace) return [sanitize(rest, false) as unknown[], []];
  return [live, rest];
}

function mergeSliceWithoutSpecialElements(original: unknown[], patch: unknown[], mergeKey: string, schema: Cursor): unknown[] {
  const merged = [...original];
  for (const v of patch) {
    const item = v as JSONObject;
    if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const i = findByMergeKey(merged, mergeKey, item[mergeKey]);
    if (i >= 0) merged[i] = mergeMap(merged[i] as JSONObject, item, schema);
    else merged.push(sanitize(item, false));
  }
  return merged;
}

/**
 * Applies a strategic merge patch to `doc`, an object of the kind described by
 * `schema.definitions[rootDefinition]`. A null patch changes nothing; a patch that is not an
 * object is a 400. Never mutates `doc` or `patch`.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: PatchSchema, rootDefinition: string): unknown {
  if (!isJSONObject(doc)) throw badRequest(ERR_BAD_JSON_DOC);
  const cursor = rootCursor(schema, rootDefinition);
  if (patch === null) return cloneJSON(doc);
  if (!isJSONObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${goJSONKind(patch)} into Go value of type map[string]interface {}`);
  }
  return mergeMap(cloneJSON(doc), cloneJSON(patch), cursor);
}

// ---------------------------------------------------------------------------------------------
// Creating a two-way patch (what `kubectl edit`, `kubectl set image` and client updates send).

interface DiffOptions {
  buildRetainKeys: boolean;
}

/** Go's type identity on values decoded without preserving integers (all numbers are float64). */
function diffType(v: unknown): string {
  const t = goType(v);
  return t === 'int64' ? 'float64' : t;
}

function diffMaps(original: JSONObject, modified: JSONObject, cursor: Cursor, options: DiffOptions): JSONObject {
  const patch: JSONObject = {};
  const retainKeys: string[] = [];
  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (modifiedValue === undefined) continue;
    if (options.buildRetainKeys && modifiedValue !== null) retainKeys.push(key);
    const originalValue = getOwn(original, key);
    if (originalValue === undefined) {
      setOwn(patch, key, cloneJSON(modifiedValue));
      continue;
    }
    if (key === DIRECTIVE_MARKER) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') {
        throw failure(`invalid value for special key: ${DIRECTIVE_MARKER}`);
      }
      if (originalValue !== modifiedValue) setOwn(patch, key, modifiedValue);
      continue;
    }
    if (diffType(originalValue) !== diffType(modifiedValue)) {
      setOwn(patch, key, cloneJSON(modifiedValue));
    } else if (isJSONObject(originalValue)) {
      diffMapField(key, originalValue, modifiedValue as JSONObject, patch, cursor);
    } else if (Array.isArray(originalValue)) {
      diffListField(key, originalValue, modifiedValue as unknown[], patch, cursor, options);
    } else if (!jsonEqual(originalValue, modifiedValue)) {
      setOwn(patch, key, cloneJSON(modifiedValue));
    }
  }
  for (const [key, v] of Object.entries(original)) {
    if (v !== undefined && getOwn(modified, key) === undefined) setOwn(patch, key, null);
  }
  const hasExtraField = Object.entries(original).some(([k, v]) => v !== null && v !== undefined && getOwn(modified, k) === undefined);
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasExtraField)) {
    setOwn(patch, RETAIN_KEYS_DIRECTIVE, sortScalars(retainKeys));
  }
  return patch;
}

function diffMapField(key: string, original: JSONObject, modified: JSONObject, patch: JSONObject, cursor: Cursor): void {
  const meta = cursor.field(key, false);
  if (meta.strategy === REPLACE_DIRECTIVE) {
    setOwn(patch, key, cloneJSON(modified));
    return;
  }
  const sub = diffMaps(original, modified, meta.schema, { buildRetainKeys: meta.retainKeys });
  if (Object.keys(sub).length > 0) setOwn(patch, key, sub);
}

function diffListField(
  key: string,
  original: unknown[],
  modified: unknown[],
  patch: JSONObject,
  cursor: Cursor,
  options: DiffOptions,
): void {
  const meta = cursor.field(key, true);
  if (meta.strategy !== MERGE_DIRECTIVE) {
    if (!jsonEqual(original, modified)) setOwn(patch, key, cloneJSON(modified));
    return;
  }
  const { add, remove, order } = diffLists(original, modified, meta, { ...options, buildRetainKeys: meta.retainKeys });
  if (add.length > 0) setOwn(patch, key, add);
  if (remove.length > 0) setOwn(patch, `${DELETE_FROM_PRIMITIVE_LIST_PREFIX}/${key}`, remove);
  if (order.length > 0) setOwn(patch, `${SET_ELEMENT_ORDER_PREFIX}/${key}`, order);
}

function diffLists(
  original: unknown[],
  modified: unknown[],
  meta: FieldMeta,
  options: DiffOptions,
): { add: unknown[]; remove: unknown[]; order: unknown[] } {
  if (original.length === 0) return { add: cloneJSON(modified), remove: [], order: [] };
  const kind = sliceElementType([original, modified], diffType);
  const { mergeKey } = meta;
  if (kind === 'map') {
    const [changed, deleted] = diffListsOfMaps(original, modified, meta, options);
    const add = [...normalizeSliceOrder(changed, modified, mergeKey, kind), ...deleted];
    const orderSame = original.length === modified.length && modified.every((m, i) => mergeKeyValueEqual(original[i], m, mergeKey));
    const order = add.length > 0 || !orderSame ? modified.map((m) => ({ [mergeKey]: getOwn(m as JSONObject, mergeKey) })) : [];
    return { add, remove: [], order };
  }
  const [added, removed] = diffListsOfScalars(original, modified);
  const add = normalizeSliceOrder(added, modified, '', kind);
  // Upstream sorts `original` in place before this comparison, so a reordered-but-equal list
  // (or any list not in sorted order) still gets a `$setElementOrder`.
  const order = removed.length > 0 || !jsonEqual(sortScalars(original), modified) ? cloneJSON(modified) : [];
  return { add, remove: removed, order };
}

/** Walks both lists sorted by their text form; returns the additions and the (deduplicated) deletions. */
function diffListsOfScalars(original: unknown[], modified: unknown[]): [unknown[], unknown[]] {
  const o = sortScalars(original);
  const m = sortScalars(modified);
  const added: unknown[] = [];
  const removed: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const os = i < o.length ? goFormat(o[i]) : undefined;
    const ms = j < m.length ? goFormat(m[j]) : undefined;
    if (os !== undefined && ms !== undefined && os === ms) {
      i++;
      j++;
    } else if (os === undefined || (ms !== undefined && os > ms)) {
      added.push(m[j++]);
    } else {
      removed.push(o[i++]);
    }
  }
  return [added, deduplicateScalars(removed)];
}

function mergeKeyString(list: unknown[], index: number, mergeKey: string): [JSONObject, unknown, string] {
  const item = requireMap(list[index]);
  if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
  return [item, item[mergeKey], goFormat(item[mergeKey])];
}

function sortByMergeKey(list: unknown[], mergeKey: string): unknown[] {
  if (list.length === 0) return [];
  sliceElementType([list], diffType);
  const key = (v: unknown): string => goFormat(isJSONObject(v) ? getOwn(v, mergeKey) : undefined);
  return [...list].sort((a, b) => compareStrings(key(a), key(b)));
}

/** Changed and added elements, and `$patch: delete` markers for removed ones. */
function diffListsOfMaps(original: unknown[], modified: unknown[], meta: FieldMeta, options: DiffOptions): [unknown[], unknown[]] {
  const { mergeKey } = meta;
  const o = sortByMergeKey(original, mergeKey);
  const m = sortByMergeKey(modified, mergeKey);
  const changed: unknown[] = [];
  const deleted: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const orig = i < o.length ? mergeKeyString(o, i, mergeKey) : undefined;
    const mod = j < m.length ? mergeKeyString(m, j, mergeKey) : undefined;
    if (orig && mod && orig[2] === mod[2]) {
      const sub = diffMaps(orig[0], mod[0], meta.schema, options);
      if (Object.keys(sub).length > 0) {
        setOwn(sub, mergeKey, cloneJSON(mod[1]));
        changed.push(sub);
      }
      i++;
      j++;
    } else if (mod && (!orig || orig[2] > mod[2])) {
      changed.push(cloneJSON(mod[0]));
      j++;
    } else if (orig) {
      deleted.push({ [DIRECTIVE_MARKER]: DELETE_DIRECTIVE, [mergeKey]: cloneJSON(orig[1]) });
      i++;
    }
  }
  return [changed, deleted];
}

/**
 * The strategic merge patch that turns `original` into `modified`, as the apimachinery's
 * CreateTwoWayMergePatch builds it (with `$setElementOrder`, `$retainKeys` and
 * `$deleteFromPrimitiveList` where the schema calls for them).
 */
export function createStrategicMergePatch(
  original: unknown,
  modified: unknown,
  schema: PatchSchema,
  rootDefinition: string,
): Record<string, unknown> {
  if (!isJSONObject(original) || !isJSONObject(modified)) throw badRequest(ERR_BAD_JSON_DOC);
  return diffMaps(original, modified, rootCursor(schema, rootDefinition), { buildRetainKeys: false });
}
