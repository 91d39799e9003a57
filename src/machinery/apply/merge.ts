// The typed operations of server-side apply, with structured-merge-diff's semantics, over plain
// JSON objects and the OpenAPI v2 definitions of the served types:
//
// - a schema compiled into atoms: scalars, maps (structs with declared fields, or maps with an
//   element type; granular unless x-kubernetes-map-type is atomic), lists (atomic by default;
//   x-kubernetes-list-type set|map with x-kubernetes-list-map-keys; for types with only
//   strategic-merge metadata, a merge strategy with a merge key makes a keyed list and one without
//   a key a set), and deduced values (untyped: objects are granular maps, arrays atomic lists);
// - validation of an applied configuration, worded as the typed conversion reports it;
// - the field set of a value, the merge of a configuration into a live object, the comparison of
//   two objects (added, modified, removed fields), removal of fields, and the named-field
//   expansion pruning uses.
import { isJSONObject, jsonEqual } from '../patch/json.js';
import {
  FieldSet,
  encodePathElement,
  fieldElement,
  indexElement,
  keyElement,
  pathElementString,
  valueElement,
  type PathElement,
} from './fieldset.js';

type JSONObject = Record<string, unknown>;

/** The parts of an OpenAPI v2 schema object that apply reads. */
export interface ApplySchemaNode {
  $ref?: string;
  type?: string;
  format?: string;
  properties?: Record<string, ApplySchemaNode>;
  additionalProperties?: ApplySchemaNode | boolean;
  items?: ApplySchemaNode;
  default?: unknown;
  'x-kubernetes-list-type'?: unknown;
  'x-kubernetes-list-map-keys'?: unknown;
  'x-kubernetes-map-type'?: unknown;
  'x-kubernetes-patch-strategy'?: unknown;
  'x-kubernetes-patch-merge-key'?: unknown;
  'x-kubernetes-int-or-string'?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: unknown;
  'x-kubernetes-group-version-kind'?: unknown;
}

/** OpenAPI v2 `definitions`, keyed like "io.k8s.api.core.v1.PodSpec". */
export interface ApplySchema {
  definitions: Record<string, ApplySchemaNode>;
}

/** What a missing field is in Go's encoding when its parent exists: a value struct or a nil slice. */
type GoShape = 'object' | 'null';

export type Atom =
  | { readonly kind: 'scalar'; readonly scalar: 'string' | 'numeric' | 'boolean' | 'untyped' }
  | {
      readonly kind: 'map';
      readonly fields?: ReadonlyMap<string, TypeRef>;
      readonly element?: TypeRef;
      readonly atomic: boolean;
      readonly alwaysPresent?: ReadonlyMap<string, GoShape>;
    }
  | {
      readonly kind: 'list';
      readonly element: TypeRef;
      readonly atomic: boolean;
      /** Associative lists only: the key fields (empty for a set). */
      readonly keys: readonly string[];
      readonly elementDefinition?: string;
    }
  | { readonly kind: 'deduced' };

/** A definition name, an atom, or a definition whose map type a field overrides. */
export type TypeRef = string | Atom | { readonly kind: 'ref'; readonly name: string; readonly atomic: boolean };

type MapAtom = Extract<Atom, { kind: 'map' }>;
type ListAtom = Extract<Atom, { kind: 'list' }>;

const REF_PREFIX = '#/definitions/';
const DEDUCED: Atom = { kind: 'deduced' };
const UNTYPED_SCALAR: Atom = { kind: 'scalar', scalar: 'untyped' };
const DEDUCED_MAP: Atom = { kind: 'map', element: DEDUCED, atomic: false };
const DEDUCED_LIST: Atom = { kind: 'list', element: DEDUCED, atomic: true, keys: [] };

/** Quantities are written as strings or numbers; the type converter accepts either. */
const UNTYPED_DEFINITIONS = new Set(['io.k8s.apimachinery.pkg.api.resource.Quantity']);

/** Defaults of list-map key fields, which Kubernetes' OpenAPI declares and the generated one lacks. */
const KEY_DEFAULTS: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

/**
 * Fields Go's encoding of the typed object always carries when their parent exists: value (not
 * pointer) structs, and slices without omitempty (encoded as null). Kubernetes compares typed
 * objects, so a create never "adds" these nodes themselves and an update never "removes" them;
 * comparing the stored JSON as if they were there gives the same managedFields. A kind's
 * metadata, spec and status are covered by a rule below.
 */
