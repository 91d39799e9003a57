// ConfigMap (core/v1), and the key, size and base64 rules it shares with Secret.
import type { ConfigMap as ConfigMapV1 } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { badRequest } from '../../machinery/errors.js';
import { deepEqual } from '../../machinery/objects.js';
import { type FieldError, Path, forbidden, invalid, tooLong } from '../../machinery/validation.js';
import { isConfigMapKey } from './podspec.js';

export type ConfigMap = Mutable<ConfigMapV1> & KubeObject;

/** The most a ConfigMap's or a Secret's data may hold (core.MaxSecretSize): 1 MiB. */
export const MAX_DATA_SIZE = 1024 * 1024;

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/**
 * Where Go's base64.StdEncoding (which decodes []byte fields of API objects) rejects
 * `text`: the byte offset its "illegal base64 data at input byte N" reports, or -1.
 */
function base64ErrorOffset(text: string): number {
  const isNewline = (c: string) => c === '\n' || c === '\r';
  let i = 0;
  for (;;) {
    let j = 0;
    while (j < 4) {
      while (i < text.length && isNewline(text[i])) i++;
      if (i === text.length) return j === 0 ? -1 : i - j;
      const c = text[i++];
      if (BASE64_CHAR.test(c)) {
        j++;
        continue;
      }
      if (c !== '=') return i - 1;
      // Padding ends the input: one '=' after three characters, two after two.
      if (j < 2) return i - 1;
      if (j === 2) {
        while (i < text.length && isNewline(text[i])) i++;
        if (i === text.length) return text.length;
        if (text[i] !== '=') return i - 1;
        i++;
      }
      while (i < text.length && isNewline(text[i])) i++;
      return i < text.length ? i : -1;
    }
  }
}

/**
 * Rejects a []byte map (Secret.data, ConfigMap.binaryData) that is not base64, with the
 * 400 Kubernetes answers when it cannot decode the object.
 */
export function checkBase64(kind: string, values: Record<string, string> | undefined): void {
  for (const value of Object.values(values ?? {})) {
    const offset = typeof value === 'string' ? base64ErrorOffset(value) : 0;
    if (offset >= 0)
      throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${offset}`);
  }
}

/** Bytes a base64 value decodes to (it has passed checkBase64). */
export function decodedLength(value: string): number {
  return Buffer.from(value, 'base64').length;
}

function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  const dataPath = Path.root('data');
  const binaryPath = Path.root('binaryData');
  let size = 0;
  for (const [key, value] of Object.entries(cm.data ?? {})) {
    for (const m of isConfigMapKey(key)) errs.push(invalid(dataPath.key(key), key, m));
    if (cm.binaryData && key in cm.binaryData)
      errs.push(invalid(dataPath.key(key), key, 'duplicate of key present in binaryData'));
    size += Buffer.byteLength(value);
  }
  for (const [key, value] of Object.entries(cm.binaryData ?? {})) {
    for (const m of isConfigMapKey(key)) errs.push(invalid(binaryPath.key(key), key, m));
    size += decodedLength(value);
  }
  // The error is about the whole object, so it has no field path.
  if (size > MAX_DATA_SIZE) errs.push(tooLong(Path.root(''), MAX_DATA_SIZE));
  return errs;
}

function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable) {
    const why = 'field is immutable when `immutable` is set';
    if (!cm.immutable) errs.push(forbidden(Path.root('immutable'), why));
    if (!deepEqual(cm.data ?? {}, old.data ?? {})) errs.push(forbidden(Path.root('data'), why));
    if (!deepEqual(cm.binaryData ?? {}, old.binaryData ?? {})) errs.push(forbidden(Path.root('binaryData'), why));
  }
  errs.push(...validateConfigMap(cm));
  return errs;
}

export const kind: KindDef<ConfigMap> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  resource: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],

  prepareForCreate: (cm) => checkBase64('ConfigMap', cm.binaryData),
  prepareForUpdate: (cm) => checkBase64('ConfigMap', cm.binaryData),

  validate: validateConfigMap,
  validateUpdate: validateConfigMapUpdate,

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Data', type: 'string', description: 'Number of keys in data and binaryData.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (cm, now) => [
      cm.metadata.name,
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      age(cm.metadata.creationTimestamp, now),
    ],
  },
};
