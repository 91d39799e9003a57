// Field sets as server-side apply tracks ownership with them (sigs.k8s.io/structured-merge-diff's
// fieldpath package), and their FieldsV1 encoding in metadata.managedFields.
//
// A path is a list of path elements: a struct field or map key (`f:name`), an associative list
// item named by its key fields (`k:{"name":"nginx"}`), a set item named by its value (`v:"a"`),
// or a list item named by its position (`i:0`). A set holds paths as a trie: each node has
// members (paths that end there) and children (paths that continue). FieldsV1 writes a node as
// a JSON object whose keys are the encoded path elements in a fixed order, an empty object for a
// member without children, and `".": {}` for a node that is both a member and a parent.

/** A step in a field path. Key fields are sorted by name, as Kubernetes sorts them. */
export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: ReadonlyArray<readonly [string, unknown]> }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'index'; readonly index: number };

export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: 'field', name };
}

export function keyElement(fields: Iterable<readonly [string, unknown]>): PathElement {
  const sorted = [...fields].sort(([a], [b]) => compareStrings(a, b));
  return { kind: 'key', fields: sorted };
}

export function valueElement(value: unknown): PathElement {
  return { kind: 'value', value };
}

export function indexElement(index: number): PathElement {
  return { kind: 'index', index };
}

/** Byte-wise comparison of the UTF-8 encodings, as Go compares strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Ranks values of different types: numbers, strings, booleans, lists, maps, then null. */
function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isObject(v)) return 4;
  return 5;
}

/** A total order over JSON values (structured-merge-diff's value.Compare). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
      return la.length - lb.length < 0 ? -1 : la.length > lb.length ? 1 : 0;
    }
    case 4: {
      const ka = Object.keys(a as object).sort(compareStrings);
      const kb = Object.keys(b as object).sort(compareStrings);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compareStrings(ka[i]!, kb[i]!);
        if (c !== 0) return c;
        const d = compareValues((a as Record<string, unknown>)[ka[i]!], (b as Record<string, unknown>)[kb[i]!]);
        if (d !== 0) return d;
      }
      return ka.length < kb.length ? -1 : ka.length > kb.length ? 1 : 0;
    }
    default:
      return 0;
  }
}

const ELEMENT_RANK = { field: 0, key: 1, value: 2, index: 3 } as const;

/** The order FieldsV1 writes path elements in: fields, then keys, values and indices. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return ELEMENT_RANK[a.kind] < ELEMENT_RANK[b.kind] ? -1 : 1;
  switch (a.kind) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key': {
      const fa = a.fields;
      const fb = (b as typeof a).fields;
      for (let i = 0; i < Math.min(fa.length, fb.length); i++) {
        const c = compareStrings(fa[i]![0], fb[i]![0]);
        if (c !== 0) return c;
        const d = compareValues(fa[i]![1], fb[i]![1]);
        if (d !== 0) return d;
      }
      return fa.length < fb.length ? -1 : fa.length > fb.length ? 1 : 0;
    }
    case 'value':
      return compareValues(a.value, (b as typeof a).value);
    case 'index': {
      const ib = (b as typeof a).index;
      return a.index < ib ? -1 : a.index > ib ? 1 : 0;
    }
  }
}

/** JSON with object keys sorted, so equal values always encode alike. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v === undefined ? null : v);
}

/** The FieldsV1 key of a path element: `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`. */
export function encodePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:{${pe.fields.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJSON(v)}`).join(',')}}`;
    case 'value':
      return `v:${canonicalJSON(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Parses a FieldsV1 key; throws on anything else. */
export function decodePathElement(s: string): PathElement {
  const rest = s.slice(2);
  if (s[1] !== ':') throw new Error('unknown path element type');
  switch (s[0]) {
    case 'f':
      return fieldElement(rest);
    case 'k': {
      const parsed: unknown = JSON.parse(rest);
      if (!isObject(parsed)) throw new Error(`invalid key in path element: ${rest}`);
      return keyElement(Object.entries(parsed));
    }
    case 'v':
      return valueElement(JSON.parse(rest) as unknown);
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index in path element: ${rest}`);
      return indexElement(Number(rest));
    }
    default:
      throw new Error('unknown path element type');
  }
}

/** A value as structured-merge-diff prints it inside a path. */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (isObject(v)) return Object.keys(v).map((k) => `${k}=${valueString(v[k])}`).join('');
  return String(v);
}

