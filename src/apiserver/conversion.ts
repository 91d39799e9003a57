// A kind served from another kind's storage through conversion (events.k8s.io/v1
// Event over core/v1 Event), so both APIs show the same objects, as in Kubernetes.
// Reads convert each object; writes check fields against the served kind's
// schema, convert, and go through the stored kind's storage.
import type { KindDef, KubeObject } from '../api/types.js';
import { badRequest, StatusError, type GroupResource } from '../machinery/errors.js';
import { invalidError } from '../machinery/validation.js';
import type { CacheEntry } from './cache.js';
import type {
  DeleteOptions,
  DeleteResult,
  ListOptions,
  ListResult,
  ObjectFilter,
  ResourceStorage,
  Storage,
  WatchOptions,
  WatchSink,
  WriteContext,
} from './resource.js';

export class ConvertedStorage implements Storage {
  readonly gr: GroupResource;
  readonly apiVersion: string;
  private readonly conv: NonNullable<KindDef['storedAs']>;

  constructor(
    readonly def: KindDef,
    private readonly base: ResourceStorage,
    private readonly unknownFields: (def: KindDef, obj: unknown) => string[],
  ) {
    this.gr = { group: def.group, resource: def.resource };
    this.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    this.conv = def.storedAs!;
  }

  revision(): number {
    return this.base.revision();
  }

  private served(obj: KubeObject): KubeObject {
    return { ...this.conv.fromStored(obj), apiVersion: this.apiVersion, kind: this.def.kind };
  }

  private entry(e: CacheEntry): CacheEntry {
    const obj = this.served(e.obj);
    return { key: e.key, obj, json: JSON.stringify(obj), revision: e.revision };
  }

  /** The stored form of a write, after the served kind's own field and validation checks
   *  (events.k8s.io/v1 is stricter than core/v1). */
  private stored(input: unknown, ctx: WriteContext, old?: KubeObject): KubeObject {
    const obj = input as KubeObject;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw badRequest(`Object '${this.def.kind}' is invalid: the body must be a JSON or YAML object`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== this.apiVersion)
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${this.apiVersion})`);
    if (ctx.fieldValidation !== 'Ignore') {
      const unknown = this.unknownFields(this.def, obj).map((f) => `unknown field "${f}"`);
      if (unknown.length && ctx.fieldValidation === 'Strict')
        throw badRequest(`${this.def.kind} in version "${this.def.version}" cannot be handled as a ${this.def.kind}: strict decoding error: ${unknown.join(', ')}`);
      ctx.warnings.push(...unknown);
    }
    const errs = old ? this.def.validateUpdate?.(obj, this.served(old)) : this.def.validate?.(obj);
    if (errs?.length) throw invalidError(this.def.group, this.def.kind, obj.metadata?.name ?? '', errs);
    const base = this.base.def;
    return { ...this.conv.toStored(obj), apiVersion: base.group ? `${base.group}/${base.version}` : base.version, kind: base.kind };
  }

  /** The base context: fields were checked against the served kind already. */
  private baseContext(ctx: WriteContext): WriteContext {
    return { ...ctx, fieldValidation: 'Ignore' };
  }

  private filter(f: ObjectFilter | undefined): ObjectFilter | undefined {
    return f && ((obj) => f(this.served(obj)));
  }

  private async converted(res: Promise<ListResult>): Promise<ListResult> {
    const r = await res;
    return { ...r, items: r.items.map((e) => this.entry(e)) };
  }

  get(namespace: string | undefined, name: string): CacheEntry {
    return this.entry(this.base.get(namespace, name));
  }

  list(namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    return this.converted(this.base.list(namespace, { ...opts, filter: this.filter(opts.filter) }));
  }

  watch(namespace: string | undefined, opts: WatchOptions, sink: WatchSink): () => void {
    return this.base.watch(namespace, { ...opts, filter: this.filter(opts.filter) }, {
      event: (type, e) => sink.event(type, this.entry(e)),
      bookmark: (rev, end) => sink.bookmark(rev, end),
    });
  }

  async create(namespace: string | undefined, input: unknown, ctx: WriteContext): Promise<CacheEntry> {
    return this.entry(await this.base.create(namespace, this.stored(input, ctx), this.baseContext(ctx)));
  }

  async update(namespace: string | undefined, name: string, input: unknown, ctx: WriteContext, subresource?: 'status'): Promise<CacheEntry> {
    const old = this.base.get(namespace, name).obj;
    return this.entry(await this.base.update(namespace, name, this.stored(input, ctx, old), this.baseContext(ctx), subresource));
  }

  async modify(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => unknown,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<CacheEntry> {
    const next = await this.base.modify(
      namespace,
      name,
      (cur) => this.stored(mutate(this.served(cur)), ctx, cur),
      this.baseContext(ctx),
      subresource,
    );
    return this.entry(next);
  }

  async apply(): Promise<{ entry: CacheEntry; created: boolean }> {
    throw new StatusError(415, 'UnsupportedMediaType', `server-side apply of ${this.def.resource}.${this.def.group} is not supported; apply the core/v1 form`);
  }

  async delete(namespace: string | undefined, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<DeleteResult> {
    const res = await this.base.delete(namespace, name, opts, ctx);
    return { ...res, obj: this.served(res.obj) };
  }

  deleteCollection(namespace: string | undefined, listOpts: ListOptions, opts: DeleteOptions, ctx: WriteContext): Promise<ListResult> {
    return this.converted(this.base.deleteCollection(namespace, { ...listOpts, filter: this.filter(listOpts.filter) }, opts, ctx));
  }
}