const GO_ALWAYS_PRESENT: Record<string, Record<string, GoShape>> = {
  'io.k8s.api.core.v1.PodTemplateSpec': { metadata: 'object', spec: 'object' },
  'io.k8s.api.core.v1.PodTemplate': { template: 'object' },
  'io.k8s.api.apps.v1.StatefulSetSpec': { template: 'object', updateStrategy: 'object' },
  'io.k8s.api.apps.v1.ControllerRevision': { data: 'null' },
  'io.k8s.api.core.v1.PodSpec': { containers: 'null' },
  'io.k8s.api.core.v1.Container': { resources: 'object' },
  'io.k8s.api.core.v1.EphemeralContainer': { resources: 'object' },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': { resources: 'object' },
  'io.k8s.api.core.v1.ServiceStatus': { loadBalancer: 'object' },
  'io.k8s.api.core.v1.NodeStatus': { daemonEndpoints: 'object', nodeInfo: 'object' },
  'io.k8s.api.core.v1.NodeDaemonEndpoints': { kubeletEndpoint: 'object' },
  'io.k8s.api.core.v1.ContainerStatus': { state: 'object', lastState: 'object' },
  'io.k8s.api.core.v1.Event': { involvedObject: 'object', source: 'object' },
  'io.k8s.api.events.v1.Event': { regarding: 'object', deprecatedSource: 'object' },
  'io.k8s.api.discovery.v1.Endpoint': { conditions: 'object' },
};

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((e) => typeof e === 'string') ? (v as string[]) : undefined;
}

/** The compiled schema: atoms per definition, built lazily so recursive types terminate. */
export class Typer {
  private readonly atoms = new Map<string, Atom>();

  constructor(readonly schema: ApplySchema) {}

  /** The atom a type reference names. */
  atom(ref: TypeRef): Atom {
    if (typeof ref === 'string') return this.definitionAtom(ref);
    if (ref.kind !== 'ref') return ref;
    const target = this.definitionAtom(ref.name);
    return target.kind === 'map' && target.atomic !== ref.atomic ? { ...target, atomic: ref.atomic } : target;
  }

  /** The atom for a value: a deduced type takes the shape of the value. */
  atomFor(ref: TypeRef, value: unknown): Atom {
    const a = this.atom(ref);
    if (a.kind !== 'deduced') return a;
    if (isJSONObject(value)) return DEDUCED_MAP;
    if (Array.isArray(value)) return DEDUCED_LIST;
    return UNTYPED_SCALAR;
  }

  /** The type of the value a path element leads to. */
  childRef(atom: Atom, pe: PathElement): TypeRef {
    if (atom.kind === 'map' && pe.kind === 'field') return atom.fields?.get(pe.name) ?? atom.element ?? DEDUCED;
    if (atom.kind === 'list' && pe.kind !== 'field') return atom.element;
    return DEDUCED;
  }

  /** The default of a list-map key field, used when an item omits it. */
  keyDefault(list: ListAtom, key: string): { value: unknown } | undefined {
    const def = list.elementDefinition;
    if (!def) return undefined;
    const prop = this.schema.definitions[def]?.properties?.[key];
    if (prop && prop.default !== undefined) return { value: prop.default };
    const fallback = KEY_DEFAULTS[def];
    return fallback && Object.hasOwn(fallback, key) ? { value: fallback[key] } : undefined;
  }

  private definitionAtom(name: string): Atom {
    let a = this.atoms.get(name);
    if (a) return a;
    const def = this.schema.definitions[name];
    if (!def) return DEDUCED;
    a = UNTYPED_DEFINITIONS.has(name) ? UNTYPED_SCALAR : this.compileAtom(def, name);
    this.atoms.set(name, a);
    return a;
  }

  private compile(node: ApplySchemaNode): TypeRef {
    if (node.$ref) {
      const name = node.$ref.startsWith(REF_PREFIX) ? node.$ref.slice(REF_PREFIX.length) : node.$ref;
      const mapType = node['x-kubernetes-map-type'];
      if (mapType === 'atomic' || mapType === 'granular') return { kind: 'ref', name, atomic: mapType === 'atomic' };
      return name;
    }
    return this.compileAtom(node, undefined);
  }