/** A path element as conflict messages print it: `.name`, `[name="x"]`, `[="a"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
    case 'value':
      return `[=${valueString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** A path as conflict messages print it: `.spec.template.spec.containers[name="nginx"].image`. */
export function pathString(path: FieldPath): string {
  return path.map(pathElementString).join('');
}

interface ChildNode {
  pe: PathElement;
  set: FieldSet;
}

/** A set of field paths, stored as a trie keyed by encoded path elements. */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, ChildNode>();

  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path; the empty path (the root itself) is not representable and is ignored. */
  insert(path: FieldPath): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.childOrCreate(path[i]!);
    node.addMember(path[path.length - 1]!);
  }

  addMember(pe: PathElement): void {
    const k = encodePathElement(pe);
    if (!this.members.has(k)) this.members.set(k, pe);
  }

  childOrCreate(pe: PathElement): FieldSet {
    const k = encodePathElement(pe);
    let c = this.children.get(k);
    if (!c) {
      c = { pe, set: new FieldSet() };
      this.children.set(k, c);
    }
    return c.set;
  }

  /** Replaces the paths below `pe` with `set`. */
  putChild(pe: PathElement, set: FieldSet): void {
    this.children.set(encodePathElement(pe), { pe, set });
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.child(path[i]!);
    return node !== undefined && node.hasMember(path[path.length - 1]!);
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(encodePathElement(pe));
  }

  /** The paths below `pe`, relative to it (structured-merge-diff's WithPrefix). */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(encodePathElement(pe))?.set;
  }

  memberElements(): PathElement[] {
    return [...this.members.values()];
  }

  childEntries(): Array<[PathElement, FieldSet]> {
    return [...this.children.values()].map((c) => [c.pe, c.set]);
  }

  get empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.empty) return false;
    return true;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of other.members) if (!out.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      out.children.set(k, { pe: c.pe, set: o ? c.set.union(o.set) : c.set.clone() });
    }
    for (const [k, o] of other.children) {
      if (!out.children.has(k)) out.children.set(k, { pe: o.pe, set: o.set.clone() });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const s = c.set.intersection(o.set);
      if (!s.empty) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  /** The paths of this set that `other` does not hold (children of other's members stay). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      const s = o ? c.set.difference(o.set) : c.set.clone();
      if (!s.empty) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  /** Like difference, but a member of `other` also removes everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (other.members.has(k)) continue;
      const o = other.children.get(k);
      const s = o ? c.set.recursiveDifference(o.set) : c.set.clone();
      if (!s.empty) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) if (!c.set.empty) out.children.set(k, { pe: c.pe, set: c.set.clone() });
    return out;
  }

  /** Every path, in structured-merge-diff's iteration order: a node's members, then its children. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    this.collect([], out);
    return out;
  }

  private collect(prefix: PathElement[], out: FieldPath[]): void {
    for (const pe of [...this.members.values()].sort(comparePathElements)) out.push([...prefix, pe]);
    for (const c of [...this.children.values()].sort((a, b) => comparePathElements(a.pe, b.pe))) {
      c.set.collect([...prefix, c.pe], out);
    }
  }

  /** The FieldsV1 JSON of this set. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf) out['.'] = {};
    const keys = new Map<string, PathElement>();
    for (const [k, pe] of this.members) keys.set(k, pe);
    for (const [k, c] of this.children) if (!c.set.empty) keys.set(k, c.pe);
    const ordered = [...keys.entries()].sort((a, b) => comparePathElements(a[1], b[1]));
    for (const [k] of ordered) {
      const c = this.children.get(k);
      if (c && !c.set.empty) out[k] = c.set.emit(this.members.has(k));
      else out[k] = {};
    }
    return out;
  }

  /** Parses FieldsV1 JSON; throws an Error describing the first problem. */
  static fromFieldsV1(json: unknown): FieldSet {
    if (!isObject(json)) throw new Error('FieldsV1 must be a JSON object');
    const out = new FieldSet();
    out.read(json);
    return out;
  }

  private read(json: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(json)) {
      if (k === '.') continue;
      if (!isObject(v)) throw new Error(`expected an object for ${JSON.stringify(k)}`);
      const pe = decodePathElement(k);
      const hasChildren = Object.keys(v).some((ck) => ck !== '.');
      if (!hasChildren || Object.hasOwn(v, '.')) this.addMember(pe);
      if (hasChildren) this.childOrCreate(pe).read(v);
    }
  }
}
