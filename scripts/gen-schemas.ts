// Writes generated/schemas.json: OpenAPI v2 definitions, named as Kubernetes
// names them, for every type reachable from the kinds berth serves.
//
// The structure (fields, types, formats, required fields) comes from the model
// classes of @kubernetes/client-node, generated from Kubernetes' own OpenAPI
// spec; kubernetes-types tells which API group a type belongs to, which
// string fields are Quantities and which untyped ones are RawExtension or
// FieldsV1, and supplies the descriptions the model classes leave out. The
// patch and list-merge extensions come from src/machinery/patchmeta.ts.
//
// Run: node dist/scripts/gen-schemas.js (after tsc), or
//      node --import tsx scripts/gen-schemas.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIELD_META, TYPE_META, type FieldMeta } from '../src/machinery/patchmeta.js';
import type { Schema } from '../src/machinery/schema.js';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface Model {
  attributes: Attribute[];
  description?: string;
  fieldDescriptions: Map<string, string>;
  required: Set<string>;
}

/** A type or member read from a kubernetes-types declaration file. */
interface KtType {
  description?: string;
  members: Map<string, { description?: string; type: string }>;
}

interface Root {
  model: string;
  group: string;
  version: string;
  kind: string;
  /** The model of the kind's List type, if it has one. */
  list?: string;
}

