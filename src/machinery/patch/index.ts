// The three patch types kube-apiserver accepts on PATCH.
export { applyJSONPatch, MAX_JSON_PATCH_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS } from './json.js';
export { applyMergePatch, createMergePatch } from './merge.js';
export { applyStrategicMergePatch, createStrategicMergePatch } from './strategic.js';
export type { PatchSchema, SchemaObject } from './strategic.js';
