// JSON merge patch (RFC 7386, application/merge-patch+json) as kube-apiserver applies it
// (evanphx/json-patch v4 MergePatch): null deletes, objects merge, everything else replaces,
// and nulls inside newly added objects are dropped.
import { badRequest } from '../errors.js';
import { cloneJSON, getOwn, goJSONKind, isJSONObject, jsonEqual, patchRejected, setOwn } from './json.js';

type JSONObject = Record<string, unknown>;

/** Drops null members of objects, recursively; null array elements stay. Mutates `v`. */
function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (const e of v) if (e !== null) pruneNulls(e);
  } else if (isJSONObject(v)) {
    for (const [k, e] of Object.entries(v)) {
      if (e === null || e === undefined) delete v[k];
      else pruneNulls(e);
    }
  }
  return v;
}

function mergeValue(current: unknown, patch: unknown): unknown {
  if (!isJSONObject(current)) return pruneNulls(patch);
  // An object replaced by an array or scalar keeps the patch value as sent, nulls and all (as upstream).
  if (!isJSONObject(patch)) return patch;
  mergeObjects(current, patch);
  return current;
}

function mergeObjects(doc: JSONObject, patch: JSONObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) {
      delete doc[k];
      continue;
    }
    const current = getOwn(doc, k);
    setOwn(doc, k, current === undefined || current === null ? pruneNulls(v) : mergeValue(current, v));
  }
}

/**
 * Applies a JSON merge patch. A patch that is null or a scalar is a 400 ("Invalid JSON Patch");
 * an array patch replaces the document, which for an object is a 422 as in kube-apiserver.
 * Never mutates `doc` or `patch`.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object') throw badRequest('Invalid JSON Patch');
  if (Array.isArray(patch)) {
    const replaced = pruneNulls(cloneJSON(patch));
    if (isJSONObject(doc)) throw patchRejected(`the patched document is a ${goJSONKind(replaced)}, not an object`);
    return replaced;
  }
  if (!isJSONObject(doc)) return pruneNulls(cloneJSON(patch));
  const result = cloneJSON(doc);
  mergeObjects(result, cloneJSON(patch as JSONObject));
  return result;
}

/** Go's notion of "same type" in CreateMergePatch: a changed type always replaces. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null || v === undefined) return 'null';
  return typeof v;
}

/**
 * The merge patch that turns `original` into `modified` (what `kubectl label`/`annotate` send):
 * changed and added members, removed ones as null, arrays whole.
 */
export function createMergePatch(original: JSONObject, modified: JSONObject): JSONObject {
  const patch: JSONObject = {};
  for (const [k, m] of Object.entries(modified)) {
    if (m === undefined) continue;
    const o = getOwn(original, k);
    if (o === undefined || jsonType(o) !== jsonType(m)) {
      setOwn(patch, k, cloneJSON(m));
    } else if (isJSONObject(o) && isJSONObject(m)) {
      const sub = createMergePatch(o, m);
      if (Object.keys(sub).length > 0) setOwn(patch, k, sub);
    } else if (!jsonEqual(o, m)) {
      setOwn(patch, k, cloneJSON(m));
    }
  }
  for (const [k, o] of Object.entries(original)) {
    if (o !== undefined && getOwn(modified, k) === undefined) setOwn(patch, k, null);
  }
  return patch;
}
