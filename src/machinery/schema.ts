// Runtime access to generated/schemas.json (written by scripts/gen-schemas.ts):
// the OpenAPI v2 definitions of every served type, and the unknown-field check
// the API server runs on every write.
import { existsSync, readFileSync, renameSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSchemas } from '../../scripts/gen-schemas.js';

/** An OpenAPI v2 schema object, as Kubernetes' spec uses them. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  [extension: `x-${string}`]: unknown;
}

export interface SchemaDocument {
  definitions: Record<string, Schema>;
}

const REF_PREFIX = '#/definitions/';

let document: SchemaDocument | undefined;
let byGroupVersionKind: Map<string, string> | undefined;

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('schema: no package.json above the module');
    dir = parent;
  }
  return dir;
}

/** The definitions, loaded once. A missing file (tests run before a build) is generated and saved. */
export function getSchema(): SchemaDocument {
  if (document) return document;
  const root = repoRoot();
  const file = path.join(root, 'generated', 'schemas.json');
  if (existsSync(file)) {
    document = JSON.parse(readFileSync(file, 'utf8')) as SchemaDocument;
  } else {
    document = generateSchemas(root);
    // Write-then-rename so concurrent test processes never read half a file.
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(document));
    renameSync(tmp, file);
  }
  return document;
}

export function getDefinition(name: string): Schema | undefined {
  return getSchema().definitions[name];
}

/** Follows a `$ref` (if any) to the definition it names. */
export function resolveRef(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const target = getDefinition(schema.$ref.slice(REF_PREFIX.length));
  if (!target) throw new Error(`schema: dangling reference ${schema.$ref}`);
  return target;
}

/** The definition name of a kind (`apps`, `v1`, `StatefulSet` → `io.k8s.api.apps.v1.StatefulSet`), from x-kubernetes-group-version-kind. */
export function definitionName(group: string, version: string, kind: string): string | undefined {
  if (!byGroupVersionKind) {
    byGroupVersionKind = new Map();
    for (const [name, def] of Object.entries(getSchema().definitions)) {
      const gvks = def['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined;
      for (const gvk of gvks ?? []) byGroupVersionKind.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
    }
  }
  return byGroupVersionKind.get(`${group}/${version}/${kind}`);
}

// The unknown-field walk runs on every write, so definitions are compiled once
// into nodes that answer "which schema does this key have" with a Map lookup.
type Node =
  | { t: 'struct'; props: Map<string, Node | string> }
  | { t: 'map'; values: Node | string }
  | { t: 'list'; items: Node | string }
  | { t: 'any' };

const ANY: Node = { t: 'any' };
const compiled = new Map<string, Node>();

function compile(schema: Schema): Node | string {
  if (schema.$ref) return schema.$ref.slice(REF_PREFIX.length);
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return ANY;
  if (schema.items) return { t: 'list', items: compile(schema.items) };
  if (schema.properties) {
    const props = new Map<string, Node | string>();
    for (const [key, prop] of Object.entries(schema.properties)) props.set(key, compile(prop));
    return { t: 'struct', props };
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return { t: 'map', values: compile(schema.additionalProperties) };
  }
  return ANY;
}

function node(ref: Node | string): Node {
  if (typeof ref !== 'string') return ref;
  let n = compiled.get(ref);
  if (!n) {
    const def = getDefinition(ref);
    if (!def) throw new Error(`schema: unknown definition ${ref}`);
    // Placeholder first: recursive definitions compile to references, not loops.
    compiled.set(ref, ANY);
    const c = compile(def);
    n = typeof c === 'string' ? node(c) : c;
    compiled.set(ref, n);
  }
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Path segments as the strict JSON decoder prints them: `a.b[0].c`. */
function pathOf(segments: string[], key: string): string {
  return segments.length === 0 ? key : `${segments.join('')}.${key}`;
}

function walk(value: unknown, ref: Node | string, segments: string[], out: string[]): void {
  const n = node(ref);
  switch (n.t) {
    case 'any':
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      for (let i = 0; i < value.length; i++) {
        segments.push(`[${i}]`);
        walk(value[i], n.items, segments, out);
        segments.pop();
      }
      return;
    case 'map':
      if (!isObject(value)) return;
      for (const key of Object.keys(value)) {
        segments.push(segments.length === 0 ? key : `.${key}`);
        walk(value[key], n.values, segments, out);
        segments.pop();
      }
      return;
    case 'struct':
      if (!isObject(value)) return;
      for (const key of Object.keys(value)) {
        const child = n.props.get(key);
        if (child === undefined) {
          if (segments.length === 0 && (key === 'apiVersion' || key === 'kind')) continue;
          out.push(pathOf(segments, key));
          continue;
        }
        segments.push(segments.length === 0 ? key : `.${key}`);
        walk(value[key], child, segments, out);
        segments.pop();
      }
      return;
  }
}

/**
 * The paths of the fields in `obj` that `definition` does not declare, in
 * document order, as the strict decoder prints them
 * (`spec.template.spec.containers[0].imagePullPolcy`). Field names match
 * case-sensitively, as in kube-apiserver. Values of the wrong type are left to
 * validation.
 */
export function unknownFieldPaths(obj: unknown, definition: string): string[] {
  const out: string[] = [];
  walk(obj, definition, [], out);
  return out;
}

/**
 * The unknown fields of `obj`, worded as kube-apiserver's strict decoding
 * reports them: `unknown field "spec.replica"`. With fieldValidation=Strict
 * the server fails with `strict decoding error: ` followed by these joined
 * with ", "; with Warn it returns each as a warning.
 */
export function unknownFields(obj: unknown, definition: string): string[] {
  return unknownFieldPaths(obj, definition).map((p) => `unknown field ${JSON.stringify(p)}`);
}
