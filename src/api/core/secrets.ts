// Secret (core/v1). stringData is write-only: Kubernetes folds it into data (base64)
// when it reads the request, so it is never stored or returned.
import type { Secret as SecretV1 } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { deepEqual } from '../../machinery/objects.js';
import { type FieldError, Path, forbidden, invalid, required, tooLong } from '../../machinery/validation.js';
import { MAX_DATA_SIZE, checkBase64, decodedLength } from './configmaps.js';
import { isConfigMapKey } from './podspec.js';

export type Secret = Mutable<SecretV1> & KubeObject;

const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const REDACTED = '<secret contents redacted>';

/** Folds stringData into data, as the v1 → internal conversion does; stringData wins. */
function mergeStringData(secret: Secret): void {
  checkBase64('Secret', secret.data);
  if (secret.stringData === undefined) return;
  const data = { ...secret.data };
  for (const [key, value] of Object.entries(secret.stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  secret.data = data;
  delete secret.stringData;
}

/** Go's json.Unmarshal into map[string]interface{}: the error text, or undefined. */
function jsonObjectError(base64: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (e) {
    return (e as Error).message;
  }
  if (parsed === null || (typeof parsed === 'object' && !Array.isArray(parsed))) return undefined;
  const type = Array.isArray(parsed) ? 'array' : typeof parsed === 'boolean' ? 'bool' : typeof parsed;
  return `json: cannot unmarshal ${type} into Go value of type map[string]interface {}`;
}

function validateSecret(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const dataPath = Path.root('data');
  const data = secret.data ?? {};
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const m of isConfigMapKey(key)) errs.push(invalid(dataPath.key(key), key, m));
    size += decodedLength(value);
  }
  if (size > MAX_DATA_SIZE) errs.push(tooLong(dataPath, MAX_DATA_SIZE));

  const requireKeys = (...keys: string[]) => {
    for (const k of keys) if (!(k in data)) errs.push(required(dataPath.key(k)));
  };
  const requireJSON = (key: string) => {
    if (!(key in data)) return requireKeys(key);
    const err = jsonObjectError(data[key]);
    if (err) errs.push(invalid(dataPath.key(key), REDACTED, err));
  };
  switch (secret.type) {
    case 'kubernetes.io/service-account-token':
      // The token and the uid are filled in later by the token controller.
      if (!secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION])
        errs.push(required(Path.root('metadata').child('annotations').key(SERVICE_ACCOUNT_NAME_ANNOTATION)));
      break;
    case 'kubernetes.io/dockercfg':
      requireJSON('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      requireJSON('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      // Either may be empty, but one of them must be there.
      if (!('username' in data) && !('password' in data)) requireKeys('username', 'password');
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data['ssh-privatekey']) requireKeys('ssh-privatekey');
      break;
    case 'kubernetes.io/tls':
      requireKeys('tls.crt', 'tls.key');
      break;
  }
  return errs;
}

function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs: FieldError[] = [];
  if (secret.type !== old.type) errs.push(invalid(Path.root('type'), secret.type ?? '', 'field is immutable'));
  if (old.immutable) {
    const why = 'field is immutable when `immutable` is set';
    if (!secret.immutable) errs.push(forbidden(Path.root('immutable'), why));
    // stringData has already been folded into data.
    if (!deepEqual(secret.data ?? {}, old.data ?? {})) errs.push(forbidden(Path.root('data'), why));
  }
  errs.push(...validateSecret(secret));
  return errs;
}

export const kind: KindDef<Secret> = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  resource: 'secrets',
  singular: 'secret',
  namespaced: true,

  defaults(secret) {
    secret.type ||= 'Opaque';
  },

  prepareForCreate: mergeStringData,
  prepareForUpdate: mergeStringData,

  validate: validateSecret,
  validateUpdate: validateSecretUpdate,

  fieldSelectors: {
    type: (secret) => secret.type ?? '',
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Type', type: 'string', description: 'The type of the secret.', priority: 0 },
      { name: 'Data', type: 'string', description: 'Number of keys in data.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (secret, now) => [
      secret.metadata.name,
      secret.type ?? '',
      Object.keys(secret.data ?? {}).length,
      age(secret.metadata.creationTimestamp, now),
    ],
  },
};