// The kinds berth serves (group '' is core). Kept here rather than read from
// the registry so the generator runs before anything else is built.
const ROOTS: Root[] = [
  ...['Namespace', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'PersistentVolume', 'PersistentVolumeClaim', 'Node'].map(
    (kind) => ({ model: `V1${kind}`, group: '', version: 'v1', kind, list: `V1${kind}List` }),
  ),
  { model: 'CoreV1Event', group: '', version: 'v1', kind: 'Event', list: 'CoreV1EventList' },
  { model: 'V1Binding', group: '', version: 'v1', kind: 'Binding' },
  { model: 'V1Scale', group: 'autoscaling', version: 'v1', kind: 'Scale' },
  { model: 'V1StatefulSet', group: 'apps', version: 'v1', kind: 'StatefulSet', list: 'V1StatefulSetList' },
  { model: 'V1ControllerRevision', group: 'apps', version: 'v1', kind: 'ControllerRevision', list: 'V1ControllerRevisionList' },
  { model: 'V1StorageClass', group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', list: 'V1StorageClassList' },
  { model: 'V1EndpointSlice', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', list: 'V1EndpointSliceList' },
  { model: 'V1Lease', group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', list: 'V1LeaseList' },
  { model: 'EventsV1Event', group: 'events.k8s.io', version: 'v1', kind: 'Event', list: 'EventsV1EventList' },
];

// Meta types the API server returns or accepts for every group version.
const META_ROOTS = ['V1Status', 'V1DeleteOptions', 'V1WatchEvent', 'V1APIGroup', 'V1APIGroupList', 'V1APIResourceList', 'V1APIVersions'];
/** Meta kinds that Kubernetes registers in every served group version. */
const PER_GROUP_VERSION_KINDS = new Set(['DeleteOptions', 'WatchEvent']);
/** Meta kinds registered only in core v1. */
const CORE_ONLY_KINDS = new Set(['Status', 'APIGroup', 'APIGroupList', 'APIResourceList', 'APIVersions']);

// kubernetes-types directory → OpenAPI definition prefix.
const META_PREFIX = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const prefixOf = (dir: string, version: string): string => (dir === 'meta' ? META_PREFIX : `io.k8s.api.${dir}.${version}`);

// Primitive-like named types, as Kubernetes' spec defines them.
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const TIME = `${META_PREFIX}.Time`;
const MICRO_TIME = `${META_PREFIX}.MicroTime`;
const FIELDS_V1 = `${META_PREFIX}.FieldsV1`;
const PATCH = `${META_PREFIX}.Patch`;

// Quantity fields added after the kubernetes-types release (the model classes
// type Quantities as plain strings).
const QUANTITY_FIELDS = new Set([
  'io.k8s.api.core.v1.PodStatus.allocatedResources',
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus.resources',
]);

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

function repoRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Text of a JSDoc block (without the delimiters and leading asterisks). */
function docText(block: string): string {
  return block
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** The model classes escape quotes in their JSDoc. */
const unescapeDoc = (s: string): string => s.replace(/\\(['"\\])/g, '$1');

class Sources {
  private readonly modelsDir: string;
  private readonly typesDir: string;
  private readonly models = new Map<string, Model>();
  private readonly ktFiles = new Map<string, Map<string, KtType>>();

  constructor(require: ReturnType<typeof createRequire>) {
    this.modelsDir = path.join(path.dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist/gen/models');
    this.typesDir = path.dirname(require.resolve('kubernetes-types/package.json'));
  }

  model(name: string): Model {
    let model = this.models.get(name);
    if (model) return model;
    const js = readFileSync(path.join(this.modelsDir, `${name}.js`), 'utf8');
    const start = js.indexOf(`${name}.attributeTypeMap = [`);
    if (start < 0) throw new Error(`${name}: no attributeTypeMap`);
    const open = js.indexOf('[', start);
    const close = js.indexOf('\n];', open);
    const attributes = JSON.parse(js.slice(open, close + 2)) as Attribute[];

    const dts = readFileSync(path.join(this.modelsDir, `${name}.d.ts`), 'utf8');
    const classDoc = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)\s*export declare class/.exec(dts);
    const fieldDescriptions = new Map<string, string>();
    const required = new Set<string>();
    const member = /(?:(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)\s*)?'([^']+)'(\?)?:/g;
    for (let m = member.exec(dts); m; m = member.exec(dts)) {
      if (m[1]) fieldDescriptions.set(m[2]!, unescapeDoc(docText(m[1])));
      if (!m[3]) required.add(m[2]!);
    }
    model = {
      attributes,
      description: classDoc ? unescapeDoc(docText(classDoc[1]!)) : undefined,
      fieldDescriptions,
      required,
    };
    this.models.set(name, model);
    return model;
  }

  /** The declarations of one kubernetes-types file, e.g. `core/v1`. */
  kt(file: string): Map<string, KtType> {
    let types = this.ktFiles.get(file);
    if (types) return types;
    types = new Map();
    const full = path.join(this.typesDir, `${file}.d.ts`);
    if (existsSync(full)) parseDeclarations(readFileSync(full, 'utf8'), types);
    this.ktFiles.set(file, types);
    return types;
  }

  /** kubernetes-types directories that declare `type` at `version`. */
  groupsDeclaring(type: string, version: string): string[] {
    return KT_DIRS.filter((dir) => this.kt(`${dir}/${version}`).has(type));
  }
}

// The kubernetes-types directories that can hold served types.
const KT_DIRS = ['core', 'meta', 'apps', 'autoscaling', 'storage', 'discovery', 'coordination', 'events', 'policy', 'authentication'];

function parseDeclarations(text: string, into: Map<string, KtType>): void {
  const lines = text.split('\n');
  let doc: string[] | undefined;
  let pendingDoc: string | undefined;
  let current: KtType | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (doc) {
      doc.push(line);
      if (line.includes('*/')) {
        pendingDoc = docText(doc.join('\n'));
        doc = undefined;
      }
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith('/**')) {
      if (trimmed.endsWith('*/')) pendingDoc = docText(trimmed);
      else doc = [line];
      continue;
    }
    const decl = /^export (?:interface|type) (\w+)/.exec(line);
    if (decl) {
      current = { description: pendingDoc, members: new Map() };
      into.set(decl[1]!, current);
      pendingDoc = undefined;
      if (!line.trimEnd().endsWith('{')) current = undefined;
      continue;
    }
    if (line === '}') {
      current = undefined;
      continue;
    }
    const member = current && /^ {4}(?:readonly )?(\w+)\??: (.*)$/.exec(line);
    if (member && current) {
      // Member types may span lines (inline map types): read to the closing `;`.
      let type = member[2]!;
      let depth = (type.match(/\{/g) ?? []).length - (type.match(/\}/g) ?? []).length;
      while (depth > 0 && i + 1 < lines.length) {
        const next = lines[++i]!;
        type += ` ${next.trim()}`;
        depth += (next.match(/\{/g) ?? []).length - (next.match(/\}/g) ?? []).length;
      }
      current.members.set(member[1]!, { description: pendingDoc, type });
      pendingDoc = undefined;
    }
  }
}

/** Splits a model class name like `V1PodSpec` or `CoreV1Event` into its parts. */
function parseModelName(name: string): { groupPrefix?: string; version: string; type: string } {
  const m = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)$/.exec(name);
  if (!m) throw new Error(`unexpected model name ${name}`);
  return { groupPrefix: m[1]?.toLowerCase(), version: m[2]!.toLowerCase(), type: m[3]! };
}

interface Resolved {
  definition: string;
  dir: string;
  version: string;
  type: string;
}

class Generator {
  readonly definitions: Record<string, Schema> = {};
  private readonly resolved = new Map<string, Resolved>();
  private readonly queue: Array<{ model: string; from?: Resolved }> = [];

  constructor(private readonly src: Sources) {}

  /** Where a model class lives: its definition name, group directory and version. */
  resolve(model: string, from?: Resolved): Resolved {
    const known = this.resolved.get(model);
    if (known) return known;
    const { groupPrefix, version, type } = parseModelName(model);
    let dir: string;
    if (groupPrefix) {
      dir = groupPrefix;
    } else {
      const dirs = this.src.groupsDeclaring(type, version);
      if (dirs.length === 1) dir = dirs[0]!;
      else if (from && (dirs.length === 0 || dirs.includes(from.dir))) dir = from.dir; // newer than kubernetes-types: same group as its user
      else throw new Error(`cannot place ${model}: declared in [${dirs.join(', ')}]`);
    }
    const r = { definition: `${prefixOf(dir, version)}.${type}`, dir, version, type };
    this.resolved.set(model, r);
    return r;
  }

  add(model: string, from?: Resolved): Resolved {
    const r = this.resolve(model, from);
    if (!this.definitions[r.definition] && !this.queue.some((q) => q.model === model)) this.queue.push({ model, from });
    return r;
  }

  run(): void {
    while (this.queue.length > 0) {
      const { model } = this.queue.shift()!;
      const r = this.resolve(model);
      if (this.definitions[r.definition]) continue;
      this.definitions[r.definition] = this.objectSchema(model, r);
    }
  }

  private objectSchema(model: string, r: Resolved): Schema {
    const m = this.src.model(model);
    const kt = this.src.kt(`${r.dir}/${r.version}`).get(r.type);
    const properties: Record<string, Schema> = {};
    for (const attr of m.attributes) {
      const ktMember = kt?.members.get(attr.baseName);
      const schema = this.fieldSchema(attr.baseName, attr.type, attr.format, ktMember?.type ?? '', r);
      const description = m.fieldDescriptions.get(attr.name) ?? ktMember?.description;
      properties[attr.baseName] = description ? { ...schema, description } : schema;
    }
    const out: Schema = {};
    const description = m.description ?? kt?.description;
    if (description) out.description = description;
    out.type = 'object';
    out.properties = properties;
    const required = m.attributes.filter((a) => m.required.has(a.name)).map((a) => a.baseName);
    if (required.length > 0) out.required = required;
    return out;
  }

  /** The schema of one field from its model type string (`Array<V1Container>`, `{ [key: string]: string; }`…). */
  private fieldSchema(field: string, type: string, format: string, ktType: string, from: Resolved): Schema {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: this.fieldSchema(field, array[1]!, format, ktType, from) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: this.fieldSchema(field, map[1]!, format, ktType, from) };
    switch (type) {
      case 'string':
        if (/\bQuantity\b/.test(ktType) || QUANTITY_FIELDS.has(`${from.definition}.${field}`)) return ref(QUANTITY);
        return format ? { type: 'string', format } : { type: 'string' };
      case 'number':
        if (format === 'int32' || format === 'int64') return { type: 'integer', format };
        return format ? { type: 'number', format } : { type: 'number' };
      case 'boolean':
        return { type: 'boolean' };
      case 'Date':
        return ref(format === 'date-time-micro' ? MICRO_TIME : TIME);
      case 'V1MicroTime': // the model classes name MicroTime but have no class for it
        return ref(MICRO_TIME);
      case 'IntOrString':
        return ref(INT_OR_STRING);
      case 'any':
        if (/\bRawExtension\b/.test(ktType)) return ref(RAW_EXTENSION);
        if (/\bFieldsV1\b/.test(ktType)) return ref(FIELDS_V1);
        throw new Error(`untyped field of unknown kind in ${from.definition}: ${ktType || '(not in kubernetes-types)'}`);
      default:
        return ref(this.add(type, from).definition);
    }
  }
}

function ktDescription(src: Sources, file: string, type: string): string | undefined {
  return src.kt(file).get(type)?.description;
}

/** The named primitive-like types, with Kubernetes' types and formats. */
function primitiveDefinitions(src: Sources): Record<string, Schema> {
  const withDescription = (schema: Schema, description: string | undefined): Schema =>
    description ? { description, ...schema } : schema;
  return {
    [QUANTITY]: withDescription({ type: 'string' }, ktDescription(src, 'api/resource', 'Quantity')),
    // Kubernetes' spec says string/int-or-string; the extension makes the
    // "integer or string" explicit to schema consumers.
    [INT_OR_STRING]: withDescription(
      { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true },
      // kubernetes-types has no declaration for IntOrString to take a description from.
      'IntOrString holds either an int32 or a string. In JSON and YAML it is written as the bare inner value, so a field of this type accepts a name or a number.',
    ),
    [TIME]: withDescription({ type: 'string', format: 'date-time' }, ktDescription(src, 'meta/v1', 'Time')),
    [MICRO_TIME]: withDescription({ type: 'string', format: 'date-time' }, ktDescription(src, 'meta/v1', 'MicroTime')),
    [FIELDS_V1]: withDescription({ type: 'object' }, ktDescription(src, 'meta/v1', 'FieldsV1')),
    [RAW_EXTENSION]: withDescription({ type: 'object' }, ktDescription(src, 'runtime', 'RawExtension')),
    [PATCH]: withDescription({ type: 'object' }, ktDescription(src, 'meta/v1', 'Patch')),
  };
}

function applyFieldMeta(schema: Schema, fm: FieldMeta): void {
  if (fm.listType) schema['x-kubernetes-list-type'] = fm.listType;
  if (fm.listMapKeys) schema['x-kubernetes-list-map-keys'] = fm.listMapKeys;
  if (fm.mapType) schema['x-kubernetes-map-type'] = fm.mapType;
  if (fm.mergeKey) schema['x-kubernetes-patch-merge-key'] = fm.mergeKey;
  if (fm.strategy) schema['x-kubernetes-patch-strategy'] = fm.strategy;
}

function applyPatchMeta(definitions: Record<string, Schema>): void {
  for (const [definition, fields] of Object.entries(FIELD_META)) {
    const def = definitions[definition];
    if (!def?.properties) throw new Error(`patchmeta: ${definition} is not a generated definition`);
    for (const [field, fm] of Object.entries(fields)) {
      const prop = def.properties[field];
      if (!prop) throw new Error(`patchmeta: ${definition} has no field ${field}`);
      if (fm.listType && prop.type !== 'array') throw new Error(`patchmeta: ${definition}.${field} is not a list`);
      applyFieldMeta(prop, fm);
    }
  }
  for (const [definition, tm] of Object.entries(TYPE_META)) {
    const def = definitions[definition];
    if (!def) throw new Error(`patchmeta: ${definition} is not a generated definition`);
    if (tm.mapType) def['x-kubernetes-map-type'] = tm.mapType;
    if (tm.unions) def['x-kubernetes-unions'] = tm.unions;
  }
}

function applyGroupVersionKinds(gen: Generator): void {
  const gvk = (group: string, version: string, kind: string) => ({ group, kind, version });
  const groupVersions = new Map<string, { group: string; version: string }>();
  for (const root of ROOTS) {
    groupVersions.set(`${root.group}/${root.version}`, { group: root.group, version: root.version });
    const set = (model: string, kind: string): void => {
      gen.definitions[gen.resolve(model).definition]!['x-kubernetes-group-version-kind'] = [gvk(root.group, root.version, kind)];
    };
    set(root.model, root.kind);
    if (root.list) set(root.list, `${root.kind}List`);
  }
  const sorted = [...groupVersions.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
  for (const model of META_ROOTS) {
    const r = gen.resolve(model);
    const def = gen.definitions[r.definition]!;
    if (PER_GROUP_VERSION_KINDS.has(r.type)) {
      def['x-kubernetes-group-version-kind'] = sorted.map((gv) => gvk(gv.group, gv.version, r.type));
    } else if (CORE_ONLY_KINDS.has(r.type)) {
      def['x-kubernetes-group-version-kind'] = [gvk('', 'v1', r.type)];
    }
  }
}

function sortKeys(definitions: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]!]));
}

export function generateSchemas(root: string): { definitions: Record<string, Schema> } {
  const require = createRequire(path.join(root, 'package.json'));
  const src = new Sources(require);
  const gen = new Generator(src);
  for (const r of ROOTS) {
    gen.add(r.model);
    if (r.list) gen.add(r.list);
  }
  for (const model of META_ROOTS) gen.add(model);
  gen.run();
  Object.assign(gen.definitions, primitiveDefinitions(src));
  applyPatchMeta(gen.definitions);
  applyGroupVersionKinds(gen);
  return { definitions: sortKeys(gen.definitions) };
}

function main(): void {
  const started = performance.now();
  const root = repoRoot(path.dirname(fileURLToPath(import.meta.url)));
  const out = path.join(root, 'generated', 'schemas.json');
  const doc = generateSchemas(root);
  mkdirSync(path.dirname(out), { recursive: true });
  const text = JSON.stringify(doc);
  writeFileSync(out, text);
  const ms = Math.round(performance.now() - started);
  console.log(`${path.relative(root, out)}: ${Object.keys(doc.definitions).length} definitions, ${Buffer.byteLength(text)} bytes, ${ms} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