  private compileAtom(node: ApplySchemaNode, definition: string | undefined): Atom {
    if (node.$ref) return this.atom(this.compile(node));
    if (node['x-kubernetes-int-or-string'] === true) return UNTYPED_SCALAR;
    if (node['x-kubernetes-preserve-unknown-fields'] === true) return DEDUCED;
    if (node.type === 'array' || node.items) return this.compileList(node);
    const additional = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
    if (node.properties || additional) {
      const fields = new Map<string, TypeRef>();
      for (const [k, p] of Object.entries(node.properties ?? {})) fields.set(k, this.compile(p));
      return {
        kind: 'map',
        fields: node.properties ? fields : undefined,
        element: additional ? this.compile(additional) : undefined,
        atomic: node['x-kubernetes-map-type'] === 'atomic',
        alwaysPresent: definition ? alwaysPresent(node, definition) : undefined,
      };
    }
    switch (node.type) {
      case 'string':
        return { kind: 'scalar', scalar: 'string' };
      case 'integer':
      case 'number':
        return { kind: 'scalar', scalar: 'numeric' };
      case 'boolean':
        return { kind: 'scalar', scalar: 'boolean' };
      default:
        return DEDUCED;
    }
  }

  private compileList(node: ApplySchemaNode): Atom {
    const items = node.items ?? {};
    const element = this.compile(items);
    const elementDefinition = typeof element === 'string' ? element : element.kind === 'ref' ? element.name : undefined;
    const listType = node['x-kubernetes-list-type'];
    let atomic = true;
    let keys: string[] = [];
    if (listType === 'set') {
      atomic = false;
    } else if (listType === 'map') {
      atomic = false;
      keys = strings(node['x-kubernetes-list-map-keys']) ?? [];
    } else if (listType === undefined && typeof node['x-kubernetes-patch-strategy'] === 'string') {
      // Types with only strategic-merge metadata: a merge strategy makes the list associative.
      if (node['x-kubernetes-patch-strategy'].split(',').includes('merge')) {
        atomic = false;
        const key = node['x-kubernetes-patch-merge-key'];
        if (typeof key === 'string') keys = [key];
      }
    }
    return { kind: 'list', element, atomic, keys, elementDefinition };
  }
}

function alwaysPresent(node: ApplySchemaNode, definition: string): ReadonlyMap<string, GoShape> | undefined {
  const out = new Map<string, GoShape>(Object.entries(GO_ALWAYS_PRESENT[definition] ?? {}));
  if (node['x-kubernetes-group-version-kind'] !== undefined) {
    for (const f of ['metadata', 'spec', 'status']) if (node.properties?.[f]?.$ref) out.set(f, 'object');
  }
  return out.size > 0 ? out : undefined;
}

const typers = new WeakMap<object, Typer>();

/** The compiled form of a schema document, cached per document. */
export function typerFor(schema: ApplySchema): Typer {
  let t = typers.get(schema.definitions);
  if (!t) {
    t = new Typer(schema);
    typers.set(schema.definitions, t);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// List items

/** The path element naming a list item, or the reason it has none. */
export function itemElement(typer: Typer, list: ListAtom, index: number, item: unknown): PathElement | string {
  if (list.atomic) return indexElement(index);
  if (list.keys.length > 0) {
    if (item === null) return 'associative list with keys may not have a null element';
    if (!isJSONObject(item)) return 'associative list with keys may not have non-map elements';
    const fields: Array<[string, unknown]> = [];
    for (const key of list.keys) {
      if (Object.hasOwn(item, key) && item[key] !== undefined) {
        fields.push([key, item[key]]);
        continue;
      }
      const def = typer.keyDefault(list, key);
      if (!def) return `associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`;
      fields.push([key, def.value]);
    }
    return keyElement(fields);
  }
  if (isJSONObject(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
  return valueElement(item);
}

interface IndexedItems {
  elements: PathElement[];
  /** First item per encoded element; undefined for elements that occur more than once. */
  byKey: Map<string, unknown>;
  keys: string[];
}

function indexItems(typer: Typer, list: ListAtom, items: unknown[]): IndexedItems | undefined {
  const elements: PathElement[] = [];
  const byKey = new Map<string, unknown>();
  const keys: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const pe = itemElement(typer, list, i, items[i]);
    if (typeof pe === 'string') return undefined;
    const k = peKey(pe);
    elements.push(pe);
    keys.push(k);
    byKey.set(k, byKey.has(k) ? undefined : items[i]);
  }
  return { elements, byKey, keys };
}

const peKey = encodePathElement;

// ---------------------------------------------------------------------------------------------
// Validation of an applied configuration

export interface ValidationError {
  /** The path as structured-merge-diff prints it: `.spec.template.spec.containers[name="x"]`. */
  path: string;
  message: string;
}

/** The errors as the typed conversion joins them: one line, or `errors:` and indented lines. */
export function validationErrorsText(errs: ValidationError[]): string {
  const line = (e: ValidationError): string => `${e.path}: ${e.message}`;
  if (errs.length === 1) return line(errs[0]!);
  return ['errors:', ...errs.map((e) => `  ${line(e)}`)].join('\n');
}

/** fmt's %v of a decoded JSON value. */
function goV(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goV).join(' ')}]`;
  if (isJSONObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goV(v[k])}`).join(' ')}]`;
  return String(v);
}

/** fmt's %T of a decoded JSON value. */
function goT(v: unknown): string {
  if (Array.isArray(v)) return '[]interface {}';
  if (isJSONObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

/** fmt's %#v of a decoded JSON value. */
function goSharpV(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSharpV).join(', ')}}`;
  if (isJSONObject(v)) {
    return `map[string]interface {}{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${goSharpV(v[k])}`).join(', ')}}`;
  }
  return String(v);
}

/** The problems the typed conversion finds in `value`: types, list keys, duplicates, unknown fields. */
export function validate(typer: Typer, value: unknown, ref: TypeRef): ValidationError[] {
  const errs: ValidationError[] = [];
  validateNode(typer, value, ref, '', errs);
  return errs;
}

function validateNode(typer: Typer, value: unknown, ref: TypeRef, path: string, errs: ValidationError[]): void {
  if (value === null || value === undefined) return;
  const atom = typer.atomFor(ref, value);
  switch (atom.kind) {
    case 'scalar':
      validateScalar(atom.scalar, value, path, errs);
      return;
    case 'list': {
      if (!Array.isArray(value)) {
        errs.push({ path, message: `expected list, got &{${goV(value)}}` });
        return;
      }
      const seen = new Set<string>();
      const childErrs: ValidationError[] = [];
      for (let i = 0; i < value.length; i++) {
        const pe = atom.atomic ? indexElement(i) : itemElement(typer, atom, i, value[i]);
        if (typeof pe === 'string') {
          errs.push({ path, message: `element ${i}: ${pe}` });
          return;
        }
        if (!atom.atomic) {
          const k = peKey(pe);
          if (seen.has(k)) errs.push({ path, message: `duplicate entries for key ${pathElementString(pe)}` });
          seen.add(k);
        }
        validateNode(typer, value[i], atom.element, path + pathElementString(pe), childErrs);
      }
      errs.push(...childErrs);
      return;
    }
    case 'map': {
      if (!isJSONObject(value)) {
        errs.push({ path, message: `expected map, got &{${goV(value)}}` });
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const field = atom.fields?.get(k);
        if (field === undefined && atom.element === undefined) {
          errs.push({ path: `${path}.${k}`, message: 'field not declared in schema' });
          return;
        }
        validateNode(typer, v, field ?? atom.element!, `${path}.${k}`, errs);
      }
      return;
    }
    case 'deduced':
      return;
  }
}

function validateScalar(kind: 'string' | 'numeric' | 'boolean' | 'untyped', v: unknown, path: string, errs: ValidationError[]): void {
  switch (kind) {
    case 'numeric':
      if (typeof v !== 'number') errs.push({ path, message: `expected numeric (int or float), got ${goT(v)}` });
      return;
    case 'string':
      if (typeof v !== 'string') errs.push({ path, message: `expected string, got &value.valueUnstructured{Value:${goSharpV(v)}}` });
      return;
    case 'boolean':
      if (typeof v !== 'boolean') errs.push({ path, message: `expected boolean, got &{${goV(v)}}` });
      return;
    case 'untyped':
      if (typeof v === 'object') errs.push({ path, message: `expected any scalar, got &{${goV(v)}}` });
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Field sets

/**
 * The fields `value` sets. Scalars, atomic lists and atomic maps are members; list items are
 * members with their contents as children; map keys are members when the map is not a struct
 * (the key itself is the data); struct fields holding granular values are only parents.
 */
export function toFieldSet(typer: Typer, value: unknown, ref: TypeRef): FieldSet {
  const set = new FieldSet();
  collectFields(typer, value, ref, [], set);
  return set;
}

function collectFields(typer: Typer, value: unknown, ref: TypeRef, path: PathElement[], set: FieldSet): void {
  const atom = typer.atomFor(ref, value);
  switch (atom.kind) {
    case 'scalar':
    case 'deduced':
      set.insert(path);
      return;
    case 'list': {
      if (atom.atomic) {
        set.insert(path);
        return;
      }
      if (!Array.isArray(value)) {
        if (value !== null && value !== undefined) set.insert(path);
        return;
      }
      for (let i = 0; i < value.length; i++) {
        const pe = itemElement(typer, atom, i, value[i]);
        if (typeof pe === 'string') continue;
        const child = [...path, pe];
        collectFields(typer, value[i], atom.element, child, set);
        set.insert(child);
      }
      return;
    }
    case 'map': {
      if (atom.atomic) {
        set.insert(path);
        return;
      }
      if (!isJSONObject(value)) {
        if (value !== null && value !== undefined) set.insert(path);
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const declared = atom.fields?.get(k);
        const child = [...path, fieldElement(k)];
        collectFields(typer, v, declared ?? atom.element ?? DEDUCED, child, set);
        if (declared === undefined) set.insert(child);
      }
      return;
    }
  }
}

/** The set with every struct field that has children in it made a member too. */
export function ensureNamedFieldsAreMembers(typer: Typer, set: FieldSet, ref: TypeRef): FieldSet {
  const atom = typer.atom(ref);
  const out = new FieldSet();
  for (const pe of set.memberElements()) out.addMember(pe);
  for (const [pe, child] of set.childEntries()) {
    if (pe.kind === 'field' && atom.kind === 'map' && atom.fields?.has(pe.name)) out.addMember(pe);
    const sub = ensureNamedFieldsAreMembers(typer, child, typer.childRef(atom, pe));
    if (!sub.empty) out.putChild(pe, sub);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merge

/**
 * Merges an applied configuration into a live object: the configuration wins for scalars and
 * atomic values; granular maps and structs merge key by key; associative lists merge item by
 * item, in the configuration's order for the items it names, with the live object's other items
 * kept in place. Nulls left in object fields are dropped, as decoding into the typed object does.
 */
export function mergeObjects(typer: Typer, live: unknown, config: unknown, ref: TypeRef): unknown {
  return dropNulls(mergeNode(typer, live, config, ref));
}

function mergeNode(typer: Typer, lhs: unknown, rhs: unknown, ref: TypeRef): unknown {
  if (rhs === undefined) return lhs;
  if (lhs === undefined) return rhs;
  const atom = typer.atomFor(ref, rhs !== null ? rhs : lhs);
  switch (atom.kind) {
    case 'scalar':
    case 'deduced':
      return rhs;
    case 'list': {
      if (atom.atomic) return rhs;
      if ((lhs !== null && !Array.isArray(lhs)) || (rhs !== null && !Array.isArray(rhs))) return rhs;
      const l = (lhs ?? []) as unknown[];
      const r = (rhs ?? []) as unknown[];
      if (l.length === 0 && r.length === 0) return rhs;
      if (rhs === null) return lhs;
      if (lhs === null) return rhs;
      return mergeList(typer, atom, l, r) ?? rhs;
    }
    case 'map': {
      if (atom.atomic) return rhs;
      if ((lhs !== null && !isJSONObject(lhs)) || (rhs !== null && !isJSONObject(rhs))) return rhs;
      const lEmpty = lhs === null || Object.keys(lhs as JSONObject).length === 0;
      const rEmpty = rhs === null || Object.keys(rhs as JSONObject).length === 0;
      if (lEmpty && rEmpty) return rhs;
      if (rhs === null) return lhs;
      if (lhs === null) return rhs;
      const l = lhs as JSONObject;
      const r = rhs as JSONObject;
      const out: JSONObject = {};
      for (const [k, v] of Object.entries(l)) {
        out[k] = Object.hasOwn(r, k) ? mergeNode(typer, v, r[k], atom.fields?.get(k) ?? atom.element ?? DEDUCED) : v;
      }
      for (const [k, v] of Object.entries(r)) if (!Object.hasOwn(l, k)) out[k] = v;
      return out;
    }
  }
}

/** Items merged by path element; undefined when an item has no element (the list is then replaced). */
function mergeList(typer: Typer, atom: ListAtom, lhs: unknown[], rhs: unknown[]): unknown[] | undefined {
  const l = indexItems(typer, atom, lhs);
  const r = indexItems(typer, atom, rhs);
  if (!l || !r) return undefined;
  const out: unknown[] = [];
  const inRhs = new Set(r.keys);
  const inLhs = new Set(l.keys);
  const merged = new Set<string>();
  // The shared items, in the configuration's order: each live item the configuration also names
  // waits until the configuration reaches it, so the configuration decides their relative order.
  const shared = r.keys.filter((k) => inLhs.has(k));
  let next = 0;
  const mergeItem = (k: string): void => {
    merged.add(k);
    const item = mergeNode(typer, l.byKey.get(k), r.byKey.get(k), atom.element);
    if (item !== undefined) out.push(item);
    if (shared[next] === k) next++;
  };
  let li = 0;
  let ri = 0;
  while (li < lhs.length || ri < rhs.length) {
    if (li < lhs.length && ri < rhs.length && l.keys[li] === r.keys[ri]) {
      if (!merged.has(l.keys[li]!)) mergeItem(l.keys[li]!);
      li++;
      ri++;
      continue;
    }
    if (li < lhs.length) {
      const k = l.keys[li]!;
      if (!inRhs.has(k)) {
        out.push(lhs[li]);
        li++;
        continue;
      }
      if (merged.has(k) || (ri < rhs.length && next < shared.length && shared[next] !== k)) {
        li++;
        continue;
      }
    }
    if (ri < rhs.length) {
      const k = r.keys[ri]!;
      if (!merged.has(k)) mergeItem(k);
      ri++;
    } else {
      li++;
    }
  }
  return out;
}

/** Drops object fields whose value is null. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isJSONObject(v)) {
    const out: JSONObject = {};
    for (const [k, e] of Object.entries(v)) if (e !== null && e !== undefined) out[k] = dropNulls(e);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * The fields that differ between two versions of an object. A leaf (scalar, atomic value, or a
 * map or list empty on both sides) is added, removed or modified as a whole; a granular node
 * that appears or disappears is added or removed itself, with everything below it.
 */
export function compareObjects(typer: Typer, lhs: unknown, rhs: unknown, ref: TypeRef): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(typer, lhs, rhs, ref, [], c);
  return c;
}

function compareLeaf(lhs: unknown, rhs: unknown, path: PathElement[], c: Comparison): void {
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
  else if (!jsonEqual(lhs, rhs)) c.modified.insert(path);
}

function compareNode(typer: Typer, lhs: unknown, rhs: unknown, ref: TypeRef, path: PathElement[], c: Comparison): void {
  const atom = typer.atomFor(ref, rhs !== undefined && rhs !== null ? rhs : lhs);
  switch (atom.kind) {
    case 'scalar':
    case 'deduced':
      compareLeaf(lhs, rhs, path, c);
      return;
    case 'list': {
      const ok = (v: unknown): boolean => v === undefined || v === null || Array.isArray(v);
      if (atom.atomic || !ok(lhs) || !ok(rhs)) return compareLeaf(lhs, rhs, path, c);
      const l = (Array.isArray(lhs) ? lhs : []) as unknown[];
      const r = (Array.isArray(rhs) ? rhs : []) as unknown[];
      if (l.length === 0 && r.length === 0) return compareLeaf(lhs, rhs, path, c);
      if (!compareListItems(typer, atom, l, r, path, c)) return compareLeaf(lhs, rhs, path, c);
      break;
    }
    case 'map': {
      const ok = (v: unknown): boolean => v === undefined || v === null || isJSONObject(v);
      if (atom.atomic || !ok(lhs) || !ok(rhs)) return compareLeaf(lhs, rhs, path, c);
      const l = isJSONObject(lhs) ? lhs : undefined;
      const r = isJSONObject(rhs) ? rhs : undefined;
      const lEmpty = !l || Object.keys(l).length === 0;
      const rEmpty = !r || Object.keys(r).length === 0;
      if (lEmpty && rEmpty) return compareLeaf(lhs, rhs, path, c);
      compareMapItems(typer, atom, l, r, path, c);
      break;
    }
  }
  if (path.length === 0) return;
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
}

function compareMapItems(typer: Typer, atom: MapAtom, l: JSONObject | undefined, r: JSONObject | undefined, path: PathElement[], c: Comparison): void {
  const keys = new Set<string>([...Object.keys(l ?? {}), ...Object.keys(r ?? {}), ...(atom.alwaysPresent?.keys() ?? [])]);
  for (const k of keys) {
    let lv = l && Object.hasOwn(l, k) ? l[k] : undefined;
    let rv = r && Object.hasOwn(r, k) ? r[k] : undefined;
    const shape = atom.alwaysPresent?.get(k);
    if (shape) {
      if (lv === undefined && l) lv = shape === 'object' ? {} : null;
      if (rv === undefined && r) rv = shape === 'object' ? {} : null;
    }
    compareNode(typer, lv, rv, atom.fields?.get(k) ?? atom.element ?? DEDUCED, [...path, fieldElement(k)], c);
  }
}

/** False when an item has no path element: the list is then compared as a whole. */
function compareListItems(typer: Typer, atom: ListAtom, lhs: unknown[], rhs: unknown[], path: PathElement[], c: Comparison): boolean {
  const l = indexItems(typer, atom, lhs);
  const r = indexItems(typer, atom, rhs);
  if (!l || !r) return false;
  const elements = new Map<string, PathElement>();
  l.keys.forEach((k, i) => elements.set(k, l.elements[i]!));
  r.keys.forEach((k, i) => { if (!elements.has(k)) elements.set(k, r.elements[i]!); });
  const count = (keys: string[], k: string): number => keys.reduce((n, e) => (e === k ? n + 1 : n), 0);
  for (const [k, pe] of elements) {
    const child = [...path, pe];
    const ln = count(l.keys, k);
    const rn = count(r.keys, k);
    if (ln <= 1 && rn <= 1) {
      compareNode(typer, ln ? l.byKey.get(k) : undefined, rn ? r.byKey.get(k) : undefined, atom.element, child, c);
      continue;
    }
    // Duplicated items are compared as one atomic value.
    const lv = lhs.filter((_, i) => l.keys[i] === k);
    const rv = rhs.filter((_, i) => r.keys[i] === k);
    compareLeaf(ln ? lv : undefined, rn ? rv : undefined, child, c);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Removal

/**
 * `value` without the fields in `set`. A member goes with everything below it; a map, list or
 * struct emptied by the removal goes too, as its null does when decoded into the typed object.
 */
export function removeItems(typer: Typer, value: unknown, set: FieldSet, ref: TypeRef): unknown {
  if (set.empty) return value;
  return removeNode(typer, value, set, ref) ?? {};
}

function removeNode(typer: Typer, value: unknown, set: FieldSet, ref: TypeRef): unknown {
  const atom = typer.atomFor(ref, value);
  if (atom.kind === 'list') {
    if (atom.atomic || !Array.isArray(value) || value.length === 0) return value;
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const pe = itemElement(typer, atom, i, value[i]);
      if (typeof pe === 'string') {
        out.push(value[i]);
        continue;
      }
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      const item = sub ? removeNode(typer, value[i], sub, atom.element) : value[i];
      if (item !== undefined) out.push(item);
    }
    return out.length > 0 ? out : undefined;
  }
  if (atom.kind === 'map') {
    if (atom.atomic || !isJSONObject(value) || Object.keys(value).length === 0) return value;
    const out: JSONObject = {};
    for (const [k, v] of Object.entries(value)) {
      const pe = fieldElement(k);
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      const kept = sub ? removeNode(typer, v, sub, atom.fields?.get(k) ?? atom.element ?? DEDUCED) : v;
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}
